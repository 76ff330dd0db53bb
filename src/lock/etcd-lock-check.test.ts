// A few seconds of the randomized etcd 3.4 v3lock run (scripts/etcd-lock-check.ts) on a real
// cluster: it asserts the wiring (grants recorded, the whole key history read, the checker run
// over them and catching a planted fault), never whether etcd itself broke the lock this time.
import { describe, expect, it } from 'vitest';
import { checkQueueGrants, type QueueKeyChange } from '../check/lock-safety.js';
import { runEtcdLockCheck } from './test/etcd-lock-run.js';

describe("etcd 3.4's lock service under the queue checker", () => {
  it('records grants and the lock key history, and the checker judges every grant', async () => {
    const r = await runEtcdLockCheck({ seed: 17, durationMs: 8000, clients: 4, members: 3 });
    expect(r.etcdVersion).toMatch(/^3\./);
    expect(r.grants.length).toBeGreaterThan(0);
    expect(r.check.grants).toBe(r.grants.length);
    const byKind = Object.values(r.check.byKind).reduce((a, b) => a + b, 0);
    expect(byKind).toBe(r.check.violationCount);
    expect(Object.values(r.violationsByMode).reduce((a, b) => a + b, 0)).toBe(r.check.violationCount);

    // the history was read whole: every granted key was put, and revisions only grow along it
    const puts = new Set(r.changes.filter((c) => c.type === 'put').map((c) => c.key));
    for (const g of r.grants) expect(puts.has(g.key), `no put of ${g.key} in the history`).toBe(true);
    // and the deletes (unlocks, revokes, expiries) are there, each of a key put before
    const deleted = r.changes.filter((c) => c.type === 'delete');
    expect(deleted.length).toBeGreaterThan(0);
    for (const d of deleted) expect(r.changes.some((c) => c.type === 'put' && c.key === d.key && c.revision < d.revision)).toBe(true);
    for (let i = 1; i < r.changes.length; i++) expect((r.changes[i] as QueueKeyChange).revision).toBeGreaterThanOrEqual((r.changes[i - 1] as QueueKeyChange).revision);
    expect(r.lastRevision).toBeGreaterThan(Math.max(...r.grants.map((g) => g.revision)) - 1);

    // a copy of the history in which one sound grant's key is deleted at the grant's revision: reported
    const sound = r.grants.find((g) => checkQueueGrants(r.changes, [g]).ok);
    expect(sound, 'no grant the checker found sound').toBeDefined();
    if (sound === undefined) return;
    const corrupted: QueueKeyChange[] = [...r.changes, { key: sound.key, revision: sound.revision, type: 'delete' }];
    const recheck = checkQueueGrants(corrupted, [sound]);
    expect(recheck.ok).toBe(false);
    expect(recheck.violations[0]?.kind).toBe('granted-after-own-key-deleted');
    expect(checkQueueGrants(corrupted, r.grants).byKind['granted-after-own-key-deleted']).toBe(r.check.byKind['granted-after-own-key-deleted'] + 1);
  }, 120_000);
});
