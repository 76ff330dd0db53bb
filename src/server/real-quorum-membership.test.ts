// Membership of the leaderless store as real processes: three nodes hold 60 keys while clients keep
// writing; a fourth node is started with --join and added with ring-join (it is killed with SIGKILL
// mid-move and restarted), then the first node leaves with `synod dkv leave --wait` while another is
// SIGSTOPped. Anti-entropy is off and most keys are written only before the moves, so only the
// streaming hand-off can carry them to their new homes. The durability and convergence checkers then find every acknowledged write on all
// its home replicas in the final ring, and the node that left holds nothing.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkReplicas, type DkvOp, type DkvReplicaState } from '../check/dkv/index.js';
import { startSynod } from '../cli/test/cli-cluster.js';
import { decodeContext, type KeyState } from '../quorum/index.js';
import { http, startTestCluster, synodCommand, trackChild, waitUntil } from './test/harness.js';

type TestCluster = Awaited<ReturnType<typeof startTestCluster>>;
let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.cleanup();
  cluster = undefined;
});

const KEYS = 60;
/** After one write of every key, the clients keep writing only these: the rest move by hand-off alone. */
const HOT_KEYS = 10;
// anti-entropy off: it would also repair a new home that the hand-off missed, and this test is about the hand-off
const OPTIONS = { requestTimeoutMs: 2_500, pingIntervalMs: 100, suspectAfterMs: 600, hintRetryIntervalMs: 200, antiEntropyIntervalMs: 0, partitionCount: 16 };

interface RingAnswer {
  readonly epoch: number;
  readonly members: string[];
  readonly next?: string[];
  readonly handoff: { readonly strayKeys: number };
  readonly key?: { readonly homeReplicas: string[] };
}

async function ringAt(url: string, key?: string): Promise<RingAnswer | undefined> {
  const answer = await http('GET', `${url}/v1/ring${key === undefined ? '' : `?bucket=b&key=${key}`}`).catch(() => undefined);
  return answer?.status === 200 ? (answer.body as unknown as RingAnswer) : undefined;
}

/** Clients writing every key in turn through the nodes given, read-then-write with the read's context, recording the history. */
function writeLoad(urls: () => string[], ops: DkvOp[], stop: () => boolean): Promise<void>[] {
  return ['c0', 'c1'].map(async (name, c) => {
    for (let n = 0; !stop(); n++) {
      const key = `k${n < KEYS / 2 ? n * 2 + c : (n * 2 + c) % HOT_KEYS}`;
      const list = urls();
      const url = list[n % list.length] as string;
      const readStart = Date.now();
      const read = await http('GET', `${url}/v1/dkv/b/${key}`, undefined, 5_000).catch(() => undefined);
      const readOk = read?.status === 200;
      ops.push({ kind: 'read', client: name, key: `b/${key}`, startMs: readStart, endMs: Date.now(), outcome: read === undefined ? 'unknown' : readOk ? 'ok' : 'fail', values: readOk ? (read.body['values'] as string[]) : [], context: readOk ? decodeContext(read.body['context']) : null });
      const context = readOk ? (read.body['context'] as string) : '';
      const value = `${name}-${n}`;
      const start = Date.now();
      const write = await http('PUT', `${url}/v1/dkv/b/${key}`, { value, context, w: 2 }, 5_000).catch(() => undefined);
      const ok = write?.status === 200;
      ops.push({ kind: 'write', client: name, key: `b/${key}`, value, contextIn: decodeContext(context), startMs: start, endMs: Date.now(), outcome: write === undefined ? 'unknown' : ok ? 'ok' : 'fail', dot: ok ? (write.body['dot'] as { actor: string; counter: number }) : null, contextOut: ok ? decodeContext(write.body['context']) : null, ...(ok ? { valuesOut: write.body['values'] as string[] } : {}) });
    }
  });
}

describe('real processes: leaderless store membership', () => {
  it('a node joins and another leaves under writes, kill -9 and SIGSTOP, and no acknowledged write is lost', async () => {
    cluster = await startTestCluster(3, 'quorum', OPTIONS);
    const c = cluster;
    const endpoints: Record<string, string> = { ...c.endpoints };
    const url2 = endpoints['2'] as string;
    const ops: DkvOp[] = [];
    let stop = false;
    // the members serving clients: the node that will leave is dropped from the list before it goes
    let serving = ['1', '2', '3'];
    const load = writeLoad(() => serving.map((id) => endpoints[id] as string), ops, () => stop);
    await waitUntil('every key written once', async () => ops.filter((o) => o.kind === 'write' && o.outcome === 'ok').length >= KEYS, 60_000);

    // a fourth node: certificates from the cluster's CA, started outside the ring with --join
    const base = Number(new URL(url2).port) + 50;
    const peer = `127.0.0.1:${base + 1}`;
    const clientAddr = `127.0.0.1:${base + 2}`;
    const clientUrl = `${new URL(url2).protocol}//${clientAddr}`;
    endpoints['4'] = clientUrl;
    const certs = trackChild(spawn(process.execPath, [...synodCommand, 'certs', 'create', '--dir', join(c.dataDir, 'tls'), '--nodes', '4'], { stdio: 'ignore' }));
    expect(await new Promise((r) => certs.on('exit', r))).toBe(0);
    const startJoiner = (): ReturnType<typeof spawn> =>
      trackChild(spawn(process.execPath, [...synodCommand, 'node', '--service', 'quorum', '--id', '4', '--data-dir', join(c.dataDir, '4'), '--config', join(c.dataDir, 'cluster.json'), '--join', '--peer-addr', peer, '--client-addr', clientAddr, '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'pipe'] }));
    let joiner = startJoiner();
    try {
      await waitUntil('the joiner to listen', async () => (await http('GET', `${clientUrl}/v1/status`).catch(() => undefined))?.status === 200, 30_000);
      // through a member that is not the claimant (node 1): it passes the change on
      const joined = await http('POST', `${url2}/v1/ring/join`, { node: '4', peer, client: clientUrl }, 10_000);
      expect(joined.status, JSON.stringify(joined.body)).toBe(200);
      expect(joined.body).toMatchObject({ epoch: 1, next: ['1', '2', '3', '4'] });
      expect((await http('POST', `${url2}/v1/ring/join`, { node: '5' }, 10_000)).body.error?.code).toBe('QUORUM_RING_CHANGING');
      // the receiving node dies mid-move and comes back: the streams resume
      joiner.kill('SIGKILL');
      await new Promise((r) => setTimeout(r, 800));
      joiner = startJoiner();
      await waitUntil('the join to commit on every node', async () => {
        for (const url of Object.values(endpoints)) {
          const ring = await ringAt(url);
          if (ring === undefined || ring.epoch !== 2 || ring.next !== undefined) return false;
        }
        return true;
      }, 60_000);
      serving = ['2', '3', '4'];

      // node 1 leaves (the claimant itself) with the CLI, waiting; node 3 is paused meanwhile
      const env = { SYNOD_ENDPOINTS: url2, SYNOD_CACERT: join(c.dataDir, 'tls', 'ca.crt') };
      const leaving = startSynod(['dkv', 'leave', '1', '--wait', '--timeout', '60'], { env }).done;
      await new Promise((r) => setTimeout(r, 300));
      c.kill('3', 'SIGSTOP');
      await new Promise((r) => setTimeout(r, 1_500));
      c.kill('3', 'SIGCONT');
      const left = await leaving;
      expect(left.status, left.stderr).toBe(0);
      expect(left.stdout).toMatch(/committed: ring epoch 4, members 2, 3, 4/);
      stop = true;
      await Promise.all(load);

      // node 1 hands off what it held and keeps nothing
      await waitUntil('node 1 to hand everything off', async () => (await ringAt(endpoints['1'] as string))?.handoff.strayKeys === 0 && (await http('GET', `${endpoints['1'] as string}/v1/status`)).body['keys'] === 0, 30_000);
      const acked = ops.filter((o) => o.kind === 'write' && o.outcome === 'ok').length;
      expect(acked).toBeGreaterThan(2 * KEYS);
      let result: ReturnType<typeof checkReplicas> | undefined;
      await waitUntil('replicas converged on the final ring', async () => {
        const states: DkvReplicaState[] = [];
        const homes = new Map<string, string[]>();
        for (let k = 0; k < KEYS; k++) {
          const key = `k${k}`;
          homes.set(`b/${key}`, (await ringAt(url2, key))?.key?.homeReplicas ?? []);
          for (const id of ['2', '3', '4']) {
            const state = (await http('GET', `${endpoints[id] as string}/v1/dkv-local/b/${key}`)).body['state'] as KeyState | null;
            if (state !== null && state.kind === 'dvv') states.push({ node: id, key: `b/${key}`, vv: state.vv, siblings: state.siblings });
          }
        }
        result = checkReplicas({ ops, replicas: states, homesOf: (k) => homes.get(k) ?? [] });
        return result.counts.convergence === 0 && result.counts.durability === 0;
      }, 30_000).catch(() => undefined);
      expect(result?.violations ?? ['not checked']).toEqual([]);
      expect(result?.ackedWrites).toBe(acked);

      // hostile ring requests: a clear 4xx, and the node keeps serving
      for (const [path, body] of [
        ['/v1/ring/join', { node: '' }],
        ['/v1/ring/join', { node: 'x'.repeat(500) }],
        ['/v1/ring/join', { node: '9', peer: '127.0.0.1:1' }],
        ['/v1/ring/join', { node: '2' }],
        ['/v1/ring/leave', { node: 'nobody' }],
        ['/v1/ring/leave', { node: '2', force: 'yes' }],
        ['/v1/ring/leave', { node: '2' }],
        ['/v1/ring/leave', ['2']],
      ] as const) {
        const answer = await http('POST', `${url2}${path}`, body, 10_000);
        expect(answer.status, `${path} ${JSON.stringify(body)}`).toBeGreaterThanOrEqual(400);
        expect(answer.status, `${path} ${JSON.stringify(body)}`).toBeLessThan(500);
      }
      expect((await http('PUT', `${url2}/v1/dkv/b/after-hostile`, { value: 'fine' })).status).toBe(200);
    } finally {
      joiner.kill('SIGKILL');
    }
  }, 180_000);
});
