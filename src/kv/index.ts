// Public surface of the key-value store: the deterministic state machine that Raft replicates
// (MVCC history, change log, leases, txns), its request and result shapes, and the leader-local
// Lessor that decides when leases expire.
export {
  KvError,
  KvStore,
  canonicalJson,
  decodeKvRequest,
  kvCommandProblem,
  kvLimitProblem,
  kvRequestProblem,
  kvRequestToJson,
  type KvErrorCode,
  type KvStoreOptions,
} from './store.js';
export {
  prefixEnd,
  type ChangesRequest,
  type Compare,
  type CompareOp,
  type CompareTarget,
  type DeleteRequest,
  type GetRequest,
  type KvCommand,
  type KvEvent,
  type KvItem,
  type KvQuery,
  type KvRequest,
  type KvResult,
  type LeaseInfo,
  type PutRequest,
  type RangeRequest,
  type TxnLeaseGrant,
  type TxnOp,
  type TxnRequest,
} from './requests.js';
export { emitByRevision, type RevisionBatch } from './watch-lines.js';
export { DEFAULT_REVOKE_RETRY_MS, Lessor, type KeepAliveResult, type LeaseChange } from './lessor.js';
export { LeasedKvStore, type KvLeaderRead, type LeaseEvent, type LeasedKvStoreOptions } from './leased-store.js';
export {
  CHANGES_SCAN_BUDGET,
  DEFAULT_CHANGES_EVENTS,
  KV_LIMITS,
  MAX_CHANGES_EVENTS,
  MAX_KEY_BYTES,
  MAX_LEASES,
  MAX_LEASE_TTL_MS,
  MAX_TXN_BYTES,
  MAX_TXN_DEPTH,
  MAX_TXN_OPS,
  MAX_VALUE_BYTES,
  MAX_VALUE_DEPTH,
  TXN_FORMAT_MAX_DEPTH,
  TXN_FORMAT_MAX_OPS,
  depthOf,
  keyProblem,
  valueProblem,
} from './limits.js';
