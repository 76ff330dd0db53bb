// `npm run bench -- lock [--quick] [--rounds N] [--only rows] [--scenarios ...] [--json] [--help]`:
// acquire+release per second and latency of the lock backends side by side in one run — Synod, etcd
// (its v3lock service and our lease+txn recipe), one Redis, Redlock and node-redlock on 5 Redis —
// with 1 client, 16 contending for one lock, and 16 on 16 locks (docs/PERFORMANCE.md, "Locks").
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import type { Lock } from '../src/lock/index.js';
import { createRedisLock, createRedlock, EtcdLeaseKv, KvLock, SynodLeaseKv } from '../src/lock/index.js';
import { startRedisFleet, startRedisServer } from '../src/lock/test/redis-server.js';
import { startLocalCluster } from '../src/supervisor/index.js';
import { findEtcdLeader, httpJson, startEtcdCluster, waitFor } from './lib/etcd.js';
import { LeanHttpClient } from './lib/http-client.js';
import { runLockLoad, type LockClient, type LockLoadResult } from './lib/lock-load.js';
import { cpuMs, median, optionValue } from './lib/measure.js';

const repoRoot = fileURLToPath(new URL('../', import.meta.url));

/** Every grant's TTL: long enough that no lease expires during a run (a release ends each one). */
export const TTL_MS = 10_000;
/** How long one acquire of our Lock API waits for a held lock before LOCK_TIMEOUT (an error of the run). */
const WAIT_MS = 30_000;
const CLIENTS = 16;
const REDLOCK_SERVERS = 5;

export const ROW_NAMES = ['synod', 'etcd-v3lock', 'etcd-txn', 'redis', 'redlock', 'node-redlock'] as const;
export type RowName = (typeof ROW_NAMES)[number];

export const SCENARIOS = {
  one: { label: '1 client, 1 lock', clients: 1, nameOf: (): string => 'bench-lock' },
  contended: { label: `${CLIENTS} clients, 1 lock`, clients: CLIENTS, nameOf: (): string => 'bench-lock' },
  spread: { label: `${CLIENTS} clients, ${CLIENTS} locks`, clients: CLIENTS, nameOf: (i: number): string => `bench-lock-${i}` },
  // not in the default set: 16 tasks of one process sharing one client (its connections), as a
  // service's request handlers share one lock client
  shared: { label: `1 client x ${CLIENTS} tasks, ${CLIENTS} locks`, clients: CLIENTS, nameOf: (i: number): string => `bench-lock-${i}`, sharedClient: true },
} as const;
export type ScenarioName = keyof typeof SCENARIOS;
const SCENARIO_NAMES = Object.keys(SCENARIOS) as ScenarioName[];
/** The scenarios of the issue's goals, run when --scenarios is not given. */
const DEFAULT_SCENARIOS: readonly ScenarioName[] = ['one', 'contended', 'spread'];

/** The comparisons the issue asks for: numerator row / denominator row. */
export const RATIOS: readonly (readonly [RowName, RowName])[] = [
  ['synod', 'etcd-v3lock'],
  ['synod', 'etcd-txn'],
  ['redlock', 'node-redlock'],
];

export const USAGE = `usage: npm run bench -- lock [--quick] [--rounds N] [--only ROWS] [--scenarios LIST] [--json] [--help]
  rows (--only, comma-separated; "etcd" = both etcd rows, "redlocks" = redlock,node-redlock): ${ROW_NAMES.join(', ')}
  scenarios (--scenarios, comma-separated): one (1 client), contended (${CLIENTS} clients, 1 lock), spread (${CLIENTS} clients, ${CLIENTS} locks);
               default one,contended,spread; also shared (${CLIENTS} tasks sharing one client, ${CLIENTS} locks)
  --rounds N   rounds, each on servers started afresh, the order alternating; medians reported (default 3, 1 with --quick)
  --quick      a smoke run: 0.5 s warm-up and 1.5 s measured per scenario instead of 2 s and 5 s
  --json       print the results as one JSON document on stdout (progress goes to stderr)
`;

export class BenchUsageError extends Error {}

export interface LockBenchOptions {
  readonly quick: boolean;
  readonly rounds: number;
  readonly rows: readonly RowName[];
  readonly scenarios: readonly ScenarioName[];
  readonly json: boolean;
  readonly help: boolean;
  readonly warmUpMs: number;
  readonly measureMs: number;
  /** Pairs each of 16 clients makes on its own lock when a row's servers are new, before any scenario. */
  readonly rowWarmUpPairs: number;
}

const KNOWN_FLAGS = new Set(['--quick', '--rounds', '--only', '--scenarios', '--json', '--help', '-h']);

function listOf<T extends string>(value: string, known: readonly T[], flag: string, aliases: Readonly<Record<string, readonly T[]>> = {}): T[] {
  const picked: T[] = [];
  for (const item of value.split(',').map((x) => x.trim())) {
    const expanded = aliases[item] ?? ((known as readonly string[]).includes(item) ? [item as T] : undefined);
    if (expanded === undefined) throw new BenchUsageError(`${flag} takes a comma-separated list of ${known.join(', ')}; got ${JSON.stringify(item)}`);
    for (const x of expanded) if (!picked.includes(x)) picked.push(x);
  }
  return picked;
}

/** The command line of `bench lock`; BenchUsageError on anything it does not know. */
export function parseLockBenchArgs(args: readonly string[]): LockBenchOptions {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (!KNOWN_FLAGS.has(arg)) throw new BenchUsageError(`unknown argument ${JSON.stringify(arg)}`);
    if (arg === '--rounds' || arg === '--only' || arg === '--scenarios') i++;
  }
  const read = (flag: string): string | undefined => {
    try {
      return optionValue(args, flag);
    } catch (err) {
      throw new BenchUsageError((err as Error).message);
    }
  };
  const quick = args.includes('--quick');
  const roundsText = read('--rounds');
  const rounds = roundsText === undefined ? (quick ? 1 : 3) : Number(roundsText);
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 20) throw new BenchUsageError(`--rounds takes an integer from 1 to 20, got ${roundsText}`);
  const onlyText = read('--only');
  const rows = onlyText === undefined ? [...ROW_NAMES] : listOf(onlyText, ROW_NAMES, '--only', { etcd: ['etcd-v3lock', 'etcd-txn'], redlocks: ['redlock', 'node-redlock'] });
  const scenariosText = read('--scenarios');
  const scenarios = scenariosText === undefined ? [...DEFAULT_SCENARIOS] : listOf(scenariosText, SCENARIO_NAMES, '--scenarios');
  return {
    quick,
    rounds,
    rows: ROW_NAMES.filter((r) => rows.includes(r)),
    scenarios: SCENARIO_NAMES.filter((s) => scenarios.includes(s)),
    json: args.includes('--json'),
    help: args.includes('--help') || args.includes('-h'),
    warmUpMs: quick ? 500 : 2000,
    measureMs: quick ? 1500 : 5000,
    rowWarmUpPairs: quick ? 30 : 250,
  };
}

/** A row's servers, up, and how to open one more client of them. */
interface LockTarget {
  readonly name: RowName;
  /** Stop at the first overlap or token regression: the backend promises mutual exclusion with fencing. */
  readonly fencing: boolean;
  openClient(): Promise<LockClient>;
  /** Process ids of the servers, for their CPU time. */
  readonly pids: readonly number[];
  stop(): Promise<void>;
}

/** A client of our Lock API (Synod, etcd-txn, Redis, Redlock): acquire waits up to WAIT_MS. */
function lockApiClient(lock: Lock): LockClient {
  return {
    acquire: async (name) => {
      const grant = await lock.acquire(name, { ttlMs: TTL_MS, waitMs: WAIT_MS });
      return { token: grant.token, release: () => lock.release(grant) };
    },
    close: () => lock.close(),
  };
}

async function synodTarget(dir: string, agent: Agent): Promise<LockTarget> {
  // plain HTTP, as the etcd it is compared with runs
  const cluster = await startLocalCluster({ nodes: 3, dataDir: join(dir, 'synod'), basePort: 27000, tls: false, logLevel: 'warn', command: [join(repoRoot, 'bin/synod.js')] });
  try {
    let leader: string | undefined;
    await waitFor(
      async () => {
        for (const url of Object.values(cluster.endpoints)) {
          const s = (await httpJson('GET', `${url}/v1/status`, undefined, agent).catch(() => null)) as { role?: string } | null;
          if (s?.role === 'leader') leader = url;
        }
        return leader !== undefined;
      },
      30_000,
      'a Synod leader',
    );
    const nodes = (await httpJson('GET', `${cluster.controlUrl}/api/nodes`, undefined, agent)) as { pid: number }[];
    // each client talks to the leader only, as the etcd rows' clients do to their member
    const endpoints = [leader as string];
    return {
      name: 'synod',
      fencing: true,
      openClient: async () => lockApiClient(new KvLock(SynodLeaseKv.connect({ endpoints }))),
      pids: nodes.map((n) => n.pid),
      stop: () => cluster.stop(),
    };
  } catch (err) {
    await cluster.stop();
    throw err;
  }
}

async function etcdCluster(dir: string, agent: Agent): Promise<{ leader: string; pids: number[]; stop(): Promise<void> }> {
  const cluster = await startEtcdCluster(dir, 3, 27500);
  try {
    return { leader: await findEtcdLeader(cluster.clientUrls, agent), pids: cluster.processes.map((p) => p.pid as number), stop: () => cluster.stop() };
  } catch (err) {
    await cluster.stop();
    throw err;
  }
}

const b64 = (text: string): string => Buffer.from(text).toString('base64');

/**
 * etcd's own lock service (v3lock), through its JSON gateway: the etcd3 package ships no
 * v3lock.proto for gRPC. One pair is what `etcdctl lock` does: grant a lease, Lock (etcd queues the
 * caller server-side and answers once it holds), Unlock, revoke. Each client has one connection.
 */
async function etcdV3lockTarget(dir: string, agent: Agent): Promise<LockTarget> {
  const cluster = await etcdCluster(join(dir, 'etcd-v3lock'), agent);
  return {
    name: 'etcd-v3lock',
    fencing: true,
    openClient: async () => {
      const http = new LeanHttpClient(cluster.leader);
      const post = async (path: string, body: unknown): Promise<Record<string, unknown>> => JSON.parse((await http.send('POST', path, body)).body) as Record<string, unknown>;
      return {
        acquire: async (name) => {
          const { ID } = await post('/v3/lease/grant', { TTL: TTL_MS / 1000 });
          if (typeof ID !== 'string') throw new Error('lease grant: no ID in the answer');
          try {
            const { key } = await post('/v3/lock/lock', { name: b64(name), lease: ID });
            if (typeof key !== 'string') throw new Error('lock: no key in the answer');
            return {
              token: null, // the answer's header revision is not the key's create revision
              release: async () => {
                await post('/v3/lock/unlock', { key });
                await post('/v3/lease/revoke', { ID });
              },
            };
          } catch (err) {
            await post('/v3/lease/revoke', { ID }).catch(() => undefined);
            throw err;
          }
        },
        close: async () => http.close(),
      };
    },
    pids: cluster.pids,
    stop: cluster.stop,
  };
}

/** Our lock recipe (lease, txn, watch of the one ahead) over etcd's gRPC API through the etcd3 package. */
async function etcdTxnTarget(dir: string, agent: Agent): Promise<LockTarget> {
  const cluster = await etcdCluster(join(dir, 'etcd-txn'), agent);
  return {
    name: 'etcd-txn',
    fencing: true,
    openClient: async () => lockApiClient(new KvLock(await EtcdLeaseKv.connect({ hosts: cluster.leader }))),
    pids: cluster.pids,
    stop: cluster.stop,
  };
}

async function redisTarget(): Promise<LockTarget> {
  const server = await startRedisServer();
  return {
    name: 'redis',
    fencing: true,
    openClient: async () => lockApiClient(await createRedisLock({ server: { host: server.host, port: server.port } })),
    pids: [server.pid as number],
    stop: () => server.stop(),
  };
}

async function redlockTarget(): Promise<LockTarget> {
  const fleet = await startRedisFleet(REDLOCK_SERVERS);
  return {
    name: 'redlock',
    fencing: false,
    // its default retry: 50 ms plus up to 150 ms at random between attempts
    openClient: async () => lockApiClient(await createRedlock({ servers: fleet.endpoints })),
    pids: fleet.servers.map((s) => s.pid as number),
    stop: () => fleet.stop(),
  };
}

/** The parts of node-redlock 4.2.0 (`redlock` on npm, untyped, bluebird promises) the bench calls. */
interface NodeRedlockLock {
  unlock(): PromiseLike<unknown>;
}
interface NodeRedlock {
  lock(resource: string, ttlMs: number): PromiseLike<NodeRedlockLock>;
}
type NodeRedlockConstructor = new (clients: readonly Redis[], options?: { readonly retryCount?: number }) => NodeRedlock;

/** node-redlock, the reference client, on its defaults: 10 retries 200 ± 100 ms apart, then an error. */
async function nodeRedlockTarget(): Promise<LockTarget> {
  const NodeRedlockClass = createRequire(import.meta.url)('redlock') as NodeRedlockConstructor;
  const fleet = await startRedisFleet(REDLOCK_SERVERS);
  return {
    name: 'node-redlock',
    fencing: false,
    openClient: async () => {
      const connections = fleet.endpoints.map((e) => new Redis({ host: e.host, port: e.port, lazyConnect: true }));
      await Promise.all(connections.map((c) => c.connect()));
      const redlock = new NodeRedlockClass(connections);
      return {
        acquire: async (name) => {
          const held = await redlock.lock(name, TTL_MS);
          return { token: null, release: async () => void (await held.unlock()) };
        },
        close: async () => connections.forEach((c) => c.disconnect()),
      };
    },
    pids: fleet.servers.map((s) => s.pid as number),
    stop: () => fleet.stop(),
  };
}

const MAKERS: Record<RowName, (dir: string, agent: Agent) => Promise<LockTarget>> = {
  synod: synodTarget,
  'etcd-v3lock': etcdV3lockTarget,
  'etcd-txn': etcdTxnTarget,
  redis: redisTarget,
  redlock: redlockTarget,
  'node-redlock': nodeRedlockTarget,
};

/** One scenario on one row in one round: the load and the CPU per pair of the servers and of this process. */
export interface Measured {
  readonly load: LockLoadResult;
  readonly serverCpuUsPerOp: number;
  readonly clientCpuUsPerOp: number;
}

const NAME_WIDTH = 12;

function formatMeasured(m: Measured): string {
  const r = m.load;
  const errors = r.errorSamples.map((e) => `\n      ${e.count} x ${e.message}`).join('');
  const bad = r.overlaps + r.tokenRegressions > 0 ? `  VIOLATIONS: ${r.overlaps} overlapping holders, ${r.tokenRegressions} tokens not increasing` : '';
  return (
    `${num(r.opsPerSecond, 0).padStart(7)} pairs/s  p50 ${num(r.latencyMsP50, 2).padStart(7)} ms  p99 ${num(r.latencyMsP99, 2).padStart(7)} ms  (${r.ops} pairs, ${r.errors} errors, per client ${r.clientOpsMin}-${r.clientOpsMax})` +
    `  CPU/pair: servers ${num(m.serverCpuUsPerOp, 0)} us, client ${num(m.clientCpuUsPerOp, 0)} us${bad}${errors}`
  );
}

const num = (x: number, digits: number): string => (Number.isFinite(x) ? x.toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : '-');

/** Opens the scenario's clients, warms up, measures, closes them; throws on a violation where the row fences. */
async function measureScenario(target: LockTarget, scenario: ScenarioName, options: LockBenchOptions, say: (line: string) => void): Promise<Measured> {
  const s = SCENARIOS[scenario];
  const clients: LockClient[] = [];
  try {
    const shared = 'sharedClient' in s ? await target.openClient() : undefined;
    for (let i = 0; i < s.clients; i++) clients.push(shared ?? (await target.openClient()));
    const load = { nameOf: s.nameOf, stopOnViolation: target.fencing };
    const warm = await runLockLoad(clients, { ...load, durationMs: options.warmUpMs });
    if (target.fencing && warm.overlaps + warm.tokenRegressions > 0) throw new Error(`${target.name}, ${s.label}: the lock broke during warm-up (${warm.overlaps} overlapping holders, ${warm.tokenRegressions} tokens not increasing)`);
    const serverBefore = target.pids.reduce((sum, pid) => sum + cpuMs(pid), 0);
    const clientBefore = process.cpuUsage();
    const r = await runLockLoad(clients, { ...load, durationMs: options.measureMs });
    const serverMs = target.pids.reduce((sum, pid) => sum + cpuMs(pid), 0) - serverBefore;
    const client = process.cpuUsage(clientBefore);
    const measured: Measured = { load: r, serverCpuUsPerOp: (serverMs * 1000) / Math.max(1, r.ops), clientCpuUsPerOp: (client.user + client.system) / Math.max(1, r.ops) };
    say(`  ${target.name.padEnd(NAME_WIDTH)} ${s.label.padEnd(20)} ${formatMeasured(measured)}`);
    if (target.fencing && r.overlaps + r.tokenRegressions > 0) throw new Error(`${target.name}, ${s.label}: the lock broke (${r.overlaps} overlapping holders, ${r.tokenRegressions} tokens not increasing); its figures mean nothing`);
    return measured;
  } finally {
    await Promise.all([...new Set(clients)].map((c) => c.close().catch(() => undefined)));
  }
}

/**
 * Warms up a row's new servers with the same count of pairs on every row (4,000 by default: 16
 * clients on 16 locks), so that no row is measured while its processes still compile their hot
 * paths (a Node process needs thousands of requests; a time-based warm-up would give the slower
 * row less). Throws on a violation where the row fences.
 */
async function warmUpRow(target: LockTarget, options: LockBenchOptions): Promise<void> {
  const clients: LockClient[] = [];
  try {
    for (let i = 0; i < CLIENTS; i++) clients.push(await target.openClient());
    const r = await runLockLoad(clients, { nameOf: SCENARIOS.spread.nameOf, durationMs: 10 * 60_000, maxOpsPerClient: options.rowWarmUpPairs, stopOnViolation: target.fencing });
    if (target.fencing && r.overlaps + r.tokenRegressions > 0) throw new Error(`${target.name}: the lock broke during the row's warm-up (${r.overlaps} overlapping holders, ${r.tokenRegressions} tokens not increasing)`);
  } finally {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  }
}

/** One row's medians over the rounds for one scenario. */
export interface Summary {
  readonly opsPerSecond: number;
  readonly latencyMsP50: number;
  readonly latencyMsP99: number;
  readonly errors: number;
  readonly violations: number;
  readonly serverCpuUsPerOp: number;
  readonly clientCpuUsPerOp: number;
}

export function summarize(rounds: readonly Measured[]): Summary {
  const med = (pick: (m: Measured) => number): number => median(rounds.map(pick));
  return {
    opsPerSecond: med((m) => m.load.opsPerSecond),
    latencyMsP50: med((m) => m.load.latencyMsP50),
    latencyMsP99: med((m) => m.load.latencyMsP99),
    errors: rounds.reduce((sum, m) => sum + m.load.errors, 0),
    violations: rounds.reduce((sum, m) => sum + m.load.overlaps + m.load.tokenRegressions, 0),
    serverCpuUsPerOp: med((m) => m.serverCpuUsPerOp),
    clientCpuUsPerOp: med((m) => m.clientCpuUsPerOp),
  };
}

/**
 * a / b for one scenario: throughput as the median of the per-round ratios (rounds pair up, each
 * run on the same machine minutes apart), p99 as the ratio of the medians. Undefined when a side
 * has no rounds.
 */
export function ratioOf(a: readonly Measured[], b: readonly Measured[]): { readonly throughput: number; readonly p99: number; readonly perRound: readonly number[] } | undefined {
  const n = Math.min(a.length, b.length);
  if (n === 0) return undefined;
  const perRound = Array.from({ length: n }, (_, i) => (a[i] as Measured).load.opsPerSecond / (b[i] as Measured).load.opsPerSecond);
  return { throughput: median(perRound), p99: median(a.map((m) => m.load.latencyMsP99)) / median(b.map((m) => m.load.latencyMsP99)), perRound };
}

export async function run(args: string[]): Promise<void> {
  let options: LockBenchOptions;
  try {
    options = parseLockBenchArgs(args);
  } catch (err) {
    if (!(err instanceof BenchUsageError)) throw err;
    process.stderr.write(`bench lock: ${err.message}\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (options.help) {
    process.stdout.write(USAGE);
    return;
  }
  // with --json the document is the only thing on stdout
  const say = (line: string): void => void (options.json ? process.stderr : process.stdout).write(`${line}\n`);
  const results = new Map<RowName, Map<ScenarioName, Measured[]>>(options.rows.map((r) => [r, new Map(options.scenarios.map((s) => [s, []]))]));
  const dir = mkdtempSync(join(tmpdir(), 'synod-bench-lock-'));
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  const startedAt = performance.now();
  try {
    say(`lock acquire+release pairs, TTL ${TTL_MS / 1000} s; Synod 3 nodes (fsync on) and etcd 3 members on loopback, Redis and Redlock's 5 without persistence; each row on servers started afresh, one row up at a time`);
    say(`rows: ${options.rows.join(', ')}; scenarios: ${options.scenarios.map((s) => SCENARIOS[s].label).join('; ')}; ${options.rounds} round(s), the order alternating; each row's new servers warmed up with ${CLIENTS} x ${options.rowWarmUpPairs} pairs, then ${options.warmUpMs / 1000} s warm-up and ${options.measureMs / 1000} s measured per scenario`);
    if (options.quick) say('--quick: a smoke run with less warm-up and shorter phases; its figures are not comparable with a full run');
    for (let round = 0; round < options.rounds; round++) {
      const order = round % 2 === 0 ? options.rows : [...options.rows].reverse();
      say(`round ${round + 1}`);
      for (const name of order) {
        const target = await MAKERS[name](join(dir, String(round)), agent);
        try {
          await warmUpRow(target, options);
          for (const scenario of options.scenarios) results.get(name)?.get(scenario)?.push(await measureScenario(target, scenario, options, say));
        } finally {
          await target.stop();
        }
      }
      rmSync(join(dir, String(round)), { recursive: true, force: true });
    }
  } finally {
    agent.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
  const elapsedS = (performance.now() - startedAt) / 1000;
  if (options.json) {
    process.stdout.write(`${JSON.stringify(jsonReport(options, results, elapsedS), null, 2)}\n`);
    return;
  }
  report(options, results, say);
  say(`\n(${num(elapsedS, 0)} s in all)`);
}

const rounds = (results: ReadonlyMap<RowName, ReadonlyMap<ScenarioName, Measured[]>>, row: RowName, scenario: ScenarioName): Measured[] => results.get(row)?.get(scenario) ?? [];

/** Per scenario, each row's medians; then the issue's ratios. */
function report(options: LockBenchOptions, results: ReadonlyMap<RowName, ReadonlyMap<ScenarioName, Measured[]>>, say: (line: string) => void): void {
  say(`\n${options.rounds > 1 ? `Medians of ${options.rounds} rounds` : 'One round'}: acquire+release pairs/s, latency p50 and p99 (ms, acquire call to release answer), errors and violations (sums), CPU per pair (us)`);
  say(`  ${'row'.padEnd(NAME_WIDTH)} ${'pairs/s'.padStart(8)} ${'p50'.padStart(8)} ${'p99'.padStart(8)} ${'errors'.padStart(7)} ${'viol.'.padStart(6)} ${'servers'.padStart(8)} ${'client'.padStart(7)}`);
  for (const scenario of options.scenarios) {
    say(`  ${SCENARIOS[scenario].label}`);
    for (const row of options.rows) {
      const measured = rounds(results, row, scenario);
      if (measured.length === 0) continue;
      const s = summarize(measured);
      say(`  ${row.padEnd(NAME_WIDTH)} ${num(s.opsPerSecond, 0).padStart(8)} ${num(s.latencyMsP50, 2).padStart(8)} ${num(s.latencyMsP99, 2).padStart(8)} ${String(s.errors).padStart(7)} ${String(s.violations).padStart(6)} ${num(s.serverCpuUsPerOp, 0).padStart(8)} ${num(s.clientCpuUsPerOp, 0).padStart(7)}`);
    }
  }
  const ratios = RATIOS.filter(([a, b]) => options.rows.includes(a) && options.rows.includes(b));
  if (ratios.length === 0) return;
  say('\nRatios (throughput: median of the per-round ratios, above 1 is the first faster; p99: ratio of the medians, below 1 is the first lower)');
  for (const scenario of options.scenarios) {
    const parts = ratios.map(([a, b]) => {
      const r = ratioOf(rounds(results, a, scenario), rounds(results, b, scenario));
      return r === undefined ? `${a}/${b} -` : `${a}/${b} ${r.throughput.toFixed(2)}x rate, ${r.p99.toFixed(2)}x p99`;
    });
    say(`  ${SCENARIOS[scenario].label.padEnd(20)} ${parts.join('   ')}`);
  }
}

function jsonReport(options: LockBenchOptions, results: ReadonlyMap<RowName, ReadonlyMap<ScenarioName, Measured[]>>, elapsedS: number): unknown {
  const scenarios = Object.fromEntries(
    options.scenarios.map((scenario) => [
      scenario,
      {
        label: SCENARIOS[scenario].label,
        rows: Object.fromEntries(options.rows.map((row) => [row, { median: summarize(rounds(results, row, scenario)), rounds: rounds(results, row, scenario) }])),
        ratios: Object.fromEntries(
          RATIOS.filter(([a, b]) => options.rows.includes(a) && options.rows.includes(b)).map(([a, b]) => [`${a}/${b}`, ratioOf(rounds(results, a, scenario), rounds(results, b, scenario)) ?? null]),
        ),
      },
    ]),
  );
  return { bench: 'lock', quick: options.quick, rounds: options.rounds, ttlMs: TTL_MS, warmUpMs: options.warmUpMs, measureMs: options.measureMs, elapsedS, scenarios };
}
