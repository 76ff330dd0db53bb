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
  /**
   * `holders`, once the instances' answers still under way have landed: an acquire returns once a
   * majority granted and a release once a majority deleted, the rest still in flight.
   */
  const holdersSettled = async (name: string, want: number): Promise<number> => {
    let n = await holders(name);
    for (let i = 0; i < 100 && n !== want; i++) {
      await new Promise((r) => setTimeout(r, 20));
      n = await holders(name);
    }
    return n;
  };
  /** A counter of one instance's INFO (stats or commandstats), 0 when absent. */
  const infoCount = async (i: number, section: string, pattern: RegExp): Promise<number> => {
    const text = await direct[i]!.info(section);
    return Number(pattern.exec(text)?.[1] ?? 0);
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
    expect(await holdersSettled(grant.name, 5)).toBe(5);
    await lock.release(grant);
    expect(await holdersSettled(grant.name, 0)).toBe(0);
  });

  it('grants with one instance of five down; with three down fails with QUORUM_NOT_REACHED and leaves nothing held', async () => {
    const lock = await client();
    await fleet.servers[0]!.kill();
    try {
      const name = fresh('one-down');
      const grant = await lock.acquire(name, { ttlMs: 5000 });
      expect(await holdersSettled(name, 4)).toBe(4);
      const extended = await lock.extend(grant);
      await lock.release(extended);
      expect(await holdersSettled(name, 0)).toBe(0);

      await fleet.servers[1]!.kill();
      await fleet.servers[2]!.kill();
      const other = fresh('three-down');
      await expect(lock.tryAcquire(other, { ttlMs: 5000 })).rejects.toSatisfy((e) => isLockError(e, 'QUORUM_NOT_REACHED'));
      await expect(lock.acquire(other, { ttlMs: 5000, waitMs: 2000 })).rejects.toSatisfy((e) => isLockError(e, 'QUORUM_NOT_REACHED'));
      // the two live instances granted, and were unlocked again
      expect(await holdersSettled(other, 0)).toBe(0);
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
      if (grant === null || (await holdersSettled(name, 5)) < 5) {
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

  it('decides once a majority answered: acquire and release return while two instances are still paused, and their writes land later', async () => {
    // with a 10 s instance timeout, waiting for the paused two would take 10 s
    const lock = await client({ instanceTimeoutMs: 10_000 });
    const name = fresh('majority-first');
    fleet.servers[3]!.pause();
    fleet.servers[4]!.pause();
    const sentinel = new Promise<'waited'>((r) => setTimeout(() => r('waited'), 5000));
    let grant: Awaited<ReturnType<typeof lock.acquire>> | undefined;
    try {
      const got = await Promise.race([lock.acquire(name, { ttlMs: 30_000 }), sentinel]);
      expect(got).not.toBe('waited');
      grant = got as Awaited<ReturnType<typeof lock.acquire>>;
      expect(await holders(name)).toBe(3);
      // the lease is counted from the attempt's start, not from when the paused two answer
      expect(grant.leaseExpiresAt).toBeLessThanOrEqual(Date.now() + 30_000);
    } finally {
      fleet.servers[3]!.resume();
      fleet.servers[4]!.resume();
    }
    // the two SETs were sent and land once the servers run again
    expect(await holdersSettled(name, 5)).toBe(5);
    fleet.servers[0]!.pause();
    fleet.servers[1]!.pause();
    try {
      const released = await Promise.race([lock.release(grant), new Promise<'waited'>((r) => setTimeout(() => r('waited'), 5000))]);
      expect(released).not.toBe('waited');
      expect(await holders(name)).toBe(0); // the three running instances deleted it
    } finally {
      fleet.servers[0]!.resume();
      fleet.servers[1]!.resume();
    }
    expect(await holdersSettled(name, 0)).toBe(0);
  });

  it('after a refused attempt, unlocks only the instances that may hold the key (none when every one refused)', async () => {
    const holder = await client();
    const other = await client();
    const name = fresh('refused-no-unlock');
    const grant = await holder.acquire(name, { ttlMs: 10_000 });
    expect(await holdersSettled(name, 5)).toBe(5);
    const evalshaCalls = (i: number): Promise<number> => infoCount(i, 'commandstats', /cmdstat_evalsha:calls=(\d+)/);
    const before = await Promise.all([0, 1, 2, 3, 4].map(evalshaCalls));
    expect(await other.tryAcquire(name, { ttlMs: 10_000 })).toBeNull();
    // answers that came after the attempt was decided (a majority refused) are acted on then
    await new Promise((r) => setTimeout(r, 300));
    const after = await Promise.all([0, 1, 2, 3, 4].map(evalshaCalls));
    // every SET NX was refused, so no instance can hold the other's holder id: no compare-and-delete sent
    expect(after).toEqual(before);
    await holder.release(grant);
    expect(await holdersSettled(name, 0)).toBe(0);
  });

  it('requests one client sends an instance in the same turn leave in one write', async () => {
    const lock = await client();
    const names = Array.from({ length: 40 }, (_, i) => fresh(`batch-${i}`));
    const reads = (): Promise<number> => infoCount(0, 'stats', /total_reads_processed:(\d+)/);
    const before = await reads();
    const grants = await Promise.all(names.map((n) => lock.acquire(n, { ttlMs: 10_000 })));
    const after = await reads();
    // 40 SETs (and the INFO calls of this test) reached instance 0; without coalescing, about one read each
    expect(after - before).toBeLessThan(20);
    await Promise.all(grants.map((g) => lock.release(g)));
    for (const n of names) expect(await holdersSettled(n, 0)).toBe(0);
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
    expect(await holdersSettled(late, 0)).toBe(0); // every instance granted, and every one was unlocked
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
    expect(await holdersSettled(name, 0)).toBe(0);
  });

  it('contending clients: a split with no majority is retried, and only one holds at a time', async () => {
    const lockers = await Promise.all(Array.from({ length: 5 }, () => client()));
    const name = fresh('split');
    const grants = await Promise.all(lockers.map((l) => l.tryAcquire(name, { ttlMs: 5000 })));
    expect(grants.filter((g) => g !== null).length).toBeLessThanOrEqual(1);
    await Promise.all(grants.map((g, i) => (g === null ? undefined : lockers[i]!.release(g))));
    expect(await holdersSettled(name, 0)).toBe(0); // a split leaves nothing behind either
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
