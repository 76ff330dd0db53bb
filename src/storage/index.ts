// Public surface of synod/storage: the durable host side of persist(). A segmented, checksummed
// write-ahead log with group commit and snapshot checkpoints, and the Raft adapter on top of it.

export {
  StorageError,
  isStorageError,
  type StorageErrorCode,
  type StorageWarning,
  type StorageWarningCode,
  type WarningSink,
} from './errors.js';
export { jsonCodec, type PayloadCodec } from './codec.js';
export type { SyncHooks } from './fsutil.js';
export {
  DEFAULT_MAX_RECORD_BYTES,
  DEFAULT_SEGMENT_BYTES,
  WriteAheadLog,
  openWal,
  type OpenedWal,
  type WalItem,
  type WalOptions,
  type WalStats,
} from './wal.js';
export type { RecoveredRecord } from './recovery.js';
export { RaftStorage, type RaftStorageOptions } from './raft-storage.js';
export { EMPTY_RAFT_STATE, applyRaftOp, foldRaftOps, raftStateToOps, type RaftDurableState } from '../raft/durable-state.js';
export type { HardState, JsonValue, LogEntry, RaftPersistOp, SnapshotMeta } from './raft-types.js';
export { OpLogStore, type OpFolder, type OpLogOptions } from './op-log.js';
