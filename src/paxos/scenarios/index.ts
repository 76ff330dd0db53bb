// The Paxos scenario library and how to play it: single-decree scenarios (a normal round, dueling
// proposers with and without backoff, adoption of an accepted value) and Multi-Paxos scenarios
// (a normal run, a leader change with no-ops, an acceptor's crash and recovery, adoption under a
// new leader, dueling candidates, out-of-order decisions, Flexible Paxos quorums). Tests run each
// with the runners here; the visualizer's guided tours can play the same programs step by step.
import { PAXOS_SCENARIOS } from './multi.js';
import type { PaxosScenario } from './steps.js';
import { SYNOD_SCENARIOS } from './synod.js';
import type { SynodScenario } from './synod-steps.js';

export { DUEL_LINK, SYNOD_SCENARIOS } from './synod.js';
export { PAXOS_SCENARIOS } from './multi.js';
export {
  describePaxosScenarioStep,
  describePaxosStep,
  paxosScenarioProgram,
  PaxosScenarioSteps,
  runPaxosScenario,
  type PaxosScenario,
  type PaxosScenarioResult,
  type PaxosScenarioStep,
  type PaxosStep,
} from './steps.js';
export {
  describeSynodScenarioStep,
  describeSynodStep,
  runSynodScenario,
  synodScenarioProgram,
  SynodScenarioSteps,
  type SynodScenario,
  type SynodScenarioResult,
  type SynodScenarioStep,
  type SynodStep,
} from './synod-steps.js';

export function paxosScenarioByName(name: string): PaxosScenario | undefined {
  return PAXOS_SCENARIOS.find((s) => s.name === name);
}

export function synodScenarioByName(name: string): SynodScenario | undefined {
  return SYNOD_SCENARIOS.find((s) => s.name === name);
}
