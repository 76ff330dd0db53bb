// A few seconds of the randomized real-process run of Synod's own lock (scripts/synod-lock-check.ts)
// with nodes paused and killed: every grant judged against the lock's key history, and the tokens
// in the order the clients got them. Unlike etcd 3.4's, this lock must pass: no violation.
import { describe, expect, it } from 'vitest';
import { checkQueueGrants, type QueueKeyChange } from '../check/lock-safety.js';
import { runSynodLockCheck } from './test/synod-lock-run.js';

describe("Synod's lock under the queue checker, with nodes paused and killed", () => {
  it('grants only a contender that was first in line at the revision it read, with growing tokens', async () => {
    const r = await runSynodLockCheck({ seed: 5, durationMs: 12_000, clients: 4, nodes: 3, basePort: 28640 });
    expect(r.grants.length).toBeGreaterThan(0);
    expect(r.stats.pauses + r.stats.kills).toBeGreaterThan(0);
    expect(r.check.grants).toBe(r.grants.length);
    expect(r.check.violations).toEqual([]);
    expect(r.tokenRegressions).toBe(0);

    // the history was read whole: every granted key was put, each delete follows a put of its key
    const puts = new Set(r.changes.filter((c) => c.type === 'put').map((c) => c.key));
    for (const g of r.grants) expect(puts.has(g.key), `no put of ${g.key} in the history`).toBe(true);
    const deleted = r.changes.filter((c) => c.type === 'delete');
    expect(deleted.length).toBeGreaterThan(0);
    for (const d of deleted) expect(r.changes.some((c) => c.type === 'put' && c.key === d.key && c.revision < d.revision)).toBe(true);
    for (let i = 1; i < r.changes.length; i++) expect((r.changes[i] as QueueKeyChange).revision).toBeGreaterThanOrEqual((r.changes[i - 1] as QueueKeyChange).revision);

    // the checker is not blind here: a copy of the history with a grant's key deleted at its revision is reported
    const first = r.grants[0];
    if (first === undefined) return;
    const corrupted: QueueKeyChange[] = [...r.changes, { key: first.key, revision: first.revision, type: 'delete' }];
    expect(checkQueueGrants(corrupted, [first]).violations[0]?.kind).toBe('granted-after-own-key-deleted');
  }, 120_000);
});
