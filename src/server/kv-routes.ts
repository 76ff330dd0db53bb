// The KV routes after etcd v3 beside the first version's (api.ts): txn, compaction, range delete
// and watch streams. Writes go through Raft with the caller's client session, so a retry applies
// once; the cluster's own "_synod/" keys stay out of reach (reserved keys refused, ranges exclude
// them); every request is decoded strictly and answered with a typed error when it is bad.
import type { JsonValue } from '../core/index.js';
import { decodeKvRequest, kvLimitProblem, type Compare, type DeleteRequest, type KvCommand, type RangeRequest, type TxnOp, type TxnRequest } from '../kv/index.js';
import { callLeader, command, minLeaseTtlOf, RESERVED_PREFIX, type ApiBackend } from './api.js';
import { expectObject, HttpError, type ApiRequest, type ApiResponse, type Router } from './http.js';
import { authorizeAll, boundParam, checkResult, type AccessCheck } from './kv-api-util.js';
import { parseWatchQuery, WATCH_QUERY, watchAccess, type WatchHub } from './kv-watch.js';

const ANY_USER = { access: 'user' } as const;
/** Fields a request body may hold besides its own: the client session. */
const SESSION_FIELDS = ['clientId', 'seq'] as const;
const NDJSON_HEADERS = { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' } as const;

/** Adds the txn, compaction, range-delete and watch routes (`watches` serves this node's watchers). */
export function addKvRoutes(router: Router, backend: ApiBackend, watches: WatchHub): void {
  router
    // permissions are checked per key and range inside: the router's per-route access cannot name them
    .add('POST', '/v1/txn', (req) => txnRoute(backend, req), ANY_USER)
    .add('POST', '/v1/compact', (req) => compactRoute(backend, req))
    .add('DELETE', '/v1/kv', (req) => deleteRangeRoute(backend, req), { query: ['prefix', 'start', 'end'], ...ANY_USER })
    .add('GET', '/v1/watch', (req) => watchRoute(backend, watches, req), { query: WATCH_QUERY, ...ANY_USER });
}

/** Refuses a body field the route does not know: a typo is never ignored. */
function onlyFields(body: Record<string, unknown>, allowed: readonly string[], what: string): void {
  for (const name of Object.keys(body)) {
    if (!allowed.includes(name) && !(SESSION_FIELDS as readonly string[]).includes(name)) {
      throw new HttpError(400, 'BAD_REQUEST', `${what} takes no field ${JSON.stringify(name.slice(0, 60))} (it takes: ${[...allowed, ...SESSION_FIELDS].join(', ')})`);
    }
  }
}

/** Runs a write on the leader with the body's client session; store errors become HTTP errors. */
async function leaderWrite(backend: ApiBackend, op: KvCommand, req: ApiRequest, body: unknown, asked?: number): Promise<ApiResponse> {
  const request = command(op, body);
  // with a session the write applies once however often it is sent, so a forward may follow a new leader
  const answer = await callLeader(backend, request, req, request.type === 'command' && request.clientId !== null);
  return checkResult(answer, asked);
}

// ================================================================ txn

const TXN_FIELDS = ['compare', 'success', 'failure'] as const;
/** Fields each txn operation and compare may have at this API (the store's decoder is lenient forever; the API is strict). */
const OP_FIELDS: Readonly<Record<string, readonly string[]>> = {
  put: ['op', 'key', 'value', 'lease', 'ignoreLease', 'prevKv'],
  delete: ['op', 'key', 'end', 'prefix', 'prevKv'],
  get: ['op', 'key'],
  range: ['op', 'start', 'end', 'prefix', 'limit'],
  leaseGrant: ['op', 'ttlMs', 'id'],
  txn: ['op', 'compare', 'success', 'failure'],
};
const COMPARE_FIELDS = ['key', 'target', 'cmp', 'value'];

async function txnRoute(backend: ApiBackend, req: ApiRequest): Promise<ApiResponse> {
  const body = expectObject(req.body, 'txn');
  onlyFields(body, TXN_FIELDS, 'txn');
  const raw: Record<string, JsonValue> = { op: 'txn' };
  for (const name of TXN_FIELDS) if (body[name] !== undefined) raw[name] = body[name] as JsonValue;
  const decoded = decodeKvRequest(raw);
  if (!decoded.ok) throw new HttpError(400, 'BAD_REQUEST', `txn: ${decoded.problem}`);
  if (decoded.value.op !== 'txn') throw new HttpError(400, 'BAD_REQUEST', 'txn: not a txn');
  // the decoder bounded the nesting and the number of operations, so these walks are bounded too
  const unknown = unknownTxnField(raw);
  if (unknown !== null) throw new HttpError(400, 'BAD_REQUEST', `txn: ${unknown}`);
  const checks: AccessCheck[] = [];
  const txn = guardTxn(decoded.value, checks, minLeaseTtlOf(backend));
  const limit = kvLimitProblem(txn);
  if (limit !== null) throw new HttpError(400, 'BAD_REQUEST', `txn: ${limit}`);
  authorizeAll(backend.auth, req.principal, checks);
  return leaderWrite(backend, txn, req, body);
}

/** The first field of an operation or compare that the API does not know, described; null when there is none. */
function unknownTxnField(txn: Record<string, JsonValue>): string | null {
  for (const c of (txn['compare'] ?? []) as JsonValue[]) {
    const extra = Object.keys(c as object).find((name) => !COMPARE_FIELDS.includes(name));
    if (extra !== undefined) return `a compare takes no field ${JSON.stringify(extra.slice(0, 60))} (it takes: ${COMPARE_FIELDS.join(', ')})`;
  }
  for (const branch of ['success', 'failure']) {
    for (const op of (txn[branch] ?? []) as Record<string, JsonValue>[]) {
      const allowed = OP_FIELDS[op['op'] as string] ?? [];
      const extra = Object.keys(op).find((name) => !allowed.includes(name));
      if (extra !== undefined) return `${String(op['op'])} in a txn takes no field ${JSON.stringify(extra.slice(0, 60))} (it takes: ${allowed.join(', ')})`;
      if (op['op'] === 'txn') {
        const inner = unknownTxnField(op);
        if (inner !== null) return inner;
      }
    }
  }
  return null;
}

function reserved(key: string): never {
  throw new HttpError(400, 'RESERVED_KEY', `keys under "${RESERVED_PREFIX}" are reserved for the cluster (txn names ${JSON.stringify(key.slice(0, 60))})`);
}

/**
 * The txn as the API sends it to the log: reserved keys refused, every range read and range
 * delete made to skip the cluster's own keys; `checks` gets the permission each operation needs.
 */
function guardTxn(txn: TxnRequest, checks: AccessCheck[], minLeaseTtlMs: number): TxnRequest {
  const compare = txn.compare.map((c: Compare): Compare => {
    if (c.key.startsWith(RESERVED_PREFIX)) reserved(c.key);
    checks.push({ key: c.key, write: false });
    return c;
  });
  const branch = (ops: readonly TxnOp[]): TxnOp[] => ops.map((op) => guardOp(op, checks, minLeaseTtlMs));
  return { op: 'txn', compare, success: branch(txn.success), failure: branch(txn.failure) };
}

function guardOp(op: TxnOp, checks: AccessCheck[], minLeaseTtlMs: number): TxnOp {
  switch (op.op) {
    case 'put':
    case 'get':
      if (op.key.startsWith(RESERVED_PREFIX)) reserved(op.key);
      checks.push({ key: op.key, write: op.op === 'put' });
      return op;
    case 'delete':
      return guardDelete(op, checks);
    case 'range': {
      const r: RangeRequest = op;
      checks.push({ range: { ...(r.prefix === undefined ? {} : { prefix: r.prefix }), ...(r.start === undefined ? {} : { start: r.start }), ...(r.end === undefined ? {} : { end: r.end }) }, write: false });
      return { ...r, exclude: RESERVED_PREFIX };
    }
    case 'leaseGrant':
      // the same floor as POST /v1/leases: a lease must be able to outlive an election
      if (op.ttlMs < minLeaseTtlMs) throw new HttpError(400, 'BAD_REQUEST', `txn: a lease lasts ${minLeaseTtlMs} ms at the least (1.5 × the election timeout), not ${op.ttlMs}`);
      return op;
    case 'txn':
      return guardTxn(op, checks, minLeaseTtlMs);
  }
}

function guardDelete(op: DeleteRequest, checks: AccessCheck[]): DeleteRequest {
  if ('prefix' in op) {
    checks.push({ range: { prefix: op.prefix }, write: true });
    return { ...op, exclude: RESERVED_PREFIX };
  }
  if ('end' in op) {
    checks.push({ range: { start: op.key, end: op.end }, write: true });
    return { ...op, exclude: RESERVED_PREFIX };
  }
  if (op.key.startsWith(RESERVED_PREFIX)) reserved(op.key);
  checks.push({ key: op.key, write: true });
  return op;
}

// ================================================================ compaction

async function compactRoute(backend: ApiBackend, req: ApiRequest): Promise<ApiResponse> {
  const body = expectObject(req.body, 'compact');
  onlyFields(body, ['revision'], 'compact');
  const revision = body['revision'];
  if (typeof revision !== 'number' || !Number.isSafeInteger(revision) || revision < 1) throw new HttpError(400, 'BAD_REVISION', 'compact needs a whole number "revision" >= 1');
  return leaderWrite(backend, { op: 'compact', revision }, req, body, revision);
}

// ================================================================ range delete

async function deleteRangeRoute(backend: ApiBackend, req: ApiRequest): Promise<ApiResponse> {
  const body = req.body === undefined ? {} : expectObject(req.body, 'delete');
  onlyFields(body, ['prevKv'], 'delete');
  const prevKv = body['prevKv'];
  if (prevKv !== undefined && typeof prevKv !== 'boolean') throw new HttpError(400, 'BAD_REQUEST', '"prevKv" must be true or false');
  const q = req.query;
  const prefix = q.get('prefix');
  const start = q.get('start');
  const end = q.get('end');
  const extra = { exclude: RESERVED_PREFIX, ...(prevKv === true ? { prevKv: true } : {}) };
  let op: DeleteRequest;
  if (prefix !== null) {
    if (start !== null || end !== null) throw new HttpError(400, 'BAD_REQUEST', 'a range delete takes "prefix", or "start" and "end", not both');
    op = { op: 'delete', prefix: boundParam(prefix, 'prefix'), ...extra };
  } else {
    if (start === null || end === null) throw new HttpError(400, 'BAD_REQUEST', 'a range delete needs "prefix" (all keys: prefix=), or "start" and "end" (the keys in [start, end)); DELETE /v1/kv/KEY deletes one key');
    if (start === '') throw new HttpError(400, 'BAD_KEY', '"start" must not be empty (use prefix= for every key)');
    if (end < start) throw new HttpError(400, 'BAD_REQUEST', '"end" must not sort before "start" (the range is [start, end))');
    op = { op: 'delete', key: boundParam(start, 'start'), end: boundParam(end, 'end'), ...extra };
  }
  const limit = kvLimitProblem(op);
  if (limit !== null) throw new HttpError(400, 'BAD_KEY', limit);
  authorizeAll(backend.auth, req.principal, [{ range: 'prefix' in op ? { prefix: op.prefix } : { start: op.key, end: (op as { end: string }).end }, write: true }]);
  return leaderWrite(backend, op, req, body);
}

// ================================================================ watch

function watchRoute(backend: ApiBackend, watches: WatchHub, req: ApiRequest): ApiResponse {
  const spec = parseWatchQuery(req.query, watches.limits.progressMs);
  authorizeAll(backend.auth, req.principal, watchAccess(spec));
  // served here, from this node's applied state: a watch is never forwarded to the leader
  return { status: 200, headers: NDJSON_HEADERS, body: null, stream: watches.open(spec) };
}
