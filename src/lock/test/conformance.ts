// The lock conformance suite: the same tests, run against every backend (Synod, etcd, Redis,
// Redlock) by each backend's test file. A backend passes them all or says, in `capabilities`,
// what it cannot do (fencing tokens, FIFO waiting), and the suite checks that it says so honestly.
import { describe, expect, it } from 'vitest';
import type { Lock } from '../api.js';
import { isLockError } from '../errors.js';
import { useBackendClients } from './helpers.js';

export interface LockBackendUnderTest {
  /** A fresh client of the backend (several clients contend in some tests). */
  newLock(): Promise<Lock>;
  /** Whether grants carry fencing tokens. */
  readonly fencing: boolean;
  /** Whether waiters are served in arrival order. */
  readonly fifo: boolean;
  /** The shortest TTL the backend accepts (ms); the suite's TTLs are multiples of it. */
  readonly minTtlMs: number;
  /** Stops what the backend's `start` started. */
  stop(): Promise<void>;
}

let names = 0;
/** A lock name unique to this run, so tests never see each other's locks. */
const fresh = (what: string): string => `conf-${process.pid}-${Date.now().toString(36)}-${names++}-${what}`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Registers the suite for one backend; `start` runs once before its tests. */
export function describeLockConformance(backend: string, start: () => Promise<LockBackendUnderTest>, timeoutMs = 60_000): void {
  describe(`lock conformance: ${backend}`, { timeout: timeoutMs }, () => {
    let b!: LockBackendUnderTest;
    const { client, ttl } = useBackendClients(async () => (b = await start()), (backend) => backend.newLock(), timeoutMs);

    it('says whether it fences, in its type and at run time', async () => {
      const lock = await client();
      expect(lock.backend).toBe(backend);
      expect(lock.fencing).toBe(b.fencing);
      const grant = await lock.acquire(fresh('says'), { ttlMs: ttl() });
      expect(grant.token === null).toBe(!b.fencing);
      if (b.fencing) expect(Number.isSafeInteger(grant.token)).toBe(true);
      expect(grant.leaseExpiresAt).toBeGreaterThan(Date.now());
      expect(grant.leaseExpiresAt).toBeLessThanOrEqual(Date.now() + ttl());
      await lock.release(grant);
    });

    it('grants one holder at a time; tryAcquire gives null while held, a grant after release', async () => {
      const [a, c] = [await client(), await client()];
      const name = fresh('excl');
      const first = await a.acquire(name, { ttlMs: ttl() });
      expect(first.name).toBe(name);
      expect(await c.tryAcquire(name, { ttlMs: ttl() })).toBeNull();
      await a.release(first);
      const second = await c.tryAcquire(name, { ttlMs: ttl() });
      expect(second).not.toBeNull();
      expect(second?.holder).not.toBe(first.holder);
      if (b.fencing) expect(second?.token as number).toBeGreaterThan(first.token as number);
      await c.release(second!);
    });

    it('fencing tokens strictly increase across grants of one name, whoever holds them', async () => {
      if (!b.fencing) return;
      const lockers = [await client(), await client(), await client()];
      const name = fresh('tokens');
      const tokens: number[] = [];
      for (let i = 0; i < 9; i++) {
        const lock = lockers[i % 3] as Lock;
        const grant = await lock.acquire(name, { ttlMs: ttl() });
        tokens.push(grant.token as number);
        await lock.release(grant);
      }
      for (let i = 1; i < tokens.length; i++) expect(tokens[i]).toBeGreaterThan(tokens[i - 1] as number);
    });

    it('contending clients never overlap, and every one gets its turn', async () => {
      const lockers = await Promise.all(Array.from({ length: 4 }, () => client()));
      const name = fresh('contend');
      let inside = 0;
      let most = 0;
      const order: number[] = [];
      await Promise.all(
        lockers.map(async (lock, who) => {
          for (let round = 0; round < 3; round++) {
            const grant = await lock.acquire(name, { ttlMs: ttl(), waitMs: 30_000 });
            inside++;
            most = Math.max(most, inside);
            order.push(who);
            await sleep(5);
            inside--;
            await lock.release(grant);
          }
        }),
      );
      expect(most).toBe(1);
      expect(order.length).toBe(12);
    });

    it('serves waiters in arrival order where it says it is FIFO', async () => {
      if (!b.fifo) return;
      const holder = await client();
      const name = fresh('fifo');
      const grant = await holder.acquire(name, { ttlMs: ttl() });
      const served: number[] = [];
      const waiters = await Promise.all(Array.from({ length: 3 }, () => client()));
      const done: Promise<void>[] = [];
      for (const [i, w] of waiters.entries()) {
        done.push(w.acquire(name, { ttlMs: ttl(), waitMs: 30_000 }).then(async (g) => {
          served.push(i);
          await w.release(g);
        }));
        await sleep(150); // each waiter is queued before the next arrives
      }
      await holder.release(grant);
      await Promise.all(done);
      expect(served).toEqual([0, 1, 2]);
    });

    it('gives up after waitMs with LOCK_TIMEOUT, and on its signal with LOCK_ABORTED', async () => {
      const [a, c] = [await client(), await client()];
      const name = fresh('wait');
      const grant = await a.acquire(name, { ttlMs: ttl() * 3 });
      await expect(c.acquire(name, { ttlMs: ttl(), waitMs: 300 })).rejects.toSatisfy((e) => isLockError(e, 'LOCK_TIMEOUT'));
      const abort = new AbortController();
      const waiting = c.acquire(name, { ttlMs: ttl(), signal: abort.signal });
      setTimeout(() => abort.abort(), 200);
      await expect(waiting).rejects.toSatisfy((e) => isLockError(e, 'LOCK_ABORTED'));
      // the aborted waiter left nothing behind: the next one gets the lock as soon as it is free
      await a.release(grant);
      const next = await c.acquire(name, { ttlMs: ttl(), waitMs: 5000 });
      await c.release(next);
    });

    it('a lease that is not extended expires, and the lock goes to the next one; the old grant is then lost', async () => {
      const [a, c] = [await client(), await client()];
      const name = fresh('expire');
      const short = b.minTtlMs;
      const old = await a.acquire(name, { ttlMs: short });
      const next = await c.acquire(name, { ttlMs: ttl(), waitMs: short * 5 + 10_000 });
      if (b.fencing) expect(next.token as number).toBeGreaterThan(old.token as number);
      await expect(a.extend(old)).rejects.toSatisfy((e) => isLockError(e, 'LEASE_LOST'));
      await expect(a.release(old)).rejects.toSatisfy((e) => isLockError(e, 'LEASE_LOST'));
      await c.release(next);
    });

    it('extend keeps a lock past its TTL and moves leaseExpiresAt on', async () => {
      const [a, c] = [await client(), await client()];
      const name = fresh('extend');
      const short = b.minTtlMs;
      let grant = await a.acquire(name, { ttlMs: short });
      for (let i = 0; i < 3; i++) {
        await sleep(short / 3);
        const before = grant.leaseExpiresAt;
        grant = await a.extend(grant);
        expect(grant.leaseExpiresAt).toBeGreaterThanOrEqual(before);
      }
      expect(await c.tryAcquire(name, { ttlMs: ttl() })).toBeNull();
      await a.release(grant);
    });

    it('using() holds the lock for the function, keeps it alive past the TTL and releases it', async () => {
      const [a, c] = [await client(), await client()];
      const name = fresh('using');
      const short = b.minTtlMs;
      const result = await a.using(name, { ttlMs: short }, async (grant, signal) => {
        await sleep(short * 1.5);
        expect(signal.aborted).toBe(false);
        expect(await c.tryAcquire(name, { ttlMs: ttl() })).toBeNull();
        return grant.name;
      });
      expect(result).toBe(name);
      const after = await c.tryAcquire(name, { ttlMs: ttl() });
      expect(after).not.toBeNull();
      await c.release(after!);
    });

    it('using() releases when the function throws, and passes the error on', async () => {
      const [a, c] = [await client(), await client()];
      const name = fresh('throws');
      await expect(a.using(name, { ttlMs: ttl() }, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
      const after = await c.tryAcquire(name, { ttlMs: ttl() });
      expect(after).not.toBeNull();
      await c.release(after!);
    });

    it('refuses bad arguments with BAD_REQUEST', async () => {
      const lock = await client();
      await expect(lock.acquire('', { ttlMs: ttl() })).rejects.toSatisfy((e) => isLockError(e, 'BAD_REQUEST'));
      await expect(lock.acquire(fresh('bad'), { ttlMs: 0 })).rejects.toSatisfy((e) => isLockError(e, 'BAD_REQUEST'));
      await expect(lock.acquire(fresh('bad'), { ttlMs: Number.NaN })).rejects.toSatisfy((e) => isLockError(e, 'BAD_REQUEST'));
      await expect(lock.acquire(fresh('bad'), { ttlMs: ttl(), waitMs: -1 })).rejects.toSatisfy((e) => isLockError(e, 'BAD_REQUEST'));
    });
  });
}
