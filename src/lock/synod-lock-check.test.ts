// A few seconds of the randomized real-process run of Synod's own lock (scripts/synod-lock-check.ts)
// with nodes paused and killed: every grant judged against the lock's key history, and the tokens
// in the order the clients got them. Unlike etcd 3.4's, this lock must pass: no violation.
import { describe, expect, it } from 'vitest';
import { expectWholeQueueHistory } from './test/helpers.js';
import { runSynodLockCheck } from './test/synod-lock-run.js';

describe("Synod's lock under the queue checker, with nodes paused and killed", () => {
  it('grants only a contender that was first in line at the revision it read, with growing tokens', async () => {
    const r = await runSynodLockCheck({ seed: 5, durationMs: 12_000, clients: 4, nodes: 3 });
    expect(r.grants.length).toBeGreaterThan(0);
    expect(r.stats.pauses + r.stats.kills).toBeGreaterThan(0);
    expect(r.check.grants).toBe(r.grants.length);
    expect(r.check.violations).toEqual([]);
    expect(r.tokenRegressions).toBe(0);

    const first = r.grants[0];
    if (first !== undefined) expectWholeQueueHistory(r.changes, r.grants, first);
  }, 120_000);
});
