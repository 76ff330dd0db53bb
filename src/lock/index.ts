// `synod/lock`: one lock API over Synod, etcd, Redis and Redlock (docs/locks.md), with fencing
// tokens wherever the backend can give them; the etcd-style recipes over Synod's KV and etcd, the
// generic `using()`, and the fenced-resource guard.
export type { AcquireOptions, FencingToken, Lock, LockedFunction, LockGrant, ReadWriteLock, Semaphore } from './api.js';
export { isLockError, LockError, type LockErrorCode } from './errors.js';
export { KvLock, KvReadWriteLock, KvSemaphore, type KvRecipeOptions } from './kv-recipes.js';
export type { LeaseKv } from './lease-kv.js';
export { SynodLeaseKv, type SynodLeaseKvOptions } from './synod-kv.js';
export { EtcdLeaseKv, type EtcdLeaseKvOptions } from './etcd-kv.js';
export { keepGrantAlive, usingLock, type GrantKeeper, type KeepAliveOptions } from './using.js';
export { admitFencedWrite, ETCD_FENCE_DIGITS, fencedEtcdTxn, fencedEtcdWrite, fencedRedisWrite, fencedTxn, fencedWrite, type EtcdFencedOp, type EtcdFencedTxnInput, type FencedTxnInput, type FencedWriteResult } from './guard.js';
// Redis (one server: fencing tokens, FIFO waiting, semaphore and read-write lock) and Redlock
// (N independent servers: no fencing token; no semaphore or read-write lock)
export { MIN_TTL_MS, MAX_TTL_MS } from './redis-arguments.js';
export type { RedisEndpoint, RedisConnectionOptions } from './redis-connection.js';
export { createRedisLock, type RedisBackendOptions } from './redis.js';
export { createRedisReadWriteLock, createRedisSemaphore } from './redis-recipes.js';
export { createRedlock, createRedlockReadWriteLock, createRedlockSemaphore, type RedlockOptions } from './redlock.js';
// STONITH: a new holder powers off the previous one (by the target it recorded) before its work
export { KvStonithRecords, MAX_STONITH_RECORDS, takeOverWithStonith, usingLockWithStonith, type StonithOptions, type StonithRecord, type StonithRecords } from './stonith.js';
