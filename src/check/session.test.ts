// Session guarantees: each check reports the offending pair, stays quiet on histories that some
// linearization explains, and never contradicts the linearizability verdict.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkHistory } from './checker.js';
import type { Model } from './model.js';
import { kvModel } from './models/kv.js';
import { mutexModel } from './models/mutex.js';
import { registerModel } from './models/register.js';
import { checkSessions } from './session.js';
import { linearizableKvHistory, linearizableRegisterHistory, randomKvHistory, randomRegisterHistory } from './test/generators.js';
import { historyOf } from './test/histories.js';

describe('read-your-writes', () => {
  it('reports a read of a value overwritten by the reader’s own write', () => {
    const history = historyOf([
      { p: 2, f: 'write', input: 2, at: [0, 1] },
      { p: 1, f: 'write', input: 1, at: [2, 3] },
      { p: 1, f: 'read', output: 2, at: [4, 5] },
    ]);
    const result = checkSessions(history, registerModel);
    expect(result.violations).toEqual([expect.objectContaining({ guarantee: 'read-your-writes', process: '1', earlier: 1, later: 2 })]);
  });

  it('reports a read of nothing after the reader’s own write', () => {
    const history = historyOf([
      { p: 1, f: 'write', input: 1, at: [0, 1] },
      { p: 1, f: 'read', output: null, at: [2, 3] },
    ]);
    expect(checkSessions(history, registerModel).violations.map((v) => v.guarantee)).toEqual(['read-your-writes']);
  });

  it('accepts a value from a write concurrent with the reader’s own', () => {
    const history = historyOf([
      { p: 2, f: 'write', input: 2, at: [0, 10] },
      { p: 1, f: 'write', input: 1, at: [2, 3] },
      { p: 1, f: 'read', output: 2, at: [4, 5] },
    ]);
    expect(checkSessions(history, registerModel).ok).toBe(true);
  });

  it('looks at the same key only (kv)', () => {
    const history = historyOf([
      { p: 1, f: 'put', input: { key: 'a', value: 1 }, at: [0, 1] },
      { p: 1, f: 'get', input: { key: 'b' }, output: null, at: [2, 3] },
      { p: 1, f: 'get', input: { key: 'a' }, output: null, at: [4, 5] },
    ]);
    expect(checkSessions(history, kvModel).violations).toEqual([
      expect.objectContaining({ guarantee: 'read-your-writes', key: 'a', earlier: 0, later: 2 }),
    ]);
  });
});

describe('monotonic reads', () => {
  it('reports a read older than an earlier read of the same process', () => {
    const history = historyOf([
      { p: 0, f: 'write', input: 1, at: [0, 1] },
      { p: 0, f: 'write', input: 2, at: [2, 3] },
      { p: 1, f: 'read', output: 2, at: [4, 5] },
      { p: 1, f: 'read', output: 1, at: [6, 7] },
    ]);
    expect(checkSessions(history, registerModel).violations).toEqual([
      expect.objectContaining({ guarantee: 'monotonic-reads', process: '1', earlier: 2, later: 3 }),
    ]);
  });

  it('accepts going back to a value that is written again concurrently', () => {
    const history = historyOf([
      { p: 0, f: 'write', input: 1, at: [0, 1] },
      { p: 0, f: 'write', input: 2, at: [2, 3] },
      { p: 2, f: 'write', input: 1, at: [4, 20] },
      { p: 1, f: 'read', output: 2, at: [5, 6] },
      { p: 1, f: 'read', output: 1, at: [7, 8] },
    ]);
    expect(checkSessions(history, registerModel).ok).toBe(true);
  });

  it('leaves reads of values never written to linearizability', () => {
    const history = historyOf([{ p: 1, f: 'read', output: 9, at: [0, 1] }]);
    expect(checkSessions(history, registerModel).ok).toBe(true);
  });
});

describe('session checks', () => {
  it('are not defined for the mutex', () => {
    expect(() => checkSessions(historyOf([]), mutexModel)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED' }));
  });

  it.each([
    ['register', registerModel as Model<unknown, unknown>, linearizableRegisterHistory()],
    ['kv', kvModel as Model<unknown, unknown>, linearizableKvHistory()],
  ] as const)('hold on linearizable %s histories', (_name, model, histories) => {
    fc.assert(
      fc.property(histories, (history) => {
        expect(checkSessions(history, model).violations).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it.each([
    ['register', registerModel as Model<unknown, unknown>, randomRegisterHistory(8)],
    ['kv', kvModel as Model<unknown, unknown>, randomKvHistory(8)],
  ] as const)('only fail on %s histories that are not linearizable', (_name, model, histories) => {
    fc.assert(
      fc.property(histories, (history) => {
        if (!checkSessions(history, model).ok) expect(checkHistory(history, model).verdict).toBe('not-linearizable');
      }),
      { numRuns: 2000 },
    );
  });
});
