// Public surface of the key-value store: the deterministic state machine that Raft replicates,
// its command, query and result shapes.
export {
  KvError,
  KvStore,
  canonicalJson,
  decodeKvRequest,
  kvCommandProblem,
  kvLimitProblem,
  kvRequestProblem,
  kvRequestToJson,
  type KvCommand,
  type KvErrorCode,
  type KvItem,
  type KvQuery,
  type KvRequest,
  type KvResult,
} from './store.js';
export { KV_LIMITS, MAX_KEY_BYTES, MAX_VALUE_BYTES, MAX_VALUE_DEPTH, depthOf, keyProblem, valueProblem } from './limits.js';
