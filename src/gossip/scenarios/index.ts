// Guided scenarios of the gossip group (src/gossip), for the tests and the visualizer: the stage
// that plays them (SWIM members keeping CRDT documents, booted on seeds and watched), the tracker
// of probes, suspicions, refutations and a rumour's spread, the scenario steps and the scenarios.
export { firstSeeds, seedSpec, watchedMember, watchSpec, type GossipCore, type GossipInput, type GossipWatcher } from './observe.js';
export { GOSSIP_SCENARIO_POLL_MS, GOSSIP_SCENARIOS, gossipOutcome, gossipScenarioByName, gossipScenarioProgram, gossipScenarioStage, outcomeMismatches, runGossipScenario, type GossipOutcome, type GossipScenario, type GossipScenarioResult, type RunGossipScenarioOptions } from './scenarios.js';
export { changeText, docText, entryValueText, GOSSIP_STAGE_CONFIG, GOSSIP_STAGE_LINK, GOSSIP_STAGE_SEEDS, GossipStage, type DocReading, type GossipStageHost, type GossipStageOptions, type SpreadReading, type SpreadRound } from './stage.js';
export { describeGossipStep, GossipScenarioSteps, type GossipStep } from './steps.js';
export { GossipTracker, type Milestone, type ProbeRecord, type RumourRecord, type StoryLine, type StoryTone } from './tracker.js';
