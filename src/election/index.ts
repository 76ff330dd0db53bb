// `synod/election`: leader election over the lock backends (docs/locks.md), each leadership term
// with a fencing token where the backend has one; KvElection runs on Synod's KV and on etcd.
export type { Election, Leader, Leadership } from '../lock/api.js';
export { KvElection, type KvElectionOptions } from './kv-election.js';
export { createRedisElection } from './redis.js';
export { createRedlockElection } from './redlock.js';
