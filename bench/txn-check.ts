// `npm run bench -- txn-check [--txns N] [--seed S]`: generates a list-append history of N transactions
// (default 100,000; strictly serializable by construction), writes it as Jepsen EDN, and times
// reading it and checking it at each isolation level; then the same with stale reads injected.
// Exits non-zero if the first is not valid at every level or the second not invalid.
import { performance } from 'node:perf_hooks';
import { checkTxnHistory, ISOLATION_LEVELS, parseTxnHistory } from '../src/check/txn/index.js';
import { generateAppendHistory, historyToEdn } from '../src/check/txn/generate.js';

function parseArgs(args: string[]): { txns: number; seed: number } {
  let txns = 100_000;
  let seed = 1;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--txns') txns = Math.max(1, Number(args[++i] ?? '0') | 0);
    else if (args[i] === '--seed') seed = Number(args[++i] ?? '1') | 0;
  }
  return { txns, seed };
}

export async function run(args: string[]): Promise<void> {
  const { txns, seed } = parseArgs(args);
  let t = performance.now();
  const generated = generateAppendHistory({ txns, seed });
  const edn = historyToEdn(generated);
  const genMs = performance.now() - t;
  t = performance.now();
  const history = parseTxnHistory(edn, 'edn');
  const parseMs = performance.now() - t;
  process.stdout.write(`list-append history: ${txns} transactions, ${(edn.length / 1e6).toFixed(1)} MB of EDN (generated in ${genMs.toFixed(0)} ms)\n`);
  process.stdout.write(`read (EDN parse and pairing): ${parseMs.toFixed(0)} ms\n`);
  let bad = false;
  for (const isolation of ISOLATION_LEVELS) {
    t = performance.now();
    const result = checkTxnHistory(history, { model: 'txn-append', isolation });
    const ms = performance.now() - t;
    process.stdout.write(`check ${isolation.padEnd(20)} ${result.verdict.padEnd(8)} ${ms.toFixed(0).padStart(6)} ms  (${result.stats.edges} dependency edges)\n`);
    if (result.verdict !== 'valid') bad = true;
  }
  // the same size with one read in a thousand stale: many cycles to find and explain
  const stale = generateAppendHistory({ txns, seed, staleReads: 0.001 });
  for (const isolation of ['snapshot-isolation', 'serializable', 'strict-serializable'] as const) {
    t = performance.now();
    const result = checkTxnHistory(stale, { model: 'txn-append', isolation });
    const ms = performance.now() - t;
    const found = result.anomalyTypes.map((a) => `${a} ${result.counts[a] ?? 0}`).join(', ');
    process.stdout.write(`stale reads: check ${isolation.padEnd(20)} ${result.verdict.padEnd(8)} ${ms.toFixed(0).padStart(6)} ms  (${found})\n`);
    if (result.verdict !== 'invalid') bad = true;
  }
  await Promise.resolve();
  if (bad) process.exitCode = 1;
}
