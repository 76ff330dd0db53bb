// Guided scenarios of the leaderless store (src/quorum), for the tests and the visualizer: the
// stage that plays them (the real cores, watched), the tracker of each request's fan-out, hints
// and repairs, the read-staleness judge, the scenario steps and the scenarios themselves.
export { watchedNode, watchSpec, type QuorumCore, type QuorumInput, type QuorumOutput, type QuorumSpecOf, type QuorumWatcher } from './observe.js';
export { outcomeMismatches, QUORUM_SCENARIO_CONFIG, QUORUM_SCENARIO_LINK, QUORUM_SCENARIO_POLL_MS, QUORUM_SCENARIOS, quorumOutcome, quorumScenarioByName, quorumScenarioProgram, quorumScenarioStage, runQuorumScenario, type QuorumOutcome, type QuorumScenario, type QuorumScenarioResult, type RunQuorumScenarioOptions } from './scenarios.js';
export { QuorumStage, STAGE_BUCKET, type ContextChoice, type DotHolder, type QuorumStageHost, type QuorumStageOptions, type StageRequestOptions } from './stage.js';
export { readVerdicts, type ReadFreshness, type ReadVerdict } from './staleness.js';
export { describeQuorumStep, QuorumScenarioSteps, type QuorumStep } from './steps.js';
export { dotLabel, liveValues, responseLabel, stateVvLabel, versionsLabel, vvLabel } from './text.js';
export { QuorumTracker, type AppliedRepair, type FanOutLeg, type ParkedHint, type RequestOp, type StoryLine, type StoryTone, type TrackedRequest } from './tracker.js';
