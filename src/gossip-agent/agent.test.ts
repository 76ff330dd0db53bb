// The gossip agent in-process: two agents on loopback talking through real sockets; its control
// API answered with clear errors for malformed, huge and nested input while it keeps serving; its
// data directory bringing back the document and a higher incarnation after a restart; its store's
// ops checked when read back.
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CRDT_DOC, docMutate } from '../crdt/doc.js';
import { startGossipAgent, type GossipAgent } from './agent.js';
import { compactAgentOps, decodeAgentOp } from './store.js';
import { openAgentWire } from './wire.js';

const CONFIG = { probeIntervalMs: 200, probeTimeoutMs: 100, gossipIntervalMs: 50, pushPullIntervalMs: 1_000, tickIntervalMs: 20 };
const dir = mkdtempSync(join(tmpdir(), 'synod-gossip-agent-'));
const running: GossipAgent[] = [];

afterAll(async () => {
  await Promise.all(running.map((a) => a.close()));
  rmSync(dir, { recursive: true, force: true });
});

async function start(name: string, join_: readonly string[], bind = '127.0.0.1:0'): Promise<GossipAgent> {
  const wire = await openAgentWire({ bind, cluster: 'test' });
  const agent = await startGossipAgent({ wire: wire.wire, join: join_, httpBind: '127.0.0.1:0', preset: 'local', config: CONFIG, crdtSyncIntervalMs: 500, dataDir: join(dir, name), logger: silent() });
  running.push(agent);
  return agent;
}

function silent(): import('pino').Logger {
  return { info: () => undefined, error: () => undefined, fatal: () => undefined, warn: () => undefined, debug: () => undefined } as unknown as import('pino').Logger;
}

function raw(url: string, method: string, body: string | undefined, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent: false, headers: { ...(body === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown> }));
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

const api = (a: GossipAgent, method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> => raw(`${a.httpUrl}${path}`, method, body === undefined ? undefined : JSON.stringify(body));

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting until ${what}`);
}

describe('a gossip agent', () => {
  it('joins another over real sockets, spreads a change, serves events, and refuses bad input while it keeps serving', async () => {
    const a = await start('a', []);
    const b = await start('b', [a.id]);
    await until('both see two alive', async () => ((await api(b, 'GET', '/v1/members')).body['members'] as { state: string }[]).filter((m) => m.state === 'alive').length === 2 && ((await api(a, 'GET', '/v1/members')).body['members'] as unknown[]).length === 2);
    const changed = await api(a, 'POST', '/v1/crdt', { kind: 'counter', name: 'hits', action: 'incr', amount: 7 });
    expect(changed.status).toBe(200);
    expect(changed.body['entries']).toEqual([{ kind: 'counter', name: 'hits', value: 7 }]);
    await until('b sees the change', async () => JSON.stringify((await api(b, 'GET', '/v1/crdt?name=hits')).body['entries']) === JSON.stringify([{ kind: 'counter', name: 'hits', value: 7 }]));
    const events = await api(b, 'GET', '/v1/events?after=0&waitMs=10');
    expect((events.body['events'] as { kind: string }[]).some((e) => e.kind === 'doc')).toBe(true);
    // a long poll is answered when the next change comes
    const last = events.body['last'] as number;
    const waiting = api(b, 'GET', `/v1/events?after=${last}&waitMs=20000`);
    await api(a, 'POST', '/v1/crdt', { kind: 'flag', name: 'open', action: 'enable' });
    expect(((await waiting).body['events'] as unknown[]).length).toBeGreaterThan(0);

    const refused: [string, string, string | undefined, number, string][] = [
      ['POST', '/v1/crdt', '{"kind":"counter","name":"x","action":"incr","amount":-1}', 400, 'GOSSIP_BAD_REQUEST'],
      ['POST', '/v1/crdt', '{"kind":"gauge","name":"x"}', 400, 'GOSSIP_BAD_REQUEST'],
      ['POST', '/v1/crdt', '{"kind":"set","name":"x","action":"add","element":"' + 'e'.repeat(5000) + '"}', 400, 'GOSSIP_BAD_REQUEST'],
      ['POST', '/v1/crdt', '{not json', 400, 'BAD_JSON'],
      ['POST', '/v1/crdt', '['.repeat(5000) + ']'.repeat(5000), 400, ''],
      ['POST', '/v1/crdt', JSON.stringify({ kind: 'set', name: 'x', action: 'add', element: 'y'.repeat(70_000) }), 413, ''],
      ['GET', '/v1/crdt?name=', undefined, 400, 'GOSSIP_BAD_REQUEST'],
      ['GET', '/v1/crdt?nme=x', undefined, 400, 'UNKNOWN_PARAMETER'],
      ['GET', '/v1/events?after=-1', undefined, 400, 'GOSSIP_BAD_REQUEST'],
      ['POST', '/v1/join', '{"seeds":"x"}', 400, 'GOSSIP_BAD_REQUEST'],
      ['POST', '/v1/join', '{"seeds":[]}', 400, 'GOSSIP_BAD_REQUEST'],
      ['PUT', '/v1/meta', '{"meta":"' + 'm'.repeat(2000) + '"}', 400, 'GOSSIP_BAD_REQUEST'],
      ['POST', '/v1/keys', '{"action":"install","key":"x"}', 409, 'GOSSIP_NOT_ENCRYPTED'],
      ['DELETE', '/v1/members', undefined, 405, 'METHOD_NOT_ALLOWED'],
      ['GET', '/v1/nothing', undefined, 404, 'NOT_FOUND'],
    ];
    for (const [method, path, body, status, code] of refused) {
      const r = await raw(`${a.httpUrl}${path}`, method, body);
      expect(r.status, `${method} ${path}`).toBe(status);
      if (code !== '') expect((r.body['error'] as { code: string }).code, `${method} ${path}`).toBe(code);
    }
    // a foreign Host header (DNS rebinding) is refused
    expect((await raw(`${a.httpUrl}/v1/members`, 'GET', undefined, { host: 'evil.example:80' })).status).toBe(403);
    // and it still serves
    expect((await api(a, 'GET', '/v1/status')).body['members']).toEqual({ alive: 2, suspect: 0, dead: 0, left: 0 });
  }, 60_000);

  it('comes back from its data directory with its document and a higher incarnation', async () => {
    const first = await start('c', []);
    await api(first, 'POST', '/v1/crdt', { kind: 'set', name: 'tags', action: 'add', element: 'kept' });
    const before = (await api(first, 'GET', '/v1/status')).body;
    await first.close();
    running.splice(running.indexOf(first), 1);
    const again = await start('c', [], first.id);
    const after = (await api(again, 'GET', '/v1/status')).body;
    expect(after['incarnation']).toBeGreaterThan(before['incarnation'] as number);
    expect(after['replica']).toBe(before['replica']);
    expect((await api(again, 'GET', '/v1/crdt')).body['entries']).toEqual([{ kind: 'set', name: 'tags', value: ['kept'] }]);
  }, 60_000);

  it('checks the ops it reads back and folds them into one', () => {
    expect(decodeAgentOp({ op: 'self', incarnation: -1, meta: '' })).toHaveProperty('problem');
    expect(decodeAgentOp({ op: 'crdt-delta', replica: 'r', delta: { entries: 'x' } })).toHaveProperty('problem');
    expect(decodeAgentOp({ op: 'nope' })).toHaveProperty('problem');
    expect(decodeAgentOp([])).toHaveProperty('problem');
    const d1 = docMutate(CRDT_DOC.empty(), 'r1', { kind: 'counter', name: 'c', action: 'incr', amount: 2 });
    const d2 = docMutate(d1, 'r1', { kind: 'counter', name: 'c', action: 'incr', amount: 3 });
    const folded = compactAgentOps([{ op: 'self', incarnation: 1, meta: 'm' }, { op: 'crdt-delta', replica: 'r1', delta: d1 }, { op: 'self', incarnation: 2, meta: 'n' }, { op: 'crdt-delta', replica: 'r1', delta: d2 }]);
    expect(folded).toHaveLength(1);
    const op = folded[0];
    expect(op?.op).toBe('crdt-snapshot');
    if (op?.op !== 'crdt-snapshot') return;
    expect([op.incarnation, op.meta, CRDT_DOC.value(op.doc)]).toEqual([2, 'n', [{ kind: 'counter', name: 'c', value: 5 }]]);
    expect(decodeAgentOp(JSON.parse(JSON.stringify(op)))).toEqual({ op });
  });
});
