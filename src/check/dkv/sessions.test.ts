// The session-guarantee checker on hand-built histories: each guarantee broken by the client's own
// op (session part) and, for the write guarantees, by what another client's read shows (store part).
import { describe, expect, it } from 'vitest';
import { joinVv, type DkvCheckedOp, type DkvReadOpWithDots } from './causal.js';
import type { DkvWriteOp } from './history.js';
import { checkDkvSessions, type DkvSessionGuarantee } from './sessions.js';

type Pair = readonly [string, number];

function put(client: string, key: string, value: string | null, [startMs, endMs]: readonly [number, number], dot: Pair | null, contextIn: readonly Pair[] = [], outcome: DkvWriteOp['outcome'] = 'ok'): DkvWriteOp {
  const acked = outcome === 'ok' && dot !== null;
  return { kind: 'write', client, key, value, contextIn, startMs, endMs, outcome, dot: acked ? { actor: dot[0], counter: dot[1] } : null, contextOut: acked ? joinVv(contextIn, [dot]) : null };
}

function get(client: string, key: string, [startMs, endMs]: readonly [number, number], values: readonly string[], context: readonly Pair[]): DkvReadOpWithDots {
  return { kind: 'read', client, key, startMs, endMs, outcome: 'ok', values, context };
}

function found(ops: readonly DkvCheckedOp[]): [DkvSessionGuarantee, 'session' | 'store', number, number, number | null][] {
  return checkDkvSessions({ ops }).violations.map((v) => [v.guarantee, v.part, v.earlier, v.later, v.witness]);
}

describe('checkDkvSessions', () => {
  it('passes a client that reads its writes, reads monotonically and writes with its latest context', () => {
    const ops = [
      put('c0', 'k', 'a', [0, 10], ['n1', 1]),
      get('c0', 'k', [20, 30], ['a'], [['n1', 1]]),
      put('c1', 'k', 'b', [25, 35], ['n2', 1], [['n1', 1]]),
      get('c0', 'k', [40, 50], ['b'], [['n1', 1], ['n2', 1]]),
      put('c0', 'k', 'c', [60, 70], ['n1', 2], [['n1', 1], ['n2', 1]]),
      put('c0', 'k', 'd', [80, 90], ['n3', 1], [['n1', 2], ['n2', 1]]),
      get('c1', 'k', [100, 110], ['d'], [['n1', 2], ['n2', 1], ['n3', 1]]),
    ];
    const result = checkDkvSessions({ ops });
    expect(result.violations).toEqual([]);
    expect(result.ok).toBe(true);
    // c0's first write had no context: blind, like any first write of a key
    expect(result).toMatchObject({ sessions: 2, readsChecked: 3, writesChecked: 4, blindWrites: 1 });
  });

  describe('read-your-writes', () => {
    it('finds a read that misses its client\'s acknowledged write', () => {
      const ops = [put('c0', 'k', 'a', [0, 10], ['n1', 1]), get('c0', 'k', [20, 30], [], [])];
      expect(found(ops)).toEqual([['read-your-writes', 'session', 0, 1, null]]);
      expect(checkDkvSessions({ ops }).counts['read-your-writes']).toEqual({ session: 1, store: 0 });
    });

    it('asks nothing of writes not acknowledged, still running, by other clients or of other keys', () => {
      expect(found([put('c0', 'k', 'a', [0, 10], null, [], 'unknown'), get('c0', 'k', [20, 30], [], [])])).toEqual([]);
      expect(found([put('c0', 'k', 'a', [0, 25], ['n1', 1]), get('c0', 'k', [20, 30], [], [])])).toEqual([]);
      expect(found([put('c1', 'k', 'a', [0, 10], ['n1', 1]), get('c0', 'k', [20, 30], [], [])])).toEqual([]);
      expect(found([put('c0', 'k', 'a', [0, 10], ['n1', 1]), get('c0', 'other', [20, 30], [], [])])).toEqual([]);
    });

    it('names the missed write when the read saw an older one of the same actor', () => {
      const ops = [put('c0', 'k', 'a', [0, 10], ['n1', 1]), put('c0', 'k', 'b', [20, 30], ['n1', 2], [['n1', 1]]), get('c0', 'k', [40, 50], ['a'], [['n1', 1]])];
      expect(found(ops)).toEqual([['read-your-writes', 'session', 1, 2, null]]);
    });
  });

  describe('monotonic reads', () => {
    it('finds a read that covers less than an earlier read of the same key by the same client', () => {
      const ops = [put('c1', 'k', 'a', [0, 10], ['n1', 1]), get('c0', 'k', [20, 30], ['a'], [['n1', 1]]), get('c0', 'k', [40, 50], [], [])];
      expect(found(ops)).toEqual([['monotonic-reads', 'session', 1, 2, null]]);
    });

    it('is per key and per client', () => {
      expect(found([put('c1', 'k', 'a', [0, 10], ['n1', 1]), get('c0', 'k', [20, 30], ['a'], [['n1', 1]]), get('c0', 'j', [40, 50], [], [])])).toEqual([]);
      expect(found([put('c1', 'k', 'a', [0, 10], ['n1', 1]), get('c0', 'k', [20, 30], ['a'], [['n1', 1]]), get('c2', 'k', [40, 50], [], [])])).toEqual([]);
    });

    it('does not order overlapping reads', () => {
      expect(found([put('c1', 'k', 'a', [0, 10], ['n1', 1]), get('c0', 'k', [20, 45], ['a'], [['n1', 1]]), get('c0', 'k', [40, 50], [], [])])).toEqual([]);
    });
  });

  describe('monotonic writes', () => {
    it('finds a write sent with a context that does not cover the client\'s earlier acknowledged write', () => {
      const ops = [put('c1', 'k', 'x', [0, 5], ['n2', 1]), put('c0', 'k', 'a', [10, 20], ['n1', 1]), put('c0', 'k', 'b', [30, 40], ['n3', 1], [['n2', 1]])];
      expect(found(ops)).toEqual([['monotonic-writes', 'session', 1, 2, null]]);
    });

    it('exempts a blind write, and orders later writes after it only', () => {
      const ops = [put('c0', 'k', 'a', [0, 10], ['n1', 1]), put('c0', 'k', 'b', [20, 30], ['n2', 1]), put('c0', 'k', 'c', [40, 50], ['n3', 1], [['n2', 1]])];
      const result = checkDkvSessions({ ops });
      expect(result.violations).toEqual([]);
      expect(result.blindWrites).toBe(2);
    });

    it('finds a read that shows the later write without the earlier one it was ordered after', () => {
      const ops = [put('c0', 'k', 'a', [0, 10], ['n1', 1]), put('c0', 'k', 'b', [20, 30], ['n2', 1], [['n1', 1]]), get('c1', 'k', [40, 50], ['b'], [['n2', 1]])];
      expect(found(ops)).toEqual([['monotonic-writes', 'store', 0, 1, 2]]);
    });

    it('finds a read that shows the later write and still returns the earlier one it replaced', () => {
      // b replaced a (its context covered a), yet a read that saw b returns a: a came back, e.g. applied a second time
      const ops = [put('c0', 'k', 'a', [0, 10], ['n1', 1]), put('c0', 'k', 'b', [20, 30], ['n2', 1], [['n1', 1]]), get('c1', 'k', [40, 50], ['a', 'b'], [['n1', 1], ['n2', 1], ['n3', 1]])];
      expect(found(ops)).toEqual([['monotonic-writes', 'store', 0, 1, 2]]);
      // another client's later write replacing a is not this session's order
      const other = [put('c0', 'k', 'a', [0, 10], ['n1', 1]), put('c2', 'k', 'b', [20, 30], ['n2', 1], [['n1', 1]]), get('c1', 'k', [40, 50], ['a', 'b'], [['n1', 1], ['n2', 1], ['n3', 1]])];
      expect(found(other)).toEqual([]);
    });

    it('finds it by value too, when the later write\'s answer was lost', () => {
      const ops = [put('c0', 'k', 'a', [0, 10], ['n1', 1]), put('c0', 'k', 'b', [20, 30], null, [['n1', 1]], 'unknown'), get('c1', 'k', [40, 50], ['b'], [['n2', 7]])];
      expect(found(ops)).toEqual([['monotonic-writes', 'store', 0, 1, 2]]);
    });
  });

  describe('writes-follow-reads', () => {
    it('finds a write sent with a context that does not cover what the client\'s earlier read saw', () => {
      const ops = [put('c1', 'k', 'x', [0, 10], ['n1', 1]), put('c2', 'k', 'y', [0, 10], ['n2', 1]), get('c0', 'k', [20, 30], ['x'], [['n1', 1]]), put('c0', 'k', 'a', [40, 50], ['n3', 1], [['n2', 1]])];
      expect(found(ops)).toEqual([['writes-follow-reads', 'session', 2, 3, null]]);
    });

    it('finds a read that shows the write without what the writer\'s earlier read had seen', () => {
      const ops = [put('c1', 'k', 'x', [0, 10], ['n1', 1]), get('c0', 'k', [20, 30], ['x'], [['n1', 1]]), put('c0', 'k', 'a', [40, 50], ['n2', 1], [['n1', 1]]), get('c2', 'k', [60, 70], ['a'], [['n2', 1]])];
      expect(found(ops)).toEqual([['writes-follow-reads', 'store', 1, 2, 3]]);
    });

    it('asks nothing of a blind write', () => {
      expect(found([put('c1', 'k', 'x', [0, 10], ['n1', 1]), get('c0', 'k', [20, 30], ['x'], [['n1', 1]]), put('c0', 'k', 'a', [40, 50], ['n2', 1])])).toEqual([]);
    });
  });

  it('lists at most 50 violations per guarantee and part, and counts them all', () => {
    const ops: DkvCheckedOp[] = [put('c0', 'k', 'a', [0, 1], ['n1', 1])];
    for (let i = 0; i < 60; i++) ops.push(get('c0', 'k', [10 + 2 * i, 11 + 2 * i], [], []));
    const result = checkDkvSessions({ ops });
    expect(result.counts['read-your-writes'].session).toBe(60);
    expect(result.violations).toHaveLength(50);
    expect(result.ok).toBe(false);
  });

  it('skips collected keys', () => {
    const ops = [put('c0', 'k', 'a', [0, 10], ['n1', 1]), get('c0', 'k', [20, 30], [], [])];
    const result = checkDkvSessions({ ops, collected: new Set(['k']) });
    expect(result.ok).toBe(true);
    expect(result.skippedOps).toBe(2);
  });
});
