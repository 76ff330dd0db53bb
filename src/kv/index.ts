// Public surface of the key-value store: the deterministic state machine that Raft replicates,
// its command, query and result shapes.
export {
  KvError,
  KvStore,
  canonicalJson,
  kvRequestProblem,
  type KvCommand,
  type KvErrorCode,
  type KvItem,
  type KvQuery,
  type KvRequest,
  type KvResult,
} from './store.js';
