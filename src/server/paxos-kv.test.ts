// The paxos-kv service on nodes inside the test process (real TCP and WAL): the Raft KV's client
// (SynodClient) against it, forwarding from a follower, status, readiness and metrics, a snapshot
// and a restart from the log; hostile HTTP bodies refused with a clear 4xx while the node keeps
// serving; and hostile frames from an authenticated peer dropped by the core with a note.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SynodClient, SynodError } from '../client/index.js';
import type { JsonValue } from '../core/index.js';
import { Transport } from '../net/index.js';
import { clusterIdOf, startServiceNode, type MemberAddress, type NodeConfig, type RunningNode } from './node.js';
import { PAXOS_KV_MAX_VALUE_DEPTH } from './paxos-kv-routes.js';
import { paxosKvService } from './paxos-kv-service.js';
import { http, waitUntil, type HttpAnswer } from './test/harness.js';
import { freePort } from './test/in-process.js';

const SECRET = 'paxos-kv-in-process-secret';

/** Paxos KV nodes in this process; `fake` names members whose addresses are reserved but that are not started. */
async function startPaxosCluster(size: number, running: readonly string[] = Array.from({ length: size }, (_, i) => String(i + 1))) {
  const root = mkdtempSync(join(tmpdir(), 'synod-paxkv-'));
  const members: Record<string, MemberAddress> = {};
  for (let i = 1; i <= size; i++) members[String(i)] = { peer: `127.0.0.1:${await freePort()}`, client: `http://127.0.0.1:${await freePort()}` };
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(chunk.toString('utf8'));
      done();
    },
  });
  const nodes = new Map<string, RunningNode>();
  const config = (id: string): NodeConfig => ({ id, dataDir: join(root, id), members, secret: SECRET, logLevel: 'warn', logDestination: sink });
  const start = async (id: string): Promise<RunningNode> => {
    const node = await startServiceNode(paxosKvService, config(id));
    nodes.set(id, node);
    return node;
  };
  await Promise.all(running.map((id) => start(id)));
  return {
    members,
    nodes,
    logs,
    urls: Object.fromEntries(running.map((id) => [id, (members[id] as MemberAddress).client])) as Record<string, string>,
    clusterId: clusterIdOf({ secret: SECRET }),
    start,
    stop: async (id: string) => {
      await nodes.get(id)?.close();
      nodes.delete(id);
    },
    close: async () => {
      await Promise.all([...nodes.values()].map((n) => n.close().catch(() => undefined)));
      rmSync(root, { recursive: true, force: true });
    },
  };
}
type PaxosTestCluster = Awaited<ReturnType<typeof startPaxosCluster>>;

async function statusOf(url: string): Promise<Record<string, JsonValue> | undefined> {
  const a = await http('GET', `${url}/v1/status`, undefined, 1000).catch(() => undefined);
  return a?.status === 200 ? (a.body as Record<string, JsonValue>) : undefined;
}

async function leaderOf(urls: Record<string, string>): Promise<string> {
  let leader = '';
  await waitUntil('a ready leader', async () => {
    for (const [id, url] of Object.entries(urls)) {
      const s = await statusOf(url);
      if (s?.['role'] === 'leader' && s['ready'] === true) leader = id;
    }
    return leader !== '';
  }, 20_000);
  return leader;
}

const code = (a: HttpAnswer): string | undefined => a.body.error?.code;

describe('paxos-kv: nodes in this process', () => {
  let c: PaxosTestCluster;
  let leader = '';
  let follower = '';
  const url = (id: string): string => c.urls[id] as string;

  beforeAll(async () => {
    c = await startPaxosCluster(3);
    leader = await leaderOf(c.urls);
    follower = Object.keys(c.urls).find((id) => id !== leader) as string;
  });
  afterAll(async () => {
    await c?.close();
  });

  it('serves the Raft KV\'s client: get, put, delete, cas, incr, list, with sessions and failover', async () => {
    // the follower first: its writes and linearizable reads go to the leader
    const client = new SynodClient({ endpoints: [url(follower), url(leader)] });
    try {
      const put = await client.put('greeting', 'hello');
      expect(put.revision).toBeGreaterThan(0);
      expect(await client.get('greeting')).toMatchObject({ value: 'hello', version: 1 });
      expect(await client.cas('greeting', 'hello', 'bye')).toMatchObject({ swapped: true });
      expect(await client.cas('greeting', 'hello', 'again')).toMatchObject({ swapped: false });
      expect(await client.casVersion('greeting', 2, 'v3')).toMatchObject({ swapped: true });
      expect(await client.incr('counter', 5)).toMatchObject({ value: 5 });
      expect(await client.incr('counter')).toMatchObject({ value: 6 });
      await client.put('list/a', 1);
      await client.put('list/b', { nested: [1, 2] });
      const range = await client.range({ prefix: 'list/' });
      expect(range.items.map((i) => [i.key, i.value])).toEqual([['list/a', 1], ['list/b', { nested: [1, 2] }]]);
      expect(await client.delete('list/a')).toMatchObject({ deleted: true });
      expect(await client.get('list/a')).toMatchObject({ value: null });
      // what this service does not have is refused at once (a 4xx: the client does not retry)
      const started = performance.now();
      const err = await client.txn({ compare: [], success: [{ op: 'put', key: 'x', value: 1 }] }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SynodError);
      expect((err as SynodError).code).toBe('NOT_SUPPORTED');
      expect(performance.now() - started).toBeLessThan(2000);
    } finally {
      client.close();
    }
    // a write through the follower is answered by the leader
    const through = await http('PUT', `${url(follower)}/v1/kv/fwd`, { value: 1, clientId: 'fwd-session', seq: 1 });
    expect(through.status).toBe(200);
    expect(through.body['node']).toBe(leader);
    // the same session and seq again: applied once, answered again (a retry after a lost answer)
    const again = await http('PUT', `${url(follower)}/v1/kv/fwd`, { value: 1, clientId: 'fwd-session', seq: 1 });
    expect(again.status).toBe(200);
    expect((again.body.result as Record<string, JsonValue>)['revision']).toBe((through.body.result as Record<string, JsonValue>)['revision']);
    // a serializable read is this node's own
    await waitUntil('the follower to apply it', async () => (await http('GET', `${url(follower)}/v1/kv/fwd?consistency=serializable`)).body.result?.['value'] === 1);
    expect((await http('GET', `${url(follower)}/v1/kv/fwd?consistency=serializable`)).body['node']).toBe(follower);
  });

  it('reports role, ballots and slots in /v1/status, readiness in /readyz, and its gauges in /metrics', async () => {
    const s = (await statusOf(url(leader))) as Record<string, JsonValue>;
    expect(s).toMatchObject({ id: leader, service: 'paxos-kv', role: 'leader', leader, ready: true, voters: ['1', '2', '3'], quorums: { phase1: 2, phase2: 2 } });
    expect(s['ballot']).toMatch(new RegExp(`^\\d+\\.${leader}$`));
    expect(s['promised']).toBe(s['ballot']);
    expect(s['nextSlot']).toBeGreaterThan(s['known'] as number);
    const f = (await statusOf(url(follower))) as Record<string, JsonValue>;
    expect(f).toMatchObject({ role: 'follower', leader, ballot: null, promised: s['ballot'] });
    await waitUntil('every node ready', async () => {
      for (const id of Object.keys(c.urls)) if ((await http('GET', `${url(id)}/readyz`)).status !== 200) return false;
      return true;
    });
    expect((await http('GET', `${url(follower)}/readyz`)).body).toMatchObject({ ready: true, service: 'paxos-kv', checks: { storage: true, identity: true, leader: true, caughtUp: true } });
    const metrics = await new Promise<string>((resolve, reject) => {
      void fetch(`${url(leader)}/metrics`).then((r) => r.text()).then(resolve, reject);
    });
    expect(metrics).toMatch(/synod_paxos_is_leader\{node="\d"\} 1/);
    expect(metrics).toMatch(/synod_paxos_known_slot\{node="\d"\} [1-9]/);
    expect(metrics).toMatch(/synod_wal_appends_total/);
  });

  it('refuses malformed HTTP bodies and requests with a clear 4xx and keeps serving', async () => {
    const deep = (n: number): JsonValue => {
      let v: JsonValue = 1;
      for (let i = 0; i < n; i++) v = [v];
      return v;
    };
    const bad: [string, string, unknown, number, string][] = [
      ['PUT', '/v1/kv/a', '{"value":', 400, 'BAD_JSON'],
      ['PUT', '/v1/kv/a', '[1,2]', 400, 'BAD_REQUEST'],
      ['PUT', '/v1/kv/a', '"text"', 400, 'BAD_REQUEST'],
      ['PUT', '/v1/kv/a', '{}', 400, 'BAD_REQUEST'],
      ['PUT', '/v1/kv/a', JSON.stringify({ value: 1, lease: 7 }), 400, 'NOT_SUPPORTED'],
      ['PUT', '/v1/kv/a', JSON.stringify({ value: deep(PAXOS_KV_MAX_VALUE_DEPTH + 1) }), 400, 'BAD_VALUE'],
      ['PUT', '/v1/kv/a', JSON.stringify({ value: deep(80) }), 400, 'BAD_VALUE'],
      ['PUT', '/v1/kv/a', `{"value":${'['.repeat(5000)}${']'.repeat(5000)}}`, 400, 'BAD_JSON'],
      ['PUT', '/v1/kv/a', JSON.stringify({ value: 'x'.repeat(600 * 1024) }), 400, 'BAD_REQUEST'],
      ['PUT', '/v1/kv/a', JSON.stringify({ value: 1, clientId: 'c'.repeat(200), seq: 1 }), 400, 'BAD_SESSION'],
      ['PUT', '/v1/kv/a', JSON.stringify({ value: 1, clientId: 'c', seq: -1 }), 400, 'BAD_SESSION'],
      ['PUT', '/v1/kv/a', JSON.stringify({ value: 1, clientId: 7, seq: 1 }), 400, 'BAD_SESSION'],
      ['PUT', `/v1/kv/${'k'.repeat(5000)}`, JSON.stringify({ value: 1 }), 400, 'BAD_KEY'],
      ['PUT', '/v1/kv/_synod%2Fmembers%2F1', JSON.stringify({ value: 1 }), 400, 'RESERVED_KEY'],
      ['POST', '/v1/kv/a/cas', JSON.stringify({ from: 1 }), 400, 'BAD_REQUEST'],
      ['POST', '/v1/kv/a/cas', JSON.stringify({ version: -2, value: 1 }), 400, 'BAD_REQUEST'],
      ['POST', '/v1/kv/a/cas', JSON.stringify({ from: deep(60), to: 1 }), 400, 'BAD_VALUE'],
      ['POST', '/v1/kv/a/incr', JSON.stringify({ by: 'one' }), 400, 'BAD_REQUEST'],
      ['DELETE', '/v1/kv/a', '[]', 400, 'BAD_REQUEST'],
      ['GET', '/v1/kv/a?consistency=strong', undefined, 400, 'BAD_REQUEST'],
      ['GET', '/v1/kv/a?revision=-1', undefined, 400, 'BAD_REVISION'],
      ['GET', '/v1/kv/a?bogus=1', undefined, 400, 'UNKNOWN_PARAMETER'],
      ['GET', '/v1/kv?limit=0', undefined, 400, 'BAD_REQUEST'],
      ['GET', '/v1/kv/%ff', undefined, 400, 'BAD_PATH'],
      ['POST', '/v1/txn', '{}', 404, 'NOT_SUPPORTED'],
      ['GET', '/v1/watch?prefix=a', undefined, 404, 'NOT_SUPPORTED'],
      ['POST', '/v1/leases', JSON.stringify({ ttlMs: 5000 }), 404, 'NOT_SUPPORTED'],
      ['DELETE', '/v1/kv?prefix=a', undefined, 404, 'NOT_SUPPORTED'],
      ['POST', '/v1/members', '{}', 404, 'NOT_SUPPORTED'],
      ['PATCH', '/v1/kv/a', '{}', 405, 'METHOD_NOT_ALLOWED'],
    ];
    for (const at of [leader, follower]) {
      for (const [method, path, body, status, errorCode] of bad) {
        const answer = await rawHttp(method, `${url(at)}${path}`, body as string | undefined);
        expect({ method, path: path.slice(0, 60), status: answer.status, code: code(answer) }).toEqual({ method, path: path.slice(0, 60), status, code: errorCode });
      }
    }
    // the deepest value it takes goes through, and every node still serves
    expect((await http('PUT', `${url(follower)}/v1/kv/deepest`, { value: deep(PAXOS_KV_MAX_VALUE_DEPTH) })).status).toBe(200);
    for (const id of Object.keys(c.urls)) expect((await http('PUT', `${url(id)}/v1/kv/after-hostile`, { value: id })).status).toBe(200);
    expect((await http('GET', `${url(follower)}/v1/kv/after-hostile`)).body.result?.['value']).toBe(Object.keys(c.urls).at(-1));
  });

  it('a follower snapshots on request, restarts from its log and catches up on what it missed', async () => {
    for (let i = 0; i < 20; i++) expect((await http('PUT', `${url(leader)}/v1/kv/r${i}`, { value: i })).status).toBe(200);
    await waitUntil('the follower to apply them', async () => (await http('GET', `${url(follower)}/v1/kv/r19?consistency=serializable`)).body.result?.['value'] === 19);
    const snap = await http('POST', `${url(follower)}/v1/snapshot`);
    expect(snap.status).toBe(200);
    expect(snap.body['snapshotSlot']).toBeGreaterThanOrEqual(20);
    await c.stop(follower);
    for (let i = 20; i < 30; i++) expect((await http('PUT', `${url(leader)}/v1/kv/r${i}`, { value: i })).status).toBe(200);
    await c.start(follower);
    await waitUntil('the restarted follower to catch up', async () => (await http('GET', `${url(follower)}/v1/kv/r29?consistency=serializable`).catch(() => undefined))?.body.result?.['value'] === 29);
    const s = (await statusOf(url(follower))) as Record<string, JsonValue>;
    expect(s['snapshotSlot']).toBeGreaterThanOrEqual(20);
    expect((await http('GET', `${url(follower)}/v1/kv/r0?consistency=serializable`)).body.result?.['value']).toBe(0);
    // and a linearizable read through it
    expect((await http('GET', `${url(follower)}/v1/kv/r25`)).body.result?.['value']).toBe(25);
  });
});

describe('paxos-kv: hostile frames from an authenticated peer', () => {
  let c: PaxosTestCluster;
  let fake: Transport<{ type: string }> | undefined;
  afterAll(async () => {
    await fake?.close({ deadlineMs: 0 });
    await c?.close();
  });

  it('are dropped by the core with a note (lastBadMessage), and the node keeps serving', async () => {
    // members 1 and 2 run the service (a majority of 3); member 3 is a raw transport that sends anything
    c = await startPaxosCluster(3, ['1', '2']);
    const leader = await leaderOf(c.urls);
    const victim = leader === '1' ? '2' : '1';
    const parse = (a: string) => ({ host: a.slice(0, a.lastIndexOf(':')), port: Number(a.slice(a.lastIndexOf(':') + 1)) });
    const m = c.members;
    fake = await Transport.start<{ type: string }>({
      selfId: '3',
      listen: parse((m['3'] as MemberAddress).peer),
      peers: { '1': parse((m['1'] as MemberAddress).peer), '2': parse((m['2'] as MemberAddress).peer) },
      secret: SECRET,
      clusterId: c.clusterId,
      incarnation: 'hostile-peer',
    });
    const wide = (n: number): unknown[] => Array.from({ length: n }, (_, i) => i);
    let deep: unknown = 1;
    for (let i = 0; i < 500; i++) deep = [deep];
    const frames: Record<string, unknown>[] = [
      { type: 'prepare' },
      { type: 'prepare', ballot: { round: 1.5, node: '3' }, fromSlot: 0 },
      { type: 'prepare', ballot: { round: -1, node: '3' }, fromSlot: 0 },
      { type: 'prepare', ballot: { round: 1e300, node: '3' }, fromSlot: 0 },
      { type: 'prepare', ballot: { round: 9, node: '1' }, fromSlot: 0 }, // another proposer's ballot
      { type: 'prepare', ballot: { round: 9, node: '3' }, fromSlot: -4 },
      { type: 'accept', ballot: { round: 1, node: '3' }, entries: 'all of them', decided: [] },
      { type: 'accept', ballot: { round: 1, node: '3' }, entries: [{ slot: 0, value: { kind: 'noop' } }], decided: [] },
      { type: 'accept', ballot: { round: 1, node: '3' }, entries: [{ slot: 1, value: { kind: 'command', clientId: 'x', seq: 1, op: deep } }], decided: [] },
      { type: 'accept', ballot: { round: 1, node: '3' }, entries: [{ slot: 1, value: { kind: 'evil' } }], decided: [] },
      { type: 'accept', ballot: { round: 1, node: '3' }, entries: [], decided: [{ from: 5, to: 2, ballot: { round: 1, node: '3' } }] },
      { type: 'accept', ballot: { round: 1, node: '3' }, entries: [], decided: wide(5000) },
      { type: 'promise', ballot: { round: 1, node: '1' }, snapshotSlot: 'zero', known: 0, accepted: [] },
      { type: 'accepted', ballot: { round: 1, node: '1' }, slots: [1], known: 0, snapshotSlot: 0, need: wide(2000) },
      { type: 'heartbeat', ballot: { round: 1, node: '3' }, round: 'r', decided: [] },
      { type: 'heartbeatResp', ballot: null, round: 1, known: 0, snapshotSlot: 0, need: [] },
      { type: 'reject', ballot: { round: 1, node: '1' }, promised: 'everything' },
      { type: 'values', entries: [{ slot: 1, ballot: { round: 0, node: '' }, value: { kind: 'noop' } }] },
      { type: 'values', entries: { length: 3 } },
      { type: 'snapshot', slot: 0, data: null },
      { type: 'snapshot', slot: 1e6, data: { machine: 'not a store', sessions: [] } },
      { type: 'snapshot', slot: 1e6, data: { machine: null } },
      { type: 'snapshot', slot: 1e6, data: Buffer.from('binary') },
      { type: 'no-such-type', ballot: { round: 1, node: '3' } },
      { type: '' },
    ];
    await waitUntil('the fake peer to connect', async () => fake?.metrics().peers[victim]?.connected === true);
    const before = ((await statusOf(c.urls[victim] as string)) as Record<string, JsonValue>)['badMessages'] as number;
    for (const f of frames) fake.send(victim, f as { type: string });
    await waitUntil('the core to note them', async () => (((await statusOf(c.urls[victim] as string)) as Record<string, JsonValue>)['badMessages'] as number) >= before + frames.length);
    const s = (await statusOf(c.urls[victim] as string)) as Record<string, JsonValue>;
    expect(s['lastBadMessage']).toMatch(/^3: /);
    // the node still follows its leader and serves, and its promise did not move for any of it
    expect(s).toMatchObject({ role: 'follower', leader });
    expect(s['promised']).toMatch(new RegExp(`\\.${leader}$`));
    expect((await http('PUT', `${c.urls[victim] as string}/v1/kv/still-serving`, { value: 1 })).status).toBe(200);
    expect((await http('GET', `${c.urls[victim] as string}/v1/kv/still-serving`)).body.result?.['value']).toBe(1);
    expect((await http('GET', `${c.urls[victim] as string}/readyz`)).status).toBe(200);
  });
});

/** An HTTP request with a raw body (http() always sends JSON). */
function rawHttp(method: string, url: string, body: string | undefined): Promise<HttpAnswer> {
  return fetch(url, { method, ...(body === undefined ? {} : { body, headers: { 'content-type': 'application/json' } }) }).then(async (r) => ({ status: r.status, body: (await r.json()) as HttpAnswer['body'] }));
}

describe('paxos-kv: options and membership it refuses', () => {
  it('refuses quorums that need not intersect, bad timing and --join with BAD_SERVICE_OPTION, leaving nothing open', async () => {
    const root = mkdtempSync(join(tmpdir(), 'synod-paxkv-opts-'));
    try {
      const members: Record<string, MemberAddress> = {};
      for (let i = 1; i <= 3; i++) members[String(i)] = { peer: `127.0.0.1:${await freePort()}`, client: `http://127.0.0.1:${await freePort()}` };
      const base: NodeConfig = { id: '1', dataDir: join(root, '1'), members, secret: SECRET, logLevel: 'silent' };
      const refused = async (config: NodeConfig): Promise<string> => {
        const err = await startServiceNode(paxosKvService, config).then(async (n) => {
          await n.close();
          return undefined;
        }, (e: unknown) => e as Error & { code?: string });
        expect(err?.code).toBe('BAD_SERVICE_OPTION');
        return (err as Error).message;
      };
      expect(await refused({ ...base, options: { paxos: { quorums: { phase1: 1, phase2: 2 } } } })).toMatch(/paxos-kv: .*quorum/i);
      expect(await refused({ ...base, options: { paxos: { electionTimeoutMinTicks: 50, electionTimeoutMaxTicks: 40 } } })).toMatch(/electionTimeoutMaxTicks/);
      expect(await refused({ ...base, options: { paxos: 'fast' } })).toMatch(/"paxos" must be an object/);
      expect(await refused({ ...base, options: { autoCompactRetainRevisions: -1 } })).toMatch(/autoCompactRetainRevisions/);
      expect(await refused({ ...base, join: true })).toMatch(/fixed membership/);
      // every refusal closed what it opened: the data directory and the ports are free for a node that starts
      const node = await startServiceNode(paxosKvService, { ...base, options: { paxos: { quorums: { phase1: 3, phase2: 1 } } } });
      expect((await http('GET', `${(members['1'] as MemberAddress).client}/v1/status`)).body).toMatchObject({ service: 'paxos-kv', quorums: { phase1: 3, phase2: 1 } });
      await node.close();
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
