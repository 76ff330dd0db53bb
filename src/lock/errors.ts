// The lock API's one error: a stable code, a clear message, and the backend that raised it.

export type LockErrorCode =
  /** tryAcquire's refusal is a null, not this; acquire gave up after waitMs while another held it. */
  | 'LOCK_TIMEOUT'
  /** The caller's signal aborted a wait. */
  | 'LOCK_ABORTED'
  /** The grant is no longer held: its lease expired or another holder took over. */
  | 'LEASE_LOST'
  /** No server of the backend answered. */
  | 'BACKEND_UNREACHABLE'
  /** Redlock: fewer than a majority of the Redis servers granted within the validity time. */
  | 'QUORUM_NOT_REACHED'
  /** A bad argument (TTL out of range, empty name, permits < 1). */
  | 'BAD_REQUEST'
  /** The name's wait queue is at its bound (MAX_CONTENDERS on Synod and etcd, maxWaiters on Redis): this caller did not join it. */
  | 'QUEUE_FULL'
  /** The backend cannot do this (a recipe it has no primitive for). */
  | 'UNSUPPORTED'
  /** A fenced resource refused a write whose token is below the highest it has seen. */
  | 'STALE_TOKEN'
  /** STONITH: powering off a previous holder failed, so this holder must not go on (src/lock/stonith.ts). */
  | 'STONITH_FAILED'
  /** The backend answered but refused for a reason of its own (permission denied, a limit, a malformed answer); see `cause`. */
  | 'BACKEND_ERROR';

export class LockError extends Error {
  constructor(
    readonly code: LockErrorCode,
    message: string,
    /** 'synod', 'etcd', 'redis', 'redlock', or 'guard'. */
    readonly backend: string,
    options?: { readonly cause?: unknown },
  ) {
    super(message, options);
    this.name = 'LockError';
  }
}

export function isLockError(err: unknown, code?: LockErrorCode): err is LockError {
  return err instanceof LockError && (code === undefined || err.code === code);
}
