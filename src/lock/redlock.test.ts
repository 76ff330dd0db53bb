import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Lock } from './api.js';
import { isLockError } from './errors.js';
import { clockDriftMs } from '../lockcore/redlock.js';
import { MIN_TTL_MS } from './redis-arguments.js';
import { createRedlock, createRedlockReadWriteLock, createRedlockSemaphore, type RedlockOptions } from './redlock.js';
import { describeLockConformance } from './test/conformance.js';
import { startRedisFleet, type RedisFleet } from './test/redis-server.js';

// a loaded test machine can take longer than the 50 ms default to answer; still well under the TTLs
const INSTANCE_TIMEOUT_MS = 500;

describeLockConformance('redlock', async () => {
  const fleet = await startRedisFleet(5);
  return {
    newLock: () => createRedlock({ servers: fleet.endpoints, instanceTimeoutMs: INSTANCE_TIMEOUT_MS }),
    fencing: false,
    fifo: false,
    minTtlMs: MIN_TTL_MS,
    stop: () => fleet.stop(),
  };
});

let names = 0;
const fresh = (what: string): string => `redlock-${process.pid}-${names++}-${what}`;

describe('redlock backend', { timeout: 60_000 }, () => {
  let fleet: RedisFleet;
  let direct: Redis[];
  const opened: Lock<null>[] = [];
  const client = async (options: Partial<RedlockOptions> = {}): Promise<Lock<null>> => {
    const lock = await createRedlock({ servers: fleet.endpoints, instanceTimeoutMs: INSTANCE_TIMEOUT_MS, ...options });
    opened.push(lock);
    return lock;
  };
  /** On how many instances the owner key of `name` exists (instances that are down or paused count as 0). */
  const holders = async (name: string): Promise<number> => {
    let n = 0;
    for (const [i, r] of direct.entries()) {
      const server = fleet.servers[i]!;
      if (!server.running || server.paused) continue;
      n += await r.exists(`synod:redlock:owner:${name}`);
    }
    return n;
  };
  beforeAll(async () => {
    fleet = await startRedisFleet(5);
    direct = fleet.endpoints.map((e) => new Redis({ host: e.host, port: e.port, maxRetriesPerRequest: 1, commandTimeout: 2000 }));
    direct.forEach((r) => r.on('error', () => undefined));
  });
  afterAll(async () => {
    await Promise.all(opened.map((l) => l.close()));
    direct.forEach((r) => r.disconnect());
    await fleet.stop();
  });

  it('has no fencing token, in its type and at run time', async () => {
    const lock = await client();
    const grant = await lock.acquire(fresh('null'), { ttlMs: 5000 });
    const token: null = grant.token; // Lock<null>: the type says there is none
    expect(token).toBeNull();
    expect(lock.fencing).toBe(false);
    expect(await holders(grant.name)).toBe(5);
    await lock.release(grant);
    expect(await holders(grant.name)).toBe(0);
  });

  it('grants with one instance of five down; with three down fails with QUORUM_NOT_REACHED and leaves nothing held', async () => {
    const lock = await client();
    await fleet.servers[0]!.kill();
    try {
      const name = fresh('one-down');
      const grant = await lock.acquire(name, { ttlMs: 5000 });
      expect(await holders(name)).toBe(4);
      const extended = await lock.extend(grant);
      await lock.release(extended);
      expect(await holders(name)).toBe(0);

      await fleet.servers[1]!.kill();
      await fleet.servers[2]!.kill();
      const other = fresh('three-down');
      await expect(lock.tryAcquire(other, { ttlMs: 5000 })).rejects.toSatisfy((e) => isLockError(e, 'QUORUM_NOT_REACHED'));
      await expect(lock.acquire(other, { ttlMs: 5000, waitMs: 2000 })).rejects.toSatisfy((e) => isLockError(e, 'QUORUM_NOT_REACHED'));
      // the two live instances granted, and were unlocked again
      expect(await holders(other)).toBe(0);
      await fleet.servers[3]!.kill();
      await fleet.servers[4]!.kill();
      await expect(lock.tryAcquire(other, { ttlMs: 5000 })).rejects.toSatisfy((e) => isLockError(e, 'BACKEND_UNREACHABLE'));
    } finally {
      for (const s of fleet.servers) await s.start();
    }
    // the connections come back by themselves
    const name = fresh('back');
    let grant = null;
    for (let i = 0; i < 100 && grant === null; i++) {
      grant = await lock.tryAcquire(name, { ttlMs: 5000 }).catch(() => null);
      if (grant === null || (await holders(name)) < 5) {
        if (grant !== null) await lock.release(grant);
        grant = null;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    expect(grant).not.toBeNull();
    await lock.release(grant!);
  });

  it('a paused instance costs at most its timeout: the lock is still granted by the other four', async () => {
    const lock = await client({ instanceTimeoutMs: 200 });
    fleet.servers[4]!.pause();
    try {
      const name = fresh('paused');
      const grant = await lock.acquire(name, { ttlMs: 5000 });
      expect(await holders(name)).toBeGreaterThanOrEqual(3);
      await lock.release(grant);
    } finally {
      fleet.servers[4]!.resume();
    }
  });

  it('validity = TTL - elapsed - drift, by a clock that is only numbers; no validity left means not held, and unlocked', async () => {
    let t = 1_000_000;
    let stepMs = 0;
    // each reading of the clock moves it on by stepMs: an attempt reads it when it starts and when it ends
    const now = (): number => {
      const v = t;
      t += stepMs;
      return v;
    };
    const lock = await client({ now });
    const ttl = 10_000;
    const drift = clockDriftMs(ttl);
    expect(drift).toBe(102);

    stepMs = 1234;
    const name = fresh('validity');
    const started = t;
    const grant = await lock.tryAcquire(name, { ttlMs: ttl });
    expect(grant).not.toBeNull();
    // the attempt took 1234 ms by this clock: validity 10000 - 1234 - 102, counted from its end
    expect(grant!.leaseExpiresAt).toBe(started + stepMs + (ttl - stepMs - drift));
    expect(grant!.leaseExpiresAt).toBe(started + ttl - drift);
    stepMs = 0;
    await lock.release(grant!);

    stepMs = ttl - drift; // the attempt ends with exactly no validity left
    const late = fresh('too-late');
    await expect(lock.tryAcquire(late, { ttlMs: ttl })).rejects.toSatisfy((e) => isLockError(e, 'QUORUM_NOT_REACHED'));
    expect(await holders(late)).toBe(0); // every instance granted, and every one was unlocked
    stepMs = ttl - drift - 1; // one ms left: held
    const justInTime = await lock.tryAcquire(late, { ttlMs: ttl });
    expect(justInTime).not.toBeNull();
    stepMs = 0;
    await lock.release(justInTime!);
  });

  it('extend and release count a majority: keys lost on two instances still extend; on three, the grant is lost', async () => {
    const lock = await client();
    const name = fresh('majority');
    const grant = await lock.acquire(name, { ttlMs: 10_000 });
    // as if two instances restarted without persistence
    await direct[0]!.del(`synod:redlock:owner:${name}`);
    await direct[1]!.del(`synod:redlock:owner:${name}`);
    const extended = await lock.extend(grant);
    await direct[2]!.del(`synod:redlock:owner:${name}`);
    await expect(lock.extend(extended)).rejects.toSatisfy((e) => isLockError(e, 'LEASE_LOST'));
    // still within its validity, the grant releases what is left of it
    await lock.release(extended);
    expect(await holders(name)).toBe(0);
  });

  it('contending clients: a split with no majority is retried, and only one holds at a time', async () => {
    const lockers = await Promise.all(Array.from({ length: 5 }, () => client()));
    const name = fresh('split');
    const grants = await Promise.all(lockers.map((l) => l.tryAcquire(name, { ttlMs: 5000 })));
    expect(grants.filter((g) => g !== null).length).toBeLessThanOrEqual(1);
    await Promise.all(grants.map((g, i) => (g === null ? undefined : lockers[i]!.release(g))));
    expect(await holders(name)).toBe(0); // a split leaves nothing behind either
  });

  it('offers no semaphore or read-write lock (UNSUPPORTED, with the reason)', () => {
    expect(() => createRedlockSemaphore()).toThrow(expect.objectContaining({ code: 'UNSUPPORTED', message: expect.stringContaining('majority') }));
    expect(() => createRedlockReadWriteLock()).toThrow(expect.objectContaining({ code: 'UNSUPPORTED' }));
  });

  it('refuses a fleet that lists one server twice', async () => {
    const e = fleet.endpoints[0]!;
    await expect(createRedlock({ servers: [e, e, fleet.endpoints[1]!] })).rejects.toSatisfy((err) => isLockError(err, 'BAD_REQUEST'));
  });
});
