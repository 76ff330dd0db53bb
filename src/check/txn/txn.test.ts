// Hand-made histories for each anomaly type and isolation level, the readers (EDN lines, EDN
// vector, JSON) and their errors, a 10,000-transaction generated history, and the command
// function with its exit codes and output.
import { describe, expect, it } from 'vitest';
import { CheckError } from '../errors.js';
import { checkTxnHistory } from './check.js';
import { generateAppendHistory, historyToEdn, historyToJson } from './generate.js';
import { FORBIDDEN } from './isolation.js';
import { parseTxnHistory } from './read.js';
import { runTxnCheckCommand, type TxnCommandIo } from './report.js';
import { completions, sequential } from './test-dsl.js';
import { CYCLE_ANOMALIES, ISOLATION_LEVELS, OTHER_ANOMALIES, type AnomalyType, type IsolationLevel, type TxnHistory, type TxnModelName } from './types.js';

function verdicts(h: TxnHistory, model: TxnModelName = 'txn-append'): Record<IsolationLevel, string> {
  return Object.fromEntries(ISOLATION_LEVELS.map((l) => [l, checkTxnHistory(h, { model, isolation: l }).verdict])) as Record<IsolationLevel, string>;
}

const ALL_INVALID = { 'read-committed': 'invalid', 'snapshot-isolation': 'invalid', serializable: 'invalid', 'strict-serializable': 'invalid' };

describe('one history per anomaly', () => {
  const table: { type: AnomalyType; model?: TxnModelName; h: () => TxnHistory; levels: Record<IsolationLevel, string> }[] = [
    { type: 'G0', h: () => completions(['ax1ay1', 'ax2ay2', 'rx12ry21']), levels: ALL_INVALID },
    { type: 'G1a', h: () => completions([['fail', 'ax1'], 'rx1']), levels: ALL_INVALID },
    { type: 'G1b', h: () => completions(['ax1ax2', 'rx1']), levels: ALL_INVALID },
    { type: 'G1c', h: () => completions(['ax1ry1', 'ax2ay1', 'rx12ry1']), levels: ALL_INVALID },
    {
      type: 'G-single',
      h: () => completions(['ax1ay1', 'ax2ry', 'rx12']),
      levels: { 'read-committed': 'valid', 'snapshot-isolation': 'invalid', serializable: 'invalid', 'strict-serializable': 'invalid' },
    },
    {
      type: 'G-nonadjacent',
      h: () => completions(['ax1', 'rx1ry', 'ay1', 'ry1rx']),
      levels: { 'read-committed': 'valid', 'snapshot-isolation': 'invalid', serializable: 'invalid', 'strict-serializable': 'invalid' },
    },
    {
      type: 'G2',
      h: () => completions(['ax1ry', 'ay1rx']),
      levels: { 'read-committed': 'valid', 'snapshot-isolation': 'valid', serializable: 'invalid', 'strict-serializable': 'invalid' },
    },
    {
      type: 'lost-update',
      h: () => completions(['ax0', 'rx0ax1', 'rx0ax2', 'rx012']),
      levels: { 'read-committed': 'valid', 'snapshot-isolation': 'invalid', serializable: 'invalid', 'strict-serializable': 'invalid' },
    },
    { type: 'internal', h: () => completions(['ax1rx']), levels: ALL_INVALID },
    { type: 'future-read', h: () => completions(['rx1ax1']), levels: ALL_INVALID },
    { type: 'incompatible-order', h: () => completions(['ax1', 'ax2', 'rx12', 'rx21']), levels: ALL_INVALID },
    { type: 'duplicate-elements', h: () => completions(['ax1', 'rx11']), levels: ALL_INVALID },
    { type: 'garbage-read', h: () => completions(['rx7']), levels: ALL_INVALID },
    { type: 'dirty-update', h: () => completions([['fail', 'ax1'], 'ax2', 'rx12']), levels: ALL_INVALID },
    {
      type: 'G-single-realtime',
      // T1 appends 1, T2 (invoked after T1 completed) reads x empty: it must follow T1 in real time
      h: () => sequential(['ax1', 'rx']),
      levels: { 'read-committed': 'valid', 'snapshot-isolation': 'valid', serializable: 'valid', 'strict-serializable': 'invalid' },
    },
    {
      type: 'G0-realtime',
      // T2 finished before T1 began, but x's order puts T1's append first
      h: () => sequential(['ax2', 'ax1', 'rx12']),
      levels: { 'read-committed': 'valid', 'snapshot-isolation': 'valid', serializable: 'valid', 'strict-serializable': 'invalid' },
    },
    {
      type: 'G1c-realtime',
      // T1 reads T2's append, but T2 was invoked only after T1 completed
      h: () => sequential(['ry1', 'ay1']),
      levels: { 'read-committed': 'valid', 'snapshot-isolation': 'valid', serializable: 'valid', 'strict-serializable': 'invalid' },
    },
    // rw-register
    { type: 'G1a', model: 'txn-rw', h: () => completions([['fail', 'wx1'], 'rx1'], 'rw'), levels: ALL_INVALID },
    { type: 'G1b', model: 'txn-rw', h: () => completions(['wx1wx2', 'rx1'], 'rw'), levels: ALL_INVALID },
    { type: 'G1c', model: 'txn-rw', h: () => completions(['wx1ry1', 'wy1rx1'], 'rw'), levels: ALL_INVALID },
    {
      type: 'G2',
      model: 'txn-rw',
      // write skew: both read nil and write the other key
      h: () => completions(['rx_wy1', 'ry_wx1'], 'rw'),
      levels: { 'read-committed': 'valid', 'snapshot-isolation': 'valid', serializable: 'invalid', 'strict-serializable': 'invalid' },
    },
    {
      type: 'lost-update',
      model: 'txn-rw',
      h: () => completions(['wx1', 'rx1wx2', 'rx1wx3'], 'rw'),
      levels: { 'read-committed': 'valid', 'snapshot-isolation': 'invalid', serializable: 'invalid', 'strict-serializable': 'invalid' },
    },
    { type: 'internal', model: 'txn-rw', h: () => completions(['wx1rx2', 'wx2'], 'rw'), levels: ALL_INVALID },
    { type: 'garbage-read', model: 'txn-rw', h: () => completions(['rx9'], 'rw'), levels: ALL_INVALID },
  ];
  for (const row of table) {
    it(`${row.model ?? 'txn-append'}: ${row.type}`, () => {
      const h = row.h();
      const r = checkTxnHistory(h, { model: row.model ?? 'txn-append', isolation: 'strict-serializable' });
      expect(r.anomalyTypes).toContain(row.type);
      expect(verdicts(h, row.model)).toEqual(row.levels);
    });
  }

  it('every anomaly type is forbidden by strict serializability, and each level forbids what the weaker ones do', () => {
    for (const t of [...CYCLE_ANOMALIES, ...OTHER_ANOMALIES]) expect(FORBIDDEN['strict-serializable'].has(t)).toBe(true);
    for (let i = 1; i < ISOLATION_LEVELS.length; i++) {
      for (const t of FORBIDDEN[ISOLATION_LEVELS[i - 1]!]) expect(FORBIDDEN[ISOLATION_LEVELS[i]!].has(t)).toBe(true);
    }
  });

  it('explains a cycle step by step, with its transactions', () => {
    const r = checkTxnHistory(completions(['ax1ay1', 'ax2ay2', 'rx12ry21']), { model: 'txn-append' });
    const g0 = r.anomalies['G0']![0]!;
    expect(g0).toMatchObject({ type: 'G0', cycle: [0, 1, 0] });
    expect('steps' in g0 && g0.steps.map((s) => s.why)).toEqual(["T1 appended 2 to key :x after T0's 1 (ww)", "T0 appended 1 to key :y after T1's 2 (ww)"]);
    expect('txns' in g0 && g0.txns[0]).toEqual({ index: 0, process: 0, outcome: 'ok', value: [['append', ':x', 1], ['append', ':y', 1]] });
  });

  it('rw-register: nothing is inferred about the order of two blind writes', () => {
    expect(checkTxnHistory(completions(['wx1wy2', 'wx2wy1', 'rx2', 'ry2'], 'rw'), { model: 'txn-rw' }).verdict).toBe('valid');
  });

  it('refuses a model mismatch, an unknown level and bad options with typed errors', () => {
    expect(() => checkTxnHistory(completions(['wx1'], 'rw'), { model: 'txn-append' })).toThrow(expect.objectContaining({ code: 'BAD_OP' }));
    expect(() => checkTxnHistory(completions(['ax1']), { model: 'txn-rw' })).toThrow(expect.objectContaining({ code: 'BAD_OP' }));
    expect(() => checkTxnHistory(completions(['ax1']), { model: 'txn-append', isolation: 'linearizable' as IsolationLevel })).toThrow(expect.objectContaining({ code: 'BAD_OPTION' }));
    expect(() => checkTxnHistory(completions(['ax1']), { model: 'nope' as TxnModelName })).toThrow(expect.objectContaining({ code: 'UNKNOWN_MODEL' }));
    expect(() => checkTxnHistory(completions(['rx[1]'.replace('[1]', '1')]), { model: 'txn-append', maxExamples: -1 })).toThrow(CheckError);
  });

  it('marks snapshot isolation unknown, not valid, when the budgeted search runs out', () => {
    const r = checkTxnHistory(completions(['ax1ry', 'ay1rx']), { model: 'txn-append', isolation: 'snapshot-isolation', maxSearchSteps: 0 });
    expect(r.verdict).toBe('unknown');
    expect(r.incomplete).toMatch(/ran out/);
    expect(checkTxnHistory(completions(['ax1ry', 'ay1rx']), { model: 'txn-append', isolation: 'serializable', maxSearchSteps: 0 }).verdict).toBe('invalid');
  });
});

describe('reading txn histories', () => {
  const lines = [
    '; a comment',
    '{:type :invoke, :f :txn, :value [[:append :x 1] [:r :y nil]], :process 0, :time 1, :index 0}',
    '{:type :info, :f :start-partition, :value {:n1 #{"n2"}}, :process :nemesis, :index 1}',
    '{:type :ok, :f :txn, :value [[:append :x 1] [:r :y [2]]], :process 0, :time 2, :index 2}',
    '{:type :invoke, :f :txn, :value [[:append :y 2]], :process 1, :index 3}',
    '{:type :fail, :f :txn, :value [[:append :y 2]], :process 1, :index 4, :error [:aborted "no"]}',
    '{:type :invoke, :f :txn, :value [[:r :x nil]], :process "c", :index 5}',
  ];
  it('reads EDN lines, skipping other events, and pairs by process', () => {
    const h = parseTxnHistory(lines.join('\n'));
    expect(h.txns.map((t) => [t.index, t.outcome, t.process, t.invokedAt, t.completedAt])).toEqual([
      [2, 'ok', 0, 0, 1],
      [4, 'fail', 1, 2, 3],
      [5, 'info', 'c', 4, -1],
    ]);
    expect(h.txns[0]!.mops).toEqual([
      { f: 'append', key: ':x', value: 1 },
      { f: 'r', key: ':y', value: [2] },
    ]);
    // a failed or unfinished transaction's reads are not known
    expect(h.txns[2]!.mops).toEqual([{ f: 'r', key: ':x', value: null }]);
  });

  it('reads a vector of maps, and JSON, the same as EDN lines', () => {
    const edn = parseTxnHistory(lines.join('\n'));
    expect(parseTxnHistory(`[${lines.slice(1).join('\n')}]`).txns).toEqual(edn.txns);
    expect(parseTxnHistory(historyToJson(edn), 'json').txns.map((t) => [t.outcome, t.mops])).toEqual(edn.txns.map((t) => [t.outcome, t.mops]));
  });

  it('refuses malformed histories with typed errors naming the line', () => {
    const bad = (text: string, format: 'edn' | 'json' = 'edn'): CheckError => {
      try {
        parseTxnHistory(text, format);
      } catch (err) {
        if (err instanceof CheckError) return err;
        throw err;
      }
      throw new Error('expected a CheckError');
    };
    expect(bad('')).toMatchObject({ code: 'EMPTY_HISTORY' });
    expect(bad('{:type :ok, :f :txn, :value [[:append :x 1]]}\n{:type :ok, :value [[:frob :x 1]]}')).toMatchObject({ code: 'HISTORY_FORMAT', line: 2 });
    expect(bad('{:type :ok, :value [[:append :x 1]]')).toMatchObject({ code: 'HISTORY_FORMAT' });
    expect(bad('{:type :bogus, :value []}')).toMatchObject({ code: 'HISTORY_FORMAT' });
    expect(bad('{:type :invoke, :process 1, :value []}\n{:type :invoke, :process 1, :value []}')).toMatchObject({ code: 'HISTORY_FORMAT', line: 2 });
    expect(bad('{:type :ok, :value [[:r :x "unclosed]]}')).toMatchObject({ code: 'HISTORY_FORMAT' });
    expect(bad('[{"type": "ok"', 'json')).toMatchObject({ code: 'HISTORY_FORMAT' });
    expect(bad('{"events": [{"type": "ok", "value": 3}]}', 'json')).toMatchObject({ code: 'HISTORY_FORMAT' });
    expect(bad('{:type :nemesis-thing :f :start}')).toMatchObject({ code: 'HISTORY_FORMAT' });
  });
});

describe('generated histories', () => {
  it('judges a 10,000-transaction history valid, and finds stale reads in another', () => {
    const h = generateAppendHistory({ txns: 10_000, seed: 7 });
    expect(h.txns).toHaveLength(10_000);
    const again = parseTxnHistory(historyToEdn(h));
    expect(again.txns.map((t) => t.mops)).toEqual(h.txns.map((t) => t.mops));
    for (const isolation of ['serializable', 'strict-serializable'] as const) expect(checkTxnHistory(again, { model: 'txn-append', isolation }).verdict).toBe('valid');
    const stale = generateAppendHistory({ txns: 10_000, seed: 7, staleReads: 0.001 });
    const r = checkTxnHistory(stale, { model: 'txn-append', isolation: 'strict-serializable' });
    expect(r.verdict).toBe('invalid');
  });
});

describe('runTxnCheckCommand', () => {
  const files: Record<string, string> = {
    'good.edn': '{:type :ok, :value [[:append :x 1]]}\n{:type :ok, :value [[:r :x [1]]]}\n',
    'g2.json': JSON.stringify([
      { type: 'ok', process: 0, value: [['append', 'x', 1], ['r', 'y', null]] },
      { type: 'ok', process: 1, value: [['append', 'y', 1], ['r', 'x', null]] },
    ]),
    'bad.edn': '{:type :ok, :value [[:frob :x 1]]}\n',
    'escape.edn': '{:type :ok, :value [[:r "\\u001b[2J" [1]]]}\n',
  };
  async function run(names: string[], isolation?: string, json = false): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const io: TxnCommandIo = {
      readText: async (f) => {
        const text = files[f];
        if (text === undefined) throw Object.assign(new Error(`ENOENT: ${f}`), { code: 'ENOENT' });
        return text;
      },
      stdout: (t) => (out += t),
      stderr: (t) => (err += t),
      now: () => 0,
    };
    const code = await runTxnCheckCommand(names, { model: 'txn-append', ...(isolation === undefined ? {} : { isolation }), json }, io);
    return { code, out, err };
  }

  it('exits 0 when valid, 1 when the level is violated, 2 when a file is unusable', async () => {
    expect((await run(['good.edn'])).code).toBe(0);
    expect((await run(['g2.json'], 'snapshot-isolation')).code).toBe(0);
    const g2 = await run(['g2.json']);
    expect(g2.code).toBe(1);
    expect(g2.out).toContain('NOT serializable: G2');
    expect(g2.out).toContain("T1 did not observe T0's append of 1 to key \"x\": it read the empty list (rw)");
    const mixed = await run(['good.edn', 'g2.json', 'bad.edn', 'missing.edn']);
    expect(mixed.code).toBe(2);
    expect(mixed.err).toMatch(/bad\.edn: line 1: .*\[HISTORY_FORMAT\]/);
    expect(mixed.err).toMatch(/missing\.edn: cannot read: .*\[READ_FAILED\]/);
    await expect(run(['good.edn'], 'linearizable')).rejects.toMatchObject({ code: 'BAD_OPTION' });
  });

  it('prints one JSON object per file, and escapes control characters', async () => {
    const { out } = await run(['g2.json', 'bad.edn'], 'serializable', true);
    const [first, second] = out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(first).toMatchObject({ file: 'g2.json', verdict: 'invalid', isolation: 'serializable', anomalyTypes: ['G2'], forbidden: ['G2'] });
    expect(second).toMatchObject({ file: 'bad.edn', verdict: 'unknown', error: { code: 'HISTORY_FORMAT' } });
    const text = (await run(['escape.edn'])).out;
    expect(text).not.toContain('\u001b');
    expect(text).toContain('\\u001b[2J');
  });
});
