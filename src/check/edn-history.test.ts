// Jepsen's history.edn and Porcupine's KV logs: maps one per line or in one vector, tagged maps,
// maps over several lines, nemesis events skipped, kv keys from :key or [key value] tuples, the
// raw events (for checkers of other shapes, such as :txn), and errors that name the line.
import { describe, expect, it } from 'vitest';
import { CheckError } from './errors.js';
import { checkHistory } from './checker.js';
import { parseEdnHistory, parsePorcupineKv, readEdnEvents, EdnHistoryReader } from './formats/edn-history.js';
import { kvModel } from './models/kv.js';
import { registerModel } from './models/register.js';

const REGISTER = `{:type :invoke, :f :write, :value 1, :process 0, :time 100, :index 0}
{:type :ok, :f :write, :value 1, :process 0, :time 200, :index 1}
{:type :info, :f :start, :value nil, :process :nemesis, :time 250, :index 2}
{:type :invoke, :f :cas, :value [1 2], :process 1, :time 300, :index 3}
{:type :invoke, :f :read, :value nil, :process 0, :time 310, :index 4}
{:type :fail, :f :cas, :value [1 2], :process 1, :time 400, :index 5, :error :timeout}
{:type :ok, :f :read, :value 1, :process 0, :time 410, :index 6}
{:type :invoke, :f :write, :value 3, :process 2, :time 500, :index 7}
`;

function error(run: () => unknown): CheckError {
  try {
    run();
  } catch (err) {
    if (err instanceof CheckError) return err;
    throw err;
  }
  throw new Error('expected a CheckError');
}

describe('EDN histories', () => {
  it('pairs invocations and completions per process, in event positions, skipping the nemesis', () => {
    expect(parseEdnHistory(REGISTER).ops).toEqual([
      { index: 0, process: '0', f: 'write', input: 1, output: 1, invokeMs: 0, completeMs: 1, outcome: 'ok' },
      { index: 1, process: '1', f: 'cas', input: [1, 2], output: null, invokeMs: 3, completeMs: 5, outcome: 'fail' },
      { index: 2, process: '0', f: 'read', input: null, output: 1, invokeMs: 4, completeMs: 6, outcome: 'ok' },
      { index: 3, process: '2', f: 'write', input: 3, output: null, invokeMs: 7, completeMs: 8, outcome: 'unknown' },
    ]);
  });

  it('reads a vector of maps, tagged maps and maps over several lines as the same history', () => {
    const lines = REGISTER.trim().split('\n');
    const vector = `[${lines.join('\n ')}]\n`;
    const tagged = lines.map((l) => `#jepsen.history.Op${l}`).join('\n');
    const spread = lines.map((l) => l.replaceAll(', ', ',\n  ')).join('\n');
    const oneLine = `[${lines.join(' ')}]`;
    for (const text of [vector, tagged, spread, oneLine]) expect(parseEdnHistory(text)).toEqual(parseEdnHistory(REGISTER));
  });

  it('reads the same in chunks of any size', () => {
    for (const size of [1, 3, 17]) {
      const reader = new EdnHistoryReader();
      for (let at = 0; at < REGISTER.length; at += size) reader.push(REGISTER.slice(at, at + size));
      expect(reader.finish()).toEqual(parseEdnHistory(REGISTER));
    }
  });

  it('checks: the failed cas is dropped by default and refutes the read when observed', () => {
    const history = parseEdnHistory(REGISTER);
    expect(checkHistory(history, registerModel).verdict).toBe('linearizable');
    expect(checkHistory(history, registerModel, { failedCas: 'observed' }).verdict).toBe('not-linearizable');
  });

  it('exposes the raw events with EDN values as JSON, for checkers of other shapes', () => {
    const events = readEdnEvents(
      '{:type :invoke, :f :txn, :value [[:append 1 2] [:r 1 nil]], :process 3, :time 12, :index 7}\n' +
        '{:type :ok, :f :txn, :value [[:append 1 2] [:r 1 [2]]], :process 3, :time 20, :index 8, :extra {:a #{1}}}\n',
    );
    expect(events.map((e) => [e.type, e.f, e.process, e.value, e.time, e.index, e.line, e.position])).toEqual([
      ['invoke', 'txn', '3', [[':append', 1, 2], [':r', 1, null]], 12, 7, 1, 0],
      ['ok', 'txn', '3', [[':append', 1, 2], [':r', 1, [2]]], 20, 8, 2, 1],
    ]);
    expect(events[1]!.fields[':extra']).toEqual({ ':a': [1] });
  });

  it('reads kv operations from [key value] tuples (Jepsen independent keys) or a :key field', () => {
    const tuples = `{:type :invoke, :f :write, :value [7 1], :process 0}
{:type :ok, :f :write, :value [7 1], :process 0}
{:type :invoke, :f :cas, :value [7 [1 2]], :process 0}
{:type :ok, :f :cas, :value [7 [1 2]], :process 0}
{:type :invoke, :f :read, :value [7 nil], :process 1}
{:type :ok, :f :read, :value [7 2], :process 1}
{:type :invoke, :f :read, :value nil, :key "x", :process 1}
{:type :ok, :f :read, :value 5, :key "x", :process 1}
`;
    const history = parseEdnHistory(tuples, { shape: 'kv' });
    expect(history.ops.map((op) => [op.f, op.input, op.output])).toEqual([
      ['put', { key: '7', value: 1 }, [7, 1]],
      ['cas', { key: '7', from: 1, to: 2 }, [7, [1, 2]]],
      ['get', { key: '7' }, 2],
      ['get', { key: 'x' }, 5],
    ]);
    const result = checkHistory(history, kvModel, { allPartitions: true });
    expect(result.partitions.map((p) => [p.key, p.verdict])).toEqual([
      ['7', 'linearizable'],
      ['x', 'not-linearizable'],
    ]);
  });

  it('takes Porcupine\'s "" as a missing key', () => {
    const history = parsePorcupineKv(`{:process 0, :type :invoke, :f :get, :key "1", :value nil}
{:process 0, :type :ok, :f :get, :key "1", :value ""}
{:process 0, :type :invoke, :f :put, :key "1", :value ""}
{:process 0, :type :ok, :f :put, :key "1", :value ""}
{:process 0, :type :invoke, :f :append, :key "1", :value "ab"}
{:process 0, :type :ok, :f :append, :key "1", :value "ab"}
`);
    expect(history.ops.map((op) => [op.f, op.input, op.output])).toEqual([
      ['get', { key: '1' }, null],
      ['put', { key: '1', value: null }, ''],
      ['append', { key: '1', value: 'ab' }, 'ab'],
    ]);
    expect(checkHistory(history, kvModel).verdict).toBe('linearizable');
  });

  it('names the line of malformed or misplaced maps (EDN_HISTORY)', () => {
    const cases: Array<[string, number, RegExp]> = [
      ['{:type :invoke, :f :read, :process 0}\n{:type :done, :f :read, :process 0}\n', 2, /:type must be/],
      ['{:type :invoke, :f :read, :process 0}\n{:type :ok, :f :write, :process 0}\n', 2, /completes :write but invoked :read on line 1/],
      ['\n\n{:type :ok, :f :read, :process 0}\n', 3, /never invoked/],
      ['{:type :invoke, :f :read, :process 0}\n{:type :invoke, :f :read, :process 0}\n', 2, /invokes again/],
      ['{:type :invoke, :f :read}\n', 1, /:process must be/],
      ['{:type :invoke, :f :read, :process 0, :value 1N}\n', 1, /bad map .*unsupported value "1N"/],
      ['{:type :invoke, :f :read, :process 0, :process 1}\n', 1, /appears twice/],
      ['{:type :invoke, :f :read, :process 0}\n[1 2]\n', 2, /expected a map/],
      ['{:type :invoke, :f :read, :process 0}]\n', 1, /closes a bracket it never opened|expected a map/],
      ['[{:type :invoke, :f :read, :process 0}]\n{:type :ok}\n', 2, /text after the vector/],
      ['#inst "2020"\n', 1, /expected a map/],
      ['{:type :invoke, :f 12, :process 0}\n', 1, /:f must be a keyword/],
      ['{:type :invoke, :f :read, :process 0, :time "x"}\n', 1, /:time must be a number/],
    ];
    for (const [text, line, message] of cases) {
      const err = error(() => parseEdnHistory(text));
      expect([err.code, err.line, err.message], text).toEqual(['EDN_HISTORY', line, expect.stringMatching(message)]);
      expect(err.message.startsWith(`line ${line}: `)).toBe(true);
    }
    expect(error(() => parseEdnHistory('{:type :invoke, :f :write, :process 0, :value 1}\n', { shape: 'kv' })).message).toMatch(
      /line 1: the :write invoked here has neither a :key nor a \[key value\] :value/,
    );
  });

  it('refuses text cut off inside a map or the vector (TRUNCATED_HISTORY), blank text (EMPTY_HISTORY) and huge maps (LINE_TOO_LONG)', () => {
    const cut = REGISTER.slice(0, REGISTER.indexOf(':time 300'));
    expect(error(() => parseEdnHistory(cut))).toMatchObject({ code: 'TRUNCATED_HISTORY', line: 4 });
    expect(error(() => parseEdnHistory('[{:type :invoke, :f :read, :process 0}\n'))).toMatchObject({ code: 'TRUNCATED_HISTORY', line: 1 });
    expect(error(() => parseEdnHistory('{:type :invoke, :f :read, :process 0, :value "abc'))).toMatchObject({ code: 'TRUNCATED_HISTORY', line: 1 });
    expect(error(() => parseEdnHistory(' \n\n ; only a comment\n'))).toMatchObject({ code: 'EMPTY_HISTORY' });
    // a complete last map needs no newline: a map is self-delimiting
    expect(parseEdnHistory(REGISTER.trimEnd()).ops).toHaveLength(4);
    // a map over many short lines is limited as a whole
    const long = `{:type :invoke, :f :write, :process 0,\n :value [${'\n 1234567890'.repeat(30)}]}\n`;
    expect(error(() => parseEdnHistory(long, { maxLineChars: 200 }))).toMatchObject({ code: 'LINE_TOO_LONG', line: 1 });
    expect(parseEdnHistory(long, { maxLineChars: 1000 }).ops).toHaveLength(1);
  });

  it('survives deep nesting and a huge single line without overflowing the stack', () => {
    const deep = `{:type :invoke, :f :read, :process 0, :value ${'['.repeat(100_000)}}\n`;
    expect(error(() => parseEdnHistory(deep)).code).toMatch(/^(EDN_HISTORY|TRUNCATED_HISTORY)$/);
    const nestedMaps = `{:type :invoke, :f :read, :process 0, :value ${'{:a '.repeat(200)}1${'}'.repeat(200)}}\n`;
    expect(error(() => parseEdnHistory(nestedMaps))).toMatchObject({ code: 'EDN_HISTORY', message: expect.stringMatching(/nested deeper than 100/) });
    const wide = `{:type :invoke, :f :write, :process 0, :value [${'1 '.repeat(1_000_000)}]}\n`;
    expect(parseEdnHistory(wide).ops[0]!.input).toHaveLength(1_000_000);
  });
});
