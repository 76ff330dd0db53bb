// Long runs of the atomic-commitment checks (src/txn): chaos seeds per protocol (2pc and
// paxos-commit under the full random nemesis, 3pc under crashes only, 3pc-partition under
// partitions only, where violations are expected and counted), then kill-at-every-step over many
// seeds (every node of a transfer crashed after every step). Prints a summary per protocol and
// every failing seed with the command that replays it; exits 1 if a protocol that should hold failed.
// Usage: node --import tsx scripts/txn-chaos.ts [--seeds N] [--first-seed S] [--kill-seeds M] [--protocol NAME] [--quiet]
import { performance } from 'node:perf_hooks';
import { simProtocol } from '../src/primitives/index.js';
import type { CommitChaosResult } from '../src/txn/sim/chaos.js';
import type { CommitProtocolName } from '../src/txn/sim/cluster.js';
import { killAtEveryStep } from '../src/txn/sim/kill-steps.js';
import { parseIntFlag, scriptArgs } from './lib/run-args.js';

const USAGE = 'usage: node --import tsx scripts/txn-chaos.ts [--seeds N (1000)] [--first-seed S (1)] [--kill-seeds M (200)] [--protocol 2pc|3pc|3pc-partition|paxos-commit] [--quiet]\n';
const args = scriptArgs(USAGE, ['--seeds', '--first-seed', '--kill-seeds', '--protocol'], ['--quiet']);
const seeds = parseIntFlag('--seeds', args.value('--seeds') ?? '1000', 0, 10_000_000);
const firstSeed = parseIntFlag('--first-seed', args.value('--first-seed') ?? '1', 0, 1_000_000_000);
const killSeeds = parseIntFlag('--kill-seeds', args.value('--kill-seeds') ?? '200', 0, 1_000_000);
const only = args.value('--protocol');
const quiet = args.has('--quiet');

/** The chaos variants, and whether a violation is a failure of the build (3pc-partition's are expected). */
const CHAOS: readonly { readonly name: string; readonly expectViolations: boolean }[] = [
  { name: '2pc', expectViolations: false },
  { name: '3pc', expectViolations: false },
  { name: '3pc-partition', expectViolations: true },
  { name: 'paxos-commit', expectViolations: false },
];
const KILL: readonly CommitProtocolName[] = ['2pc', '3pc', 'paxos-commit'];

let broken = false;
const out = (line: string): boolean => process.stdout.write(`${line}\n`);

for (const variant of CHAOS) {
  if (only !== undefined && only !== variant.name) continue;
  const protocol = simProtocol(variant.name);
  if (protocol?.chaos === undefined) throw new Error(`${variant.name} is not registered`);
  const started = performance.now();
  const failing: number[] = [];
  const kinds = new Map<string, number>();
  const totals = { transactions: 0, committed: 0, aborted: 0, maxInDoubtMs: 0, inDoubtMs: 0, blockings: 0 };
  for (let seed = firstSeed; seed < firstSeed + seeds; seed++) {
    const r = protocol.chaos.run({ seed, ...protocol.chaos.defaults }) as CommitChaosResult;
    totals.transactions += r.commit.transactions;
    totals.committed += r.commit.committed;
    totals.aborted += r.commit.aborted;
    totals.maxInDoubtMs = Math.max(totals.maxInDoubtMs, r.commit.maxBlockingMs);
    totals.inDoubtMs += r.commit.totalBlockingMs;
    totals.blockings += r.commit.blocking.length;
    if (r.ok) continue;
    failing.push(seed);
    for (const kind of new Set(r.violations.map((v) => v.kind))) kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    if (!quiet || failing.length <= 3) {
      out(`${variant.name} seed ${seed}: ${r.violations[0]?.kind ?? ''}: ${r.violations[0]?.message ?? ''}`);
      out(`  replay: synod chaos --protocol ${variant.name} --seeds 1 --first-seed ${seed}`);
    }
  }
  const s = ((performance.now() - started) / 1000).toFixed(0);
  const meanInDoubt = totals.blockings === 0 ? 0 : totals.inDoubtMs / totals.blockings;
  out(`${variant.name} chaos: ${seeds} seeds from ${firstSeed}, ${failing.length} with violations${failing.length > 0 ? ` (${[...kinds].map(([k, n]) => `${k} ${n}`).join(', ')}; first ${failing.slice(0, 10).join(', ')})` : ''}; ${totals.transactions} transactions, ${totals.committed} committed, ${totals.aborted} aborted; in doubt: mean ${meanInDoubt.toFixed(1)} ms, max ${totals.maxInDoubtMs} ms; ${s} s`);
  if (failing.length > 0 && !variant.expectViolations) broken = true;
}

for (const name of KILL) {
  if (only !== undefined && only !== name) continue;
  const started = performance.now();
  const totals = { runs: 0, failures: 0, committed: 0, aborted: 0, neverStarted: 0, maxInDoubtMs: 0, steps: 0 };
  for (let seed = firstSeed; seed < firstSeed + killSeeds; seed++) {
    const r = killAtEveryStep({ protocol: name, seed });
    totals.runs += r.runs;
    totals.failures += r.failures.length;
    totals.committed += r.committed;
    totals.aborted += r.aborted;
    totals.neverStarted += r.neverStarted;
    totals.steps = Math.max(totals.steps, r.steps);
    totals.maxInDoubtMs = Math.max(totals.maxInDoubtMs, r.maxInDoubtMs);
    for (const f of r.failures.slice(0, quiet ? 1 : 5)) out(`${name} kill seed ${seed}: node ${f.target} after step ${f.step}: ${f.message}`);
  }
  const s = ((performance.now() - started) / 1000).toFixed(0);
  out(`${name} kill at every step: ${killSeeds} seeds, ${totals.runs} runs (up to ${totals.steps} steps × each node), ${totals.failures} failures; outcomes ${totals.committed} commit, ${totals.aborted} abort, ${totals.neverStarted} never started; max in doubt ${totals.maxInDoubtMs} ms; ${s} s`);
  if (totals.failures > 0) broken = true;
}
process.exitCode = broken ? 1 : 0;
