// `synod/lock`: one lock API over Synod, etcd, Redis and Redlock (docs/locks.md), with fencing
// tokens wherever the backend can give them.
export type { AcquireOptions, FencingToken, Lock, LockedFunction, LockGrant, ReadWriteLock, Semaphore } from './api.js';
export { isLockError, LockError, type LockErrorCode } from './errors.js';
