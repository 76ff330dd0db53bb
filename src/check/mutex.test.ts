// Hand-made lock histories: mutual exclusion, fencing-token order and unknown-outcome grants
// and releases (a lapsed lease).
import { describe, expect, it } from 'vitest';
import { checkHistory } from './checker.js';
import { mutexModel } from './models/mutex.js';
import { historyOf, type OpSpec } from './test/histories.js';

const check = (specs: readonly OpSpec[]) => checkHistory(historyOf(specs), mutexModel).verdict;
const acquire = (p: number, token: number | null, at: readonly [number, number], outcome: OpSpec['outcome'] = 'ok'): OpSpec => ({
  p,
  f: 'acquire',
  output: token,
  at,
  outcome,
});
const release = (p: number, at: readonly [number, number], token: number | null = null): OpSpec => ({
  p,
  f: 'release',
  input: token === null ? null : { token },
  at,
});

describe('mutex linearizability', () => {
  it('accepts grants with rising tokens, one holder at a time', () => {
    expect(check([acquire(1, 1, [0, 1]), release(1, [2, 3], 1), acquire(2, 2, [4, 5]), release(2, [6, 7])])).toBe('linearizable');
  });

  it('flags a lower token granted after a higher one', () => {
    expect(check([acquire(1, 5, [0, 1]), release(1, [2, 3]), acquire(2, 4, [4, 5])])).toBe('not-linearizable');
  });

  it('flags the same token granted twice', () => {
    expect(check([acquire(1, 5, [0, 1]), release(1, [2, 3]), acquire(2, 5, [4, 5])])).toBe('not-linearizable');
  });

  it('orders concurrent grants by their tokens', () => {
    expect(check([acquire(1, 2, [0, 10]), acquire(2, 1, [1, 3]), release(2, [4, 5]), release(1, [11, 12])])).toBe('linearizable');
  });

  it('flags two holders at once', () => {
    expect(check([acquire(1, 1, [0, 1]), acquire(2, 2, [2, 3])])).toBe('not-linearizable');
  });

  it('flags a release by a process that does not hold the lock, or with another token', () => {
    expect(check([acquire(1, 1, [0, 1]), release(2, [2, 3])])).toBe('not-linearizable');
    expect(check([acquire(1, 1, [0, 1]), release(1, [2, 3], 7)])).toBe('not-linearizable');
  });

  it('lets an unknown-outcome acquire hold the lock or not', () => {
    expect(check([acquire(1, null, [0, 1], 'unknown'), acquire(2, 1, [2, 3])])).toBe('linearizable');
    // if p1 got the lock it must have released it before p2 could acquire
    expect(check([acquire(1, null, [0, 1], 'unknown'), release(1, [2, 3]), acquire(2, 1, [4, 5])])).toBe('linearizable');
  });

  it('lets an unknown-outcome release model a lapsed lease', () => {
    const lapsed: OpSpec = { p: 1, f: 'release', at: [2, 3], outcome: 'unknown' };
    expect(check([acquire(1, 1, [0, 1]), lapsed, acquire(2, 2, [4, 5])])).toBe('linearizable');
  });

  it('partitions by lock name', () => {
    const named = (p: number, lock: string, token: number, at: readonly [number, number]): OpSpec => ({
      p,
      f: 'acquire',
      input: { lock },
      output: token,
      at,
    });
    const result = checkHistory(historyOf([named(1, 'a', 1, [0, 1]), named(2, 'b', 1, [2, 3])]), mutexModel);
    expect(result.verdict).toBe('linearizable');
    expect(result.partitions.map((p) => p.key)).toEqual(['a', 'b']);
  });

  it('rejects malformed operations with BAD_OP', () => {
    expect(() => check([{ p: 1, f: 'acquire', output: 'x', at: [0, 1] }])).toThrow(expect.objectContaining({ code: 'BAD_OP' }));
    expect(() => check([{ p: 1, f: 'lock', at: [0, 1] }])).toThrow(expect.objectContaining({ code: 'BAD_OP' }));
  });
});
