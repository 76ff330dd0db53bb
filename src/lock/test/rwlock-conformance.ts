// The read-write lock conformance suite: the same tests against every backend's ReadWriteLock,
// run by each backend's test file.
import { describe, expect, it } from 'vitest';
import type { ReadWriteLock } from '../api.js';
import { isLockError } from '../errors.js';
import { freshName, sleep, stillPending, useBackendClients } from './helpers.js';

export interface RwLockBackendUnderTest {
  /** A fresh client of the backend. */
  newRwLock(): Promise<ReadWriteLock>;
  readonly fencing: boolean;
  readonly minTtlMs: number;
  stop(): Promise<void>;
}

export function describeRwLockConformance(backend: string, start: () => Promise<RwLockBackendUnderTest>, timeoutMs = 60_000): void {
  describe(`read-write lock conformance: ${backend}`, { timeout: timeoutMs }, () => {
    let b!: RwLockBackendUnderTest;
    const { client, ttl } = useBackendClients(async () => (b = await start()), (backend) => backend.newRwLock(), timeoutMs);

    it('readers share the lock; a writer waits for them and then excludes everyone', async () => {
      const [r1, r2, w, other] = [await client(), await client(), await client(), await client()];
      expect(r1.backend).toBe(backend);
      const name = freshName('share');
      const a = await r1.acquireRead(name, { ttlMs: ttl() });
      const c = await r2.acquireRead(name, { ttlMs: ttl(), waitMs: 0 });
      const writing = w.acquireWrite(name, { ttlMs: ttl(), waitMs: 30_000 });
      expect(await stillPending(writing, 300)).toBe(true);
      await r1.release(a);
      expect(await stillPending(writing, 200)).toBe(true);
      await r2.release(c);
      const write = await writing;
      await expect(other.acquireRead(name, { ttlMs: ttl(), waitMs: 0 })).rejects.toSatisfy((e) => isLockError(e, 'LOCK_TIMEOUT'));
      await expect(other.acquireWrite(name, { ttlMs: ttl(), waitMs: 0 })).rejects.toSatisfy((e) => isLockError(e, 'LOCK_TIMEOUT'));
      await w.release(write);
      const after = await other.acquireRead(name, { ttlMs: ttl(), waitMs: 0 });
      await other.release(after);
    });

    it('a waiting writer holds back readers that come after it (writers are not starved)', async () => {
      const [r1, w, r2] = [await client(), await client(), await client()];
      const name = freshName('nostarve');
      const first = await r1.acquireRead(name, { ttlMs: ttl() });
      const writing = w.acquireWrite(name, { ttlMs: ttl(), waitMs: 30_000 });
      await sleep(200); // the writer is in line
      await expect(r2.acquireRead(name, { ttlMs: ttl(), waitMs: 300 })).rejects.toSatisfy((e) => isLockError(e, 'LOCK_TIMEOUT'));
      const reading = r2.acquireRead(name, { ttlMs: ttl(), waitMs: 30_000 });
      await r1.release(first);
      const write = await writing;
      expect(await stillPending(reading, 200)).toBe(true);
      await w.release(write);
      const read = await reading;
      if (b.fencing) expect(read.token as number).toBeGreaterThan(write.token as number);
      await r2.release(read);
    });

    it('under contention a writer is never inside with anyone else, and every one gets its turn', async () => {
      const lockers = await Promise.all(Array.from({ length: 5 }, () => client()));
      const name = freshName('contend');
      let readers = 0;
      let writers = 0;
      let overlap = false;
      let turns = 0;
      await Promise.all(
        lockers.map(async (l, who) => {
          for (let round = 0; round < 3; round++) {
            const write = (who + round) % 3 === 0;
            const grant = write ? await l.acquireWrite(name, { ttlMs: ttl(), waitMs: 30_000 }) : await l.acquireRead(name, { ttlMs: ttl(), waitMs: 30_000 });
            if (write) writers++;
            else readers++;
            if (writers > 1 || (writers === 1 && readers > 0)) overlap = true;
            turns++;
            await sleep(5);
            if (write) writers--;
            else readers--;
            await l.release(grant);
          }
        }),
      );
      expect(overlap).toBe(false);
      expect(turns).toBe(15);
    });

    it('fencing tokens strictly increase across write grants', async () => {
      if (!b.fencing) return;
      const [a, c] = [await client(), await client()];
      const name = freshName('tokens');
      const tokens: number[] = [];
      for (let i = 0; i < 6; i++) {
        const l = i % 2 === 0 ? a : c;
        const grant = await l.acquireWrite(name, { ttlMs: ttl() });
        tokens.push(grant.token as number);
        await l.release(grant);
      }
      for (let i = 1; i < tokens.length; i++) expect(tokens[i]).toBeGreaterThan(tokens[i - 1] as number);
    });

    it("a writer's lease that is not extended expires and the readers waiting go in; the old grant is lost", async () => {
      const [w, r] = [await client(), await client()];
      const name = freshName('expire');
      const old = await w.acquireWrite(name, { ttlMs: b.minTtlMs });
      const read = await r.acquireRead(name, { ttlMs: ttl(), waitMs: b.minTtlMs * 5 + 10_000 });
      if (b.fencing) expect(read.token as number).toBeGreaterThan(old.token as number);
      await expect(w.extend(old)).rejects.toSatisfy((e) => isLockError(e, 'LEASE_LOST'));
      await expect(w.release(old)).rejects.toSatisfy((e) => isLockError(e, 'LEASE_LOST'));
      await r.release(read);
    });

    it('refuses bad arguments with BAD_REQUEST', async () => {
      const l = await client();
      await expect(l.acquireRead('', { ttlMs: ttl() })).rejects.toSatisfy((e) => isLockError(e, 'BAD_REQUEST'));
      await expect(l.acquireWrite('', { ttlMs: ttl() })).rejects.toSatisfy((e) => isLockError(e, 'BAD_REQUEST'));
      await expect(l.acquireWrite(freshName('bad'), { ttlMs: -5 })).rejects.toSatisfy((e) => isLockError(e, 'BAD_REQUEST'));
    });
  });
}
