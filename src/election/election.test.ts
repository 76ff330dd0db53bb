import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Election, Leader } from '../lock/api.js';
import { isLockError } from '../lock/errors.js';
import { MIN_TTL_MS } from '../lock/redis-arguments.js';
import { startRedisFleet, type RedisFleet } from '../lock/test/redis-server.js';
import { createRedisElection } from './redis.js';
import { createRedlockElection } from './redlock.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
let names = 0;
const fresh = (what: string): string => `election-${process.pid}-${names++}-${what}`;

async function until(check: () => Promise<boolean> | boolean, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await check()) return;
    await sleep(25);
  }
  throw new Error(`gave up waiting: ${what}`);
}

interface Setup {
  readonly backend: 'redis' | 'redlock';
  newElection(): Promise<Election>;
  /** Deletes the leader's key where it is stored (as a lost lease would). */
  dropLeader(name: string): Promise<void>;
}

let fleet: RedisFleet;
let direct: Redis[];
beforeAll(async () => {
  fleet = await startRedisFleet(5);
  direct = fleet.endpoints.map((e) => new Redis({ host: e.host, port: e.port, commandTimeout: 2000 }));
});
afterAll(async () => {
  direct.forEach((r) => r.disconnect());
  await fleet.stop();
});

const setups: Setup[] = [
  {
    backend: 'redis',
    newElection: () => createRedisElection({ server: fleet.endpoints[0]! }),
    dropLeader: async (name) => {
      await direct[0]!.del(`synod:election:owner:${name}`);
    },
  },
  {
    backend: 'redlock',
    newElection: () => createRedlockElection({ servers: fleet.endpoints, instanceTimeoutMs: 500 }),
    dropLeader: async (name) => {
      for (const r of direct) await r.del(`synod:redlock-election:owner:${name}`);
    },
  },
];

for (const setup of setups) {
  describe(`election over ${setup.backend}`, { timeout: 60_000 }, () => {
    const opened: Election[] = [];
    const election = async (): Promise<Election> => {
      const e = await setup.newElection();
      opened.push(e);
      return e;
    };
    afterAll(async () => {
      await Promise.all(opened.map((e) => e.close()));
    });
    const fencing = setup.backend === 'redis';

    it('one leader at a time; the next candidate takes over when it resigns, in a new term', async () => {
      const [a, b] = [await election(), await election()];
      const name = fresh('takeover');
      expect(await a.leader(name)).toBeNull();
      const first = await a.campaign(name, 'node-a', { ttlMs: 5000 });
      expect(await b.leader(name)).toEqual({ name, value: 'node-a', token: first.token });
      if (fencing) expect(typeof first.token).toBe('number');
      else expect(first.token).toBeNull();
      const second = b.campaign(name, 'node-b', { ttlMs: 5000, waitMs: 20_000 });
      await a.resign(first);
      const leadership = await second;
      expect(await a.leader(name)).toEqual({ name, value: 'node-b', token: leadership.token });
      if (fencing) expect(leadership.token as number).toBeGreaterThan(first.token as number);
      expect(first.signal.aborted).toBe(false); // resigning is not losing
      await b.resign(leadership);
      expect(await a.leader(name)).toBeNull();
    });

    it('proclaim changes the value in the same term; a lost leadership cannot proclaim and its signal aborts', async () => {
      const a = await election();
      const name = fresh('proclaim');
      const l = await a.campaign(name, 'v1', { ttlMs: MIN_TTL_MS * 2 });
      const l2 = await a.proclaim(l, 'v2');
      expect(l2.token).toBe(l.token);
      expect(await a.leader(name)).toEqual({ name, value: 'v2', token: l.token });
      await setup.dropLeader(name);
      // the next extend is refused, and the leadership's signal says it may be lost
      await until(() => l.signal.aborted, 'the signal to abort');
      expect(isLockError(l.signal.reason, 'LEASE_LOST')).toBe(true);
      await expect(a.proclaim(l2, 'v3')).rejects.toSatisfy((e) => isLockError(e, 'LEASE_LOST'));
      await a.resign(l2); // resigning a lost leadership is quiet
    });

    it('the leader keeps its lease past the TTL until it resigns', async () => {
      const [a, b] = [await election(), await election()];
      const name = fresh('keep');
      const l = await a.campaign(name, 'a', { ttlMs: MIN_TTL_MS });
      await sleep(MIN_TTL_MS * 1.5);
      expect(l.signal.aborted).toBe(false);
      expect((await b.leader(name))?.value).toBe('a');
      await a.resign(l);
    });

    it('observe gives the leader now, then each change, until aborted', async () => {
      const [a, b, watcher] = [await election(), await election(), await election()];
      const name = fresh('observe');
      const abort = new AbortController();
      const seen: (Leader | null)[] = [];
      const watching = (async () => {
        for await (const leader of watcher.observe(name, { signal: abort.signal })) seen.push(leader);
      })();
      await until(() => seen.length === 1, 'the first observation');
      expect(seen[0]).toBeNull();
      const la = await a.campaign(name, 'a', { ttlMs: 5000 });
      await until(() => seen.length === 2, 'leader a');
      const lb = b.campaign(name, 'b', { ttlMs: 5000, waitMs: 20_000 });
      await a.proclaim(la, 'a2');
      await until(() => seen.at(-1)?.value === 'a2', 'the new value');
      await a.resign(la);
      const leadershipB = await lb;
      await until(() => seen.at(-1)?.value === 'b', 'leader b');
      abort.abort();
      await watching;
      expect(seen[1]).toEqual({ name, value: 'a', token: la.token });
      expect(seen.at(-1)).toEqual({ name, value: 'b', token: leadershipB.token });
      await b.resign(leadershipB);
    });

    if (setup.backend === 'redis') {
      it('candidates become leader in the order they campaigned', async () => {
        const candidates = await Promise.all(Array.from({ length: 4 }, () => election()));
        const name = fresh('fifo');
        const first = await candidates[0]!.campaign(name, 'c0', { ttlMs: 5000 });
        const order: string[] = [];
        const pending = [];
        for (const [i, c] of candidates.slice(1).entries()) {
          pending.push(
            c.campaign(name, `c${i + 1}`, { ttlMs: 5000, waitMs: 30_000 }).then(async (l) => {
              order.push(l.value);
              await c.resign(l);
            }),
          );
          await until(async () => (await direct[0]!.zcard(`synod:election:queue:${name}`)) === i + 1, `candidate ${i + 1} to queue`);
        }
        await candidates[0]!.resign(first);
        await Promise.all(pending);
        expect(order).toEqual(['c1', 'c2', 'c3']);
      });
    }
  });
}
