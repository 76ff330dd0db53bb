// Failures of real node processes that an operator must see and that must never cost data: a
// node whose storage fails exits and the supervisor says why; a node whose data directory was lost
// refuses to start instead of rejoining as an empty voter; a corrupt log's reason reaches the
// supervisor (with the torn-tail test in real-cluster.test.ts); writes through a follower go on
// while the leader is paused; and the nodes of a
// supervisor that dies stop too.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { reservePortBlock } from './test/port-block.js';
import { http, leaderAmong, startTestCluster, statusOf, synodCommand, trackChild, waitUntil } from './test/harness.js';

type TestCluster = Awaited<ReturnType<typeof startTestCluster>>;
let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.cleanup();
  cluster = undefined;
});

interface ListedNode {
  id: string;
  process: string;
  pid: number | null;
  lastExit?: { code: number | null; signal: string | null; reason: string | null };
}

async function listed(c: TestCluster, id: string): Promise<ListedNode> {
  const nodes = (await http('GET', `${c.controlUrl}/api/nodes`)).body as unknown as ListedNode[];
  return nodes.find((n) => n.id === id) as ListedNode;
}

async function waitForExit(c: TestCluster, id: string): Promise<NonNullable<ListedNode['lastExit']>> {
  let exit: ListedNode['lastExit'];
  await waitUntil(`node ${id} to exit`, async () => {
    const n = await listed(c, id);
    exit = n.process === 'stopped' ? n.lastExit : undefined;
    return exit !== undefined;
  }, 30_000);
  return exit as NonNullable<ListedNode['lastExit']>;
}

describe('real processes: failures an operator sees', () => {
  it('a node whose storage fails exits with code 3, the supervisor says why, and the others elect a leader', async () => {
    cluster = await startTestCluster(3);
    const leader = await leaderAmong(cluster.endpoints);
    const url = cluster.endpoints[leader] as string;
    expect((await http('POST', `${url}/v1/faults`, { action: 'fail-storage' })).status).toBe(200);
    const write = await http('PUT', `${url}/v1/kv/x`, { value: 1 }, 8000).catch(() => undefined);
    expect(write?.status).not.toBe(200);
    const exit = await waitForExit(cluster, leader);
    expect(exit.code).toBe(3);
    expect(exit.reason).toMatch(/log could not be written/);
    expect(exit.reason).toMatch(/STORAGE_IO/);
    const others = Object.fromEntries(Object.entries(cluster.endpoints).filter(([id]) => id !== leader));
    const next = await leaderAmong(others);
    expect((await http('PUT', `${others[next] as string}/v1/kv/y`, { value: 2 })).status).toBe(200);
  });

  it('a node whose data directory was lost refuses to start (DATA_LOST); removed, wiped and added back it rejoins', async () => {
    cluster = await startTestCluster(3);
    const leader = await leaderAmong(cluster.endpoints);
    const leaderUrl = cluster.endpoints[leader] as string;
    for (let i = 0; i < 10; i++) expect((await http('PUT', `${leaderUrl}/v1/kv/k${i}`, { value: i })).status).toBe(200);
    const victim = Object.keys(cluster.endpoints).find((id) => id !== leader) as string;
    const dir = join(cluster.dataDir, victim);
    cluster.kill(victim);
    await waitForExit(cluster, victim);
    // the operator moves a corrupt node's files away and restarts it
    renameSync(dir, `${dir}.lost`);
    cluster.restart(victim);
    const exit = await waitForExit(cluster, victim);
    expect(exit.code).toBe(1);
    expect(exit.reason).toMatch(/DATA_LOST/);
    expect(exit.reason).toMatch(/member remove/);
    // the documented recovery: remove it, start it empty as a joiner, add it back, promote it
    expect((await http('DELETE', `${leaderUrl}/v1/members/${victim}`, undefined, 10_000)).status).toBe(200);
    const address = JSON.parse(readFileSync(join(cluster.dataDir, 'cluster.json'), 'utf8')) as { members: Record<string, { peer: string; client: string }> };
    const self = address.members[victim] as { peer: string; client: string };
    const joiner = trackChild(spawn(process.execPath, [...synodCommand, 'node', '--id', victim, '--data-dir', dir, '--config', join(cluster.dataDir, 'cluster.json'), '--join', '--peer-addr', self.peer, '--client-addr', self.client.replace(/^https?:\/\//, ''), '--log-level', 'info'], { stdio: ['ignore', 'ignore', 'pipe'] }));
    let joinerLog = '';
    joiner.stderr?.on('data', (c: Buffer) => (joinerLog += c.toString()));
    try {
      await waitUntil('the joiner to listen', async () => (await statusOf(self.client)) !== undefined, 30_000);
      expect((await http('POST', `${leaderUrl}/v1/members`, { id: victim, peer: self.peer, client: self.client }, 10_000)).status).toBe(200);
      await waitUntil('the learner to catch up', async () => ((await statusOf(self.client))?.applied ?? 0) >= 10, 30_000).catch((e: unknown) => {
        console.log('JOINER', joinerLog.slice(-4000), 'LEADER', readFileSync(join(cluster?.dataDir as string, leader, 'node.log'), 'utf8').slice(-4000));
        throw e;
      });
      expect((await http('POST', `${leaderUrl}/v1/members/${victim}/promote`, undefined, 10_000)).status).toBe(200);
      const read = await http('GET', `${self.client}/v1/kv/k9?consistency=serializable`);
      expect(read.body.result?.['value']).toBe(9);
    } finally {
      joiner.kill('SIGKILL');
    }
  });

  it('writes with a session through a follower succeed while the leader is paused', async () => {
    cluster = await startTestCluster(3);
    const old = await leaderAmong(cluster.endpoints);
    const follower = cluster.endpoints[Object.keys(cluster.endpoints).find((id) => id !== old) as string] as string;
    expect((await http('PUT', `${follower}/v1/kv/w0`, { value: 0 })).status).toBe(200);
    cluster.kill(old, 'SIGSTOP');
    try {
      // these reach the frozen leader first; once a new leader is known the follower redirects them
      const answers = await Promise.all([1, 2, 3].map((i) => http('PUT', `${follower}/v1/kv/w${i}`, { value: i, clientId: `paused-${i}`, seq: 1 }, 20_000)));
      for (const a of answers) {
        expect(a.status).toBe(200);
        expect(a.body['node']).not.toBe(old);
      }
    } finally {
      cluster.kill(old, 'SIGCONT');
    }
  });
});

describe('real processes: a supervisor that dies takes its nodes with it', () => {
  it('after kill -9 of `synod cluster up`, every node process exits', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'synod-orphans-'));
    const ports = await reservePortBlock();
    const basePort = ports.base;
    const supervisor = trackChild(spawn(process.execPath, [...synodCommand, 'cluster', 'up', '--nodes', '3', '--data-dir', dataDir, '--base-port', String(basePort)], { stdio: ['ignore', 'pipe', 'pipe'] }));
    try {
      let out = '';
      supervisor.stdout?.on('data', (c: Buffer) => (out += c.toString()));
      await waitUntil('the cluster to be ready', async () => /cluster ready/.test(out), 60_000);
      const nodes = (await http('GET', `http://127.0.0.1:${basePort}/api/nodes`)).body as unknown as ListedNode[];
      const pids = nodes.map((n) => n.pid as number);
      expect(pids).toHaveLength(3);
      supervisor.kill('SIGKILL');
      const alive = (pid: number): boolean => {
        try {
          process.kill(pid, 0);
          return true;
        } catch {
          return false;
        }
      };
      await waitUntil('the orphaned nodes to stop', async () => pids.every((pid) => !alive(pid)), 30_000);
    } finally {
      supervisor.kill('SIGKILL');
      ports.release();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
