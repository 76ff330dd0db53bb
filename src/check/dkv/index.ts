// Public surface of the leaderless store's checkers (exported from synod/check): the history
// format, and the checks on replicas' final states and on what clients saw.
export { counterOf, dotText, vvCovers, type DkvDot, type DkvOp, type DkvReadOp, type DkvReplicaState, type DkvSibling, type DkvVersionVector, type DkvWriteOp } from './history.js';
export { checkReplicas, type DkvViolation, type ReplicaCheckInput, type ReplicaCheckResult } from './replicas.js';
export { checkDkvStaleness, shareConsistentAt, type DkvLagSummary, type DkvReadStaleness, type DkvStalenessResult } from './staleness.js';
export { checkDkvSessions, DKV_SESSION_GUARANTEES, type DkvSessionCounts, type DkvSessionGuarantee, type DkvSessionResult, type DkvSessionViolation } from './sessions.js';
export {
  checkDkvCausal,
  DKV_CAUSAL_KINDS,
  type DkvCausalKind,
  type DkvCausalOptions,
  type DkvCausalResult,
  type DkvCausalViolation,
  type DkvCheckedOp,
  type DkvCrossKeyAnomaly,
  type DkvCrossKeyResult,
  type DkvHistoryInput,
  type DkvReadOpWithDots,
} from './causal.js';
