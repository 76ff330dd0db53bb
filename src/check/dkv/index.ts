// Public surface of the leaderless store's checkers (exported from synod/check): the history
// format, and the checks on replicas' final states and on what clients saw.
export { counterOf, dotText, vvCovers, type DkvDot, type DkvOp, type DkvReadOp, type DkvReplicaState, type DkvSibling, type DkvVersionVector, type DkvWriteOp } from './history.js';
export { checkReplicas, type DkvViolation, type ReplicaCheckInput, type ReplicaCheckResult } from './replicas.js';
