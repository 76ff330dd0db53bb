// Runs kv-txn chaos over many seeds (txn clients and node-local watchers under the random
// nemesis; linearizability with the txn-aware kv model, revisions, the watch checker) and prints
// one line per seed, then a summary; exits 1 if any seed had a violation. A failing seed replays
// with `synod chaos --protocol kv-txn --seeds 1 --first-seed N` (or this script from N, count 1).
// Usage: node --import tsx scripts/kv-txn-chaos.ts [FIRST_SEED] [COUNT] [--nodes N] [--duration-ms T] [--watch-bug BUG] [--stale-gets] [--quiet]
// (--watch-bug and --stale-gets break the system on purpose, to show the checkers catching it).
import { performance } from 'node:perf_hooks';
import { runTxnChaos, type TxnChaosOptions } from '../src/raft/chaos-txn.js';
import type { WatchBug } from '../src/raft/workload-txn.js';

const positional: string[] = [];
const flags: { nodes?: number; durationMs?: number; watchBug?: WatchBug; staleGets?: boolean; quiet: boolean } = { quiet: false };
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const a = args[i]!;
  if (a === '--nodes') flags.nodes = Number(args[++i]);
  else if (a === '--duration-ms') flags.durationMs = Number(args[++i]);
  else if (a === '--watch-bug') flags.watchBug = args[++i] as WatchBug;
  else if (a === '--stale-gets') flags.staleGets = true;
  else if (a === '--quiet') flags.quiet = true;
  else positional.push(a);
}
const first = Number(positional[0] ?? 1);
const count = Number(positional[1] ?? 2000);
if (!Number.isSafeInteger(first) || !Number.isSafeInteger(count) || count < 1) {
  process.stderr.write('usage: kv-txn-chaos.ts [FIRST_SEED] [COUNT] [--nodes N] [--duration-ms T] [--watch-bug resume-at-last-event|skip-on-reconnect|cut-pages] [--stale-gets] [--quiet]\n');
  process.exit(2);
}

const started = performance.now();
const failing: number[] = [];
const totals = { ops: 0, unknown: 0, revisions: 0, watchEvents: 0, reconnects: 0, elections: 0, undecided: 0 };
for (let seed = first; seed < first + count; seed++) {
  const options: TxnChaosOptions = { seed, ...(flags.nodes === undefined ? {} : { nodes: flags.nodes }), ...(flags.durationMs === undefined ? {} : { durationMs: flags.durationMs }), ...(flags.watchBug === undefined ? {} : { watchBug: flags.watchBug }), ...(flags.staleGets === true ? { staleGets: true } : {}) };
  const r = runTxnChaos(options);
  totals.ops += r.ops.ok + r.ops.fail + r.ops.unknown;
  totals.unknown += r.ops.unknown;
  totals.revisions += r.revision;
  totals.watchEvents += r.watch.events;
  totals.reconnects += r.watch.reconnects;
  totals.elections += r.elections;
  if (r.linearizability === 'unknown') totals.undecided++;
  if (!r.ok) failing.push(seed);
  if (!flags.quiet || !r.ok) {
    process.stdout.write(`${seed} ${r.ok ? 'ok' : 'VIOLATION'} ${r.linearizability} ops=${r.ops.ok}/${r.ops.fail}/${r.ops.unknown} revision=${r.revision} watch=${r.watch.events}ev/${r.watch.reconnects}rc\n`);
    for (const v of r.violations.slice(0, 3)) process.stdout.write(`  ${v.kind} at ${v.atMs} ms: ${v.message}\n`);
  }
}
const seconds = ((performance.now() - started) / 1000).toFixed(0);
process.stdout.write(
  `kv-txn chaos: seeds ${first}..${first + count - 1}: ${failing.length === 0 ? 'no violations' : `${failing.length} seed(s) with violations: ${failing.join(' ')}`}; ` +
    `${totals.ops} client operations (${totals.unknown} unknown), ${totals.revisions} revisions committed, ${totals.watchEvents} watch events, ${totals.reconnects} watcher reconnects, ${totals.elections} elections, linearizability undecided for ${totals.undecided}; ${seconds} s\n`,
);
process.exitCode = failing.length === 0 ? 0 : 1;
