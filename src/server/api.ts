// The node's HTTP/JSON client and admin API: KV operations (linearizable reads by default,
// serializable on request), status, membership and leadership transfer. A follower forwards
// what needs the leader; bad input gets a 4xx with a JSON error and the node keeps serving.
import { Agent, request as httpRequest } from 'node:http';
import type { JsonValue } from '../sim/index.js';
import type { KvCommand, KvQuery } from '../kv/index.js';
import type { NodeStatus, RaftRequest, RaftResponse } from '../raft/index.js';
import { expectObject, expectString, HttpError, Router, type ApiRequest, type ApiResponse } from './http.js';

/** What the API needs from the node it serves. */
export interface ApiBackend {
  readonly id: string;
  /** Hands a request to the Raft core; undefined when it did not answer in time. */
  submit(request: RaftRequest, timeoutMs: number): Promise<RaftResponse | undefined>;
  /** A read of the local state machine, without consulting the leader (may be stale). */
  queryLocal(query: KvQuery): JsonValue;
  status(): NodeStatus;
  /** The client URL of a member, if known. */
  clientUrl(id: string): string | undefined;
  /** Records a new member's addresses cluster-wide (a replicated write) before it joins. */
  announceMember(id: string, peer: string, client: string): Promise<void>;
  metricsText(): Promise<string>;
  /** The transport's fault hook when fault injection is on (tests only); undefined otherwise. */
  readonly faults?: FaultHook;
}

/** The subset of the transport's fault controller the API exposes. */
export interface FaultHook {
  partition(sideA: readonly string[], sideB: readonly string[]): void;
  heal(): void;
  setDropRate(peer: string, probability: number): void;
}

const FORWARDED = 'x-synod-forwarded';
const DEFAULT_TIMEOUT_MS = 5000;
const MAX_KEY_CHARS = 4096;

export function buildApi(backend: ApiBackend): Router {
  const forwardAgent = new Agent({ keepAlive: true, maxSockets: 256 });
  const leaderCall = (request: RaftRequest, req: ApiRequest): Promise<ApiResponse> => callLeader(backend, forwardAgent, request, req);
  const router = new Router();
  router
    .add('GET', '/health', () => ({ status: 200, body: { ok: true, id: backend.id } }))
    .add('GET', '/metrics', async () => ({ status: 200, body: await backend.metricsText() }))
    .add('GET', '/v1/status', () => ({ status: 200, body: backend.status() }))
    .add('POST', '/v1/snapshot', async () => {
      // this node's own log is compacted: not forwarded to the leader
      const res = await backend.submit({ type: 'snapshot' }, DEFAULT_TIMEOUT_MS);
      if (res === undefined || !res.ok) throw new HttpError(503, 'SNAPSHOT_FAILED', 'the snapshot could not be taken now');
      return { status: 200, body: { node: backend.id, ...('result' in res ? (res.result as object) : {}) } };
    })
    .add('GET', '/v1/kv', (req) => read(backend, leaderCall, { op: 'range', ...rangeOf(req) }, req))
    .add('GET', '/v1/kv/:key', (req) => read(backend, leaderCall, { op: 'get', key: keyOf(req) }, req))
    .add('PUT', '/v1/kv/:key', (req) => {
      const body = expectObject(req.body, 'put');
      if (!('value' in body)) throw new HttpError(400, 'BAD_REQUEST', 'put: the body needs a "value"');
      return leaderCall(command({ op: 'put', key: keyOf(req), value: body['value'] as JsonValue }, body), req);
    })
    .add('DELETE', '/v1/kv/:key', (req) => leaderCall(command({ op: 'delete', key: keyOf(req) }, req.body ?? {}), req))
    .add('POST', '/v1/kv/:key/cas', (req) => leaderCall(command(casOf(keyOf(req), expectObject(req.body, 'cas')), req.body), req))
    .add('POST', '/v1/kv/:key/incr', (req) => {
      const body = req.body === undefined ? {} : expectObject(req.body, 'incr');
      const by = body['by'] ?? 1;
      if (typeof by !== 'number' || !Number.isFinite(by)) throw new HttpError(400, 'BAD_REQUEST', '"by" must be a finite number');
      return leaderCall(command({ op: 'incr', key: keyOf(req), by }, body), req);
    })
    .add('POST', '/v1/members', async (req) => {
      // the address record is itself a replicated write: do the whole change on the leader
      const leader = backend.status().leader;
      if (leader !== backend.id) {
        const url = leader === null ? undefined : backend.clientUrl(leader);
        if (url === undefined) throw new HttpError(503, 'NO_LEADER', 'no leader is known right now; retry shortly');
        return forward(forwardAgent, url, req);
      }
      const body = expectObject(req.body, 'add member');
      const id = expectString(body['id'], 'id');
      await backend.announceMember(id, expectString(body['peer'], 'peer'), expectString(body['client'], 'client'));
      return leaderCall({ type: 'addLearner', node: id }, req);
    })
    .add('POST', '/v1/members/:id/promote', (req) => leaderCall({ type: 'promote', node: req.params['id'] as string }, req))
    .add('DELETE', '/v1/members/:id', (req) => leaderCall({ type: 'removeNode', node: req.params['id'] as string }, req))
    .add('POST', '/v1/faults', (req) => {
      // test-only: partition this node's links, or heal them (off unless started with fault injection)
      if (backend.faults === undefined) throw new HttpError(404, 'FAULTS_DISABLED', 'fault injection is off on this node');
      const body = expectObject(req.body, 'faults');
      if (body['action'] === 'heal') backend.faults.heal();
      else if (body['action'] === 'partition' && Array.isArray(body['from'])) backend.faults.partition([backend.id], body['from'].map(String));
      else if (body['action'] === 'drop' && typeof body['peer'] === 'string' && typeof body['rate'] === 'number') backend.faults.setDropRate(body['peer'], body['rate']);
      else throw new HttpError(400, 'BAD_REQUEST', 'faults: {action:"partition", from:[ids]} | {action:"drop", peer, rate} | {action:"heal"}');
      return { status: 200, body: { ok: true } };
    })
    .add('POST', '/v1/leader/transfer', (req) => leaderCall({ type: 'transferLeadership', node: expectString(expectObject(req.body, 'transfer')['to'], 'to') }, req));
  return router;
}

function keyOf(req: ApiRequest): string {
  const key = req.params['key'] ?? '';
  if (key.length === 0 || key.length > MAX_KEY_CHARS) throw new HttpError(400, 'BAD_KEY', `keys must have 1 to ${MAX_KEY_CHARS} characters`);
  if (key.startsWith('_synod/')) throw new HttpError(400, 'RESERVED_KEY', 'keys under "_synod/" are reserved for the cluster');
  return key;
}

function rangeOf(req: ApiRequest): { prefix?: string; start?: string; end?: string; limit?: number } {
  const q = req.query;
  const limitText = q.get('limit');
  const limit = limitText === null ? undefined : Number(limitText);
  if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 1)) throw new HttpError(400, 'BAD_REQUEST', '"limit" must be a whole number >= 1');
  const out: { prefix?: string; start?: string; end?: string; limit?: number } = {};
  for (const name of ['prefix', 'start', 'end'] as const) {
    const v = q.get(name);
    if (v !== null) out[name] = v;
  }
  if (limit !== undefined) out.limit = limit;
  return out;
}

function casOf(key: string, body: Record<string, unknown>): KvCommand {
  if ('version' in body) {
    const version = body['version'];
    if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 0) throw new HttpError(400, 'BAD_REQUEST', '"version" must be a whole number >= 0');
    if (!('value' in body)) throw new HttpError(400, 'BAD_REQUEST', 'cas on version needs a "value"');
    return { op: 'casVersion', key, version, value: body['value'] as JsonValue };
  }
  if (!('from' in body) || !('to' in body)) throw new HttpError(400, 'BAD_REQUEST', 'cas needs "from" and "to" (or "version" and "value")');
  return { op: 'cas', key, from: body['from'] as JsonValue, to: body['to'] as JsonValue };
}

/** A command, with an optional client session (clientId + seq) for exactly-once retries. */
function command(op: KvCommand, body: unknown): RaftRequest {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const clientId = b['clientId'];
  const seq = b['seq'];
  if (clientId === undefined) return { type: 'command', clientId: null, seq: 0, op: op as unknown as JsonValue };
  if (typeof clientId !== 'string' || clientId.length === 0 || typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) {
    throw new HttpError(400, 'BAD_SESSION', 'a session needs a string "clientId" and an integer "seq" >= 1');
  }
  return { type: 'command', clientId, seq, op: op as unknown as JsonValue };
}

async function read(backend: ApiBackend, leaderCall: (r: RaftRequest, req: ApiRequest) => Promise<ApiResponse>, query: KvQuery, req: ApiRequest): Promise<ApiResponse> {
  const consistency = req.query.get('consistency') ?? 'linearizable';
  if (consistency === 'serializable') return { status: 200, body: { result: backend.queryLocal(query), consistency, node: backend.id } };
  if (consistency !== 'linearizable') throw new HttpError(400, 'BAD_REQUEST', '"consistency" must be "linearizable" or "serializable"');
  return leaderCall({ type: 'read', op: query as unknown as JsonValue }, req);
}

/** Runs a request on this node if it leads; otherwise forwards it once to the leader. */
async function callLeader(backend: ApiBackend, agent: Agent, request: RaftRequest, req: ApiRequest): Promise<ApiResponse> {
  const res = await backend.submit(request, DEFAULT_TIMEOUT_MS);
  if (res === undefined) throw new HttpError(504, 'TIMEOUT', 'the cluster did not answer in time; the operation may or may not have taken effect');
  if (res.ok) return { status: 200, body: 'status' in res ? res.status : { result: res.result, index: res.index, node: backend.id } };
  if (res.error === 'not-leader') {
    const leaderUrl = res.leaderHint === null ? undefined : backend.clientUrl(res.leaderHint);
    if (leaderUrl === undefined) throw new HttpError(503, 'NO_LEADER', 'no leader is known right now; retry shortly', { leaderHint: res.leaderHint });
    if (req.query.get(FORWARDED) !== null) throw new HttpError(503, 'NOT_LEADER', 'forwarded to a node that is not the leader; retry', { leaderHint: res.leaderHint });
    return forward(agent, leaderUrl, req);
  }
  return { status: errorStatus(res.error), body: { error: { code: res.error.toUpperCase().replace(/-/g, '_'), message: res.message ?? res.error, leaderHint: res.leaderHint } } };
}

function errorStatus(reason: string): number {
  switch (reason) {
    case 'bad-request':
    case 'not-a-member':
    case 'already-member':
    case 'not-a-learner':
    case 'not-a-voter':
    case 'last-voter':
      return 400;
    case 'overloaded':
    case 'transfer-in-progress':
    case 'config-change-in-progress':
      return 503;
    case 'timeout':
    case 'catch-up-timeout':
    case 'transfer-timeout':
    case 'leadership-lost':
    case 'stale-session':
      return 504;
    default:
      return 500;
  }
}

async function forward(agent: Agent, leaderUrl: string, req: ApiRequest): Promise<ApiResponse> {
  const url = new URL(req.path, leaderUrl);
  req.query.forEach((v, k) => url.searchParams.set(k, v));
  url.searchParams.set(FORWARDED, '1');
  return new Promise((resolve, reject) => {
    const data = req.body === undefined ? undefined : JSON.stringify(req.body);
    const out = httpRequest(url, { method: req.method, agent, timeout: DEFAULT_TIMEOUT_MS, headers: data === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 502, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown });
        } catch {
          reject(new HttpError(502, 'BAD_GATEWAY', 'the leader answered with something that is not JSON'));
        }
      });
    });
    out.on('timeout', () => out.destroy(new HttpError(504, 'TIMEOUT', 'the leader did not answer in time; the operation may or may not have taken effect')));
    out.on('error', (err) => reject(err instanceof HttpError ? err : new HttpError(503, 'LEADER_UNREACHABLE', `the leader could not be reached: ${err.message}`)));
    if (data !== undefined) out.write(data);
    out.end();
  });
}
