import { describe, expect, it } from 'vitest';
import { Progress } from './progress.js';
import type { SnapshotMeta } from './types.js';

const meta: SnapshotMeta = { index: 50, term: 3, config: { voters: ['a'], learners: [] } };

describe('Progress', () => {
  it('probes one append at a time, then pipelines once the position is found', () => {
    const pr = new Progress(11, 0);
    expect(pr.state).toBe('probe');
    pr.sentProbe(3);
    expect([pr.probeSent, pr.lastSendTick]).toEqual([true, 3]);
    expect(pr.appendAcked(10, 4)).toBe(true);
    expect([pr.state, pr.match, pr.next, pr.probeSent]).toEqual(['replicate', 10, 11, false]);
    pr.sentAppend(12, 5);
    pr.sentAppend(15, 5);
    expect([pr.inflight, pr.next]).toEqual([[12, 15], 16]);
    expect(pr.appendAcked(12, 6)).toBe(true);
    expect(pr.inflight).toEqual([15]);
    // a late answer moves nothing
    expect(pr.appendAcked(11, 7)).toBe(false);
    expect(pr.match).toBe(12);
  });

  it('tells current rejections from stale ones', () => {
    const pr = new Progress(11, 0);
    expect(pr.isCurrentRejection(10)).toBe(true);
    expect(pr.isCurrentRejection(9)).toBe(false);
    pr.appendAcked(10, 1);
    expect(pr.isCurrentRejection(10)).toBe(false);
    expect(pr.isCurrentRejection(12)).toBe(true);
    pr.becomeSnapshot({ meta, text: 'x', offset: 0 });
    expect(pr.isCurrentRejection(12)).toBe(false);
  });

  it('sends a snapshot chunk by chunk, and probes from past it once installed', () => {
    const pr = new Progress(1, 0);
    pr.becomeSnapshot({ meta, text: 'abcdef', offset: 0 });
    expect(pr.snapshotAcked(49, 3, 1)).toBe(false); // another snapshot
    expect(pr.snapshotAcked(50, 3, 2)).toBe(true);
    expect([pr.snapshot?.offset, pr.lastProgressTick]).toEqual([3, 2]);
    expect(pr.snapshotAcked(50, 99, 3)).toBe(true);
    expect(pr.snapshot?.offset).toBe(6);
    expect(pr.snapshotInstalled(50, 4)).toBe(true);
    expect([pr.state, pr.match, pr.next, pr.snapshot]).toEqual(['probe', 50, 51, undefined]);
  });

  it('leaves snapshot state when an append answer shows the follower has the snapshot', () => {
    const pr = new Progress(1, 0);
    pr.becomeSnapshot({ meta, text: 'abc', offset: 0 });
    pr.appendAcked(49, 1);
    expect(pr.state).toBe('snapshot');
    pr.appendAcked(60, 2);
    expect([pr.state, pr.next]).toEqual(['probe', 61]);
  });

  it('knows what to resend when answers stop coming', () => {
    const pr = new Progress(1, 0);
    expect(pr.stalled(100, 10)).toBeNull(); // a probe is resent at heartbeats instead
    pr.appendAcked(0, 0);
    pr.becomeReplicate();
    expect(pr.stalled(100, 10)).toBeNull(); // nothing in flight
    pr.sentAppend(5, 20);
    expect(pr.stalled(29, 10)).toBeNull();
    expect(pr.stalled(30, 10)).toBe('append');
    pr.becomeSnapshot({ meta, text: 'abc', offset: 0 });
    pr.lastSendTick = 40;
    expect(pr.stalled(49, 10)).toBeNull();
    expect(pr.stalled(50, 10)).toBe('snapshot');
  });
});
