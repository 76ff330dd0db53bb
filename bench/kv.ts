// `npm run bench -- kv [--quick] [--only synod|etcd] [--rounds N]`: a 3-node Synod cluster (fsync
// on) and a 3-node etcd 3.4 cluster on loopback, one at a time, and the same workloads against
// each: sequential puts, puts with 64 in flight, linearizable gets with 64 in flight. In each of
// N rounds (default 3) each cluster is started afresh and the order alternates, so a change in
// the machine's speed (up to 2x here, within minutes) hits both. In the last round: peak resident memory per node after loading
// 100,000 keys of 256-byte values. Prints ops/s, p50/p99 latency and the Synod/etcd ratios
// (medians over the rounds).
// SYNOD_NODE_FLAGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") is passed to each Synod node's node.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLocalCluster } from '../src/supervisor/index.js';
import { httpJson, startEtcdCluster } from './lib/etcd.js';
import { LeanHttpClient } from './lib/http-client.js';
import { formatLoad, runLoad, type LoadResult } from './lib/load.js';

interface KvTarget {
  readonly name: string;
  put(key: string, value: string): Promise<void>;
  get(key: string): Promise<void>;
  pids(): Promise<number[]>;
  stop(): Promise<void>;
}

const repoRoot = fileURLToPath(new URL('../', import.meta.url));
const VALUE = 'v'.repeat(256);

function nodeFlags(): string[] {
  return (process.env['SYNOD_NODE_FLAGS'] ?? '').split(' ').filter((f) => f.length > 0);
}

async function synodTarget(dir: string, agent: Agent): Promise<KvTarget> {
  // plain HTTP and TCP, as the etcd it is compared with runs (bench kv --tls is not offered yet)
  const cluster = await startLocalCluster({ nodes: 3, dataDir: join(dir, 'synod'), basePort: 27000, tls: false, logLevel: 'warn', command: [...nodeFlags(), join(repoRoot, 'bin/synod.js')] });
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
    put: async (key, value) => void (await client.send('PUT', `/v1/kv/${key}`, { value })),
    get: async (key) => void (await client.send('GET', `/v1/kv/${key}`)),
    pids: async () => ((await httpJson('GET', `${cluster.controlUrl}/api/nodes`, undefined, agent)) as { pid: number }[]).map((n) => n.pid),
    stop: async () => {
      client.close();
      await cluster.stop();
    },
  };
}

async function etcdTarget(dir: string, agent: Agent): Promise<KvTarget> {
  const cluster = await startEtcdCluster(join(dir, 'etcd'), 3, 27500);
  // etcd clients talk to any member, which forwards to the leader; use the leader for parity
  let leaderUrl = cluster.clientUrls[0] as string;
  for (const url of cluster.clientUrls) {
    const s = (await httpJson('POST', `${url}/v3/maintenance/status`, {}, agent)) as { leader: string; header: { member_id: string } };
    if (s.leader === s.header.member_id) leaderUrl = url;
  }
  const client = new LeanHttpClient(leaderUrl);
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  return {
    name: 'etcd',
    put: async (key, value) => void (await client.send('POST', '/v3/kv/put', { key: b64(key), value: b64(value) })),
    get: async (key) => void (await client.send('POST', '/v3/kv/range', { key: b64(key) })),
    pids: async () => cluster.processes.map((p) => p.pid as number),
    stop: async () => {
      client.close();
      await cluster.stop();
    },
  };
}

/** CPU time (user + system) a process has used so far, in ms, from /proc/<pid>/stat. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
  return (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
}
const CLOCK_TICKS_PER_SECOND = 100;

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

interface RoundResult {
  seq: LoadResult;
  put64: LoadResult;
  get64: LoadResult;
}

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

  say(what: string, r: LoadResult): void {
    const cpuAfter = this.clusterCpuMs();
    const cpuUsPerOp = ((cpuAfter - this.cpuBefore) * 1000) / Math.max(1, r.ops);
    const client = process.cpuUsage(this.clientBefore);
    const clientUsPerOp = (client.user + client.system) / Math.max(1, r.ops);
    const machine = machineTicks();
    const stealPercent = (100 * (machine.steal - this.machineBefore.steal)) / Math.max(1, machine.total - this.machineBefore.total);
    process.stdout.write(`  ${this.target.name.padEnd(6)} ${what.padEnd(22)} ${formatLoad(r)}  CPU/op: cluster ${cpuUsPerOp.toFixed(0)} us, client ${clientUsPerOp.toFixed(0)} us; steal ${stealPercent.toFixed(1)}%\n`);
    this.restart();
  }
}

/**
 * Runs each measured workload's shape once before measuring, on both systems alike. V8 compiles
 * a node's hot paths on its helper threads for the first few thousand requests of each shape:
 * the sequential path (one entry per append, the leader's inline write) was still compiling
 * after 5,000 concurrent puts and gets, and on 2 CPUs that compiling took the CPU the
 * sequential puts waited for (p99 about 6 ms instead of about 3 in the phase measured cold).
 */
async function warmUp(target: KvTarget, quick: boolean): Promise<void> {
  const ops = quick ? 1000 : 5000;
  await runLoad({ concurrency: 64, totalOps: ops, maxWallMs: 30_000 }, (i) => target.put(`warm${i}`, VALUE));
  await runLoad({ concurrency: 64, totalOps: ops, maxWallMs: 30_000 }, (i) => target.get(`warm${i % 1000}`));
  await runLoad({ concurrency: 1, totalOps: quick ? 600 : 3000, maxWallMs: 30_000 }, (i) => target.put(`warmseq${i}`, VALUE));
}

async function measureRound(target: KvTarget, pids: readonly number[], quick: boolean, round: number): Promise<RoundResult> {
  const n = quick ? 0.2 : 1;
  const meter = new CpuMeter(target, pids);
  const seq = await runLoad({ concurrency: 1, totalOps: 2000 * n, maxWallMs: 30_000 }, (i) => target.put(`r${round}s${i}`, VALUE));
  meter.say('sequential put', seq);
  const put64 = await runLoad({ concurrency: 64, totalOps: 20_000 * n, maxWallMs: 30_000 }, (i) => target.put(`r${round}p${i}`, VALUE));
  meter.say('put, 64 in flight', put64);
  const get64 = await runLoad({ concurrency: 64, totalOps: 20_000 * n, maxWallMs: 30_000 }, (i) => target.get(`r${round}p${i % 1000}`));
  meter.say('get, 64 in flight', get64);
  return { seq, put64, get64 };
}

/** Loads 100,000 keys (a fifth with --quick) and returns the peak resident memory of each node. */
async function measureMemory(target: KvTarget, pids: readonly number[], quick: boolean): Promise<number[]> {
  const meter = new CpuMeter(target, pids);
  const total = quick ? 20_000 : 100_000;
  const load = await runLoad({ concurrency: 64, totalOps: total, maxWallMs: 300_000 }, (i) => target.put(`load${i}`, VALUE));
  meter.say(`load ${total} keys`, load);
  const rssMiB = pids.map(peakRssMiB);
  process.stdout.write(`  ${target.name.padEnd(6)} peak RSS per node: ${rssMiB.map((m) => `${m.toFixed(0)} MiB`).join(', ')}\n`);
  return rssMiB;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** One system's results across rounds (each round runs a fresh cluster). */
interface Running {
  readonly name: string;
  readonly rounds: RoundResult[];
  rssMiB: number[];
}

export async function run(args: string[]): Promise<void> {
  const quick = args.includes('--quick');
  const onlyAt = args.indexOf('--only');
  const only = onlyAt < 0 ? undefined : args[onlyAt + 1];
  if (only !== undefined && only !== 'synod' && only !== 'etcd') throw new Error(`--only takes synod or etcd, got ${only}`);
  const roundsAt = args.indexOf('--rounds');
  const roundCount = roundsAt < 0 ? 3 : Number(args[roundsAt + 1]);
  if (!Number.isInteger(roundCount) || roundCount < 1 || roundCount > 20) throw new Error(`--rounds takes an integer from 1 to 20, got ${args[roundsAt + 1]}`);
  const makers = [synodTarget, etcdTarget].filter((_, i) => only === undefined || only === ['synod', 'etcd'][i]);
  const dir = mkdtempSync(join(tmpdir(), 'synod-bench-kv-'));
  const agent = new Agent({ keepAlive: true, maxSockets: 128 });
  const running: Running[] = [];
  try {
    process.stdout.write(`3 nodes each on loopback, fsync on; one cluster up at a time, started afresh each round; ${roundCount} round(s), the order alternating\n`);
    // a fifth of the warm-up leaves Node's JIT still compiling during the measurements
    if (quick) process.stdout.write('--quick: a smoke run with a fifth of the work and of the warm-up; its figures are not comparable with a full run\n');
    for (let round = 0; round < roundCount; round++) {
      const order = round % 2 === 0 ? makers : [...makers].reverse();
      process.stdout.write(`round ${round + 1}\n`);
      for (const make of order) {
        const target = await make(join(dir, String(round)), agent);
        try {
          let r = running.find((x) => x.name === target.name);
          if (r === undefined) {
            r = { name: target.name, rounds: [], rssMiB: [] };
            running.push(r);
          }
          const pids = await target.pids();
          await warmUp(target, quick);
          r.rounds.push(await measureRound(target, pids, quick, round));
          if (round === roundCount - 1) r.rssMiB = await measureMemory(target, pids, quick);
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
  const s = running.find((r) => r.name === 'synod');
  const e = running.find((r) => r.name === 'etcd');
  if (s === undefined || e === undefined) return;
  reportRatios(s, e);
}

/** Medians over the rounds of each system's figures, and of the per-round throughput ratios. */
function reportRatios(s: Running, e: Running): void {
  const med = (r: Running, pick: (x: RoundResult) => number): number => median(r.rounds.map(pick));
  const ratioMedian = (pick: (x: RoundResult) => number): number => median(s.rounds.map((x, i) => pick(x) / pick(e.rounds[i] as RoundResult)));
  const maxRss = (r: Running): number => Math.max(...r.rssMiB);
  const n = s.rounds.length;
  const many = n > 1 ? `, medians of ${n} rounds` : '';
  process.stdout.write(`\nSynod / etcd${many}:\n`);
  const seqS = med(s, (x) => x.seq.latencyMsP50);
  const seqE = med(e, (x) => x.seq.latencyMsP50);
  process.stdout.write(`  sequential put p50      ${seqS.toFixed(2)} ms vs ${seqE.toFixed(2)} ms (${(seqS / seqE).toFixed(2)}x)\n`);
  const p99 = (pick: (x: RoundResult) => LoadResult): string => `p99 ${med(s, (x) => pick(x).latencyMsP99).toFixed(1)} vs ${med(e, (x) => pick(x).latencyMsP99).toFixed(1)} ms`;
  process.stdout.write(`  put x64 throughput      ${ratioMedian((x) => x.put64.opsPerSecond).toFixed(2)}x  (${p99((x) => x.put64)})\n`);
  process.stdout.write(`  get x64 throughput      ${ratioMedian((x) => x.get64.opsPerSecond).toFixed(2)}x  (${p99((x) => x.get64)})\n`);
  if (n > 1) process.stdout.write(`  put x64 ratio per round ${s.rounds.map((x, i) => (x.put64.opsPerSecond / (e.rounds[i] as RoundResult).put64.opsPerSecond).toFixed(2)).join(', ')}\n`);
  process.stdout.write(`  peak RSS per node (max) ${maxRss(s).toFixed(0)} MiB vs ${maxRss(e).toFixed(0)} MiB (${(maxRss(s) / maxRss(e)).toFixed(2)}x)\n`);
}
