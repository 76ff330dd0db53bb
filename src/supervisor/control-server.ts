// The supervisor's control server (loopback only): process control (kill, pause, resume, restart;
// root only when the nodes have authentication on), the node list and its event stream, a
// key-value, lease and auth proxy to the nodes, a pass-through of a node's watch stream
// (watch-proxy.ts), STONITH targets (stonith.ts: registered processes a lock's next holder has
// killed), for the quorum service a few dkv routes of a named node (quorum-proxy.ts), and the
// dashboard at its root, so the page needs no CORS.
import { createServer, type IncomingMessage } from 'node:http';
import { originGuard } from '../server/guard.js';
import { expectObject, HttpError, Router, serve, type ApiResponse, type RequestGuard } from '../server/http.js';
import { serveDashboard } from './dashboard.js';
import { SupervisorError } from './errors.js';
import { callApi, encodeSegment, type ClientTls } from './node-client.js';
import type { NodeProcesses } from './processes.js';
import { addQuorumRoutes } from './quorum-proxy.js';
import { describeNode, StatusFeed, type NodeInfo } from './status-feed.js';
import { StonithTargets } from './stonith.js';
import { WatchProxy } from './watch-proxy.js';

/** One attempt of the key-value proxy (a follower forwards to the leader, which waits up to 5 s). */
const KV_PROXY_TIMEOUT_MS = 6000;
/** The largest request body the control API reads. */
const CONTROL_BODY_LIMIT_BYTES = 1 << 16;
/** The longest query value the lease routes pass on (ids, counts, "true", "serializable"). */
const LEASE_QUERY_MAX_CHARS = 20;

export interface ControlServerOptions {
  readonly port: number;
  readonly processes: NodeProcesses;
  /** Each node's client endpoint, by id. */
  readonly endpoints: Readonly<Record<string, string>>;
  /** The built dashboard to serve at the root. */
  readonly webDir: string;
  readonly tls: ClientTls;
  /** The service the nodes run (the dashboard picks its view from it). */
  readonly service: string;
}

export interface ControlServer {
  /** Something changed (a process started, stopped, paused): push fresh state to the dashboards now. */
  changed(): void;
  close(): void;
}

/** The HTTP status of a process-control refusal. */
const STATUS_OF_CODE: Readonly<Record<string, number>> = { NO_SUCH_NODE: 404, NOT_RUNNING: 409, RUNNING: 409, NO_SUCH_TARGET: 404, NO_SUCH_PROCESS: 404, PROTECTED_PROCESS: 403, TOO_MANY_TARGETS: 429, STONITH_FAILED: 500 };

export async function startControlServer(o: ControlServerOptions): Promise<ControlServer> {
  const { processes, endpoints, tls } = o;
  const snapshot = (): Promise<NodeInfo[]> => Promise.all(processes.list().map((p) => describeNode(p, endpoints[p.id] as string, tls)));
  const feed = new StatusFeed(snapshot);
  const order = (): string[] => nodeOrder(processes, feed.leader());
  const proxy = (method: 'GET' | 'PUT' | 'POST', path: string, body: unknown, authorization?: string): Promise<ApiResponse> => proxyToNodes(order(), endpoints, method, path, body, tls, authorization);
  const watches = new WatchProxy({ order, endpoints, tls });
  /** With authentication on, process control is for root: the caller's token is checked by a node. */
  const requireRoot = async (headers: ReadonlyMap<string, string>): Promise<void> => {
    const answer = await proxy('GET', '/v1/auth/whoami', undefined, headers.get('authorization')).catch(() => undefined);
    // a service without users (clock sync) has no whoami: nothing to check
    if (answer?.status === 404) return;
    const who = answer?.body as { authEnabled?: boolean; user?: string | null; roles?: string[] } | undefined;
    if (who === undefined || answer?.status !== 200) throw new HttpError(503, 'NO_NODE_ANSWERED', 'no node could say whether authentication is on; try again', { safeToRetry: true });
    if (who.authEnabled !== true) return;
    if (who.user == null) throw new HttpError(401, 'UNAUTHENTICATED', 'authentication is on: log in as root to control the nodes');
    if (!(who.roles ?? []).includes('root')) throw new HttpError(403, 'PERMISSION_DENIED', `${who.user} is not root`);
  };
  const act = async (r: { headers: ReadonlyMap<string, string> }, fn: () => unknown): Promise<ApiResponse> => {
    await requireRoot(r.headers);
    let result: unknown;
    try {
      result = await fn();
    } catch (err) {
      if (err instanceof SupervisorError) throw new HttpError(STATUS_OF_CODE[err.code] ?? 400, err.code, err.message);
      throw err;
    }
    feed.poke();
    return { status: 200, body: typeof result === 'object' && result !== null ? { ok: true, ...result } : { ok: true } };
  };
  // never the node processes (the supervisor itself and its ancestors are refused by StonithTargets)
  const stonith = new StonithTargets(() => processes.list().flatMap((p) => (p.pid === null ? [] : [p.pid])));
  const kv = (method: 'GET' | 'PUT', key: string, body: unknown, headers: ReadonlyMap<string, string>): Promise<ApiResponse> => proxy(method, `/v1/kv/${encodeSegment(key)}`, body, headers.get('authorization'));
  const put = (r: { params: Readonly<Record<string, string>>; body: unknown; headers: ReadonlyMap<string, string> }): Promise<ApiResponse> => {
    const body = expectObject(r.body, 'put');
    if (!('value' in body)) throw new HttpError(400, 'BAD_REQUEST', 'put: the body needs a "value"');
    return kv('PUT', r.params['key'] as string, { value: body['value'] }, r.headers);
  };
  const id = (r: { params: Readonly<Record<string, string>> }): string => r.params['id'] as string;
  const leases = (path: string, r: { query: URLSearchParams; headers: ReadonlyMap<string, string> }): Promise<ApiResponse> => proxy('GET', `${path}${forwardQuery(r.query, LEASE_QUERY_MAX_CHARS)}`, undefined, r.headers.get('authorization'));
  // access 'public' here: the supervisor has no users of its own; the nodes check the credentials it passes on
  const open = { access: 'public' } as const;
  const router = new Router()
    // what the dashboard needs first: which service the nodes run (it picks its view from it)
    .add('GET', '/api/cluster', () => ({ status: 200, body: { service: o.service, nodes: processes.size() } }), open)
    .add('GET', '/api/nodes', async () => ({ status: 200, body: await snapshot() }), open)
    .add('POST', '/api/nodes/:id/kill', (r) => act(r, () => processes.signal(id(r), 'SIGKILL')), open)
    .add('POST', '/api/nodes/:id/pause', (r) => act(r, () => processes.signal(id(r), 'SIGSTOP')), open)
    .add('POST', '/api/nodes/:id/resume', (r) => act(r, () => processes.signal(id(r), 'SIGCONT')), open)
    .add('POST', '/api/nodes/:id/restart', (r) => act(r, () => processes.restart(id(r))), open)
    // STONITH (docs/locks.md): a process registers itself; a lock's next holder powers it off by id
    .add('POST', '/api/stonith/targets', (r) => act(r, () => stonith.register(expectObject(r.body, 'register')['pid'])), open)
    .add('DELETE', '/api/stonith/targets/:id', (r) => act(r, () => stonith.unregister(id(r))), open)
    .add('POST', '/api/stonith/targets/:id/power-off', (r) => act(r, () => stonith.powerOff(id(r))), open)
    .add('GET', '/api/kv/:key', (r) => kv('GET', r.params['key'] as string, undefined, r.headers), open)
    .add('POST', '/api/kv/:key', put, open)
    .add('PUT', '/api/kv/:key', put, open)
    // the lease table: the list (a read), and one lease's time left and keys (a read on the leader)
    .add('GET', '/api/leases', (r) => leases('/v1/leases', r), { query: ['after', 'limit', 'consistency'], ...open })
    .add('GET', '/api/leases/:id', (r) => leases(`/v1/leases/${encodeSegment(id(r))}`, r), { query: ['keys'], ...open })
    .add('POST', '/api/auth/token', (r) => proxy('POST', '/v1/auth/token', r.body), open)
    .add('GET', '/api/auth/whoami', (r) => proxy('GET', '/v1/auth/whoami', undefined, r.headers.get('authorization')), open);
  // the live quorum view asks named nodes for the ring, their own copies, reads, writes and repair
  if (o.service === 'quorum') addQuorumRoutes(router, { processes, endpoints, tls, changed: () => feed.poke() });
  // the dashboard is the only web page allowed to drive the cluster; DNS rebinding is refused by Host
  const guard = originGuard({ allowedOrigins: [`http://127.0.0.1:${o.port}`, `http://localhost:${o.port}`, `http://[::1]:${o.port}`] });
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const refusal = refusalOf(guard, req, path);
    if (refusal !== undefined) {
      res.writeHead(refusal.status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: refusal.code, message: refusal.message } }) + '\n');
      return;
    }
    if (path === '/api/events' && req.method === 'GET') return feed.add(req, res);
    // a stream, which the router cannot answer
    if (path === '/api/watch') return watches.handle(req, res);
    if (path === '/api' || path.startsWith('/api/')) return void serve(router, req, res, CONTROL_BODY_LIMIT_BYTES, () => {});
    void serveDashboard(o.webDir, path, req, res);
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', (err) => fail(new SupervisorError('PORT_IN_USE', `cannot listen on 127.0.0.1:${o.port}: ${err.message}`, 1)));
    server.listen(o.port, '127.0.0.1', ok);
  });
  return {
    changed: () => feed.poke(),
    close: () => {
      feed.close();
      watches.close();
      server.close();
      server.closeAllConnections();
    },
  };
}

/** The guard's refusal of a request to the control server, if any. */
function refusalOf(guard: RequestGuard, req: IncomingMessage, path: string): HttpError | undefined {
  const headers = new Map<string, string>();
  for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string') headers.set(name, value);
  try {
    guard({ method: req.method ?? 'GET', target: req.url ?? '/', headers, remoteAddress: req.socket.remoteAddress ?? '', body: undefined }, path);
    return undefined;
  } catch (err) {
    if (err instanceof HttpError) return err;
    throw err;
  }
}

/** The running nodes, the leader first (as of the latest poll) when it runs. */
function nodeOrder(processes: NodeProcesses, leader: string | undefined): string[] {
  const running = processes.running();
  return leader !== undefined && running.includes(leader) ? [leader, ...running.filter((id) => id !== leader)] : running;
}

/** A query to pass on to a node, re-encoded from its decoded values ("" or "?a=b&..."); each value at most `maxChars`. */
function forwardQuery(query: URLSearchParams, maxChars: number): string {
  const parts: string[] = [];
  for (const [name, value] of query) {
    if (value.length > maxChars) throw new HttpError(400, 'BAD_QUERY', `"${name}" may have at most ${maxChars} characters`);
    parts.push(`${encodeURIComponent(name)}=${encodeURIComponent(value)}`);
  }
  return parts.length === 0 ? '' : `?${parts.join('&')}`;
}

/**
 * Sends a request to the nodes in `order` (the leader first), one after the other. A node that
 * cannot be reached, or answers 503 (no leader known, leader unreachable), is skipped; any other
 * answer is passed on with `via`, the node that answered.
 */
async function proxyToNodes(order: readonly string[], endpoints: Readonly<Record<string, string>>, method: 'GET' | 'PUT' | 'POST', path: string, body: unknown, tls: ClientTls, authorization?: string): Promise<ApiResponse> {
  if (order.length === 0) throw new HttpError(503, 'NO_NODE_RUNNING', 'no node process is running (paused or stopped ones cannot answer); restart one');
  const tried: string[] = [];
  for (const [i, id] of order.entries()) {
    let answer: { status: number; body: unknown };
    try {
      answer = await callApi([endpoints[id] as string], method, path, body, KV_PROXY_TIMEOUT_MS, { tls, ...(authorization === undefined ? {} : { headers: { authorization } }) });
    } catch (err) {
      tried.push(`node ${id}: ${(err as Error).message}`);
      continue;
    }
    const b = typeof answer.body === 'object' && answer.body !== null && !Array.isArray(answer.body) ? (answer.body as Record<string, unknown>) : { body: answer.body };
    if (answer.status === 503 && i < order.length - 1) {
      const error = b['error'] as { code?: string } | undefined;
      tried.push(`node ${id}: ${error?.code ?? 'HTTP 503'}`);
      continue;
    }
    return { status: answer.status, body: { ...b, via: id, tried } };
  }
  throw new HttpError(503, 'NO_NODE_ANSWERED', `no node could serve the request (${tried.join('; ')})`, { tried });
}
