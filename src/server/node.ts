// The generic node process: runs one service (a primitive's core, see service.ts) over a durable
// store and the authenticated TCP transport, serving its HTTP/JSON API with health, readiness,
// status, metrics and structured logs, and shutting down gracefully (finish in-flight requests,
// flush, close). A node whose storage fails stops serving at once and says so (health 503, then
// onFatal: the CLI exits). The Raft KV (kv-service.ts) is one service; clock sync is another.
import { createHash } from 'node:crypto';
import { pino, type Logger } from 'pino';
import type { JsonValue, Message, ProtocolCore } from '../core/index.js';
import { NodeHost } from '../runtime/index.js';
import { StorageError } from '../storage/index.js';
import { Transport, type FaultController, type NetLogRecord, type TransportMetrics } from '../net/index.js';
import type { Principal, RouteAccess } from './auth.js';
import { originGuard } from './guard.js';
import { answerRequest, expectObject, HttpError, Router, type ApiRequest, type RawRequest } from './http.js';
import { HttpServer } from './http-server.js';
import { defaultClusterId, KnownPeers, openIdentity, RECOVERY_HINT, type InitialClusterState, type NodeIdentity } from './identity.js';
import { createNodeMetrics } from './metrics.js';
import type { MemberAddress, ServiceContext, ServiceDefinition, ServiceInstance } from './service.js';
import { loadTls, TlsError, TlsWatcher, type TlsFiles, type TlsMaterial } from './tls.js';

export type { MemberAddress } from './service.js';

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
  /** The service's own options (e.g. the KV's "raft" timing; clock sync's "clockOffsetMs"). */
  readonly options?: Readonly<Record<string, JsonValue>>;
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
  readonly logLevel?: string;
  /** Where logs go; stderr by default. */
  readonly logDestination?: NodeJS.WritableStream;
  /**
   * Called once the node has stopped serving after a failure it cannot recover from (its log could
   * not be written). The CLI exits; a library user should close the node and alert.
   */
  readonly onFatal?: (err: Error) => void;
}

/** What a running node shows of its transport: fault injection (tests) and counters. */
export interface NodeTransportView {
  readonly faults: FaultController;
  metrics(): TransportMetrics;
}

export interface RunningNode {
  readonly id: string;
  readonly service: string;
  readonly clientUrl: string;
  readonly logger: Logger;
  readonly transport: NodeTransportView;
  readonly identity: NodeIdentity;
  /** Reads the TLS files again now (as on SIGHUP); they are also checked every few seconds. */
  reloadTls(): void;
  /** Graceful shutdown: stop accepting, finish in-flight requests, then close transport and log. */
  close(): Promise<void>;
}

const PUBLIC = { access: 'public' } as const;

export function parseHostPort(text: string): { host: string; port: number } {
  const m = /^(.*):(\d{1,5})$/.exec(text);
  const port = m === null ? NaN : Number(m[2]);
  if (m === null || !(port >= 0 && port <= 65535) || (m[1] as string).length === 0) throw new Error(`expected host:port, got "${text}"`);
  return { host: m[1] as string, port };
}

export function clusterIdOf(config: Pick<NodeConfig, 'clusterId' | 'secret'>): string {
  return config.clusterId ?? defaultClusterId(config.secret, (text) => createHash('sha256').update(text).digest('hex'));
}

/** Starts one node of `service`: its store, identity, transport, core and HTTP API. */
export async function startServiceNode<M extends Message, Req, Res, P, Core extends ProtocolCore<M, Req, Res, P>>(service: ServiceDefinition<M, Req, Res, P, Core>, config: NodeConfig): Promise<RunningNode> {
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

  let writeInline = (): boolean => false;
  const store = await service.openStore({ dataDir: config.dataDir, logger, writeInline: () => writeInline() });
  let identity: NodeIdentity;
  let knownPeers: KnownPeers;
  try {
    const opened = openIdentity(config.dataDir, { clusterId: clusterIdOf(config), nodeId: config.id, initialClusterState: service.stateless === true ? 'new' : (config.initialClusterState ?? 'new'), hasState: store.recovered.length > 0, now: () => new Date() });
    identity = opened.identity;
    if (opened.created === 'upgraded') logger.info({ incarnation: identity.incarnation }, 'data directory predates identities: identity.json written for it');
    // peers' data directories as first met: one that comes back with another directory lost its votes and acknowledgements
    knownPeers = new KnownPeers(config.dataDir);
  } catch (err) {
    await store.close();
    throw err;
  }

  let refusedByPeersAt = -Infinity;
  let memberRevision = (_peer: string): number => 0;
  const toTransportTls = (m: TlsMaterial) => ({ key: m.key, cert: m.cert, ca: m.ca, requireNodeId: true });
  const transport = await startTransport<M>(config, directory, self, identity, knownPeers, logger, peerTls === undefined ? undefined : toTransportTls(peerTls), {
    memberRevision: (peer) => memberRevision(peer),
    refused: () => void (refusedByPeersAt = performance.now()),
    refusedRecently: () => performance.now() - refusedByPeersAt < 10_000,
  }).catch(async (err: unknown) => {
    await store.close();
    throw err;
  });

  // ---- failure: a node that cannot persist can keep no promise, so it stops at once, visibly
  let failure: Error | undefined;
  let storageFaultInjected = false;
  const fail = (err: Error): void => {
    if (failure !== undefined) return;
    failure = err;
    logger.fatal({ err }, 'cannot persist: the node stops serving (no more votes, appends or answers) and exits');
    // peers must see it gone now, not after their timeouts: it will never answer again
    void transport.close({ deadlineMs: 0 });
    config.onFatal?.(err);
  };
  const persist = async (ops: readonly P[]): Promise<void> => {
    if (storageFaultInjected) throw new StorageError('STORAGE_IO', 'injected storage failure (POST /v1/faults fail-storage)');
    const started = performance.now();
    await store.persist(ops);
    metrics.observeCommit((performance.now() - started) / 1000);
  };
  const metrics = createNodeMetrics({ id: config.id, transport: () => transport.metrics(), wal: () => store.stats, healthy: () => failure === undefined });
  const ctx: ServiceContext<M> = {
    id: config.id,
    options: config.options ?? {},
    logger,
    secret: config.secret,
    transport,
    identity,
    directory,
    registry: metrics.registry,
    clientTls: () => clientTls,
    failure: () => failure,
    countRefusal: (reason) => metrics.countRefusal(reason),
    setWriteInline: (policy) => void (writeInline = policy),
  };
  const members = Object.keys(config.members);
  let host: NodeHost<M, Req, Res, P, Core>;
  let instance: ServiceInstance;
  let started: NodeHost<M, Req, Res, P, Core> | undefined;
  try {
    // a service may refuse its options, its members or its recovered state here: nothing it opened stays open
    const spec = service.createSpec(ctx);
    host = new NodeHost(spec, {
      id: config.id,
      ...(service.clock === undefined ? {} : { now: service.clock(ctx) }),
      members: (service.startMembers?.(members, config.id, config.join === true) ?? members).sort(),
      store: { recovered: store.recovered, persist },
      transport: { send: (to, msg) => void transport.send(to, msg), onMessage: (h) => void transport.onMessage(h) },
      onFatal: fail,
    });
    host.start();
    started = host;
    instance = service.attach(ctx, host);
  } catch (err) {
    started?.stop();
    await transport.close({ deadlineMs: 0 });
    await store.close();
    throw err;
  }
  memberRevision = (peer) => instance.memberRevision?.(peer) ?? 0;
  const refusedByPeers = (): boolean => performance.now() - refusedByPeersAt < 30_000;

  const router = nodeRouter(config, service.name, instance, metrics.registry, () => failure, refusedByPeers, transport, () => void (storageFaultInjected = true));
  const guard = originGuard({ hint: 'start the node with --allowed-hosts or --allowed-origins', allowedHosts: [...(config.allowedHosts ?? []), new URL(self.client).hostname], allowedOrigins: [new URL(self.client).origin, ...(config.allowedOrigins ?? [])], onRefused: (reason) => metrics.countRefusal(reason) });
  const debug = logger.isLevelEnabled('debug');
  const auth = instance.auth;
  const authorizeRequest = async (access: RouteAccess, req: ApiRequest, raw: RawRequest): Promise<Principal | null | undefined> => {
    // with auth off (or a service without users) nothing is asked: credentials sent anyway are ignored, as etcd does
    if (auth === undefined || !auth.enabled) return undefined;
    const identify = (): Promise<Principal | null> => auth.identify({ headers: req.headers, remoteAddress: req.remoteAddress, ...(raw.clientCertName === undefined ? {} : { clientCertName: raw.clientCertName }) });
    // a public route answers anyone: credentials only say who is asking (whoami), and bad ones refuse nothing
    if (access === 'public') return req.headers.has('authorization') || raw.clientCertName !== undefined ? identify().catch(() => null) : null;
    const principal = await identify();
    auth.authorize(principal, access, req);
    return principal;
  };
  const client = new URL(self.client);
  let server: HttpServer;
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
          authorize: (access, req, raw) => (auth === undefined || !auth.enabled ? undefined : authorizeRequest(access, req, raw)),
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
    instance.close?.();
    await transport.close({ deadlineMs: 0 });
    await store.close();
    throw err;
  }
  logger.info({ service: service.name, client: self.client, peer: self.peer, recoveredOps: store.recovered.length, incarnation: identity.incarnation, tls: clientTls !== undefined, peerTls: peerTls !== undefined }, 'node started');
  const watchers = watchTls(config, logger, named(clientHost), named(peerHost), clientTls, peerTls, {
    client: (m) => {
      clientTls = m;
      server.reloadTls();
      instance.reloadTls?.();
    },
    peer: (m) => {
      peerTls = m;
      transport.reloadTls(toTransportTls(m));
    },
  });

  return {
    id: config.id,
    service: service.name,
    clientUrl: self.client,
    logger,
    transport,
    identity,
    reloadTls: () => {
      for (const w of watchers) w.check(true);
    },
    close: async () => {
      for (const w of watchers) w.close();
      await server.close(5000);
      host.stop();
      instance.close?.();
      await transport.close({ deadlineMs: 1000 });
      await store.close().catch((err: unknown) => logger.warn({ err }, 'the log did not close cleanly'));
      logger.info('node stopped');
    },
  };
}

interface PeerChecks {
  memberRevision(peer: string): number;
  refused(): void;
  refusedRecently(): boolean;
}

function startTransport<M extends Message>(config: NodeConfig, directory: ReadonlyMap<string, MemberAddress>, self: MemberAddress, identity: NodeIdentity, knownPeers: KnownPeers, logger: Logger, tls: { key: string | Buffer; cert: string | Buffer; ca: string | Buffer; requireNodeId: boolean } | undefined, checks: PeerChecks): Promise<Transport<M>> {
  return Transport.start<M>({
    selfId: config.id,
    listen: parseHostPort(self.peer),
    peers: Object.fromEntries([...directory].filter(([id]) => id !== config.id).map(([id, a]) => [id, parseHostPort(a.peer)])),
    secret: config.secret,
    clusterId: identity.clusterId,
    incarnation: identity.incarnation,
    checkPeerIncarnation: (peer, incarnation) => {
      const verdict = knownPeers.check(peer, incarnation, checks.memberRevision(peer));
      if (verdict === 'refuse') logger.error({ peer, incarnation, known: knownPeers.incarnationOf(peer) }, `node ${peer} came back with another data directory: it lost its state, and is refused until it is removed and added again (docs/runtime.md, "Recovering a node")`);
      return verdict;
    },
    onRefused: (peer, reason) => {
      if (reason !== 'identity_changed') return;
      if (!checks.refusedRecently()) logger.error({ peer }, `node ${peer} refuses this node: it knew another data directory for it (this node's state was lost or replaced). ${RECOVERY_HINT}`);
      checks.refused();
    },
    ...(tls === undefined ? {} : { tls }),
    faultInjection: config.faultInjection === true,
    logger: (r: NetLogRecord) => {
      // the logger already names this node; a second "node" key would repeat it in every line
      const { level, msg, event, node: _self, ...fields } = r;
      logger[level]({ ...fields, net: event }, msg);
    },
  });
}

/** The node's own routes (health, readiness, status, metrics, test faults) and the service's. */
function nodeRouter<M extends Message>(config: NodeConfig, serviceName: string, instance: ServiceInstance, registry: { metrics(): Promise<string> }, failure: () => Error | undefined, refusedByPeers: () => boolean, transport: Transport<M>, failStorage: () => void): Router {
  const health = (): { ok: boolean; reason?: string } => {
    const failed = failure();
    return failed === undefined ? { ok: true } : { ok: false, reason: `storage failed: ${failed.message}` };
  };
  const router = new Router()
    .add('GET', '/health', () => {
      const h = health();
      return { status: h.ok ? 200 : 503, body: { ok: h.ok, id: config.id, ...(h.reason === undefined ? {} : { reason: h.reason }) } };
    }, PUBLIC)
    .add('GET', '/readyz', () => {
      const failed = failure();
      const checks: Record<string, true | string> = {
        storage: failed === undefined ? true : `storage failed: ${failed.message}`,
        identity: refusedByPeers() ? 'peers refuse this node: they knew another data directory for it (its state was lost or replaced)' : true,
        ...instance.readiness(),
      };
      const ready = Object.values(checks).every((c) => c === true);
      return { status: ready ? 200 : 503, body: { ready, id: config.id, service: serviceName, checks } };
    }, PUBLIC)
    .add('GET', '/metrics', async () => ({ status: 200, body: await registry.metrics() }), PUBLIC)
    // public, as /health: roles and progress, no data (the dashboard and monitoring read it without credentials)
    .add('GET', '/v1/status', () => ({ status: 200, body: { id: config.id, service: serviceName, ...instance.status() } }), PUBLIC)
    .add('POST', '/v1/faults', (req) => {
      // test-only: partition this node's links, drop, heal, or fail its storage (off unless started with fault injection)
      if (config.faultInjection !== true) throw new HttpError(404, 'FAULTS_DISABLED', 'fault injection is off on this node');
      const body = expectObject(req.body, 'faults');
      if (body['action'] === 'heal') transport.faults.heal();
      else if (body['action'] === 'partition' && Array.isArray(body['from'])) transport.faults.partition([config.id], body['from'].map(String));
      else if (body['action'] === 'drop' && typeof body['peer'] === 'string' && typeof body['rate'] === 'number') transport.faults.setDropRate(body['peer'], body['rate'], 'both');
      else if (body['action'] === 'fail-storage') failStorage();
      else throw new HttpError(400, 'BAD_REQUEST', 'faults: {action:"partition", from:[ids]} | {action:"drop", peer, rate} | {action:"heal"} | {action:"fail-storage"}');
      return { status: 200, body: { ok: true } };
    });
  instance.addRoutes(router);
  return router;
}

function watchTls(config: NodeConfig, logger: Logger, clientNames: string[], peerNames: string[], clientTls: TlsMaterial | undefined, peerTls: TlsMaterial | undefined, reload: { client(m: TlsMaterial): void; peer(m: TlsMaterial): void }): TlsWatcher[] {
  const watchers: TlsWatcher[] = [];
  const warnIfExpiring = (what: string, m: TlsMaterial): void => {
    const daysLeft = (m.notAfter.getTime() - Date.now()) / 86_400_000;
    if (daysLeft < 30) logger.warn({ notAfter: m.notAfter.toISOString() }, `the ${what} certificate expires in ${Math.max(0, Math.floor(daysLeft))} days; renew it (synod certs create), it is picked up without a restart`);
  };
  const watch = (what: string, files: TlsFiles, names: string[], initial: TlsMaterial, apply: (m: TlsMaterial) => void): void => {
    warnIfExpiring(what, initial);
    watchers.push(new TlsWatcher(files, names, (m) => {
      apply(m);
      logger.info({ notAfter: m.notAfter.toISOString() }, `${what} certificate reloaded`);
      warnIfExpiring(what, m);
    }, (err) => logger.error({ code: (err as TlsError).code }, `the ${what} TLS files changed but cannot be used (${err.message}); still using the previous ones`)));
  };
  if (config.tls !== undefined && clientTls !== undefined) watch('client API', config.tls, clientNames, clientTls, reload.client);
  if (config.peerTls !== undefined && peerTls !== undefined) watch('peer', config.peerTls, peerNames, peerTls, reload.peer);
  return watchers;
}
