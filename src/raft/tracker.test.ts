import { describe, expect, it } from 'vitest';
import { makeMembership } from './membership.js';
import type { Progress } from './progress.js';
import { ProgressTracker, type SyncPoint } from './tracker.js';

const at = (configIndex: number, nextIndex = 11, nowTick = 0, departDeadlineTick = 100): SyncPoint => ({ configIndex, nextIndex, nowTick, departDeadlineTick });

/** A tracker of leader `a` synced to voters a, b, c (and learners, if given). */
function trackerOf(voters = ['a', 'b', 'c'], learners: string[] = []): ProgressTracker {
  const t = new ProgressTracker('a');
  t.sync(makeMembership(voters, learners), at(1));
  return t;
}

const tracked = (t: ProgressTracker): string[] => [...t.entries()].map(([peer]) => peer);

function progressOf(t: ProgressTracker, peer: string): Progress {
  const pr = t.get(peer);
  if (pr === undefined) throw new Error(`${peer} is not tracked`);
  return pr;
}

describe('ProgressTracker: who is tracked', () => {
  it('tracks every member but the leader itself, learners included, from the next index', () => {
    const t = trackerOf(['a', 'b', 'c'], ['l']);
    expect(tracked(t)).toEqual(['b', 'c', 'l']);
    expect(t.get('a')).toBeUndefined();
    expect([t.get('b')?.next, t.get('b')?.match, t.get('b')?.state]).toEqual([11, 0, 'probe']);
  });

  it('keeps the progress of nodes still in the configuration when it changes', () => {
    const t = trackerOf();
    progressOf(t, 'b').match = 7;
    t.sync(makeMembership(['a', 'b', 'c'], ['l']), at(12, 20, 5));
    expect(t.get('b')?.match).toBe(7);
    expect([t.get('l')?.next, t.get('l')?.lastProgressTick]).toEqual([20, 5]);
  });

  it('keeps informing a removed node until it acknowledges a heartbeat telling it the removal is committed', () => {
    const t = trackerOf();
    t.sync(makeMembership(['a', 'b']), at(12));
    expect(tracked(t)).toEqual(['b', 'c']); // c departs but is still sent the log
    t.heartbeatSent('c', 11, 1); // does not cover the removal at 12
    expect(t.forgetIfDeparted('c', 1)).toBe(false);
    t.heartbeatSent('c', 12, 2);
    expect(t.forgetIfDeparted('c', 1)).toBe(false); // an older round proves nothing
    expect(t.forgetIfDeparted('b', 2)).toBe(false); // b is not departing
    expect(t.forgetIfDeparted('c', 2)).toBe(true);
    expect(tracked(t)).toEqual(['b']);
  });

  it('drops a departing node that never answers at its deadline, and only then', () => {
    const t = trackerOf();
    t.sync(makeMembership(['a', 'b']), at(12, 13, 0, 50));
    t.dropOverdue(49);
    expect(tracked(t)).toEqual(['b', 'c']);
    t.dropOverdue(50);
    expect(tracked(t)).toEqual(['b']);
  });

  it('starts afresh with a removed node added back (it may be a new data directory)', () => {
    const t = trackerOf();
    progressOf(t, 'c').match = 9;
    t.sync(makeMembership(['a', 'b']), at(12));
    t.sync(makeMembership(['a', 'b'], ['c']), at(13, 14, 3));
    expect([t.get('c')?.match, t.get('c')?.next]).toEqual([0, 14]);
    t.dropOverdue(1000); // no longer departing
    expect(tracked(t)).toEqual(['b', 'c']);
  });

  it('tracks nobody once cleared', () => {
    const t = trackerOf();
    t.sync(makeMembership(['a', 'b']), at(12));
    t.clear();
    expect(tracked(t)).toEqual([]);
    t.sync(makeMembership(['a', 'b']), at(12));
    expect(tracked(t)).toEqual(['b']); // c is not departing any more
  });
});

describe('ProgressTracker: quorum questions', () => {
  it('commits what a quorum holds, counting the leader only as far as its log is durable', () => {
    const t = trackerOf(['a', 'b', 'c', 'd', 'e'], ['l']);
    const config = makeMembership(['a', 'b', 'c', 'd', 'e'], ['l']);
    const match = { b: 8, c: 5, d: 3, e: 0, l: 20 };
    for (const [peer, m] of Object.entries(match)) progressOf(t, peer).match = m;
    expect(t.committable(config, 10)).toBe(5); // a 10, b 8, c 5 (a learner never counts)
    expect(t.committable(config, 4)).toBe(4); // b 8, c 5, a 4
    expect(t.committable(config, 0)).toBe(3);
    expect(t.committable(makeMembership([]), 10)).toBe(0);
  });

  it('knows whether a quorum was heard from since the last reset, the leader always counting', () => {
    const t = trackerOf();
    const config = makeMembership(['a', 'b', 'c']);
    expect(t.quorumActive(config)).toBe(true); // new progress counts as active
    t.resetActivity();
    expect(t.quorumActive(config)).toBe(false);
    progressOf(t, 'c').recentActive = true;
    expect(t.quorumActive(config)).toBe(true);
  });

  it('confirms a round once a quorum acknowledged it or a later one', () => {
    const t = trackerOf();
    const config = makeMembership(['a', 'b', 'c']);
    expect(t.quorumAcked(config, 1)).toBe(false);
    progressOf(t, 'b').ackedRound = 3;
    expect(t.quorumAcked(config, 3)).toBe(true);
    expect(t.quorumAcked(config, 4)).toBe(false);
  });

  it('dates a lease from the latest send time a quorum acknowledged, the leader counting as now', () => {
    const t = trackerOf();
    const config = makeMembership(['a', 'b', 'c']);
    const sentAtMs = (round: number): number => (round === 0 ? -Infinity : round * 100);
    expect(t.quorumAckedSentAtMs(config, 1000, sentAtMs)).toBe(-Infinity);
    progressOf(t, 'b').ackedRound = 2;
    progressOf(t, 'c').ackedRound = 5;
    expect(t.quorumAckedSentAtMs(config, 1000, sentAtMs)).toBe(500);
    expect(t.quorumAckedSentAtMs(makeMembership(['a']), 1000, sentAtMs)).toBe(1000);
  });
});
