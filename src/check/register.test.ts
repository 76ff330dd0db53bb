// Hand-made register histories: each pins down one rule of the search (real-time order,
// unknown outcomes, failed operations) or of the register model (cas semantics).
import { describe, expect, it } from 'vitest';
import { checkHistory } from './checker.js';
import { registerModel } from './models/register.js';
import { historyOf, type OpSpec } from './test/histories.js';

const check = (specs: Parameters<typeof historyOf>[0]) => checkHistory(historyOf(specs), registerModel);

describe('register linearizability', () => {
  it('accepts an empty history', () => {
    expect(check([]).verdict).toBe('linearizable');
  });

  it('flags a stale read after a completed write', () => {
    const result = check([
      { p: 1, f: 'write', input: 1, at: [0, 10] },
      { p: 1, f: 'write', input: 2, at: [20, 30] },
      { p: 2, f: 'read', output: 1, at: [40, 50] },
    ]);
    expect(result.verdict).toBe('not-linearizable');
    expect(result.violation?.stuck).toBe(2);
    expect(result.violation?.prefix.map((s) => s.op)).toEqual([0, 1]);
    expect(result.violation?.unplaceable).toEqual([2]);
  });

  it('flags a read of a value never written, and a read of nothing after a write', () => {
    expect(check([{ p: 1, f: 'read', output: 7, at: [0, 1] }]).verdict).toBe('not-linearizable');
    const nothing = check([
      { p: 1, f: 'write', input: 1, at: [0, 1] },
      { p: 2, f: 'read', output: null, at: [2, 3] },
    ]);
    expect(nothing.verdict).toBe('not-linearizable');
  });

  it('lets concurrent writes take effect in either order', () => {
    const writes = [
      { p: 1, f: 'write', input: 1, at: [0, 10] as const },
      { p: 2, f: 'write', input: 2, at: [5, 15] as const },
    ];
    expect(check([...writes, { p: 3, f: 'read', output: 1, at: [20, 25] }]).verdict).toBe('linearizable');
    expect(check([...writes, { p: 3, f: 'read', output: 2, at: [20, 25] }]).verdict).toBe('linearizable');
  });

  it('lets a read concurrent with a write see the old or the new value', () => {
    const write = { p: 1, f: 'write', input: 1, at: [0, 10] as const };
    expect(check([write, { p: 2, f: 'read', output: null, at: [2, 4] }]).verdict).toBe('linearizable');
    expect(check([write, { p: 2, f: 'read', output: 1, at: [2, 4] }]).verdict).toBe('linearizable');
  });

  it('treats operations that touch at an instant as concurrent', () => {
    const result = check([
      { p: 1, f: 'write', input: 1, at: [0, 10] },
      { p: 2, f: 'read', output: null, at: [10, 12] },
    ]);
    expect(result.verdict).toBe('linearizable');
  });

  it('lets an unknown-outcome write take effect late, or never', () => {
    const unknown = { p: 1, f: 'write', input: 1, at: [0, 5] as const, outcome: 'unknown' as const };
    expect(check([unknown, { p: 2, f: 'read', output: null, at: [10, 11] }]).verdict).toBe('linearizable');
    expect(check([unknown, { p: 2, f: 'read', output: 1, at: [10, 11] }]).verdict).toBe('linearizable');
    const flipFlop = check([
      unknown,
      { p: 2, f: 'read', output: 1, at: [10, 11] },
      { p: 2, f: 'read', output: null, at: [12, 13] },
    ]);
    expect(flipFlop.verdict).toBe('not-linearizable');
  });

  it('does not let an unknown-outcome write take effect before its invocation', () => {
    const result = check([
      { p: 2, f: 'read', output: 1, at: [0, 5] },
      { p: 1, f: 'write', input: 1, at: [10, 15], outcome: 'unknown' },
    ]);
    expect(result.verdict).toBe('not-linearizable');
  });

  it('drops failed operations', () => {
    const result = check([
      { p: 1, f: 'write', input: 1, at: [0, 5], outcome: 'fail' },
      { p: 2, f: 'read', output: null, at: [10, 11] },
    ]);
    expect(result.verdict).toBe('linearizable');
    expect(result.partitions[0]?.ops).toBe(1);
  });

  describe('cas', () => {
    it('swaps only from the expected value', () => {
      const ok = check([
        { p: 1, f: 'write', input: 1, at: [0, 1] },
        { p: 1, f: 'cas', input: [1, 2], at: [2, 3] },
        { p: 2, f: 'read', output: 2, at: [4, 5] },
      ]);
      expect(ok.verdict).toBe('linearizable');
      const wrongFrom = check([
        { p: 1, f: 'write', input: 1, at: [0, 1] },
        { p: 1, f: 'cas', input: [3, 2], at: [2, 3] },
      ]);
      expect(wrongFrom.verdict).toBe('not-linearizable');
    });

    it('takes an ok cas with output false as refused because the value differed', () => {
      const refused = (current: number) =>
        check([
          { p: 1, f: 'write', input: current, at: [0, 1] },
          { p: 1, f: 'cas', input: [1, 2], output: false, at: [2, 3] },
          { p: 2, f: 'read', output: current, at: [4, 5] },
        ]).verdict;
      expect(refused(3)).toBe('linearizable');
      expect(refused(1)).toBe('not-linearizable');
    });

    it('lets an unknown cas swap if its expected value was there, or not at all', () => {
      const base = [
        { p: 1, f: 'write', input: 1, at: [0, 1] as const },
        { p: 2, f: 'cas', input: [1, 2], at: [2, 3] as const, outcome: 'unknown' as const },
      ];
      expect(check([...base, { p: 3, f: 'read', output: 2, at: [5, 6] }]).verdict).toBe('linearizable');
      expect(check([...base, { p: 3, f: 'read', output: 1, at: [5, 6] }]).verdict).toBe('linearizable');
      const wrongFrom: OpSpec[] = [
        { p: 1, f: 'write', input: 1, at: [0, 1] as const },
        { p: 2, f: 'cas', input: [5, 2], at: [2, 3] as const, outcome: 'unknown' as const },
        { p: 3, f: 'read', output: 2, at: [5, 6] },
      ];
      expect(check(wrongFrom).verdict).toBe('not-linearizable');
    });
  });

  it('compares JSON values structurally', () => {
    const result = check([
      { p: 1, f: 'write', input: { a: 1, b: [1, 2] }, at: [0, 1] },
      { p: 2, f: 'read', output: { b: [1, 2], a: 1 }, at: [2, 3] },
    ]);
    expect(result.verdict).toBe('linearizable');
  });

  it('rejects operations the register does not have', () => {
    expect(() => check([{ p: 1, f: 'put', input: 1, at: [0, 1] }])).toThrow(expect.objectContaining({ code: 'BAD_OP' }));
    expect(() => check([{ p: 1, f: 'cas', input: 1, at: [0, 1] }])).toThrow(/cas input must be \[from, to\]/);
  });

  it('reports the states along the longest linearizable prefix', () => {
    const result = check([
      { p: 1, f: 'write', input: 1, at: [0, 1] },
      { p: 1, f: 'cas', input: [1, 5], at: [2, 3] },
      { p: 2, f: 'read', output: 1, at: [4, 5] },
    ]);
    expect(result.violation?.prefix).toEqual([
      { op: 0, state: 1 },
      { op: 1, state: 5 },
    ]);
  });
});
