// Small helpers the conformance suites share: names unique to a run, sleeps, a deadline for
// waits that must end, and the checks that a lock run read its key history whole.
import { afterAll, beforeAll, expect } from 'vitest';
import { checkQueueGrants, type QueueGrant, type QueueKeyChange } from '../../check/lock-safety.js';

let names = 0;

/** A lock name unique to this run, so tests never see each other's locks. */
export function freshName(what: string): string {
  return `conf-${process.pid}-${Date.now().toString(36)}-${names++}-${what}`;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Whether `promise` is still pending after `ms` (for "it keeps waiting", never for how long something took). */
export async function stillPending(promise: Promise<unknown>, ms: number): Promise<boolean> {
  const pending = Symbol('pending');
  const outcome = await Promise.race([promise.then(() => 'settled', () => 'settled'), sleep(ms).then(() => pending)]);
  return outcome === pending;
}

/**
 * A suite's backend and its clients: starts the backend before the suite's tests, closes every
 * client and stops the backend after them. `client()` opens one more client (several contend in
 * some tests); `ttl()` is the suite's ordinary TTL (the backend's shortest, at least 2 s).
 */
export function useBackendClients<B extends { readonly minTtlMs: number; stop(): Promise<void> }, C extends { close(): Promise<void> }>(start: () => Promise<B>, open: (backend: B) => Promise<C>, timeoutMs: number): { client: () => Promise<C>; ttl: () => number } {
  let backend: B | undefined;
  const clients: C[] = [];
  beforeAll(async () => {
    backend = await start();
  }, timeoutMs);
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await backend?.stop();
  }, timeoutMs);
  const started = (): B => {
    if (backend === undefined) throw new Error('the backend starts in beforeAll');
    return backend;
  };
  return {
    client: async () => {
      const c = await open(started());
      clients.push(c);
      return c;
    },
    ttl: () => Math.max(started().minTtlMs, 2000),
  };
}

/**
 * A randomized lock run's key history was read whole: every granted key was put, there are
 * deletes and each follows a put of its key, revisions only grow; and the checker is not blind
 * to it: a copy with `planted`'s key deleted at its own revision is reported for that grant.
 */
export function expectWholeQueueHistory(changes: readonly QueueKeyChange[], grants: readonly QueueGrant[], planted: QueueGrant): void {
  const puts = new Set(changes.filter((c) => c.type === 'put').map((c) => c.key));
  for (const g of grants) expect(puts.has(g.key), `no put of ${g.key} in the history`).toBe(true);
  const deleted = changes.filter((c) => c.type === 'delete');
  expect(deleted.length).toBeGreaterThan(0);
  for (const d of deleted) expect(changes.some((c) => c.type === 'put' && c.key === d.key && c.revision < d.revision)).toBe(true);
  for (let i = 1; i < changes.length; i++) expect((changes[i] as QueueKeyChange).revision).toBeGreaterThanOrEqual((changes[i - 1] as QueueKeyChange).revision);
  const corrupted: QueueKeyChange[] = [...changes, { key: planted.key, revision: planted.revision, type: 'delete' }];
  expect(checkQueueGrants(corrupted, [planted]).violations[0]?.kind).toBe('granted-after-own-key-deleted');
}
