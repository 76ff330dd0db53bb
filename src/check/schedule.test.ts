// Partitions are searched side by side in slices: a key that is plainly not linearizable is found
// even behind a key whose search would spend the whole budget, whatever their order and sizes.
// Budgets here count states, not time, so the outcome does not depend on the machine.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { History, JsonValue, Operation } from '../core/index.js';
import { etcdHistoriesDir } from '../../test/shared-histories.js';
import { checkHistory } from './checker.js';
import { parseJepsenLog } from './formats/jepsen.js';
import { kvModel } from './models/kv.js';

/** etcd_002 (linearizable, one of the hardest of the 102) as kv operations on one key. */
function hardKey(key: string): Operation[] {
  const register = parseJepsenLog(readFileSync(join(etcdHistoriesDir, 'etcd_002.log'), 'utf8'));
  return register.ops.map((op) => {
    const cas = Array.isArray(op.input) ? op.input : [null, null];
    const input: JsonValue =
      op.f === 'read' ? { key } : op.f === 'write' ? { key, value: op.input } : { key, from: cas[0] ?? null, to: cas[1] ?? null };
    return { ...op, f: op.f === 'read' ? 'get' : op.f === 'write' ? 'put' : 'cas', input };
  });
}

/** A long sequential key whose second operation reads a value never written. */
function plainlyBadKey(key: string, length: number, from: number, startMs: number): Operation[] {
  return Array.from({ length }, (_, k): Operation => {
    const write = k % 2 === 0;
    const at = startMs + 2 * k;
    return {
      index: from + k,
      process: 'solo',
      f: write ? 'put' : 'get',
      input: write ? { key, value: k } : { key },
      output: write ? null : k === 1 ? 'never written' : k - 1,
      invokeMs: at,
      completeMs: at + 1,
      outcome: 'ok',
    };
  });
}

function history(...groups: Operation[][]): History {
  const ops = groups.flat();
  return { format: 'synod-history/1', ops: ops.map((op, index) => ({ ...op, index })) };
}

describe('checking partitions side by side', () => {
  const hard = hardKey('hard');
  const hardAlone = checkHistory(history(hard), kvModel);
  const needs = hardAlone.partitions[0]!.states;

  it('the hard key alone is linearizable, and a budget below its needs leaves it unknown', () => {
    expect(hardAlone.verdict).toBe('linearizable');
    expect(needs).toBeGreaterThan(20_000);
    expect(checkHistory(history(hard), kvModel, { maxStates: needs / 4 }).verdict).toBe('unknown');
  });

  it('finds a plainly bad key placed after the hard one, and larger, within a budget the hard key alone would spend', () => {
    const bad = plainlyBadKey('bad', hard.length + 100, hard.length, 1e9);
    const result = checkHistory(history(hard, bad), kvModel, { maxStates: needs / 4 });
    expect(result.verdict).toBe('not-linearizable');
    expect(result.violation?.key).toBe('bad');
    expect(result.partitions.map((p) => [p.key, p.verdict, p.reason])).toEqual([
      ['hard', 'unknown', 'stopped'],
      ['bad', 'not-linearizable', null],
    ]);
  });

  it('with allPartitions reports every key: the hard one decided once the budget allows it', () => {
    const bad = plainlyBadKey('bad', 50, hard.length, 1e9);
    const result = checkHistory(history(hard, bad), kvModel, { allPartitions: true });
    expect(result.verdict).toBe('not-linearizable');
    expect(result.violation?.key).toBe('bad');
    expect(result.partitions.map((p) => [p.key, p.verdict])).toEqual([
      ['hard', 'linearizable'],
      ['bad', 'not-linearizable'],
    ]);
    expect(result.partitions[0]!.states).toBe(needs);
  });

  it('holds tables only for the partitions in progress, so many small keys check quickly', () => {
    const keys = 20_000;
    const ops = Array.from({ length: keys }, (_, k): Operation => ({
      index: k,
      process: String(k % 7),
      f: 'put',
      input: { key: `k${k}`, value: k },
      output: null,
      invokeMs: k,
      completeMs: k + 0.5,
      outcome: 'ok',
    }));
    const result = checkHistory(history(ops), kvModel);
    expect(result.verdict).toBe('linearizable');
    expect(result.partitions).toHaveLength(keys);
  });

  it('reports per-partition times on the caller clock, and null without one', () => {
    let clock = 0;
    const timed = checkHistory(history(hard), kvModel, { now: () => (clock += 1) });
    expect(timed.partitions[0]!.ms).toBeGreaterThan(0);
    expect(checkHistory(history(hard), kvModel).partitions[0]!.ms).toBe(null);
  });

  it('gives the same verdict and figures as a search of each key alone', () => {
    const bad = plainlyBadKey('bad', 50, hard.length, 1e9);
    const together = checkHistory(history(bad, hard), kvModel, { allPartitions: true });
    const apart = [history(bad), history(hard)].map((h) => checkHistory(h, kvModel).partitions[0]!);
    expect(together.partitions.map((p) => [p.verdict, p.states, p.steps])).toEqual(apart.map((p) => [p.verdict, p.states, p.steps]));
  });
});
