// Porcupine's six KV test histories (get/put/append over ten keys, 1 to 50 clients): each gets
// the verdict Porcupine's own tests expect, and the reader's "" = absent convention holds.
import { describe, expect, it } from 'vitest';
import { PORCUPINE_KV, porcupineKvExpected, porcupineKvText } from '../../test/porcupine-kv.js';
import { checkHistory } from './checker.js';
import { parsePorcupineKv } from './formats/edn-history.js';
import { kvModel } from './models/kv.js';

describe("Porcupine's KV histories", () => {
  for (const name of PORCUPINE_KV) {
    it(`${name} is ${porcupineKvExpected(name)}`, () => {
      const history = parsePorcupineKv(porcupineKvText(name));
      const result = checkHistory(history, kvModel, { now: () => performance.now(), budgetMs: 30_000 });
      expect(result.verdict).toBe(porcupineKvExpected(name));
      if (result.verdict === 'not-linearizable') expect(result.partitions.find((p) => p.key === result.violation?.key)?.verdict).toBe('not-linearizable');
    });
  }

  it('reads c01-ok into kv operations, in event order', () => {
    const history = parsePorcupineKv(porcupineKvText('c01-ok'));
    expect(history.ops).toHaveLength(58);
    expect(history.ops[0]).toEqual({ index: 0, process: '0', f: 'append', input: { key: '0', value: 'x 0 0 y' }, output: 'x 0 0 y', invokeMs: 0, completeMs: 1, outcome: 'ok' });
    // {:f :get, :key "5", :value ""}: an empty string is a missing key
    expect(history.ops.find((op) => op.f === 'get' && op.output === null)).toBeDefined();
  });

  it('c50-bad is answered with every key verdict in --all mode too', () => {
    // a state budget, not a clock, so the outcome is the same on any machine
    const result = checkHistory(parsePorcupineKv(porcupineKvText('c50-bad')), kvModel, { maxStates: 300_000, allPartitions: true });
    expect(result.verdict).toBe('not-linearizable');
    expect(result.partitions).toHaveLength(10);
    expect(result.partitions.filter((p) => p.verdict === 'unknown').every((p) => p.reason === 'state-budget')).toBe(true);
    // keys 1, 2, 3, 4 and 6 are refuted in a few thousand states each
    for (const key of ['1', '2', '3', '4', '6']) expect(result.partitions.find((p) => p.key === key)?.verdict).toBe('not-linearizable');
  });
});
