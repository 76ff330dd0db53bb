// Property tests: histories built by running a model sequentially are always linearizable; a read
// changed to a value never written is always caught; the search agrees with brute force on small
// random histories; and a violation's prefix replays in the model to the states it reports.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { History, JsonValue } from '../core/index.js';
import { checkHistory } from './checker.js';
import type { Model } from './model.js';
import { kvModel } from './models/kv.js';
import { mutexModel } from './models/mutex.js';
import { registerModel } from './models/register.js';
import type { CheckResult } from './result.js';
import {
  randomPlainRegisterHistory,
  linearizableKvHistory,
  linearizableMutexHistory,
  linearizableRegisterHistory,
  randomKvHistory,
  randomMutexHistory,
  randomRegisterHistory,
} from './test/generators.js';
import { bruteForceLinearizable, historyOf } from './test/histories.js';

const NEVER_WRITTEN = -999;

/** Replaces the output of the `pick`-th successful read with a value no operation writes. */
function corruptRead(history: History, readName: string, pick: number): History | null {
  const reads = history.ops.filter((op) => op.f === readName && op.outcome === 'ok');
  if (reads.length === 0) return null;
  const target = reads[pick % reads.length]!;
  return { ...history, ops: history.ops.map((op) => (op === target ? { ...op, output: NEVER_WRITTEN } : op)) };
}

/** The prefix of a violation must be a legal run of the model ending in the states it lists. */
function expectPrefixReplays<S, C>(history: History, model: Model<S, C>, result: CheckResult): void {
  const violation = result.violation!;
  const byIndex = new Map(history.ops.map((op) => [op.index, op]));
  let state = model.initial(violation.key);
  for (const step of violation.prefix) {
    const prepared = model.prepare(byIndex.get(step.op)!)!;
    expect(prepared.key).toBe(violation.key);
    const after = model.step(state, prepared.call);
    expect(after).toBeDefined();
    state = after!;
    expect(model.stateToJson(state)).toEqual(step.state as JsonValue);
  }
  expect(violation.unplaceable).toContain(violation.stuck);
}

describe.each([
  ['register', registerModel as Model<unknown, unknown>, linearizableRegisterHistory(), 'read'],
  ['kv', kvModel as Model<unknown, unknown>, linearizableKvHistory(), 'get'],
  ['mutex', mutexModel as Model<unknown, unknown>, linearizableMutexHistory(), null],
] as const)('%s histories run sequentially, then widened', (_name, model, histories, readName) => {
  it('are linearizable', () => {
    fc.assert(
      fc.property(histories, (history) => {
        expect(checkHistory(history, model).verdict).toBe('linearizable');
      }),
      { numRuns: 300 },
    );
  });

  if (readName !== null) {
    it('are not, once a read returns a value never written', () => {
      fc.assert(
        fc.property(histories, fc.nat(), (history, pick) => {
          const corrupted = corruptRead(history, readName, pick);
          fc.pre(corrupted !== null);
          const result = checkHistory(corrupted!, model);
          expect(result.verdict).toBe('not-linearizable');
          expectPrefixReplays(corrupted!, model, result);
        }),
        { numRuns: 300 },
      );
    });
  }
});

describe('mutex histories with a lowered fencing token', () => {
  it('are not linearizable when a grant completes before a later, lower grant', () => {
    fc.assert(
      fc.property(linearizableMutexHistory(), fc.nat(), (history, pick) => {
        const grants = history.ops.filter((op) => op.f === 'acquire' && op.outcome === 'ok');
        const pairs = grants.flatMap((a) => grants.filter((b) => a.completeMs < b.invokeMs).map((b) => [a, b] as const));
        fc.pre(pairs.length > 0);
        const [earlier, later] = pairs[pick % pairs.length]!;
        const lowered = { ...history, ops: history.ops.map((op) => (op === later ? { ...op, output: (earlier.output as number) - 1 } : op)) };
        expect(checkHistory(lowered, mutexModel).verdict).toBe('not-linearizable');
      }),
      { numRuns: 300 },
    );
  });
});

describe.each([
  ['register', registerModel as Model<unknown, unknown>, randomRegisterHistory()],
  ['kv', kvModel as Model<unknown, unknown>, randomKvHistory()],
  ['mutex', mutexModel as Model<unknown, unknown>, randomMutexHistory()],
] as const)('small random %s histories', (_name, model, histories) => {
  it('get the verdict of brute force, and violations replay', () => {
    fc.assert(
      fc.property(histories, (history) => {
        const result = checkHistory(history, model);
        expect(result.verdict).toBe(bruteForceLinearizable(history, model) ? 'linearizable' : 'not-linearizable');
        if (result.violation !== null) expectPrefixReplays(history, model, result);
      }),
      { numRuns: 1500 },
    );
  });
});

describe('pruning of unobserved unknown writes', () => {
  it('never changes a verdict (against brute force, on plain read/write histories)', () => {
    fc.assert(
      fc.property(randomPlainRegisterHistory(), (history) => {
        const result = checkHistory(history, registerModel);
        expect(result.verdict).toBe(bruteForceLinearizable(history, registerModel) ? 'linearizable' : 'not-linearizable');
      }),
      { numRuns: 3000 },
    );
  });

  it('keeps a history with many unknown writes tractable', () => {
    const ops: Parameters<typeof historyOf>[0][number][] = [];
    for (let i = 0; i < 300; i++) ops.push({ p: i % 50, f: 'write', input: 1000 + i, at: [i * 10, i * 10 + 5], outcome: i % 3 === 0 ? 'unknown' : 'ok' });
    // the last write (#299) completed ok, so every later read sees it
    for (let i = 0; i < 100; i++) ops.push({ p: 60 + (i % 5), f: 'read', output: 1299, at: [3000 + i * 10, 3000 + i * 10 + 5] });
    const result = checkHistory(historyOf(ops), registerModel, { maxStates: 200_000 });
    expect(result.verdict).toBe('linearizable');
  });
});
