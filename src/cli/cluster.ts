// `synod cluster up`: runs a local cluster of real node processes, prints their endpoints,
// supervises them (kill, pause, resume, restart on demand through a small control API), and
// stops them all cleanly on Ctrl-C. The control server also serves the dashboard (the built
// visualizer, web/dist) at its root, a server-sent event stream of every node's state for it
// (/api/events), and a key-value proxy to the nodes (/api/kv/:key), so the page needs no CORS.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { createStream } from 'rotating-file-stream';
import { originGuard } from '../server/guard.js';
import { expectObject, HttpError, Router, serve, type ApiResponse, type RequestGuard } from '../server/http.js';
import { callApi, DEFAULT_CLUSTER_FILE, encodeSegment, type ClientTls } from './client.js';
import { resolveClusterPath } from './admin.js';
import { CliError } from './errors.js';
import { NODE_PROCESS_FLAGS, type ClusterFile } from './node.js';
import { DEFAULT_SERVICE, nodeService, nodeServiceNames } from '../server/services.js';
import { parseIntOption } from './options.js';

interface Child {
  readonly id: string;
  process: ChildProcess | undefined;
  state: 'running' | 'paused' | 'stopped';
  restarts: number;
  /** How the process ended last time, and why as it told us (its last "synod: ..." line). */
  lastExit: ExitInfo | undefined;
}

interface ExitInfo {
  readonly code: number | null;
  readonly signal: string | null;
  readonly reason: string | null;
  readonly at: string;
}

/** Each node's log rotates at this size, keeping this many old files (node.log.1 is the newest). */
const LOG_ROTATE_BYTES = '10M';
const LOG_KEEP_FILES = 5;
/** The tail of a node's stderr kept to find why it exited. */
const STDERR_TAIL_BYTES = 16 * 1024;

export interface ClusterHandle {
  readonly controlUrl: string;
  /** The dashboard page (the visualizer in live mode), served by the control server. */
  readonly dashboardUrl: string;
  readonly endpoints: Record<string, string>;
  readonly dataDir: string;
  /** What a client needs to reach the nodes (the CA, when they serve HTTPS). */
  readonly clientTls: ClientTls;
  kill(id: string, signal?: NodeJS.Signals): void;
  restart(id: string): void;
  stop(): Promise<void>;
}

export function registerClusterCommand(program: Command): void {
  const cluster = program.command('cluster').description('run a local cluster of real node processes');
  cluster
    .command('up')
    .description('start N nodes on this machine, print their endpoints, supervise them until Ctrl-C')
    .option('--service <name>', `the service every node runs: ${nodeServiceNames().join(', ')}`, DEFAULT_SERVICE)
    .option('--nodes <n>', 'number of nodes (default: the service\'s, 3)')
    .option('--data-dir <dir>', 'where each node keeps its log (DIR/<id>)', 'synod-data')
    .option('--base-port <p>', 'control API on P, clients on P+i, peers on P+100+i', '7000')
    .option('--no-tls', 'a new cluster without TLS (plain HTTP and TCP); by default a throwaway CA and certificates are made in DIR/tls')
    .option('--fault-injection', 'enable the transport fault hook on every node (tests only)')
    .action(async (flags: { service: string; nodes?: string; dataDir: string; basePort: string; tls: boolean; faultInjection?: boolean }) => {
      const service = nodeService(flags.service);
      if (service === undefined) throw new CliError('UNKNOWN_SERVICE', `unknown service "${flags.service}" (known: ${nodeServiceNames().join(', ')})`);
      const nodes = parseIntOption('--nodes', flags.nodes ?? String(service.defaults.nodes), 1, 9);
      const basePort = parseIntOption('--base-port', flags.basePort, 1024, 65_000);
      const handle = await startLocalCluster({ service: service.name, nodes, dataDir: flags.dataDir, basePort, tls: flags.tls, faultInjection: flags.faultInjection === true, announce: true });
      await new Promise<void>((done) => {
        let stopping = false;
        const stop = (): void => {
          if (stopping) return;
          stopping = true;
          process.stdout.write('\nstopping the cluster...\n');
          void handle.stop().then(done);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      process.stdout.write('all nodes stopped\n');
    });
}

export interface LocalClusterOptions {
  /** The service every node runs (default kv); an existing cluster keeps the one its file names. */
  readonly service?: string;
  readonly nodes: number;
  readonly dataDir: string;
  readonly basePort: number;
  readonly faultInjection?: boolean;
  /**
   * A new cluster serves HTTPS and speaks TLS between peers, with a CA and certificates made in
   * DIR/tls (renewed there when they near expiry). Default true. An existing cluster keeps what
   * its cluster file says.
   */
  readonly tls?: boolean;
  /** Print endpoints and progress to stdout. */
  readonly announce?: boolean;
  /** Each node's log rotates at this size (rotating-file-stream syntax, e.g. "10M"). Default 10M. */
  readonly logRotateSize?: string;
  readonly logLevel?: string;
  /** How to run `synod` for each node; default: this process's own entry point and loader flags. */
  readonly command?: readonly string[];
  /** The built dashboard to serve at the control server's root; default: web/dist of this package. */
  readonly webDir?: string;
}

/** Starts (or resumes, when DIR/cluster.json exists) a local cluster and its control API. */
export async function startLocalCluster(o: LocalClusterOptions): Promise<ClusterHandle> {
  const dataDir = resolve(o.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const file = loadOrCreateClusterFile(dataDir, o);
  const ids = Object.keys(file.members);
  const say = (line: string): void => void (o.announce === true && process.stdout.write(line + '\n'));
  const clientTls = await prepareTls(dataDir, file, ids, say);
  const children = new Map<string, Child>(ids.map((id) => [id, { id, process: undefined, state: 'stopped', restarts: 0, lastExit: undefined }]));
  // the control server's event stream, told at once when a process starts or ends
  let onChange = (): void => {};
  const launch = (child: Child): void => {
    const dir = join(dataDir, child.id);
    mkdirSync(dir, { recursive: true });
    // with classical rotation the generator gets the rotation index first (null for the live file)
    const log = createStream((index: number | Date) => (typeof index === 'number' && index > 0 ? `node.log.${index}` : 'node.log'), { path: dir, size: o.logRotateSize ?? LOG_ROTATE_BYTES, rotate: LOG_KEEP_FILES });
    log.on('error', () => undefined); // a full disk must not take the supervisor down with the node
    // by default the same entry point and loader flags as this process: works from dist/ and from source (tsx)
    const command = o.command ?? [...process.execArgv, process.argv[1] as string];
    // a member of a cluster that already ran must find its state; only a brand-new cluster's first start may begin empty
    const initialState = file.created && child.restarts === 0 && child.lastExit === undefined ? 'new' : 'existing';
    // node's own flags first, so that flags in `command` can override them
    const args = [...NODE_PROCESS_FLAGS, ...command, 'node', '--id', child.id, '--data-dir', dir, '--config', join(dataDir, 'cluster.json'), '--log-level', o.logLevel ?? 'info', '--initial-cluster-state', initialState, '--exit-with-parent'];
    // stdin stays open and unused: when this supervisor dies, even by SIGKILL, the node sees it close and stops
    const proc = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    proc.stdin?.on('error', () => undefined);
    proc.stdout?.pipe(log, { end: false });
    const tail = new StderrTail(STDERR_TAIL_BYTES);
    proc.stderr?.on('data', (chunk: Buffer) => {
      log.write(chunk);
      tail.push(chunk);
    });
    proc.on('exit', (code, signal) => {
      if (child.process !== proc) return;
      child.process = undefined;
      child.state = 'stopped';
      child.lastExit = { code, signal, reason: tail.reason(), at: new Date().toISOString() };
      // the log stream closes once both pipes have ended
      proc.once('close', () => log.end());
      const reason = child.lastExit.reason;
      say(`node ${child.id} exited (${signal ?? `code ${String(code)}`})${reason === null ? '' : `: ${reason}`}`);
      onChange();
    });
    child.process = proc;
    child.state = 'running';
  };
  for (const child of children.values()) launch(child);

  const endpoints = Object.fromEntries(ids.map((id) => [id, (file.members[id] as { client: string }).client]));
  const webDir = resolve(o.webDir ?? defaultWebDir());
  let control: ControlServer;
  try {
    control = await startControlServer(o.basePort, children, launch, endpoints, webDir, clientTls, file.service ?? DEFAULT_SERVICE);
  } catch (err) {
    // e.g. the base port is taken: do not leave the node processes behind
    await Promise.all([...children.values()].map((c) => stopChild(c)));
    throw err;
  }
  onChange = () => control.changed();
  const dashboardUrl = `http://127.0.0.1:${o.basePort}/`;
  say(`Synod local cluster: ${ids.length} nodes, data in ${dataDir}`);
  for (const id of ids) say(`  node ${id}: client ${endpoints[id]}  peer ${(file.members[id] as { peer: string }).peer}  log ${join(dataDir, id, 'node.log')}`);
  say(`  control API: http://127.0.0.1:${o.basePort}/api/nodes`);
  say(`  dashboard: ${dashboardUrl}${dashboardBuilt(webDir) ? '' : `  (not built yet: run \`npm run web:build\`, then reload)`}`);
  if (clientTls.ca !== undefined) say(`  TLS: on (HTTPS for clients, mutual TLS between peers); CA certificate ${join(dataDir, 'tls', 'ca.crt')}`);
  else say('  TLS: off (this cluster was made with --no-tls, or before TLS existed)');
  // the CLI finds the endpoints and the CA in ./synod-data/cluster.json by itself
  const flagsHint = resolve(DEFAULT_CLUSTER_FILE) === join(dataDir, 'cluster.json') ? '' : ` --endpoints ${Object.values(endpoints).join(',')}${clientTls.ca === undefined ? '' : ` --cacert ${join(dataDir, 'tls', 'ca.crt')}`}`;
  if ((file.service ?? DEFAULT_SERVICE) === 'kv') say(`Try: synod kv put greeting hello${flagsHint}`);
  else say(`Try: curl ${clientTls.ca === undefined ? '' : `--cacert ${join(dataDir, 'tls', 'ca.crt')} `}${endpoints[ids[1] ?? ids[0] ?? '1'] ?? ''}/v1/status`);

  const handle: ClusterHandle = {
    controlUrl: `http://127.0.0.1:${o.basePort}`,
    dashboardUrl,
    endpoints,
    dataDir,
    clientTls,
    kill: (id, signal = 'SIGKILL') => {
      signalChild(children, id, signal);
      control.changed();
    },
    restart: (id) => {
      restartChild(children, id, launch);
      control.changed();
    },
    stop: async () => {
      control.close();
      await Promise.all([...children.values()].map((c) => stopChild(c)));
    },
  };
  await waitForReady(Object.values(endpoints), 20_000, clientTls).then(
    (statuses) => {
      const leader = statuses.find((s) => s.role === 'leader');
      say(`cluster ready: ${leader === undefined ? `${statuses.length} nodes ready (${statuses.map((s) => `${s.id} ${s.role}`).join(', ')})` : `node ${leader.id} leads`}`);
    },
    (err: Error) => say(`not ready yet: ${err.message}; the nodes keep trying (see their logs)`),
  );
  return handle;
}

function loadOrCreateClusterFile(dataDir: string, o: LocalClusterOptions): ClusterFile & { readonly created: boolean } {
  const path = join(dataDir, 'cluster.json');
  if (existsSync(path)) {
    let file: ClusterFile;
    try {
      file = JSON.parse(readFileSync(path, 'utf8')) as ClusterFile;
    } catch (err) {
      throw new CliError('BAD_CONFIG', `cannot read ${path}: ${(err as Error).message}`);
    }
    if (typeof file.members !== 'object' || file.members === null || typeof file.secret !== 'string') throw new CliError('BAD_CONFIG', `${path} is not a Synod cluster file (it needs "members" and "secret")`);
    const service = file.service ?? DEFAULT_SERVICE;
    if (o.service !== undefined && o.service !== service) throw new CliError('CLUSTER_EXISTS', `${path} is a cluster of ${service}, not ${o.service}; use another --data-dir or remove it`);
    if (Object.keys(file.members).length !== o.nodes) throw new CliError('CLUSTER_EXISTS', `${path} describes ${Object.keys(file.members).length} nodes, not ${o.nodes}; use another --data-dir or remove it`);
    return { ...file, created: false };
  }
  const tls = o.tls !== false;
  const scheme = tls ? 'https' : 'http';
  const members = Object.fromEntries(Array.from({ length: o.nodes }, (_, i) => [String(i + 1), { peer: `127.0.0.1:${o.basePort + 101 + i}`, client: `${scheme}://127.0.0.1:${o.basePort + 1 + i}` }]));
  const files = { certFile: 'tls/node-{id}.crt', keyFile: 'tls/node-{id}.key', caFile: 'tls/ca.crt' };
  const service = nodeService(o.service ?? DEFAULT_SERVICE);
  if (service === undefined) throw new CliError('UNKNOWN_SERVICE', `unknown service "${o.service ?? ''}" (known: ${nodeServiceNames().join(', ')})`);
  const file: ClusterFile = {
    service: service.name,
    options: service.defaults.options,
    members,
    secret: randomBytes(24).toString('base64'),
    clusterId: randomBytes(8).toString('hex'),
    faultInjection: o.faultInjection === true,
    // clients may present a certificate from the cluster CA (its name is then their user name); none is required
    ...(tls ? { tls: { ...files, clientCertAuth: 'request' as const }, peerTls: files } : {}),
  };
  writeFileSync(path, JSON.stringify(file, null, 2) + '\n', { mode: 0o600 });
  return { ...file, created: true };
}

/** Makes or renews the cluster's certificates when its file asks for TLS; returns what a client of the nodes needs. */
async function prepareTls(dataDir: string, file: ClusterFile, ids: readonly string[], say: (line: string) => void): Promise<ClientTls> {
  if (file.tls === undefined && file.peerTls === undefined) return {};
  const dir = join(dataDir, 'tls');
  const { ensureClusterTls } = await import('./certs.js');
  const hosts = [...new Set(['127.0.0.1', 'localhost', '::1', ...Object.values(file.members).flatMap((m) => [new URL(m.client).hostname.replace(/^\[|\]$/g, ''), m.peer.replace(/:\d+$/, '').replace(/^\[|\]$/g, '')])])];
  const result = await ensureClusterTls(dir, { nodeIds: ids, hosts });
  if (result.created.length > 0) say(`made a throwaway CA and node certificates for this cluster in ${dir} (TLS on by default; --no-tls on a new data directory turns it off)`);
  for (const path of result.renewed) say(`renewed ${path} (it was near expiry or did not cover the nodes' addresses)`);
  const caFile = file.tls === undefined ? undefined : resolveClusterPath(join(dataDir, 'cluster.json'), file.tls.caFile, '');
  return caFile === undefined ? {} : { ca: readFileSync(caFile) };
}

/**
 * The last lines a node wrote to stderr, to say why it exited: its final "synod: ..." line (the
 * CLI's one-line error), else the message of its last fatal or error log record.
 */
class StderrTail {
  private text = '';

  constructor(private readonly maxBytes: number) {}

  push(chunk: Buffer): void {
    this.text += chunk.toString('utf8');
    if (this.text.length > this.maxBytes) this.text = this.text.slice(this.text.length - this.maxBytes);
  }

  reason(): string | null {
    const lines = this.text.split('\n').map((l) => l.trim()).filter(Boolean);
    for (let i = lines.length - 1; i >= 0; i--) {
      const line = lines[i] as string;
      if (line.startsWith('synod: ')) return line.slice('synod: '.length);
    }
    for (let i = lines.length - 1; i >= 0; i--) {
      try {
        const record = JSON.parse(lines[i] as string) as { level?: number; msg?: string };
        if ((record.level ?? 0) >= 50 && typeof record.msg === 'string') return record.msg;
      } catch {
        // not a log record
      }
    }
    return null;
  }
}

function signalChild(children: Map<string, Child>, id: string, signal: NodeJS.Signals): void {
  const child = children.get(id);
  if (child?.process === undefined) throw new HttpError(409, 'NOT_RUNNING', `node ${id} is not running`);
  child.process.kill(signal);
  if (signal === 'SIGSTOP') child.state = 'paused';
  if (signal === 'SIGCONT') child.state = 'running';
}

function restartChild(children: Map<string, Child>, id: string, launch: (c: Child) => void): void {
  const child = children.get(id);
  if (child === undefined) throw new HttpError(404, 'NO_SUCH_NODE', `no node ${id}`);
  if (child.process !== undefined) throw new HttpError(409, 'RUNNING', `node ${id} is running; kill it first`);
  child.restarts++;
  launch(child);
}

async function stopChild(child: Child): Promise<void> {
  const proc = child.process;
  if (proc === undefined) return;
  if (child.state === 'paused') proc.kill('SIGCONT');
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), 8000);
  await exited;
  clearTimeout(timer);
}

interface ControlServer {
  /** Something changed (a process started, stopped, paused): push fresh state to the dashboards now. */
  changed(): void;
  close(): void;
}

/** What GET /api/nodes lists for each node (and /api/events streams). */
interface NodeInfo {
  readonly id: string;
  readonly process: Child['state'];
  readonly pid: number | null;
  readonly restarts: number;
  readonly endpoint: string;
  /** The node's GET /v1/status; null when it did not answer; absent when it is not running. */
  readonly status?: { readonly role?: string; readonly term?: number } | null;
  /** How it ended last time (code, signal, and its own one-line reason), if it ever did. */
  readonly lastExit?: ExitInfo;
}

/** How often the event stream polls the nodes, and the longest it stays silent. */
const FEED_POLL_MS = 200;
const FEED_KEEPALIVE_MS = 1000;
/** One attempt of the key-value proxy (a follower forwards to the leader, which waits up to 5 s). */
const KV_PROXY_TIMEOUT_MS = 6000;

async function startControlServer(port: number, children: Map<string, Child>, launch: (c: Child) => void, endpoints: Record<string, string>, webDir: string, tls: ClientTls, service: string): Promise<ControlServer> {
  const snapshot = (): Promise<NodeInfo[]> => Promise.all([...children.values()].map((c) => describe(c, endpoints[c.id] as string, tls)));
  const feed = new StatusFeed(snapshot);
  /** With authentication on, process control is for root: the caller's token is checked by a node. */
  const requireRoot = async (headers: ReadonlyMap<string, string>): Promise<void> => {
    const authorization = headers.get('authorization');
    const answer = await proxyKv(children, endpoints, feed.leader(), 'GET', '/v1/auth/whoami', undefined, tls, authorization).catch(() => undefined);
    // a service without users (clock sync) has no whoami: nothing to check
    if (answer?.status === 404) return;
    const who = answer?.body as { authEnabled?: boolean; user?: string | null; roles?: string[] } | undefined;
    if (who === undefined || answer?.status !== 200) throw new HttpError(503, 'NO_NODE_ANSWERED', 'no node could say whether authentication is on; try again', { safeToRetry: true });
    if (who.authEnabled !== true) return;
    if (who.user == null) throw new HttpError(401, 'UNAUTHENTICATED', 'authentication is on: log in as root to control the nodes');
    if (!(who.roles ?? []).includes('root')) throw new HttpError(403, 'PERMISSION_DENIED', `${who.user} is not root`);
  };
  const act = async (r: { headers: ReadonlyMap<string, string> }, fn: () => void): Promise<ApiResponse> => {
    await requireRoot(r.headers);
    fn();
    feed.poke();
    return { status: 200, body: { ok: true } };
  };
  const kv = (method: 'GET' | 'PUT', key: string, body: unknown, headers: ReadonlyMap<string, string>): Promise<ApiResponse> =>
    proxyKv(children, endpoints, feed.leader(), method, `/v1/kv/${encodeSegment(key)}`, body, tls, headers.get('authorization'));
  const put = (r: { params: Readonly<Record<string, string>>; body: unknown; headers: ReadonlyMap<string, string> }): Promise<ApiResponse> => {
    const body = expectObject(r.body, 'put');
    if (!('value' in body)) throw new HttpError(400, 'BAD_REQUEST', 'put: the body needs a "value"');
    return kv('PUT', r.params['key'] as string, { value: body['value'] }, r.headers);
  };
  // access 'public' here: the supervisor has no users of its own; the nodes check the credentials it passes on
  const open = { access: 'public' } as const;
  const router = new Router()
    // what the dashboard needs first: which service the nodes run (it picks its view from it)
    .add('GET', '/api/cluster', () => ({ status: 200, body: { service, nodes: children.size } }), open)
    .add('GET', '/api/nodes', async () => ({ status: 200, body: await snapshot() }), open)
    .add('POST', '/api/nodes/:id/kill', (r) => act(r, () => signalChild(children, r.params['id'] as string, 'SIGKILL')), open)
    .add('POST', '/api/nodes/:id/pause', (r) => act(r, () => signalChild(children, r.params['id'] as string, 'SIGSTOP')), open)
    .add('POST', '/api/nodes/:id/resume', (r) => act(r, () => signalChild(children, r.params['id'] as string, 'SIGCONT')), open)
    .add('POST', '/api/nodes/:id/restart', (r) => act(r, () => restartChild(children, r.params['id'] as string, launch)), open)
    .add('GET', '/api/kv/:key', (r) => kv('GET', r.params['key'] as string, undefined, r.headers), open)
    .add('POST', '/api/kv/:key', put, open)
    .add('PUT', '/api/kv/:key', put, open)
    .add('POST', '/api/auth/token', (r) => proxyKv(children, endpoints, feed.leader(), 'POST', '/v1/auth/token', r.body, tls), open)
    .add('GET', '/api/auth/whoami', (r) => proxyKv(children, endpoints, feed.leader(), 'GET', '/v1/auth/whoami', undefined, tls, r.headers.get('authorization')), open);
  // the dashboard is the only web page allowed to drive the cluster; DNS rebinding is refused by Host
  const guard = originGuard({ allowedOrigins: [`http://127.0.0.1:${port}`, `http://localhost:${port}`, `http://[::1]:${port}`] });
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const refusal = refusalOf(guard, req, path);
    if (refusal !== undefined) {
      res.writeHead(refusal.status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: refusal.code, message: refusal.message } }) + '\n');
      return;
    }
    if (path === '/api/events' && req.method === 'GET') return feed.add(req, res);
    if (path === '/api' || path.startsWith('/api/')) return void serve(router, req, res, 1 << 16, () => {});
    void serveDashboard(webDir, path, req, res);
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', (err) => fail(new CliError('PORT_IN_USE', `cannot listen on 127.0.0.1:${port}: ${err.message}`, 1)));
    server.listen(port, '127.0.0.1', ok);
  });
  return {
    changed: () => feed.poke(),
    close: () => {
      feed.close();
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

/**
 * Server-sent events for the dashboards: while at least one is connected, polls every node's
 * status every FEED_POLL_MS and sends the list (as GET /api/nodes gives it) when it changed, and at
 * least every FEED_KEEPALIVE_MS (so a page can tell a live stream from a stuck one).
 */
class StatusFeed {
  private readonly clients = new Set<ServerResponse>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private polling = false;
  private pollAgain = false;
  private lastJson = '';
  private lastSentAt = 0;
  private latest: NodeInfo[] = [];
  private closed = false;

  constructor(private readonly snapshot: () => Promise<NodeInfo[]>) {}

  add(req: IncomingMessage, res: ServerResponse): void {
    if (this.closed) {
      res.writeHead(503).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
    // reconnect quickly after a network hiccup
    res.write('retry: 1000\n\n');
    this.clients.add(res);
    req.socket.setNoDelay(true);
    req.on('close', () => {
      this.clients.delete(res);
      if (this.clients.size === 0) this.stopTimer();
    });
    // a newcomer gets the latest state at once, then the regular updates
    if (this.lastJson !== '') res.write(this.message());
    this.poke();
    this.timer ??= setInterval(() => this.poke(), FEED_POLL_MS);
  }

  /** The node that leads as of the latest poll, if any (the kv proxy asks it first). */
  leader(): string | undefined {
    let best: { id: string; term: number } | undefined;
    for (const n of this.latest) {
      if (n.process !== 'running' || n.status?.role !== 'leader') continue;
      const term = n.status.term ?? 0;
      if (best === undefined || term > best.term) best = { id: n.id, term };
    }
    return best?.id;
  }

  /** Polls now (or right after the poll under way). */
  poke(): void {
    if (this.closed || this.clients.size === 0) return;
    if (this.polling) {
      this.pollAgain = true;
      return;
    }
    this.polling = true;
    void this.snapshot()
      .then((nodes) => {
        this.latest = nodes;
        const json = JSON.stringify(nodes);
        if (json === this.lastJson && Date.now() - this.lastSentAt < FEED_KEEPALIVE_MS) return;
        this.lastJson = json;
        const text = this.message();
        for (const res of this.clients) res.write(text);
      })
      .catch(() => undefined)
      .finally(() => {
        this.polling = false;
        if (this.pollAgain) {
          this.pollAgain = false;
          this.poke();
        }
      });
  }

  private message(): string {
    this.lastSentAt = Date.now();
    return `data: {"time":${this.lastSentAt},"nodes":${this.lastJson}}\n\n`;
  }

  private stopTimer(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  close(): void {
    this.closed = true;
    this.stopTimer();
    for (const res of this.clients) res.end();
    this.clients.clear();
  }
}

/**
 * Sends a key-value request to a running node: the leader first (as of the latest poll), then the
 * others in turn. A node that cannot be reached, or answers 503 (no leader known, leader
 * unreachable), is skipped; any other answer is passed on with `via`, the node that answered.
 */
async function proxyKv(children: Map<string, Child>, endpoints: Record<string, string>, leader: string | undefined, method: 'GET' | 'PUT' | 'POST', path: string, body: unknown, tls: ClientTls, authorization?: string): Promise<ApiResponse> {
  const running = [...children.values()].filter((c) => c.state === 'running').map((c) => c.id);
  const order = leader !== undefined && running.includes(leader) ? [leader, ...running.filter((id) => id !== leader)] : running;
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

// ---------------------------------------------------------------- the dashboard (web/dist)

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.map': 'application/json',
};

/** Where the dashboard is built (`npm run web:build`): web/dist of this package. */
export function defaultWebDir(): string {
  return join(packageRoot(), 'web', 'dist');
}

/** The directory of this package (where package.json says "synod"), from src/cli or dist/cli alike. */
function packageRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (let dir = here; ; ) {
    try {
      if ((JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string }).name === 'synod') return dir;
    } catch {
      // no (readable) package.json here: keep looking
    }
    const up = dirname(dir);
    if (up === dir) return resolve(here, '..', '..');
    dir = up;
  }
}

function dashboardBuilt(webDir: string): boolean {
  return existsSync(join(webDir, 'index.html'));
}

/** Serves the built dashboard from `webDir` (GET and HEAD), or says how to build it. */
export async function serveDashboard(dir: string, path: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const webDir = resolve(dir);
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
    return;
  }
  if (!dashboardBuilt(webDir)) {
    const text = `The Synod dashboard is not built (${join(webDir, 'index.html')} is missing).\nRun \`npm run web:build\` in the synod directory (\`npm ci\` also builds it), then reload this page.\nThe control API works without it: /api/nodes, /api/events, /api/kv/:key.\n`;
    res.writeHead(path === '/' || path === '/index.html' ? 503 : 404, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : text);
    return;
  }
  let relative: string;
  try {
    relative = decodeURIComponent(path);
  } catch {
    res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' }).end('bad path\n');
    return;
  }
  const file = normalize(join(webDir, relative.endsWith('/') ? `${relative}index.html` : relative));
  if (!file.startsWith(webDir + sep)) {
    res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8' }).end('forbidden\n');
    return;
  }
  try {
    if (!(await stat(file)).isFile()) throw new Error('not a file');
    const data = await readFile(file);
    res.writeHead(200, { 'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream', 'content-length': data.length, 'cache-control': 'no-cache' });
    res.end(req.method === 'HEAD' ? undefined : data);
  } catch {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end(`not found: ${path}\n`);
  }
}

async function describe(child: Child, endpoint: string, tls: ClientTls): Promise<NodeInfo> {
  const base = { id: child.id, process: child.state, pid: child.process?.pid ?? null, restarts: child.restarts, endpoint, ...(child.lastExit === undefined ? {} : { lastExit: child.lastExit }) };
  if (child.state !== 'running') return base;
  try {
    const answer = await callApi([endpoint], 'GET', '/v1/status', undefined, 500, { tls });
    return { ...base, status: answer.body as NodeInfo['status'] };
  } catch {
    return { ...base, status: null };
  }
}

/** Polls the nodes until one reports itself leader. */
export async function waitForLeader(endpoints: readonly string[], timeoutMs: number, tls: ClientTls = {}): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const e of endpoints) {
      try {
        const s = (await callApi([e], 'GET', '/v1/status', undefined, 500, { tls })).body as { role?: string; id?: string };
        if (s.role === 'leader' && s.id !== undefined) return s.id;
      } catch {
        // not up yet
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('no leader elected in time');
}

/**
 * Polls the nodes until a majority report ready (GET /readyz 200: the service's own checks pass,
 * e.g. a leader known and caught up for the KV, a recent sample for clock sync); returns the
 * statuses of those ready. A majority, not all: one node that cannot start must not hide the rest.
 */
export async function waitForReady(endpoints: readonly string[], timeoutMs: number, tls: ClientTls = {}): Promise<{ id: string; role: string }[]> {
  const deadline = Date.now() + timeoutMs;
  let waiting = 'no node answered';
  while (Date.now() < deadline) {
    const statuses: { id: string; role: string }[] = [];
    for (const e of endpoints) {
      try {
        const ready = await callApi([e], 'GET', '/readyz', undefined, 500, { tls });
        if (ready.status !== 200) {
          waiting = `${e}: ${JSON.stringify((ready.body as { checks?: unknown }).checks ?? ready.body)}`;
          continue;
        }
        const s = (await callApi([e], 'GET', '/v1/status', undefined, 500, { tls })).body as { id?: string; role?: string };
        statuses.push({ id: s.id ?? e, role: s.role ?? 'unknown' });
      } catch (err) {
        waiting = `${e}: ${(err as Error).message}`;
      }
    }
    if (statuses.length > endpoints.length / 2) return statuses;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no majority of the nodes became ready in ${timeoutMs} ms (${waiting})`);
}
