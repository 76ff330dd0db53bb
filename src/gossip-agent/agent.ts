// A gossip agent: one process running the SWIM member with its CRDT document (GossipCrdtNode) on
// the Node host, talking to peers over UDP with TCP for large messages (src/gossip-net), keeping
// its durable ops under --data-dir, and serving a small local HTTP/JSON control API that the
// `synod gossip` commands use: members, status, the document, joins, leaves, metadata, events.
import { createHash } from 'node:crypto';
import pino, { type Logger } from 'pino';
import { isGossipNetError, type KeyRing } from '../gossip-net/index.js';
import { GOSSIP_PRESETS, resolveGossipConfig, type GossipConfig } from '../gossip/config.js';
import { gossipCrdtSpec, type GossipCrdtNode, type GossipNodeMessage, type GossipNodePersistOp, type GossipNodeRequest, type GossipNodeResponse } from '../gossip/crdt-node.js';
import { NodeHost, type PeerTransport } from '../runtime/index.js';
import { originGuard } from '../server/guard.js';
import { answerRequest, expectObject, HttpError, Router, type ApiRequest, type ApiResponse } from '../server/http.js';
import { HttpServer } from '../server/http-server.js';
import { EventFeed } from './events.js';
import { openAgentStore } from './store.js';

/** The peer side as the agent needs it: send, receive, close; `address` is this agent's id on the wire. */
export interface AgentWire extends PeerTransport<GossipNodeMessage> {
  readonly address: string;
  stats(): Readonly<Record<string, number>>;
  close(): Promise<void>;
}

export type GossipPresetName = 'lan' | 'wan' | 'local';

export interface GossipAgentOptions {
  /** The opened peer transport (its address names this member). */
  readonly wire: AgentWire;
  /** Seeds to join through (host:port); none: this agent starts a group of its own. */
  readonly join: readonly string[];
  readonly dataDir?: string;
  /** host:port of the control API; must be a loopback address (the API has no authentication). */
  readonly httpBind: string;
  readonly preset?: GossipPresetName;
  readonly config?: Partial<GossipConfig>;
  readonly crdtSyncIntervalMs?: number;
  readonly logger?: Logger;
  /** The key ring the wire seals with, and how to save it after a rotation step (GET/POST /v1/keys). */
  readonly keys?: AgentKeys;
}

export interface AgentKeys {
  readonly ring: KeyRing;
  save(): Promise<void>;
}

export interface GossipAgent {
  readonly id: string;
  readonly httpUrl: string;
  readonly config: GossipConfig;
  readonly host: NodeHost<GossipNodeMessage, GossipNodeRequest, GossipNodeResponse, GossipNodePersistOp, GossipCrdtNode>;
  readonly events: EventFeed;
  close(): Promise<void>;
}

const REQUEST_TIMEOUT_MS = 15_000;
const MAX_WAIT_MS = 60_000;

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** host:port split, checked; throws a plain Error naming `what`. */
export function splitHostPort(text: string, what: string): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:]+\]|[^:\s]+):(\d{1,5})$/.exec(text);
  const port = m === null ? NaN : Number(m[2]);
  if (m === null || !(port >= 0 && port <= 65_535)) throw new Error(`${what} is host:port; got ${JSON.stringify(text.slice(0, 100))}`);
  return { host: m[1] as string, port };
}

export async function startGossipAgent(o: GossipAgentOptions): Promise<GossipAgent> {
  const http = splitHostPort(o.httpBind, '--http');
  if (!isLoopbackHost(http.host)) throw new Error(`--http must be a loopback address (the control API has no authentication); got ${http.host}`);
  const logger = o.logger ?? pino({ level: 'info', base: { agent: o.wire.address } }, process.stderr);
  const config = resolveGossipConfig(o.config ?? {}, GOSSIP_PRESETS[o.preset ?? 'lan']);
  const store = await openAgentStore(o.dataDir);
  const id = o.wire.address;
  const spec = gossipCrdtSpec(config, undefined, o.crdtSyncIntervalMs === undefined ? {} : { crdtSyncIntervalMs: o.crdtSyncIntervalMs });
  const events = new EventFeed();
  const host = new NodeHost(spec, {
    id,
    members: [id, ...o.join.filter((s) => s !== id)],
    store,
    transport: o.wire,
    onFatal: (err) => {
      logger.fatal({ err }, 'storage failed: stopping');
      void close();
    },
  });
  host.onAnnotate((key, value) => {
    if (key === 'lastEvent' && typeof value === 'string') events.push('member', value);
    else if (key === 'crdtVersion') events.push('doc', String(value));
  });
  host.start();
  const router = agentRouter(id, host, events, config, o);
  const guard = originGuard({ allowedHosts: [http.host, 'localhost', '127.0.0.1'], allowedOrigins: [] });
  const server = await HttpServer.listen({
    host: http.host,
    port: http.port,
    maxBodyBytes: 64 * 1024,
    onError: (err) => logger.error({ err }, 'request failed'),
    handle: async (request) => (await answerRequest(router, request, (err) => logger.error({ err }, 'request failed'), { guard })).answer,
  });
  const httpUrl = `http://${http.host}:${server.port}`;
  logger.info({ http: httpUrl, join: o.join, dataDir: o.dataDir ?? null, encrypted: o.keys !== undefined }, 'gossip agent started');
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      events.close();
      host.stop();
      await server.close(1000);
      await o.wire.close();
      await store.close();
    })();
    return closing;
  };
  return { id, httpUrl, config, host, events, close };
}

function agentRouter(id: string, host: GossipAgent['host'], events: EventFeed, config: GossipConfig, o: GossipAgentOptions): Router {
  const ask = async (request: GossipNodeRequest): Promise<ApiResponse> => {
    const res = await host.request(request, REQUEST_TIMEOUT_MS);
    if (res === undefined) throw new HttpError(503, 'GOSSIP_UNAVAILABLE', 'the agent did not answer in time');
    if (!res.ok) throw new HttpError(statusOf(res.code), res.code, res.message);
    const { ok: _ok, op: _op, ...rest } = res;
    return { status: 200, body: rest };
  };
  const core = (): GossipCrdtNode => {
    const c = host.running;
    if (c === undefined) throw new HttpError(503, 'GOSSIP_STOPPED', 'the agent has stopped');
    return c;
  };
  const router = new Router();
  router.add('GET', '/health', () => ({ status: 200, body: { ok: true } }), { access: 'public' });
  router.add('GET', '/v1/status', () => {
    const c = core();
    const counts = { alive: 0, suspect: 0, dead: 0, left: 0 };
    for (const m of c.members()) counts[m.state]++;
    return {
      status: 200,
      body: { id, state: c.swim.membership.leaving ? 'left' : 'alive', incarnation: c.swim.incarnation, health: c.swim.health, members: counts, docVersion: c.docVersion(), replica: c.replica, encrypted: o.keys !== undefined, preset: o.preset ?? 'lan', probeIntervalMs: config.probeIntervalMs, swim: { ...c.swim.stats }, crdt: { ...c.crdtStats }, wire: { ...o.wire.stats() } },
    };
  }, { access: 'public' });
  router.add('GET', '/v1/members', () => ({ status: 200, body: { members: core().members() } }), { access: 'public' });
  router.add('GET', '/v1/crdt', (req) => ({ status: 200, body: { entries: core().read(optionalName(req)) } }), { access: 'public', query: ['name'] });
  router.add('POST', '/v1/crdt', (req) => ask({ op: 'crdt-change', change: expectObject(req.body, 'the body') as never }), { access: 'public' });
  router.add('POST', '/v1/join', (req) => {
    const seeds = expectObject(req.body, 'the body')['seeds'];
    if (!Array.isArray(seeds) || !seeds.every((s) => typeof s === 'string')) throw new HttpError(400, 'GOSSIP_BAD_REQUEST', 'seeds is a list of host:port');
    return ask({ op: 'join', seeds: seeds as string[] });
  }, { access: 'public' });
  router.add('POST', '/v1/leave', () => ask({ op: 'leave' }), { access: 'public' });
  router.add('PUT', '/v1/meta', (req) => {
    const meta = expectObject(req.body, 'the body')['meta'];
    if (typeof meta !== 'string') throw new HttpError(400, 'GOSSIP_BAD_REQUEST', 'meta is a string');
    return ask({ op: 'set-meta', meta });
  }, { access: 'public' });
  router.add('GET', '/v1/events', async (req) => {
    const after = intParam(req, 'after', 0, Number.MAX_SAFE_INTEGER, 0);
    const waitMs = intParam(req, 'waitMs', 0, MAX_WAIT_MS, 0);
    const waiting = events.wait(after, waitMs);
    if (waiting === undefined) throw new HttpError(429, 'GOSSIP_BUSY', `${events.maxWaiters} readers wait already`);
    const list = await waiting;
    return { status: 200, body: { events: list, last: events.lastSeq } };
  }, { access: 'public', query: ['after', 'waitMs'] });
  router.add('GET', '/v1/keys', () => ({ status: 200, body: { keys: keyList(o.keys) } }), { access: 'public' });
  router.add('POST', '/v1/keys', async (req) => {
    if (o.keys === undefined) throw new HttpError(409, 'GOSSIP_NOT_ENCRYPTED', 'this agent runs without a key ring (start it with --keyring)');
    const body = expectObject(req.body, 'the body');
    const action = body['action'];
    const key = body['key'];
    if (typeof key !== 'string' || key.length > 100) throw new HttpError(400, 'GOSSIP_BAD_REQUEST', 'key is a base64 key');
    try {
      if (action === 'install') o.keys.ring.installKey(key);
      else if (action === 'use') o.keys.ring.useKey(key);
      else if (action === 'remove') o.keys.ring.removeKey(key);
      else throw new HttpError(400, 'GOSSIP_BAD_REQUEST', 'action is install, use or remove');
    } catch (err) {
      if (isGossipNetError(err)) throw new HttpError(400, err.code, err.message);
      throw err;
    }
    await o.keys.save();
    return { status: 200, body: { keys: keyList(o.keys) } };
  }, { access: 'public' });
  return router;
}

/** Fingerprints (not the keys): the first 16 hex digits of each key's SHA-256, the primary first. */
function keyList(keys: AgentKeys | undefined): { fingerprint: string; primary: boolean }[] {
  if (keys === undefined) return [];
  return keys.ring.keys().map((k, i) => ({ fingerprint: createHash('sha256').update(Buffer.from(k, 'base64')).digest('hex').slice(0, 16), primary: i === 0 }));
}

function optionalName(req: ApiRequest): string | undefined {
  const name = req.query.get('name');
  if (name === null) return undefined;
  if (name.length === 0 || name.length > 256) throw new HttpError(400, 'GOSSIP_BAD_REQUEST', 'name is 1 to 256 characters');
  return name;
}

function intParam(req: ApiRequest, name: string, min: number, max: number, fallback: number): number {
  const text = req.query.get(name);
  if (text === null) return fallback;
  const value = /^\d{1,16}$/.test(text) ? Number(text) : NaN;
  if (!(value >= min && value <= max)) throw new HttpError(400, 'GOSSIP_BAD_REQUEST', `${name} is an integer from ${min} to ${max}`);
  return value;
}

function statusOf(code: string): number {
  if (code === 'GOSSIP_BAD_REQUEST') return 400;
  if (code === 'GOSSIP_JOIN_FAILED') return 504;
  if (code === 'GOSSIP_BUSY') return 429;
  return 409;
}
