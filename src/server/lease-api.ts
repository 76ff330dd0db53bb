// The KV service's lease routes: grant, revoke, keep-alive, time to live and list (docs/kv.md,
// "Leases over HTTP"). Grants and revokes are commands; a keep-alive and the time left are
// leader-local reads (the leader answers them after confirming its leadership); the list is a read.
// Every field is checked here, so hostile input gets a 400 with the reason.
import type { JsonValue } from '../core/index.js';
import { MAX_LEASE_TTL_MS, type KvCommand, type KvQuery } from '../kv/index.js';
import type { Authenticator } from './auth.js';
import { expectObject, HttpError, type ApiRequest, type ApiResponse, type Router } from './http.js';

/** What the lease routes need from the API they are part of (api.ts hands them its own paths). */
export interface LeaseRouteDeps {
  readonly auth: Authenticator;
  /** The shortest TTL granted (1.5 × the maximum election timeout, as etcd's minimum). */
  readonly minTtlMs: number;
  /** A KV command through the leader, with the body's optional session (clientId, seq). */
  write(op: KvCommand, req: ApiRequest, body: unknown): Promise<ApiResponse>;
  /** A KV query, linearizable unless the request asks for consistency=serializable. */
  read(query: KvQuery, req: ApiRequest): Promise<ApiResponse>;
  /** A leader-local read of the store's leader duties, on the leader (forwarded there). */
  leaderRead(op: JsonValue, req: ApiRequest): Promise<ApiResponse>;
  /** The keys attached to a lease in this node's applied state. */
  localKeys(id: number): readonly string[];
}

/** Any authenticated user may hold leases; keys are checked one by one where a route touches them. */
const ANY_USER = { access: 'user' } as const;

export function addLeaseRoutes(router: Router, deps: LeaseRouteDeps): void {
  router
    .add('POST', '/v1/leases', (req) => {
      const body = expectObject(req.body ?? {}, 'lease grant');
      const ttlMs = wholeNumber(body['ttlMs'], 'ttlMs', deps.minTtlMs, MAX_LEASE_TTL_MS, `a lease lasts ${deps.minTtlMs} ms at the least (1.5 × the election timeout, so that it can outlive an election) and ten years at the most`);
      const id = body['id'] === undefined ? undefined : wholeNumber(body['id'], 'id', 1, Number.MAX_SAFE_INTEGER);
      return deps.write(id === undefined ? { op: 'leaseGrant', ttlMs } : { op: 'leaseGrant', ttlMs, id }, req, body);
    }, ANY_USER)
    .add('GET', '/v1/leases', (req) => {
      const query: { op: 'leaseList'; after?: number; limit?: number } = { op: 'leaseList' };
      const after = req.query.get('after');
      if (after !== null) query.after = wholeNumber(numberOf(after, 'after'), 'after', 0, Number.MAX_SAFE_INTEGER);
      const limit = req.query.get('limit');
      if (limit !== null) query.limit = wholeNumber(numberOf(limit, 'limit'), 'limit', 1, 100_000);
      return deps.read(query, req);
    }, { query: ['after', 'limit', 'consistency'], access: 'user' })
    .add('GET', '/v1/leases/:id', (req) => {
      const id = idOf(req);
      const keys = req.query.get('keys');
      if (keys !== null && keys !== 'true' && keys !== 'false') throw new HttpError(400, 'BAD_REQUEST', '"keys" must be true or false');
      // the names of the keys are theirs to read: a user sees them only with read access to each
      if (keys === 'true') for (const key of deps.localKeys(id)) deps.auth.authorize(req.principal ?? null, { key: 'read' }, { params: { key }, query: req.query });
      return deps.leaderRead(keys === 'true' ? { op: 'leaseTimeToLive', id, keys: true } : { op: 'leaseTimeToLive', id }, req);
    }, { query: ['keys'], access: 'user' })
    .add('POST', '/v1/leases/:id/keep-alive', (req) => deps.leaderRead({ op: 'leaseKeepAlive', id: idOf(req) }, req), ANY_USER)
    .add('DELETE', '/v1/leases/:id', (req) => {
      const id = idOf(req);
      // a revoke deletes every key attached: the caller must be allowed to delete each (as etcd checks)
      for (const key of deps.localKeys(id)) deps.auth.authorize(req.principal ?? null, { key: 'write' }, { params: { key }, query: req.query });
      return deps.write({ op: 'leaseRevoke', id }, req, req.body ?? {});
    }, ANY_USER);
}

function idOf(req: ApiRequest): number {
  const text = req.params['id'] ?? '';
  if (!/^[1-9]\d{0,15}$/.test(text) || !Number.isSafeInteger(Number(text))) throw new HttpError(400, 'BAD_LEASE_ID', 'a lease id is a whole number >= 1');
  return Number(text);
}

/** A query parameter as a number (checked further by wholeNumber). */
function numberOf(text: string, name: string): number {
  if (!/^\d{1,16}$/.test(text)) throw new HttpError(400, 'BAD_REQUEST', `"${name}" must be a whole number`);
  return Number(text);
}

function wholeNumber(value: unknown, name: string, min: number, max: number, why?: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new HttpError(400, 'BAD_REQUEST', `"${name}" must be a whole number from ${min} to ${max}${why === undefined ? '' : `: ${why}`}`);
  }
  return value;
}
