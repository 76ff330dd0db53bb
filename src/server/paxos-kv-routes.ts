// The Paxos KV's HTTP routes: the Raft KV's key routes with the same requests, answers and errors
// (api.ts's parsing, callLeader and forwarding are shared), for what Multi-Paxos serves here:
// get and list (linearizable through a quorum read round, or serializable from this node), put,
// delete, cas and incr (with a client session a retry applies once). What the Raft KV has and
// this service does not (txn, watch, leases, compaction, range delete, membership, backups,
// users) answers 404 NOT_SUPPORTED, so a client learns it at once rather than retrying.
import type { JsonValue } from '../core/index.js';
import { depthOf, type KvCommand, type KvQuery } from '../kv/index.js';
import { MAX_NAME_LENGTH } from '../paxos/ballot.js';
import type { PaxosRequest, PaxosResponse } from '../paxos/multi/types.js';
import { callLeader, casOf, command, keyOf, rangeOf, read, RESERVED_PREFIX, type LeaderBackend, type LeaderCall } from './api.js';
import { expectObject, HttpError, type ApiRequest, type ApiResponse, type Router } from './http.js';
import { checkResult, revisionOf } from './kv-api-util.js';
import { WATCH_QUERY } from './kv-watch.js';

/** What the routes need of the node. */
export interface PaxosKvBackend extends LeaderBackend {
  /** A read of this node's applied state (serializable: possibly stale). */
  queryLocal(query: KvQuery): JsonValue;
  /** A request this node answers itself (snapshot, campaign); undefined when it did not answer in time. */
  local(request: PaxosRequest, timeoutMs: number): Promise<PaxosResponse | undefined>;
}

const OPEN = { access: 'public' } as const;
/**
 * Deepest nesting of a value this service takes, below the KV's own 64: the Paxos core checks
 * every message and durable op it reads to a depth of 64 (src/paxos/values.ts), and a value sits
 * 5 levels deep in a snapshot (data, machine, history, record, versions) and 2 in an accept. A
 * value past 59 would be written and then refused when read back: its snapshot could not be
 * sent to a follower, nor recovered by the node that wrote it.
 */
export const PAXOS_KV_MAX_VALUE_DEPTH = 56;
const NO_BODY = {};
const LOCAL_TIMEOUT_MS = 5000;

/** Routes of the Raft KV that this service does not have, with what to say instead. */
const NOT_SUPPORTED: readonly (readonly [method: string, path: string, what: string, query?: readonly string[]])[] = [
  ['POST', '/v1/txn', 'transactions'],
  ['POST', '/v1/compact', 'compaction on request (history is compacted automatically: autoCompactRetainRevisions)'],
  ['DELETE', '/v1/kv', 'range deletes', ['prefix', 'start', 'end']],
  ['GET', '/v1/watch', 'watches', WATCH_QUERY],
  ['GET', '/v1/leases', 'leases', ['limit', 'after']],
  ['POST', '/v1/leases', 'leases'],
  ['GET', '/v1/members', 'membership changes (the members are fixed in the cluster file)'],
  ['POST', '/v1/members', 'membership changes (the members are fixed in the cluster file)'],
  ['POST', '/v1/leader/transfer', 'leadership transfer (POST /v1/campaign makes a node run phase 1)'],
  ['GET', '/v1/snapshot', 'backups (synod snapshot save)'],
  ['POST', '/v1/auth/token', 'authentication'],
];

/** Adds the Paxos KV's routes; the node's own (/health, /readyz, /metrics, /v1/status) are there already. */
export function addPaxosKvRoutes(router: Router, backend: PaxosKvBackend): void {
  const leaderCall: LeaderCall = (request, req, redirectSafe) => callLeader(backend, request, req, redirectSafe);
  const write = (op: KvCommand, req: ApiRequest, body: unknown): Promise<ApiResponse> => {
    for (const [name, value] of valuesOf(op)) {
      if (depthOf(value, PAXOS_KV_MAX_VALUE_DEPTH) > PAXOS_KV_MAX_VALUE_DEPTH) throw new HttpError(400, 'BAD_VALUE', `${name} nests arrays and objects deeper than ${PAXOS_KV_MAX_VALUE_DEPTH} levels (the paxos-kv service's limit)`, { safeToRetry: false });
    }
    const request = command(op, body);
    if (request.type === 'command' && request.clientId !== null && request.clientId.length > MAX_NAME_LENGTH) {
      throw new HttpError(400, 'BAD_SESSION', `the paxos-kv service takes a "clientId" of at most ${MAX_NAME_LENGTH} characters`);
    }
    // with a session the write applies once however often it is sent, so a forward may follow a new leader
    return leaderCall(request, req, request.type === 'command' && request.clientId !== null);
  };
  router
    .add('GET', '/v1/kv', async (req) => checkResult(await read(backend, leaderCall, { op: 'range', ...rangeOf(req), exclude: RESERVED_PREFIX, ...revisionOf(req) }, req), revisionOf(req).revision), { query: ['prefix', 'start', 'end', 'limit', 'consistency', 'revision'], ...OPEN })
    .add('GET', '/v1/kv/:key', async (req) => checkResult(await read(backend, leaderCall, { op: 'get', key: keyOf(req), ...revisionOf(req) }, req), revisionOf(req).revision), { query: ['consistency', 'revision'], ...OPEN })
    .add('PUT', '/v1/kv/:key', (req) => {
      const body = expectObject(req.body, 'put');
      if (!('value' in body)) throw new HttpError(400, 'BAD_REQUEST', 'put: the body needs a "value"');
      const lease = body['lease'];
      if (lease !== undefined && lease !== 0) throw new HttpError(400, 'NOT_SUPPORTED', 'put: the paxos-kv service has no leases; send no "lease" (docs/paxos.md, "Real processes")', { safeToRetry: false });
      return write({ op: 'put', key: keyOf(req), value: body['value'] as JsonValue }, req, body);
    }, OPEN)
    .add('DELETE', '/v1/kv/:key', (req) => {
      const body = req.body === undefined ? NO_BODY : expectObject(req.body, 'delete');
      return write({ op: 'delete', key: keyOf(req) }, req, body);
    }, OPEN)
    .add('POST', '/v1/kv/:key/cas', (req) => {
      const body = expectObject(req.body, 'cas');
      return write(casOf(keyOf(req), body), req, body);
    }, OPEN)
    .add('POST', '/v1/kv/:key/incr', (req) => {
      const body = req.body === undefined ? NO_BODY : expectObject(req.body, 'incr');
      const by = (body as Record<string, unknown>)['by'] ?? 1;
      if (typeof by !== 'number' || !Number.isFinite(by)) throw new HttpError(400, 'BAD_REQUEST', '"by" must be a finite number');
      return write({ op: 'incr', key: keyOf(req), by }, req, body);
    }, OPEN)
    // this node's own log is compacted: not forwarded to the leader
    .add('POST', '/v1/snapshot', async () => {
      const res = await backend.local({ type: 'snapshot' }, LOCAL_TIMEOUT_MS);
      if (res === undefined || !res.ok || !('result' in res)) throw new HttpError(503, 'SNAPSHOT_FAILED', 'the snapshot could not be taken now', { safeToRetry: true });
      return { status: 200, body: { node: backend.id, ...(res.result as Record<string, JsonValue>) } };
    })
    // this node runs phase 1 now (an operator's "lead"); the outcome shows in /v1/status
    .add('POST', '/v1/campaign', async () => {
      const res = await backend.local({ type: 'campaign' }, LOCAL_TIMEOUT_MS);
      if (res === undefined || !res.ok || !('status' in res)) throw new HttpError(503, 'CAMPAIGN_FAILED', 'the node did not start phase 1 now', { safeToRetry: true });
      return { status: 200, body: { node: backend.id, started: true } };
    });
  for (const [method, path, what, query] of NOT_SUPPORTED) {
    router.add(method, path, () => {
      throw new HttpError(404, 'NOT_SUPPORTED', `the paxos-kv service has no ${what}; the Raft KV (--service kv) has (docs/paxos.md, "Real processes")`, { safeToRetry: false });
    }, { ...(query === undefined ? {} : { query }), ...OPEN });
  }
}

/** The values a write carries, by name (for the depth check). */
function valuesOf(op: KvCommand): [string, JsonValue][] {
  switch (op.op) {
    case 'put':
      return [['value', op.value]];
    case 'cas':
      return [['"from"', op.from], ['"to"', op.to]];
    case 'casVersion':
      return [['value', op.value]];
    default:
      return [];
  }
}
