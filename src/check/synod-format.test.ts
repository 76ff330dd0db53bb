// The Synod history reader: a document from HistoryRecorder round-trips, and each malformed field
// gives HISTORY_FORMAT with a message naming the operation.
import { describe, expect, it } from 'vitest';
import { HistoryRecorder } from '../core/index.js';
import { parseSynodHistory, validateHistory } from './formats/synod.js';
import { MAX_VALUE_DEPTH } from './json.js';

function recorded(): string {
  const recorder = new HistoryRecorder();
  const w = recorder.invoke('p1', 'write', 1, 0);
  const r = recorder.invoke('p2', 'read', null, 1);
  recorder.complete(w, 'ok', null, 2);
  recorder.complete(r, 'ok', 1, 3);
  recorder.invoke('p3', 'cas', [1, 2], 4);
  return JSON.stringify(recorder.snapshot(10));
}

describe('parseSynodHistory', () => {
  it('reads what HistoryRecorder writes', () => {
    const history = parseSynodHistory(recorded());
    expect(history.ops.map((op) => [op.index, op.f, op.outcome])).toEqual([
      [0, 'write', 'ok'],
      [1, 'read', 'ok'],
      [2, 'cas', 'unknown'],
    ]);
  });

  it.each([
    ['not json', '{', /not JSON/],
    ['wrong format', '{"format":"x","ops":[]}', /"format"/],
    ['ops not an array', '{"format":"synod-history/1","ops":{}}', /"ops" must be an array/],
  ])('rejects a document that is %s', (_what, text, message) => {
    expect(() => parseSynodHistory(text)).toThrow(message);
    expect(() => parseSynodHistory(text)).toThrow(expect.objectContaining({ code: 'HISTORY_FORMAT' }));
  });

  const good = { index: 0, process: 'p', f: 'read', input: null, output: 1, invokeMs: 0, completeMs: 1, outcome: 'ok' };
  it.each([
    ['a missing field', { ...good, input: undefined }, /ops\[0\]: missing "input"/],
    ['a bad outcome', { ...good, outcome: 'maybe' }, /"outcome"/],
    ['a negative index', { ...good, index: -1 }, /"index"/],
    ['a non-numeric time', { ...good, invokeMs: '0' }, /"invokeMs"/],
    ['a completion before the invocation', { ...good, invokeMs: 5 }, /completes \(1\) before/],
    ['a process that is not a string', { ...good, process: 1 }, /"process"/],
  ])('rejects an operation with %s', (_what, op, message) => {
    const doc = JSON.parse(JSON.stringify({ format: 'synod-history/1', ops: [op] })) as unknown;
    expect(() => validateHistory(doc)).toThrow(message);
  });

  it('refuses values nested deeper than MAX_VALUE_DEPTH instead of overflowing the stack', () => {
    const doc = (input: string): string =>
      `{"format":"synod-history/1","ops":[{"index":0,"process":"p","f":"write","input":${input},"output":null,"invokeMs":0,"completeMs":1,"outcome":"ok"}]}`;
    const nested = (depth: number): string => `${'['.repeat(depth)}${']'.repeat(depth)}`;
    expect(parseSynodHistory(doc(nested(MAX_VALUE_DEPTH))).ops).toHaveLength(1);
    for (const deep of [nested(MAX_VALUE_DEPTH + 1), nested(100_000), `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`]) {
      expect(() => parseSynodHistory(doc(deep))).toThrow(expect.objectContaining({ code: 'HISTORY_FORMAT', message: 'ops[0]: "input" is nested deeper than 100' }));
    }
  });

  it('rejects duplicate indices', () => {
    expect(() => validateHistory({ format: 'synod-history/1', ops: [good, good] })).toThrow(/two operations have index 0/);
  });
});
