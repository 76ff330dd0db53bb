// Hand-made key-value histories: per-key partitioning and the input/output shape of each
// operation, including the null-means-absent convention.
import { describe, expect, it } from 'vitest';
import { checkHistory } from './checker.js';
import { kvModel } from './models/kv.js';
import { historyOf, type OpSpec } from './test/histories.js';

const check = (specs: Parameters<typeof historyOf>[0], allPartitions = false) =>
  checkHistory(historyOf(specs), kvModel, { allPartitions });

describe('kv linearizability', () => {
  it('checks keys independently, one partition each', () => {
    const result = check([
      { p: 1, f: 'put', input: { key: 'a', value: 1 }, at: [0, 1] },
      { p: 1, f: 'put', input: { key: 'b', value: 2 }, at: [2, 3] },
      { p: 2, f: 'get', input: { key: 'a' }, output: 1, at: [4, 5] },
      { p: 2, f: 'get', input: { key: 'b' }, output: 2, at: [6, 7] },
      { p: 2, f: 'get', input: { key: 'c' }, output: null, at: [8, 9] },
    ]);
    expect(result.verdict).toBe('linearizable');
    expect(result.partitions.map((p) => [p.key, p.ops])).toEqual([
      ['a', 2],
      ['b', 2],
      ['c', 1],
    ]);
  });

  it('names the key of a violation and stops there unless asked for all partitions', () => {
    const specs: OpSpec[] = [
      { p: 1, f: 'put', input: { key: 'a', value: 1 }, at: [0, 1] as const },
      { p: 2, f: 'get', input: { key: 'a' }, output: 2, at: [2, 3] as const },
      { p: 2, f: 'get', input: { key: 'b' }, output: null, at: [4, 5] as const },
    ];
    const first = check(specs);
    expect(first.verdict).toBe('not-linearizable');
    expect(first.violation?.key).toBe('a');
    // every key is reported; smallest first, so b (one operation) was decided before a
    expect(first.partitions.map((p) => [p.key, p.verdict])).toEqual([
      ['a', 'not-linearizable'],
      ['b', 'linearizable'],
    ]);
    const wider: OpSpec[] = [...specs, { p: 3, f: 'get', input: { key: 'b' }, output: null, at: [6, 7] as const }];
    expect(check(wider).partitions.map((p) => [p.key, p.verdict, p.reason])).toEqual([
      ['a', 'not-linearizable', null],
      ['b', 'unknown', 'stopped'],
    ]);
    expect(check(wider, true).partitions.map((p) => [p.key, p.verdict])).toEqual([
      ['a', 'not-linearizable'],
      ['b', 'linearizable'],
    ]);
  });

  it('treats delete as making the key absent (get returns null)', () => {
    const deleted = (seen: number | null) =>
      check([
        { p: 1, f: 'put', input: { key: 'a', value: 1 }, at: [0, 1] },
        { p: 1, f: 'delete', input: { key: 'a' }, at: [2, 3] },
        { p: 2, f: 'get', input: { key: 'a' }, output: seen, at: [4, 5] },
      ]).verdict;
    expect(deleted(null)).toBe('linearizable');
    expect(deleted(1)).toBe('not-linearizable');
  });

  it('cas compares and swaps, with null meaning absent', () => {
    const result = check([
      { p: 1, f: 'cas', input: { key: 'a', from: null, to: 1 }, at: [0, 1] },
      { p: 1, f: 'cas', input: { key: 'a', from: 1, to: 2 }, at: [2, 3] },
      { p: 1, f: 'cas', input: { key: 'a', from: 1, to: 3 }, output: false, at: [4, 5] },
      { p: 2, f: 'get', input: { key: 'a' }, output: 2, at: [6, 7] },
    ]);
    expect(result.verdict).toBe('linearizable');
  });

  it('incr starts from 0 and must return the new value', () => {
    const incr = (output: number | null) =>
      check([
        { p: 1, f: 'incr', input: { key: 'n' }, output: 1, at: [0, 1] },
        { p: 1, f: 'incr', input: { key: 'n', by: 5 }, output, at: [2, 3] },
        { p: 2, f: 'get', input: { key: 'n' }, output: 6, at: [4, 5] },
      ]).verdict;
    expect(incr(6)).toBe('linearizable');
    expect(incr(null)).toBe('linearizable');
    expect(incr(5)).toBe('not-linearizable');
  });

  it('incr on a non-number is impossible', () => {
    const result = check([
      { p: 1, f: 'put', input: { key: 'n', value: 'x' }, at: [0, 1] },
      { p: 1, f: 'incr', input: { key: 'n' }, output: 1, at: [2, 3] },
    ]);
    expect(result.verdict).toBe('not-linearizable');
  });

  it('concurrent increments may return in either order', () => {
    const result = check([
      { p: 1, f: 'incr', input: { key: 'n' }, output: 2, at: [0, 10] },
      { p: 2, f: 'incr', input: { key: 'n' }, output: 1, at: [1, 11] },
    ]);
    expect(result.verdict).toBe('linearizable');
  });

  it('append concatenates strings, an absent key counting as ""', () => {
    const appended = (seen: string | null) =>
      check([
        { p: 1, f: 'append', input: { key: 'k', value: 'x 0 y' }, at: [0, 1] },
        { p: 1, f: 'append', input: { key: 'k', value: 'x 1 y' }, at: [2, 3] },
        { p: 2, f: 'get', input: { key: 'k' }, output: seen, at: [4, 5] },
      ]).verdict;
    expect(appended('x 0 yx 1 y')).toBe('linearizable');
    expect(appended('x 1 yx 0 y')).toBe('not-linearizable');
    expect(appended('x 0 y')).toBe('not-linearizable');
    expect(appended(null)).toBe('not-linearizable');
  });

  it('concurrent appends may land in either order, but both land', () => {
    const both = (seen: string) =>
      check([
        { p: 1, f: 'append', input: { key: 'k', value: 'a' }, at: [0, 10] },
        { p: 2, f: 'append', input: { key: 'k', value: 'b' }, at: [1, 11] },
        { p: 3, f: 'get', input: { key: 'k' }, output: seen, at: [12, 13] },
      ]).verdict;
    expect(both('ab')).toBe('linearizable');
    expect(both('ba')).toBe('linearizable');
    expect(both('a')).toBe('not-linearizable');
  });

  it('append onto a put string; onto a non-string is impossible; an empty append changes nothing', () => {
    expect(
      check([
        { p: 1, f: 'put', input: { key: 'k', value: 'ab' }, at: [0, 1] },
        { p: 1, f: 'append', input: { key: 'k', value: 'c' }, at: [2, 3] },
        { p: 1, f: 'get', input: { key: 'k' }, output: 'abc', at: [4, 5] },
      ]).verdict,
    ).toBe('linearizable');
    expect(
      check([
        { p: 1, f: 'put', input: { key: 'k', value: 1 }, at: [0, 1] },
        { p: 1, f: 'append', input: { key: 'k', value: 'c' }, at: [2, 3] },
      ]).verdict,
    ).toBe('not-linearizable');
    expect(
      check([
        { p: 1, f: 'append', input: { key: 'k', value: '' }, at: [0, 1] },
        { p: 1, f: 'get', input: { key: 'k' }, output: null, at: [2, 3] },
      ]).verdict,
    ).toBe('linearizable');
  });

  it('an unknown-outcome append may or may not have landed', () => {
    const maybe = (seen: string | null) =>
      check([
        { p: 1, f: 'append', input: { key: 'k', value: 'a' }, at: [0, 1], outcome: 'unknown' },
        { p: 2, f: 'get', input: { key: 'k' }, output: seen, at: [2, 3] },
        { p: 2, f: 'get', input: { key: 'k' }, output: 'a', at: [4, 5] },
      ]).verdict;
    expect(maybe(null)).toBe('linearizable');
    expect(maybe('a')).toBe('linearizable');
    expect(maybe('aa')).toBe('not-linearizable');
  });

  it('rejects malformed inputs with BAD_OP', () => {
    const bad: OpSpec[] = [
      { p: 1, f: 'get', input: 'a', at: [0, 1] as const },
      { p: 1, f: 'get', input: { key: 3 }, at: [0, 1] as const },
      { p: 1, f: 'put', input: { key: 'a' }, at: [0, 1] as const },
      { p: 1, f: 'incr', input: { key: 'a', by: 'x' }, at: [0, 1] as const },
      { p: 1, f: 'scan', input: { key: 'a' }, at: [0, 1] as const },
      { p: 1, f: 'append', input: { key: 'a', value: 1 }, at: [0, 1] as const },
      { p: 1, f: 'append', input: { key: 'a' }, at: [0, 1] as const },
    ];
    for (const spec of bad) expect(() => check([spec])).toThrow(expect.objectContaining({ code: 'BAD_OP' }));
  });
});
