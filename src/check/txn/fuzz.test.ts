// The txn reader and checker on hostile input: whatever the text, parseTxnHistory and
// checkTxnHistory either return or throw a CheckError, never anything else.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CheckError } from '../errors.js';
import { checkTxnHistory } from './check.js';
import { parseTxnHistory, type TxnFormat } from './read.js';
import { ISOLATION_LEVELS } from './types.js';

const seeds = [
  '{:type :invoke, :f :txn, :value [[:append :x 1] [:r :y nil]], :process 0, :index 0}\n{:type :ok, :f :txn, :value [[:append :x 1] [:r :y [2]]], :process 0, :index 1}\n',
  '[{:type :ok, :value [[:w "k" 1] [:r "k" 1]]} {:type :fail, :value [[:w "k" 2]]}]',
  '{"events": [{"type": "ok", "value": [["append", 1, 2], ["r", 1, [2]]]}]}',
];

function only(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CheckError);
  }
}

const mutated = fc.tuple(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.nat({ max: 5 }), fc.string({ maxLength: 4 })), { maxLength: 6 })).map(([seed, edits]) => {
  let text = seed;
  for (const [at, cut, insert] of edits) {
    const i = at % (text.length + 1);
    text = text.slice(0, i) + insert + text.slice(i + cut);
  }
  return text;
});

describe('txn reader and checker on hostile input', () => {
  it('throw nothing but CheckError', () => {
    fc.assert(
      fc.property(fc.oneof(mutated, fc.string({ maxLength: 60 })), fc.constantFrom<TxnFormat>('edn', 'json'), (text, format) => {
        only(() => {
          const h = parseTxnHistory(text, format);
          for (const model of ['txn-append', 'txn-rw'] as const) {
            for (const isolation of ISOLATION_LEVELS) only(() => checkTxnHistory(h, { model, isolation }));
          }
        });
      }),
      { numRuns: Number(process.env['SYNOD_FUZZ_RUNS'] ?? 1500) },
    );
  });
});
