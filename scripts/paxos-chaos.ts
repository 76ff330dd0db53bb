// Long runs of the Multi-Paxos KV chaos (src/paxos/sim/chaos.ts), through the registered
// protocols: `paxos` (majority quorums) and `paxos-flexible` (Flexible Paxos, |Q1| = N - 1 and
// |Q2| = 2), each seed with the full random nemesis, concurrent KV clients, every Paxos monitor,
// a heal-and-settle phase and the linearizability check. Prints a summary per protocol and every
// failing seed with the command that replays it; exits 1 if any seed failed.
// Usage: node --import tsx scripts/paxos-chaos.ts [--seeds N (2000)] [--first-seed S (1)] [--nodes N (5)] [--protocol paxos|paxos-flexible] [--quiet]
import { performance } from 'node:perf_hooks';
import { simProtocol } from '../src/primitives/index.js';
import { fail, parseIntFlag, scriptArgs } from './lib/run-args.js';

const USAGE = 'usage: node --import tsx scripts/paxos-chaos.ts [--seeds N (2000)] [--first-seed S (1)] [--nodes N (5)] [--protocol paxos|paxos-flexible] [--quiet]\n';
const args = scriptArgs(USAGE, ['--seeds', '--first-seed', '--nodes', '--protocol'], ['--quiet']);
const seeds = parseIntFlag('--seeds', args.value('--seeds') ?? '2000', 1, 10_000_000);
const firstSeed = parseIntFlag('--first-seed', args.value('--first-seed') ?? '1', 0, 1_000_000_000);
const nodes = parseIntFlag('--nodes', args.value('--nodes') ?? '5', 2, 15);
const only = args.value('--protocol');
const quiet = args.has('--quiet');
if (only !== undefined && only !== 'paxos' && only !== 'paxos-flexible') fail(`--protocol must be paxos or paxos-flexible, got ${JSON.stringify(only)}`);

const out = (line: string): boolean => process.stdout.write(`${line}\n`);
let broken = false;

for (const name of ['paxos', 'paxos-flexible']) {
  if (only !== undefined && only !== name) continue;
  const protocol = simProtocol(name);
  if (protocol?.chaos === undefined) throw new Error(`${name} is not registered with chaos`);
  const started = performance.now();
  const failing: number[] = [];
  const kinds = new Map<string, number>();
  const verdicts = new Map<string, number>();
  const totals = { ok: 0, fail: 0, unknown: 0, elections: 0, messages: 0 };
  for (let seed = firstSeed; seed < firstSeed + seeds; seed++) {
    const r = protocol.chaos.run({ seed, nodes, durationMs: protocol.chaos.defaults.durationMs });
    totals.ok += r.ops.ok;
    totals.fail += r.ops.fail;
    totals.unknown += r.ops.unknown;
    totals.elections += r.elections;
    totals.messages += r.messages;
    verdicts.set(r.linearizability, (verdicts.get(r.linearizability) ?? 0) + 1);
    if (r.ok) continue;
    failing.push(seed);
    for (const kind of new Set(r.violations.map((v) => v.kind))) kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    if (!quiet || failing.length <= 3) {
      out(`${name} seed ${seed}: ${r.violations[0]?.kind ?? ''}: ${r.violations[0]?.message ?? ''}`);
      out(`  replay: synod chaos --protocol ${name} --nodes ${nodes} --seeds 1 --first-seed ${seed}`);
    }
  }
  const s = ((performance.now() - started) / 1000).toFixed(0);
  const verdictText = [...verdicts].map(([v, n]) => `${v} ${n}`).join(', ');
  out(
    `${name} chaos: ${seeds} seeds from ${firstSeed}, ${nodes} nodes: ${failing.length} with violations${failing.length > 0 ? ` (${[...kinds].map(([k, n]) => `${k} ${n}`).join(', ')}; first ${failing.slice(0, 10).join(', ')})` : ''}; histories: ${verdictText}; ` +
      `client operations ${totals.ok} ok, ${totals.fail} failed, ${totals.unknown} unknown; ${totals.elections} leaderships; ${totals.messages} messages; ${s} s`,
  );
  if (failing.length > 0) broken = true;
}
process.exitCode = broken ? 1 : 0;
