import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LockGrant, ReadWriteLock, Semaphore } from './api.js';
import { isLockError } from './errors.js';
import { MIN_TTL_MS } from './redis-arguments.js';
import { createRedisReadWriteLock, createRedisSemaphore } from './redis-recipes.js';
import { startRedisServer, type RedisServerProcess } from './test/redis-server.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
let names = 0;
const fresh = (what: string): string => `recipe-${process.pid}-${names++}-${what}`;

let server: RedisServerProcess;
let direct: Redis;
const closers: (() => Promise<void>)[] = [];
beforeAll(async () => {
  server = await startRedisServer();
  direct = new Redis({ host: server.host, port: server.port, lazyConnect: true });
  await direct.connect();
});
afterAll(async () => {
  await Promise.all(closers.map((c) => c()));
  direct.disconnect();
  await server.stop();
});

/** Polls until `check` holds (bounded): tests wait on state, never on a guess of timing. */
async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await check()) return;
    await sleep(25);
  }
  throw new Error(`gave up waiting: ${what}`);
}

describe('redis semaphore', { timeout: 60_000 }, () => {
  const semaphore = async (): Promise<Semaphore<number>> => {
    const s = await createRedisSemaphore({ server });
    closers.push(() => s.close());
    return s;
  };

  it('lets at most `permits` hold at once under contention, serves everyone, one token per grant', async () => {
    const clients = await Promise.all(Array.from({ length: 6 }, () => semaphore()));
    const name = fresh('contend');
    let inside = 0;
    let most = 0;
    const tokens: number[] = [];
    await Promise.all(
      clients.map(async (s) => {
        for (let round = 0; round < 3; round++) {
          const grant = await s.acquire(name, 2, { ttlMs: 5000, waitMs: 30_000 });
          inside++;
          most = Math.max(most, inside);
          tokens.push(grant.token);
          await sleep(5);
          inside--;
          await s.release(grant);
        }
      }),
    );
    expect(most).toBeLessThanOrEqual(2);
    expect(tokens).toHaveLength(18);
    expect(new Set(tokens).size).toBe(18);
  });

  it('serves waiters in arrival order', async () => {
    const [a, b, ...waiters] = await Promise.all(Array.from({ length: 5 }, () => semaphore()));
    const name = fresh('fifo');
    const held = [await a!.acquire(name, 2, { ttlMs: 10_000, waitMs: 0 }), await b!.acquire(name, 2, { ttlMs: 10_000, waitMs: 0 })];
    await expect(waiters[0]!.acquire(name, 2, { ttlMs: 10_000, waitMs: 0 })).rejects.toSatisfy((e) => isLockError(e, 'LOCK_TIMEOUT'));
    const served: number[] = [];
    const done = waiters.map(async (w, i) => {
      await until(async () => (await direct.zcard(`synod:semaphore:queue:${name}`)) === i, `waiter ${i} to be next`);
      const g = await w.acquire(name, 2, { ttlMs: 10_000, waitMs: 30_000 });
      served.push(i);
      return g;
    });
    await until(async () => (await direct.zcard(`synod:semaphore:queue:${name}`)) === 3, 'three waiters');
    await a!.release(held[0]!);
    await until(async () => served.length === 1, 'the first waiter');
    await b!.release(held[1]!);
    const grants = await Promise.all(done.slice(0, 2));
    expect(served.slice(0, 2)).toEqual([0, 1]);
    await waiters[0]!.release(grants[0]!);
    const last = await done[2]!;
    expect(served).toEqual([0, 1, 2]);
    await waiters[1]!.release(grants[1]!);
    await waiters[2]!.release(last);
  });

  it('a permit whose lease ended is lost (LEASE_LOST) and its place goes to a waiter', async () => {
    const [a, b] = [await semaphore(), await semaphore()];
    const name = fresh('lapse');
    const old = await a.acquire(name, 1, { ttlMs: MIN_TTL_MS, waitMs: 0 });
    const next = await b.acquire(name, 1, { ttlMs: 10_000, waitMs: 20_000 });
    expect(next.token).toBeGreaterThan(old.token);
    await expect(a.extend(old)).rejects.toSatisfy((e) => isLockError(e, 'LEASE_LOST'));
    await expect(a.release(old)).rejects.toSatisfy((e) => isLockError(e, 'LEASE_LOST'));
    const extended = await b.extend(next);
    await b.release(extended);
  });

  it('refuses bad permits with BAD_REQUEST', async () => {
    const s = await semaphore();
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      await expect(s.acquire(fresh('bad'), bad, { ttlMs: 5000 })).rejects.toSatisfy((e) => isLockError(e, 'BAD_REQUEST'));
    }
  });
});

describe('redis read-write lock', { timeout: 60_000 }, () => {
  const rwlock = async (): Promise<ReadWriteLock<number>> => {
    const l = await createRedisReadWriteLock({ server });
    closers.push(() => l.close());
    return l;
  };
  const queued = (name: string): Promise<number> => direct.zcard(`synod:rwlock:queue:${name}`);

  it('readers share; a writer excludes readers and other writers; its token is above every earlier grant', async () => {
    const [a, b, w] = [await rwlock(), await rwlock(), await rwlock()];
    const name = fresh('share');
    const r1 = await a.acquireRead(name, { ttlMs: 10_000, waitMs: 0 });
    const r2 = await b.acquireRead(name, { ttlMs: 10_000, waitMs: 0 });
    await expect(w.acquireWrite(name, { ttlMs: 10_000, waitMs: 0 })).rejects.toSatisfy((e) => isLockError(e, 'LOCK_TIMEOUT'));
    await a.release(r1);
    await b.release(r2);
    const wg = await w.acquireWrite(name, { ttlMs: 10_000, waitMs: 0 });
    expect(wg.token).toBeGreaterThan(Math.max(r1.token, r2.token));
    await expect(a.acquireRead(name, { ttlMs: 10_000, waitMs: 0 })).rejects.toSatisfy((e) => isLockError(e, 'LOCK_TIMEOUT'));
    await expect(b.acquireWrite(name, { ttlMs: 10_000, waitMs: 0 })).rejects.toSatisfy((e) => isLockError(e, 'LOCK_TIMEOUT'));
    await w.release(wg);
  });

  it('a waiting writer is not starved: readers that come after it wait behind it', async () => {
    const [a, w, late] = [await rwlock(), await rwlock(), await rwlock()];
    const name = fresh('starve');
    const order: string[] = [];
    const r1 = await a.acquireRead(name, { ttlMs: 10_000, waitMs: 0 });
    const writer = w.acquireWrite(name, { ttlMs: 10_000, waitMs: 30_000 }).then((g) => {
      order.push('writer');
      return g;
    });
    await until(async () => (await queued(name)) === 1, 'the writer to queue');
    // the lock is only read-held, yet a new reader may not pass the waiting writer
    await expect(late.acquireRead(name, { ttlMs: 10_000, waitMs: 0 })).rejects.toSatisfy((e) => isLockError(e, 'LOCK_TIMEOUT'));
    const reader = late.acquireRead(name, { ttlMs: 10_000, waitMs: 30_000 }).then((g) => {
      order.push('late reader');
      return g;
    });
    await until(async () => (await queued(name)) === 2, 'the late reader to queue');
    await a.release(r1);
    const wg = await writer;
    expect(order).toEqual(['writer']);
    await w.release(wg);
    const rg = await reader;
    expect(order).toEqual(['writer', 'late reader']);
    await late.release(rg);
  });

  it('readers queued behind a writer all go in together when it releases', async () => {
    const [w, ...readers] = await Promise.all(Array.from({ length: 4 }, () => rwlock()));
    const name = fresh('batch');
    const wg = await w!.acquireWrite(name, { ttlMs: 10_000, waitMs: 0 });
    const pending: Promise<LockGrant<number>>[] = [];
    for (const [i, r] of readers.entries()) {
      pending.push(r.acquireRead(name, { ttlMs: 10_000, waitMs: 30_000 }));
      await until(async () => (await queued(name)) === i + 1, `reader ${i} to queue`);
    }
    await w!.release(wg);
    const grants = await Promise.all(pending);
    // all three hold at once
    expect(await direct.zcard(`synod:rwlock:readers:${name}`)).toBe(3);
    await Promise.all(grants.map((g, i) => readers[i]!.release(g)));
  });

  it('a read grant whose lease ended is lost (LEASE_LOST), and a writer gets in', async () => {
    const [a, w] = [await rwlock(), await rwlock()];
    const name = fresh('lapse');
    const old = await a.acquireRead(name, { ttlMs: MIN_TTL_MS, waitMs: 0 });
    const wg = await w.acquireWrite(name, { ttlMs: 10_000, waitMs: 20_000 });
    await expect(a.extend(old)).rejects.toSatisfy((e) => isLockError(e, 'LEASE_LOST'));
    await expect(a.release(old)).rejects.toSatisfy((e) => isLockError(e, 'LEASE_LOST'));
    const extended = await w.extend(wg);
    await w.release(extended);
  });
});
