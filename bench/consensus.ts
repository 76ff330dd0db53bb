// `npm run bench -- consensus`: Raft and Multi-Paxos (majorities, and Flexible Paxos with
// |Q1| = N - 1, |Q2| = 2) side by side in the simulator under one latency model (issue 21):
// messages and disk writes per committed command, client latency and throughput at a fixed
// offered load and at saturation, time to recover from a leader crash (a Figure-16-style CDF,
// written to docs/figures/consensus-recovery-cdf.svg), and behaviour under a lossy link and a
// flapping node. Seeded and in virtual time: the figures do not depend on the machine's load.
// Tables on stdout (or one JSON document with --json), progress on stderr.
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  CONSENSUS_DEFAULTS,
  measureLoad,
  recoveryTrial,
  summarize,
  timeScale,
  type ConsensusConfig,
  type ConsensusProtocol,
  type Fault,
  type LoadResult,
  type RecoveryTrial,
  type Summary,
} from './lib/consensus-measure.js';
import { Chart, COLORS } from './lib/svg-chart.js';

export const USAGE = `usage: npm run bench -- consensus [--quick] [--only PARTS] [--seeds N] [--trials N] [--latency MIN-MAX] [--fsync MS] [--network fifo|jitter] [--json] [--figures | --no-figures] [--help]
  --quick            1 seed, short windows, 40 crashes per protocol (a smoke run; about a minute)
  --only PARTS       some of: steady, saturation, recovery, flaky (default all)
  --seeds N          seeds per load measurement (default 3)
  --trials N         leader crashes per protocol for the recovery CDF (default 500)
  --latency MIN-MAX  one-way latency between nodes in ms (default ${CONSENSUS_DEFAULTS.latency.minMs}-${CONSENSUS_DEFAULTS.latency.maxMs})
  --fsync MS         time an fsync takes (default ${CONSENSUS_DEFAULTS.fsyncMs})
  --network fifo     each link one latency drawn per run, messages in order as over TCP (default)
  --network jitter   each message its own latency: later messages may overtake earlier ones
  --json             print the results as one JSON document on stdout (progress goes to stderr)
  --figures          write docs/figures/consensus-recovery-cdf.svg even for a non-default run
  --no-figures       never write it (default: only the full default run writes it)
The full default run takes about 10 minutes on 2 cores (most of it Multi-Paxos at saturation).
`;

export const PARTS = ['steady', 'saturation', 'recovery', 'flaky'] as const;
export type Part = (typeof PARTS)[number];

/** The columns of the steady-state and saturation tables (pre-vote changes nothing there). */
export const LOAD_PROTOCOLS: readonly ConsensusProtocol[] = ['raft', 'multi-paxos', 'flexible-paxos'];
/** The columns of the recovery and flaky-link tables. */
export const FAULT_PROTOCOLS: readonly ConsensusProtocol[] = ['raft', 'raft-no-prevote', 'multi-paxos', 'flexible-paxos'];

/** The offered load of the steady-state and flaky-link parts, commands per virtual second. */
export const OFFERED_RATE = 200;
/** Saturation: the CPU each input costs a node, and the closed-loop client counts measured. */
export const SATURATION_CPU_MS = 0.1;

/** One saturation measurement: a protocol, its clients, with the CPU cost or without (free). */
export interface SaturationRun {
  readonly protocol: ConsensusProtocol;
  readonly clients: number;
  readonly cpu: boolean;
}

/**
 * Every protocol with 128 clients, with the CPU and without; Raft also with 512, where its
 * batching lets it go on (Multi-Paxos with 512 clients takes the simulator many minutes: every
 * input waiting at a busy node is queued again each millisecond).
 */
export function saturationRuns(quick: boolean): SaturationRun[] {
  const clients = quick ? 32 : 128;
  const runs = LOAD_PROTOCOLS.flatMap((protocol) => [{ protocol, clients, cpu: true }, { protocol, clients, cpu: false }]);
  runs.push({ protocol: 'raft', clients: clients * 4, cpu: true });
  return runs;
}

export const FAULTS: readonly { readonly name: string; readonly fault: Fault }[] = [
  { name: 'lossy link (25% each way, leader to one follower)', fault: { kind: 'lossy-link', lossRate: 0.25 } },
  { name: 'lossy leader (20% each way on all its links)', fault: { kind: 'lossy-leader', lossRate: 0.2 } },
  { name: 'flapping follower (cut off 400 ms of every 2 s)', fault: { kind: 'flapping-node', downMs: 400, everyMs: 2000 } },
];

export class BenchUsageError extends Error {}

export interface ConsensusBenchOptions {
  readonly quick: boolean;
  readonly json: boolean;
  readonly help: boolean;
  readonly figures: boolean;
  readonly parts: ReadonlySet<Part>;
  readonly seeds: number;
  readonly trials: number;
  readonly config: ConsensusConfig;
  /** Virtual ms: warm-up and window of the steady and flaky parts, of the saturation part. */
  readonly steadyMs: { readonly warmup: number; readonly window: number };
  readonly flakyMs: { readonly warmup: number; readonly window: number };
  readonly saturationMs: { readonly warmup: number; readonly window: number };
}

function wholeNumber(flag: string, text: string | undefined, min: number, max: number): number {
  const n = Number(text);
  if (text === undefined || !Number.isSafeInteger(n) || n < min || n > max) throw new BenchUsageError(`${flag} takes a whole number from ${min} to ${max}, got ${text ?? 'nothing'}`);
  return n;
}

export function parseConsensusArgs(args: readonly string[]): ConsensusBenchOptions {
  let parts: Set<Part> = new Set(PARTS);
  let seeds: number | undefined;
  let trials: number | undefined;
  let figures: boolean | undefined;
  let config: ConsensusConfig = CONSENSUS_DEFAULTS;
  let onlyGiven = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    switch (a) {
      case '--quick':
      case '--json':
      case '--help':
      case '-h':
        break;
      case '--figures':
        figures = true;
        break;
      case '--no-figures':
        figures = false;
        break;
      case '--only': {
        const text = args[++i] ?? '';
        const names = text.split(',');
        if (text === '' || !names.every((p) => (PARTS as readonly string[]).includes(p))) throw new BenchUsageError(`--only takes some of ${PARTS.join(', ')}, comma-separated; got ${JSON.stringify(text)}`);
        parts = new Set(names as Part[]);
        onlyGiven = true;
        break;
      }
      case '--seeds':
        seeds = wholeNumber(a, args[++i], 1, 1000);
        break;
      case '--trials':
        trials = wholeNumber(a, args[++i], 1, 100_000);
        break;
      case '--latency': {
        const text = args[++i] ?? '';
        const m = /^(\d+)-(\d+)$/.exec(text);
        if (m === null || Number(m[1]) > Number(m[2]) || Number(m[2]) > 10_000) throw new BenchUsageError(`--latency takes MIN-MAX in whole ms (e.g. 6-9), got ${JSON.stringify(text)}`);
        config = { ...config, latency: { minMs: Number(m[1]), maxMs: Number(m[2]) } };
        break;
      }
      case '--fsync':
        config = { ...config, fsyncMs: wholeNumber(a, args[++i], 0, 10_000) };
        break;
      case '--network': {
        const text = args[++i];
        if (text !== 'fifo' && text !== 'jitter') throw new BenchUsageError(`--network takes fifo or jitter, got ${text ?? 'nothing'}`);
        config = { ...config, network: text };
        break;
      }
      default:
        throw new BenchUsageError(`unknown argument ${JSON.stringify(a)}`);
    }
  }
  const quick = args.includes('--quick');
  const isDefault = !quick && !onlyGiven && seeds === undefined && trials === undefined && config === CONSENSUS_DEFAULTS;
  return {
    quick,
    json: args.includes('--json'),
    help: args.includes('--help') || args.includes('-h'),
    figures: figures ?? isDefault,
    parts,
    seeds: seeds ?? (quick ? 1 : 3),
    trials: trials ?? (quick ? 40 : 500),
    config,
    steadyMs: quick ? { warmup: 500, window: 3000 } : { warmup: 1000, window: 10_000 },
    flakyMs: quick ? { warmup: 500, window: 6000 } : { warmup: 1000, window: 30_000 },
    saturationMs: quick ? { warmup: 300, window: 1000 } : { warmup: 500, window: 2000 },
  };
}

// ------------------------------------------------------------------ pooling runs

/** Several seeds of one measurement, pooled: latencies together, rates and per-command costs averaged. */
export interface Pooled {
  readonly runs: number;
  readonly committedPerSecond: number;
  readonly latencyMs: Summary;
  readonly failed: number;
  readonly unknown: number;
  readonly leaderChanges: number;
  readonly perCommand: { readonly messages: number; readonly heartbeatMessages: number; readonly selfMessages: number; readonly writes: number; readonly records: number; readonly busiestNodeInputs: number };
}

const mean = (xs: readonly number[]): number => (xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length);

export function pool(results: readonly LoadResult[]): Pooled {
  const avg = (f: (r: LoadResult) => number): number => mean(results.map(f));
  return {
    runs: results.length,
    committedPerSecond: avg((r) => r.committedPerSecond),
    latencyMs: summarize(results.flatMap((r) => r.latenciesMs)),
    failed: results.reduce((a, r) => a + r.failed, 0),
    unknown: results.reduce((a, r) => a + r.unknown, 0),
    leaderChanges: results.reduce((a, r) => a + r.leaderChanges, 0),
    perCommand: {
      messages: avg((r) => r.perCommand.messages),
      heartbeatMessages: avg((r) => r.perCommand.heartbeatMessages),
      selfMessages: avg((r) => r.perCommand.selfMessages),
      writes: avg((r) => r.perCommand.writes),
      records: avg((r) => r.perCommand.records),
      busiestNodeInputs: avg((r) => r.perCommand.busiestNodeInputs),
    },
  };
}

export interface RecoveryResult {
  readonly trials: number;
  readonly electedMs: Summary;
  readonly commitMs: Summary;
  readonly raw: readonly RecoveryTrial[];
}

export interface ConsensusResults {
  readonly steady?: Readonly<Partial<Record<ConsensusProtocol, Pooled>>>;
  readonly saturation?: readonly (SaturationRun & { readonly result: Pooled })[];
  readonly recovery?: Readonly<Partial<Record<ConsensusProtocol, RecoveryResult>>>;
  readonly flaky?: readonly { readonly name: string; readonly fault: Fault; readonly byProtocol: Readonly<Partial<Record<ConsensusProtocol, Pooled>>> }[];
}

// ------------------------------------------------------------------ running the parts

const say = (text: string): void => void process.stderr.write(text);
const wall = (started: number): string => `${((performance.now() - started) / 1000).toFixed(1)} s wall`;

/** Saturation runs take the longest: at most 2 seeds. */
function saturationSeeds(o: ConsensusBenchOptions): number {
  return Math.min(o.seeds, 2);
}

function seedsOf(o: ConsensusBenchOptions): number[] {
  return Array.from({ length: o.seeds }, (_, i) => i + 1);
}

export function measureAll(o: ConsensusBenchOptions): ConsensusResults {
  const results: { -readonly [K in keyof ConsensusResults]: ConsensusResults[K] } = {};
  if (o.parts.has('steady')) {
    const steady: Partial<Record<ConsensusProtocol, Pooled>> = {};
    for (const protocol of LOAD_PROTOCOLS) {
      const started = performance.now();
      steady[protocol] = pool(seedsOf(o).map((seed) => measureLoad({ protocol, seed, load: { kind: 'open', rate: OFFERED_RATE }, warmupMs: o.steadyMs.warmup, windowMs: o.steadyMs.window, config: o.config })));
      say(`steady ${protocol}: ${wall(started)}\n`);
    }
    results.steady = steady;
  }
  if (o.parts.has('saturation')) {
    const cpuConfig = { ...o.config, cpuMsPerInput: SATURATION_CPU_MS };
    results.saturation = saturationRuns(o.quick).map((run) => {
      const started = performance.now();
      const config = run.cpu ? cpuConfig : o.config;
      const result = pool(seedsOf(o).slice(0, saturationSeeds(o)).map((seed) => measureLoad({ protocol: run.protocol, seed, load: { kind: 'closed', clients: run.clients }, warmupMs: o.saturationMs.warmup, windowMs: o.saturationMs.window, config })));
      say(`saturation ${run.protocol}, ${run.clients} clients, ${run.cpu ? 'cpu' : 'free'}: ${wall(started)}\n`);
      return { ...run, result };
    });
  }
  if (o.parts.has('recovery')) {
    const recovery: Partial<Record<ConsensusProtocol, RecoveryResult>> = {};
    for (const protocol of FAULT_PROTOCOLS) {
      const started = performance.now();
      const raw = Array.from({ length: o.trials }, (_, i) => recoveryTrial({ protocol, seed: i + 1, rate: OFFERED_RATE, config: o.config }));
      recovery[protocol] = { trials: raw.length, electedMs: summarize(raw.map((t) => t.electedMs)), commitMs: summarize(raw.map((t) => t.commitMs)), raw };
      say(`recovery ${protocol}: ${o.trials} crashes, ${wall(started)}\n`);
    }
    results.recovery = recovery;
  }
  if (o.parts.has('flaky')) {
    results.flaky = FAULTS.map(({ name, fault }) => {
      const byProtocol: Partial<Record<ConsensusProtocol, Pooled>> = {};
      for (const protocol of FAULT_PROTOCOLS) {
        const started = performance.now();
        byProtocol[protocol] = pool(seedsOf(o).map((seed) => measureLoad({ protocol, seed, load: { kind: 'open', rate: OFFERED_RATE }, warmupMs: o.flakyMs.warmup, windowMs: o.flakyMs.window, config: o.config, fault })));
        say(`${fault.kind} ${protocol}: ${wall(started)}\n`);
      }
      return { name, fault, byProtocol };
    });
  }
  return results;
}

// ------------------------------------------------------------------ tables

const f0 = (x: number): string => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '-');
const f1 = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : '-');
const f2 = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : '-');
/** Latencies: whole ms, or one decimal below 100 (the saturation runs measure in tenths). */
const ms = (x: number): string => (!Number.isFinite(x) ? '-' : Number.isInteger(x) || x >= 100 ? f0(x) : x.toFixed(1));

export function describeConfig(o: ConsensusBenchOptions): string {
  const c = o.config;
  return `${c.nodes} nodes; one-way latency ${c.latency.minMs}-${c.latency.maxMs} ms (${c.network === 'fifo' ? 'one latency per link, drawn per seed: FIFO links' : 'drawn per message: links reorder'}), a node's message to itself at once; fsync ${c.fsyncMs} ms; clients 1 ms from every node; tick ${c.tickMs} ms, heartbeat every tick, election timeout ${c.electionTimeoutTicks[0] * c.tickMs}-${c.electionTimeoutTicks[1] * c.tickMs} ms, check-quorum on (both cores' defaults); Raft with pre-vote unless "no pre-vote"; Flexible Paxos |Q1| = ${c.nodes - 1}, |Q2| = 2; every command a put.`;
}

export function reportLines(o: ConsensusBenchOptions, r: ConsensusResults): string[] {
  const lines: string[] = [describeConfig(o), ''];
  if (r.steady !== undefined) {
    lines.push(`### Fixed offered load: ${OFFERED_RATE} commands per virtual second (Poisson arrivals, open loop), ${o.seeds} seed(s) x ${o.steadyMs.window / 1000} s`);
    lines.push('', '| | committed/s | latency p50 / p99 / max (ms) | messages per command (heartbeats among them) | fsyncs per command (all nodes) | durable records per command | leader inputs per command |', '| --- | --- | --- | --- | --- | --- | --- |');
    for (const p of LOAD_PROTOCOLS) {
      const s = r.steady[p];
      if (s === undefined) continue;
      lines.push(`| ${p} | ${f1(s.committedPerSecond)} | ${ms(s.latencyMs.p50)} / ${ms(s.latencyMs.p99)} / ${ms(s.latencyMs.max)} | ${f2(s.perCommand.messages)} (${f2(s.perCommand.heartbeatMessages)}) | ${f2(s.perCommand.writes)} | ${f2(s.perCommand.records)} | ${f2(s.perCommand.busiestNodeInputs)} |`);
    }
    lines.push('');
  }
  if (r.saturation !== undefined) {
    lines.push(`### Saturation: closed-loop clients, ${saturationSeeds(o)} seed(s) x ${o.saturationMs.window / 1000} s; with a CPU (every message or request a node handles costs it ${SATURATION_CPU_MS} ms, and what arrives meanwhile waits) and without (the simulator's default: nothing saturates but the protocols' own windows)`);
    lines.push('', '| | clients | CPU | committed/s | latency p50 / p99 (ms) | messages per command | fsyncs per command | leader inputs per command |', '| --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const { protocol, clients, cpu, result: x } of r.saturation) {
      lines.push(`| ${protocol} | ${clients} | ${cpu ? `${SATURATION_CPU_MS} ms/input` : 'free'} | ${f0(x.committedPerSecond)} | ${ms(x.latencyMs.p50)} / ${ms(x.latencyMs.p99)} | ${f2(x.perCommand.messages)} | ${f2(x.perCommand.writes)} | ${f2(x.perCommand.busiestNodeInputs)} |`);
    }
    lines.push('');
  }
  if (r.recovery !== undefined) {
    lines.push(`### Recovery from a leader crash: ${o.trials} crashes per protocol (seeds 1-${o.trials}), ${OFFERED_RATE} commands/s offered, each sent first to a random node`);
    lines.push('', '| | new leader elected: p50 / p90 / p99 / max (ms) | first command answered by it: p50 / p90 / p99 / max (ms) | mean |', '| --- | --- | --- | --- |');
    for (const p of FAULT_PROTOCOLS) {
      const s = r.recovery[p];
      if (s === undefined) continue;
      const e = s.electedMs;
      const c = s.commitMs;
      lines.push(`| ${p} | ${f0(e.p50)} / ${f0(e.p90)} / ${f0(e.p99)} / ${f0(e.max)} | ${f0(c.p50)} / ${f0(c.p90)} / ${f0(c.p99)} / ${f0(c.max)} | ${f0(c.mean)} |`);
    }
    lines.push('');
  }
  if (r.flaky !== undefined) {
    lines.push(`### Flaky links: ${OFFERED_RATE} commands/s offered, ${o.seeds} seed(s) x ${o.flakyMs.window / 1000} s`);
    lines.push('', '| fault | | committed/s | latency p50 / p99 / max (ms) | failed / unknown | leader changes (all seeds) |', '| --- | --- | --- | --- | --- | --- |');
    for (const f of r.flaky) {
      for (const p of FAULT_PROTOCOLS) {
        const s = f.byProtocol[p];
        if (s === undefined) continue;
        lines.push(`| ${f.name} | ${p} | ${f1(s.committedPerSecond)} | ${ms(s.latencyMs.p50)} / ${ms(s.latencyMs.p99)} / ${ms(s.latencyMs.max)} | ${s.failed} / ${s.unknown} | ${s.leaderChanges} |`);
      }
    }
    lines.push('');
  }
  return lines;
}

// ------------------------------------------------------------------ the figure

const LABELS: Readonly<Record<ConsensusProtocol, string>> = { raft: 'Raft', 'raft-no-prevote': 'Raft, no pre-vote', 'multi-paxos': 'Multi-Paxos', 'flexible-paxos': 'Flexible Paxos' };

/** The CDF of the time from a leader crash to the first answered command (solid), and to the election (dashed). */
export function recoverySvg(recovery: Readonly<Partial<Record<ConsensusProtocol, RecoveryResult>>>, o: ConsensusBenchOptions): string {
  const chart = new Chart({
    title: `Leader crash to the first command a new leader commits (${o.config.nodes} nodes, ${o.config.latency.minMs}-${o.config.latency.maxMs} ms one way, timeout ${o.config.electionTimeoutTicks[0] * o.config.tickMs}-${o.config.electionTimeoutTicks[1] * o.config.tickMs} ms)`,
    xLabel: 'time since the crash (log scale); dashed: a new leader elected',
    yLabel: 'cumulative fraction of crashes',
    x: { kind: 'log', min: 100, max: 1000 },
    y: { kind: 'linear', min: 0, max: 1 },
    xTicks: [100, 150, 200, 300, 400, 500, 700, 1000],
    yTicks: [0, 0.25, 0.5, 0.75, 1],
    xTickLabel: (v) => (v >= 1000 ? `${v / 1000} s` : `${v} ms`),
    yTickLabel: (v) => `${Math.round(v * 100)}%`,
    width: 860,
  });
  const cdf = (values: readonly number[]): [number, number][] => {
    const sorted = [...values].sort((a, b) => a - b);
    const points: [number, number][] = [[sorted[0] as number, 0]];
    sorted.forEach((v, i) => {
      points.push([v, i / sorted.length], [v, (i + 1) / sorted.length]);
    });
    return points;
  };
  FAULT_PROTOCOLS.forEach((p, i) => {
    const r = recovery[p];
    if (r === undefined) return;
    const color = COLORS[i % COLORS.length] as string;
    // the two Paxos curves nearly coincide: Multi-Paxos drawn wide underneath, Flexible Paxos thin on top
    chart.line(cdf(r.raw.map((t) => t.commitMs)), color, { width: p === 'multi-paxos' ? 4 : p === 'flexible-paxos' ? 1.5 : 2 });
    chart.line(cdf(r.raw.map((t) => t.electedMs)), color, { dashed: true, width: 1 });
    chart.key(`${LABELS[p]} (${r.trials})`, color);
  });
  return chart.toString();
}

// ------------------------------------------------------------------ entry point

export async function run(args: string[]): Promise<void> {
  let o: ConsensusBenchOptions;
  try {
    o = parseConsensusArgs(args);
    timeScale({ ...o.config, cpuMsPerInput: SATURATION_CPU_MS });
  } catch (err) {
    if (!(err instanceof BenchUsageError)) throw err;
    process.stderr.write(`bench consensus: ${err.message}\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (o.help) {
    process.stdout.write(USAGE);
    return;
  }
  const started = performance.now();
  const out = (line: string): void => void (o.json ? process.stderr : process.stdout).write(`${line}\n`);
  out(`npm run bench -- consensus ${args.join(' ')}`.trimEnd());
  if (o.quick) out('--quick: one seed and short windows, a smoke run; its figures are not the recorded ones');
  const results = measureAll(o);
  const elapsedS = (performance.now() - started) / 1000;
  if (o.figures && results.recovery !== undefined) {
    const dir = fileURLToPath(new URL('../docs/figures/', import.meta.url));
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${dir}consensus-recovery-cdf.svg`, recoverySvg(results.recovery, o));
    say(`figure written to ${dir}consensus-recovery-cdf.svg\n`);
  }
  if (o.json) {
    const recovery = results.recovery === undefined ? undefined : Object.fromEntries(Object.entries(results.recovery).map(([p, r]) => [p, { trials: r.trials, electedMs: r.electedMs, commitMs: r.commitMs }]));
    process.stdout.write(`${JSON.stringify({ args, date: new Date().toISOString(), config: o.config, quick: o.quick, seeds: o.seeds, trials: o.trials, elapsedS, ...results, recovery }, null, 2)}\n`);
    return;
  }
  for (const line of reportLines(o, results)) out(line);
  out(`(${elapsedS.toFixed(0)} s wall)`);
}
