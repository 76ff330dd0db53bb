// Test harness: a cluster of nodes inside the test process (startNode, real TCP and WAL, temp
// directories), for API tests that need no process to die. Faster than real processes, and the
// test can reach into each node (its transport's fault hook) directly.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { startNode } from '../kv-service.js';
import type { MemberAddress, NodeConfig, RunningNode } from '../node.js';

/** Ports handed out by this process: the OS may offer a port again once it is closed. */
const handedOut = new Set<number>();

/** A port that was free a moment ago (the OS picked it), never one this process handed out before. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const p = (server.address() as { port: number }).port;
        server.close(() => resolve(p));
      });
    });
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('no fresh free port after 100 attempts');
}

export interface InProcessCluster {
  readonly nodes: Map<string, RunningNode>;
  readonly urls: Record<string, string>;
  readonly dirs: Record<string, string>;
  /** Everything the nodes logged, as parsed JSON records. */
  readonly logs: Record<string, unknown>[];
  stop(id: string): Promise<void>;
  start(id: string, extra?: Partial<NodeConfig>): Promise<RunningNode>;
  close(): Promise<void>;
}

export async function startInProcessCluster(size: number, extra: Partial<NodeConfig> = {}): Promise<InProcessCluster> {
  const root = mkdtempSync(join(tmpdir(), 'synod-inproc-'));
  const members: Record<string, MemberAddress> = {};
  const dirs: Record<string, string> = {};
  for (let i = 1; i <= size; i++) {
    members[String(i)] = { peer: `127.0.0.1:${await freePort()}`, client: `http://127.0.0.1:${await freePort()}` };
    dirs[String(i)] = join(root, String(i));
  }
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const nodes = new Map<string, RunningNode>();
  const start = async (id: string, more: Partial<NodeConfig> = {}): Promise<RunningNode> => {
    const node = await startNode({ id, dataDir: dirs[id] as string, members, secret: 'in-process-test-secret', logLevel: 'info', logDestination: sink, faultInjection: true, ...extra, ...more });
    nodes.set(id, node);
    return node;
  };
  await Promise.all(Object.keys(members).map((id) => start(id)));
  return {
    nodes,
    urls: Object.fromEntries(Object.entries(members).map(([id, m]) => [id, m.client])),
    dirs,
    logs,
    start,
    stop: async (id) => {
      await nodes.get(id)?.close();
      nodes.delete(id);
    },
    close: async () => {
      await Promise.all([...nodes.values()].map((n) => n.close().catch(() => undefined)));
      nodes.clear();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
