// A Synod node process: the Raft core and the KV state machine over the durable write-ahead log
// and the authenticated TCP transport, serving the HTTP/JSON API with metrics and structured
// logs, and shutting down gracefully (finish in-flight requests, flush, close).
import { pino, type Logger } from 'pino';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { KvStore, type KvQuery } from '../kv/index.js';
import { commandOf, raftSpec, type LogEntry, type RaftMessage, type RaftOptions, type RaftPersistOp, type RaftRequest, type RaftResponse } from '../raft/index.js';
import type { RaftCore } from '../raft/core.js';
import { NodeHost } from '../runtime/index.js';
import type { JsonValue } from '../sim/index.js';
import { RaftStorage } from '../storage/index.js';
import { Transport, type NetLogRecord } from '../net/index.js';
import { buildApi, type ApiBackend } from './api.js';
import { answerRequest } from './http.js';
import { HttpServer } from './http-server.js';

export interface MemberAddress {
  /** host:port of the peer (Raft) listener. */
  readonly peer: string;
  /** http://host:port of the client API. */
  readonly client: string;
}

export interface NodeConfig {
  readonly id: string;
  readonly dataDir: string;
  /** Every bootstrap member (this node included unless it joins later) with its addresses. */
  readonly members: Readonly<Record<string, MemberAddress>>;
  /** This node's own addresses when it is not among `members` (a joiner). */
  readonly self?: MemberAddress;
  /** Shared cluster secret for peer authentication (at least 16 bytes). */
  readonly secret: string;
  readonly raft?: Partial<RaftOptions>;
  /** Enables the transport's fault hook and /v1/faults (tests only). */
  readonly faultInjection?: boolean;
  readonly maxBodyBytes?: number;
  readonly logLevel?: string;
  /** Where logs go; stderr by default. */
  readonly logDestination?: NodeJS.WritableStream;
}

export interface RunningNode {
  readonly id: string;
  readonly clientUrl: string;
  readonly logger: Logger;
  readonly transport: Transport<RaftMessage>;
  /** Graceful shutdown: stop accepting, finish in-flight requests, then close transport and log. */
  close(): Promise<void>;
}

const MEMBER_KEY_PREFIX = '_synod/members/';
/** A leader writes its log on its own thread while no more client requests than this wait. */
const LEADER_INLINE_MAX_PENDING = 1;

/**
 * Timing for real processes, like etcd's defaults (heartbeat 100 ms, election 1 s): a Node
 * process pauses for garbage collection and for snapshots of a large store, and the simulator's
 * 15 ms heartbeats and 150-300 ms elections deposed healthy leaders during such pauses.
 */
export const NODE_RAFT_DEFAULTS: Partial<RaftOptions> = {
  tickMs: 25,
  heartbeatTicks: 4,
  electionTimeoutMinTicks: 20,
  electionTimeoutMaxTicks: 40,
  retransmitTicks: 4,
  // one append in flight per follower, not eight: each append costs a follower a wakeup, a
  // write and an answer, so fewer, larger appends cost it less CPU. Alternating runs, 64 clients
  // on 2 cores: followers 60-61 us per put at 1 against 65-71 at 2; throughput and p99 the same
  // within noise, with 64 clients and with 8
  maxInflightAppends: 1,
  // a snapshot serialises the whole store: take one every 100,000 entries (etcd's default),
  // not every 1,000 as the simulator's small tests do
  snapshotThresholdEntries: 100_000,
  // and keep 5,000 entries before it (etcd's figure): under load one follower is always a batch
  // behind the commit index, and compacting right up to it sent that follower the whole store
  // (40 MB at 100,000 keys), which cost the leader up to 90 MiB and stalled it mid-load
  snapshotCatchUpEntries: 5_000,
};

export function parseHostPort(text: string): { host: string; port: number } {
  const m = /^(.*):(\d{1,5})$/.exec(text);
  const port = m === null ? NaN : Number(m[2]);
  if (m === null || !(port >= 0 && port <= 65535) || (m[1] as string).length === 0) throw new Error(`expected host:port, got "${text}"`);
  return { host: m[1] as string, port };
}

export async function startNode(config: NodeConfig): Promise<RunningNode> {
  const logger = pino({ level: config.logLevel ?? 'info', base: { node: config.id } }, config.logDestination ?? process.stderr);
  const self = config.members[config.id] ?? config.self;
  if (self === undefined) throw new Error(`node ${config.id}: its own addresses are neither in members nor in self`);
  const directory = new Map<string, MemberAddress>(Object.entries(config.members));
  directory.set(config.id, self);

  // A follower's log writes block its event loop until durable: it waits on them anyway, and a
  // write from the I/O thread pool costs two thread wakeups more (see WalOptions.writeInline).
  // A leader does the same while at most one client request waits (it has sent its appends by
  // then, and nobody else is waiting); under load its loop must keep serving while the log syncs.
  let writeInline = (): boolean => false;
  const storage = await RaftStorage.open(config.dataDir, {
    onWarning: (w) => logger.warn({ storage: w }, w.message),
    writeInline: () => writeInline(),
  });
  const transport = await Transport.start<RaftMessage>({
    selfId: config.id,
    listen: parseHostPort(self.peer),
    peers: Object.fromEntries([...directory].filter(([id]) => id !== config.id).map(([id, a]) => [id, parseHostPort(a.peer)])),
    secret: config.secret,
    faultInjection: config.faultInjection === true,
    logger: (r: NetLogRecord) => {
      // the logger already names this node; a second "node" key would repeat it in every line
      const { level, msg, event, node: _self, ...fields } = r;
      logger[level]({ ...fields, net: event }, msg);
    },
  });

  const learnMember = (entry: LogEntry): void => {
    const op = entry.kind === 'command' ? (commandOf(entry).op as { op?: string; key?: string; value?: MemberAddress } | null) : null;
    if (op === null || op.op !== 'put' || typeof op.key !== 'string' || !op.key.startsWith(MEMBER_KEY_PREFIX)) return;
    const id = op.key.slice(MEMBER_KEY_PREFIX.length);
    if (op.value === undefined || id === config.id) return;
    directory.set(id, op.value);
    transport.addPeer(id, parseHostPort(op.value.peer));
  };
  const spec = raftSpec({ ...NODE_RAFT_DEFAULTS, ...config.raft,
    createStateMachine: () => new KvStore(),
    observer: { applied: (node, entry) => node === config.id && learnMember(entry) },
  });
  let fatal = false;
  const host = new NodeHost<RaftMessage, RaftRequest, RaftResponse, RaftPersistOp>(spec, {
    id: config.id,
    members: Object.keys(config.members).sort(),
    store: { recovered: storage.durableOps, persist: (ops) => storage.persist(ops) },
    transport: { send: (to, msg) => void transport.send(to, msg), onMessage: (h) => void transport.onMessage(h) },
    onFatal: (err) => {
      fatal = true;
      logger.fatal({ err }, 'cannot persist: the node stops serving');
    },
  });
  host.start();
  const core = (): RaftCore => host.running as unknown as RaftCore;
  writeInline = () => core().displayRole !== 'leader' || host.pendingRequestCount <= LEADER_INLINE_MAX_PENDING;
  const metrics = createMetrics(config.id, core, transport, storage);

  const backend: ApiBackend = {
    id: config.id,
    submit: async (request, timeoutMs) => (fatal ? { ok: false, error: 'timeout', leaderHint: null, message: 'node stopped after a storage failure' } : host.request(request, timeoutMs)),
    queryLocal: (query: KvQuery) => core().queryLocal(query as unknown as JsonValue),
    status: () => core().status(),
    clientUrl: (id) => directory.get(id)?.client,
    announceMember: async (id, peer, client) => {
      parseHostPort(peer);
      const res = await host.request({ type: 'command', clientId: null, seq: 0, op: { op: 'put', key: `${MEMBER_KEY_PREFIX}${id}`, value: { peer, client } } }, 5000);
      if (res === undefined || !res.ok) throw new Error(`could not record the addresses of ${id}: ${res === undefined ? 'timeout' : res.error}`);
    },
    metricsText: () => metrics.registry.metrics(),
    ...(config.faultInjection === true
      ? { faults: { partition: (a, b) => transport.faults.partition(a, b), heal: () => transport.faults.heal(), setDropRate: (peer, p) => transport.faults.setDropRate(peer, p, 'both') } }
      : {}),
  };
  const router = buildApi(backend);
  const debug = logger.isLevelEnabled('debug');
  const client = new URL(self.client);
  const server = await HttpServer.listen({
    host: client.hostname,
    port: Number(client.port),
    maxBodyBytes: config.maxBodyBytes ?? 1 << 20,
    onError: (err) => logger.error({ err }, 'request failed'),
    handle: async (request) => {
      const started = debug ? performance.now() : 0;
      const { answer, route } = await answerRequest(router, request, (err) => logger.error({ err }, 'request failed'));
      metrics.countRequest(route, request.method, answer.status);
      if (debug) logger.debug({ route, status: answer.status, ms: performance.now() - started }, 'request');
      return answer;
    },
  });
  logger.info({ client: self.client, peer: self.peer, recoveredOps: storage.durableOps.length }, 'node started');

  return {
    id: config.id,
    clientUrl: self.client,
    logger,
    transport,
    close: async () => {
      await server.close(5000);
      host.stop();
      await transport.close({ deadlineMs: 1000 });
      await storage.close();
      logger.info('node stopped');
    },
  };
}

function createMetrics(id: string, core: () => RaftCore, transport: Transport<RaftMessage>, storage: RaftStorage) {
  const registry = new Registry();
  registry.setDefaultLabels({ node: id });
  collectDefaultMetrics({ register: registry });
  const gauge = (name: string, help: string, read: () => number): void => {
    new Gauge({ name, help, registers: [registry], collect() { this.set(read()); } });
  };
  gauge('synod_raft_term', 'current Raft term', () => core().status().term);
  gauge('synod_raft_is_leader', '1 when this node leads', () => (core().status().role === 'leader' ? 1 : 0));
  gauge('synod_raft_commit_index', 'highest committed log index', () => core().status().commit);
  gauge('synod_raft_applied_index', 'highest applied log index', () => core().status().applied);
  gauge('synod_raft_last_index', 'last log index', () => core().status().lastIndex);
  gauge('synod_raft_snapshot_index', 'log index of the latest snapshot', () => core().status().snapshotIndex);
  gauge('synod_net_frames_in', 'frames received from peers', () => transport.metrics().framesIn);
  gauge('synod_net_frames_out', 'frames sent to peers', () => transport.metrics().framesOut);
  gauge('synod_net_decode_errors', 'malformed frames received', () => transport.metrics().decodeErrors);
  gauge('synod_net_auth_failures', 'refused peer handshakes', () => transport.metrics().authFailures);
  gauge('synod_wal_appends', 'persist calls accepted by the write-ahead log', () => storage.stats.appends);
  gauge('synod_wal_batches', 'group commits (one durable write each)', () => storage.stats.batches);
  gauge('synod_wal_file_syncs', 'fdatasync calls (snapshots, new segments; commits write through O_DSYNC)', () => storage.stats.fileSyncs);
  gauge('synod_wal_bytes_written', 'bytes written to the log and snapshots', () => storage.stats.bytesWritten);
  const httpRequests = new Counter({ name: 'synod_http_requests_total', help: 'HTTP requests served', labelNames: ['route', 'method', 'status'], registers: [registry] });
  // one bound child per (route, method, status): labelling anew hashes the labels on every request
  const children = new Map<string, { inc(): void }>();
  const countRequest = (route: string, method: string, status: number): void => {
    const key = `${route} ${method} ${status}`;
    let child = children.get(key);
    if (child === undefined) {
      child = httpRequests.labels(route, method, String(status));
      children.set(key, child);
    }
    child.inc();
  };
  return { registry, countRequest };
}
