// `npm run bench -- check [DIR] [--repeat N] [--porcupine PATH] [--txns N]`: checks every etcd
// Jepsen history and Porcupine's six KV histories against their known verdicts and reports wall
// time, total and per history; with --porcupine (a Porcupine checkout or git dir, and Go
// installed) it builds Porcupine and times it on the same histories in the same run. Then it runs
// the transactional part (bench/txn-check.ts) on a generated list-append history of N transactions
// (default 100,000; 0 skips it). Exits non-zero on any disagreement, so the benchmark doubles as
// a regression test of the checker on real data.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { checkHistory, kvModel, parseJepsenLog, parsePorcupineKv, registerModel, type FailedCas, type Verdict } from '../src/check/index.js';
import { etcdHistoriesDir } from '../test/shared-histories.js';
import { PORCUPINE_KV, porcupineKvExpected, porcupineKvText } from '../test/porcupine-kv.js';
import { run as runTxnBench } from './txn-check.js';
import { buildPorcupine, type PorcupineRunner, type PorcupineTime } from './lib/porcupine.js';

/** `shared/histories/etcd-jepsen` beside the checkout (found upwards, so it works from a worktree too). */
const DEFAULT_DIR = etcdHistoriesDir;

interface Row {
  readonly name: string;
  readonly ops: number;
  readonly states: number;
  readonly verdict: Verdict;
  readonly expected: Verdict | 'missing';
  readonly parseMs: number;
  readonly checkMs: number;
}

interface Args {
  readonly dir: string;
  readonly repeat: number;
  readonly porcupine: string | null;
  readonly txns: number;
}

function parseArgs(args: string[]): Args {
  let dir = DEFAULT_DIR;
  let repeat = 1;
  let porcupine: string | null = process.env['PORCUPINE_SRC'] ?? null;
  let txns = 100_000;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--repeat') repeat = Math.max(1, Number(args[++i] ?? '1') | 0);
    else if (args[i] === '--porcupine') porcupine = args[++i] ?? null;
    else if (args[i] === '--txns') txns = Math.max(0, Number(args[++i] ?? '0') | 0);
    else dir = args[i]!;
  }
  return { dir, repeat, porcupine, txns };
}

async function loadExpected(dir: string): Promise<Record<string, boolean>> {
  const doc = JSON.parse(await readFile(join(dir, 'expected.json'), 'utf8')) as { linearizable?: Record<string, boolean> };
  return doc.linearizable ?? {};
}

async function checkOne(dir: string, name: string, expected: boolean | undefined, failedCas: FailedCas = 'observed'): Promise<Row> {
  const text = await readFile(join(dir, name), 'utf8');
  const parseStart = performance.now();
  const history = parseJepsenLog(text);
  const checkStart = performance.now();
  // a failed cas is an observation in etcd's logs: what `synod check` does for Jepsen logs
  const result = checkHistory(history, registerModel, { now: () => performance.now(), budgetMs: 60_000, failedCas });
  const checkEnd = performance.now();
  return {
    name,
    ops: history.ops.length,
    states: result.partitions.reduce((sum, p) => sum + p.states, 0),
    verdict: result.verdict,
    expected: expected === undefined ? 'missing' : expected ? 'linearizable' : 'not-linearizable',
    parseMs: checkStart - parseStart,
    checkMs: checkEnd - checkStart,
  };
}

async function checkAll(dir: string, names: string[], expected: Record<string, boolean>, failedCas: FailedCas = 'observed'): Promise<{ rows: Row[]; wallMs: number }> {
  const start = performance.now();
  const rows: Row[] = [];
  for (const name of names) rows.push(await checkOne(dir, name, expected[name], failedCas));
  return { rows, wallMs: performance.now() - start };
}

function formatRow(row: Row): string {
  const mark = row.verdict === row.expected ? '' : `  MISMATCH (expected ${row.expected})`;
  return `${row.name.padEnd(16)} ${String(row.ops).padStart(5)} ops ${String(row.states).padStart(8)} states ${row.checkMs.toFixed(2).padStart(9)} ms  ${row.verdict}${mark}`;
}

function report(rows: Row[], wallMs: number, passes: number[]): void {
  const byTime = [...rows].sort((a, b) => b.checkMs - a.checkMs);
  const checkMs = rows.reduce((sum, r) => sum + r.checkMs, 0);
  const parseMs = rows.reduce((sum, r) => sum + r.parseMs, 0);
  const out = [
    `etcd-jepsen: ${rows.length} histories in ${wallMs.toFixed(1)} ms wall (check ${checkMs.toFixed(1)} ms, parse ${parseMs.toFixed(1)} ms)`,
    ...(passes.length > 1 ? [`passes (wall ms): ${passes.map((p) => p.toFixed(1)).join(', ')}; table is of the last`] : []),
    'slowest 5:',
    ...byTime.slice(0, 5).map((r) => `  ${formatRow(r)}`),
    'all, slowest first:',
    ...byTime.map((r) => `  ${formatRow(r)}`),
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}

interface KvRow {
  readonly name: string;
  readonly ops: number;
  readonly verdict: Verdict;
  readonly expected: Verdict;
  readonly parseMs: number;
  readonly firstMs: number;
  readonly bestMs: number;
}

/** Porcupine's six KV histories, each checked `repeat` times (at least 5): first and best times. */
function checkKv(repeat: number): KvRow[] {
  return PORCUPINE_KV.map((name) => {
    const text = porcupineKvText(name);
    const parseStart = performance.now();
    const history = parsePorcupineKv(text);
    const parseMs = performance.now() - parseStart;
    const times: number[] = [];
    let verdict: Verdict = 'unknown';
    for (let k = 0; k < Math.max(5, repeat); k++) {
      const start = performance.now();
      verdict = checkHistory(history, kvModel, { now: () => performance.now(), budgetMs: 60_000 }).verdict;
      times.push(performance.now() - start);
    }
    return { name, ops: history.ops.length, verdict, expected: porcupineKvExpected(name), parseMs, firstMs: times[0]!, bestMs: Math.min(...times) };
  });
}

const ms = (n: number | undefined): string => (n === undefined ? '—' : n.toFixed(1));

function reportKv(rows: KvRow[], go: Map<string, PorcupineTime> | null): void {
  const out = ["porcupine-kv (Synod's checker, kv model; times in ms: first check in this process, best of the repeats):"];
  out.push(`  ${'history'.padEnd(8)} ${'ops'.padStart(5)} ${'parse'.padStart(7)} ${'first'.padStart(8)} ${'best'.padStart(8)}${go === null ? '' : `  ${'go first'.padStart(9)} ${'go best'.padStart(9)}`}  verdict`);
  for (const r of rows) {
    const g = go?.get(r.name);
    const mark = r.verdict === r.expected ? '' : `  MISMATCH (expected ${r.expected})`;
    const goMark = g !== undefined && g.verdict !== r.expected ? `  PORCUPINE SAYS ${g.verdict}` : '';
    const goCols = go === null ? '' : `  ${ms(g?.firstMs).padStart(9)} ${ms(g?.bestMs).padStart(9)}`;
    out.push(`  ${r.name.padEnd(8)} ${String(r.ops).padStart(5)} ${ms(r.parseMs).padStart(7)} ${ms(r.firstMs).padStart(8)} ${ms(r.bestMs).padStart(8)}${goCols}  ${r.verdict}${mark}${goMark}`);
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

function reportGoEtcd(rows: Row[], go: Map<string, PorcupineTime>): void {
  const times = rows.map((r) => go.get(r.name)).filter((t): t is PorcupineTime => t !== undefined);
  const disagree = rows.filter((r) => go.get(r.name)?.verdict !== r.expected).map((r) => r.name);
  const first = times.reduce((sum, t) => sum + t.firstMs, 0);
  const best = times.reduce((sum, t) => sum + t.bestMs, 0);
  const synod = rows.reduce((sum, r) => sum + r.checkMs, 0);
  process.stdout.write(
    `etcd-jepsen, Porcupine (Go): ${times.length} histories, check ${first.toFixed(1)} ms (first runs), ${best.toFixed(1)} ms (best of the repeats); Synod's check ${synod.toFixed(1)} ms${disagree.length === 0 ? '' : `; Porcupine disagrees with expected.json on ${disagree.join(', ')}`}\n`,
  );
}

/** Porcupine's times on the same histories, or null with the reason printed. */
function runPorcupine(source: string | null, etcdFiles: string[], repeat: number): { kv: Map<string, PorcupineTime>; etcd: Map<string, PorcupineTime> } | null {
  if (source === null) {
    process.stdout.write('Porcupine (Go): not run; pass --porcupine PATH (a checkout or git dir of github.com/anishathalye/porcupine) to time it in the same run\n');
    return null;
  }
  const runner: PorcupineRunner | string = buildPorcupine(source);
  if (typeof runner === 'string') {
    process.stdout.write(`Porcupine (Go): not run: ${runner}\n`);
    return null;
  }
  const dir = mkdtempSync(join(tmpdir(), 'synod-kv-'));
  try {
    process.stdout.write(`Porcupine (Go): ${runner.version}\n`);
    const kvFiles = PORCUPINE_KV.map((name) => {
      const file = join(dir, `${name}.txt`);
      writeFileSync(file, porcupineKvText(name));
      return file;
    });
    const kvTimes = runner.check(kvFiles, Math.max(5, repeat));
    const kv = new Map(PORCUPINE_KV.map((name, k) => [name as string, kvTimes.get(kvFiles[k]!)!]));
    const etcdTimes = runner.check(etcdFiles, repeat);
    const etcd = new Map(etcdFiles.map((file) => [file.slice(file.lastIndexOf('/') + 1), etcdTimes.get(file)!]));
    return { kv, etcd };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    runner.dispose();
  }
}

export async function run(args: string[]): Promise<void> {
  const { dir, repeat, porcupine, txns } = parseArgs(args);
  const expected = await loadExpected(dir);
  const names = (await readdir(dir)).filter((n) => n.endsWith('.log')).sort();
  const passes: number[] = [];
  let last: { rows: Row[]; wallMs: number } = { rows: [], wallMs: 0 };
  for (let pass = 0; pass < repeat; pass++) {
    last = await checkAll(dir, names, expected);
    passes.push(last.wallMs);
  }
  report(last.rows, last.wallMs, passes);
  // the same histories read as Knossos reads them (a failed cas did not happen), as before --fail-cas
  const dropped = await checkAll(dir, names, expected, 'dropped');
  const droppedCheck = dropped.rows.reduce((sum, r) => sum + r.checkMs, 0);
  const droppedWrong = dropped.rows.filter((r) => r.verdict !== r.expected).length;
  process.stdout.write(`etcd-jepsen with failed cas dropped: check ${droppedCheck.toFixed(1)} ms, ${droppedWrong} verdicts differ from expected.json\n`);
  const kvRows = checkKv(repeat);
  const go = runPorcupine(porcupine, names.map((n) => join(dir, n)), repeat);
  reportKv(kvRows, go?.kv ?? null);
  if (go !== null) reportGoEtcd(last.rows, go.etcd);
  const wrong = last.rows.filter((r) => r.verdict !== r.expected);
  const wrongKv = kvRows.filter((r) => r.verdict !== r.expected);
  const unlisted = Object.keys(expected).filter((n) => !names.includes(n));
  if (unlisted.length > 0) process.stderr.write(`expected.json lists missing files: ${unlisted.join(', ')}\n`);
  if (wrong.length > 0) process.stderr.write(`${wrong.length} verdicts disagree with expected.json\n`);
  if (wrongKv.length > 0) process.stderr.write(`${wrongKv.length} Porcupine KV verdicts are wrong\n`);
  if (wrong.length > 0 || wrongKv.length > 0 || droppedWrong > 0 || unlisted.length > 0 || names.length === 0) process.exitCode = 1;
  if (txns > 0) {
    process.stdout.write(`\ntransactional checker (bench/txn-check.ts). Elle is not run beside it: its Clojars dependencies (bifurcan-clj, dom-top, io.jepsen/history, jepsen.txn, rhizome) are neither in Debian nor reachable here:\n`);
    await runTxnBench(['--txns', String(txns)]);
  }
}
