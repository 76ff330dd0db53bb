// The leaderless store's nodes write their op log on their own thread (WalOptions.writeInline),
// coordinator and replica alike: two nodes in this process take writes at W = 2, and each node's
// metrics show every log write of its group commits made inline, none through the I/O pool.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { startServiceNode, type MemberAddress, type RunningNode } from './node.js';
import { quorumService } from './quorum-service.js';
import { httpCall, waitUntil } from './test/harness.js';
import { freePort } from './test/in-process.js';

const dir = mkdtempSync(join(tmpdir(), 'synod-quorum-inline-'));
const running: RunningNode[] = [];
afterAll(async () => {
  await Promise.all(running.splice(0).map((n) => n.close()));
  rmSync(dir, { recursive: true, force: true });
});

const quiet = new Writable({ write: (_chunk, _enc, done) => done() });

/** One counter's value from a node's /metrics text (its only series, labels or none). */
function counterOf(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  expect(line, `${name} in /metrics`).toBeDefined();
  return Number((line as string).split(' ').at(-1));
}

describe('the leaderless store persists on its own thread', () => {
  it('makes every log write of coordinator and replica inline', async () => {
    const members: Record<string, MemberAddress> = {};
    for (const id of ['1', '2']) members[id] = { peer: `127.0.0.1:${await freePort()}`, client: `http://127.0.0.1:${await freePort()}` };
    for (const id of ['1', '2']) {
      running.push(await startServiceNode(quorumService, { id, dataDir: join(dir, id), members, secret: 'quorum-inline-test-secret-0123', logLevel: 'warn', logDestination: quiet, options: { replicas: 2, readQuorum: 2, writeQuorum: 2, partitionCount: 8, requestTimeoutMs: 2000 } }));
    }
    const url = members['1']?.client as string;
    await waitUntil('the store to take a write at W = 2', async () => (await httpCall('PUT', `${url}/v1/dkv/b/ready`, { body: { value: 'x' } })).status === 200, 20_000);
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => httpCall('PUT', `${url}/v1/dkv/b/k${i}`, { body: { value: `v${i}` } })));
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
    for (const id of ['1', '2']) {
      const text = (await httpCall('GET', `${members[id]?.client as string}/metrics`)).body as { text: string };
      const batches = counterOf(text.text, 'synod_wal_batches_total');
      const inline = counterOf(text.text, 'synod_wal_inline_writes_total');
      // node 2 only ever writes as a replica: its writes are inline too
      expect(batches, `node ${id} group commits`).toBeGreaterThan(0);
      expect(inline, `node ${id} inline writes`).toBeGreaterThanOrEqual(batches);
    }
  });
});
