// The Raft KV as a service of the generic node process: Raft over the KV store on RaftStorage,
// with forwarding to the leader, users and roles kept in the store, member addresses learned from
// applied entries, and readiness from what a follower hears of its leader. `startNode` runs it.
import { LeasedKvStore, type KvQuery, type KvRequest, type KvResult } from '../kv/index.js';
import { commandOf, raftSpec, type LogEntry, type RaftMessage, type RaftOptions, type RaftPersistOp, type RaftRequest, type RaftResponse } from '../raft/index.js';
import type { RaftCore } from '../raft/core.js';
import { assertInvariant, type JsonValue } from '../core/index.js';
import type { NodeHost } from '../runtime/index.js';
import { RaftStorage } from '../storage/index.js';
import type { Transport } from '../net/index.js';
import { buildApi, RESERVED_PREFIX, type ApiBackend } from './api.js';
import { Authenticator } from './auth.js';
import { Forwarder, type LeaderWatch } from './forward.js';
import { addKvRoutes } from './kv-routes.js';
import { WatchHub, watchOptionsOf, type WatchOptions } from './kv-watch.js';
import { registerRaftGauges } from './metrics.js';
import { parseHostPort, startServiceNode, type NodeConfig, type RunningNode } from './node.js';
import type { MemberAddress, ServiceContext, ServiceDefinition, ServiceInstance } from './service.js';
import type { TlsMaterial } from './tls.js';

/** The Raft core over the KV store, as this process runs it. */
type KvRaftCore = RaftCore<KvRequest, KvQuery, KvResult>;
type KvHost = NodeHost<RaftMessage, RaftRequest, RaftResponse, RaftPersistOp, KvRaftCore>;

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

/**
 * History kept by default (etcd's --auto-compaction-mode=revision): about this many revisions,
 * so that a node's memory and snapshots stay bounded (docs/kv.md, "Memory": some 30 B per
 * retained revision plus its value).
 */
export const DEFAULT_AUTO_COMPACT_RETAIN_REVISIONS = 10_000;

/** The KV service's options in the cluster file. */
export interface KvServiceOptions {
  /** Raft timing and limits over NODE_RAFT_DEFAULTS. */
  readonly raft?: Partial<RaftOptions>;
  /** How long a login token stays valid (default 10 minutes). */
  readonly authTokenTtlMs?: number;
  /**
   * Revisions of history kept (auto-compaction; 0: keep all until a compact command). Decided at
   * apply from the revision alone: every member must run with the same value, or members answer
   * reads of old revisions differently. Default DEFAULT_AUTO_COMPACT_RETAIN_REVISIONS.
   */
  readonly autoCompactRetainRevisions?: number;
  /** Limits of the watchers each node serves (kv-watch.ts). */
  readonly watch?: WatchOptions;
}

/** The retained revisions an options object asks for, checked. */
export function retainRevisionsOf(options: KvServiceOptions): number {
  const retain = options.autoCompactRetainRevisions ?? DEFAULT_AUTO_COMPACT_RETAIN_REVISIONS;
  if (!Number.isSafeInteger(retain) || retain < 0) throw new RangeError(`autoCompactRetainRevisions must be a whole number >= 0, not ${JSON.stringify(retain)}`);
  return retain;
}

/** A monotonic clock in ms for the core (leases, read leases): the wall clock may be set back or forward, this one never is. */
const monotonicNow = (): number => performance.timeOrigin + performance.now();

export const kvService: ServiceDefinition<RaftMessage, RaftRequest, RaftResponse, RaftPersistOp, KvRaftCore> = {
  name: 'kv',
  description: 'a linearizable key-value store replicated by Raft (the default)',
  defaults: { nodes: 3, options: {} },
  // A follower's log writes block its event loop until durable: it waits on them anyway, and a
  // write from the I/O thread pool costs two thread wakeups more (see WalOptions.writeInline).
  openStore: async ({ dataDir, logger, writeInline }) => {
    const storage = await RaftStorage.open(dataDir, { onWarning: (w) => logger.warn({ storage: w }, w.message), writeInline });
    return { recovered: storage.durableOps, persist: (ops) => storage.persist(ops), close: () => storage.close(), get stats() { return storage.stats; } };
  },
  // a joiner's core must not count itself a voter, or an empty log could vote and campaign
  startMembers: (members, self, joining) => members.filter((id) => !joining || id !== self),
  // lease expiry and the read lease measure intervals: they need a clock nobody sets
  clock: () => monotonicNow,
  createSpec: (ctx) => {
    const options = ctx.options as KvServiceOptions;
    const autoCompactRetainRevisions = retainRevisionsOf(options);
    // a bad watch limit is refused before the core starts, with the option named
    watchOptionsOf(options.watch);
    return raftSpec({ ...NODE_RAFT_DEFAULTS, ...options.raft,
      // the store with its Lessor: the leader's clock decides expiry, revokes go through the log
      createStateMachine: (env) => new LeasedKvStore({ clock: () => env.now(), autoCompactRetainRevisions }),
      observer: { applied: (node, entry) => node === ctx.id && learnMember(ctx, entry) },
    });
  },
  attach: (ctx, host) => attachKv(ctx, host),
};

/** Starts one node of the Raft KV (the `kv` service). */
export function startNode(config: NodeConfig & KvServiceOptions): Promise<RunningNode> {
  const { raft, authTokenTtlMs, autoCompactRetainRevisions, ...rest } = config;
  const options: Record<string, JsonValue> = { ...(rest.options ?? {}) };
  if (raft !== undefined) options['raft'] = raft as unknown as JsonValue;
  if (authTokenTtlMs !== undefined) options['authTokenTtlMs'] = authTokenTtlMs;
  if (autoCompactRetainRevisions !== undefined) options['autoCompactRetainRevisions'] = autoCompactRetainRevisions;
  return startServiceNode(kvService, { ...rest, options });
}

/** A put of a member's addresses (written by POST /v1/members) teaches this node where it is. */
function learnMember(ctx: ServiceContext<RaftMessage>, entry: LogEntry): void {
  const op = entry.kind === 'command' ? (commandOf(entry).op as { op?: string; key?: string; value?: MemberAddress } | null) : null;
  if (op === null || op.op !== 'put' || typeof op.key !== 'string' || !op.key.startsWith(MEMBER_KEY_PREFIX)) return;
  const id = op.key.slice(MEMBER_KEY_PREFIX.length);
  if (op.value === undefined || id === ctx.id) return;
  ctx.directory.set(id, op.value);
  ctx.transport.addPeer(id, parseHostPort(op.value.peer));
}

function attachKv(ctx: ServiceContext<RaftMessage>, host: KvHost): ServiceInstance {
  const options = ctx.options as KvServiceOptions;
  const core = (): KvRaftCore => {
    const running = host.running;
    assertInvariant(running !== undefined, () => `node ${ctx.id}: its core is read before the host started`);
    return running;
  };
  // A leader writes inline too while at most one client request waits (it has sent its appends by
  // then, and nobody else is waiting); under load its loop must keep serving while the log syncs.
  ctx.setWriteInline(() => core().displayRole !== 'leader' || host.pendingRequestCount <= LEADER_INLINE_MAX_PENDING);
  registerRaftGauges(ctx.registry, () => core().status());
  const watch = leaderWatch(host, core);
  const raftTiming = { ...NODE_RAFT_DEFAULTS, ...options.raft };
  const readiness = trackReadiness(ctx.transport, core, (raftTiming.electionTimeoutMaxTicks as number) * (raftTiming.tickMs as number));
  const forwarder = new Forwarder({
    selfId: ctx.id,
    // the leader checks the caller again: it gets a short-lived token for the user this node authenticated
    // (a client certificate would not reach it: the forward carries this node's certificate)
    authorization: (req) => (req.principal?.kind === 'user' ? `Bearer ${auth.tokenFor(req.principal.name)}` : undefined),
    clientUrl: (id) => ctx.directory.get(id)?.client,
    watch,
    timeoutMs: 5000,
    // to the leader's API: trust the cluster CA, and present this node's certificate if it asks for one
    ...(ctx.clientTls() === undefined ? {} : { tls: () => {
      const m = ctx.clientTls() as TlsMaterial;
      return { ca: m.ca, cert: m.cert, key: m.key };
    } }),
  });
  const auth = new Authenticator({
    clusterSecret: ctx.secret,
    state: {
      get: (key) => {
        const found = core().queryLocal({ op: 'get', key });
        return 'value' in found ? found.value : null;
      },
    },
    ...(options.authTokenTtlMs === undefined ? {} : { tokenTtlMs: options.authTokenTtlMs }),
    onFailure: (reason) => ctx.countRefusal(`auth_${reason}`),
  });
  const backend: ApiBackend = {
    id: ctx.id,
    clusterId: ctx.identity.clusterId,
    submit: async (request, timeoutMs) => {
      if (ctx.failure() !== undefined) return { ok: false, error: 'timeout', leaderHint: null, message: 'node stopped after a storage failure' };
      // past its bound of waiting requests the host refuses at once: that is overload, not a fault
      return host.request(request, timeoutMs).catch((): RaftResponse => ({ ok: false, error: 'overloaded', leaderHint: null, message: 'too many requests are waiting on this node' }));
    },
    queryLocal: (query: KvQuery) => core().queryLocal(query),
    status: () => core().status(),
    health: () => {
      const failed = ctx.failure();
      return failed === undefined ? { ok: true } : { ok: false, reason: `storage failed: ${failed.message}` };
    },
    clientUrl: (id) => ctx.directory.get(id)?.client,
    peerAddress: (id) => ctx.directory.get(id)?.peer,
    announceMember: async (id, peer, client) => {
      parseHostPort(peer);
      const res = await host.request({ type: 'command', clientId: null, seq: 0, op: { op: 'put', key: `${MEMBER_KEY_PREFIX}${id}`, value: { peer, client } } }, 5000);
      if (res === undefined || !res.ok) throw new Error(`could not record the addresses of ${id}: ${res === undefined ? 'timeout' : res.error}`);
    },
    exportSnapshot: () => {
      const { meta, data } = core().exportApplied();
      return { index: meta.index, term: meta.term, config: meta.config, data };
    },
    forwarder,
    auth,
    // etcd's minimum: a lease can outlive an election and the keep-alive that follows it
    minLeaseTtlMs: Math.ceil(1.5 * (raftTiming.electionTimeoutMaxTicks as number) * (raftTiming.tickMs as number)),
  };
  // watchers are served from this node's applied state: they pull whenever it moves
  const watches = new WatchHub({
    nodeId: ctx.id,
    changes: (query) => core().queryLocal(query),
    range: (prefix, limit) => core().queryLocal({ op: 'range', prefix, limit, exclude: RESERVED_PREFIX }),
    revision: () => (core().queryLocal({ op: 'get', key: '' }) as { revision: number }).revision,
    health: () => backend.health(),
  }, watchOptionsOf(options.watch));
  host.onAnnotate((key) => {
    if (key === 'applied') watches.applied();
  });
  return {
    addRoutes: (router) => {
      buildApi(backend, router);
      addKvRoutes(router, backend, watches);
    },
    status: () => core().status() as unknown as { role: string } & Record<string, JsonValue>,
    readiness,
    auth,
    // an operator who removed a member and added it back wrote a newer member record: its new directory is accepted
    // (handshakes can come before the core starts: nothing is known of any member record then)
    memberRevision: (peer) => {
      const found = host.running?.queryLocal({ op: 'get', key: `${MEMBER_KEY_PREFIX}${peer}` });
      return found !== undefined && 'modRevision' in found ? found.modRevision : 0;
    },
    reloadTls: () => forwarder.reloadTls(),
    close: () => {
      watches.close();
      forwarder.close();
    },
  };
}

/** The leader as the core knows it, with a callback on every change (from the core's annotations). */
function leaderWatch(host: KvHost, core: () => KvRaftCore): LeaderWatch {
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
 * Readiness of the KV: a leader known and (on a follower) heard from recently, and the applied
 * state within READY_LAG_ENTRIES of the commit index the leader last announced.
 */
function trackReadiness(transport: Transport<RaftMessage>, core: () => KvRaftCore, electionTimeoutMaxMs: number): () => Record<string, true | string> {
  let leaderHeardAt = -Infinity;
  let leaderCommit = 0;
  transport.onMessage((_from, msg) => {
    // what only a leader sends: appends, heartbeats and snapshots
    if (msg.type !== 'append' && msg.type !== 'heartbeat' && msg.type !== 'snapshot') return;
    leaderHeardAt = performance.now();
    const commit = (msg as { commit?: unknown }).commit;
    if (typeof commit === 'number' && commit > leaderCommit) leaderCommit = commit;
  });
  const silenceMs = 2 * electionTimeoutMaxMs;
  return () => {
    const s = core().status();
    const checks: Record<string, true | string> = {};
    checks['leader'] = s.leader === null ? 'no leader is known' : true;
    if (s.leader !== null && s.role !== 'leader') {
      const quietMs = performance.now() - leaderHeardAt;
      if (quietMs > silenceMs) checks['leader'] = `nothing heard from leader ${s.leader} for ${Number.isFinite(quietMs) ? `${Math.round(quietMs)} ms` : 'ever'}`;
    }
    const target = Math.max(s.commit, s.role === 'leader' ? 0 : leaderCommit);
    checks['caughtUp'] = s.applied + READY_LAG_ENTRIES >= target ? true : `applied ${s.applied}, the leader has committed ${target}`;
    return checks;
  };
}
