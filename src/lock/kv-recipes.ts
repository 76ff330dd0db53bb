// The lock, the counting semaphore and the read-write lock on a LeaseKv (Synod or etcd), after
// etcd's concurrency package and recipes: each grant is a key with its own lease, its create
// revision the fencing token; waiters go in by create revision (FIFO).
import type { AcquireOptions, Lock, LockedFunction, LockGrant, ReadWriteLock, Semaphore } from './api.js';
import { LockError } from './errors.js';
import { KvQueue, type QueueRule } from './kv-queue.js';
import type { KvEntry, LeaseKv } from './lease-kv.js';
import { usingLock } from './using.js';

export interface KvRecipeOptions {
  /** Where the recipe's keys live (default "synod-lock/", "synod-semaphore/", "synod-rwlock/"). */
  readonly keyPrefix?: string;
}

/** The contender right ahead: a waiter wakes only when it is gone. */
const LAST_AHEAD: QueueRule = { kind: 'watchOne', blocker: (ahead) => ahead[ahead.length - 1] };

/**
 * A mutual-exclusion lock: the holder is the contender with the lowest create revision under
 * the name; each waiter watches only the one right ahead of it.
 */
export class KvLock implements Lock<number> {
  readonly fencing = true;
  private readonly queue: KvQueue;

  constructor(kv: LeaseKv, options: KvRecipeOptions = {}) {
    this.queue = new KvQueue(kv, options.keyPrefix ?? 'synod-lock/');
  }

  get backend(): string {
    return this.queue.backend;
  }

  async acquire(name: string, options: AcquireOptions): Promise<LockGrant<number>> {
    return (await this.queue.enter(name, '', options, LAST_AHEAD, 'wait')) as LockGrant<number>;
  }

  tryAcquire(name: string, options: Omit<AcquireOptions, 'waitMs'>): Promise<LockGrant<number> | null> {
    return this.queue.enter(name, '', options, LAST_AHEAD, 'try');
  }

  release(grant: LockGrant<number>): Promise<void> {
    return this.queue.release(grant);
  }

  extend(grant: LockGrant<number>, ttlMs?: number): Promise<LockGrant<number>> {
    return this.queue.extend(grant, ttlMs);
  }

  using<R>(name: string, options: AcquireOptions, fn: LockedFunction<number, R>): Promise<R> {
    return usingLock(this, name, options, fn);
  }

  close(): Promise<void> {
    return this.queue.close();
  }
}

/**
 * A counting semaphore: the `permits` contenders with the lowest create revisions hold. Every
 * caller of one name must pass the same `permits`. A waiter watches the name's deletes and counts
 * them locally: a release reaches every waiter behind it as a watch event, but none sends a request.
 */
export class KvSemaphore implements Semaphore<number> {
  private readonly queue: KvQueue;

  constructor(kv: LeaseKv, options: KvRecipeOptions = {}) {
    this.queue = new KvQueue(kv, options.keyPrefix ?? 'synod-semaphore/');
  }

  get backend(): string {
    return this.queue.backend;
  }

  async acquire(name: string, permits: number, options: AcquireOptions): Promise<LockGrant<number>> {
    if (!Number.isSafeInteger(permits) || permits < 1) throw new LockError('BAD_REQUEST', `permits is a whole number >= 1, not ${String(permits)}`, this.backend);
    return (await this.queue.enter(name, '', options, { kind: 'count', permits }, 'wait')) as LockGrant<number>;
  }

  release(grant: LockGrant<number>): Promise<void> {
    return this.queue.release(grant);
  }

  extend(grant: LockGrant<number>, ttlMs?: number): Promise<LockGrant<number>> {
    return this.queue.extend(grant, ttlMs);
  }

  close(): Promise<void> {
    return this.queue.close();
  }
}

const READ = 'read';
const WRITE = 'write';

/**
 * A read-write lock in one line of contenders: a reader goes in when no writer is ahead of it
 * (and watches only the last writer ahead), a writer when nobody is ahead (and watches only the
 * one right ahead). A waiting writer thus holds back every reader that came after it.
 */
export class KvReadWriteLock implements ReadWriteLock<number> {
  private readonly queue: KvQueue;
  private static readonly READER: QueueRule = { kind: 'watchOne', blocker: (ahead) => lastWriter(ahead) };

  constructor(kv: LeaseKv, options: KvRecipeOptions = {}) {
    this.queue = new KvQueue(kv, options.keyPrefix ?? 'synod-rwlock/');
  }

  get backend(): string {
    return this.queue.backend;
  }

  async acquireRead(name: string, options: AcquireOptions): Promise<LockGrant<number>> {
    return (await this.queue.enter(name, READ, options, KvReadWriteLock.READER, 'wait')) as LockGrant<number>;
  }

  async acquireWrite(name: string, options: AcquireOptions): Promise<LockGrant<number>> {
    return (await this.queue.enter(name, WRITE, options, LAST_AHEAD, 'wait')) as LockGrant<number>;
  }

  release(grant: LockGrant<number>): Promise<void> {
    return this.queue.release(grant);
  }

  extend(grant: LockGrant<number>, ttlMs?: number): Promise<LockGrant<number>> {
    return this.queue.extend(grant, ttlMs);
  }

  close(): Promise<void> {
    return this.queue.close();
  }
}

function lastWriter(ahead: readonly KvEntry[]): KvEntry | undefined {
  for (let i = ahead.length - 1; i >= 0; i--) if ((ahead[i] as KvEntry).value !== READ) return ahead[i];
  return undefined;
}
