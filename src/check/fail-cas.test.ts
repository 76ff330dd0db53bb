// What a failed compare-and-set means (CheckOptions.failedCas): 'dropped' takes it as never having
// happened; 'observed' as having compared and found another value, which constrains the order.
import { describe, expect, it } from 'vitest';
import { checkHistory, type FailedCas } from './checker.js';
import { kvModel } from './models/kv.js';
import { mutexModel } from './models/mutex.js';
import { registerModel } from './models/register.js';
import { historyOf, type OpSpec } from './test/histories.js';

// 1 is written, a cas from 1 fails while nothing else runs, and 1 is read after it: the cas can
// only have failed by not happening, never by finding a value other than 1
const refutedByRead: OpSpec[] = [
  { p: 1, f: 'write', input: 1, at: [0, 1] },
  { p: 2, f: 'cas', input: [1, 2], at: [2, 3], outcome: 'fail' },
  { p: 1, f: 'read', output: 1, at: [4, 5] },
];

// the same, but the cas expected 5, which it would indeed not have found
const consistent: OpSpec[] = [
  { p: 1, f: 'write', input: 1, at: [0, 1] },
  { p: 2, f: 'cas', input: [5, 6], at: [2, 3], outcome: 'fail' },
  { p: 1, f: 'read', output: 1, at: [4, 5] },
];

const check = (specs: OpSpec[], failedCas?: FailedCas) => checkHistory(historyOf(specs), registerModel, failedCas === undefined ? {} : { failedCas });

describe('failed compare-and-set', () => {
  it('is dropped by default and with "dropped", so the history is accepted', () => {
    expect(check(refutedByRead).verdict).toBe('linearizable');
    expect(check(refutedByRead, 'dropped').verdict).toBe('linearizable');
  });

  it('is an observation with "observed", so the same history is rejected at the cas', () => {
    const result = check(refutedByRead, 'observed');
    expect(result.verdict).toBe('not-linearizable');
    expect(result.violation?.unplaceable).toContain(1);
  });

  it('with "observed" accepts a failed cas whose expected value was indeed absent', () => {
    expect(check(consistent, 'observed').verdict).toBe('linearizable');
  });

  it('with "observed" may take effect anywhere in its window, like any completed operation', () => {
    const racing: OpSpec[] = [
      { p: 1, f: 'write', input: 1, at: [0, 1] },
      { p: 2, f: 'cas', input: [1, 2], at: [2, 10], outcome: 'fail' },
      { p: 1, f: 'write', input: 3, at: [3, 4] },
      { p: 1, f: 'read', output: 3, at: [11, 12] },
    ];
    expect(check(racing, 'observed').verdict).toBe('linearizable');
  });

  it('works the same for kv, per key', () => {
    const kv: OpSpec[] = [
      { p: 1, f: 'put', input: { key: 'a', value: 1 }, at: [0, 1] },
      { p: 2, f: 'cas', input: { key: 'a', from: 1, to: 2 }, at: [2, 3], outcome: 'fail' },
      { p: 1, f: 'get', input: { key: 'a' }, output: 1, at: [4, 5] },
    ];
    expect(checkHistory(historyOf(kv), kvModel, { failedCas: 'dropped' }).verdict).toBe('linearizable');
    expect(checkHistory(historyOf(kv), kvModel, { failedCas: 'observed' }).verdict).toBe('not-linearizable');
  });

  it('leaves other failed operations, and models without cas, as they were', () => {
    const failedWrite: OpSpec[] = [
      { p: 1, f: 'write', input: 1, at: [0, 1] },
      { p: 2, f: 'write', input: 2, at: [2, 3], outcome: 'fail' },
      { p: 1, f: 'read', output: 1, at: [4, 5] },
    ];
    expect(check(failedWrite, 'observed').verdict).toBe('linearizable');
    const lock: OpSpec[] = [
      { p: 1, f: 'acquire', output: 1, at: [0, 1] },
      { p: 2, f: 'acquire', at: [2, 3], outcome: 'fail' },
    ];
    expect(checkHistory(historyOf(lock), mutexModel, { failedCas: 'observed' }).verdict).toBe('linearizable');
  });

  it('refuses another value with BAD_OPTION', () => {
    expect(() => checkHistory(historyOf(refutedByRead), registerModel, { failedCas: 'kept' as FailedCas })).toThrow(
      expect.objectContaining({ code: 'BAD_OPTION' }),
    );
  });
});
