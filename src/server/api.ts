// The KV service's HTTP/JSON client and admin API: KV operations (linearizable reads by default,
// serializable on request), leases (lease-api.ts), membership, snapshots and leadership
// transfer. A follower forwards what needs the leader (forward.ts); bad input gets a 4xx with a
// JSON error and the node keeps serving. Every error says whether a retry is safe.
import type { JsonValue } from '../sim/index.js';
import { keyProblem, kvRequestToJson, type KvCommand, type KvQuery } from '../kv/index.js';
import type { NodeStatus, RaftRequest, RaftResponse } from '../raft/index.js';
import { addAuthRoutes } from './auth-api.js';
import type { Authenticator } from './auth.js';
import { BACKUP_FORMAT, backupChecksum } from './backup.js';
import { FORWARDED_HEADER, type Forwarder } from './forward.js';
import { expectObject, expectString, HttpError, Router, type ApiRequest, type ApiResponse } from './http.js';
import { addLeaseRoutes } from './lease-api.js';
import { checkResult, revisionOf } from './kv-api-util.js';

/** Liveness and readiness as the node reports them. */
export interface HealthReport {
  /** False once the node cannot keep its promises (its storage failed): it stops serving. */
  readonly ok: boolean;
  readonly reason?: string;
}

export interface MemberInfo {
  readonly id: string;
  readonly role: 'voter' | 'learner';
  readonly peer: string | null;
  readonly client: string | null;
}

/** A state-machine snapshot as `synod snapshot save` downloads it. */
export interface SnapshotExport {
  readonly index: number;
  readonly term: number;
  readonly config: JsonValue;
  readonly data: JsonValue;
}

/** What the API needs from the node it serves. */
export interface ApiBackend {
  readonly id: string;
  readonly clusterId: string;
  /** Hands a request to the Raft core; undefined when it did not answer in time. */
  submit(request: RaftRequest, timeoutMs: number): Promise<RaftResponse | undefined>;
  /** A read of the local state machine, without consulting the leader (may be stale). */
  queryLocal(query: KvQuery): JsonValue;
  status(): NodeStatus;
  /** False once the node stopped serving (its storage failed): requests are refused. */
  health(): HealthReport;
  /** The client URL of a member, if known. */
  clientUrl(id: string): string | undefined;
  /** The peer address of a member, if known. */
  peerAddress(id: string): string | undefined;
  /** Records a new member's addresses cluster-wide (a replicated write) before it joins. */
  announceMember(id: string, peer: string, client: string): Promise<void>;
  /** The state machine at this node's applied index. */
  exportSnapshot(): SnapshotExport;
  readonly forwarder: Forwarder;
  readonly auth: Authenticator;
  /** The shortest lease TTL granted over the API (default DEFAULT_MIN_LEASE_TTL_MS). */
  readonly minLeaseTtlMs?: number;
}

export const DEFAULT_TIMEOUT_MS = 5000;
/** 1.5 × the node's default maximum election timeout (40 ticks of 25 ms), as etcd's minimum TTL. */
export const DEFAULT_MIN_LEASE_TTL_MS = 1500;

/** The shortest lease TTL `backend` grants (POST /v1/leases and a txn's leaseGrant alike). */
export function minLeaseTtlOf(backend: ApiBackend): number {
  return backend.minLeaseTtlMs ?? DEFAULT_MIN_LEASE_TTL_MS;
}
/** Route access when authentication is on (routes that say nothing are root-only). */
const ANY_USER = { access: 'user' } as const;
const READ_KEY = { key: 'read' } as const;
const WRITE_KEY = { access: { key: 'write' } } as const;
/** Keys the cluster keeps for itself (member addresses, users, roles): clients can neither read nor write them. */
export const RESERVED_PREFIX = '_synod/';
const NO_BODY = {};

/** Adds the KV service's routes to `router` (the node's own routes are there already). */
export function buildApi(backend: ApiBackend, router: Router = new Router()): Router {
  const leaderCall = (request: RaftRequest, req: ApiRequest, redirectSafe: boolean): Promise<ApiResponse> => callLeader(backend, request, req, redirectSafe);
  const write = (op: KvCommand, req: ApiRequest, body: unknown): Promise<ApiResponse> => {
    const request = command(op, body);
    return leaderCall(request, req, request.type === 'command' && request.clientId !== null);
  };
  router
    .add('GET', '/v1/members', () => ({ status: 200, body: { members: membersOf(backend) } }), ANY_USER)
    .add('POST', '/v1/snapshot', async () => {
      // this node's own log is compacted: not forwarded to the leader
      const res = await backend.submit({ type: 'snapshot' }, DEFAULT_TIMEOUT_MS);
      if (res === undefined || !res.ok) throw new HttpError(503, 'SNAPSHOT_FAILED', 'the snapshot could not be taken now', { safeToRetry: true });
      return { status: 200, body: { node: backend.id, ...('result' in res ? (res.result as object) : {}) } };
    })
    .add('GET', '/v1/snapshot', async () => {
      // a read barrier first, so the download holds every write acknowledged before it was asked for
      const barrier = await backend.submit({ type: 'read', op: { op: 'get', key: '_synod/snapshot-barrier' } }, DEFAULT_TIMEOUT_MS);
      if (barrier === undefined || !barrier.ok) throw new HttpError(503, 'NOT_CAUGHT_UP', 'this node could not confirm it holds every committed write (no leader, or it is not the leader); ask the leader', { safeToRetry: true, leaderHint: barrier?.ok === false ? barrier.leaderHint : null });
      const exported = backend.exportSnapshot();
      const unsigned = { format: BACKUP_FORMAT, clusterId: backend.clusterId, node: backend.id, savedAt: new Date().toISOString(), ...exported };
      return { status: 200, body: { ...unsigned, sha256: backupChecksum(unsigned) } };
    })
    // the cluster's own keys (members, users and roles) are never listed
    // ?revision=N reads as of revision N (kv-api-util.ts turns `compacted` and `future-revision` into 410 and 400)
    .add('GET', '/v1/kv', async (req) => checkResult(await read(backend, leaderCall, { op: 'range', ...rangeOf(req), exclude: RESERVED_PREFIX, ...revisionOf(req) }, req), revisionOf(req).revision), { query: ['prefix', 'start', 'end', 'limit', 'consistency', 'revision'], access: 'range' })
    .add('GET', '/v1/kv/:key', async (req) => checkResult(await read(backend, leaderCall, { op: 'get', key: keyOf(req), ...revisionOf(req) }, req), revisionOf(req).revision), { query: ['consistency', 'revision'], access: READ_KEY })
    .add('PUT', '/v1/kv/:key', (req) => {
      const body = expectObject(req.body, 'put');
      if (!('value' in body)) throw new HttpError(400, 'BAD_REQUEST', 'put: the body needs a "value"');
      const lease = body['lease'] ?? 0;
      if (typeof lease !== 'number' || !Number.isSafeInteger(lease) || lease < 0) throw new HttpError(400, 'BAD_REQUEST', 'put: "lease" must be a lease id (a whole number; 0 or absent: none)');
      const put = { op: 'put', key: keyOf(req), value: body['value'] as JsonValue } as const;
      return write(lease === 0 ? put : { ...put, lease }, req, body);
    }, WRITE_KEY)
    .add('DELETE', '/v1/kv/:key', (req) => write({ op: 'delete', key: keyOf(req) }, req, req.body ?? NO_BODY), WRITE_KEY)
    .add('POST', '/v1/kv/:key/cas', (req) => write(casOf(keyOf(req), expectObject(req.body, 'cas')), req, req.body), WRITE_KEY)
    .add('POST', '/v1/kv/:key/incr', (req) => {
      const body = req.body === undefined ? NO_BODY : expectObject(req.body, 'incr');
      const by = (body as Record<string, unknown>)['by'] ?? 1;
      if (typeof by !== 'number' || !Number.isFinite(by)) throw new HttpError(400, 'BAD_REQUEST', '"by" must be a finite number');
      return write({ op: 'incr', key: keyOf(req), by }, req, body);
    }, WRITE_KEY)
    .add('POST', '/v1/members', async (req) => {
      // the address record is itself a replicated write: do the whole change on the leader
      const leader = backend.status().leader;
      if (leader !== backend.id) {
        if (leader === null) throw new HttpError(503, 'NO_LEADER', 'no leader is known right now; retry shortly', { safeToRetry: true });
        if (req.headers.has(FORWARDED_HEADER)) throw new HttpError(503, 'NOT_LEADER', 'forwarded to a node that is not the leader; retry', { leaderHint: leader, safeToRetry: true });
        return backend.forwarder.forward(req, leader, false, () => Promise.reject(new HttpError(503, 'LEADER_CHANGED', 'this node became leader while forwarding; retry', { safeToRetry: true })));
      }
      const body = expectObject(req.body, 'add member');
      const id = expectString(body['id'], 'id');
      const status = backend.status();
      // announcing an existing member would overwrite its addresses (and vouch for a new data directory)
      if (status.voters.includes(id) || status.learners.includes(id)) throw new HttpError(400, 'ALREADY_MEMBER', `node ${id} is already a member; remove it first (docs/runtime.md, "Recovering a node")`, { safeToRetry: false });
      await backend.announceMember(id, expectString(body['peer'], 'peer'), expectString(body['client'], 'client'));
      return leaderCall({ type: 'addLearner', node: id }, req, false);
    })
    .add('POST', '/v1/members/:id/promote', (req) => leaderCall({ type: 'promote', node: req.params['id'] as string }, req, false))
    .add('DELETE', '/v1/members/:id', (req) => leaderCall({ type: 'removeNode', node: req.params['id'] as string }, req, false))
    .add('POST', '/v1/leader/transfer', (req) => leaderCall({ type: 'transferLeadership', node: expectString(expectObject(req.body, 'transfer')['to'], 'to') }, req, false));
  addAuthRoutes(router, backend, (request, req) => leaderCall(request, req, false));
  // leases (lease-api.ts): keep-alives and the time left are leader reads, safe to send again
  addLeaseRoutes(router, {
    auth: backend.auth,
    minTtlMs: minLeaseTtlOf(backend),
    write,
    read: (query, req) => read(backend, leaderCall, query, req),
    leaderRead: (op, req) => leaderCall({ type: 'leaderRead', op }, req, true),
    localKeys: (id) => {
      const found = backend.queryLocal({ op: 'leaseTimeToLive', id, keys: true }) as { keys?: string[] };
      return found.keys ?? [];
    },
  });
  return router;
}

function membersOf(backend: ApiBackend): MemberInfo[] {
  const s = backend.status();
  const info = (id: string, role: MemberInfo['role']): MemberInfo => ({ id, role, peer: backend.peerAddress(id) ?? null, client: backend.clientUrl(id) ?? null });
  return [...s.voters.map((id) => info(id, 'voter')), ...s.learners.map((id) => info(id, 'learner'))];
}

/** The key a route names, checked (size, encoding, not a cluster key); shared with the Paxos KV's routes. */
export function keyOf(req: ApiRequest): string {
  const key = req.params['key'] ?? '';
  const problem = keyProblem(key);
  if (problem !== null) throw new HttpError(400, 'BAD_KEY', problem);
  if (key.startsWith(RESERVED_PREFIX)) throw new HttpError(400, 'RESERVED_KEY', `keys under "${RESERVED_PREFIX}" are reserved for the cluster`);
  return key;
}

export function rangeOf(req: ApiRequest): { prefix?: string; start?: string; end?: string; limit?: number } {
  const q = req.query;
  const limitText = q.get('limit');
  const limit = limitText === null ? undefined : Number(limitText);
  if (limit !== undefined && (!/^\d+$/.test(limitText as string) || !Number.isSafeInteger(limit) || limit < 1)) throw new HttpError(400, 'BAD_REQUEST', '"limit" must be a whole number >= 1');
  const out: { prefix?: string; start?: string; end?: string; limit?: number } = {};
  for (const name of ['prefix', 'start', 'end'] as const) {
    const v = q.get(name);
    if (v !== null) out[name] = v;
  }
  if (limit !== undefined) out.limit = limit;
  return out;
}

export function casOf(key: string, body: Record<string, unknown>): KvCommand {
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
export function command(op: KvCommand, body: unknown): RaftRequest {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const clientId = b['clientId'];
  const seq = b['seq'];
  if (clientId === undefined) return { type: 'command', clientId: null, seq: 0, op: kvRequestToJson(op) };
  if (typeof clientId !== 'string' || clientId.length === 0 || clientId.length > 256 || typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) {
    throw new HttpError(400, 'BAD_SESSION', 'a session needs a string "clientId" of 1 to 256 characters and an integer "seq" >= 1');
  }
  return { type: 'command', clientId, seq, op: kvRequestToJson(op) };
}

export type LeaderCall = (r: RaftRequest, req: ApiRequest, redirectSafe: boolean) => Promise<ApiResponse>;

/** What `callLeader` needs of a node: any service that answers KV commands and reads in the Raft KV's shapes (the Paxos KV too). */
export type LeaderBackend = Pick<ApiBackend, 'id' | 'submit' | 'health' | 'clientUrl' | 'forwarder'>;

/** A read: serializable from this node's state, else linearizable through the leader. */
export async function read(backend: Pick<ApiBackend, 'id' | 'queryLocal'>, leaderCall: LeaderCall, query: KvQuery, req: ApiRequest): Promise<ApiResponse> {
  const consistency = req.query.get('consistency') ?? 'linearizable';
  if (consistency === 'serializable') return { status: 200, body: { result: backend.queryLocal(query), consistency, node: backend.id } };
  if (consistency !== 'linearizable') throw new HttpError(400, 'BAD_REQUEST', '"consistency" must be "linearizable" or "serializable"');
  // a read has no effect: it may always be sent again, to another leader too
  return leaderCall({ type: 'read', op: kvRequestToJson(query) }, req, true);
}

/** Runs a request on this node if it leads; otherwise forwards it to the leader (following leader changes). */
export async function callLeader(backend: LeaderBackend, request: RaftRequest, req: ApiRequest, redirectSafe: boolean): Promise<ApiResponse> {
  if (!backend.health().ok) throw new HttpError(503, 'NODE_FAILED', `this node stopped serving: ${backend.health().reason ?? 'failed'}`, { safeToRetry: true });
  const res = await backend.submit(request, DEFAULT_TIMEOUT_MS);
  const unknownOutcome = request.type !== 'read' && !redirectSafe;
  if (res === undefined) throw new HttpError(504, 'TIMEOUT', 'the cluster did not answer in time; the operation may or may not have taken effect', { safeToRetry: !unknownOutcome });
  if (res.ok) return { status: 200, body: 'status' in res ? res.status : { result: res.result, index: res.index, node: backend.id } };
  if (res.error === 'not-leader') {
    if (res.leaderHint === null || backend.clientUrl(res.leaderHint) === undefined) throw new HttpError(503, 'NO_LEADER', 'no leader is known right now; retry shortly', { leaderHint: res.leaderHint, safeToRetry: true });
    if (req.headers.has(FORWARDED_HEADER)) throw new HttpError(503, 'NOT_LEADER', 'forwarded to a node that is not the leader; retry', { leaderHint: res.leaderHint, safeToRetry: true });
    return backend.forwarder.forward(req, res.leaderHint, redirectSafe, () => callLeader(backend, request, req, redirectSafe));
  }
  const definite = DEFINITE_FAILURES.has(res.error);
  return { status: errorStatus(res.error), body: { error: { code: res.error.toUpperCase().replace(/-/g, '_'), message: res.message ?? res.error, leaderHint: res.leaderHint, safeToRetry: definite || !unknownOutcome } } };
}

/** Raft failures after which the request certainly did not take effect (see RaftErrorReason). */
const DEFINITE_FAILURES: ReadonlySet<string> = new Set([
  'not-leader', 'overloaded', 'transfer-in-progress', 'config-change-in-progress', 'bad-request', 'not-a-member', 'already-member',
  'not-a-learner', 'not-a-voter', 'last-voter', 'catch-up-timeout', 'transfer-timeout',
]);

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
