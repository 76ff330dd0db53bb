// `npm run bench -- gossip`: SWIM with Lifeguard (src/gossip) in the simulator against the SWIM
// (Das, Gupta, Motivala 2002) and Lifeguard (Dadgar, Phillips, Currey 2018) papers — rounds for
// one update to reach every member against log N, time to detect a crash, load per member per
// protocol period, false positives with and without Lifeguard, and the simulator's rate at
// 10,000 members. Seeded and deterministic (wall times aside); tables on stdout, figures in
// docs/figures/gossip-*.svg.
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  BENCH_GOSSIP_CONFIG,
  DISSEMINATION_LIMIT_ROUNDS,
  measureAccuracy,
  runScale,
  SWIM_FIRST_DETECTION_PERIODS,
  type AccuracyResult,
  type AccuracyScenario,
  type ScaleRun,
} from './lib/gossip-measure.js';
import { Chart, COLORS } from './lib/svg-chart.js';

export const USAGE = `usage: npm run bench -- gossip [--sizes LIST] [--quick] [--only PARTS] [--figures | --no-figures] [--help]
  --sizes LIST   member counts, comma-separated (default 10,100,1000,10000; 2..10000)
  --quick        fewer seeds, crashes and updates, sizes 10,100,1000 unless --sizes, accuracy over 1 seed of 20 s
  --only PARTS   some of: scale (dissemination, detection, load, simulator rate), coverage, accuracy
  --figures      write docs/figures/gossip-*.svg even for a non-default run (default: only the full default run)
  --no-figures   never write them
The whole default run takes about 6-8 minutes on 2 cores (10,000 members: about 3).
`;

const DEFAULT_SIZES = [10, 100, 1000, 10_000] as const;
const PARTS = ['scale', 'coverage', 'accuracy'] as const;
type Part = (typeof PARTS)[number];

/** Seeds (one cluster each) and, per cluster, metadata updates and crashes measured. */
interface SizePlan {
  readonly seeds: number;
  readonly updates: number;
  readonly crashes: number;
  readonly loadPeriods: number;
}

function planFor(members: number, quick: boolean): SizePlan {
  if (members <= 30) return quick ? { seeds: 8, updates: 1, crashes: 1, loadPeriods: 25 } : { seeds: 30, updates: 1, crashes: 1, loadPeriods: 25 };
  if (members <= 300) return quick ? { seeds: 3, updates: 1, crashes: 2, loadPeriods: 25 } : { seeds: 12, updates: 1, crashes: 2, loadPeriods: 25 };
  if (members <= 3000) return quick ? { seeds: 1, updates: 2, crashes: 2, loadPeriods: 25 } : { seeds: 4, updates: 2, crashes: 4, loadPeriods: 25 };
  return quick ? { seeds: 1, updates: 2, crashes: 2, loadPeriods: 10 } : { seeds: 1, updates: 4, crashes: 6, loadPeriods: 10 };
}

/** Runs with LOCAL's retransmitMult 2 (the simulator's usual configuration): does gossip alone reach everyone? */
function coveragePlan(members: number, quick: boolean): { seeds: number; updates: number } | undefined {
  if (members > 3000) return undefined;
  if (members <= 30) return { seeds: quick ? 10 : 40, updates: 1 };
  if (members <= 300) return { seeds: quick ? 4 : 20, updates: 2 };
  return { seeds: quick ? 1 : 5, updates: 3 };
}

const ACCURACY_MEMBERS = 100;
const ACCURACY_STRESSED = 5;
const BACKLOG_MS = 1_200;
const ACCURACY_SCENARIOS: readonly AccuracyScenario[] = [
  { name: 'no faults', lossRate: 0, stress: { kind: 'none' } },
  { name: 'loss 1%', lossRate: 0.01, stress: { kind: 'none' } },
  { name: 'loss 3%', lossRate: 0.03, stress: { kind: 'none' } },
  { name: 'loss 5%', lossRate: 0.05, stress: { kind: 'none' } },
  { name: 'backlog 1.2 s, loss 1%', lossRate: 0.01, stress: { kind: 'backlog', delayMs: BACKLOG_MS } },
  { name: 'backlog 1.2 s, loss 3%', lossRate: 0.03, stress: { kind: 'backlog', delayMs: BACKLOG_MS } },
  { name: 'backlog 1.2 s, loss 5%', lossRate: 0.05, stress: { kind: 'backlog', delayMs: BACKLOG_MS } },
  { name: 'backlog 0.3 s, loss 3%', lossRate: 0.03, stress: { kind: 'backlog', delayMs: 300 } },
  { name: 'backlog 2.4 s, loss 3%', lossRate: 0.03, stress: { kind: 'backlog', delayMs: 2_400 } },
  { name: 'pauses 1-2 s, loss 3%', lossRate: 0.03, stress: { kind: 'pauses', minMs: 1_000, maxMs: 2_000, gapMinMs: 500, gapMaxMs: 3_000 } },
];
/** The scenarios the Lifeguard goal (>= 50x fewer false positives) is judged on: the slow-member case of the paper. */
const HEADLINE_SCENARIOS = ACCURACY_SCENARIOS.filter((s) => s.stress.kind === 'backlog' && s.stress.delayMs === BACKLOG_MS).map((s) => s.name);

interface Options {
  readonly sizes: readonly number[];
  readonly quick: boolean;
  readonly parts: ReadonlySet<Part>;
  readonly figures: boolean;
  readonly help: boolean;
}

function parseArgs(args: readonly string[]): Options {
  let sizes: number[] | undefined;
  let parts: Set<Part> = new Set(PARTS);
  let figures: boolean | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '--sizes') {
      const text = args[++i] ?? '';
      sizes = text.split(',').map(Number);
      if (sizes.length === 0 || !sizes.every((n) => Number.isInteger(n) && n >= 2 && n <= 10_000)) throw new Error(`--sizes takes member counts from 2 to 10000, comma-separated; got ${JSON.stringify(text)}`);
    } else if (a === '--only') {
      const text = args[++i] ?? '';
      const names = text.split(',');
      if (!names.every((p) => (PARTS as readonly string[]).includes(p))) throw new Error(`--only takes some of ${PARTS.join(', ')}; got ${JSON.stringify(text)}`);
      parts = new Set(names as Part[]);
    } else if (a === '--figures') figures = true;
    else if (a === '--no-figures') figures = false;
    else if (!['--quick', '--help', '-h'].includes(a)) throw new Error(`unknown argument ${JSON.stringify(a)}`);
  }
  const quick = args.includes('--quick');
  const resolvedSizes = sizes ?? (quick ? [10, 100, 1000] : [...DEFAULT_SIZES]);
  const isDefault = !quick && sizes === undefined && parts.size === PARTS.length;
  return { sizes: resolvedSizes, quick, parts, figures: figures ?? isDefault, help: args.includes('--help') || args.includes('-h') };
}

// ------------------------------------------------------------------ statistics

function mean(xs: readonly number[]): number {
  return xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length;
}

function sd(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
}

function defined(xs: readonly (number | undefined)[]): number[] {
  return xs.filter((x): x is number => x !== undefined && !Number.isNaN(x));
}

/** c of y = c·ln(x), least squares through the origin. */
export function fitLog(points: readonly (readonly [number, number])[]): number {
  const num = points.reduce((a, [x, y]) => a + Math.log(x) * y, 0);
  const den = points.reduce((a, [x]) => a + Math.log(x) ** 2, 0);
  return num / den;
}

const f1 = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : '-');
const f2 = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : '-');
const n0 = (x: number): string => Math.round(x).toLocaleString('en-US');
const say = (text: string): void => void process.stderr.write(text);

// ------------------------------------------------------------------ the parts

interface SizeResult {
  readonly members: number;
  readonly runs: readonly ScaleRun[];
}

function measureScale(o: Options): SizeResult[] {
  return o.sizes.map((members) => {
    const plan = planFor(members, o.quick);
    const runs: ScaleRun[] = [];
    for (let seed = 1; seed <= plan.seeds; seed++) {
      const run = runScale({ members, seed, loadPeriods: plan.loadPeriods, updates: plan.updates, crashes: plan.crashes, join: true });
      runs.push(run);
      say(`  ${members} members, seed ${seed}: ${(run.wallMs / 1000).toFixed(1)} s wall for ${(run.simMs / 1000).toFixed(1)} s simulated\n`);
    }
    return { members, runs };
  });
}

function disseminationTable(sizes: readonly SizeResult[]): { lines: string[]; c: number; points: [number, number][]; joinPoints: [number, number][] } {
  const gossipMs = BENCH_GOSSIP_CONFIG.gossipIntervalMs;
  const lines = [
    `Dissemination: one member changes its metadata (and, once per cluster, a new member joins through one seed); time until every other live member holds it. Round = one gossip interval (${gossipMs} ms); gossipNodes ${BENCH_GOSSIP_CONFIG.gossipNodes}, probe every ${BENCH_GOSSIP_CONFIG.probeIntervalMs} ms (updates ride on pings and acks too), retransmitMult ${BENCH_GOSSIP_CONFIG.retransmitMult}, no push-pull; latency 1-5 ms.`,
    '| N | updates | rounds to all: mean (min-max) | ms to all: mean | ms to half (p50) | reached all | gossip messages per member | joins: rounds to all, mean |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  const points: [number, number][] = [];
  const joinPoints: [number, number][] = [];
  const means: [number, number][] = [];
  for (const s of sizes) {
    const updates = s.runs.flatMap((r) => r.metadata);
    const joinCount = s.runs.filter((r) => r.join !== undefined).length;
    const joins = defined(s.runs.map((r) => r.join?.allRounds));
    const rounds = defined(updates.map((u) => u.allRounds));
    for (const r of rounds) points.push([s.members, r]);
    for (const r of joins) joinPoints.push([s.members, r]);
    if (rounds.length > 0) means.push([s.members, mean(rounds)]);
    const complete = updates.filter((u) => u.allMs !== undefined).length;
    lines.push(
      `| ${n0(s.members)} | ${updates.length} | ${f1(mean(rounds))} (${f1(Math.min(...rounds))}-${f1(Math.max(...rounds))}) | ${n0(mean(defined(updates.map((u) => u.allMs))))} | ${n0(mean(updates.map((u) => u.p50Ms)))} | ${complete} of ${updates.length} | ${f1(mean(updates.map((u) => u.gossipMessagesPerMember)))} | ${joinCount === 0 ? '-' : `${f1(mean(joins))} (${joins.length} of ${joinCount} reached all)`} |`,
    );
  }
  const c = fitLog(means);
  const at1000 = means.find(([n]) => n === 1000)?.[1];
  lines.push(`fit: rounds ≈ ${f2(c)} · ln N (least squares through the origin on the means), i.e. ${f1(c * Math.log(1000))} at N = 1,000${at1000 === undefined ? '' : `; measured at 1,000: ${f1(at1000)} rounds (${n0(at1000 * gossipMs)} ms)`}`);
  return { lines, c, points, joinPoints };
}

function detectionTable(sizes: readonly SizeResult[]): { lines: string[]; rows: DetectionRow[] } {
  const periodMs = BENCH_GOSSIP_CONFIG.probeIntervalMs;
  const lines = [
    `Detection: a random member crashes at a random moment; periods (${periodMs} ms) from the crash until the first ping to it arrives, until the first member suspects it (SWIM: e/(e-1) = ${f2(SWIM_FIRST_DETECTION_PERIODS)} from the start of a synchronous period, 0.5 more from a random moment; independent probe phases as here: about 2 - 1/N), and until every live member holds it dead (bounded by first suspicion + the suspicion timeout, min..max below, + spreading the death).`,
    '| N | crashes | first ping: mean ± sd | first suspicion: mean ± sd | expected (2 - 1/N) | all dead: mean ± sd (min-max) | suspicion timeout min..max | all dead - first suspicion: mean |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  const rows: DetectionRow[] = [];
  for (const s of sizes) {
    const ds = s.runs.flatMap((r) => r.detections);
    if (ds.length === 0) continue;
    const p = (ms: number | undefined): number | undefined => (ms === undefined ? undefined : ms / periodMs);
    const ping = defined(ds.map((d) => p(d.firstPingMs)));
    const first = defined(ds.map((d) => p(d.firstSuspicionMs)));
    const all = defined(ds.map((d) => p(d.allDeadMs)));
    const gap = defined(ds.map((d) => (d.allDeadMs === undefined || d.firstSuspicionMs === undefined ? undefined : (d.allDeadMs - d.firstSuspicionMs) / periodMs)));
    const minP = (ds[0]?.suspicionMinMs ?? NaN) / periodMs;
    const maxP = (ds[0]?.suspicionMaxMs ?? NaN) / periodMs;
    const missed = ds.length - all.length;
    rows.push({ members: s.members, first, all, minP, maxP });
    lines.push(
      `| ${n0(s.members)} | ${ds.length} | ${f2(mean(ping))} ± ${f2(sd(ping))} | ${f2(mean(first))} ± ${f2(sd(first))} | ${f2(2 - 1 / s.members)} | ${f1(mean(all))} ± ${f1(sd(all))} (${f1(Math.min(...all))}-${f1(Math.max(...all))})${missed > 0 ? `, ${missed} not everywhere` : ''} | ${f1(minP)}..${f1(maxP)} | ${f1(mean(gap))} |`,
    );
  }
  const allFirst = rows.flatMap((r) => r.first);
  lines.push(`first suspicion over every crash: ${f2(mean(allFirst))} ± ${f2(sd(allFirst))} periods (${allFirst.length} crashes); per-N means ${rows.map((r) => f2(mean(r.first))).join(', ')}`);
  return { lines, rows };
}

interface DetectionRow {
  readonly members: number;
  readonly first: readonly number[];
  readonly all: readonly number[];
  readonly minP: number;
  readonly maxP: number;
}

interface LoadRow {
  readonly members: number;
  readonly messages: number;
  readonly bytes: number;
}

function loadTable(sizes: readonly SizeResult[]): { lines: string[]; rows: LoadRow[]; messagesSpread: number; bytesSpread: number } {
  const lines = [
    `Load: messages and bytes (JSON text) each member sends per protocol period in a quiet cluster (nothing to gossip), averaged over the seeds; goal: flat within ±10% from N = 10 to 10,000.`,
    '| N | periods x seeds | messages per member per period | bytes per member per period | by type |',
    '| --- | --- | --- | --- | --- |',
  ];
  const rows: LoadRow[] = [];
  for (const s of sizes) {
    const loads = s.runs.map((r) => r.load).filter((l) => l !== undefined);
    if (loads.length === 0) continue;
    const messages = mean(loads.map((l) => l.messagesPerMemberPerPeriod));
    const bytes = mean(loads.map((l) => l.bytesPerMemberPerPeriod));
    const types = [...new Set(loads.flatMap((l) => Object.keys(l.byTypePerMemberPerPeriod)))].sort();
    rows.push({ members: s.members, messages, bytes });
    lines.push(`| ${n0(s.members)} | ${loads[0]?.periods} x ${loads.length} | ${messages.toFixed(4)} | ${f1(bytes)} | ${types.map((t) => `${t} ${mean(loads.map((l) => l.byTypePerMemberPerPeriod[t] ?? 0)).toFixed(4)}`).join(', ')} |`);
  }
  // spread: how far the extremes lie from the mean over every N
  const spread = (xs: number[]): number => Math.max(...xs.map((x) => Math.abs(x / mean(xs) - 1)));
  const messagesSpread = spread(rows.map((r) => r.messages));
  const bytesSpread = spread(rows.map((r) => r.bytes));
  lines.push(`flat within ±10%? messages: within ±${(messagesSpread * 100).toFixed(2)}% of their mean (${messagesSpread <= 0.1 ? 'yes' : 'no'}); bytes: within ±${(bytesSpread * 100).toFixed(1)}% (${bytesSpread <= 0.1 ? 'yes' : 'no'})`);
  return { lines, rows, messagesSpread, bytesSpread };
}

function simulatorTable(sizes: readonly SizeResult[]): string[] {
  const lines = [
    'Simulator rate (tracing off): in the quiet load window (steady state), and over each whole cluster run (start, settling, every phase); wall times depend on the machine and its load.',
    '| N | load window: simulated events per wall s | simulated s per wall s | whole run: wall s | simulated s | events | start (wall s) | heap after |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const s of sizes) {
    const loads = s.runs.map((r) => r.load).filter((l) => l !== undefined);
    const wall = s.runs.reduce((a, r) => a + r.wallMs, 0) / 1000;
    const sim = s.runs.reduce((a, r) => a + r.simMs, 0) / 1000;
    const events = s.runs.reduce((a, r) => a + r.events, 0);
    lines.push(
      `| ${n0(s.members)} | ${n0(mean(loads.map((l) => l.simEventsPerWallSecond)))} | ${f2(mean(loads.map((l) => l.simSecondsPerWallSecond)))} | ${f1(wall)} | ${f1(sim)} | ${n0(events)} | ${f2(mean(s.runs.map((r) => r.setupWallMs)) / 1000)} | ${n0(Math.max(...s.runs.map((r) => r.heapMiB)))} MiB |`,
    );
  }
  return lines;
}

function measureCoverage(o: Options): string[] {
  const lines = [
    'Coverage with retransmitMult 2 (LOCAL and the simulator\'s usual GOSSIP_SIM_CONFIG), gossip alone (no push-pull): updates that reached every member within 200 rounds.',
    '| N | updates | reached everyone | members missed, total |',
    '| --- | --- | --- | --- |',
  ];
  for (const members of o.sizes) {
    const plan = coveragePlan(members, o.quick);
    if (plan === undefined) continue;
    let complete = 0;
    let total = 0;
    let missed = 0;
    for (let seed = 1; seed <= plan.seeds; seed++) {
      const run = runScale({ members, seed: 1_000 + seed, loadPeriods: 0, updates: plan.updates, crashes: 0, join: false, config: { retransmitMult: 2 } });
      for (const u of run.metadata) {
        total++;
        if (u.allMs !== undefined) complete++;
        missed += u.members - 1 - u.reached;
      }
    }
    lines.push(`| ${n0(members)} | ${total} | ${complete} (${((100 * complete) / total).toFixed(0)}%) | ${missed} |`);
    say(`  coverage ${members} members: ${complete} of ${total}\n`);
  }
  return lines;
}

interface AccuracyRow {
  readonly scenario: AccuracyScenario;
  readonly swim: AccuracySum;
  readonly lifeguard: AccuracySum;
}

type AccuracySum = Omit<AccuracyResult, 'scenario' | 'lifeguard' | 'seed'> & { readonly seeds: number };

function sumAccuracy(results: readonly AccuracyResult[]): AccuracySum {
  const first = results[0] as AccuracyResult;
  const total = (k: 'suspicions' | 'declarations' | 'healthyDeaths' | 'stressedDeaths' | 'healthyFailEvents' | 'stressedFailEvents'): number => results.reduce((a, r) => a + r[k], 0);
  return {
    seeds: results.length,
    members: first.members,
    stressed: first.stressed,
    durationMs: first.durationMs,
    suspicions: total('suspicions'),
    declarations: total('declarations'),
    healthyDeaths: total('healthyDeaths'),
    stressedDeaths: total('stressedDeaths'),
    healthyFailEvents: total('healthyFailEvents'),
    stressedFailEvents: total('stressedFailEvents'),
  };
}

function ratio(swim: number, lifeguard: number): string {
  if (swim === 0 && lifeguard === 0) return '-';
  if (lifeguard === 0) return `> ${swim}x (0)`;
  return `${(swim / lifeguard).toFixed(1)}x`;
}

function measureAccuracyPart(o: Options): { lines: string[]; rows: AccuracyRow[] } {
  const seeds = o.quick ? 1 : 3;
  const durationMs = o.quick ? 20_000 : 60_000;
  const rows: AccuracyRow[] = [];
  for (const scenario of ACCURACY_SCENARIOS) {
    const run = (lifeguard: boolean): AccuracySum =>
      sumAccuracy(Array.from({ length: seeds }, (_, i) => measureAccuracy({ members: ACCURACY_MEMBERS, stressed: ACCURACY_STRESSED, scenario, lifeguard, seed: 1 + i, durationMs })));
    const row = { scenario, swim: run(false), lifeguard: run(true) };
    rows.push(row);
    say(`  accuracy ${scenario.name}: healthy members declared dead ${row.swim.healthyDeaths} without Lifeguard, ${row.lifeguard.healthyDeaths} with\n`);
  }
  const lines = [
    `Accuracy: ${ACCURACY_MEMBERS} live members (no crash), ${seeds} seed(s) x ${durationMs / 1000} s each, Lifeguard off (plain SWIM with suspicion) and on. Stressed: ${ACCURACY_STRESSED} members; "backlog": every message to a stressed member is handled that much later while its timers fire on time (a member starved of CPU reading its socket late); "pauses": the whole member stops, timers too. False positives: distinct (member, incarnation) declared dead by anyone, about healthy members and about stressed ones; in brackets, the "failed" events the members' applications saw.`,
    '| scenario | suspicions (off / on) | healthy members declared dead: off | on | off / on | stressed members declared dead: off | on |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${r.scenario.name} | ${n0(r.swim.suspicions)} / ${n0(r.lifeguard.suspicions)} | ${n0(r.swim.healthyDeaths)} (${n0(r.swim.healthyFailEvents)}) | ${n0(r.lifeguard.healthyDeaths)} (${n0(r.lifeguard.healthyFailEvents)}) | ${ratio(r.swim.healthyDeaths, r.lifeguard.healthyDeaths)} | ${n0(r.swim.stressedDeaths)} (${n0(r.swim.stressedFailEvents)}) | ${n0(r.lifeguard.stressedDeaths)} (${n0(r.lifeguard.stressedFailEvents)}) |`,
    ),
  ];
  const headline = rows.filter((r) => HEADLINE_SCENARIOS.includes(r.scenario.name));
  const swim = headline.reduce((a, r) => a + r.swim.healthyDeaths, 0);
  const lifeguard = headline.reduce((a, r) => a + r.lifeguard.healthyDeaths, 0);
  const all = (pick: (r: AccuracyRow) => AccuracySum): number => headline.reduce((a, r) => a + pick(r).healthyDeaths + pick(r).stressedDeaths, 0);
  const met = lifeguard === 0 ? swim >= 50 : swim / lifeguard >= 50;
  lines.push(
    `goal (Lifeguard >= 50x fewer false positives, the slow-member case: ${HEADLINE_SCENARIOS.join('; ')}): healthy members declared dead ${swim} without, ${lifeguard} with: ${ratio(swim, lifeguard)} (${met ? 'met' : 'not met'}); counting the stressed members too: ${all((r) => r.swim)} vs ${all((r) => r.lifeguard)} (${ratio(all((r) => r.swim), all((r) => r.lifeguard))})`,
  );
  const clean = rows.find((r) => r.scenario.name === 'no faults');
  if (clean !== undefined) lines.push(`no faults: ${clean.swim.healthyDeaths + clean.swim.stressedDeaths} false positives without Lifeguard, ${clean.lifeguard.healthyDeaths + clean.lifeguard.stressedDeaths} with (goal 0)`);
  return { lines, rows };
}

// ------------------------------------------------------------------ figures

const SIZE_TICKS = [10, 100, 1000, 10_000];

function disseminationSvg(points: readonly [number, number][], joinPoints: readonly [number, number][], c: number): string {
  const maxRounds = Math.max(12, ...points.map(([, r]) => r), ...joinPoints.map(([, r]) => r));
  const chart = new Chart({
    title: `Rounds until one update reaches every member (gossip to ${BENCH_GOSSIP_CONFIG.gossipNodes} every ${BENCH_GOSSIP_CONFIG.gossipIntervalMs} ms)`,
    xLabel: 'members N (log scale)',
    yLabel: `rounds (gossip intervals of ${BENCH_GOSSIP_CONFIG.gossipIntervalMs} ms)`,
    x: { kind: 'log', min: 7, max: 14_000 },
    y: { kind: 'linear', min: 0, max: Math.ceil(maxRounds / 2) * 2 },
    xTicks: SIZE_TICKS,
    yTicks: Array.from({ length: Math.ceil(maxRounds / 2) + 1 }, (_, i) => i * 2),
  });
  const fit = Array.from({ length: 41 }, (_, i) => 10 ** (1 + (3 * i) / 40)).map((n) => [n, c * Math.log(n)] as [number, number]);
  chart.line(fit, COLORS[3], { dashed: true }).key(`fit: ${c.toFixed(2)} · ln N`, COLORS[3], { dashed: true });
  chart.points(points, COLORS[0], 3).key('metadata change', COLORS[0], { marker: true });
  chart.points(joinPoints, COLORS[2], 3).key('join', COLORS[2], { marker: true });
  const means = [...new Set(points.map(([n]) => n))].map((n) => [n, mean(points.filter(([m]) => m === n).map(([, r]) => r))] as [number, number]);
  chart.line(means, COLORS[0], { width: 1.5 }).key('mean of the changes', COLORS[0]);
  chart.points([[1000, 10]], COLORS[1], 5, true).key('"about 10 at 1,000"', COLORS[1], { marker: true });
  return chart.toString();
}

function detectionSvg(rows: readonly DetectionRow[]): string {
  const chart = new Chart({
    title: 'Crash detection in protocol periods (mean ± sd over the crashes)',
    xLabel: 'members N (log scale)',
    yLabel: `protocol periods of ${BENCH_GOSSIP_CONFIG.probeIntervalMs} ms (log scale)`,
    x: { kind: 'log', min: 7, max: 14_000 },
    y: { kind: 'log', min: 0.5, max: 100 },
    xTicks: SIZE_TICKS,
    yTicks: [0.5, 1, 2, 5, 10, 20, 50, 100],
  });
  const at = (pick: (r: DetectionRow) => number): [number, number][] => rows.map((r) => [r.members, pick(r)]);
  chart.line(at((r) => r.minP), COLORS[6], { dashed: true, width: 1 }).key('suspicion timeout, min', COLORS[6], { dashed: true });
  chart.line(at((r) => r.maxP), COLORS[5], { dashed: true, width: 1 }).key('suspicion timeout, max', COLORS[5], { dashed: true });
  chart.line([[7, SWIM_FIRST_DETECTION_PERIODS], [14_000, SWIM_FIRST_DETECTION_PERIODS]], COLORS[3], { dashed: true, width: 1 }).key('SWIM: e/(e-1) = 1.58', COLORS[3], { dashed: true });
  chart.line(Array.from({ length: 41 }, (_, i) => 10 ** (0.85 + (3.3 * i) / 40)).map((n) => [n, 2 - 1 / n] as [number, number]), COLORS[1], { dashed: true, width: 1 }).key('independent phases: 2 - 1/N', COLORS[1], { dashed: true });
  for (const [pick, color, label] of [[(r: DetectionRow) => r.first, COLORS[0], 'first suspicion'], [(r: DetectionRow) => r.all, COLORS[2], 'dead at every member']] as const) {
    for (const r of rows) {
      const xs = pick(r);
      if (xs.length > 0) chart.errorBar(r.members, Math.max(0.5, mean(xs) - sd(xs)), mean(xs) + sd(xs), color);
    }
    chart.line(at((r) => mean(pick(r))), color).points(at((r) => mean(pick(r))), color, 4).key(label, color);
  }
  return chart.toString();
}

function loadSvg(rows: readonly LoadRow[]): string {
  const chart = new Chart({
    title: 'Load per member per protocol period, against the mean over N (goal: within ±10%)',
    xLabel: 'members N (log scale)',
    yLabel: 'relative to the mean over every N',
    x: { kind: 'log', min: 7, max: 14_000 },
    y: { kind: 'linear', min: 0.8, max: 1.2 },
    xTicks: SIZE_TICKS,
    yTicks: [0.8, 0.9, 1, 1.1, 1.2],
    yTickLabel: (v) => v.toFixed(1),
  });
  chart.band(0.9, 1.1, COLORS[2]).key('goal: ±10%', '#c9e6c5', { swatch: true });
  const m = mean(rows.map((r) => r.messages));
  const b = mean(rows.map((r) => r.bytes));
  const messages = rows.map((r) => [r.members, r.messages / m] as [number, number]);
  const bytes = rows.map((r) => [r.members, r.bytes / b] as [number, number]);
  chart.line(messages, COLORS[0]).points(messages, COLORS[0], 4).key('messages', COLORS[0]);
  chart.line(bytes, COLORS[1]).points(bytes, COLORS[1], 4).key('bytes', COLORS[1]);
  for (const r of rows) chart.text(chart.px(r.members), chart.py(1.16), `${r.messages.toFixed(2)} msg, ${r.bytes.toFixed(0)} B`, { anchor: 'middle', size: 11 });
  return chart.toString();
}

function accuracySvg(rows: readonly AccuracyRow[]): string {
  const shown = rows;
  const top = Math.max(10, ...shown.flatMap((r) => [r.swim.healthyDeaths, r.lifeguard.healthyDeaths, r.swim.stressedDeaths, r.lifeguard.stressedDeaths]));
  const decades = Math.ceil(Math.log10(top + 1));
  const chart = new Chart({
    title: `False positives with and without Lifeguard (${ACCURACY_MEMBERS} members, ${ACCURACY_STRESSED} stressed)`,
    xLabel: '',
    yLabel: 'members declared dead (log scale, 0 at the axis)',
    x: { kind: 'linear', min: 0, max: shown.length },
    y: { kind: 'log', min: 1, max: 10 ** decades + 1 },
    xTicks: [],
    yTicks: [1, ...Array.from({ length: decades + 1 }, (_, i) => 10 ** i + 1)],
    yTickLabel: (v) => formatTick(v - 1),
    width: 900,
    height: 520,
  });
  const slot = (chart.area.right - chart.area.left) / shown.length;
  const barWidth = slot / 5;
  shown.forEach((r, i) => {
    const cx = chart.area.left + slot * (i + 0.5);
    const bars = [
      [r.swim.healthyDeaths, COLORS[3]],
      [r.lifeguard.healthyDeaths, COLORS[0]],
      [r.swim.stressedDeaths, '#f4a6a6'],
      [r.lifeguard.stressedDeaths, '#9ec5e8'],
    ] as const;
    bars.forEach(([v, color], k) => {
      const x = cx + (k - 1.5) * barWidth;
      chart.bar(x, v + 1, barWidth - 1, color);
      chart.text(x, chart.py(v + 1) - 3, String(v), { anchor: 'middle', size: 9 });
    });
    chart.text(cx, chart.area.bottom + 14, r.scenario.name, { anchor: 'end', size: 10, rotate: -20 });
  });
  for (const [label, color] of [['healthy, Lifeguard off', COLORS[3]], ['healthy, Lifeguard on', COLORS[0]], ['stressed, Lifeguard off', '#f4a6a6'], ['stressed, Lifeguard on', '#9ec5e8']] as const) chart.key(label, color, { swatch: true });
  return chart.toString();
}

function formatTick(v: number): string {
  return v >= 1000 ? `${v / 1000}k` : String(v);
}

// ------------------------------------------------------------------ main

export async function run(args: string[]): Promise<void> {
  let o: Options;
  try {
    o = parseArgs(args);
  } catch (err) {
    process.stderr.write(`bench gossip: ${(err as Error).message}\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (o.help) return void process.stdout.write(USAGE);
  const started = performance.now();
  const out: string[] = [`npm run bench -- gossip ${args.join(' ')}`.trimEnd(), `configuration: the simulator's (GOSSIP_SIM_CONFIG: LOCAL five times faster, 3 indirect checks) with retransmitMult ${BENCH_GOSSIP_CONFIG.retransmitMult} (LAN's), maxMembers ${BENCH_GOSSIP_CONFIG.maxMembers}, push-pull and reconnect off; every cluster starts settled (a shared starting view)`, ''];
  const figures: Record<string, string> = {};
  if (o.parts.has('scale')) {
    say(`scale: ${o.sizes.join(', ')} members\n`);
    const sizes = measureScale(o);
    const d = disseminationTable(sizes);
    const det = detectionTable(sizes);
    const load = loadTable(sizes);
    out.push(...d.lines, '', ...det.lines, '', ...load.lines, '', ...simulatorTable(sizes), '');
    figures['gossip-dissemination-vs-logN.svg'] = disseminationSvg(d.points, d.joinPoints, d.c);
    figures['gossip-detection-vs-N.svg'] = detectionSvg(det.rows);
    figures['gossip-load-vs-N.svg'] = loadSvg(load.rows);
  }
  if (o.parts.has('coverage')) {
    say('coverage with retransmitMult 2\n');
    out.push(...measureCoverage(o), '');
  }
  if (o.parts.has('accuracy')) {
    say('accuracy\n');
    const acc = measureAccuracyPart(o);
    out.push(...acc.lines, '');
    figures['gossip-accuracy.svg'] = accuracySvg(acc.rows);
  }
  out.push(`whole run: ${((performance.now() - started) / 1000).toFixed(0)} s wall; dissemination limit ${DISSEMINATION_LIMIT_ROUNDS} rounds`);
  process.stdout.write(`${out.join('\n')}\n`);
  if (!o.figures) return;
  const dir = fileURLToPath(new URL('../docs/figures/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  for (const [name, svg] of Object.entries(figures)) writeFileSync(`${dir}${name}`, svg);
  process.stdout.write(`figures written to ${dir}: ${Object.keys(figures).join(', ')}\n`);
}
