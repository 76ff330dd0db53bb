// Public surface of the Node client of a Synod KV cluster (`synod/client`): typed calls over the
// HTTP API with endpoint failover, writes that a retry never applies twice (client sessions), and
// watches as async iterators that resume on another node without gap or duplicate.
export {
  LeaseKeeper,
  SynodClient,
  type LeaseGrantResult,
  type LeaseTimeResult,
  type CasResult,
  type CompactResult,
  type DeleteRangeResult,
  type DeleteRangeSelector,
  type DeleteResult,
  type GetResult,
  type IncrResult,
  type PutResult,
  type RangeOptions,
  type RangeResult,
  type ReadOptions,
  type SynodClientOptions,
  type TxnInput,
  type TxnOpResult,
  type TxnResult,
} from './client.js';
export { SynodError } from './errors.js';
export { type ClientTls } from './transport.js';
export { Watch, type ReconnectInfo, type WatchMessage, type WatchOptions, type WatchSelector } from './watch.js';
export type { Compare, CompareOp, CompareTarget, KvEvent, KvItem, TxnOp } from '../kv/index.js';
export type { JsonValue } from '../core/index.js';
