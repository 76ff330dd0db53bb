// Sans-I/O parts of locking that every host shares: the fenced-resource rule, Redlock's arithmetic
// (majority, drift, validity, retry delay), and the simulator's lock systems (Synod, Redis and
// Redlock clients as nodes, the protected resource, the scenarios and chaos of docs/locks.md).
export { checkFence, type FenceVerdict } from './fence.js';
export {
  clockDriftMs,
  DEFAULT_DRIFT_CONSTANT_MS,
  DEFAULT_DRIFT_FACTOR,
  instanceTimeoutMs,
  judgeAttempt,
  MAX_REDLOCK_INSTANCES,
  quorumSize,
  retryDelayMs,
  tallyOutcomes,
  validityMs,
  type AttemptTiming,
  type AttemptVerdict,
  type InstanceOutcome,
  type OutcomeTally,
} from './redlock.js';
export * from './sim/index.js';
