// The election conformance suite: the same tests against every backend's Election, run by each
// backend's test file. observe() yields the current leader first (null: none), then each change
// of leader or of its value, never the same one twice in a row.
import { describe, expect, it } from 'vitest';
import type { Election, Leader } from '../api.js';
import { isLockError } from '../errors.js';
import { freshName, sleep, stillPending, useBackendClients } from './helpers.js';

export interface ElectionBackendUnderTest {
  /** A fresh client of the backend. */
  newElection(): Promise<Election>;
  readonly fencing: boolean;
  /** Whether candidates are served in arrival order. */
  readonly fifo: boolean;
  readonly minTtlMs: number;
  stop(): Promise<void>;
}

/** What an observer saw, as `value@token` (or "none"), in order. */
type Seen = string[];
const show = (leader: Leader | null): string => (leader === null ? 'none' : `${leader.value}@${String(leader.token)}`);

export function describeElectionConformance(backend: string, start: () => Promise<ElectionBackendUnderTest>, timeoutMs = 60_000): void {
  describe(`election conformance: ${backend}`, { timeout: timeoutMs }, () => {
    let b!: ElectionBackendUnderTest;
    const { client, ttl } = useBackendClients(async () => (b = await start()), (backend) => backend.newElection(), timeoutMs);

    /** Observes `name` into `seen` until `stop`; `until(s)` waits (up to 20 s) until the last thing seen is `s`. */
    const observeInto = async (e: Election, name: string, seen: Seen): Promise<{ stop: () => Promise<void>; until: (last: string) => Promise<void> }> => {
      const abort = new AbortController();
      let waiters: (() => void)[] = [];
      const done = (async () => {
        for await (const leader of e.observe(name, { signal: abort.signal })) {
          seen.push(show(leader));
          for (const w of waiters) w();
          waiters = [];
        }
      })();
      return {
        stop: async () => {
          abort.abort();
          await done;
        },
        until: async (last: string) => {
          const deadline = Date.now() + 20_000;
          while (seen[seen.length - 1] !== last && Date.now() < deadline) await Promise.race([new Promise<void>((r) => waiters.push(r)), sleep(100)]);
        },
      };
    };

    it('one leader at a time: the next candidate takes over on resign, with a higher token', async () => {
      const [a, c, watcher] = [await client(), await client(), await client()];
      expect(a.backend).toBe(backend);
      const name = freshName('takeover');
      expect(await watcher.leader(name)).toBeNull();
      const first = await a.campaign(name, 'a', { ttlMs: ttl() });
      expect(first.value).toBe('a');
      expect(first.signal.aborted).toBe(false);
      expect(first.token === null).toBe(!b.fencing);
      expect(await watcher.leader(name)).toEqual({ name, value: 'a', token: first.token });
      const second = c.campaign(name, 'c', { ttlMs: ttl(), waitMs: 30_000 });
      expect(await stillPending(second, 300)).toBe(true);
      await a.resign(first);
      const next = await second;
      expect(await watcher.leader(name)).toEqual({ name, value: 'c', token: next.token });
      if (b.fencing) expect(next.token as number).toBeGreaterThan(first.token as number);
      await c.resign(next);
      expect(await watcher.leader(name)).toBeNull();
    });

    it('the leader keeps its term past the TTL without help, until it resigns', async () => {
      const [a, c] = [await client(), await client()];
      const name = freshName('kept');
      const term = await a.campaign(name, 'a', { ttlMs: b.minTtlMs });
      await sleep(b.minTtlMs * 1.5);
      expect(term.signal.aborted).toBe(false);
      await expect(c.campaign(name, 'c', { ttlMs: ttl(), waitMs: 0 })).rejects.toSatisfy((e) => isLockError(e, 'LOCK_TIMEOUT'));
      await a.resign(term);
      const next = await c.campaign(name, 'c', { ttlMs: ttl(), waitMs: 5000 });
      await c.resign(next);
    });

    it('proclaim changes the value without a new term; observe sees every change in order', async () => {
      const [a, c, watcher] = [await client(), await client(), await client()];
      const name = freshName('observe');
      const seen: Seen = [];
      const observer = await observeInto(watcher, name, seen);
      await observer.until('none');
      const first = await a.campaign(name, 'a1', { ttlMs: ttl() });
      const t1 = String(first.token);
      await observer.until(`a1@${t1}`);
      const proclaimed = await a.proclaim(first, 'a2');
      expect(proclaimed.token).toBe(first.token);
      expect(proclaimed.value).toBe('a2');
      expect(await watcher.leader(name)).toEqual({ name, value: 'a2', token: first.token });
      await observer.until(`a2@${t1}`);
      const second = c.campaign(name, 'c', { ttlMs: ttl(), waitMs: 30_000 });
      await sleep(200);
      await a.resign(proclaimed);
      const next = await second;
      await observer.until(`c@${String(next.token)}`);
      await c.resign(next);
      await observer.until('none');
      await observer.stop();
      // "none" between a2 and c only if c had not joined the line when a resigned
      expect([
        ['none', `a1@${t1}`, `a2@${t1}`, `c@${String(next.token)}`, 'none'],
        ['none', `a1@${t1}`, `a2@${t1}`, 'none', `c@${String(next.token)}`, 'none'],
      ]).toContainEqual(seen);
    });

    it('proclaim after the term ended is LEASE_LOST; resign of an ended term is no error', async () => {
      const a = await client();
      const name = freshName('ended');
      const term = await a.campaign(name, 'a', { ttlMs: ttl() });
      await a.resign(term);
      await expect(a.proclaim(term, 'again')).rejects.toSatisfy((e) => isLockError(e, 'LEASE_LOST'));
      await a.resign(term);
    });

    it("a leader whose client stops keeping it alive loses the term: its signal aborts, the next candidate's token is higher", async () => {
      const [a, c] = [await b.newElection(), await client()];
      const name = freshName('expire');
      const term = await a.campaign(name, 'a', { ttlMs: b.minTtlMs });
      const next = c.campaign(name, 'c', { ttlMs: ttl(), waitMs: b.minTtlMs * 5 + 10_000 });
      await a.close();
      expect(term.signal.aborted).toBe(true);
      const won = await next;
      if (b.fencing) expect(won.token as number).toBeGreaterThan(term.token as number);
      expect((await c.leader(name))?.value).toBe('c');
      await c.resign(won);
    });

    it('serves candidates in arrival order where it says it is FIFO', async () => {
      if (!b.fifo) return;
      const holder = await client();
      const name = freshName('fifo');
      const term = await holder.campaign(name, 'holder', { ttlMs: ttl() });
      const served: number[] = [];
      const done: Promise<void>[] = [];
      for (let i = 0; i < 3; i++) {
        const e = await client();
        done.push(e.campaign(name, `c${i}`, { ttlMs: ttl(), waitMs: 30_000 }).then(async (t) => {
          served.push(i);
          await e.resign(t);
        }));
        await sleep(150);
      }
      await holder.resign(term);
      await Promise.all(done);
      expect(served).toEqual([0, 1, 2]);
    });

    it('refuses bad arguments with BAD_REQUEST', async () => {
      const e = await client();
      await expect(e.campaign('', 'v', { ttlMs: ttl() })).rejects.toSatisfy((err) => isLockError(err, 'BAD_REQUEST'));
      await expect(e.campaign(freshName('bad'), 'v', { ttlMs: 0 })).rejects.toSatisfy((err) => isLockError(err, 'BAD_REQUEST'));
      await expect(e.leader('')).rejects.toSatisfy((err) => isLockError(err, 'BAD_REQUEST'));
    });
  });
}
