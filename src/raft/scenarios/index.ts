// The Raft scenario library, by theme, and how to play it: tests run each scenario with the
// runner here; the visualizer's guided tours play the same programs step by step.
import { AGREEMENT_SCENARIOS } from './agreement.js';
import { ELECTION_SCENARIOS } from './elections.js';
import { MEMBERSHIP_SCENARIOS } from './membership.js';
import { PERSISTENCE_SCENARIOS } from './persistence.js';
import { SNAPSHOTS_SCENARIOS } from './snapshots.js';
import type { Scenario } from './steps.js';
import { WATCH_SCENARIOS } from './watch.js';

export { describeRaftStep, describeStep, LOSSY, RaftScenarioSteps, runScenario, type RaftStepsObserver, scenarioProgram, type NodeRef, type RaftStep, type Scenario, type ScenarioResult, type ScenarioStep } from './steps.js';
export { ScenarioError } from '../../sim/scenario.js';

export const SCENARIOS: readonly Scenario[] = [...ELECTION_SCENARIOS, ...AGREEMENT_SCENARIOS, ...PERSISTENCE_SCENARIOS, ...SNAPSHOTS_SCENARIOS, ...MEMBERSHIP_SCENARIOS, ...WATCH_SCENARIOS];

export function scenarioByName(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}
