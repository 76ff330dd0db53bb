import { describe, expect, it } from 'vitest';
import { LeaderLease, ReadQueue } from './read-queue.js';

describe('ReadQueue', () => {
  it('asks for a round for the first unconfirmed read, and batches the next ones behind it', () => {
    const q = new ReadQueue<string>();
    expect(q.add('r1', 'a', 0, 5, false)).toBe(true);
    q.assignRound(1);
    // round 1 is in flight: r2 arrived after it started, so it waits for round 2
    expect(q.add('r2', 'b', 0, 6, false)).toBe(false);
    expect(q.add('r3', 'c', 0, 6, false)).toBe(false);
    expect(q.size).toBe(3);
    // a quorum acknowledged round 1: r1 is confirmed, and the others need a new round
    expect(q.confirm((round) => round <= 1)).toBe(true);
    expect(q.takeServable(10).map((r) => r.requestId)).toEqual(['r1']);
    q.assignRound(2);
    expect(q.confirm((round) => round <= 1)).toBe(false);
    expect(q.takeServable(10)).toEqual([]);
    expect(q.confirm((round) => round <= 2)).toBe(false);
    expect(q.takeServable(10).map((r) => r.requestId)).toEqual(['r2', 'r3']);
    expect(q.size).toBe(0);
  });

  it('serves a confirmed read only once its read index is applied', () => {
    const q = new ReadQueue<string>();
    expect(q.add('r1', 'a', 0, 7, true)).toBe(false);
    expect(q.add('r2', 'b', 0, 3, true)).toBe(false);
    expect(q.takeServable(5).map((r) => [r.requestId, r.op, r.readIndex])).toEqual([['r2', 'b', 3]]);
    expect(q.takeServable(7).map((r) => r.requestId)).toEqual(['r1']);
  });

  it('a round acknowledged while nothing waits asks for no new one', () => {
    const q = new ReadQueue<string>();
    q.add('r1', 'a', 0, 1, false);
    q.assignRound(4);
    expect(q.confirm(() => true)).toBe(false);
    // with no round in flight, the next read asks for one again
    expect(q.add('r2', 'a', 0, 1, false)).toBe(true);
  });

  it('assigning a round with nobody waiting leaves no round in flight', () => {
    const q = new ReadQueue<string>();
    q.add('r1', 'a', 0, 1, true);
    q.assignRound(3);
    expect(q.add('r2', 'a', 0, 1, false)).toBe(true);
  });

  it('defers reads until the term has a committed entry, keeping their start tick', () => {
    const q = new ReadQueue<string>();
    q.defer('d1', 'x', 4);
    q.defer('d2', 'y', 6);
    expect(q.size).toBe(2);
    expect(q.takeDeferred()).toEqual([
      { requestId: 'd1', op: 'x', startedTick: 4 },
      { requestId: 'd2', op: 'y', startedTick: 6 },
    ]);
    expect(q.size).toBe(0);
  });

  it('expires reads older than the limit, pending ones first', () => {
    const q = new ReadQueue<string>();
    q.defer('d-old', 'x', 1);
    q.add('p-old', 'x', 2, 1, false);
    q.add('p-new', 'x', 9, 1, false);
    q.defer('d-new', 'x', 9);
    expect(q.expire(12, 5)).toEqual(['p-old', 'd-old']);
    expect(q.size).toBe(2);
  });

  it('clears everything when leadership is lost, and forgets the round in flight', () => {
    const q = new ReadQueue<string>();
    q.add('p1', 'x', 0, 1, false);
    q.assignRound(1);
    q.defer('d1', 'x', 0);
    q.add('p2', 'x', 0, 1, false);
    expect(q.clear()).toEqual(['p1', 'p2', 'd1']);
    expect(q.size).toBe(0);
    expect(q.add('p3', 'x', 0, 1, false)).toBe(true);
  });
});

describe('LeaderLease', () => {
  // minimum election timeout 5 ticks of 100 ms, 10% drift: (5 - 1) * 100 * 0.9 = 360 ms
  const opts = { electionTimeoutMinTicks: 5, tickMs: 100, maxClockDrift: 0.1 };

  it('holds until (min - 1) ticks after the acknowledged send time, shrunk by the drift', () => {
    const lease = new LeaderLease(opts);
    expect(lease.holdsAt(0)).toBe(false);
    lease.extend(1000);
    expect(lease.holdsAt(1359)).toBe(true);
    expect(lease.holdsAt(1360)).toBe(false);
  });

  it('never shortens, and ends at once', () => {
    const lease = new LeaderLease(opts);
    lease.extend(1000);
    lease.extend(500); // an older round acknowledged late
    expect(lease.holdsAt(1300)).toBe(true);
    lease.extend(-Infinity); // no quorum acknowledged anything yet
    expect(lease.holdsAt(1300)).toBe(true);
    lease.end();
    expect(lease.holdsAt(0)).toBe(false);
  });
});
