// The Multi-Paxos KV (--service paxos-kv) as real processes under the supervisor, TLS on: clients
// write and read through every node while the test kills -9 the leader and restarts it, kills -9
// the next leader (another node) and restarts it, and SIGSTOPs the leader past the election
// timeout and resumes it. Every acknowledged write must be readable afterwards, the replicas must
// converge, and the recorded history must pass the linearizability checker. Also: the CLI's
// `synod kv` against it, and `--help` naming the service.
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { checkHistory, kvModel } from '../check/index.js';
import { startSynod } from '../cli/test/cli-cluster.js';
import { http, leaderAmong, RecordingClient, startTestCluster, waitUntil } from './test/harness.js';

type TestCluster = Awaited<ReturnType<typeof startTestCluster>>;
let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.cleanup();
  cluster = undefined;
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `workers` client loops until stop(): unique puts (acknowledged ones remembered), puts and gets of two shared keys. */
function runWorkload(client: RecordingClient, workers: number) {
  let running = true;
  const acked: string[] = [];
  let n = 0;
  const loops = Array.from({ length: workers }, async (_, w) => {
    while (running) {
      const i = n++;
      if (i % 3 === 2) await client.get(`w${w}`, `shared${i % 2}`);
      else if (i % 3 === 1) await client.put(`w${w}`, `shared${i % 2}`, i);
      else if ((await client.put(`w${w}`, `unique${i}`, i)) === 'ok') acked.push(`unique${i}`);
    }
  });
  return {
    acked,
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}

async function waitForStopped(c: TestCluster, id: string): Promise<void> {
  await waitUntil(`node ${id} to stop`, async () => ((await http('GET', `${c.controlUrl}/api/nodes`)).body as unknown as { id: string; process: string }[]).some((n) => n.id === id && n.process === 'stopped'), 30_000);
}

interface PaxosStatus { role: string; leader: string | null; known: number; applied: number; ballot: string | null; promised: string }

async function paxosStatus(url: string): Promise<PaxosStatus | undefined> {
  const a = await http('GET', `${url}/v1/status`, undefined, 1000).catch(() => undefined);
  return a?.status === 200 ? (a.body as unknown as PaxosStatus) : undefined;
}

describe('real processes: paxos-kv', () => {
  it('kill -9 of the leader and of the next leader, SIGSTOP of a leader past the election timeout: acknowledged writes survive, replicas converge, history is linearizable', async () => {
    cluster = await startTestCluster(3, 'paxos-kv');
    const c = cluster;
    const urls = Object.values(c.endpoints);
    const client = new RecordingClient(urls);
    const load = runWorkload(client, 4);
    const events: string[] = [];
    try {
      await sleep(800);
      // 1. kill -9 the leader, restart it
      const first = await leaderAmong(c.endpoints);
      events.push(`kill -9 leader ${first}`);
      c.kill(first);
      await waitForStopped(c, first);
      await sleep(1500);
      c.restart(first);
      await sleep(1500);
      // 2. kill -9 the leader now (another node, unless the first won again), restart it
      const leaderNow = await leaderAmong(c.endpoints);
      const second = leaderNow !== first ? leaderNow : (Object.keys(c.endpoints).find((id) => id !== first) as string);
      events.push(`kill -9 ${second} (${second === leaderNow ? 'the leader' : `a follower: ${first} leads again`})`);
      c.kill(second);
      await waitForStopped(c, second);
      await sleep(1000);
      c.restart(second);
      await sleep(1500);
      // 3. SIGSTOP the leader past the election timeout (0.5-1 s), then SIGCONT: it wakes up deposed
      const paused = await leaderAmong(c.endpoints);
      events.push(`SIGSTOP leader ${paused}`);
      c.kill(paused, 'SIGSTOP');
      try {
        await sleep(2500);
        const others = Object.fromEntries(Object.entries(c.endpoints).filter(([id]) => id !== paused));
        const next = await leaderAmong(others);
        events.push(`new leader ${next} while ${paused} is paused`);
      } finally {
        c.kill(paused, 'SIGCONT');
      }
      await sleep(1500);
      // a loaded machine may have acknowledged few writes by now: the clients go on until enough were
      await waitUntil('more than 30 acknowledged unique writes', async () => load.acked.length > 30, 60_000);
    } finally {
      await load.stop();
    }
    const ops = client.history.snapshot(1e12).ops;
    const count = (outcome: string) => ops.filter((o) => o.outcome === outcome).length;
    console.log(`paxos-kv real-process run: ${events.join('; ')}; ${ops.length} operations (${count('ok')} ok, ${count('fail')} failed, ${count('unknown')} unknown), ${load.acked.length} unique writes acknowledged`);
    expect(load.acked.length).toBeGreaterThan(20);

    // every acknowledged write is readable (linearizable reads through any node)
    await leaderAmong(c.endpoints);
    expect(await client.unreadable(load.acked, urls)).toEqual([]);

    // the replicas converge: once each has applied what the leader knows chosen, their stores are equal
    const leader = await leaderAmong(c.endpoints);
    const target = ((await paxosStatus(c.endpoints[leader] as string)) as PaxosStatus).known;
    await waitUntil('every replica to apply what the leader has chosen', async () => {
      for (const url of urls) if (((await paxosStatus(url))?.applied ?? 0) < target) return false;
      return true;
    }, 30_000);
    const listing = async (url: string) => (await http('GET', `${url}/v1/kv?prefix=&limit=100000&consistency=serializable`)).body.result?.['items'];
    // a node may apply writes after `target` meanwhile: compare once the three agree on their applied slot
    await waitUntil('the replicas to hold the same keys and values', async () => {
      const applied = await Promise.all(urls.map(async (u) => (await paxosStatus(u))?.applied));
      if (new Set(applied).size !== 1) return false;
      const items = await Promise.all(urls.map(listing));
      return items.every((i) => JSON.stringify(i) === JSON.stringify(items[0]));
    }, 30_000);

    const verdict = checkHistory(client.history.snapshot(1e12), kvModel, { budgetMs: 20_000, now: () => performance.now() });
    expect(verdict.verdict).toBe('linearizable');
  });

  it('the CLI reads and writes it (TLS, a follower as the first endpoint), and --help names the service', async () => {
    cluster = await startTestCluster(3, 'paxos-kv');
    const c = cluster;
    const leader = await leaderAmong(c.endpoints);
    const order = [...Object.keys(c.endpoints).filter((id) => id !== leader), leader].map((id) => c.endpoints[id] as string);
    const env = { SYNOD_ENDPOINTS: order.join(','), SYNOD_CACERT: join(c.dataDir, 'tls', 'ca.crt') };
    const put = await startSynod(['kv', 'put', 'greeting', 'hello'], { env }).done;
    expect(put.status, put.stderr).toBe(0);
    expect(put.stdout).toMatch(/^OK \(revision \d+\)/);
    const [get, status, compact, help, nodeHelp] = await Promise.all([
      startSynod(['kv', 'get', 'greeting'], { env }).done,
      startSynod(['status'], { env }).done,
      startSynod(['kv', 'compact', '1'], { env }).done,
      startSynod(['cluster', 'up', '--help']).done,
      startSynod(['node', '--help']).done,
    ]);
    expect(get.stdout.trim()).toBe('hello');
    expect(status.status, status.stderr).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`node ${leader} leader`));
    // what the service does not have: one line, at once
    expect(compact.status).toBe(1);
    expect(compact.stderr).toMatch(/NOT_SUPPORTED/);
    expect(help.stdout).toMatch(/paxos-kv/);
    expect(nodeHelp.stdout).toMatch(/paxos-kv/);
  });
});
