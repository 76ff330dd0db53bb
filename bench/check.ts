// `npm run bench -- check [DIR] [--repeat N]`: checks every etcd Jepsen history against its known
// verdict and reports wall time, total and per history. Exits non-zero on any disagreement, so
// the benchmark doubles as a regression test of the checker on real data.
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { checkHistory, parseJepsenLog, registerModel, type Verdict } from '../src/check/index.js';

const DEFAULT_DIR = fileURLToPath(new URL('../../shared/histories/etcd-jepsen/', import.meta.url));

interface Row {
  readonly name: string;
  readonly ops: number;
  readonly states: number;
  readonly verdict: Verdict;
  readonly expected: Verdict | 'missing';
  readonly parseMs: number;
  readonly checkMs: number;
}

function parseArgs(args: string[]): { dir: string; repeat: number } {
  let dir = DEFAULT_DIR;
  let repeat = 1;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--repeat') repeat = Math.max(1, Number(args[++i] ?? '1') | 0);
    else dir = args[i]!;
  }
  return { dir, repeat };
}

async function loadExpected(dir: string): Promise<Record<string, boolean>> {
  const doc = JSON.parse(await readFile(join(dir, 'expected.json'), 'utf8')) as { linearizable?: Record<string, boolean> };
  return doc.linearizable ?? {};
}

async function checkOne(dir: string, name: string, expected: boolean | undefined): Promise<Row> {
  const text = await readFile(join(dir, name), 'utf8');
  const parseStart = performance.now();
  const history = parseJepsenLog(text);
  const checkStart = performance.now();
  const result = checkHistory(history, registerModel, { now: () => performance.now(), budgetMs: 60_000 });
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

async function checkAll(dir: string, names: string[], expected: Record<string, boolean>): Promise<{ rows: Row[]; wallMs: number }> {
  const start = performance.now();
  const rows: Row[] = [];
  for (const name of names) rows.push(await checkOne(dir, name, expected[name]));
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

export async function run(args: string[]): Promise<void> {
  const { dir, repeat } = parseArgs(args);
  const expected = await loadExpected(dir);
  const names = (await readdir(dir)).filter((n) => n.endsWith('.log')).sort();
  const passes: number[] = [];
  let last: { rows: Row[]; wallMs: number } = { rows: [], wallMs: 0 };
  for (let pass = 0; pass < repeat; pass++) {
    last = await checkAll(dir, names, expected);
    passes.push(last.wallMs);
  }
  report(last.rows, last.wallMs, passes);
  const wrong = last.rows.filter((r) => r.verdict !== r.expected);
  const unlisted = Object.keys(expected).filter((n) => !names.includes(n));
  if (unlisted.length > 0) process.stderr.write(`expected.json lists missing files: ${unlisted.join(', ')}\n`);
  if (wrong.length > 0) process.stderr.write(`${wrong.length} verdicts disagree with expected.json\n`);
  if (wrong.length > 0 || unlisted.length > 0 || names.length === 0) process.exitCode = 1;
}
