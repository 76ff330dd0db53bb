// Fault tests on real processes: kill -9 and SIGSTOP of nodes during writes, restart of the whole
// cluster, partitions through the transport's fault hook, a torn and a corrupted log file, and
// membership changes. Histories are judged by the linearizability checker.
import { appendFileSync, openSync, readdirSync, readSync, writeSync, closeSync, readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkHistory, kvModel } from '../check/index.js';
import { http, leaderAmong, RecordingClient, startTestCluster, statusOf, synodCommand, trackChild, waitUntil } from './test/harness.js';
import { NODE_PROCESS_FLAGS } from '../supervisor/cluster-file.js';

type TestCluster = Awaited<ReturnType<typeof startTestCluster>>;
let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.cleanup();
  cluster = undefined;
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until the supervisor has seen the node's process end (no fixed sleep: the machine may be slow). */
async function waitForStopped(id: string): Promise<void> {
  await waitUntil(`node ${id} to stop`, async () => ((await http('GET', `${cluster?.controlUrl as string}/api/nodes`)).body as unknown as { id: string; process: string }[]).some((n) => n.id === id && n.process === 'stopped'), 30_000);
}

/** Runs `workers` client loops until `stop()`; each acked put of a unique key is remembered. */
function runWorkload(client: RecordingClient, workers: number) {
  let running = true;
  const acked: string[] = [];
  let n = 0;
  const loops = Array.from({ length: workers }, async (_, w) => {
    while (running) {
      const i = n++;
      if (i % 3 === 2) {
        await client.get(`w${w}`, `shared${i % 2}`);
      } else if (i % 3 === 1) {
        await client.put(`w${w}`, `shared${i % 2}`, i);
      } else if ((await client.put(`w${w}`, `unique${i}`, i)) === 'ok') {
        acked.push(`unique${i}`);
      }
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

describe('real processes', () => {
  it('kill -9 of the leader and of a follower during writes: acknowledged writes survive, history is linearizable', async () => {
    cluster = await startTestCluster(3);
    const urls = Object.values(cluster.endpoints);
    const client = new RecordingClient(urls);
    const load = runWorkload(client, 4);
    await sleep(800);
    const leader = await leaderAmong(cluster.endpoints);
    cluster.kill(leader);
    await sleep(1500);
    cluster.restart(leader);
    await sleep(1500);
    const follower = Object.keys(cluster.endpoints).find((id) => id !== leader) as string;
    cluster.kill(follower);
    await sleep(1000);
    cluster.restart(follower);
    await sleep(1000);
    await load.stop();
    expect(load.acked.length).toBeGreaterThan(20);
    // every acknowledged write is readable, from every node once it caught up
    await leaderAmong(cluster.endpoints);
    expect(await client.unreadable(load.acked, urls)).toEqual([]);
    const verdict = checkHistory(client.history.snapshot(1e12), kvModel, { budgetMs: 20_000, now: () => performance.now() });
    expect(verdict.verdict).toBe('linearizable');
  });

  it('SIGSTOP of the leader: a new leader takes over, and the old one serves no stale read after SIGCONT', async () => {
    cluster = await startTestCluster(3);
    const old = await leaderAmong(cluster.endpoints);
    const oldUrl = cluster.endpoints[old] as string;
    expect((await http('PUT', `${oldUrl}/v1/kv/x`, { value: 'before' })).status).toBe(200);
    cluster.kill(old, 'SIGSTOP');
    const others = Object.fromEntries(Object.entries(cluster.endpoints).filter(([id]) => id !== old));
    const next = await leaderAmong(others);
    expect(next).not.toBe(old);
    expect((await http('PUT', `${others[next] as string}/v1/kv/x`, { value: 'after' })).status).toBe(200);
    cluster.kill(old, 'SIGCONT');
    // right after it wakes, the old leader may still think it leads: it must not answer from stale state
    for (let i = 0; i < 20; i++) {
      const read = await http('GET', `${oldUrl}/v1/kv/x`).catch(() => undefined);
      if (read?.status === 200) expect(read.body.result?.['value']).toBe('after');
      const write = await http('PUT', `${oldUrl}/v1/kv/y`, { value: i }).catch(() => undefined);
      if (write?.status === 200) expect(write.body['node']).not.toBe(old); // acknowledged only through the real leader
    }
  });

  it('restart of all nodes recovers the state from disk (one of them from a snapshot taken on request)', async () => {
    cluster = await startTestCluster(3);
    const leader = await leaderAmong(cluster.endpoints);
    const url = cluster.endpoints[leader] as string;
    for (let i = 0; i < 30; i++) expect((await http('PUT', `${url}/v1/kv/k${i}`, { value: i })).status).toBe(200);
    // one node compacts its log on request first, so the restart exercises snapshot + log too
    const snap = await http('POST', `${url}/v1/snapshot`);
    expect(snap.status).toBe(200);
    expect(Number(snap.body['snapshotIndex'])).toBeGreaterThanOrEqual(30);
    // a longer log to replay: 3,000 more entries, 64 writes at a time
    await Promise.all(Array.from({ length: 64 }, async (_, w) => {
      for (let i = w; i < 3000; i += 64) await http('PUT', `${url}/v1/kv/fill${i % 500}`, { value: i }, 10_000);
    }));
    for (const id of Object.keys(cluster.endpoints)) cluster.kill(id);
    await waitUntil('every node to stop', async () => ((await http('GET', `${cluster?.controlUrl as string}/api/nodes`)).body as unknown as { process: string }[]).every((n) => n.process === 'stopped'));
    const restartedAt = performance.now();
    for (const id of Object.keys(cluster.endpoints)) cluster.restart(id);
    const again = await leaderAmong(cluster.endpoints);
    await waitUntil('every node to be ready', async () => {
      const answers = await Promise.all(Object.values(cluster?.endpoints ?? {}).map((u) => http('GET', `${u}/readyz`).catch(() => undefined)));
      return answers.every((a) => a?.status === 200);
    }, 60_000);
    // reported, not asserted (tests never assert timings): restart time belongs here, and in bench wal-open
    console.log(`restart of 3 nodes with about 3,040 log entries each: ${Math.round(performance.now() - restartedAt)} ms until every node was ready`);
    // restarted processes get the node flags too (Linux: /proc shows each process's arguments)
    const listed = (await http('GET', `${cluster.controlUrl}/api/nodes`)).body as unknown as { pid: number }[];
    for (const { pid } of listed) expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')).toEqual(expect.arrayContaining([...NODE_PROCESS_FLAGS]));
    for (let i = 0; i < 30; i++) {
      const r = await http('GET', `${cluster.endpoints[again] as string}/v1/kv/k${i}`);
      expect(r.body.result?.['value']).toBe(i);
    }
  });

  it('a partition: the minority makes no progress, the majority does, and the healed cluster converges', async () => {
    cluster = await startTestCluster(3);
    const leader = await leaderAmong(cluster.endpoints);
    const others = Object.keys(cluster.endpoints).filter((id) => id !== leader);
    await http('POST', `${cluster.endpoints[leader] as string}/v1/faults`, { action: 'partition', from: others });
    for (const id of others) await http('POST', `${cluster.endpoints[id] as string}/v1/faults`, { action: 'partition', from: [leader] });
    const minorityWrite = await http('PUT', `${cluster.endpoints[leader] as string}/v1/kv/p?`, { value: 'minority' }, 8000).catch(() => undefined);
    expect(minorityWrite?.status).not.toBe(200);
    const majority = Object.fromEntries(others.map((id) => [id, cluster?.endpoints[id] as string]));
    const next = await leaderAmong(majority);
    expect((await http('PUT', `${majority[next] as string}/v1/kv/p`, { value: 'majority' })).status).toBe(200);
    for (const url of Object.values(cluster.endpoints)) await http('POST', `${url}/v1/faults`, { action: 'heal' });
    await waitUntil('the old leader to converge', async () => {
      const r = await http('GET', `${cluster?.endpoints[leader] as string}/v1/kv/p?consistency=serializable`).catch(() => undefined);
      return r?.body.result?.['value'] === 'majority';
    });
  });

  it('a torn tail is repaired at start; a flipped bit earlier is refused with an error naming file and offset', async () => {
    cluster = await startTestCluster(3);
    const leader = await leaderAmong(cluster.endpoints);
    for (let i = 0; i < 20; i++) await http('PUT', `${cluster.endpoints[leader] as string}/v1/kv/t${i}`, { value: i });
    const victim = Object.keys(cluster.endpoints).find((id) => id !== leader) as string;
    const dir = join(cluster.dataDir, victim);
    const segment = join(dir, readdirSync(dir).filter((f) => f.endsWith('.wal')).sort().at(-1) as string);
    cluster.kill(victim);
    await waitForStopped(victim);
    appendFileSync(segment, Buffer.from([0x40, 0, 0, 0, 1, 2, 3])); // half a record: a torn write
    cluster.restart(victim);
    await waitUntil('the repaired node to serve', async () => (await statusOf(cluster?.endpoints[victim] as string)) !== undefined);
    // the node's log reaches node.log through the supervisor's pipe: the line may land after the node already serves
    await waitUntil('the repair in the node log', async () => /torn|truncat/i.test(readFileSync(join(dir, 'node.log'), 'utf8')));
    cluster.kill(victim);
    await waitForStopped(victim);
    const fd = openSync(segment, 'r+');
    const byte = Buffer.alloc(1);
    readSync(fd, byte, 0, 1, 40);
    byte[0] = (byte[0] as number) ^ 0x10; // a flipped bit in an early record
    writeSync(fd, byte, 0, 1, 40);
    closeSync(fd);
    // start it in the foreground to see its exit code and message
    const run = trackChild(spawn(process.execPath, [...synodCommand, 'node', '--id', victim, '--data-dir', dir, '--config', join(cluster.dataDir, 'cluster.json')], { stdio: ['ignore', 'pipe', 'pipe'] }));
    let stderr = '';
    run.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((r) => run.on('close', r)); // close: stderr fully read
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/WAL_CORRUPT|corrupt/i);
    expect(stderr).toContain(segment.split('/').at(-1) as string);
    expect(stderr).toMatch(/offset \d+/);
    // and started by the supervisor, the same reason reaches it (and the dashboard)
    cluster.restart(victim);
    let reason = '';
    await waitUntil('the supervisor to see it exit', async () => {
      const n = ((await http('GET', `${cluster?.controlUrl as string}/api/nodes`)).body as unknown as { id: string; process: string; lastExit?: { code: number; reason: string | null } }[]).find((x) => x.id === victim);
      reason = n?.process === 'stopped' && n.lastExit?.code === 1 ? (n.lastExit.reason ?? '') : '';
      return reason !== '';
    }, 30_000);
    expect(reason).toMatch(/WAL_CORRUPT/);
    expect(reason).toContain(segment.split('/').at(-1) as string);
  });

  it('membership: a new node joins as a learner, catches up, is promoted; another is removed', async () => {
    cluster = await startTestCluster(3);
    const leader = await leaderAmong(cluster.endpoints);
    const url = cluster.endpoints[leader] as string;
    for (let i = 0; i < 20; i++) await http('PUT', `${url}/v1/kv/m${i}`, { value: i });
    const base = Number(new URL(url).port) + 50;
    const peer = `127.0.0.1:${base + 1}`;
    const clientAddr = `127.0.0.1:${base + 2}`;
    const clientUrl = `${new URL(url).protocol}//${clientAddr}`;
    // a new member of a TLS cluster needs a certificate from the cluster's CA first
    const certs = trackChild(spawn(process.execPath, [...synodCommand, 'certs', 'create', '--dir', join(cluster.dataDir, 'tls'), '--nodes', '4'], { stdio: 'ignore' }));
    expect(await new Promise((r) => certs.on('exit', r))).toBe(0);
    const joiner = trackChild(spawn(process.execPath, [...synodCommand, 'node', '--id', '4', '--data-dir', join(cluster.dataDir, '4'), '--config', join(cluster.dataDir, 'cluster.json'), '--join', '--peer-addr', peer, '--client-addr', clientAddr, '--log-level', 'info'], { stdio: ['ignore', 'ignore', 'pipe'] }));
    let joinerLog = '';
    joiner.stderr?.on('data', (c: Buffer) => (joinerLog += c.toString()));
    try {
      await waitUntil('the joiner to listen', async () => (await statusOf(clientUrl)) !== undefined);
      const added = await http('POST', `${url}/v1/members`, { id: '4', peer, client: clientUrl }, 10_000);
      expect(added.status).toBe(200);
      await waitUntil('the learner to catch up', async () => ((await statusOf(clientUrl))?.applied ?? 0) >= 20).catch((e: unknown) => {
        console.log('JOINER', joinerLog.slice(-3000), readFileSync(join(cluster?.dataDir as string, leader, 'node.log'), 'utf8').slice(-3000));
        throw e;
      });
      expect((await http('POST', `${url}/v1/members/4/promote`, undefined, 10_000)).status).toBe(200);
      const removed = Object.keys(cluster.endpoints).find((id) => id !== leader) as string;
      expect((await http('DELETE', `${url}/v1/members/${removed}`, undefined, 10_000)).status).toBe(200);
      await waitUntil('the new configuration', async () => {
        const s = await statusOf(url);
        return s !== undefined && [...s.voters].sort().join(',') === ['1', '2', '3', '4'].filter((id) => id !== removed).join(',');
      });
      const r = await http('GET', `${clientUrl}/v1/kv/m19?consistency=serializable`);
      expect(r.body.result?.['value']).toBe(19);
    } finally {
      joiner.kill('SIGKILL');
    }
  });
});
