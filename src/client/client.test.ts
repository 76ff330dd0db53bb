// The Node client (synod/client) against a running cluster (nodes in this process): typed calls,
// failover past a dead endpoint, writes retried after a lost answer applied once, concurrent
// writes on separate sessions, and watches that resume on another node without gap or duplicate.
import { createServer as createHttpServer } from 'node:http';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, waitUntil } from '../server/test/harness.js';
import { freePort, startInProcessCluster, type InProcessCluster } from '../server/test/in-process.js';
import { SynodClient, SynodError, type KvEvent, type WatchMessage, type WatchOptions } from './index.js';

let cluster: InProcessCluster;
let leader = '';
let client: SynodClient;
const url = (id: string): string => cluster.urls[id] as string;

beforeAll(async () => {
  cluster = await startInProcessCluster(3, { logLevel: 'warn', options: { watch: { progressMs: 300 } } });
  await waitUntil('a leader', async () => {
    for (const id of Object.keys(cluster.urls)) if ((await http('GET', `${url(id)}/v1/status`).catch(() => undefined))?.body['role'] === 'leader') leader = id;
    return leader !== '';
  }, 20_000);
  client = new SynodClient({ endpoints: Object.values(cluster.urls) });
});
afterAll(async () => {
  client?.close();
  await cluster?.close();
});

async function failure(call: Promise<unknown>): Promise<SynodError> {
  try {
    await call;
  } catch (err) {
    if (err instanceof SynodError) return err;
    throw err;
  }
  throw new Error('expected a SynodError');
}

describe('SynodClient calls', () => {
  it('puts, gets (now and at a past revision), lists, deletes, swaps, counts and runs txns', async () => {
    const p1 = await client.put('c/a', { n: 1 });
    const p2 = await client.put('c/a', { n: 2 });
    expect(p2).toMatchObject({ revision: p1.revision + 1, version: 2 });
    expect(await client.get('c/a')).toMatchObject({ value: { n: 2 }, version: 2, modRevision: p2.revision });
    expect((await client.get('c/a', { revision: p1.revision })).value).toEqual({ n: 1 });
    expect((await client.get('c/a', { serializable: true, revision: p1.revision })).value).toEqual({ n: 1 });
    expect((await client.get('c/missing')).value).toBe(null);
    await client.put('c/b b+', 'spaces and plus');
    expect((await client.get('c/b b+')).value).toBe('spaces and plus');
    const listed = await client.range({ prefix: 'c/' });
    expect(listed.items.map((i) => i.key)).toEqual(['c/a', 'c/b b+']);
    expect((await client.range({ prefix: 'c/', revision: p1.revision })).items.map((i) => i.value)).toEqual([{ n: 1 }]);
    expect(await client.cas('c/a', { n: 2 }, 'swapped')).toMatchObject({ swapped: true });
    expect(await client.casVersion('c/a', 1, 'not')).toMatchObject({ swapped: false });
    expect((await client.incr('c/n', 5)).value).toBe(5);
    expect((await failure(client.incr('c/a'))).code).toBe('NOT_A_NUMBER');
    const t = await client.txn({
      compare: [{ key: 'c/a', target: 'value', cmp: '=', value: 'swapped' }],
      success: [{ op: 'put', key: 'c/t', value: 1 }, { op: 'get', key: 'c/n' }],
      failure: [],
    });
    expect(t.succeeded).toBe(true);
    expect(t.results[1]).toMatchObject({ value: 5 });
    expect(await client.delete('c/t')).toMatchObject({ deleted: true });
    const gone = await client.deleteRange({ prefix: 'c/' }, { prevKv: true });
    expect(gone.deleted).toBe(3);
    expect(gone.prevKvs?.map((i) => i.key)).toEqual(['c/a', 'c/b b+', 'c/n']);
  });

  it('throws typed errors: 4xx at once (BAD_REQUEST, FUTURE_REVISION), COMPACTED with the compaction revision', async () => {
    const bad = await failure(client.txn({ success: [{ op: 'put', key: 'x', value: 1 }, { op: 'put', key: 'x', value: 2 }] }));
    expect([bad.code, bad.status]).toEqual(['BAD_REQUEST', 400]);
    const r1 = (await client.put('cmp/k', 1)).revision;
    const r2 = (await client.put('cmp/k', 2)).revision;
    expect((await failure(client.get('cmp/k', { revision: r2 + 1000 }))).code).toBe('FUTURE_REVISION');
    expect(await client.compact(r2)).toMatchObject({ compactRevision: r2 });
    const compacted = await failure(client.get('cmp/k', { revision: r1 }));
    expect([compacted.code, compacted.status, compacted.compactRevision]).toEqual(['COMPACTED', 410, r2]);
    const watch = client.watch({ key: 'cmp/k' }, { startRevision: r1 });
    const err = await failure((async () => {
      for await (const _ of watch) break;
    })());
    expect([err.code, err.compactRevision]).toEqual(['COMPACTED', r2]);
  });

  it('fails over past an endpoint that does not answer', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const c = new SynodClient({ endpoints: [dead, ...Object.values(cluster.urls)], retryForMs: 5000 });
    try {
      expect((await c.put('fo/k', 'v')).version).toBe(1);
      expect((await c.get('fo/k')).value).toBe('v');
    } finally {
      c.close();
    }
    const none = new SynodClient({ endpoints: [dead], retryForMs: 300 });
    try {
      expect((await failure(none.get('fo/k'))).code).toBe('UNREACHABLE');
    } finally {
      none.close();
    }
  });

  it('applies a write whose answer was lost once: the retry on another node carries the same session', async () => {
    // a proxy in front of the leader that loses the first answer (the write has been applied by then)
    let lost = 0;
    const target = new URL(url(leader));
    const proxy: Server = createServer((inbound: Socket) => {
      const outbound = connect(Number(target.port), target.hostname);
      inbound.pipe(outbound);
      outbound.on('data', (chunk: Buffer) => {
        if (lost === 0) {
          lost++;
          inbound.destroy();
          outbound.destroy();
          return;
        }
        inbound.write(chunk);
      });
      outbound.on('error', () => inbound.destroy());
      inbound.on('error', () => outbound.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
    const c = new SynodClient({ endpoints: [`http://127.0.0.1:${(proxy.address() as { port: number }).port}`, url(leader)] });
    try {
      const first = await c.incr('once/n');
      expect(lost).toBe(1);
      expect(first.value).toBe(1);
      expect((await c.get('once/n')).value).toBe(1);
    } finally {
      c.close();
      proxy.close();
    }
  });

  it('runs concurrent writes on separate sessions: none is refused as stale, none is lost', async () => {
    await Promise.all(Array.from({ length: 40 }, () => client.incr('conc/n')));
    expect((await client.get('conc/n')).value).toBe(40);
  });
});

describe('SynodClient leases', () => {
  it('grants, attaches, renews, lists and revokes; a revoke deletes the attached key; a gone lease is LEASE_NOT_FOUND', async () => {
    const grant = await client.leaseGrant(60_000);
    expect(grant.ttlMs).toBe(60_000);
    await client.putWithLease('lease/a', 'held', grant.id);
    const renewed = await client.leaseKeepAliveOnce(grant.id);
    expect(renewed.remainingMs).toBeGreaterThan(50_000);
    expect((await client.leaseTimeToLive(grant.id, { keys: true })).keys).toEqual(['lease/a']);
    expect((await client.leaseList()).leases.map((l) => l.id)).toContain(grant.id);
    await client.leaseRevoke(grant.id);
    expect((await client.get('lease/a')).value).toBeNull();
    await expect(client.leaseKeepAliveOnce(grant.id)).rejects.toMatchObject({ code: 'LEASE_NOT_FOUND' });
    await expect(client.putWithLease('lease/b', 1, grant.id)).rejects.toMatchObject({ code: 'LEASE_NOT_FOUND' });
  });

  it('keepAlive renews until stopped, and its signal aborts once the lease is revoked under it', async () => {
    const grant = await client.leaseGrant(3000);
    const keeper = client.keepAlive(grant.id, { everyMs: 200, grantedTtlMs: grant.ttlMs });
    try {
      await new Promise((r) => setTimeout(r, 4000));
      // kept alive past its TTL
      expect(keeper.signal.aborted).toBe(false);
      expect((await client.leaseTimeToLive(grant.id)).remainingMs).toBeGreaterThan(2000);
      await client.leaseRevoke(grant.id);
      await new Promise<void>((resolve) => (keeper.signal.aborted ? resolve() : keeper.signal.addEventListener('abort', () => resolve(), { once: true })));
      expect(keeper.signal.reason).toMatchObject({ code: 'LEASE_NOT_FOUND' });
    } finally {
      keeper.stop();
    }
  });
});

describe('SynodClient.watch', () => {
  it('yields one message per revision in order, replays from a start revision, and ends on close()', async () => {
    const r1 = (await client.put('wc/a', 1)).revision;
    const watch = client.watch({ prefix: 'wc/' }, { startRevision: r1, prevKv: true });
    const seen: WatchMessage[] = [];
    const done = (async () => {
      for await (const m of watch) {
        seen.push(m);
        if (m.type === 'events' && m.events.some((e) => e.kv.key === 'wc/end')) watch.close();
      }
    })();
    await client.txn({ success: [{ op: 'put', key: 'wc/a', value: 2 }, { op: 'put', key: 'wc/b', value: 3 }] });
    await client.put('wc/end', 0);
    await done;
    const events = seen.filter((m) => m.type === 'events');
    expect(events.map((m) => m.events.map((e) => `${e.type} ${e.kv.key}=${JSON.stringify(e.kv.value)}`))).toEqual([['put wc/a=1'], ['put wc/a=2', 'put wc/b=3'], ['put wc/end=0']]);
    expect(events[1]?.events[0]?.prevKv?.value).toBe(1);
    expect(watch.nextRevision).toBe((events[2]?.revision as number) + 1);
  });

  it('resumes on another node when the one it reads from stops: every revision once, in order', async () => {
    const follower = Object.keys(cluster.urls).find((id) => id !== leader) as string;
    const order = [follower, ...Object.keys(cluster.urls).filter((id) => id !== follower)];
    const watcher = new SynodClient({ endpoints: order.map(url) });
    const writer = new SynodClient({ endpoints: [url(leader)] });
    const start = (await writer.put('rs/start', 0)).revision;
    const reconnects: string[] = [];
    const watch = watcher.watch({ prefix: 'rs/' }, { startRevision: start, progressMs: 300, onReconnect: (info) => reconnects.push(`${info.from} -> ${info.to} at ${info.nextRevision}: ${info.reason}`) });
    const got: KvEvent[] = [];
    let last = 0;
    const reading = (async () => {
      for await (const m of watch) {
        if (m.type === 'events') got.push(...m.events);
        if (m.revision >= last && last > 0) break;
      }
    })();
    // writes before, during and after the node goes away
    const writes = (async () => {
      for (let i = 0; i < 60; i++) {
        if (i === 20) void cluster.stop(follower);
        if (i % 3 === 0) await writer.txn({ success: [{ op: 'put', key: `rs/${i % 5}`, value: i }, { op: 'put', key: 'rs/t', value: i }] });
        else if (i % 7 === 0) await writer.delete(`rs/${i % 5}`);
        else await writer.put(`rs/${i % 5}`, i);
      }
      last = (await writer.put('rs/last', 1)).revision;
    })();
    await writes;
    await reading;
    watcher.close();
    writer.close();
    await cluster.start(follower);
    // the committed history of the prefix, from a node that never stopped
    const reference: KvEvent[] = [];
    const full = client.watch({ prefix: 'rs/' }, { startRevision: start });
    for await (const m of full) {
      if (m.type === 'events') reference.push(...m.events);
      if (m.revision >= last) break;
    }
    const key = (e: KvEvent): string => `${e.revision} ${e.type} ${e.kv.key} ${JSON.stringify(e.kv.value)}`;
    expect(got.map(key)).toEqual(reference.map(key));
    expect(reference.length).toBeGreaterThan(60);
    expect(watch.nextRevision).toBe(last + 1);
    expect(reconnects.length, reconnects.join('; ')).toBeGreaterThanOrEqual(1);
    expect(reconnects[0]).toMatch(/SHUTDOWN|ended|connection lost/);
  });

  /** A TCP proxy in front of a node that counts the connections made through it and can cut the next one after its first bytes from the node. */
  async function countingProxy(to: string): Promise<{ url: string; connections: () => number; cutNext: () => void; close: () => void }> {
    const target = new URL(to);
    let connections = 0;
    let cut = false;
    const sockets = new Set<Socket>();
    const proxy: Server = createServer((inbound: Socket) => {
      connections++;
      const outbound = connect(Number(target.port), target.hostname);
      for (const s of [inbound, outbound]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
      }
      inbound.pipe(outbound);
      outbound.on('data', (chunk: Buffer) => {
        inbound.write(chunk);
        if (cut) {
          // mid-stream: the client has the head and the first line, then the connection is gone
          cut = false;
          inbound.end();
          outbound.destroy();
        }
      });
      outbound.on('end', () => inbound.end());
      outbound.on('error', () => inbound.destroy());
      inbound.on('error', () => outbound.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
    return {
      url: `http://127.0.0.1:${(proxy.address() as { port: number }).port}`,
      connections: () => connections,
      cutNext: () => (cut = true),
      close: () => {
        for (const s of sockets) s.destroy();
        proxy.close();
      },
    };
  }

  it('with once, finishes after the first events message (progress before it) on a connection the node ended, which the next once-watch reuses', async () => {
    const follower = Object.keys(cluster.urls).find((id) => id !== leader) as string;
    const proxy = await countingProxy(url(follower));
    const watcher = new SynodClient({ endpoints: [proxy.url] });
    const reconnects: string[] = [];
    const onReconnect = (info: { reason: string }): number => reconnects.push(info.reason);
    const collect = async (watch: AsyncIterable<WatchMessage>): Promise<WatchMessage[]> => {
      const got: WatchMessage[] = [];
      for await (const m of watch) got.push(m);
      return got;
    };
    try {
      const r1 = (await client.put('ow/k', 1)).revision;
      await client.put('ow/k', 2);
      // history of two revisions: only the first
      const replay = watcher.watch({ key: 'ow/k' }, { startRevision: r1, once: true, onReconnect });
      expect((await collect(replay)).map((m) => [m.type, m.revision])).toEqual([['events', r1]]);
      expect(replay.nextRevision).toBe(r1 + 1);
      // from now: progress messages while waiting, then the first change, and nothing after it
      const live = watcher.watch({ prefix: 'ow-live/' }, { once: true, progressMs: 100, onReconnect });
      const reading = collect(live);
      await new Promise((r) => setTimeout(r, 350));
      const r3 = (await client.put('ow-live/a', 3)).revision;
      await client.put('ow-live/b', 4);
      const got = await reading;
      expect(got.slice(0, -1).every((m) => m.type === 'progress')).toBe(true);
      expect(got.length).toBeGreaterThanOrEqual(2);
      expect(got[got.length - 1]).toMatchObject({ type: 'events', revision: r3, events: [{ type: 'put', kv: { key: 'ow-live/a', value: 3 } }] });
      for (let i = 0; i < 3; i++) expect((await collect(watcher.watch({ key: 'ow/k' }, { startRevision: r1, once: true, onReconnect }))).length).toBe(1);
      // five once-watches, one connection: each stream ended by the node left it for the next
      expect(proxy.connections()).toBe(1);
      expect(reconnects).toEqual([]);
    } finally {
      watcher.close();
      proxy.close();
    }
  });

  it('with once, resumes from where it was when the connection drops before any event, then finishes after the first', async () => {
    const follower = Object.keys(cluster.urls).find((id) => id !== leader) as string;
    const proxy = await countingProxy(url(follower));
    const watcher = new SynodClient({ endpoints: [proxy.url] });
    const reconnects: number[] = [];
    try {
      const from = (await client.put('od/start', 0)).revision + 1;
      proxy.cutNext();
      const watch = watcher.watch({ prefix: 'od/' }, { startRevision: from, once: true, progressMs: 100, onReconnect: (info) => reconnects.push(info.nextRevision) });
      const got: WatchMessage[] = [];
      const reading = (async () => {
        for await (const m of watch) got.push(m);
      })();
      await waitUntil('the cut and a new connection', async () => reconnects.length === 1 && proxy.connections() === 2, 5000);
      const r = (await client.put('od/a', 1)).revision;
      await client.put('od/b', 2);
      await reading;
      expect(reconnects).toEqual([from]);
      expect(got.filter((m) => m.type === 'events').map((m) => m.revision)).toEqual([r]);
      expect(got[got.length - 1]?.type).toBe('events');
      expect(watch.nextRevision).toBe(r + 1);
    } finally {
      watcher.close();
      proxy.close();
    }
  });

  it('with once against a node that does not know the parameter (400 UNKNOWN_PARAMETER), falls back to a plain watch and still finishes after the first events message', async () => {
    const asked: string[] = [];
    const old = createHttpServer((req, res) => {
      asked.push(req.url ?? '');
      if ((req.url ?? '').includes('once=')) {
        res.writeHead(400, { 'content-type': 'application/json' });
        return void res.end(JSON.stringify({ error: { code: 'UNKNOWN_PARAMETER', message: 'GET /v1/watch takes no query parameter "once" (it takes: key, end, prefix)' } }));
      }
      // an old node's watch: it goes on after the first events line
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.write('{"type":"created","node":"old","revision":9,"startRevision":10}\n');
      res.write('{"type":"events","revision":10,"events":[{"type":"delete","kv":{"key":"k","value":null,"version":0,"createRevision":0,"modRevision":10},"revision":10}]}\n');
      res.write('{"type":"events","revision":11,"events":[{"type":"delete","kv":{"key":"k","value":null,"version":0,"createRevision":0,"modRevision":11},"revision":11}]}\n');
    });
    await new Promise<void>((r) => old.listen(0, '127.0.0.1', () => r()));
    const watcher = new SynodClient({ endpoints: [`http://127.0.0.1:${(old.address() as { port: number }).port}`] });
    try {
      const got: WatchMessage[] = [];
      const watch = watcher.watch({ key: 'k' }, { once: true });
      for await (const m of watch) got.push(m);
      expect(got.map((m) => [m.type, m.revision])).toEqual([['events', 10]]);
      expect(watch.nextRevision).toBe(11);
      expect(asked.map((u) => u.includes('once=true'))).toEqual([true, false]);
    } finally {
      watcher.close();
      old.closeAllConnections();
      old.close();
    }
  });

  it('with once and rangePrefix, hands over the range that came with the events line; asks again without it where a node does not know it; refuses it without once', async () => {
    const asked: string[] = [];
    const line = (range: unknown): string => `${JSON.stringify({ type: 'events', revision: 10, events: [{ type: 'delete', kv: { key: 'q/a', value: null, version: 0, createRevision: 0, modRevision: 10 }, revision: 10 }], ...(range === undefined ? {} : { range }) })}\n`;
    let knowsRange = true;
    const node = createHttpServer((req, res) => {
      const target = req.url ?? '';
      asked.push(target);
      if (!knowsRange && target.includes('rangePrefix=')) {
        res.writeHead(400, { 'content-type': 'application/json' });
        return void res.end(JSON.stringify({ error: { code: 'UNKNOWN_PARAMETER', message: 'GET /v1/watch takes no query parameter "rangePrefix" (it takes: key, end, prefix, once)' } }));
      }
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.write('{"type":"created","node":"n","revision":9,"startRevision":10}\n');
      res.end(line(target.includes('rangePrefix=') ? { revision: 12, items: [{ key: 'q/b', value: '', version: 1, createRevision: 11, modRevision: 11, lease: 5 }], more: false } : undefined));
    });
    await new Promise<void>((r) => node.listen(0, '127.0.0.1', () => r()));
    const watcher = new SynodClient({ endpoints: [`http://127.0.0.1:${(node.address() as { port: number }).port}`] });
    const first = async (options: WatchOptions): Promise<WatchMessage[]> => {
      const got: WatchMessage[] = [];
      for await (const m of watcher.watch({ key: 'q/a' }, options)) got.push(m);
      return got;
    };
    try {
      const withRange = await first({ once: true, rangePrefix: 'q/' });
      expect(withRange).toEqual([{ type: 'events', revision: 10, events: [expect.objectContaining({ type: 'delete' })], range: { revision: 12, items: [expect.objectContaining({ key: 'q/b', createRevision: 11 })], more: false } }]);
      expect(asked.at(-1)).toContain('rangePrefix=q%2F');
      knowsRange = false;
      asked.length = 0;
      const without = await first({ once: true, rangePrefix: 'q/' });
      expect(without.map((m) => [m.type, m.revision, 'range' in m])).toEqual([['events', 10, false]]);
      expect(asked.map((u) => [u.includes('once=true'), u.includes('rangePrefix=')])).toEqual([[true, true], [true, false]]);
      expect(() => watcher.watch({ key: 'q/a' }, { rangePrefix: 'q/' })).toThrow(/rangePrefix goes with once/);
    } finally {
      watcher.close();
      node.closeAllConnections();
      node.close();
    }
  });
});
