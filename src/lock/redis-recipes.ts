// Recipes on one Redis server: a counting semaphore and a read-write lock, each a few Lua scripts
// (src/lock/redis-scripts.ts) over sorted sets of holders with lease ends by the server's clock,
// with the same FIFO queue and wake-ups as the lock and a fencing token from one counter per name.
import type { AcquireOptions, LockGrant, ReadWriteLock, Semaphore } from './api.js';
import { LockError } from './errors.js';
import { checkAcquire, checkGrant, checkName, checkPermits, extendTtl } from './redis-arguments.js';
import { makeGrant, queuedAcquire, RedisSession, type RedisBackendOptions } from './redis.js';
import {
  RW_ACQUIRE,
  RW_EXTEND,
  RW_LEAVE,
  RW_RELEASE,
  SEMAPHORE_ACQUIRE,
  SEMAPHORE_EXTEND,
  SEMAPHORE_LEAVE,
  SEMAPHORE_RELEASE,
} from './redis-scripts.js';

const lost = (name: string, backend: string): LockError =>
  new LockError('LEASE_LOST', `${name} is no longer held by this grant (its lease expired or it was never granted)`, backend);

/**
 * A counting semaphore on Redis: at most `permits` grants of a name at once, FIFO among waiters,
 * each grant with a fencing token from the name's counter (unique and increasing per grant; see
 * docs/locks.md on fencing with several holders). Every caller should pass the same `permits`
 * for a name: each attempt is judged by the caller's own.
 */
export class RedisSemaphore implements Semaphore<number> {
  readonly backend: string;

  constructor(private readonly session: RedisSession) {
    this.backend = session.backend;
  }

  private keys(name: string) {
    const s = this.session;
    return { holders: s.key('holders', name), fence: s.key('fence', name), queue: s.key('queue', name), alive: s.key('alive', name) };
  }

  async acquire(name: string, permits: number, options: AcquireOptions): Promise<LockGrant<number>> {
    const o = checkAcquire(name, options, this.backend);
    const n = checkPermits(permits, this.backend);
    const k = this.keys(o.name);
    return queuedAcquire(
      this.session,
      o,
      this.session.nextWaiterId(),
      { acquire: SEMAPHORE_ACQUIRE, leave: SEMAPHORE_LEAVE },
      { attempt: [k.holders, k.fence, k.queue, k.alive], leave: [k.queue, k.alive] },
      [n],
      [],
      (g) => this.release(g),
    );
  }

  async release(grant: LockGrant<number>): Promise<void> {
    const g = checkGrant(grant, this.backend);
    const name = checkName(g.name, this.backend);
    const k = this.keys(name);
    const ok = await this.session.run(SEMAPHORE_RELEASE, [k.holders, k.queue, k.alive], [g.holder, this.session.wakePrefix], `release ${name}`);
    if (ok !== 1) throw lost(name, this.backend);
  }

  async extend(grant: LockGrant<number>, ttlMs?: number): Promise<LockGrant<number>> {
    const g = checkGrant(grant, this.backend);
    const name = checkName(g.name, this.backend);
    const ttl = extendTtl(g, ttlMs, this.backend);
    const sentAt = Date.now();
    const ok = await this.session.run(SEMAPHORE_EXTEND, [this.keys(name).holders], [g.holder, ttl], `extend ${name}`);
    if (ok !== 1) throw lost(name, this.backend);
    return makeGrant(name, g.holder, grant.token, sentAt, ttl);
  }

  close(): Promise<void> {
    return this.session.close();
  }
}

/**
 * A read-write lock on Redis: many readers or one writer; waiters are served in arrival order,
 * except that readers arriving while only readers hold and no writer waits go straight in; a
 * waiting writer holds back every reader that arrives after it (no writer starvation).
 */
export class RedisReadWriteLock implements ReadWriteLock<number> {
  readonly backend: string;

  constructor(private readonly session: RedisSession) {
    this.backend = session.backend;
  }

  private keys(name: string): string[] {
    const s = this.session;
    // writer, readers, fence, queue, alive, writers queued
    return [s.key('writer', name), s.key('readers', name), s.key('fence', name), s.key('queue', name), s.key('alive', name), s.key('wqueue', name)];
  }

  private acquireAs(kind: 'r' | 'w', name: string, options: AcquireOptions): Promise<LockGrant<number>> {
    const o = checkAcquire(name, options, this.backend);
    const keys = this.keys(o.name);
    return queuedAcquire(this.session, o, this.session.nextWaiterId(`.${kind}`), { acquire: RW_ACQUIRE, leave: RW_LEAVE }, { attempt: keys, leave: keys }, [], [], (g) => this.release(g));
  }

  acquireRead(name: string, options: AcquireOptions): Promise<LockGrant<number>> {
    return this.acquireAs('r', name, options);
  }

  acquireWrite(name: string, options: AcquireOptions): Promise<LockGrant<number>> {
    return this.acquireAs('w', name, options);
  }

  async release(grant: LockGrant<number>): Promise<void> {
    const g = checkGrant(grant, this.backend);
    const name = checkName(g.name, this.backend);
    const ok = await this.session.run(RW_RELEASE, this.keys(name), [g.holder, this.session.wakePrefix], `release ${name}`);
    if (ok !== 1) throw lost(name, this.backend);
  }

  async extend(grant: LockGrant<number>, ttlMs?: number): Promise<LockGrant<number>> {
    const g = checkGrant(grant, this.backend);
    const name = checkName(g.name, this.backend);
    const ttl = extendTtl(g, ttlMs, this.backend);
    const sentAt = Date.now();
    const ok = await this.session.run(RW_EXTEND, this.keys(name), [g.holder, ttl], `extend ${name}`);
    if (ok !== 1) throw lost(name, this.backend);
    return makeGrant(name, g.holder, grant.token, sentAt, ttl);
  }

  close(): Promise<void> {
    return this.session.close();
  }
}

/** A counting semaphore on one Redis server (keys under `synod:semaphore:` by default). */
export async function createRedisSemaphore(options: RedisBackendOptions): Promise<Semaphore<number>> {
  return new RedisSemaphore(await RedisSession.open(options, 'redis', 'synod:semaphore:'));
}

/** A read-write lock on one Redis server (keys under `synod:rwlock:` by default). */
export async function createRedisReadWriteLock(options: RedisBackendOptions): Promise<ReadWriteLock<number>> {
  return new RedisReadWriteLock(await RedisSession.open(options, 'redis', 'synod:rwlock:'));
}
