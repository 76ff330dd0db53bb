// using() and keepGrantAlive over a fake Lock whose extend can be made to fail: the signal aborts
// on LEASE_LOST at once, on other failures only once leaseExpiresAt has passed, and using()
// always waits for the function and releases.
import { describe, expect, it } from 'vitest';
import type { AcquireOptions, Lock, LockedFunction, LockGrant } from './api.js';
import { isLockError, LockError } from './errors.js';
import { keepGrantAlive, usingLock } from './using.js';

type ExtendMode = 'ok' | 'unreachable' | 'lost';

class FakeLock implements Lock<number> {
  readonly backend = 'fake';
  readonly fencing = true;
  extendMode: ExtendMode = 'ok';
  extends = 0;
  readonly released: LockGrant<number>[] = [];
  private token = 0;

  async acquire(name: string, options: AcquireOptions): Promise<LockGrant<number>> {
    return { name, holder: `h${this.token}`, token: ++this.token, leaseExpiresAt: Date.now() + options.ttlMs };
  }
  async tryAcquire(name: string, options: Omit<AcquireOptions, 'waitMs'>): Promise<LockGrant<number> | null> {
    return this.acquire(name, options);
  }
  async release(grant: LockGrant<number>): Promise<void> {
    this.released.push(grant);
  }
  async extend(grant: LockGrant<number>): Promise<LockGrant<number>> {
    this.extends++;
    if (this.extendMode === 'unreachable') throw new LockError('BACKEND_UNREACHABLE', 'no server', this.backend);
    if (this.extendMode === 'lost') throw new LockError('LEASE_LOST', 'gone', this.backend);
    return { ...grant, leaseExpiresAt: Date.now() + 300 };
  }
  using<R>(name: string, options: AcquireOptions, fn: LockedFunction<number, R>): Promise<R> {
    return usingLock(this, name, options, fn);
  }
  async close(): Promise<void> {}
}

const aborted = (signal: AbortSignal): Promise<unknown> => new Promise((resolve) => (signal.aborted ? resolve(signal.reason) : signal.addEventListener('abort', () => resolve(signal.reason), { once: true })));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('using()', () => {
  it('keeps extending while the function runs, returns its result and releases the last grant', async () => {
    const lock = new FakeLock();
    const result = await lock.using('a', { ttlMs: 300 }, async (grant, signal) => {
      while (lock.extends < 3) await sleep(20);
      expect(signal.aborted).toBe(false);
      return grant.token;
    });
    expect(result).toBe(1);
    expect(lock.released).toHaveLength(1);
    expect(lock.released[0]?.leaseExpiresAt).toBeGreaterThan(0);
  });

  it('aborts the signal at once when an extend says LEASE_LOST', async () => {
    const lock = new FakeLock();
    lock.extendMode = 'lost';
    const reason = await lock.using('a', { ttlMs: 300 }, async (_grant, signal) => aborted(signal));
    expect(isLockError(reason, 'LEASE_LOST')).toBe(true);
    expect((reason as Error).message).toBe('gone');
  });

  it('while extends fail for another reason, aborts only once leaseExpiresAt has passed, then waits for the function', async () => {
    const lock = new FakeLock();
    lock.extendMode = 'unreachable';
    let settled = false;
    const reason = await lock.using('a', { ttlMs: 300 }, async (grant, signal) => {
      const why = await aborted(signal);
      expect(Date.now()).toBeGreaterThanOrEqual(grant.leaseExpiresAt);
      expect(lock.extends).toBeGreaterThan(0);
      await sleep(30);
      settled = true;
      return why;
    });
    expect(settled).toBe(true);
    expect(isLockError(reason, 'LEASE_LOST')).toBe(true);
    expect((reason as Error).message).toMatch(/leaseExpiresAt passed/);
    // released all the same: a lease only feared lost may still be held
    expect(lock.released).toHaveLength(1);
  });

  it("aborts the function's signal when the caller's signal aborts", async () => {
    const lock = new FakeLock();
    const caller = new AbortController();
    setTimeout(() => caller.abort(new Error('caller gave up')), 50);
    const reason = await lock.using('a', { ttlMs: 10_000, signal: caller.signal }, async (_grant, signal) => aborted(signal));
    expect((reason as Error).message).toBe('caller gave up');
    expect(lock.released).toHaveLength(1);
  });

  it('releases when the function throws and passes its error on', async () => {
    const lock = new FakeLock();
    await expect(lock.using('a', { ttlMs: 10_000 }, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(lock.released).toHaveLength(1);
  });
});

describe('keepGrantAlive', () => {
  it('moves grant.leaseExpiresAt on with each extend, and stop() ends the extends', async () => {
    const lock = new FakeLock();
    const first = await lock.acquire('a', { ttlMs: 300 });
    const keeper = keepGrantAlive(first, (g) => lock.extend(g), { everyMs: 20 });
    while (lock.extends < 2) await sleep(10);
    await keeper.stop();
    const count = lock.extends;
    expect(keeper.grant.leaseExpiresAt).toBeGreaterThanOrEqual(first.leaseExpiresAt);
    await sleep(60);
    expect(lock.extends).toBe(count);
    expect(keeper.signal.aborted).toBe(false);
  });

  it('aborts at once for a grant whose leaseExpiresAt has already passed', () => {
    const keeper = keepGrantAlive({ name: 'a', holder: 'h', token: 1, leaseExpiresAt: Date.now() - 1 }, async (g) => g);
    expect(keeper.signal.aborted).toBe(true);
    expect(isLockError(keeper.signal.reason, 'LEASE_LOST')).toBe(true);
  });
});
