// The control server's proxies to real node processes, for the dashboard's Leases and Watch
// panels: the lease routes answered by a node, and a node's watch stream passed through as it
// arrives (a put through /api/kv shows in it; the serving node killed cuts it, and a resume from
// the next revision on another node misses nothing), with the query checked first and the number
// of streams bounded.
import { request, type IncomingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, leaderAmong, startTestCluster } from '../server/test/harness.js';
import { MAX_PROXIED_WATCHES } from './watch-proxy.js';

type TestCluster = Awaited<ReturnType<typeof startTestCluster>>;
let cluster: TestCluster;

beforeAll(async () => {
  cluster = await startTestCluster(3);
}, 60_000);

afterAll(async () => {
  await cluster?.cleanup();
});

interface Line {
  readonly type: string;
  readonly revision?: number;
  readonly startRevision?: number;
  readonly events?: { type: string; kv: { key: string; value: unknown } }[];
}

/** A GET /api/watch read line by line as it arrives. */
interface OpenWatch {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** The next line of the stream (undefined once it is over). */
  next(timeoutMs?: number): Promise<Line | undefined>;
  /** How the stream finished: 'end' (ended by the node) or 'cut' (broken off). */
  readonly finished: Promise<'end' | 'cut'>;
  close(): void;
}

function openWatch(query: string, method = 'GET'): Promise<OpenWatch> {
  return new Promise((resolve, reject) => {
    const req = request(`${cluster.controlUrl}/api/watch${query}`, { method }, (res) => {
      const lines: Line[] = [];
      const waiting: ((l: Line | undefined) => void)[] = [];
      let buffered = '';
      let over = false;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffered += chunk;
        for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
          const line = JSON.parse(buffered.slice(0, nl)) as Line;
          buffered = buffered.slice(nl + 1);
          const w = waiting.shift();
          if (w !== undefined) w(line);
          else lines.push(line);
        }
      });
      const finished = new Promise<'end' | 'cut'>((done) => {
        res.on('error', () => undefined);
        res.on('close', () => {
          over = true;
          for (const w of waiting.splice(0)) w(undefined);
          done(res.complete ? 'end' : 'cut');
        });
      });
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        finished,
        close: () => req.destroy(),
        next: (timeoutMs = 10_000) => {
          const l = lines.shift();
          if (l !== undefined || over) return Promise.resolve(l);
          return new Promise((ok, fail) => {
            const timer = setTimeout(() => fail(new Error('no line in time')), timeoutMs);
            waiting.push((line) => {
              clearTimeout(timer);
              ok(line);
            });
          });
        },
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** The next events line of a stream, skipping progress lines. */
async function nextEvents(w: OpenWatch): Promise<Line> {
  for (;;) {
    const line = await w.next();
    if (line === undefined) throw new Error('the stream ended');
    if (line.type === 'events') return line;
  }
}

async function body(w: OpenWatch): Promise<{ error?: { code?: string; message?: string } }> {
  return (await w.next()) as unknown as { error?: { code?: string } };
}

describe('the control server: lease and watch proxies', () => {
  it('checks the watch query, bounds the streams, and forwards the lease routes', async () => {
    const unknown = await openWatch('?prefix=a&frobnicate=1');
    expect(unknown.status).toBe(400);
    expect((await body(unknown)).error?.code).toBe('UNKNOWN_PARAMETER');
    const long = await openWatch(`?prefix=${'k'.repeat(5000)}`);
    expect(long.status).toBe(400);
    expect((await body(long)).error?.code).toBe('BAD_QUERY');
    expect((await openWatch('?prefix=a', 'POST')).status).toBe(405);
    // the node's own check comes through unchanged
    const reserved = await openWatch('?prefix=_synod/');
    expect(reserved.status).toBe(400);
    expect((await body(reserved)).error?.code).toBe('RESERVED_KEY');

    // at most MAX_PROXIED_WATCHES at once; a closed one frees its place
    const many = await Promise.all(Array.from({ length: MAX_PROXIED_WATCHES }, () => openWatch('?prefix=cap/')));
    expect(many.map((w) => w.status)).toEqual(many.map(() => 200));
    const refused = await openWatch('?prefix=cap/');
    expect(refused.status).toBe(503);
    expect((await body(refused)).error?.message).toMatch(/at most 16 watch streams/);
    for (const w of many) w.close();
    await Promise.all(many.map((w) => w.finished));

    // a lease with a key, granted on a node: listed and described through the supervisor
    const url = Object.values(cluster.endpoints)[0] as string;
    // a node may answer 503 for a moment on a loaded machine (a leader change): that refusal is safe to send again
    let granted = await http('POST', `${url}/v1/leases`, { ttlMs: 60_000 });
    for (let i = 0; i < 20 && granted.status === 503; i++) {
      await new Promise((r) => setTimeout(r, 500));
      granted = await http('POST', `${url}/v1/leases`, { ttlMs: 60_000 });
    }
    expect(granted.status, JSON.stringify(granted.body)).toBe(200);
    const id = (granted.body.result as { id: number }).id;
    expect((await http('PUT', `${url}/v1/kv/svc%2Fone`, { value: 'up', lease: id })).status).toBe(200);
    const list = await http('GET', `${cluster.controlUrl}/api/leases?limit=10`);
    expect(list.status).toBe(200);
    expect(list.body.result?.['leases']).toEqual([{ id, ttlMs: 60_000 }]);
    expect(typeof list.body['via']).toBe('string');
    const one = await http('GET', `${cluster.controlUrl}/api/leases/${id}?keys=true`);
    expect(one.status).toBe(200);
    expect(one.body.result).toMatchObject({ id, ttlMs: 60_000, keys: ['svc/one'] });
    expect(one.body.result?.['remainingMs']).toBeGreaterThan(50_000);
    expect((await http('GET', `${cluster.controlUrl}/api/leases?frobnicate=1`)).status).toBe(400);
    expect((await http('GET', `${cluster.controlUrl}/api/leases/x`)).body.error?.code).toBe('BAD_LEASE_ID');
  });

  it('passes a watch stream through as it arrives; a killed node cuts it, and a resume misses nothing', async () => {
    const w = await openWatch('?prefix=w%2F&progressMs=500');
    expect(w.status).toBe(200);
    expect(w.headers['content-type']).toBe('application/x-ndjson');
    const serving = w.headers['x-synod-node'] as string;
    expect(await w.next()).toMatchObject({ type: 'created' });
    expect((await http('POST', `${cluster.controlUrl}/api/kv/w%2Fa`, { value: 1 })).status).toBe(200);
    const first = await nextEvents(w);
    expect(first.events?.map((e) => [e.type, e.kv.key, e.kv.value])).toEqual([['put', 'w/a', 1]]);

    // kill the node serving it: the stream is cut, not ended (the page tells the two apart)
    expect((await http('POST', `${cluster.controlUrl}/api/nodes/${serving}/kill`, {})).status).toBe(200);
    expect(await w.finished).toBe('cut');
    await leaderAmong(cluster.endpoints, [serving]);
    expect((await http('POST', `${cluster.controlUrl}/api/kv/w%2Fb`, { value: 2 }, 10_000)).status).toBe(200);

    // resumed from the next revision: another node, the put made meanwhile, and nothing twice
    const again = await openWatch(`?prefix=w%2F&startRevision=${(first.revision as number) + 1}`);
    expect(again.status).toBe(200);
    expect(again.headers['x-synod-node']).not.toBe(serving);
    expect(await again.next()).toMatchObject({ type: 'created', startRevision: (first.revision as number) + 1 });
    const second = await nextEvents(again);
    expect(second.events?.map((e) => [e.type, e.kv.key, e.kv.value])).toEqual([['put', 'w/b', 2]]);
    again.close();
    expect(await again.finished).toBe('cut');
  });
});
