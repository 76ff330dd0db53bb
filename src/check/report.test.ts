// Reports: the text names the verdict and the operations that cannot be placed; the JSON carries
// every operation the violation refers to and survives a JSON round trip.
import { describe, expect, it } from 'vitest';
import { checkHistory } from './checker.js';
import { registerModel } from './models/register.js';
import { checkResultToJson, describeOperation, formatCheckText } from './report.js';
import { historyOf } from './test/histories.js';

const stale = historyOf([
  { p: 1, f: 'write', input: 1, at: [0, 10] },
  { p: 1, f: 'write', input: 2, at: [20, 30] },
  { p: 2, f: 'read', output: 1, at: [40, 50] },
  { p: 3, f: 'write', input: 3, at: [45, 60], outcome: 'unknown' },
  // a later read of 3 makes the unknown write matter (an unobserved one would be pruned)
  { p: 4, f: 'read', output: 3, at: [70, 80] },
]);

describe('reports', () => {
  it('describe an operation with its window', () => {
    expect(describeOperation(stale.ops[2]!)).toBe('#2 p2 read → 1 [40, 50]');
    expect(describeOperation(stale.ops[3]!)).toBe('#3 p3 write 3 (unknown) [45, ∞]');
  });

  it('print the verdict, the prefix and the unplaceable operations as text', () => {
    const text = formatCheckText(checkHistory(stale, registerModel), stale);
    expect(text.split('\n')[0]).toMatch(/^not-linearizable \(register: 5 operations, 1 partition, \d+ states\)$/);
    expect(text).toContain('longest linearizable prefix: 2 operations');
    expect(text).toContain('#2 p2 read → 1 [40, 50]  ← completed before it could take effect');
    expect(text).toMatch(/#3 p3 write 3 \(unknown\) \[45, ∞\]$/m);
  });

  it('carry the referenced operations in JSON', () => {
    const json = checkResultToJson(checkHistory(stale, registerModel), stale);
    expect(json['verdict']).toBe('not-linearizable');
    expect((json['operations'] as { index: number }[]).map((op) => op.index)).toEqual([0, 1, 2, 3]);
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
  });

  it('print a linearizable verdict in one line', () => {
    const fine = historyOf([{ p: 1, f: 'write', input: 1, at: [0, 1] }]);
    expect(formatCheckText(checkHistory(fine, registerModel), fine)).toMatch(/^linearizable \(register: 1 operation, 1 partition, 1 state\)$/);
  });
});
