// Reports: the text names the verdict and the operations that cannot be placed; the JSON carries
// every operation the violation refers to and survives a JSON round trip.
import { describe, expect, it } from 'vitest';
import { checkHistory } from './checker.js';
import { registerModel } from './models/register.js';
import { checkSessions } from './session.js';
import { checkResultToJson, describeOperation, formatCheckText, formatSessionText } from './report.js';
import { escapeControls } from './escape.js';
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

/** Every character a terminal may act on, besides the newlines between report lines. */
// eslint-disable-next-line no-control-regex -- finding raw control characters is the point
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

describe('control characters from the input', () => {
  it('are escaped JSON-style, and nothing else is touched', () => {
    expect(escapeControls('a\u001b[31mb\u0007c\td\ne\u007f\u0085\u009b\u2028\u202e')).toBe(
      'a\\u001b[31mb\\u0007c\\td\\ne\\u007f\\u0085\\u009b\\u2028\\u202e',
    );
    expect(escapeControls('plain → ∞ é "q" \\ 😀')).toBe('plain → ∞ é "q" \\ 😀');
  });

  it('never reach the text of a report: values, processes, operation names, keys and session messages', () => {
    const red = '\u001b[31mred\u001b[0m';
    const evil = historyOf([
      { p: 3, f: 'write', input: `\u009b2J\u0085`, at: [0, 5] },
      { p: `1\u001b]0;owned\u0007`, f: 'write', input: red, at: [10, 20] },
      { p: `1\u001b]0;owned\u0007`, f: 'read', output: `\u009b2J\u0085`, at: [30, 40] },
      { p: '2\nfake.log: linearizable', f: 'read', output: `x\u007f\u2028`, at: [50, 60] },
    ]);
    const result = checkHistory(evil, registerModel);
    const sessions = checkSessions(evil, registerModel);
    expect(result.verdict).toBe('not-linearizable');
    expect(sessions.ok).toBe(false);
    const text = `${formatCheckText(result, evil)}\n${formatSessionText(sessions, evil)}\n${evil.ops.map(describeOperation).join('\n')}`;
    expect(text).not.toMatch(RAW_CONTROL);
    expect(text).toContain('p1\\u001b]0;owned\\u0007 write "\\u001b[31mred\\u001b[0m"');
    expect(text).toContain('→ "\\u009b2J\\u0085"');
    expect(text).toContain('p2\\nfake.log: linearizable read → "x\\u007f\\u2028"');
    expect(text.split('\n').some((line) => line.startsWith('fake.log'))).toBe(false);
  });
});
