// A Synod node process: the Raft core and the KV state machine over the durable write-ahead log
// and the authenticated TCP transport, serving the HTTP/JSON API with metrics and structured
// logs, and shutting down gracefully (finish in-flight requests, flush, close). A node whose
// storage fails stops serving at once and says so (health 503, then onFatal: the CLI exits).
import { createHash } from 'node:crypto';
import { pino, type Logger } from 'pino';
import { KvStore, type KvQuery, type KvRequest, type KvResult } from '../kv/index.js';
import { commandOf, raftSpec, type LogEntry, type RaftMessage, type RaftOptions, type RaftPersistOp, type RaftRequest, type RaftResponse } from '../raft/index.js';
import type { RaftCore } from '../raft/core.js';
import { assertInvariant } from '../core/index.js';
import { NodeHost } from '../runtime/index.js';
import { RaftStorage, StorageError } from '../storage/index.js';
import { Transport, type NetLogRecord } from '../net/index.js';
import { buildApi, type ApiBackend, type ReadinessReport } from './api.js';
import { Authenticator, type Principal, type RouteAccess } from './auth.js';
import { Forwarder, type LeaderWatch } from './forward.js';
import { originGuard } from './guard.js';
import { answerRequest, type ApiRequest, type RawRequest } from './http.js';
import { HttpServer } from './http-server.js';
import { defaultClusterId, KnownPeers, openIdentity, RECOVERY_HINT, type InitialClusterState, type NodeIdentity } from './identity.js';
import { createNodeMetrics } from './metrics.js';
import { loadTls, TlsError, TlsWatcher, type TlsFiles, type TlsMaterial } from './tls.js';

export interface MemberAddress {
  /** host:port of the peer (Raft) listener. */
  readonly peer: string;
  /** http(s)://host:port of the client API. */
  readonly client: string;
}

export interface NodeConfig {
  readonly id: string;
  readonly dataDir: string;
  /** Every bootstrap member (this node included unless it joins later) with its addresses. */
  readonly members: Readonly<Record<string, MemberAddress>>;
  /** This node's own addresses when it is not among `members` (a joiner). */
  readonly self?: MemberAddress;
  /**
   * This node is not a member yet: it starts with no vote and waits to be added as a learner
   * (synod member add), even when `members` names it (a member removed and being added back).
   */
  readonly join?: boolean;
  /** Shared cluster secret for peer authentication (at least 16 bytes). */
  readonly secret: string;
  /** Names the cluster; derived from the secret when not given. A data directory of another cluster is refused. */
  readonly clusterId?: string;
  /**
   * 'new' (default): an empty data directory is a new member. 'existing': this node is a member of
   * a running cluster, so an empty data directory means its state was lost, and it refuses to start.
   */
  readonly initialClusterState?: InitialClusterState;
  readonly raft?: Partial<RaftOptions>;
  /** Enables the transport's fault hook and /v1/faults (tests only). */
  readonly faultInjection?: boolean;
  readonly maxBodyBytes?: number;
  /** Host names the API answers to besides IP addresses and localhost (DNS rebinding protection). */
  readonly allowedHosts?: readonly string[];
  /** Origins of web pages allowed to call the API (none by default). */
  readonly allowedOrigins?: readonly string[];
  /**
   * HTTPS for the client API (the client URL must be https://). The same files are reloaded when
   * they change (renewed certificates take effect without a restart).
   */
  readonly tls?: TlsFiles & { readonly clientCertAuth?: 'none' | 'request' | 'require' };
  /** Mutual TLS between peers (the node certificate must be valid as server and client). */
  readonly peerTls?: TlsFiles;
  /** How long a login token stays valid (default 10 minutes). */
  readonly authTokenTtlMs?: number;
  readonly logLevel?: string;
  /** Where logs go; stderr by default. */
  readonly logDestination?: NodeJS.WritableStream;
  /**
   * Called once the node has stopped serving after a failure it cannot recover from (its log could
   * not be written). The CLI exits; a library user should close the node and alert.
   */
  readonly onFatal?: (err: Error) => void;
}

export interface RunningNode {
  readonly id: string;
  readonly clientUrl: string;
  readonly logger: Logger;
  readonly transport: Transport<RaftMessage>;
  readonly identity: NodeIdentity;
  /** Reads the TLS files again now (as on SIGHUP); they are also checked every few seconds. */
  reloadTls(): void;
  /** Graceful shutdown: stop accepting, finish in-flight requests, then close transport and log. */
  close(): Promise<void>;
}

/** The Raft core over the KV store, as this process runs it. */
type KvRaftCore = RaftCore<KvRequest, KvQuery, KvResult>;

const MEMBER_KEY_PREFIX = '_synod/members/';
/** A leader writes its log on its own thread while no more client requests than this wait. */
const LEADER_INLINE_MAX_PENDING = 1;
/** A follower whose applied index is within this many entries of the leader's announced commit counts as caught up. */
const READY_LAG_ENTRIES = 1000;

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

export function clusterIdOf(config: Pick<NodeConfig, 'clusterId' | 'secret'>): string {
  return config.clusterId ?? defaultClusterId(config.secret, (text) => createHash('sha256').update(text).digest('hex'));
}

export async function startNode(config: NodeConfig): Promise<RunningNode> {
  const logger = pino({ level: config.logLevel ?? 'info', base: { node: config.id } }, config.logDestination ?? process.stderr);
  const self = config.members[config.id] ?? config.self;
  if (self === undefined) throw new Error(`node ${config.id}: its own addresses are neither in members nor in self`);
  const directory = new Map<string, MemberAddress>(Object.entries(config.members));
  directory.set(config.id, self);
  const clientHost = new URL(self.client).hostname.replace(/^\[|\]$/g, '');
  if (config.tls !== undefined && !self.client.startsWith('https://')) throw new TlsError('TLS_BAD_CERT', `TLS is on but this node's client URL is ${self.client}; make it https://`);
  if (config.tls === undefined && self.client.startsWith('https://')) throw new TlsError('TLS_FILE_MISSING', `the client URL ${self.client} is https:// but no certificate was given (--cert-file, --key-file, --trusted-ca-file)`);
  // checked before anything starts: a bad certificate is one clear line, not a node that fails every handshake
  const peerHost = parseHostPort(self.peer).host.replace(/^\[|\]$/g, '');
  // a wildcard listen address is not a name anyone connects to: nothing to check it against
  const named = (host: string): string[] => (host === '0.0.0.0' || host === '::' ? [] : [host]);
  let clientTls: TlsMaterial | undefined = config.tls === undefined ? undefined : loadTls(config.tls, named(clientHost));
  let peerTls: TlsMaterial | undefined = config.peerTls === undefined ? undefined : loadTls(config.peerTls, named(peerHost));

  // A follower's log writes block its event loop until durable: it waits on them anyway, and a
  // write from the I/O thread pool costs two thread wakeups more (see WalOptions.writeInline).
  // A leader does the same while at most one client request waits (it has sent its appends by
  // then, and nobody else is waiting); under load its loop must keep serving while the log syncs.
  let writeInline = (): boolean => false;
  const storage = await RaftStorage.open(config.dataDir, {
    onWarning: (w) => logger.warn({ storage: w }, w.message),
    writeInline: () => writeInline(),
  });
  let identity: NodeIdentity;
  try {
    const opened = openIdentity(config.dataDir, { clusterId: clusterIdOf(config), nodeId: config.id, initialClusterState: config.initialClusterState ?? 'new', hasState: storage.durableOps.length > 0, now: () => new Date() });
    identity = opened.identity;
    if (opened.created === 'upgraded') logger.info({ incarnation: identity.incarnation }, 'data directory predates identities: identity.json written for it');
  } catch (err) {
    await storage.close();
    throw err;
  }

  // peers' data directories as first met: one that comes back with another directory lost its votes and acknowledgements
  let knownPeers: KnownPeers;
  try {
    knownPeers = new KnownPeers(config.dataDir);
  } catch (err) {
    await storage.close();
    throw err;
  }
  let refusedByPeersAt = -Infinity;
  let memberRevision = (_peer: string): number => 0;
  const toTransportTls = (m: TlsMaterial) => ({ key: m.key, cert: m.cert, ca: m.ca, requireNodeId: true });
  const transport = await Transport.start<RaftMessage>({
    selfId: config.id,
    listen: parseHostPort(self.peer),
    peers: Object.fromEntries([...directory].filter(([id]) => id !== config.id).map(([id, a]) => [id, parseHostPort(a.peer)])),
    secret: config.secret,
    clusterId: identity.clusterId,
    incarnation: identity.incarnation,
    checkPeerIncarnation: (peer, incarnation) => {
      const verdict = knownPeers.check(peer, incarnation, memberRevision(peer));
      if (verdict === 'refuse') logger.error({ peer, incarnation, known: knownPeers.incarnationOf(peer) }, `node ${peer} came back with another data directory: it lost its state, and is refused until it is removed and added again (docs/runtime.md, "Recovering a node")`);
      return verdict;
    },
    onRefused: (peer, reason) => {
      if (reason !== 'identity_changed') return;
      if (performance.now() - refusedByPeersAt > 10_000) logger.error({ peer }, `node ${peer} refuses this node: it knew another data directory for it (this node's state was lost or replaced). ${RECOVERY_HINT}`);
      refusedByPeersAt = performance.now();
    },
    ...(peerTls === undefined ? {} : { tls: toTransportTls(peerTls) }),
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

  // ---- failure: a node that cannot persist can keep no promise, so it stops at once, visibly
  let failure: Error | undefined;
  let storageFaultInjected = false;
  let server: HttpServer | undefined;
  const fail = (err: Error): void => {
    if (failure !== undefined) return;
    failure = err;
    logger.fatal({ err }, 'cannot persist: the node stops serving (no more votes, appends or answers) and exits');
    // peers must see it gone now, not after their timeouts: it will never answer again
    void transport.close({ deadlineMs: 0 });
    config.onFatal?.(err);
  };
  const persist = async (ops: readonly RaftPersistOp[]): Promise<void> => {
    if (storageFaultInjected) throw new StorageError('STORAGE_IO', 'injected storage failure (POST /v1/faults fail-storage)');
    const started = performance.now();
    await storage.persist(ops);
    metrics.observeCommit((performance.now() - started) / 1000);
  };

  const host = new NodeHost(spec, {
    id: config.id,
    // a joiner's core must not count itself a voter, or an empty log could vote and campaign
    members: Object.keys(config.members).filter((id) => config.join !== true || id !== config.id).sort(),
    store: { recovered: storage.durableOps, persist },
    transport: { send: (to, msg) => void transport.send(to, msg), onMessage: (h) => void transport.onMessage(h) },
    onFatal: fail,
  });
  const core = (): KvRaftCore => {
    const running = host.running;
    assertInvariant(running !== undefined, () => `node ${config.id}: its core is read before the host started`);
    return running;
  };
  // an operator who removed a member and added it back wrote a newer member record: its new directory is accepted
  // (handshakes can come before the core starts: nothing is known of any member record then)
  memberRevision = (peer) => {
    const found = host.running?.queryLocal({ op: 'get', key: `${MEMBER_KEY_PREFIX}${peer}` });
    return found !== undefined && 'modRevision' in found ? found.modRevision : 0;
  };
  const metrics = createNodeMetrics({ id: config.id, status: () => core().status(), transport: () => transport.metrics(), wal: () => storage.stats, healthy: () => failure === undefined });
  const watch = leaderWatch(host, core);
  const readiness = trackReadiness(transport, core, () => failure, () => performance.now() - refusedByPeersAt < 30_000, config.raft?.electionTimeoutMaxTicks ?? (NODE_RAFT_DEFAULTS.electionTimeoutMaxTicks as number), config.raft?.tickMs ?? (NODE_RAFT_DEFAULTS.tickMs as number));
  host.start();
  writeInline = () => core().displayRole !== 'leader' || host.pendingRequestCount <= LEADER_INLINE_MAX_PENDING;

  const forwarder = new Forwarder({
    selfId: config.id,
    // the leader checks the caller again: it gets a short-lived token for the user this node authenticated
    // (a client certificate would not reach it: the forward carries this node's certificate)
    authorization: (req) => (req.principal?.kind === 'user' ? `Bearer ${auth.tokenFor(req.principal.name)}` : undefined),
    clientUrl: (id) => directory.get(id)?.client,
    watch,
    timeoutMs: 5000,
    // to the leader's API: trust the cluster CA, and present this node's certificate if it asks for one
    ...(clientTls === undefined ? {} : { tls: () => ({ ca: (clientTls as TlsMaterial).ca, cert: (clientTls as TlsMaterial).cert, key: (clientTls as TlsMaterial).key }) }),
  });
  const auth = new Authenticator({
    clusterSecret: config.secret,
    state: {
      get: (key) => {
        const found = core().queryLocal({ op: 'get', key });
        return 'value' in found ? found.value : null;
      },
    },
    ...(config.authTokenTtlMs === undefined ? {} : { tokenTtlMs: config.authTokenTtlMs }),
    onFailure: (reason) => metrics.countRefusal(`auth_${reason}`),
  });
  const backend: ApiBackend = {
    id: config.id,
    clusterId: identity.clusterId,
    submit: async (request, timeoutMs) => {
      if (failure !== undefined) return { ok: false, error: 'timeout', leaderHint: null, message: 'node stopped after a storage failure' };
      // past its bound of waiting requests the host refuses at once: that is overload, not a fault
      return host.request(request, timeoutMs).catch((): RaftResponse => ({ ok: false, error: 'overloaded', leaderHint: null, message: 'too many requests are waiting on this node' }));
    },
    queryLocal: (query: KvQuery) => core().queryLocal(query),
    status: () => core().status(),
    health: () => (failure === undefined ? { ok: true } : { ok: false, reason: `storage failed: ${failure.message}` }),
    readiness,
    clientUrl: (id) => directory.get(id)?.client,
    peerAddress: (id) => directory.get(id)?.peer,
    announceMember: async (id, peer, client) => {
      parseHostPort(peer);
      const res = await host.request({ type: 'command', clientId: null, seq: 0, op: { op: 'put', key: `${MEMBER_KEY_PREFIX}${id}`, value: { peer, client } } }, 5000);
      if (res === undefined || !res.ok) throw new Error(`could not record the addresses of ${id}: ${res === undefined ? 'timeout' : res.error}`);
    },
    exportSnapshot: () => {
      const { meta, data } = core().exportApplied();
      return { index: meta.index, term: meta.term, config: meta.config, data };
    },
    metricsText: () => metrics.registry.metrics(),
    forwarder,
    auth,
    ...(config.faultInjection === true
      ? {
          faults: {
            partition: (a, b) => transport.faults.partition(a, b),
            heal: () => transport.faults.heal(),
            setDropRate: (peer, p) => transport.faults.setDropRate(peer, p, 'both'),
            failStorage: () => void (storageFaultInjected = true),
          },
        }
      : {}),
  };
  const router = buildApi(backend);
  const guard = originGuard({ hint: 'start the node with --allowed-hosts or --allowed-origins', allowedHosts: [...(config.allowedHosts ?? []), new URL(self.client).hostname], allowedOrigins: [new URL(self.client).origin, ...(config.allowedOrigins ?? [])], onRefused: (reason) => metrics.countRefusal(reason) });
  const debug = logger.isLevelEnabled('debug');
  const authorizeRequest = async (access: RouteAccess, req: ApiRequest, raw: RawRequest): Promise<Principal | null> => {
    const identify = (): Promise<Principal | null> => auth.identify({ headers: req.headers, remoteAddress: req.remoteAddress, ...(raw.clientCertName === undefined ? {} : { clientCertName: raw.clientCertName }) });
    // a public route answers anyone: credentials only say who is asking (whoami), and bad ones refuse nothing
    if (access === 'public') return req.headers.has('authorization') || raw.clientCertName !== undefined ? identify().catch(() => null) : null;
    const principal = await identify();
    auth.authorize(principal, access, req);
    return principal;
  };
  const client = new URL(self.client);
  try {
    server = await HttpServer.listen({
      host: client.hostname,
      port: Number(client.port),
      maxBodyBytes: config.maxBodyBytes ?? 1 << 20,
      onError: (err) => logger.error({ err }, 'request failed'),
      onRefusedConnection: (reason) => metrics.countRefusal(reason),
      ...(clientTls === undefined ? {} : { tls: { load: () => clientTls as TlsMaterial, clientCertificates: config.tls?.clientCertAuth ?? 'none' } }),
      handle: async (request) => {
        const started = performance.now();
        const { answer, route } = await answerRequest(router, request, (err) => logger.error({ err }, 'request failed'), {
          guard,
          authorize: (access, req, raw) => {
            // with auth off nothing is asked (credentials sent anyway are ignored, as etcd does)
            if (!auth.enabled) return undefined;
            return authorizeRequest(access, req, raw);
          },
        });
        const seconds = (performance.now() - started) / 1000;
        metrics.countRequest(route, request.method, answer.status, seconds);
        // routes and timing only: never headers, bodies or credentials
        if (debug) logger.debug({ route, method: request.method, status: answer.status, ms: seconds * 1000 }, 'request');
        return answer;
      },
    });
  } catch (err) {
    host.stop();
    await transport.close({ deadlineMs: 0 });
    await storage.close();
    throw err;
  }
  logger.info({ client: self.client, peer: self.peer, recoveredOps: storage.durableOps.length, incarnation: identity.incarnation, tls: clientTls !== undefined, peerTls: peerTls !== undefined }, 'node started');
  const watchers: TlsWatcher[] = [];
  const warnIfExpiring = (what: string, m: TlsMaterial): void => {
    const daysLeft = (m.notAfter.getTime() - Date.now()) / 86_400_000;
    if (daysLeft < 30) logger.warn({ notAfter: m.notAfter.toISOString() }, `the ${what} certificate expires in ${Math.max(0, Math.floor(daysLeft))} days; renew it (synod certs create), it is picked up without a restart`);
  };
  if (config.tls !== undefined && clientTls !== undefined) {
    warnIfExpiring('client API', clientTls);
    watchers.push(new TlsWatcher(config.tls, named(clientHost), (m) => {
      clientTls = m;
      server?.reloadTls();
      forwarder.reloadTls();
      logger.info({ notAfter: m.notAfter.toISOString() }, 'client API certificate reloaded');
      warnIfExpiring('client API', m);
    }, (err) => logger.error({ code: (err as TlsError).code }, `the client API's TLS files changed but cannot be used (${err.message}); still using the previous ones`)));
  }
  if (config.peerTls !== undefined && peerTls !== undefined) {
    warnIfExpiring('peer', peerTls);
    watchers.push(new TlsWatcher(config.peerTls, named(peerHost), (m) => {
      peerTls = m;
      transport.reloadTls(toTransportTls(m));
      logger.info({ notAfter: m.notAfter.toISOString() }, 'peer certificate reloaded');
      warnIfExpiring('peer', m);
    }, (err) => logger.error({ code: (err as TlsError).code }, `the peer TLS files changed but cannot be used (${err.message}); still using the previous ones`)));
  }

  return {
    id: config.id,
    clientUrl: self.client,
    logger,
    transport,
    identity,
    reloadTls: () => {
      for (const w of watchers) w.check(true);
    },
    close: async () => {
      for (const w of watchers) w.close();
      await server?.close(5000);
      host.stop();
      forwarder.close();
      await transport.close({ deadlineMs: 1000 });
      await storage.close().catch((err: unknown) => logger.warn({ err }, 'the log did not close cleanly'));
      logger.info('node stopped');
    },
  };
}

/** The leader as the core knows it, with a callback on every change (from the core's annotations). */
function leaderWatch(host: NodeHost<RaftMessage, RaftRequest, RaftResponse, RaftPersistOp, KvRaftCore>, core: () => KvRaftCore): LeaderWatch {
  const listeners = new Set<() => void>();
  host.onAnnotate((key) => {
    if (key !== 'leader' && key !== 'term') return;
    for (const listener of [...listeners]) listener();
  });
  return {
    leader: () => core().status().leader,
    onChange: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/**
 * Readiness: storage writable, a leader known and (on a follower) heard from recently, and the
 * applied state within READY_LAG_ENTRIES of the commit index the leader last announced.
 */
function trackReadiness(transport: Transport<RaftMessage>, core: () => KvRaftCore, failure: () => Error | undefined, refusedByPeers: () => boolean, electionTimeoutMaxTicks: number, tickMs: number): () => ReadinessReport {
  let leaderHeardAt = -Infinity;
  let leaderCommit = 0;
  transport.onMessage((from, msg) => {
    // what only a leader sends: appends, heartbeats and snapshots
    if (msg.type !== 'append' && msg.type !== 'heartbeat' && msg.type !== 'snapshot') return;
    leaderHeardAt = performance.now();
    const commit = (msg as { commit?: unknown }).commit;
    if (typeof commit === 'number' && commit > leaderCommit) leaderCommit = commit;
  });
  const silenceMs = 2 * electionTimeoutMaxTicks * tickMs;
  return () => {
    const s = core().status();
    const checks: Record<string, true | string> = {};
    const failed = failure();
    checks['storage'] = failed === undefined ? true : `storage failed: ${failed.message}`;
    checks['identity'] = refusedByPeers() ? 'peers refuse this node: they knew another data directory for it (its state was lost or replaced)' : true;
    checks['leader'] = s.leader === null ? 'no leader is known' : true;
    if (s.leader !== null && s.role !== 'leader') {
      const quietMs = performance.now() - leaderHeardAt;
      if (quietMs > silenceMs) checks['leader'] = `nothing heard from leader ${s.leader} for ${Number.isFinite(quietMs) ? `${Math.round(quietMs)} ms` : 'ever'}`;
    }
    const target = Math.max(s.commit, s.role === 'leader' ? 0 : leaderCommit);
    checks['caughtUp'] = s.applied + READY_LAG_ENTRIES >= target ? true : `applied ${s.applied}, the leader has committed ${target}`;
    return { ready: Object.values(checks).every((c) => c === true), checks };
  };
}
