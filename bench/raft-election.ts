// `npm run bench -- raft-election [--trials N] [--latency MIN-MAX]`: reproduces Figure 16 of the
// extended Raft paper in the simulator: 5 nodes, ~15 ms broadcast time (one-way latency 6-9 ms,
// or MIN-MAX ms; other latencies write no charts), the leader crashes at a random moment,
// and we time how long until a new leader is elected, for several election-timeout ranges. Runs
// with pre-vote and check-quorum off (as in the paper) and on, writes a CDF chart (SVG) and a
// table of median / p99 / max.
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { RaftCluster } from '../src/raft/index.js';

const RANGES: readonly [number, number][] = [
  [150, 150], [150, 151], [150, 155], [150, 175], [150, 200], [150, 300],
  [12, 24], [25, 50], [50, 100], [100, 200],
];

/** One-way message latency, uniform. */
interface Latency {
  readonly minMs: number;
  readonly maxMs: number;
}
/** A round trip of about 15 ms: the paper's broadcast time. */
const DEFAULT_LATENCY: Latency = { minMs: 6, maxMs: 9 };

interface Series {
  readonly label: string;
  readonly preVote: boolean;
  readonly electionMs: number[];
}

/** One trial: elect, let the cluster settle for a random while, crash the leader, time the next election. */
function trial(seed: number, minMs: number, maxMs: number, preVote: boolean, latency: Latency): number {
  let electedAt = -1;
  let crashedTerm = Infinity;
  const cluster = new RaftCluster({
    seed,
    nodes: 5,
    // one tick per ms so ranges such as 150-151 ms are exact; heartbeats well inside the timeout
    raft: { tickMs: 1, heartbeatTicks: Math.max(1, Math.min(50, Math.floor(minMs / 2))), electionTimeoutMinTicks: minMs, electionTimeoutMaxTicks: maxMs, preVote, checkQuorum: preVote, snapshotThresholdEntries: 0 },
    link: { latency: { kind: 'uniform', ...latency } },
    logCheckEveryMs: 0,
    observer: { becameLeader: (_node, term) => void (term > crashedTerm && electedAt < 0 && (electedAt = cluster.nowMs)) },
  });
  const leaderOf = (): string | undefined => cluster.sim.nodeIds.find((id) => cluster.sim.isUp(id) && cluster.sim.annotations(id).get('role') === 'leader');
  if (!cluster.sim.runUntilTrue(() => leaderOf() !== undefined, 60_000)) throw new Error(`seed ${seed}: no first leader`);
  cluster.sim.runFor(500 + cluster.sim.random.stream('bench').int(0, 1000));
  // with short timeouts an election may be under way at that moment: crash the next leader
  if (!cluster.sim.runUntilTrue(() => leaderOf() !== undefined, 60_000)) throw new Error(`seed ${seed}: no leader to crash`);
  const leader = leaderOf() as string;
  crashedTerm = Number(cluster.sim.annotations(leader).get('term'));
  const crashedAt = cluster.nowMs;
  cluster.sim.crash(leader);
  if (!cluster.sim.runUntilTrue(() => electedAt >= 0, 120_000)) throw new Error(`seed ${seed}: no leader within 120 s`);
  return electedAt - crashedAt;
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

/** The CDF of each series on a log time axis, as a self-contained SVG. */
function cdfSvg(series: readonly Series[], title: string): string {
  const w = 760, h = 420, left = 60, right = 180, top = 40, bottom = 50;
  const minX = 10, maxX = 20_000;
  const x = (ms: number): number => left + ((Math.log10(Math.max(minX, Math.min(maxX, ms))) - 1) / (Math.log10(maxX) - 1)) * (w - left - right);
  const y = (p: number): number => top + (1 - p) * (h - top - bottom);
  const colors = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf', '#000000'];
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif" font-size="12">`,
    `<rect width="${w}" height="${h}" fill="white"/>`,
    `<text x="${left}" y="22" font-size="14">${title}</text>`,
  ];
  for (const ms of [10, 100, 1000, 10_000]) parts.push(`<line x1="${x(ms)}" y1="${top}" x2="${x(ms)}" y2="${h - bottom}" stroke="#ddd"/><text x="${x(ms)}" y="${h - bottom + 16}" text-anchor="middle">${ms >= 1000 ? `${ms / 1000} s` : `${ms} ms`}</text>`);
  for (const p of [0, 0.25, 0.5, 0.75, 1]) parts.push(`<line x1="${left}" y1="${y(p)}" x2="${w - right}" y2="${y(p)}" stroke="#eee"/><text x="${left - 6}" y="${y(p) + 4}" text-anchor="end">${Math.round(p * 100)}%</text>`);
  parts.push(`<text x="${(left + w - right) / 2}" y="${h - 12}" text-anchor="middle">time without a leader (log scale)</text>`);
  series.forEach((s, i) => {
    const sorted = [...s.electionMs].sort((a, b) => a - b);
    const points = sorted.map((ms, k) => `${x(ms).toFixed(1)},${y((k + 1) / sorted.length).toFixed(1)}`);
    const color = colors[i % colors.length] as string;
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${x(sorted[0] as number).toFixed(1)},${y(0)} ${points.join(' ')}"/>`);
    parts.push(`<line x1="${w - right + 12}" y1="${top + 8 + i * 18}" x2="${w - right + 32}" y2="${top + 8 + i * 18}" stroke="${color}" stroke-width="2"/><text x="${w - right + 38}" y="${top + 12 + i * 18}">${s.label}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

export async function run(args: string[]): Promise<void> {
  const at = args.indexOf('--trials');
  const trials = at >= 0 ? Number(args[at + 1]) : 1000;
  if (!Number.isSafeInteger(trials) || trials < 1) throw new Error('--trials takes a whole number >= 1');
  const latency = latencyOption(args);
  const isDefault = latency.minMs === DEFAULT_LATENCY.minMs && latency.maxMs === DEFAULT_LATENCY.maxMs;
  const all: Series[] = [];
  process.stdout.write(`Figure 16: 5 nodes, one-way latency ${latency.minMs}-${latency.maxMs} ms, ${trials} leader crashes per range\n`);
  process.stdout.write('range (ms)      pre-vote  median    p99      max      mean\n');
  for (const preVote of [false, true]) {
    for (const [minMs, maxMs] of RANGES) {
      const started = performance.now();
      const times = Array.from({ length: trials }, (_, k) => trial(1 + k, minMs, maxMs, preVote, latency));
      const sorted = [...times].sort((a, b) => a - b);
      const mean = times.reduce((s, t) => s + t, 0) / times.length;
      all.push({ label: `${minMs}-${maxMs} ms${preVote ? ' +pv' : ''}`, preVote, electionMs: times });
      process.stdout.write(`${`${minMs}-${maxMs}`.padEnd(15)} ${(preVote ? 'on' : 'off').padEnd(9)} ${String(quantile(sorted, 0.5)).padStart(6)}  ${String(quantile(sorted, 0.99)).padStart(6)}  ${String(sorted[sorted.length - 1]).padStart(7)}  ${mean.toFixed(1).padStart(7)}   (${(performance.now() - started).toFixed(0)} ms wall)\n`);
    }
  }
  if (!isDefault) {
    process.stdout.write('charts not written (they show the default latency)\n');
    return;
  }
  const dir = fileURLToPath(new URL('../docs/figures/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  const top = (pv: boolean, lows: boolean): Series[] => all.filter((s) => s.preVote === pv && (lows ? !s.label.startsWith('150-') || s.label.startsWith('150-300') : s.label.startsWith('150-')));
  writeFileSync(`${dir}election-cdf-randomness.svg`, cdfSvg(top(false, false), 'Time to elect a new leader: 150 ms + randomness (pre-vote off)'));
  writeFileSync(`${dir}election-cdf-scale.svg`, cdfSvg(top(false, true), 'Time to elect a new leader: scaling the timeout (pre-vote off)'));
  writeFileSync(`${dir}election-cdf-prevote.svg`, cdfSvg(all.filter((s) => s.label.startsWith('150-300') || s.label.startsWith('12-24')), 'Pre-vote and check-quorum off vs on (+pv)'));
  process.stdout.write(`charts written to ${dir}\n`);
}

/** `--latency MIN-MAX` (ms, 0 <= MIN <= MAX); the default when absent. */
function latencyOption(args: readonly string[]): Latency {
  const at = args.indexOf('--latency');
  if (at < 0) return DEFAULT_LATENCY;
  const match = /^(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)$/.exec(args[at + 1] ?? '');
  const latency = match === null ? null : { minMs: Number(match[1]), maxMs: Number(match[2]) };
  if (latency === null || latency.minMs > latency.maxMs) throw new Error(`--latency takes MIN-MAX in ms (e.g. 4-5), got ${args[at + 1] ?? 'nothing'}`);
  return latency;
}
