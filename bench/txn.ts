// `npm run bench -- txn`: in-doubt time and throughput of 2PC, 3PC and Paxos Commit (src/txn) in
// the simulator under the same scripted nemesis (no faults; the coordinator crashed every 3 s for
// 1.5 s; the participants crashed in turn likewise), closed-loop clients doing transfers. Virtual
// time throughout, so the numbers are deterministic per seed; one markdown table on stdout.
// (The list-append history checker's benchmark is `npm run bench -- txn-check`.)
import { performance } from 'node:perf_hooks';
import { COMMIT_PROTOCOLS, type CommitProtocolName } from '../src/txn/sim/cluster.js';
import { BLOCKED_MS, measureTxnSeeds, TXN_BENCH_DEFAULTS, TXN_NEMESES, type TxnBenchRun, type TxnNemesis } from './lib/txn-measure.js';

export const USAGE = `usage: npm run bench -- txn [--seeds N] [--duration-ms T] [--quick] [--help]
  --seeds N        seeds per protocol and nemesis (default 5)
  --duration-ms T  virtual ms of load per seed (default ${TXN_BENCH_DEFAULTS.durationMs})
  --quick          1 seed of 10 s
`;

function parseArgs(args: readonly string[]): { seeds: number; durationMs: number } | undefined {
  let seeds = 5;
  let durationMs = TXN_BENCH_DEFAULTS.durationMs;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--help' || a === '-h') return undefined;
    if (a === '--quick') {
      seeds = 1;
      durationMs = 10_000;
    } else if (a === '--seeds' || a === '--duration-ms') {
      const n = Number(args[++i]);
      if (!Number.isSafeInteger(n) || n < 1 || (a === '--duration-ms' && n < 5_000) || n > 10_000_000) throw new RangeError(`${a} needs a whole number${a === '--duration-ms' ? ' of at least 5000' : ' from 1'}, got ${String(args[i])}`);
      if (a === '--seeds') seeds = n;
      else durationMs = n;
    } else throw new RangeError(`unknown argument ${JSON.stringify(a)}`);
  }
  return { seeds, durationMs };
}

const fmt = (n: number, digits = 0): string => n.toFixed(digits);

/** One table row. */
export function row(protocol: CommitProtocolName, nemesis: TxnNemesis, r: TxnBenchRun): string {
  const t = r.transfers;
  const abortPct = (100 * t.aborted) / Math.max(1, t.committed + t.aborted + t.unknown);
  const verdict = r.checkerOk && r.moneyOk && r.settled ? 'ok' : `${r.checkerOk ? '' : 'VIOLATION '}${r.moneyOk ? '' : 'MONEY '}${r.settled ? '' : 'UNSETTLED'}`.trim();
  return `| ${protocol} | ${nemesis} | ${fmt(r.committedPerSecond, 1)} | ${fmt(abortPct, 1)}% | ${t.unknown} | ${fmt(r.commitLatencyMs.p50)} / ${fmt(r.commitLatencyMs.p99)} | ${fmt(r.messagesPerTxn, 1)} | ${fmt(r.inDoubtMs.mean, 1)} / ${fmt(r.inDoubtMs.p99)} / ${fmt(r.inDoubtMs.max)} | ${r.blocked.count} / ${fmt(r.blocked.meanMs)} | ${verdict} |`;
}

export async function run(args: string[]): Promise<void> {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs(args);
  } catch (err) {
    process.stderr.write(`synod: ${(err as Error).message} [BAD_OPTION]\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (parsed === undefined) {
    process.stdout.write(USAGE);
    return;
  }
  const seeds = Array.from({ length: parsed.seeds }, (_, i) => i + 1);
  const started = performance.now();
  const d = TXN_BENCH_DEFAULTS;
  process.stdout.write(`${d.participants} participants, ${d.clients} closed-loop clients (think ${d.thinkMs} ms), transfers between two random participants; ${parsed.durationMs} virtual ms per seed, seeds ${seeds.join(',')}; crashes every ${d.faultEveryMs} ms for ${d.downMs} ms\n\n`);
  process.stdout.write(`| protocol | nemesis | committed/s | aborted | unknown | commit latency p50 / p99 (ms) | messages/txn | in doubt mean / p99 / max (ms) | blocked ≥ ${BLOCKED_MS} ms: count / mean (ms) | checker |\n`);
  process.stdout.write('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n');
  let bad = false;
  for (const nemesis of TXN_NEMESES) {
    for (const protocol of COMMIT_PROTOCOLS) {
      const r = measureTxnSeeds({ ...d, durationMs: parsed.durationMs, protocol, nemesis }, seeds);
      if (!(r.checkerOk && r.moneyOk && r.settled)) bad = true;
      process.stdout.write(`${row(protocol, nemesis, r)}\n`);
    }
  }
  process.stdout.write(`\n(${((performance.now() - started) / 1000).toFixed(0)} s wall)\n`);
  if (bad) process.exitCode = 1;
}
