// The lock and election API every backend implements (Synod, etcd, Redis, Redlock): what a grant
// is, what a fencing token promises, and the options of each call. Backends live beside this file;
// recipes (semaphore, read-write lock, election) use the same grant and token shapes.

/**
 * A fencing token: strictly increasing per lock name across all grants, ever, so a protected
 * resource can refuse a write from a holder that has been superseded. `null` where the backend
 * cannot give one (Redlock): the type of the backend says which.
 */
export type FencingToken = number;

/** One grant of a lock (or of a semaphore permit, a read or write side, a leadership term). */
export interface LockGrant<Token extends FencingToken | null = FencingToken | null> {
  /** The lock's name as the caller gave it. */
  readonly name: string;
  /** Who holds it: unique per acquisition (a lease id, a random value), what release and extend check. */
  readonly holder: string;
  /** The fencing token of this grant, or null where the backend has none. */
  readonly token: Token;
  /**
   * This process's wall clock (Date.now() ms) before which the lease cannot have expired, by a
   * conservative local estimate: the time the request that granted or extended it was sent plus
   * the TTL, minus the backend's drift allowance. After it the holder must assume the lock is lost.
   */
  readonly leaseExpiresAt: number;
}

export interface AcquireOptions {
  /** How long the grant lasts without an extend (ms). */
  readonly ttlMs: number;
  /** How long to wait for the lock when it is held (ms); 0 tries once; default: until `signal` aborts. */
  readonly waitMs?: number;
  /** Aborts the wait (LOCK_ABORTED); a grant already made is released. */
  readonly signal?: AbortSignal;
}

/** What `using` passes its function: the grant and a signal that aborts when the lease may have been lost. */
export type LockedFunction<Token extends FencingToken | null, R> = (grant: LockGrant<Token>, signal: AbortSignal) => Promise<R>;

/** A mutual-exclusion lock on one backend. `Token` is `number` where the backend fences, `null` where it cannot. */
export interface Lock<Token extends FencingToken | null = FencingToken | null> {
  /** 'synod', 'etcd', 'redis', 'redlock'. */
  readonly backend: string;
  /** Whether grants carry fencing tokens (the same fact as `Token`, at run time). */
  readonly fencing: Token extends FencingToken ? true : false;
  /** Waits (FIFO where the backend allows it) until granted; LOCK_TIMEOUT after `waitMs`, LOCK_ABORTED on `signal`. */
  acquire(name: string, options: AcquireOptions): Promise<LockGrant<Token>>;
  /** One attempt: the grant, or null when someone else holds it. */
  tryAcquire(name: string, options: Omit<AcquireOptions, 'waitMs'>): Promise<LockGrant<Token> | null>;
  /** Gives the lock up; LEASE_LOST when it was no longer this grant's (expired, taken over). */
  release(grant: LockGrant<Token>): Promise<void>;
  /**
   * Renews the lease for `ttlMs` more (default: the TTL it was acquired with); LEASE_LOST when it
   * was lost. UNSUPPORTED where leases renew only for the TTL they were granted with (Synod, etcd)
   * and `ttlMs` is longer.
   */
  extend(grant: LockGrant<Token>, ttlMs?: number): Promise<LockGrant<Token>>;
  /**
   * Acquires, runs `fn` while keeping the lease alive, and releases. `signal` aborts when the lease
   * may have been lost (an extend failed, or `leaseExpiresAt` passed without one succeeding):
   * `fn` must stop using the protected resource then. Resolves with `fn`'s result.
   */
  using<R>(name: string, options: AcquireOptions, fn: LockedFunction<Token, R>): Promise<R>;
  /** Closes the backend's connections (grants still held expire on their own). */
  close(): Promise<void>;
}

/** A counting semaphore: at most `permits` holders of `name` at once. */
export interface Semaphore<Token extends FencingToken | null = FencingToken | null> {
  readonly backend: string;
  acquire(name: string, permits: number, options: AcquireOptions): Promise<LockGrant<Token>>;
  release(grant: LockGrant<Token>): Promise<void>;
  extend(grant: LockGrant<Token>, ttlMs?: number): Promise<LockGrant<Token>>;
  close(): Promise<void>;
}

/** A read-write lock: many readers or one writer; a waiting writer is not starved by later readers. */
export interface ReadWriteLock<Token extends FencingToken | null = FencingToken | null> {
  readonly backend: string;
  acquireRead(name: string, options: AcquireOptions): Promise<LockGrant<Token>>;
  acquireWrite(name: string, options: AcquireOptions): Promise<LockGrant<Token>>;
  release(grant: LockGrant<Token>): Promise<void>;
  extend(grant: LockGrant<Token>, ttlMs?: number): Promise<LockGrant<Token>>;
  close(): Promise<void>;
}

/** The leader of an election as observers see it. */
export interface Leader<Token extends FencingToken | null = FencingToken | null> {
  readonly name: string;
  readonly value: string;
  /** The leadership term's fencing token (its grant's token). */
  readonly token: Token;
}

/** This process's leadership: a grant with the value it proclaims. */
export interface Leadership<Token extends FencingToken | null = FencingToken | null> extends LockGrant<Token> {
  readonly value: string;
  /** Aborts when the leadership may have been lost (as `using`'s signal). */
  readonly signal: AbortSignal;
}

export interface Election<Token extends FencingToken | null = FencingToken | null> {
  readonly backend: string;
  /** Waits to become leader (FIFO among candidates where the backend allows); keeps the lease alive until resign. */
  campaign(name: string, value: string, options: AcquireOptions): Promise<Leadership<Token>>;
  /** Changes the value a leader announces, without a new term; LEASE_LOST when no longer leader. */
  proclaim(leadership: Leadership<Token>, value: string): Promise<Leadership<Token>>;
  /** Steps down (the next candidate takes over). */
  resign(leadership: Leadership<Token>): Promise<void>;
  /** The current leader, or null. */
  leader(name: string): Promise<Leader<Token> | null>;
  /**
   * The current leader first (null: none), then every change of leader or of its value, never the
   * same one twice in a row, until `signal` aborts (or the client is closed).
   */
  observe(name: string, options?: { readonly signal?: AbortSignal }): AsyncIterable<Leader<Token> | null>;
  close(): Promise<void>;
}
