// `npm run bench -- kv [--quick] [--only synod|etcd]`: a 3-node Synod cluster (fsync on) and a 3-node etcd 3.4 cluster
// on loopback, the same workloads against both in one run: sequential puts, puts with 64 in
// flight, linearizable gets with 64 in flight; then peak resident memory per node after loading
// 100,000 keys of 256-byte values. Prints ops/s, p50/p99 latency and the Synod/etcd ratios.
// SYNOD_NODE_FLAGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") is passed to each Synod node's node.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLocalCluster } from '../src/cli/cluster.js';
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
  const cluster = await startLocalCluster({ nodes: 3, dataDir: join(dir, 'synod'), basePort: 27000, logLevel: 'warn', command: [...nodeFlags(), join(repoRoot, 'bin/synod.js')] });
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

function peakRssMiB(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? NaN : Number(m[1]) / 1024;
}

interface Measured {
  seq: LoadResult;
  put64: LoadResult;
  get64: LoadResult;
  rssMiB: number[];
}

async function measure(target: KvTarget, quick: boolean): Promise<Measured> {
  const pids = await target.pids();
  // CPU per operation of the whole cluster (all nodes), so that work moved between nodes counts
  const clusterCpuMs = (): number => pids.reduce((sum, pid) => sum + cpuMs(pid), 0);
  let cpuBefore = clusterCpuMs();
  let clientCpuBefore = process.cpuUsage();
  const say = (what: string, r: LoadResult): void => {
    const cpuAfter = clusterCpuMs();
    const cpuUsPerOp = ((cpuAfter - cpuBefore) * 1000) / Math.max(1, r.ops);
    const client = process.cpuUsage(clientCpuBefore);
    const clientUsPerOp = (client.user + client.system) / Math.max(1, r.ops);
    cpuBefore = cpuAfter;
    clientCpuBefore = process.cpuUsage();
    process.stdout.write(`  ${target.name.padEnd(6)} ${what.padEnd(22)} ${formatLoad(r)}  CPU/op: cluster ${cpuUsPerOp.toFixed(0)} us, client ${clientUsPerOp.toFixed(0)} us\n`);
  };
  const n = quick ? 0.2 : 1;
  await runLoad({ concurrency: 8, totalOps: 500, maxWallMs: 10_000 }, (i) => target.put(`warm${i}`, VALUE));
  cpuBefore = clusterCpuMs();
  clientCpuBefore = process.cpuUsage();
  const seq = await runLoad({ concurrency: 1, totalOps: 2000 * n, maxWallMs: 30_000 }, (i) => target.put(`seq${i}`, VALUE));
  say('sequential put', seq);
  const put64 = await runLoad({ concurrency: 64, totalOps: 20_000 * n, maxWallMs: 30_000 }, (i) => target.put(`p${i}`, VALUE));
  say('put, 64 in flight', put64);
  const get64 = await runLoad({ concurrency: 64, totalOps: 20_000 * n, maxWallMs: 30_000 }, (i) => target.get(`p${i % 1000}`));
  say('get, 64 in flight', get64);
  const total = 100_000 * n;
  const load = await runLoad({ concurrency: 64, totalOps: total, maxWallMs: 300_000 }, (i) => target.put(`load${i}`, VALUE));
  say(`load ${total} keys`, load);
  const rssMiB = pids.map(peakRssMiB);
  process.stdout.write(`  ${target.name.padEnd(6)} peak RSS per node: ${rssMiB.map((m) => `${m.toFixed(0)} MiB`).join(', ')}\n`);
  return { seq, put64, get64, rssMiB };
}

export async function run(args: string[]): Promise<void> {
  const quick = args.includes('--quick');
  const onlyAt = args.indexOf('--only');
  const only = onlyAt < 0 ? undefined : args[onlyAt + 1];
  if (only !== undefined && only !== 'synod' && only !== 'etcd') throw new Error(`--only takes synod or etcd, got ${only}`);
  const targets = [synodTarget, etcdTarget].filter((_, i) => only === undefined || only === ['synod', 'etcd'][i]);
  const dir = mkdtempSync(join(tmpdir(), 'synod-bench-kv-'));
  const agent = new Agent({ keepAlive: true, maxSockets: 128 });
  const results: Record<string, Measured> = {};
  try {
    for (const make of targets) {
      const target = await make(dir, agent);
      try {
        process.stdout.write(`${target.name}: 3 nodes on loopback, fsync on\n`);
        results[target.name] = await measure(target, quick);
      } finally {
        await target.stop();
      }
    }
  } finally {
    agent.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
  const s = results['synod'];
  const e = results['etcd'];
  if (s === undefined || e === undefined) return;
  const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}x`;
  const maxRss = (m: Measured): number => Math.max(...m.rssMiB);
  process.stdout.write('\nSynod / etcd:\n');
  process.stdout.write(`  sequential put p50      ${s.seq.latencyMsP50.toFixed(2)} ms vs ${e.seq.latencyMsP50.toFixed(2)} ms (${ratio(s.seq.latencyMsP50, e.seq.latencyMsP50)})\n`);
  process.stdout.write(`  put x64 throughput      ${ratio(s.put64.opsPerSecond, e.put64.opsPerSecond)}  (p99 ${s.put64.latencyMsP99.toFixed(1)} vs ${e.put64.latencyMsP99.toFixed(1)} ms)\n`);
  process.stdout.write(`  get x64 throughput      ${ratio(s.get64.opsPerSecond, e.get64.opsPerSecond)}  (p99 ${s.get64.latencyMsP99.toFixed(1)} vs ${e.get64.latencyMsP99.toFixed(1)} ms)\n`);
  process.stdout.write(`  peak RSS per node (max) ${maxRss(s).toFixed(0)} MiB vs ${maxRss(e).toFixed(0)} MiB (${ratio(maxRss(s), maxRss(e))})\n`);
}
