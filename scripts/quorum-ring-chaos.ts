// Long chaos over the leaderless store's membership changes (docs/quorum.md, Membership): per seed,
// a node is started outside the ring and joined, then the first member leaves, while clients write
// 64 keys under the random nemesis; after healing, the durability, convergence and unique-dot checks
// judge the replicas of the final ring. A failing seed replays exactly with --from SEED --seeds 1.
// Usage: node --import tsx scripts/quorum-ring-chaos.ts [--seeds N] [--from S] [--keys K] [--json] [--help]
import { runQuorumChaos } from '../src/quorum/sim/chaos.js';
import { parseIntFlag, scriptArgs } from './lib/run-args.js';

const USAGE = `usage: node --import tsx scripts/quorum-ring-chaos.ts [--seeds N] [--from S] [--keys K] [--json] [--help]
  --seeds N   seeds to run (default 200)
  --from S    first seed (default 1)
  --keys K    keys the clients write (default 64: most are written before the moves, so only the hand-off carries them)
  --json      one JSON object with the totals and the failing seeds
`;

const args = scriptArgs(USAGE, ['--seeds', '--from', '--keys'], ['--json']);
const value = (flag: string): string | undefined => args.value(flag);
const seeds = args.has('--seeds') ? parseIntFlag('--seeds', value('--seeds'), 1, 1_000_000) : 200;
const from = args.has('--from') ? parseIntFlag('--from', value('--from'), 1, 2 ** 31) : 1;
const keys = args.has('--keys') ? parseIntFlag('--keys', value('--keys'), 1, 10_000) : 64;

const failures: { seed: number; violations: string[] }[] = [];
let acked = 0;
const started = Date.now();
for (let seed = from; seed < from + seeds; seed++) {
  const result = runQuorumChaos({ seed, ringChanges: true, load: { keys } });
  acked += result.ops.ok;
  if (!result.ok) failures.push({ seed, violations: result.violations.map((v) => `${v.kind}: ${v.message}`) });
  if ((seed - from + 1) % 50 === 0) process.stderr.write(`  ${seed - from + 1}/${seeds} seeds, ${failures.length} failing\n`);
}
const elapsedS = Math.round((Date.now() - started) / 1000);
if (args.has('--json')) {
  process.stdout.write(`${JSON.stringify({ seeds, from, keys, acknowledgedOps: acked, failing: failures, elapsedS })}\n`);
} else {
  process.stdout.write(`${seeds} seeds from ${from} (${keys} keys): ${failures.length} failing, ${acked} acknowledged operations, ${elapsedS} s\n`);
  for (const f of failures.slice(0, 20)) process.stdout.write(`  seed ${f.seed}: ${f.violations.slice(0, 3).join('; ').slice(0, 300)}\n`);
}
process.exit(failures.length === 0 ? 0 : 1);
