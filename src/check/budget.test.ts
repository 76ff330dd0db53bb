// Budgets: a hard history with a tiny budget ends as "unknown" with the reason, and bad budget
// options are refused with BAD_OPTION.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkHistory } from './checker.js';
import { parseJepsenLog } from './formats/jepsen.js';
import { registerModel } from './models/register.js';
import { etcdHistoriesDir } from '../../test/shared-histories.js';

// linearizable, and one of the histories whose search visits the most states
const hard = parseJepsenLog(readFileSync(join(etcdHistoriesDir, 'etcd_002.log'), 'utf8'));

describe('budget', () => {
  it('gives up with "unknown" when the clock passes the budget', () => {
    let clockMs = 0;
    const result = checkHistory(hard, registerModel, { now: () => (clockMs += 10), budgetMs: 100 });
    expect(result.verdict).toBe('unknown');
    expect(result.reason).toBe('time-budget');
    expect(result.violation).toBe(null);
  });

  it('gives up with "unknown" past the state or memory caps', () => {
    expect(checkHistory(hard, registerModel, { maxStates: 100 }).reason).toBe('state-budget');
    expect(checkHistory(hard, registerModel, { maxMemoryBytes: 1024 }).reason).toBe('memory-budget');
  });

  it('decides within a budget that is large enough', () => {
    expect(checkHistory(hard, registerModel, { now: () => 0, budgetMs: 1, maxStates: 1_000_000 }).verdict).toBe('linearizable');
  });

  it('refuses nonsense options', () => {
    expect(() => checkHistory(hard, registerModel, { budgetMs: 10 })).toThrow(expect.objectContaining({ code: 'BAD_OPTION' }));
    expect(() => checkHistory(hard, registerModel, { maxStates: 0 })).toThrow(expect.objectContaining({ code: 'BAD_OPTION' }));
  });
});
