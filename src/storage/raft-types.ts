// The durable-state types the storage adapter records: Raft's own, re-exported so the log and the
// core can never drift apart.
export type { JsonValue } from '../core/index.js';
export type { HardState, LogEntry, RaftPersistOp, SnapshotMeta } from '../raft/types.js';
