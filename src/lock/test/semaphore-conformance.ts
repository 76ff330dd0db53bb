// The semaphore conformance suite: the same tests against every backend's Semaphore, run by each
// backend's test file. Capabilities (fencing tokens, FIFO waiting) are declared and checked.
import { describe, expect, it } from 'vitest';
import type { Semaphore } from '../api.js';
import { isLockError } from '../errors.js';
import { freshName, sleep, stillPending, useBackendClients } from './helpers.js';

export interface SemaphoreBackendUnderTest {
  /** A fresh client of the backend. */
  newSemaphore(): Promise<Semaphore>;
  readonly fencing: boolean;
  readonly fifo: boolean;
  readonly minTtlMs: number;
  stop(): Promise<void>;
}

export function describeSemaphoreConformance(backend: string, start: () => Promise<SemaphoreBackendUnderTest>, timeoutMs = 60_000): void {
  describe(`semaphore conformance: ${backend}`, { timeout: timeoutMs }, () => {
    let b!: SemaphoreBackendUnderTest;
    const { client, ttl } = useBackendClients(async () => (b = await start()), (backend) => backend.newSemaphore(), timeoutMs);

    it('grants up to `permits` holders, refuses one more at once, and gives it the permit a release frees', async () => {
      const [a, c, d] = [await client(), await client(), await client()];
      expect(a.backend).toBe(backend);
      const name = freshName('permits');
      const first = await a.acquire(name, 2, { ttlMs: ttl() });
      const second = await c.acquire(name, 2, { ttlMs: ttl(), waitMs: 0 });
      expect(second.holder).not.toBe(first.holder);
      expect(first.leaseExpiresAt).toBeGreaterThan(Date.now());
      await expect(d.acquire(name, 2, { ttlMs: ttl(), waitMs: 0 })).rejects.toSatisfy((e) => isLockError(e, 'LOCK_TIMEOUT'));
      const third = d.acquire(name, 2, { ttlMs: ttl(), waitMs: 30_000 });
      expect(await stillPending(third, 300)).toBe(true);
      await a.release(first);
      const granted = await third;
      if (b.fencing) expect(granted.token as number).toBeGreaterThan(second.token as number);
      await Promise.all([c.release(second), d.release(granted)]);
    });

    it('contending clients never exceed the permits, and every one gets its turn', async () => {
      const sems = await Promise.all(Array.from({ length: 5 }, () => client()));
      const name = freshName('contend');
      let inside = 0;
      let most = 0;
      let turns = 0;
      await Promise.all(
        sems.map(async (s) => {
          for (let round = 0; round < 2; round++) {
            const grant = await s.acquire(name, 2, { ttlMs: ttl(), waitMs: 30_000 });
            inside++;
            most = Math.max(most, inside);
            turns++;
            await sleep(10);
            inside--;
            await s.release(grant);
          }
        }),
      );
      expect(most).toBeLessThanOrEqual(2);
      expect(turns).toBe(10);
    });

    it('fencing tokens strictly increase across grants of one name', async () => {
      if (!b.fencing) return;
      const [a, c] = [await client(), await client()];
      const name = freshName('tokens');
      const tokens: number[] = [];
      for (let i = 0; i < 6; i++) {
        const s = i % 2 === 0 ? a : c;
        const grant = await s.acquire(name, 3, { ttlMs: ttl() });
        tokens.push(grant.token as number);
        await s.release(grant);
      }
      for (let i = 1; i < tokens.length; i++) expect(tokens[i]).toBeGreaterThan(tokens[i - 1] as number);
    });

    it('serves waiters in arrival order where it says it is FIFO', async () => {
      if (!b.fifo) return;
      const holder = await client();
      const name = freshName('fifo');
      const held = [await holder.acquire(name, 2, { ttlMs: ttl() }), await holder.acquire(name, 2, { ttlMs: ttl() })];
      const served: number[] = [];
      const done: Promise<void>[] = [];
      for (let i = 0; i < 3; i++) {
        const w = await client();
        done.push(w.acquire(name, 2, { ttlMs: ttl(), waitMs: 30_000 }).then(async (g) => {
          served.push(i);
          await sleep(20);
          await w.release(g);
        }));
        await sleep(150); // each waiter is queued before the next arrives
      }
      // one permit frees: the waiters go through it one after another, in arrival order
      await holder.release(held[0]!);
      await Promise.all(done);
      expect(served).toEqual([0, 1, 2]);
      await holder.release(held[1]!);
    });

    it('gives up after waitMs with LOCK_TIMEOUT and on its signal with LOCK_ABORTED, leaving nothing behind', async () => {
      const [a, c] = [await client(), await client()];
      const name = freshName('wait');
      const grant = await a.acquire(name, 1, { ttlMs: ttl() * 3 });
      await expect(c.acquire(name, 1, { ttlMs: ttl(), waitMs: 300 })).rejects.toSatisfy((e) => isLockError(e, 'LOCK_TIMEOUT'));
      const abort = new AbortController();
      const waiting = c.acquire(name, 1, { ttlMs: ttl(), signal: abort.signal });
      setTimeout(() => abort.abort(), 200);
      await expect(waiting).rejects.toSatisfy((e) => isLockError(e, 'LOCK_ABORTED'));
      await a.release(grant);
      const next = await c.acquire(name, 1, { ttlMs: ttl(), waitMs: 5000 });
      await c.release(next);
    });

    it('a permit whose lease is not extended expires and goes to a waiter; extend keeps one past its TTL', async () => {
      const [a, c, d] = [await client(), await client(), await client()];
      const name = freshName('expire');
      const short = b.minTtlMs;
      const kept = await a.acquire(name, 2, { ttlMs: short });
      const dropped = await c.acquire(name, 2, { ttlMs: short });
      const waiting = d.acquire(name, 2, { ttlMs: ttl(), waitMs: short * 5 + 10_000 });
      // keep one permit alive past its TTL while the other runs out
      let current = kept;
      let granted: Awaited<typeof waiting> | undefined;
      void waiting.then((g) => (granted = g), () => undefined);
      for (let i = 0; i < 12 && granted === undefined; i++) {
        await sleep(short / 3);
        const before = current.leaseExpiresAt;
        current = await a.extend(current);
        expect(current.leaseExpiresAt).toBeGreaterThanOrEqual(before);
      }
      const next = await waiting;
      if (b.fencing) expect(next.token as number).toBeGreaterThan(dropped.token as number);
      await expect(c.extend(dropped)).rejects.toSatisfy((e) => isLockError(e, 'LEASE_LOST'));
      await expect(c.release(dropped)).rejects.toSatisfy((e) => isLockError(e, 'LEASE_LOST'));
      // the kept permit is still held: a third contender waits
      await expect(c.acquire(name, 2, { ttlMs: ttl(), waitMs: 0 })).rejects.toSatisfy((e) => isLockError(e, 'LOCK_TIMEOUT'));
      await a.release(current);
      await d.release(next);
    });

    it('refuses bad arguments with BAD_REQUEST', async () => {
      const s = await client();
      for (const permits of [0, -1, 1.5, Number.NaN]) await expect(s.acquire(freshName('bad'), permits, { ttlMs: ttl() })).rejects.toSatisfy((e) => isLockError(e, 'BAD_REQUEST'));
      await expect(s.acquire('', 1, { ttlMs: ttl() })).rejects.toSatisfy((e) => isLockError(e, 'BAD_REQUEST'));
      await expect(s.acquire(freshName('bad'), 1, { ttlMs: 0 })).rejects.toSatisfy((e) => isLockError(e, 'BAD_REQUEST'));
    });
  });
}
