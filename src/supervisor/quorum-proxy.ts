// The control server's routes for the dashboard's live quorum view (service "quorum" only): a few
// of one node's dkv routes, passed to the node the page names, since the page cannot reach the
// nodes itself (they serve HTTPS with the cluster's own CA, and refuse other origins).
// Each request goes to exactly that node and is never retried on another: a write retried
// elsewhere would be a second write (a second dot, perhaps a sibling), and a read or a copy is
// asked of a node on purpose. The node's status and body come back unchanged.
import { expectObject, HttpError, type ApiRequest, type ApiResponse, type Router } from '../server/http.js';
import { SupervisorError } from './errors.js';
import { callApi, encodeSegment, type ClientTls } from './node-client.js';
import type { NodeProcesses } from './processes.js';

/** A read or write waits up to 2 × the store's request timeout plus slack on the node (4 s by default). */
const REQUEST_TIMEOUT_MS = 6000;
/** The ring and a node's own copy are answered at once; the page polls them about once a second. */
const LOOKUP_TIMEOUT_MS = 3000;
/** The longest query value passed on: a key (the store takes up to 1,024 characters). */
const QUERY_MAX_CHARS = 1024;

export interface QuorumProxyOptions {
  readonly processes: NodeProcesses;
  readonly endpoints: Readonly<Record<string, string>>;
  readonly tls: ClientTls;
  /** A write or repair changed the nodes' state: poll their status now. */
  readonly changed: () => void;
}

/**
 * Adds, under /api/nodes/:id/, the node's /v1/ring, /v1/dkv-local/:bucket/:key, GET and PUT
 * /v1/dkv/:bucket/:key and POST /v1/dkv-repair. Public here: the caller's Authorization header is
 * passed on, and the node authorizes it as it does its own routes (with an auth file that has
 * "enabled": true); the control server's Origin and Host guard runs before any of them, as for
 * its other writes.
 */
export function addQuorumRoutes(router: Router, o: QuorumProxyOptions): void {
  const open = { access: 'public' } as const;
  const to = async (r: ApiRequest, method: 'GET' | 'PUT' | 'POST', path: string, body: unknown, timeoutMs: number): Promise<ApiResponse> => {
    const id = r.params['id'] as string;
    const state = o.processes.list().find((p) => p.id === id)?.state;
    const endpoint = o.endpoints[id];
    if (state === undefined || endpoint === undefined) throw new HttpError(404, 'NO_SUCH_NODE', `no node ${JSON.stringify(id.slice(0, 40))}`);
    // a paused process would hold the request until the timeout; a stopped one refuses it
    if (state !== 'running') throw new HttpError(409, 'NOT_RUNNING', `node ${id} is ${state}: it cannot answer`);
    try {
      // the page's token (or Basic credentials) goes with the request: the node decides, as for its own routes
      const authorization = r.headers.get('authorization');
      const answer = await callApi([endpoint], method, path, body, timeoutMs, { tls: o.tls, ...(authorization === undefined ? {} : { headers: { authorization } }) });
      if (method !== 'GET') o.changed();
      return { status: answer.status, body: answer.body };
    } catch (err) {
      if (!(err instanceof SupervisorError)) throw err;
      const unknown = method === 'GET' ? '' : ' (the request may still have taken effect)';
      throw new HttpError(502, 'NODE_UNREACHABLE', `node ${id} did not answer${unknown}: ${err.message}`);
    }
  };
  const dkvPath = (r: ApiRequest, route: string): string => `${route}/${encodeSegment(r.params['bucket'] as string)}/${encodeSegment(r.params['key'] as string)}`;
  router
    .add('GET', '/api/nodes/:id/ring', (r) => to(r, 'GET', `/v1/ring${query(r, ['bucket', 'key'])}`, undefined, LOOKUP_TIMEOUT_MS), { query: ['bucket', 'key'], ...open })
    .add('GET', '/api/nodes/:id/dkv-local/:bucket/:key', (r) => to(r, 'GET', dkvPath(r, '/v1/dkv-local'), undefined, LOOKUP_TIMEOUT_MS), open)
    .add('GET', '/api/nodes/:id/dkv/:bucket/:key', (r) => to(r, 'GET', `${dkvPath(r, '/v1/dkv')}${query(r, ['r'])}`, undefined, REQUEST_TIMEOUT_MS), { query: ['r'], ...open })
    .add('PUT', '/api/nodes/:id/dkv/:bucket/:key', (r) => to(r, 'PUT', dkvPath(r, '/v1/dkv'), writeBody(r.body), REQUEST_TIMEOUT_MS), open)
    .add('POST', '/api/nodes/:id/dkv-repair', (r) => to(r, 'POST', '/v1/dkv-repair', undefined, REQUEST_TIMEOUT_MS), open);
}

/** The named query parameters present, re-encoded ("" or "?a=b&..."). */
function query(r: ApiRequest, names: readonly string[]): string {
  const parts: string[] = [];
  for (const name of names) {
    const value = r.query.get(name);
    if (value === null) continue;
    if (value.length > QUERY_MAX_CHARS) throw new HttpError(400, 'BAD_QUERY', `"${name}" may have at most ${QUERY_MAX_CHARS} characters`);
    parts.push(`${name}=${encodeURIComponent(value)}`);
  }
  return parts.length === 0 ? '' : `?${parts.join('&')}`;
}

/** A put's fields and nothing else (the node checks their types and sizes). */
function writeBody(body: unknown): Record<string, unknown> {
  const b = expectObject(body, 'put');
  if (!('value' in b)) throw new HttpError(400, 'BAD_REQUEST', 'put: the body needs a "value"');
  const out: Record<string, unknown> = { value: b['value'] };
  if ('context' in b) out['context'] = b['context'];
  if ('w' in b) out['w'] = b['w'];
  return out;
}
