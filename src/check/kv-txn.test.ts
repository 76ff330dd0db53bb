// Transactions, ranges and versions in the kv model: multi-key txns checked for atomicity across
// keys (partitions are connected components of keys touched together), results matched against
// the model, and property tests against Synod's KvStore and a brute-force checker.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { History, JsonValue, Operation } from '../core/index.js';
import { checkHistory } from './checker.js';
import { CheckError } from './errors.js';
import { kvModel } from './models/kv.js';
import { formatCheckText } from './report.js';
import { checkSessions } from './session.js';
import type { CheckResult } from './result.js';
import { bruteForceLinearizable, historyOf, type OpSpec } from './test/histories.js';
import { linearizableTxnHistory, randomTxnHistory } from './test/kv-txn-generators.js';

const check = (specs: readonly OpSpec[], allPartitions = false): CheckResult => checkHistory(historyOf(specs), kvModel, { allPartitions });

const put = (key: string, value: JsonValue) => ({ op: 'put', key, value });
const get = (key: string) => ({ op: 'get', key });
/** A get's result as the store gives it (revisions only need to be positive for a live key). */
const got = (value: JsonValue, version: number) => (value === null ? { value: null, version: 0, createRevision: 0, modRevision: 0 } : { value, version, createRevision: 1, modRevision: 1 });

describe('kv txn', () => {
  it('is atomic across keys: a reader that sees half of a txn is caught, whichever key it reads first', () => {
    const writes: OpSpec = { p: 1, f: 'txn', input: { success: [put('a', 1), put('b', 1)] }, output: { succeeded: true, results: [{ version: 1 }, { version: 1 }] }, at: [0, 10] };
    // a reads the new a, then (later) the old b: no order of the txn explains both
    const torn = check([
      writes,
      { p: 2, f: 'get', input: { key: 'a' }, output: 1, at: [1, 2] },
      { p: 2, f: 'get', input: { key: 'b' }, output: null, at: [3, 4] },
    ]);
    expect(torn.verdict).toBe('not-linearizable');
    expect(torn.partitions).toHaveLength(1);
    expect(torn.violation?.keys).toEqual(['a', 'b']);
    const whole = check([
      writes,
      { p: 2, f: 'get', input: { key: 'b' }, output: null, at: [1, 2] },
      { p: 2, f: 'get', input: { key: 'a' }, output: 1, at: [3, 4] },
    ]);
    expect(whole.verdict).toBe('linearizable');
  });

  it('joins only the keys touched together: other keys keep partitions of their own', () => {
    const result = check(
      [
        { p: 1, f: 'txn', input: { compare: [{ key: 'a', target: 'version', cmp: '=', value: 0 }], success: [put('b', 1)] }, output: { succeeded: true, results: [{ version: 1 }] }, at: [0, 1] },
        { p: 1, f: 'put', input: { key: 'c', value: 5 }, at: [2, 3] },
        { p: 2, f: 'get', input: { key: 'c' }, output: 5, at: [4, 5] },
        { p: 2, f: 'txn', input: { success: [get('b'), get('d')] }, output: { succeeded: true, results: [got(1, 1), got(null, 0)] }, at: [6, 7] },
      ],
      true,
    );
    expect(result.verdict).toBe('linearizable');
    expect(result.partitions.map((p) => [p.key, p.keys ?? null, p.ops])).toEqual([
      ['a', ['a', 'b', 'd'], 2],
      ['c', null, 2],
    ]);
  });

  it('decides the branch by its compares: the succeeded flag and the branch results must agree with the state', () => {
    const txn = (succeeded: boolean, results: JsonValue[]): OpSpec => ({
      p: 2,
      f: 'txn',
      input: { compare: [{ key: 'a', target: 'value', cmp: '=', value: 1 }], success: [put('b', 'yes')], failure: [get('a')] },
      output: { succeeded, results },
      at: [2, 3],
    });
    const first: OpSpec = { p: 1, f: 'put', input: { key: 'a', value: 1 }, at: [0, 1] };
    expect(check([first, txn(true, [{ version: 1 }])]).verdict).toBe('linearizable');
    expect(check([first, txn(false, [got(1, 1)])]).verdict).toBe('not-linearizable');
    expect(check([first, txn(true, [{ version: 2 }])]).verdict).toBe('not-linearizable');
    expect(check([first, txn(true, [])]).verdict).toBe('not-linearizable');
  });

  it('tracks versions: a version compare, put results and reads of the version', () => {
    const history: OpSpec[] = [
      { p: 1, f: 'put', input: { key: 'a', value: 1 }, at: [0, 1] },
      { p: 1, f: 'put', input: { key: 'a', value: 2 }, at: [2, 3] },
      { p: 1, f: 'delete', input: { key: 'a' }, at: [4, 5] },
      { p: 1, f: 'put', input: { key: 'a', value: 3 }, at: [6, 7] },
    ];
    const read = (version: number): OpSpec => ({
      p: 2,
      f: 'txn',
      input: { compare: [{ key: 'a', target: 'version', cmp: '<', value: 2 }], success: [get('a')] },
      output: { succeeded: true, results: [got(3, version)] },
      at: [8, 9],
    });
    // the delete ended a's generation: the put of 3 is version 1 again
    expect(check([...history, read(1)]).verdict).toBe('linearizable');
    expect(check([...history, read(3)]).verdict).toBe('not-linearizable');
    // casVersion needs the version too, even on a partition of one key
    const cas = (version: number, swapped: boolean): OpSpec => ({ p: 2, f: 'casVersion', input: { key: 'a', version, value: 9 }, output: swapped, at: [8, 9] });
    expect(check([...history, cas(1, true), { p: 2, f: 'get', input: { key: 'a' }, output: 9, at: [10, 11] }]).verdict).toBe('linearizable');
    expect(check([...history, cas(3, true)]).verdict).toBe('not-linearizable');
    expect(check([...history, cas(3, false)]).verdict).toBe('linearizable');
  });

  it('decides nested compares against the state before the txn, and lets reads see the writes before them', () => {
    const input = {
      success: [put('a', 1), { op: 'txn', compare: [{ key: 'a', target: 'createRevision', cmp: '=', value: 0 }], success: [get('a')], failure: [] }],
    };
    // the nested compare sees a absent (before the txn), so its success branch runs and reads the new a
    const output: JsonValue = { succeeded: true, results: [{ version: 1 }, { succeeded: true, results: [got(1, 1)] }] };
    expect(check([{ p: 1, f: 'txn', input, output, at: [0, 1] }]).verdict).toBe('linearizable');
    const nestedFailed: JsonValue = { succeeded: true, results: [{ version: 1 }, { succeeded: false, results: [] }] };
    expect(check([{ p: 1, f: 'txn', input, output: nestedFailed, at: [0, 1] }]).verdict).toBe('not-linearizable');
  });

  it('joins every key a range covers, and checks what the range saw', () => {
    const history = (items: JsonValue): OpSpec[] => [
      { p: 1, f: 'put', input: { key: 'p/1', value: 1 }, at: [0, 1] },
      { p: 1, f: 'put', input: { key: 'p/2', value: 2 }, at: [2, 3] },
      { p: 1, f: 'put', input: { key: 'q', value: 3 }, at: [4, 5] },
      { p: 2, f: 'txn', input: { success: [{ op: 'range', prefix: 'p/' }] }, output: { succeeded: true, results: [{ items, more: false }] }, at: [6, 7] },
    ];
    const item = (key: string, value: number) => ({ key, value, version: 1, createRevision: 1, modRevision: 1 });
    const ok = check(history([item('p/1', 1), item('p/2', 2)]), true);
    expect(ok.verdict).toBe('linearizable');
    expect(ok.partitions.map((p) => p.keys ?? [p.key])).toEqual([['p/1', 'p/2'], ['q']]);
    expect(check(history([item('p/2', 2)])).verdict).toBe('not-linearizable');
    // a prefix delete removes every live key under it, in one step
    const deleted = check([
      ...history([item('p/1', 1), item('p/2', 2)]),
      { p: 1, f: 'deleteRange', input: { op: 'delete', prefix: 'p/' }, at: [8, 9] },
      { p: 2, f: 'get', input: { key: 'p/2' }, output: null, at: [10, 11] },
      { p: 2, f: 'range', input: { prefix: '' }, output: [['q', 3]], at: [12, 13] },
    ]);
    expect(deleted.verdict).toBe('linearizable');
  });

  it('leaves out what it cannot judge: reads of past revisions and unseen read-only txns', () => {
    const result = check([
      { p: 1, f: 'put', input: { key: 'a', value: 1 }, at: [0, 1] },
      { p: 2, f: 'getAt', input: { key: 'a', revision: 7 }, output: 'anything', at: [2, 3] },
      { p: 3, f: 'txn', input: { success: [get('a')] }, at: [2, 3], outcome: 'unknown' },
    ]);
    expect(result.verdict).toBe('linearizable');
    expect(result.partitions.map((p) => p.ops)).toEqual([1]);
  });

  it('refuses shapes it does not model, naming the operation', () => {
    const refused = (input: JsonValue): string => {
      try {
        check([{ p: 1, f: 'txn', input, output: null, at: [0, 1] }]);
        return 'accepted';
      } catch (err) {
        expect(err).toBeInstanceOf(CheckError);
        expect((err as CheckError).code).toBe('BAD_OP');
        return (err as CheckError).message;
      }
    };
    expect(refused({ compare: [{ key: 'a', target: 'modRevision', cmp: '=', value: 5 }] })).toMatch(/operation 0: kv txn compares of modRevision are modelled against 0 only/);
    expect(refused({ success: [{ op: 'put', key: 'a', value: 1, lease: 3 }] })).toMatch(/lease/);
    expect(refused({ success: [{ op: 'get', key: 'a', revision: 2 }] })).toMatch(/takes no "revision"/);
    expect(refused({ success: 'no' })).toMatch(/"success" must be an array/);
    expect(refused({ success: [put('a', 1)] })).toBe('accepted');
  });

  it('leaves session checks to histories without multi-key writes', () => {
    const history = historyOf([{ p: 1, f: 'txn', input: { success: [put('a', 1)] }, output: null, at: [0, 1] }]);
    expect(() => checkSessions(history, kvModel)).toThrow(/session checks do not know kv txn/);
  });

  it('names every key of a violating partition in the report', () => {
    const specs: OpSpec[] = [
      { p: 1, f: 'txn', input: { success: [put('a', 1), put('b', 1)] }, output: { succeeded: true, results: [{ version: 1 }, { version: 1 }] }, at: [0, 1] },
      { p: 2, f: 'get', input: { key: 'b' }, output: null, at: [2, 3] },
    ];
    const history = historyOf(specs);
    expect(formatCheckText(checkHistory(history, kvModel), history)).toMatch(/longest linearizable prefix in keys "a", "b"/);
  });
});

/** The results of the `pick`-th ok txn or get that read a key, with that read's value replaced by one never written. */
function corruptRead(history: History, pick: number): History | null {
  const reads: { op: Operation; path: number[] }[] = [];
  const visit = (op: Operation, seen: JsonValue, path: number[]): void => {
    if (seen === null || typeof seen !== 'object' || Array.isArray(seen)) return;
    const results = seen['results'];
    if (Array.isArray(results)) results.forEach((r, i) => visit(op, r, [...path, i]));
    else if ('createRevision' in seen && !('key' in seen)) reads.push({ op, path });
  };
  for (const op of history.ops) {
    if (op.outcome !== 'ok') continue;
    if (op.f === 'get') reads.push({ op, path: [] });
    if (op.f === 'txn') visit(op, op.output, []);
  }
  if (reads.length === 0) return null;
  const target = reads[pick % reads.length]!;
  const replace = (seen: JsonValue, path: readonly number[]): JsonValue => {
    if (path.length === 0) return typeof seen === 'object' && seen !== null && !Array.isArray(seen) ? { ...seen, value: -999 } : -999;
    const obj = seen as { [key: string]: JsonValue };
    const results = [...(obj['results'] as JsonValue[])];
    results[path[0]!] = replace(results[path[0]!]!, path.slice(1));
    return { ...obj, results };
  };
  return { ...history, ops: history.ops.map((op) => (op === target.op ? { ...op, output: replace(op.output, target.path) } : op)) };
}

describe('kv txn histories (property)', () => {
  it('run in order on the KvStore, then widened, are linearizable', () => {
    fc.assert(
      fc.property(linearizableTxnHistory(), (history) => {
        expect(checkHistory(history, kvModel).verdict).toBe('linearizable');
      }),
      { numRuns: 400 },
    );
  });

  it('are not, once a read (in a txn or alone) returns a value never written', () => {
    fc.assert(
      fc.property(linearizableTxnHistory(), fc.nat(), (history, pick) => {
        const corrupted = corruptRead(history, pick);
        fc.pre(corrupted !== null);
        expect(checkHistory(corrupted!, kvModel).verdict).toBe('not-linearizable');
      }),
      { numRuns: 300 },
    );
  });

  it('small random ones get the verdict of brute force over the whole history (no partitioning assumed)', () => {
    let violations = 0;
    let linearizable = 0;
    fc.assert(
      fc.property(randomTxnHistory(), (history) => {
        const result = checkHistory(history, kvModel);
        const expected = bruteForceLinearizable(history, kvModel, { whole: true });
        expect(result.verdict).toBe(expected ? 'linearizable' : 'not-linearizable');
        if (expected) linearizable++;
        else violations++;
      }),
      { numRuns: 1500 },
    );
    // the generator must make both verdicts, or the comparison proves little
    expect(Math.min(violations, linearizable)).toBeGreaterThan(60);
  });
});
