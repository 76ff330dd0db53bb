import { describe, expect, it } from 'vitest';
import { NO_CONTACT_TICKS, RaftTimers } from './timers.js';

const OPTS = { electionTimeoutMinTicks: 10, electionTimeoutMaxTicks: 14, heartbeatTicks: 3 };

/** A stream that returns `values` in turn (then 0). */
function stream(...values: number[]): () => number {
  let k = 0;
  return () => values[k++] ?? 0;
}

/** Ticks `timers` as a follower until its election timeout fires; the number of ticks it took. */
function ticksToFire(timers: RaftTimers): number {
  for (let n = 1; n <= 100; n++) if (timers.tickElection()) return n;
  throw new Error('the election timeout did not fire in 100 ticks');
}

describe('RaftTimers: election', () => {
  it('draws each election timeout uniformly from [min, max] with the stream given', () => {
    const t = new RaftTimers(OPTS, stream(0, 0.999, 0.5), false);
    expect(t.electionTimeoutTicks).toBe(10);
    t.resetElection();
    expect(t.electionTimeoutTicks).toBe(14);
    t.resetElection();
    expect(t.electionTimeoutTicks).toBe(12);
  });

  it('fires once the timeout has elapsed, and then waits anew with a new draw', () => {
    const t = new RaftTimers(OPTS, stream(0.3, 0.9), false); // 11, then 14
    expect(ticksToFire(t)).toBe(11);
    expect([t.electionElapsedTicks, t.electionTimeoutTicks]).toEqual([0, 14]);
    expect(ticksToFire(t)).toBe(14);
  });

  it('restarts the wait without a new draw when the leader is heard from', () => {
    const t = new RaftTimers(OPTS, stream(0.3, 0.9), false);
    for (let n = 0; n < 8; n++) t.tickElection();
    t.followLeader();
    expect([t.electionElapsedTicks, t.electionTimeoutTicks]).toEqual([0, 11]);
    expect(ticksToFire(t)).toBe(11);
  });
});

describe('RaftTimers: contact with a leader', () => {
  it('counts ticks since a leader was heard from, and none while out of contact', () => {
    const t = new RaftTimers(OPTS, stream(), false);
    expect(t.leaderContactTicks).toBe(NO_CONTACT_TICKS);
    t.tickElection();
    expect([t.leaderContactTicks, t.recentlyHeardFromLeader()]).toEqual([NO_CONTACT_TICKS, false]);
    t.heardFromLeader();
    for (let n = 0; n < 9; n++) t.tickElection();
    expect([t.leaderContactTicks, t.recentlyHeardFromLeader()]).toEqual([9, true]);
    t.tickElection();
    expect([t.leaderContactTicks, t.recentlyHeardFromLeader()]).toEqual([10, false]);
    t.loseLeader();
    expect(t.leaderContactTicks).toBe(NO_CONTACT_TICKS);
  });

  it('can start as if a leader was just heard from (a reboot in lease mode)', () => {
    expect(new RaftTimers(OPTS, stream(), true).recentlyHeardFromLeader()).toBe(true);
  });
});

describe('RaftTimers: leader intervals', () => {
  it('makes heartbeats due every heartbeatTicks and a check-quorum every minimum election timeout, from when leadership starts', () => {
    const t = new RaftTimers(OPTS, stream(), false);
    t.heartbeatDue();
    t.checkQuorumDue();
    t.startLeading();
    expect(t.leaderContactTicks).toBe(0);
    const heartbeats: number[] = [];
    const checks: number[] = [];
    for (let n = 1; n <= 20; n++) {
      if (t.heartbeatDue()) heartbeats.push(n);
      if (t.checkQuorumDue()) checks.push(n);
    }
    expect(heartbeats).toEqual([3, 6, 9, 12, 15, 18]);
    expect(checks).toEqual([10, 20]);
  });
});
