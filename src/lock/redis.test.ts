import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Lock } from './api.js';
import { isLockError } from './errors.js';
import { MIN_TTL_MS } from './redis-arguments.js';
import { createRedisLock } from './redis.js';
import { describeLockConformance } from './test/conformance.js';
import { startRedisServer, type RedisServerProcess } from './test/redis-server.js';

describeLockConformance('redis', async () => {
  const server = await startRedisServer();
  return { newLock: () => createRedisLock({ server }), fencing: true, fifo: true, minTtlMs: MIN_TTL_MS, stop: () => server.stop() };
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
let names = 0;
const fresh = (what: string): string => `redis-${process.pid}-${names++}-${what}`;

/** Retries `fn` while the client reconnects to a restarted server (bounded). */
async function once<T>(fn: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (!isLockError(err, 'BACKEND_UNREACHABLE') || i >= 200) throw err;
      await sleep(50);
    }
  }
}

/** Polls until `check` holds (bounded), so tests wait on state, never on a guess of timing. */
async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await check()) return;
    await sleep(25);
  }
  throw new Error(`gave up waiting: ${what}`);
}

describe('redis backend', { timeout: 60_000 }, () => {
  let server: RedisServerProcess;
  let direct: Redis;
  const opened: Lock<number>[] = [];
  const client = async (options: { commandTimeoutMs?: number; waiterLeaseMs?: number; maxWaiters?: number } = {}): Promise<Lock<number>> => {
    const lock = await createRedisLock({ server, ...options });
    opened.push(lock);
    return lock;
  };
  beforeAll(async () => {
    server = await startRedisServer();
    direct = new Redis({ host: server.host, port: server.port, lazyConnect: true });
    await direct.connect();
  });
  afterAll(async () => {
    await Promise.all(opened.map((l) => l.close()));
    direct.disconnect();
    await server.stop();
  });

  it('refuses a waiter with QUEUE_FULL when the queue is at maxWaiters, and keeps serving the ones in it', async () => {
    const name = fresh('full');
    const holder = await client({ maxWaiters: 1 });
    const grant = await holder.acquire(name, { ttlMs: 10_000 });
    const first = holder.acquire(name, { ttlMs: 10_000, waitMs: 20_000 });
    const other = await client({ maxWaiters: 1 });
    const queued = async (): Promise<number> => {
      const [queueKey] = await direct.keys(`*queue:${name}`);
      return queueKey === undefined ? 0 : direct.zcard(queueKey);
    };
    await until(async () => (await queued()) === 1, 'the first waiter in the queue');
    const refused = await other.acquire(name, { ttlMs: 10_000, waitMs: 5_000 }).then(() => 'granted', (err: unknown) => (isLockError(err, 'QUEUE_FULL') ? 'QUEUE_FULL' : String(err)));
    expect(refused).toBe('QUEUE_FULL');
    await holder.release(grant);
    const next = await first;
    expect(next.token).toBeGreaterThan(grant.token);
    await holder.release(next);
  });

  it('takes the token in the same step as the grant: contended grants get consecutive tokens, refusals take none', async () => {
    const lockers = await Promise.all(Array.from({ length: 6 }, () => client()));
    const name = fresh('atomic');
    const tokens: number[] = [];
    for (let round = 0; round < 15; round++) {
      const tries = await Promise.all(lockers.map((l) => l.tryAcquire(name, { ttlMs: 5000 })));
      const winners = tries.flatMap((g, i) => (g === null ? [] : [{ grant: g, by: lockers[i]! }]));
      expect(winners).toHaveLength(1); // the lock was free, and exactly one attempt of the round got it
      const { grant, by } = winners[0]!;
      // while held, the owner key holds this holder and the counter this grant's token
      expect(await direct.get(`synod:lock:owner:${name}`)).toBe(grant.holder);
      expect(Number(await direct.get(`synod:lock:fence:${name}`))).toBe(grant.token);
      expect(grant.holder.startsWith(`${grant.token}:`)).toBe(true);
      tokens.push(grant.token);
      await by.release(grant);
    }
    expect(tokens).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
  });

  it('refuses release and extend of a grant whose lease ended, and leaves the new holder alone', async () => {
    const [a, b] = [await client(), await client()];
    const name = fresh('lost');
    const old = await a.acquire(name, { ttlMs: MIN_TTL_MS });
    await until(async () => (await direct.exists(`synod:lock:owner:${name}`)) === 0, 'the lease to end');
    const next = await b.acquire(name, { ttlMs: 10_000, waitMs: 5000 });
    expect(next.token).toBeGreaterThan(old.token);
    await expect(a.extend(old, 60_000)).rejects.toSatisfy((e) => isLockError(e, 'LEASE_LOST'));
    await expect(a.release(old)).rejects.toSatisfy((e) => isLockError(e, 'LEASE_LOST'));
    expect(await direct.get(`synod:lock:owner:${name}`)).toBe(next.holder);
    expect(await direct.pttl(`synod:lock:owner:${name}`)).toBeLessThanOrEqual(10_000); // not extended to 60 s by the old grant
    await b.release(next);
  });

  it('refuses release and extend of a grant whose key was overwritten (as after a failover that lost it)', async () => {
    const a = await client();
    const name = fresh('overwritten');
    const grant = await a.acquire(name, { ttlMs: 10_000 });
    await direct.set(`synod:lock:owner:${name}`, '999:someone-else', 'PX', 10_000);
    await expect(a.extend(grant)).rejects.toSatisfy((e) => isLockError(e, 'LEASE_LOST'));
    await expect(a.release(grant)).rejects.toSatisfy((e) => isLockError(e, 'LEASE_LOST'));
    expect(await direct.get(`synod:lock:owner:${name}`)).toBe('999:someone-else');
    await direct.del(`synod:lock:owner:${name}`);
  });

  it('a waiter that vanished loses its place in the queue, and the next waiter is served', async () => {
    const [holder, gone, next] = [await client(), await client({ waiterLeaseMs: 600 }), await client({ waiterLeaseMs: 600 })];
    const name = fresh('vanished');
    const grant = await holder.acquire(name, { ttlMs: 10_000 });
    const lost = gone.acquire(name, { ttlMs: 10_000 }).catch((e: unknown) => e);
    await until(async () => (await direct.zcard(`synod:lock:queue:${name}`)) === 1, 'the first waiter to queue');
    await gone.close(); // its waiter ends without leaving the queue (the connection is gone)
    expect(isLockError(await lost, 'BACKEND_UNREACHABLE')).toBe(true);
    expect(await direct.zcard(`synod:lock:queue:${name}`)).toBe(1);
    const served = next.acquire(name, { ttlMs: 10_000, waitMs: 20_000 });
    await holder.release(grant);
    const g = await served;
    expect(g.token).toBe(grant.token + 1);
    await next.release(g);
  });

  it('fails fast with BACKEND_UNREACHABLE when the server is paused or gone, and works again when it is back', async () => {
    const own = await startRedisServer();
    try {
      const lock = await createRedisLock({ server: own, commandTimeoutMs: 300 });
      const name = fresh('down');
      own.pause();
      await expect(lock.tryAcquire(name, { ttlMs: 5000 })).rejects.toSatisfy((e) => isLockError(e, 'BACKEND_UNREACHABLE'));
      own.resume();
      await own.kill();
      await expect(lock.tryAcquire(name, { ttlMs: 5000 })).rejects.toSatisfy((e) => isLockError(e, 'BACKEND_UNREACHABLE'));
      await expect(lock.acquire(name, { ttlMs: 5000, waitMs: 1000 })).rejects.toSatisfy((e) => isLockError(e, 'BACKEND_UNREACHABLE'));
      await expect(createRedisLock({ server: own, connectTimeoutMs: 300 })).rejects.toSatisfy((e) => isLockError(e, 'BACKEND_UNREACHABLE'));
      await own.start();
      const grant = await once(() => lock.acquire(name, { ttlMs: 5000, waitMs: 0 }));
      expect(grant.token).toBe(1);
      await lock.close();
    } finally {
      await own.stop();
    }
  });
});

describe('redis fencing tokens across a server restart', { timeout: 60_000 }, () => {
  const grantsThenRestart = async (server: RedisServerProcess): Promise<{ before: number; after: number }> => {
    const lock = await createRedisLock({ server });
    try {
      const name = 'restart';
      let before = 0;
      for (let i = 0; i < 5; i++) {
        const g = await lock.acquire(name, { ttlMs: 5000, waitMs: 0 });
        before = g.token;
        await lock.release(g);
      }
      await server.restart(); // SIGKILL, then start again on the same port and data dir
      const g = await once(() => lock.acquire(name, { ttlMs: 5000, waitMs: 0 }));
      await lock.release(g);
      return { before, after: g.token };
    } finally {
      await lock.close();
    }
  };

  it('WITHOUT persistence a restart loses the counter: the next token is LOWER (the documented limit)', async () => {
    const server = await startRedisServer({ persistence: 'none' });
    try {
      const { before, after } = await grantsThenRestart(server);
      expect(before).toBe(5);
      expect(after).toBeLessThan(before); // a fenced resource that saw 5 would refuse this holder
      expect(after).toBe(1);
    } finally {
      await server.stop();
    }
  });

  it('with appendonly yes and appendfsync always, tokens keep rising across a crash', async () => {
    const server = await startRedisServer({ persistence: 'aof-always' });
    try {
      const { before, after } = await grantsThenRestart(server);
      expect(before).toBe(5);
      expect(after).toBe(6);
    } finally {
      await server.stop();
    }
  });
});
