// `npm run bench -- quorum [--nodes 3,5] [--routing home|any] [--quick] [--json] [--help]`: the
// leaderless store side by side with Synod's Raft KV on the same machine in the same run: put and
// get throughput and p50/p99 with 64 in flight, on 3 and 5 real nodes, the store at (R,W) =
// (1,1), (2,2), (3,3) with N = 3 (docs/quorum.md, docs/PERFORMANCE.md). Plain HTTP and TCP for
// both. Raft's client sends to its leader (followers would forward there); the store's sends each
// key to its first home replica, from the ring GET /v1/ring describes (a node that is not a home
// would forward there), or with --routing any round-robin over every node.
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLocalCluster, type ClusterHandle } from '../src/supervisor/index.js';
import { httpJson, waitFor } from './lib/etcd.js';
import { LeanHttpClient } from './lib/http-client.js';
import { runLoad, type LoadResult } from './lib/load.js';
import { cpuMs } from './lib/measure.js';
import { PartitionRing, positionOf } from '../src/ring/index.js';

const repoRoot = fileURLToPath(new URL('../', import.meta.url));
const CONCURRENCY = 64;
const VALUE = 'x'.repeat(100);
const LEVELS = [
  [1, 1],
  [2, 2],
  [3, 3],
] as const;

export const USAGE = `usage: npm run bench -- quorum [--nodes LIST] [--routing home|any] [--quick] [--json] [--help]
  --nodes LIST  node counts, comma-separated (default 3,5)
  --routing     where the store's client sends a request: home (default), the key's first home
                replica, as Raft's goes to the leader; any, round-robin over every node (a node
                that is not a home of the key passes the request on)
  --quick       a smoke run: 2,000 operations per line instead of 20,000 (and 10 s at most)
  --json        print the results as one JSON document on stdout (progress goes to stderr)
`;

interface Options {
  readonly nodes: readonly number[];
  readonly routing: 'home' | 'any';
  readonly opsPerLine: number;
  readonly maxWallMs: number;
  readonly json: boolean;
  readonly help: boolean;
}

/** The benchmark's options from its arguments; throws with a one-line reason for a bad one. */
export function parseQuorumBenchArgs(args: readonly string[]): Options {
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '--nodes' || a === '--routing') i++;
    else if (!['--quick', '--json', '--help', '-h'].includes(a)) throw new Error(`unknown argument ${JSON.stringify(a)}`);
  }
  const i = args.indexOf('--nodes');
  const nodes = i < 0 ? [3, 5] : (args[i + 1] ?? '').split(',').map(Number);
  if (nodes.length === 0 || nodes.some((n) => !Number.isInteger(n) || n < 3 || n > 7)) throw new Error('--nodes takes node counts from 3 to 7, comma-separated');
  const r = args.indexOf('--routing');
  const routing = r < 0 ? 'home' : args[r + 1];
  if (routing !== 'home' && routing !== 'any') throw new Error('--routing takes home or any');
  const quick = args.includes('--quick');
  return { nodes, routing, opsPerLine: quick ? 2_000 : 20_000, maxWallMs: quick ? 10_000 : 30_000, json: args.includes('--json'), help: args.includes('--help') || args.includes('-h') };
}

interface Line {
  readonly system: string;
  readonly nodes: number;
  readonly workload: 'put' | 'get';
  readonly result: LoadResult;
  /** Server CPU (all processes) per operation, microseconds. */
  readonly serverCpuUsPerOp: number;
  /**
   * The busiest node's CPU per operation, microseconds: on machines of their own, the node that
   * would saturate first (Raft's leader; any of the store's nodes).
   */
  readonly busiestNodeCpuUsPerOp: number;
}

async function cluster(service: 'kv' | 'quorum', nodes: number, dir: string, basePort: number): Promise<{ handle: ClusterHandle; pids: number[] }> {
  const serviceOptions = service === 'quorum' ? { replicas: 3, readQuorum: 2, writeQuorum: 2 } : undefined;
  const handle = await startLocalCluster({ service, nodes, dataDir: join(dir, `${service}-${nodes}`), basePort, tls: false, logLevel: 'warn', command: [join(repoRoot, 'bin/synod.js')], ...(serviceOptions === undefined ? {} : { serviceOptions }) });
  const agent = new Agent({ keepAlive: true });
  try {
    await waitFor(async () => {
      for (const url of Object.values(handle.endpoints)) if ((await httpJson('GET', `${url}/v1/status`, undefined, agent).catch(() => null)) === null) return false;
      return true;
    }, 30_000, `${service} nodes`);
    const listed = (await httpJson('GET', `${handle.controlUrl}/api/nodes`, undefined, agent)) as { pid: number }[];
    return { handle, pids: listed.map((n) => n.pid) };
  } catch (err) {
    await handle.stop();
    throw err;
  } finally {
    agent.destroy();
  }
}

async function measure(system: string, nodes: number, pids: readonly number[], workload: 'put' | 'get', o: Options, op: (i: number) => Promise<void>): Promise<Line> {
  const before = pids.map((pid) => cpuMs(pid));
  const result = await runLoad({ concurrency: CONCURRENCY, totalOps: o.opsPerLine, maxWallMs: o.maxWallMs }, op);
  const perNode = pids.map((pid, i) => cpuMs(pid) - (before[i] as number));
  const perOp = (ms: number): number => (result.ops > 0 ? (ms * 1000) / result.ops : NaN);
  return { system, nodes, workload, result, serverCpuUsPerOp: perOp(perNode.reduce((a, b) => a + b, 0)), busiestNodeCpuUsPerOp: perOp(Math.max(...perNode)) };
}

/** Raft KV: puts and linearizable gets to the leader. */
async function raftLines(nodes: number, dir: string, o: Options, say: (t: string) => void): Promise<Line[]> {
  const { handle, pids } = await cluster('kv', nodes, dir, 27000);
  try {
    const agent = new Agent({ keepAlive: true });
    let leader = '';
    await waitFor(async () => {
      for (const url of Object.values(handle.endpoints)) {
        const s = (await httpJson('GET', `${url}/v1/status`, undefined, agent).catch(() => null)) as { role?: string } | null;
        if (s?.role === 'leader') leader = url;
      }
      return leader !== '';
    }, 30_000, 'a Raft leader');
    agent.destroy();
    const client = new LeanHttpClient(leader);
    try {
      await runLoad({ concurrency: CONCURRENCY, totalOps: 2_000, maxWallMs: 10_000 }, async (i) => void (await client.send('PUT', `/v1/kv/warm${i}`, { value: VALUE })));
      say(`  raft, ${nodes} nodes: put`);
      const put = await measure('raft', nodes, pids, 'put', o, async (i) => void (await client.send('PUT', `/v1/kv/k${i}`, { value: VALUE })));
      say(`  raft, ${nodes} nodes: get`);
      const get = await measure('raft', nodes, pids, 'get', o, async (i) => void (await client.send('GET', `/v1/kv/k${i % o.opsPerLine}`)));
      return [put, get];
    } finally {
      client.close();
    }
  } finally {
    await handle.stop();
  }
}

/** The leaderless store: blind puts of new keys and gets, each sent to the key's first home (or round-robin: --routing any), at each (R, W). */
async function quorumLines(nodes: number, dir: string, o: Options, say: (t: string) => void): Promise<Line[]> {
  const { handle, pids } = await cluster('quorum', nodes, dir, 27300);
  const clients = new Map(Object.entries(handle.endpoints).map(([id, url]) => [id, new LeanHttpClient(url)]));
  const all = [...clients.values()];
  try {
    const homeOf = o.routing === 'home' ? await firstHomes(handle) : undefined;
    const via = (i: number, bucket: string, key: string): LeanHttpClient => (homeOf === undefined ? all[i % all.length] : clients.get(homeOf(`${bucket}/${key}`))) as LeanHttpClient;
    await runLoad({ concurrency: CONCURRENCY, totalOps: 2_000, maxWallMs: 10_000 }, async (i) => void (await via(i, 'warm', `k${i}`).send('PUT', `/v1/dkv/warm/k${i}`, { value: VALUE })));
    const lines: Line[] = [];
    for (const [r, w] of LEVELS) {
      const system = `quorum R=${r} W=${w}`;
      say(`  ${system}, ${nodes} nodes: put`);
      lines.push(await measure(system, nodes, pids, 'put', o, async (i) => void (await via(i, `w${w}`, `k${i}`).send('PUT', `/v1/dkv/w${w}/k${i}`, { value: VALUE, w }))));
      say(`  ${system}, ${nodes} nodes: get`);
      const k = (i: number): string => `k${i % o.opsPerLine}`;
      lines.push(await measure(system, nodes, pids, 'get', o, async (i) => void (await via(i, `w${w}`, k(i)).send('GET', `/v1/dkv/w${w}/${k(i)}?r=${r}`))));
    }
    return lines;
  } finally {
    for (const c of all) c.close();
    await handle.stop();
  }
}

/**
 * Each store key's first home replica, from the ring a node describes at GET /v1/ring (the
 * partitions' owners in order): what a partition-aware client computes, as Dynamo's clients may.
 */
async function firstHomes(handle: ClusterHandle): Promise<(storeKey: string) => string> {
  const agent = new Agent({ keepAlive: false });
  try {
    const described = (await httpJson('GET', `${Object.values(handle.endpoints)[0] as string}/v1/ring`, undefined, agent)) as { members: string[]; partitionCount: number; replicas: number; partitions: { node: string }[] };
    const ring = PartitionRing.fromOwners(described.members, described.partitions.map((p) => described.members.indexOf(p.node)), { partitionCount: described.partitionCount, targetN: described.replicas });
    return (storeKey) => ring.preferenceListAt(positionOf(storeKey), 1)[0] as string;
  } finally {
    agent.destroy();
  }
}

export async function run(args: string[]): Promise<void> {
  let o: Options;
  try {
    o = parseQuorumBenchArgs(args);
  } catch (err) {
    process.stderr.write(`bench quorum: ${(err as Error).message}\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (o.help) return void process.stdout.write(USAGE);
  const say = (t: string): void => void process.stderr.write(`${t}\n`);
  const dir = mkdtempSync(join(tmpdir(), 'synod-bench-quorum-'));
  const lines: Line[] = [];
  try {
    for (const nodes of o.nodes) {
      say(`${nodes} nodes`);
      lines.push(...(await raftLines(nodes, dir, o, say)));
      lines.push(...(await quorumLines(nodes, dir, o, say)));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const ratios = o.nodes.flatMap((nodes) => {
    const find = (system: string, workload: string): Line | undefined => lines.find((l) => l.system === system && l.nodes === nodes && l.workload === workload);
    const raftPut = find('raft', 'put');
    const raftGet = find('raft', 'get');
    return LEVELS.map(([r, w]) => {
      const put = find(`quorum R=${r} W=${w}`, 'put');
      const get = find(`quorum R=${r} W=${w}`, 'get');
      return {
        nodes,
        levels: `R=${r} W=${w}`,
        putRate: put !== undefined && raftPut !== undefined ? put.result.opsPerSecond / raftPut.result.opsPerSecond : NaN,
        putP99: put !== undefined && raftPut !== undefined ? put.result.latencyMsP99 / raftPut.result.latencyMsP99 : NaN,
        getRate: get !== undefined && raftGet !== undefined ? get.result.opsPerSecond / raftGet.result.opsPerSecond : NaN,
        getP99: get !== undefined && raftGet !== undefined ? get.result.latencyMsP99 / raftGet.result.latencyMsP99 : NaN,
        // not measured throughput: what the busiest nodes' CPU per put would allow on machines of their own
        putBusiestNodeProjection: put !== undefined && raftPut !== undefined ? raftPut.busiestNodeCpuUsPerOp / put.busiestNodeCpuUsPerOp : NaN,
      };
    });
  });
  if (o.json) return void process.stdout.write(`${JSON.stringify({ options: o, lines, ratios }, null, 2)}\n`);
  const out: string[] = [`quorum vs raft, ${CONCURRENCY} in flight, ${o.opsPerLine} operations per line (N = 3 for the store; Raft replicates to every node)`];
  out.push('nodes | system | workload | ops/s | p50 ms | p99 ms | server CPU us/op | busiest node us/op | errors');
  for (const l of lines) out.push(`${l.nodes} | ${l.system} | ${l.workload} | ${l.result.opsPerSecond.toFixed(0)} | ${l.result.latencyMsP50.toFixed(2)} | ${l.result.latencyMsP99.toFixed(2)} | ${l.serverCpuUsPerOp.toFixed(0)} | ${l.busiestNodeCpuUsPerOp.toFixed(0)} | ${l.result.errors}${l.result.errorSamples.length > 0 ? ` (${l.result.errorSamples.map((s) => s.message).join('; ')})` : ''}`);
  out.push('ratios to the Raft KV on the same node count (goals: R=1 W=1 put rate >= 2x; R=2 W=2 put rate >= 1x with a lower p99)');
  for (const r of ratios) out.push(`${r.nodes} nodes ${r.levels}: put ${r.putRate.toFixed(2)}x (p99 ${r.putP99.toFixed(2)}x), get ${r.getRate.toFixed(2)}x (p99 ${r.getP99.toFixed(2)}x); busiest node's CPU per put, Raft's over the store's: ${r.putBusiestNodeProjection.toFixed(2)}x (a projection for nodes on machines of their own, not a measured rate)`);
  process.stdout.write(`${out.join('\n')}\n`);
}
