// `npm run bench -- kv [--quick] [--rounds N] [--only synod|etcd|etcd-json|etcd-grpc] [--workloads put,get,txn,lease,watch] [--revisions N]`:
// 3-node Synod (fsync on) and 3-node etcd 3.4, etcd once through its JSON gateway and once through gRPC, each row on its own cluster started afresh every round, one cluster up at a time, the order alternating between rounds.
// Prints each workload's ops/s, latency and CPU per operation of the cluster and of this client, then medians over the rounds and the Synod/etcd ratios (docs/PERFORMANCE.md, "KV side by side with etcd 3.4").
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, get as httpGet } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLocalCluster } from '../src/supervisor/index.js';
import { findEtcdLeader, httpJson, startEtcdCluster } from './lib/etcd.js';
import { connectEtcdGrpc } from './lib/etcd-grpc.js';
import { LeanHttpClient } from './lib/http-client.js';
import type { KvTarget, KvWatch } from './lib/kv-target.js';
import { formatLoad, runLoad, type LoadResult } from './lib/load.js';
import { cpuMs, median, optionValue } from './lib/measure.js';
import { runWatchLoad, type WatchResult } from './lib/watch-load.js';

const repoRoot = fileURLToPath(new URL('../', import.meta.url));
const VALUE = 'v'.repeat(256);

const TARGET_NAMES = ['synod', 'etcd-json', 'etcd-grpc'] as const;
type TargetName = (typeof TARGET_NAMES)[number];
const WORKLOADS = ['put', 'get', 'txn', 'lease', 'watch'] as const;
type Workload = (typeof WORKLOADS)[number];
const DEFAULT_WORKLOADS: readonly Workload[] = ['put', 'get'];
const WATCHERS = 100;

/** The measured lines, in the order they run; `put` measures seq and put64, `get` get64, and so on. */
const ROWS = {
  seq: { label: 'sequential put', workload: 'put', compare: 'latency' },
  put64: { label: 'put, 64 in flight', workload: 'put', compare: 'throughput' },
  get64: { label: 'get, 64 in flight', workload: 'get', compare: 'throughput' },
  txn64: { label: 'txn, 64 in flight', workload: 'txn', compare: 'throughput' },
  lease64: { label: 'lease cycle, 64 in flight', workload: 'lease', compare: 'throughput' },
  watch: { label: `watch, ${WATCHERS} watchers`, workload: 'watch', compare: 'latency' },
} as const satisfies Record<string, { label: string; workload: Workload; compare: 'latency' | 'throughput' }>;
type RowKey = keyof typeof ROWS;
const ROW_KEYS = Object.keys(ROWS) as RowKey[];

function nodeFlags(): string[] {
  return (process.env['SYNOD_NODE_FLAGS'] ?? '').split(' ').filter((f) => f.length > 0);
}

/** How a target's cluster is started. */
interface TargetOptions {
  /** Keep every revision (no auto-compaction), as etcd does by default: for --revisions. */
  readonly keepAllHistory: boolean;
}

async function synodTarget(dir: string, agent: Agent, options: TargetOptions): Promise<KvTarget> {
  // plain HTTP and TCP, as the etcd it is compared with runs (bench kv --tls is not offered yet)
  const nodeArgs = options.keepAllHistory ? ['--auto-compact-retain-revisions', '0'] : [];
  const cluster = await startLocalCluster({ nodes: 3, dataDir: join(dir, 'synod'), basePort: 27000, tls: false, logLevel: 'warn', command: [...nodeFlags(), join(repoRoot, 'bin/synod.js')], nodeArgs });
  const leaderUrl = async (): Promise<string> => {
    for (const url of Object.values(cluster.endpoints)) {
      const s = (await httpJson('GET', `${url}/v1/status`, undefined, agent)) as { role: string };
      if (s.role === 'leader') return url;
    }
    throw new Error('no Synod leader');
  };
  const url = await leaderUrl(); // clients talk to the leader, as etcd clients do to their member
  const client = new LeanHttpClient(url);
  return {
    name: 'synod',
    lacking: 'not available yet',
    // a key is one path segment: the watch workload's keys hold a '/'
    put: async (key, value) => void (await client.send('PUT', `/v1/kv/${encodeURIComponent(key)}`, { value })),
    get: async (key) => void (await client.send('GET', `/v1/kv/${encodeURIComponent(key)}`)),
    txnPut: async (key, value) => {
      const compare = [{ key, target: 'version', cmp: '=', value: 0 }];
      const reply = JSON.parse((await client.send('POST', '/v1/txn', { compare, success: [{ op: 'put', key, value }] })).body) as { result?: { succeeded?: boolean } };
      if (reply.result?.succeeded !== true) throw new Error(`txn compare failed: ${key} exists`);
    },
    leaseCycle: async (key, value) => {
      const grant = JSON.parse((await client.send('POST', '/v1/leases', { ttlMs: 60_000 })).body) as { result?: { id?: number; error?: string } };
      const id = grant.result?.id;
      if (id === undefined) throw new Error(`lease grant failed: ${grant.result?.error ?? 'no id'}`);
      const put = JSON.parse((await client.send('PUT', `/v1/kv/${encodeURIComponent(key)}`, { value, lease: id })).body) as { result?: { error?: string } };
      if (put.result?.error !== undefined) throw new Error(`put with lease ${id} failed: ${put.result.error}`);
      await client.send('DELETE', `/v1/leases/${id}`);
    },
    // one JSON-lines stream per watcher (Synod has no multiplexing), on the leader like the rest
    watchPrefix: (prefix, onPut) => openSynodWatch(url, prefix, onPut),
    pids: async () => ((await httpJson('GET', `${cluster.controlUrl}/api/nodes`, undefined, agent)) as { pid: number }[]).map((n) => n.pid),
    stop: async () => {
      client.close();
      await cluster.stop();
    },
  };
}

/** A watch of `prefix` on `baseUrl` (GET /v1/watch, JSON lines); resolves once its `created` line arrives. */
function openSynodWatch(baseUrl: string, prefix: string, onPut: (key: string) => void): Promise<KvWatch> {
  return new Promise((resolve, reject) => {
    const req = httpGet(`${baseUrl}/v1/watch?prefix=${encodeURIComponent(prefix)}`, { agent: false }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`watch refused: HTTP ${String(res.statusCode)}`));
      let pending = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        pending += chunk;
        // every complete line is handled; a partial one waits for the next chunk
        for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
          const line = JSON.parse(pending.slice(0, nl)) as { type: string; events?: { type: string; kv: { key: string } }[] };
          pending = pending.slice(nl + 1);
          if (line.type === 'created') resolve({ close: async () => void req.destroy() });
          else if (line.type === 'events') for (const e of line.events ?? []) if (e.type === 'put') onPut(e.kv.key);
        }
      });
    });
    req.on('error', reject);
  });
}

/** etcd through its v3 JSON gateway (the gateway turns each request into a gRPC call inside the member). */
async function etcdJsonTarget(dir: string, agent: Agent, _options: TargetOptions): Promise<KvTarget> {
  const cluster = await startEtcdCluster(join(dir, 'etcd-json'), 3, 27500);
  const client = new LeanHttpClient(await findEtcdLeader(cluster.clientUrls, agent));
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  const post = async (path: string, body: unknown): Promise<unknown> => JSON.parse((await client.send('POST', path, body)).body) as unknown;
  return {
    name: 'etcd-json',
    lacking: 'not driven (watch is a stream through the gateway; this JSON client reads whole answers)',
    put: async (key, value) => void (await client.send('POST', '/v3/kv/put', { key: b64(key), value: b64(value) })),
    get: async (key) => void (await client.send('POST', '/v3/kv/range', { key: b64(key) })),
    txnPut: async (key, value) => {
      const compare = [{ key: b64(key), target: 'VERSION', result: 'EQUAL', version: '0' }];
      const reply = (await post('/v3/kv/txn', { compare, success: [{ request_put: { key: b64(key), value: b64(value) } }] })) as { succeeded?: boolean };
      if (reply.succeeded !== true) throw new Error(`txn compare failed: ${key} exists`);
    },
    leaseCycle: async (key, value) => {
      const { ID } = (await post('/v3/lease/grant', { TTL: 60 })) as { ID: string }; // a 64-bit id, kept as its decimal string
      await client.send('POST', '/v3/kv/put', { key: b64(key), value: b64(value), lease: ID });
      await client.send('POST', '/v3/lease/revoke', { ID });
    },
    pids: async () => cluster.processes.map((p) => p.pid as number),
    stop: async () => {
      client.close();
      await cluster.stop();
    },
  };
}

/** etcd through its native gRPC API (bench/lib/etcd-grpc.ts), to the same member as the JSON row. */
async function etcdGrpcTarget(dir: string, agent: Agent, _options: TargetOptions): Promise<KvTarget> {
  const cluster = await startEtcdCluster(join(dir, 'etcd-grpc'), 3, 27500);
  const client = connectEtcdGrpc(await findEtcdLeader(cluster.clientUrls, agent));
  return {
    name: 'etcd-grpc',
    lacking: 'not driven',
    put: client.put,
    get: client.get,
    txnPut: client.txnPut,
    leaseCycle: client.leaseCycle,
    watchPrefix: client.watchPrefix,
    pids: async () => cluster.processes.map((p) => p.pid as number),
    stop: async () => {
      client.close();
      await cluster.stop();
    },
  };
}

const MAKERS: Record<TargetName, (dir: string, agent: Agent, options: TargetOptions) => Promise<KvTarget>> = { synod: synodTarget, 'etcd-json': etcdJsonTarget, 'etcd-grpc': etcdGrpcTarget };

/**
 * The machine's CPU time so far, from /proc/stat's first line: all of it, and what the hypervisor
 * took as steal. On this kind of virtual machine slow phases come with steal, and they cost Synod
 * more than etcd (docs/PERFORMANCE.md), so each line reports it.
 */
function machineTicks(): { total: number; steal: number } {
  const fields = (readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] as string).trim().split(/\s+/).slice(1).map(Number);
  return { total: fields.reduce((a, b) => a + b, 0), steal: fields[7] ?? 0 }; // user nice system idle iowait irq softirq steal ...
}

function peakRssMiB(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? NaN : Number(m[1]) / 1024;
}

/** One workload's figures: its load, and the CPU time per operation of the cluster (all nodes) and of this process. */
interface Measured {
  readonly load: LoadResult;
  readonly clusterCpuUsPerOp: number;
  readonly clientCpuUsPerOp: number;
  /** For watch, whose ops are events: the rate of the one writer's puts. */
  readonly writerPutsPerSecond?: number;
}

type RoundResult = Partial<Record<RowKey, Measured>>;

const NAME_WIDTH = 9;
const LABEL_WIDTH = 26;

/** Reports each workload's ops/s, latency and the CPU per operation of the cluster and the client. */
class CpuMeter {
  private cpuBefore: number;
  private clientBefore = process.cpuUsage();
  private machineBefore = machineTicks();

  constructor(
    private readonly target: KvTarget,
    private readonly pids: readonly number[],
  ) {
    this.cpuBefore = this.clusterCpuMs();
  }

  /** CPU of the whole cluster (all nodes), so that work moved between nodes counts. */
  private clusterCpuMs(): number {
    return this.pids.reduce((sum, pid) => sum + cpuMs(pid), 0);
  }

  restart(): void {
    this.cpuBefore = this.clusterCpuMs();
    this.clientBefore = process.cpuUsage();
    this.machineBefore = machineTicks();
  }

  /** Prints one line (`figures`, or the load's) with the CPU per operation (per event for watch) since the last restart. */
  say(label: string, r: LoadResult, figures = formatLoad(r), unit = 'op'): Measured {
    const cpuAfter = this.clusterCpuMs();
    const clusterCpuUsPerOp = ((cpuAfter - this.cpuBefore) * 1000) / Math.max(1, r.ops);
    const client = process.cpuUsage(this.clientBefore);
    const clientCpuUsPerOp = (client.user + client.system) / Math.max(1, r.ops);
    const machine = machineTicks();
    const stealPercent = (100 * (machine.steal - this.machineBefore.steal)) / Math.max(1, machine.total - this.machineBefore.total);
    process.stdout.write(`  ${this.target.name.padEnd(NAME_WIDTH)} ${label.padEnd(LABEL_WIDTH)} ${figures}  CPU/${unit}: cluster ${clusterCpuUsPerOp.toFixed(0)} us, client ${clientCpuUsPerOp.toFixed(0)} us; steal ${stealPercent.toFixed(1)}%\n`);
    this.restart();
    return { load: r, clusterCpuUsPerOp, clientCpuUsPerOp };
  }
}

function formatWatch(r: WatchResult): string {
  const errors = r.errorSamples.map((e) => `\n      ${e.count} x ${e.message}`).join('');
  return `${Math.round(r.putsPerSecond).toLocaleString('en').padStart(8)} puts/s, ${Math.round(r.opsPerSecond).toLocaleString('en')} events/s  put->event p50 ${r.latencyMsP50.toFixed(2)} ms  p99 ${r.latencyMsP99.toFixed(2)} ms  (${r.ops} events, ${r.errors} missing)${errors}`;
}

/**
 * Runs each measured workload's shape once before measuring, on every target alike. V8 compiles
 * a node's hot paths on its helper threads for the first few thousand requests of each shape:
 * the sequential path (one entry per append, the leader's inline write) was still compiling
 * after 5,000 concurrent puts and gets, and on 2 CPUs that compiling took the CPU the
 * sequential puts waited for (p99 about 6 ms instead of about 3 in the phase measured cold).
 * The client's paths (grpc-js's above all) compile in the same warm-up.
 */
async function warmUp(target: KvTarget, quick: boolean, workloads: ReadonlySet<Workload>): Promise<void> {
  const ops = quick ? 1000 : 5000;
  await runLoad({ concurrency: 64, totalOps: ops, maxWallMs: 30_000 }, (i) => target.put(`warm${i}`, VALUE));
  await runLoad({ concurrency: 64, totalOps: ops, maxWallMs: 30_000 }, (i) => target.get(`warm${i % 1000}`));
  await runLoad({ concurrency: 1, totalOps: quick ? 600 : 3000, maxWallMs: 30_000 }, (i) => target.put(`warmseq${i}`, VALUE));
  const { txnPut, leaseCycle, watchPrefix } = target;
  if (workloads.has('txn') && txnPut !== undefined) await runLoad({ concurrency: 64, totalOps: ops, maxWallMs: 30_000 }, (i) => txnPut(`warmtxn${i}`, VALUE));
  if (workloads.has('lease') && leaseCycle !== undefined) await runLoad({ concurrency: 64, totalOps: ops / 5, maxWallMs: 30_000 }, (i) => leaseCycle(`warmlease${i}`, VALUE));
  if (workloads.has('watch') && watchPrefix !== undefined) await runWatchLoad({ put: target.put, watchPrefix }, { watchers: WATCHERS, puts: quick ? 40 : 200, prefix: 'warmw/', value: VALUE, drainMs: 10_000 });
}

async function measureRound(target: KvTarget, pids: readonly number[], quick: boolean, round: number, workloads: ReadonlySet<Workload>): Promise<RoundResult> {
  const n = quick ? 0.2 : 1;
  const meter = new CpuMeter(target, pids);
  const result: RoundResult = {};
  const lacks = (row: RowKey): void => void process.stdout.write(`  ${target.name.padEnd(NAME_WIDTH)} ${ROWS[row].label.padEnd(LABEL_WIDTH)} ${target.name}: ${target.lacking}\n`);
  if (workloads.has('put')) {
    const seq = await runLoad({ concurrency: 1, totalOps: 2000 * n, maxWallMs: 30_000 }, (i) => target.put(`r${round}s${i}`, VALUE));
    result.seq = meter.say(ROWS.seq.label, seq);
  }
  if (workloads.has('put') || workloads.has('get')) {
    // the gets read the first 1,000 of these keys, so they are written even when only get is measured
    const put64 = await runLoad({ concurrency: 64, totalOps: workloads.has('put') ? 20_000 * n : 1000, maxWallMs: 30_000 }, (i) => target.put(`r${round}p${i}`, VALUE));
    if (workloads.has('put')) result.put64 = meter.say(ROWS.put64.label, put64);
    else meter.restart();
  }
  if (workloads.has('get')) {
    const get64 = await runLoad({ concurrency: 64, totalOps: 20_000 * n, maxWallMs: 30_000 }, (i) => target.get(`r${round}p${i % 1000}`));
    result.get64 = meter.say(ROWS.get64.label, get64);
  }
  const { txnPut, leaseCycle, watchPrefix } = target;
  if (workloads.has('txn')) {
    if (txnPut === undefined) lacks('txn64');
    else result.txn64 = meter.say(ROWS.txn64.label, await runLoad({ concurrency: 64, totalOps: 20_000 * n, maxWallMs: 30_000 }, (i) => txnPut(`r${round}t${i}`, VALUE)));
  }
  if (workloads.has('lease')) {
    if (leaseCycle === undefined) lacks('lease64');
    else result.lease64 = meter.say(ROWS.lease64.label, await runLoad({ concurrency: 64, totalOps: 5000 * n, maxWallMs: 30_000 }, (i) => leaseCycle(`r${round}l${i}`, VALUE)));
  }
  if (workloads.has('watch')) {
    if (watchPrefix === undefined) lacks('watch');
    else {
      const watch = await runWatchLoad({ put: target.put, watchPrefix }, { watchers: WATCHERS, puts: 1000 * n, prefix: `r${round}w/`, value: VALUE, drainMs: 10_000 });
      result.watch = { ...meter.say(ROWS.watch.label, watch, formatWatch(watch), 'event'), writerPutsPerSecond: watch.putsPerSecond };
    }
  }
  return result;
}

/**
 * Loads 100,000 keys (a fifth with --quick), then, with --revisions N, puts to those keys again
 * until N puts were made (N revisions of history on top of the workloads' own), and returns the
 * peak resident memory of each node.
 */
async function measureMemory(target: KvTarget, pids: readonly number[], quick: boolean, revisions: number): Promise<number[]> {
  const meter = new CpuMeter(target, pids);
  const total = quick ? 20_000 : 100_000;
  const load = await runLoad({ concurrency: 64, totalOps: total, maxWallMs: 300_000 }, (i) => target.put(`load${i}`, VALUE));
  meter.say(`load ${total} keys`, load);
  if (revisions > total) {
    const more = revisions - total;
    const rewrite = await runLoad({ concurrency: 128, totalOps: more, maxWallMs: 1_800_000 }, (i) => target.put(`load${i % total}`, VALUE));
    meter.say(`${more} more puts to them`, rewrite);
    if (rewrite.ops < more) process.stdout.write(`  ${target.name}: only ${rewrite.ops} of ${more} puts succeeded; its history is that much shorter\n`);
  }
  const rssMiB = pids.map(peakRssMiB);
  process.stdout.write(`  ${target.name.padEnd(NAME_WIDTH)} peak RSS per node: ${rssMiB.map((m) => `${m.toFixed(0)} MiB`).join(', ')}\n`);
  return rssMiB;
}

/** One target's results across rounds (each round runs a fresh cluster). */
interface Running {
  readonly name: TargetName;
  readonly lacking: string;
  readonly rounds: RoundResult[];
  rssMiB: number[];
}

function parseOnly(value: string | undefined): TargetName[] {
  if (value === undefined) return [...TARGET_NAMES];
  if (value === 'etcd') return ['etcd-json', 'etcd-grpc'];
  if ((TARGET_NAMES as readonly string[]).includes(value)) return [value as TargetName];
  throw new Error(`--only takes synod, etcd (both etcd rows), etcd-json or etcd-grpc, got ${value}`);
}

function parseWorkloads(value: string | undefined): Set<Workload> {
  if (value === undefined) return new Set(DEFAULT_WORKLOADS);
  const names = value.split(',').map((w) => w.trim());
  for (const w of names) if (!(WORKLOADS as readonly string[]).includes(w)) throw new Error(`--workloads takes a comma-separated list of ${WORKLOADS.join(', ')}; got ${w}`);
  return new Set(names as Workload[]);
}

export async function run(args: string[]): Promise<void> {
  const quick = args.includes('--quick');
  const names = parseOnly(optionValue(args, '--only'));
  const workloads = parseWorkloads(optionValue(args, '--workloads'));
  const revisionsText = optionValue(args, '--revisions');
  const revisions = revisionsText === undefined ? 0 : Number(revisionsText);
  if (!Number.isSafeInteger(revisions) || revisions < 0 || revisions > 10_000_000) throw new Error(`--revisions takes a whole number up to 10,000,000, got ${revisionsText}`);
  const roundsText = optionValue(args, '--rounds');
  const roundCount = roundsText === undefined ? 3 : Number(roundsText);
  if (!Number.isInteger(roundCount) || roundCount < 1 || roundCount > 20) throw new Error(`--rounds takes an integer from 1 to 20, got ${roundsText}`);
  const dir = mkdtempSync(join(tmpdir(), 'synod-bench-kv-'));
  const agent = new Agent({ keepAlive: true, maxSockets: 128 });
  const running: Running[] = [];
  try {
    process.stdout.write(`3 nodes each on loopback, fsync on; one cluster up at a time, started afresh for each row and round; ${roundCount} round(s), the order alternating\n`);
    process.stdout.write(`rows: ${names.join(', ')}; workloads: ${[...workloads].join(', ')}\n`);
    if (revisions > 0) process.stdout.write(`--revisions ${revisions}: every revision kept (Synod nodes with --auto-compact-retain-revisions 0, etcd's default); memory measured after ${revisions} puts to the 100,000 keys in the last round\n`);
    // a fifth of the warm-up leaves Node's JIT still compiling during the measurements
    if (quick) process.stdout.write('--quick: a smoke run with a fifth of the work and of the warm-up; its figures are not comparable with a full run\n');
    for (let round = 0; round < roundCount; round++) {
      const order = round % 2 === 0 ? names : [...names].reverse();
      process.stdout.write(`round ${round + 1}\n`);
      for (const name of order) {
        const target = await MAKERS[name](join(dir, String(round)), agent, { keepAllHistory: revisions > 0 });
        try {
          let r = running.find((x) => x.name === name);
          if (r === undefined) {
            r = { name, lacking: target.lacking, rounds: [], rssMiB: [] };
            running.push(r);
          }
          const pids = await target.pids();
          await warmUp(target, quick, workloads);
          r.rounds.push(await measureRound(target, pids, quick, round, workloads));
          if (round === roundCount - 1) r.rssMiB = await measureMemory(target, pids, quick, revisions);
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
  running.sort((a, b) => TARGET_NAMES.indexOf(a.name) - TARGET_NAMES.indexOf(b.name));
  reportMedians(running, workloads);
  const s = running.find((r) => r.name === 'synod');
  const others = (['etcd-grpc', 'etcd-json'] as const).map((name) => running.find((r) => r.name === name)).filter((r) => r !== undefined);
  if (s !== undefined && others.length > 0) reportRatios(s, others, workloads);
}

const num = (x: number, digits: number): string => (Number.isFinite(x) ? x.toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : '-');

/** Each target's medians over the rounds, workload by workload, with the client's CPU per operation beside the cluster's. */
function reportMedians(running: readonly Running[], workloads: ReadonlySet<Workload>): void {
  const n = running[0]?.rounds.length ?? 0;
  process.stdout.write(`\n${n > 1 ? `Medians of ${n} rounds` : 'One round'}: ops/s, latency p50 and p99 (ms), CPU per op (us) of the client and of the cluster\n`);
  for (const key of ROW_KEYS.filter((k) => workloads.has(ROWS[k].workload))) {
    const watch = key === 'watch';
    process.stdout.write(`  ${ROWS[key].label}${watch ? ' (events/s, put->event latency, CPU per event; the writer\'s puts/s)' : ''}\n`);
    for (const r of running) {
      const measured = r.rounds.map((x) => x[key]).filter((m) => m !== undefined);
      if (measured.length === 0) {
        process.stdout.write(`    ${r.name}: ${r.lacking}\n`);
        continue;
      }
      const med = (pick: (m: Measured) => number): number => median(measured.map(pick));
      const unit = watch ? 'event' : 'op';
      const writer = watch ? `  writer ${num(med((m) => m.writerPutsPerSecond ?? NaN), 0)} puts/s` : '';
      process.stdout.write(
        `    ${r.name.padEnd(NAME_WIDTH)} ${num(med((m) => m.load.opsPerSecond), 0).padStart(9)} ${unit}s/s  p50 ${num(med((m) => m.load.latencyMsP50), 2).padStart(7)}  p99 ${num(med((m) => m.load.latencyMsP99), 2).padStart(7)}` +
          `  client ${num(med((m) => m.clientCpuUsPerOp), 0).padStart(4)} us/${unit}  cluster ${num(med((m) => m.clusterCpuUsPerOp), 0).padStart(4)} us/${unit}${writer}\n`,
      );
    }
  }
  const measuredRss = running.filter((r) => r.rssMiB.length > 0);
  if (measuredRss.length > 0) process.stdout.write(`  peak RSS per node (max of the nodes, last round): ${measuredRss.map((r) => `${r.name} ${Math.max(...r.rssMiB).toFixed(0)} MiB`).join(', ')}\n`);
}

/**
 * Synod against each etcd row, etcd-grpc first (the headline: etcd as its own clients reach it).
 * Throughput: the median of the per-round ratios; latency and memory: the ratio of the medians.
 */
function reportRatios(s: Running, others: readonly Running[], workloads: ReadonlySet<Workload>): void {
  const n = s.rounds.length;
  process.stdout.write(`\nSynod / ${others.map((e) => e.name).join(' and Synod / ')}${n > 1 ? `, medians of ${n} rounds` : ''} (throughput: above 1 is Synod faster; latency and memory: below 1 is Synod lower):\n`);
  const ratio = (e: Running, key: RowKey): string => {
    const pairs = s.rounds.map((x, i) => [x[key], e.rounds[i]?.[key]] as const).filter((p): p is readonly [Measured, Measured] => p[0] !== undefined && p[1] !== undefined);
    if (pairs.length === 0) return `${e.name}: -`;
    if (ROWS[key].compare === 'throughput') {
      const perRound = pairs.map(([a, b]) => a.load.opsPerSecond / b.load.opsPerSecond);
      return `${e.name} ${median(perRound).toFixed(2)}x${perRound.length > 1 ? ` (${perRound.map((x) => x.toFixed(2)).join(', ')})` : ''}`;
    }
    const pick = (m: Measured): number => (key === 'watch' ? m.load.latencyMsP99 : m.load.latencyMsP50);
    return `${e.name} ${(median(pairs.map((p) => pick(p[0]))) / median(pairs.map((p) => pick(p[1])))).toFixed(2)}x`;
  };
  const what: Record<RowKey, string> = { seq: 'sequential put p50', put64: 'put x64 throughput', get64: 'get x64 throughput', txn64: 'txn x64 throughput', lease64: 'lease cycles x64 throughput', watch: 'watch put->event p99' };
  for (const key of ROW_KEYS.filter((k) => workloads.has(ROWS[k].workload))) {
    const synodHas = s.rounds.some((x) => x[key] !== undefined);
    process.stdout.write(`  ${what[key].padEnd(LABEL_WIDTH + 2)}${synodHas ? others.map((e) => ratio(e, key)).join('   ') : `synod: ${s.lacking}`}\n`);
  }
  const maxRss = (r: Running): number => Math.max(...r.rssMiB);
  if (s.rssMiB.length > 0) process.stdout.write(`  ${'peak RSS per node (max)'.padEnd(LABEL_WIDTH + 2)}${others.map((e) => `${e.name} ${(maxRss(s) / maxRss(e)).toFixed(2)}x`).join('   ')}\n`);
}
