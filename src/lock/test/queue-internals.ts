// Tests of the queue both Synod and etcd run it (src/lock/kv-queue.ts), through a LeaseKv that
// counts what each client asks (ObservedKv): the token is the key's create revision, a waiter watches only the
// contender right ahead of it (a release or an abort wakes one waiter, not all), and using()'s
// signal aborts when another client revokes the lease.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLockError } from '../errors.js';
import { KvLock } from '../kv-recipes.js';
import type { LeaseKv } from '../lease-kv.js';
import { freshName, sleep, stillPending } from './helpers.js';
import { ObservedKv } from './observed-kv.js';

async function eventually(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

export function describeQueueInternals(backend: string, newKv: () => Promise<LeaseKv>, minTtlMs: number): void {
  describe(`the lock queue on ${backend}`, { timeout: 60_000 }, () => {
    const opened: { close(): Promise<void> }[] = [];
    const counted = async (): Promise<{ kv: ObservedKv; lock: KvLock }> => {
      const kv = new ObservedKv(await newKv());
      const lock = new KvLock(kv);
      opened.push(lock);
      return { kv, lock };
    };
    let reader: LeaseKv;
    beforeAll(async () => {
      reader = await newKv();
      opened.push(reader);
    });
    afterAll(async () => {
      await Promise.all(opened.map((o) => o.close().catch(() => undefined)));
    });
    const keyOf = (name: string, holder: string): string => `synod-lock/${encodeURIComponent(name)}/${holder}`;

    it("the token is the create revision of the grant's key, which holds the grant's lease", async () => {
      const { lock } = await counted();
      const name = freshName('token/with a slash');
      const grant = await lock.acquire(name, { ttlMs: Math.max(minTtlMs, 2000) });
      const line = await reader.range(`synod-lock/${encodeURIComponent(name)}/`);
      expect(line.entries).toEqual([{ key: keyOf(name, grant.holder), value: '', createRevision: grant.token, lease: grant.holder }]);
      // "a" and "a/b" never share a prefix
      expect((await reader.range(`synod-lock/${encodeURIComponent(name.split('/')[0] as string)}/`)).entries).toEqual([]);
      await lock.release(grant);
      expect((await reader.range(`synod-lock/${encodeURIComponent(name)}/`)).entries).toEqual([]);
    });

    it('each waiter watches only the contender right ahead; an abort or a release wakes only the one behind it', async () => {
      const name = freshName('herd');
      const ttlMs = Math.max(minTtlMs, 4000);
      const holder = await counted();
      const held = await holder.lock.acquire(name, { ttlMs });
      const waiters = [await counted(), await counted(), await counted()];
      const aborts = waiters.map(() => new AbortController());
      const pending = waiters.map((w, i) => w.lock.acquire(name, { ttlMs, waitMs: 30_000, signal: aborts[i]!.signal }));
      pending.forEach((p) => p.catch(() => undefined));
      await eventually('every waiter watching', () => waiters.every((w) => w.kv.watched.length === 1));
      const line = (await reader.range(`synod-lock/${encodeURIComponent(name)}/`)).entries.map((e) => e.key);
      expect(line).toHaveLength(4);
      expect(line[0]).toBe(keyOf(name, held.holder));
      // whatever order they joined in, each watches the key right ahead of its own
      for (const w of waiters) {
        const at = line.indexOf(w.kv.watched[0] as string);
        expect(at).toBeGreaterThanOrEqual(0);
        expect(at).toBeLessThan(3);
      }
      const watchedKeys = waiters.map((w) => w.kv.watched[0]);
      expect(new Set(watchedKeys).size).toBe(3);
      // line[0] is the holder's key; the waiters' keys follow, each watching the one before its own.
      // The waiter second in line gives up: only the one behind it reads the line again and re-watches
      const second = waiters.find((w) => w.kv.watched[0] === line[1]) as (typeof waiters)[number];
      const third = waiters.find((w) => w.kv.watched[0] === line[2]) as (typeof waiters)[number];
      const first = waiters.find((w) => w.kv.watched[0] === line[0]) as (typeof waiters)[number];
      const before = { firstRanges: first.kv.ranges };
      aborts[waiters.indexOf(second)]!.abort();
      await expect(pending[waiters.indexOf(second)]).rejects.toSatisfy((e) => isLockError(e, 'LOCK_ABORTED'));
      await eventually('the waiter behind it re-watching', () => third.kv.watched.length === 2);
      // it now watches the first waiter's key, which is right ahead of it
      expect(third.kv.watched[1]).toBe(line[1]);
      expect(first.kv.ranges).toBe(before.firstRanges);
      expect(first.kv.watched).toHaveLength(1);
      // the holder releases: the first waiter goes in, the third keeps waiting on it without a read
      const thirdRanges = third.kv.ranges;
      await holder.lock.release(held);
      const firstGrant = await pending[waiters.indexOf(first)]!;
      expect(await stillPending(pending[waiters.indexOf(third)]!, 300)).toBe(true);
      expect(third.kv.ranges).toBe(thirdRanges);
      expect(third.kv.watched).toHaveLength(2);
      await first.lock.release(firstGrant);
      const thirdGrant = await pending[waiters.indexOf(third)]!;
      expect(thirdGrant.token).toBeGreaterThan(firstGrant.token);
      await third.lock.release(thirdGrant);
    });

    it("using()'s signal aborts with LEASE_LOST when another client revokes the lease, and using() still waits for the function", async () => {
      const { lock } = await counted();
      const other = await newKv();
      opened.push(other);
      let finished = false;
      const reason = await lock.using(freshName('revoked'), { ttlMs: Math.max(minTtlMs, 3000) }, async (grant, signal) => {
        await other.leaseRevoke(grant.holder);
        await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
        await sleep(50);
        finished = true;
        return signal.reason as unknown;
      });
      expect(finished).toBe(true);
      expect(isLockError(reason, 'LEASE_LOST')).toBe(true);
    });
  });
}
