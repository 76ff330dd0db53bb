// A few seconds of the randomized etcd 3.4 v3lock run (scripts/etcd-lock-check.ts) on a real
// cluster: it asserts the wiring (grants recorded, the whole key history read, the checker run
// over them and catching a planted fault), never whether etcd itself broke the lock this time.
import { describe, expect, it } from 'vitest';
import { checkQueueGrants, type QueueKeyChange } from '../check/lock-safety.js';
import { expectWholeQueueHistory } from './test/helpers.js';
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

    expect(r.lastRevision).toBeGreaterThan(Math.max(...r.grants.map((g) => g.revision)) - 1);

    // the history was read whole, and a copy in which one sound grant's key is deleted at the grant's revision is reported
    const sound = r.grants.find((g) => checkQueueGrants(r.changes, [g]).ok);
    expect(sound, 'no grant the checker found sound').toBeDefined();
    if (sound === undefined) return;
    expectWholeQueueHistory(r.changes, r.grants, sound);
    const corrupted: QueueKeyChange[] = [...r.changes, { key: sound.key, revision: sound.revision, type: 'delete' }];
    expect(checkQueueGrants(corrupted, r.grants).byKind['granted-after-own-key-deleted']).toBe(r.check.byKind['granted-after-own-key-deleted'] + 1);
  }, 120_000);
});
