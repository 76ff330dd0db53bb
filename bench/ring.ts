// `npm run bench -- ring [--from S] [--to S] [--vnodes T] [--json] [--help]`: for S nodes (default
// 3..100) and each strategy — random tokens (Dynamo's strategy 1, T = 256 per node), Q = 256·S
// equal partitions (strategy 3) and ordered key ranges (256·S, cut at a key sample's quantiles) —
// the share of keys that move when one node joins, against 1/(S+1), and the load balance max/mean
// (docs/ring.md). Hash rings are measured exactly over the hash space; ranges over a key sample.
import { performance } from 'node:perf_hooks';
import { hashLoad, hashMoves, PartitionRing, RangeRing, sampleLoad, sampleMoves, TokenRing, type LoadReport, type MoveReport } from '../src/ring/index.js';
import { RandomSource } from '../src/sim/rng.js';

const STRATEGIES = ['tokens', 'partitions', 'ranges'] as const;
type Strategy = (typeof STRATEGIES)[number];
const PER_NODE = 256;
const REPLICAS = 3;
/** Goals of the issue: moved share at most 1.1 x 1/(S+1); primary load max/mean at most 1.1. */
const MOVE_GOAL = 1.1;
const BALANCE_GOAL = 1.1;
/** S values printed in the table (every S in the range is measured and counted in the summary). */
const SHOWN = new Set([3, 4, 5, 6, 8, 10, 16, 20, 32, 50, 64, 100]);

export const USAGE = `usage: npm run bench -- ring [--from S] [--to S] [--vnodes T] [--keys K] [--json] [--help]
  --from S, --to S   node counts measured, every S in between (default 3 and 100; 2..1000)
  --vnodes T         tokens per node on the token ring and partitions/ranges per node (default ${PER_NODE})
  --keys K           keys in each of the two samples of the range strategy (cut points; measured keys), default 100000
  --json             one JSON document on stdout instead of the table
`;

interface Row {
  readonly strategy: Strategy;
  readonly nodes: number;
  readonly primaryBalance: number;
  readonly replicaBalance: number;
  readonly primaryMoved: number;
  readonly replicaMoved: number;
  /** primaryMoved x (S+1): 1 is ideal, the goal is at most 1.1. */
  readonly movedOverIdeal: number;
  readonly ms: number;
}

function parseArgs(args: readonly string[]): { from: number; to: number; perNode: number; keys: number; json: boolean; help: boolean } {
  const value = (flag: string, fallback: number, min: number, max: number): number => {
    const i = args.indexOf(flag);
    if (i < 0) return fallback;
    const n = Number(args[i + 1]);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${flag} takes an integer from ${min} to ${max}, got ${JSON.stringify(args[i + 1] ?? null)}`);
    return n;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (['--from', '--to', '--vnodes', '--keys'].includes(a)) i++;
    else if (!['--json', '--help', '-h'].includes(a)) throw new Error(`unknown argument ${JSON.stringify(a)}`);
  }
  const from = value('--from', 3, 2, 1000);
  const to = value('--to', 100, from, 1000);
  return { from, to, perNode: value('--vnodes', PER_NODE, 1, 4096), keys: value('--keys', 100_000, 1000, 10_000_000), json: args.includes('--json'), help: args.includes('--help') || args.includes('-h') };
}

/** Keys shaped like an application's (tenant/user/item), skewed toward small tenant ids. */
function keySample(stream: string, count: number): string[] {
  const rng = new RandomSource(20261207).stream(stream);
  return Array.from({ length: count }, () => {
    const tenant = Math.floor(1000 * rng.float() ** 3);
    return `t${String(tenant).padStart(4, '0')}/u${rng.int(0, 99_999)}/i${rng.int(0, 999)}`;
  });
}

function measure(strategy: Strategy, s: number, perNode: number, cutSample: readonly string[], probeKeys: readonly string[]): Row {
  const t0 = performance.now();
  const members = Array.from({ length: s }, (_, i) => `node-${i}`);
  let load1: LoadReport;
  let load3: LoadReport;
  let moves: MoveReport;
  if (strategy === 'ranges') {
    const sorted = [...new Set(cutSample)].sort();
    const count = Math.min(perNode * s, sorted.length);
    const cuts = [...new Set(Array.from({ length: count - 1 }, (_, i) => sorted[Math.floor(((i + 1) * sorted.length) / count)] as string))];
    const ring = RangeRing.of(members, cuts);
    load1 = sampleLoad(ring, probeKeys, 1);
    load3 = sampleLoad(ring, probeKeys, REPLICAS);
    moves = sampleMoves(ring, ring.withNode('joining'), probeKeys, REPLICAS);
  } else {
    const ring = strategy === 'tokens' ? TokenRing.of(members, { vnodesPerNode: perNode }) : PartitionRing.of(members, { partitionCount: perNode * s });
    load1 = hashLoad(ring, 1);
    load3 = hashLoad(ring, REPLICAS);
    moves = hashMoves(ring, ring.withNode('joining'), REPLICAS);
  }
  return {
    strategy,
    nodes: s,
    primaryBalance: load1.maxOverMean,
    replicaBalance: load3.maxOverMean,
    primaryMoved: moves.primaryMoved,
    replicaMoved: moves.replicaMoved,
    movedOverIdeal: moves.primaryMoved * (s + 1),
    ms: performance.now() - t0,
  };
}

export async function run(args: string[]): Promise<void> {
  let options: ReturnType<typeof parseArgs>;
  try {
    options = parseArgs(args);
  } catch (err) {
    process.stderr.write(`bench ring: ${(err as Error).message}\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (options.help) return void process.stdout.write(USAGE);
  const cutSample = keySample('cuts', options.keys);
  const probeKeys = keySample('probes', options.keys);
  const rows: Row[] = [];
  const say = (text: string): void => void (options.json ? process.stderr : process.stdout).write(text);
  say(`ring: S = ${options.from}..${options.to}, ${options.perNode} tokens/partitions/ranges per node, N = ${REPLICAS}; moved = share of keys whose primary changes when one node joins, x(S+1) (goal <= ${MOVE_GOAL}); balance = max/mean primary share (goal <= ${BALANCE_GOAL}), replica share in brackets\n`);
  say(`${'S'.padStart(4)} | ${STRATEGIES.map((s) => `${s}: moved x(S+1), balance`.padEnd(34)).join(' | ')}\n`);
  for (let s = options.from; s <= options.to; s++) {
    const line = STRATEGIES.map((strategy) => measure(strategy, s, options.perNode, cutSample, probeKeys));
    rows.push(...line);
    if (SHOWN.has(s) || s === options.from || s === options.to) {
      say(`${String(s).padStart(4)} | ${line.map((r) => `${r.movedOverIdeal.toFixed(3)} (replicas ${(r.replicaMoved * (s + 1)).toFixed(3)}), ${r.primaryBalance.toFixed(3)} [${r.replicaBalance.toFixed(3)}]`.padEnd(34)).join(' | ')}\n`);
    }
  }
  const summary = STRATEGIES.map((strategy) => {
    const mine = rows.filter((r) => r.strategy === strategy);
    const worstMove = mine.reduce((a, b) => (b.movedOverIdeal > a.movedOverIdeal ? b : a));
    const worstBalance = mine.reduce((a, b) => (b.primaryBalance > a.primaryBalance ? b : a));
    const movesMet = mine.filter((r) => r.movedOverIdeal <= MOVE_GOAL).length;
    const balanceMet = mine.filter((r) => r.primaryBalance <= BALANCE_GOAL).length;
    return { strategy, worstMove, worstBalance, movesMet, balanceMet, measured: mine.length };
  });
  for (const x of summary) {
    say(
      `${x.strategy.padEnd(10)} moved goal met for ${x.movesMet}/${x.measured} S (worst ${x.worstMove.movedOverIdeal.toFixed(3)} at S=${x.worstMove.nodes}); ` +
        `balance goal met for ${x.balanceMet}/${x.measured} S (worst ${x.worstBalance.primaryBalance.toFixed(3)} at S=${x.worstBalance.nodes})\n`,
    );
  }
  if (options.json) process.stdout.write(`${JSON.stringify({ options, rows, summary: summary.map((x) => ({ strategy: x.strategy, movesMet: x.movesMet, balanceMet: x.balanceMet, measured: x.measured, worstMovedOverIdeal: x.worstMove.movedOverIdeal, worstMoveAt: x.worstMove.nodes, worstBalance: x.worstBalance.primaryBalance, worstBalanceAt: x.worstBalance.nodes })) }, null, 2)}\n`);
}
