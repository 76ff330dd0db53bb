// The search itself: the windowed memo (used for long histories) agrees with brute force, and
// long, mostly sequential histories are checked quickly with few states.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { History } from '../core/index.js';
import { Budget } from './budget.js';
import { checkHistory, partitionHistory } from './checker.js';
import { StepTable } from './machine.js';
import { registerModel } from './models/register.js';
import { searchLinearization } from './search.js';
import { linearizableRegisterHistory, randomRegisterHistory } from './test/generators.js';
import { bruteForceLinearizable } from './test/histories.js';

/** Runs the search on a single-partition register history, always tracking the set's window. */
function verdictWithWindow(history: History): string {
  const [partition] = partitionHistory(history, registerModel);
  if (partition === undefined) return 'linearizable';
  const table = new StepTable(registerModel, partition.calls, registerModel.initial(''));
  const problem = {
    invokeTimes: Float64Array.from(partition.ops, (op) => op.invokeMs),
    completeTimes: Float64Array.from(partition.ops, (op) => (op.outcome === 'unknown' ? Infinity : op.completeMs)),
    initialState: table.initial,
    transitions: table,
  };
  return searchLinearization(problem, new Budget(), 0).kind;
}

describe('search', () => {
  it('with a windowed memo agrees with brute force', () => {
    fc.assert(
      fc.property(randomRegisterHistory(8), (history) => {
        expect(verdictWithWindow(history)).toBe(bruteForceLinearizable(history, registerModel) ? 'linearizable' : 'violation');
      }),
      { numRuns: 1500 },
    );
  });

  it('with a windowed memo accepts long linearizable histories', () => {
    fc.assert(
      fc.property(linearizableRegisterHistory(600), (history) => {
        expect(verdictWithWindow(history)).toBe('linearizable');
        expect(checkHistory(history, registerModel).verdict).toBe('linearizable');
      }),
      { numRuns: 20 },
    );
  });

  it('checks a long sequential history in few states, and finds a late stale read', () => {
    const n = 20_000;
    const ops = Array.from({ length: n }, (_, k) => {
      const write = k % 2 === 0;
      return {
        index: k,
        process: String(k % 3),
        f: write ? 'write' : 'read',
        input: write ? k : null,
        output: write ? null : k - 1,
        invokeMs: 2 * k,
        completeMs: 2 * k + 1,
        outcome: 'ok' as const,
      };
    });
    const history: History = { format: 'synod-history/1', ops };
    const result = checkHistory(history, registerModel);
    expect(result.verdict).toBe('linearizable');
    expect(result.partitions[0]!.states).toBe(n);
    const stale: History = { ...history, ops: ops.map((op) => (op.index === n - 1 ? { ...op, output: 0 } : op)) };
    const violation = checkHistory(stale, registerModel).violation;
    expect(violation?.stuck).toBe(n - 1);
    expect(violation?.prefix).toHaveLength(n - 1);
  });
});
