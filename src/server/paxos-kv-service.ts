// The Multi-Paxos KV as a service of the generic node process: `synod cluster up --service
// paxos-kv` runs the Multi-Paxos core (src/paxos/multi) over the same KV state machine as the Raft
// KV (src/kv's KvStore), on the same peer transport, with the core's promises, acceptances and
// snapshots in a write-ahead log (paxos-kv-store.ts: synced before any message or reply of the
// call that made them leaves). Clients use the Raft KV's routes and shapes for what both support
// (paxos-kv-routes.ts), so `synod kv get|put|del|cas|incr|list` and SynodClient work unchanged; a
// follower forwards to the leader (forward.ts) as the Raft KV's followers do.
import { Gauge } from 'prom-client';
import type { JsonValue } from '../core/index.js';
import { KvStore, type KvQuery, type KvRequest, type KvResult } from '../kv/index.js';
import { ballotText } from '../paxos/ballot.js';
import { PaxosError } from '../paxos/errors.js';
import type { MultiPaxosCore } from '../paxos/multi/core.js';
import { parsePaxosMessage } from '../paxos/multi/messages.js';
import { paxosSpec, resolvePaxosOptions } from '../paxos/multi/spec.js';
import type { PaxosMessage, PaxosOptions, PaxosPersistOp, PaxosRequest, PaxosResponse, PaxosStatus } from '../paxos/multi/types.js';
import { resolveQuorums } from '../paxos/quorums.js';
import type { RaftRequest, RaftResponse } from '../raft/index.js';
import type { NodeHost } from '../runtime/index.js';
import type { Transport } from '../net/index.js';
import { Forwarder, type LeaderWatch } from './forward.js';
import { addPaxosKvRoutes, type PaxosKvBackend } from './paxos-kv-routes.js';
import { openPaxosStore } from './paxos-kv-store.js';
import { retainRevisionsOf } from './kv-service.js';
import { ServiceOptionError, type ServiceContext, type ServiceDefinition, type ServiceInstance } from './service.js';
import type { TlsMaterial } from './tls.js';

export type PaxosKvCore = MultiPaxosCore<KvRequest, KvQuery, KvResult>;
type PaxosKvHost = NodeHost<PaxosMessage, PaxosRequest, PaxosResponse, PaxosPersistOp, PaxosKvCore>;

/** A leader writes its log on its own thread while no more client requests than this wait (as the Raft KV's). */
const LEADER_INLINE_MAX_PENDING = 1;
/** A follower that has applied within this many slots of what the leader last said is chosen counts as caught up. */
const READY_LAG_SLOTS = 1000;

/**
 * Timing for real processes, as the Raft KV's (heartbeat 100 ms, elections after 0.5-1 s): the
 * simulator's 15 ms ticks and 150-300 ms elections would depose a leader at every long GC pause.
 */
export const NODE_PAXOS_DEFAULTS: Partial<PaxosOptions> = {
  tickMs: 25,
  heartbeatTicks: 4,
  electionTimeoutMinTicks: 20,
  electionTimeoutMaxTicks: 40,
  retransmitTicks: 8,
  // an accept or values message of at most 12 entries fits the transport's 16 MiB frames even
  // when every entry is a cas of two values at the KV's 512 KiB limit (the core counts entries, not bytes)
  maxEntriesPerAccept: 12,
  maxValuesPerMessage: 12,
  // a snapshot writes the whole store; between snapshots a promise carries every acceptance above
  // the acceptor's snapshot in one message, which must fit a frame too: every 2,000 slots
  snapshotThresholdSlots: 2_000,
  // chosen values kept below a snapshot for a follower a batch behind (else it gets the whole store)
  snapshotCatchUpSlots: 500,
  // at most one snapshot a second to the same peer
  snapshotResendTicks: 40,
};

/** The service's options in the cluster file ("options"). */
export interface PaxosKvServiceOptions {
  /** Multi-Paxos timing, limits and quorums over NODE_PAXOS_DEFAULTS (docs/paxos.md, "Real processes"). */
  readonly paxos?: Partial<Omit<PaxosOptions, 'observer'>>;
  /** Revisions of history the KV keeps, as the Raft KV's option (default 10,000; every member the same). */
  readonly autoCompactRetainRevisions?: number;
}

function optionsOf(ctx: Pick<ServiceContext<PaxosMessage>, 'options'>): { paxos: PaxosOptions; retain: number } {
  const options = ctx.options as PaxosKvServiceOptions;
  const raw = options.paxos ?? {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ServiceOptionError('paxos-kv: "paxos" must be an object of Multi-Paxos options');
  if ('observer' in raw) throw new ServiceOptionError('paxos-kv: "paxos.observer" cannot be set from a cluster file');
  try {
    return { paxos: resolvePaxosOptions({ ...NODE_PAXOS_DEFAULTS, ...raw }), retain: retainRevisionsOf(options) };
  } catch (err) {
    if (err instanceof PaxosError || err instanceof RangeError) throw new ServiceOptionError(`paxos-kv: ${err.message}`);
    throw err;
  }
}

export const paxosKvService: ServiceDefinition<PaxosMessage, PaxosRequest, PaxosResponse, PaxosPersistOp, PaxosKvCore> = {
  name: 'paxos-kv',
  description: 'the same key-value store replicated by Multi-Paxos (get, put, delete, cas, incr, list; no txn, watch, leases or membership changes)',
  defaults: { nodes: 3, options: {} },
  openStore: ({ dataDir, logger, writeInline }) => openPaxosStore(dataDir, { writeInline, onWarning: (w) => logger.warn({ storage: w }, w.message) }),
  // the acceptors are fixed: a node that joins later would change the quorums under the others' feet
  startMembers: (members, self, joining) => {
    if (joining) throw new ServiceOptionError(`paxos-kv has a fixed membership: node ${self} cannot --join (start it as one of the members in the cluster file)`);
    return [...members];
  },
  createSpec: (ctx) => {
    const { paxos, retain } = optionsOf(ctx);
    // quorum sizes against the members: refused here with the option named, not when the core starts
    try {
      resolveQuorums(ctx.directory.size, paxos.quorums);
    } catch (err) {
      if (err instanceof PaxosError) throw new ServiceOptionError(`paxos-kv: ${err.message}`);
      throw err;
    }
    return paxosSpec<KvRequest, KvQuery, KvResult>({ ...paxos, createStateMachine: () => new KvStore({ autoCompactRetainRevisions: retain }) });
  },
  attach: (ctx, host) => attachPaxosKv(ctx, host),
};

function attachPaxosKv(ctx: ServiceContext<PaxosMessage>, host: PaxosKvHost): ServiceInstance {
  const { paxos } = optionsOf(ctx);
  const core = (): PaxosKvCore => {
    const running = host.running;
    if (running === undefined) throw new Error(`node ${ctx.id}: its core is read before the host started`);
    return running;
  };
  // (the role from the core's annotations: asked before every commit, it must cost nothing)
  ctx.setWriteInline(() => host.annotations().get('role') !== 'leader' || host.pendingRequestCount <= LEADER_INLINE_MAX_PENDING);
  registerPaxosGauges(ctx, core);
  const watch = leaderWatch(host);
  const electionMaxMs = paxos.electionTimeoutMaxTicks * paxos.tickMs;
  const readiness = trackReadiness(ctx.transport, core, electionMaxMs);
  const forwarder = new Forwarder({
    selfId: ctx.id,
    clientUrl: (id) => ctx.directory.get(id)?.client,
    watch,
    timeoutMs: 5000,
    ...(ctx.clientTls() === undefined ? {} : { tls: () => {
      const m = ctx.clientTls() as TlsMaterial;
      return { ca: m.ca, cert: m.cert, key: m.key };
    } }),
  });
  const backend: PaxosKvBackend = {
    id: ctx.id,
    submit: (request, timeoutMs) => submit(ctx, host, request, timeoutMs),
    local: (request, timeoutMs) => host.request(request, timeoutMs),
    queryLocal: (query: KvQuery) => core().queryLocal(query),
    health: () => {
      const failed = ctx.failure();
      return failed === undefined ? { ok: true } : { ok: false, reason: `storage failed: ${failed.message}` };
    },
    clientUrl: (id) => ctx.directory.get(id)?.client,
    forwarder,
  };
  return {
    addRoutes: (router) => addPaxosKvRoutes(router, backend),
    status: () => statusOf(core().status(), host, [...ctx.directory.keys()].sort()),
    readiness,
    reloadTls: () => forwarder.reloadTls(),
    close: () => forwarder.close(),
  };
}

/**
 * Hands a command or read (in the Raft KV's request shapes, which Multi-Paxos shares) to the core,
 * and its answer back in the Raft KV's response shapes, so api.ts's callLeader serves both.
 */
async function submit(ctx: ServiceContext<PaxosMessage>, host: PaxosKvHost, request: RaftRequest, timeoutMs: number): Promise<RaftResponse | undefined> {
  if (ctx.failure() !== undefined) return { ok: false, error: 'timeout', leaderHint: null, message: 'node stopped after a storage failure' };
  if (request.type !== 'command' && request.type !== 'read') return { ok: false, error: 'bad-request', leaderHint: null, message: `the paxos-kv service does not serve ${request.type} requests` };
  let res: PaxosResponse | undefined;
  try {
    res = await host.request(request, timeoutMs);
  } catch {
    // past its bound of waiting requests the host refuses at once: overload, not a fault
    return { ok: false, error: 'overloaded', leaderHint: null, message: 'too many requests are waiting on this node' };
  }
  if (res === undefined || !res.ok) return res;
  if ('result' in res) return res;
  return { ok: false, error: 'bad-request', leaderHint: null, message: 'the core answered a command with its status' };
}

/** GET /v1/status: the core's view with ballots as text ("round.node"), and the Raft KV's field names where they mean the same. */
function statusOf(s: PaxosStatus, host: PaxosKvHost, members: readonly string[]): { role: string } & Record<string, JsonValue> {
  const bad = host.annotations().get('lastBadMessage');
  return {
    role: s.role,
    ballot: s.ballot === null ? null : ballotText(s.ballot),
    promised: ballotText(s.promised),
    // `term` orders leaders as the Raft KV's does: the round of the highest ballot this node has promised
    term: s.promised.round,
    leader: s.leader,
    known: s.known,
    // the Raft KV's names: `commit` is what is known chosen, `lastIndex` the highest slot assigned (a leader) or known
    commit: s.known,
    applied: s.applied,
    nextSlot: s.nextSlot,
    lastIndex: s.role === 'leader' ? Math.max(s.nextSlot - 1, s.known) : s.known,
    snapshotSlot: s.snapshotSlot,
    ready: s.ready,
    quorums: { phase1: s.quorums.phase1, phase2: s.quorums.phase2 },
    voters: [...members],
    learners: [],
    badMessages: host.running?.badMessages ?? 0,
    lastBadMessage: typeof bad === 'string' ? bad : null,
  };
}

/** The leader as the core knows it (its annotations), with a callback on every change. */
function leaderWatch(host: PaxosKvHost): LeaderWatch {
  const listeners = new Set<() => void>();
  host.onAnnotate((key) => {
    if (key !== 'leader' && key !== 'term') return;
    for (const listener of [...listeners]) listener();
  });
  return {
    leader: () => {
      const leader = host.annotations().get('leader');
      return typeof leader === 'string' ? leader : null;
    },
    onChange: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/**
 * Readiness: a leader known (and, on a leader, every slot its phase 1 recovered chosen; on a
 * follower, heard from within two election timeouts), and this node's applied slot within
 * READY_LAG_SLOTS of the highest slot a leader said is chosen.
 */
function trackReadiness(transport: Transport<PaxosMessage>, core: () => PaxosKvCore, electionTimeoutMaxMs: number): () => Record<string, true | string> {
  let leaderHeardAt = -Infinity;
  let leaderDecided = 0;
  transport.onMessage((from, raw) => {
    // what only a leader sends, from the node this one follows (the core has seen the message
    // already), and well formed: a peer's malformed or wild ranges must not make this node unready
    if (raw.type !== 'accept' && raw.type !== 'heartbeat') return;
    if (from !== core().status().leader) return;
    const parsed = parsePaxosMessage(from, raw);
    if ('problem' in parsed || (parsed.msg.type !== 'accept' && parsed.msg.type !== 'heartbeat')) return;
    leaderHeardAt = performance.now();
    for (const r of parsed.msg.decided) if (r.to > leaderDecided) leaderDecided = r.to;
  });
  const silenceMs = 2 * electionTimeoutMaxMs;
  return () => {
    const s = core().status();
    const checks: Record<string, true | string> = {};
    if (s.leader === null) checks['leader'] = 'no leader is known';
    else if (s.role === 'leader') checks['leader'] = s.ready ? true : 'this node leads but has not yet chosen every slot its phase 1 recovered';
    else {
      const quietMs = performance.now() - leaderHeardAt;
      checks['leader'] = quietMs <= silenceMs ? true : `nothing heard from leader ${s.leader} for ${Number.isFinite(quietMs) ? `${Math.round(quietMs)} ms` : 'ever'}`;
    }
    const target = s.role === 'leader' ? s.known : Math.max(s.known, leaderDecided);
    checks['caughtUp'] = s.applied + READY_LAG_SLOTS >= target ? true : `applied ${s.applied}, the leader has chosen ${target}`;
    return checks;
  };
}

function registerPaxosGauges(ctx: ServiceContext<PaxosMessage>, core: () => PaxosKvCore): void {
  const gauge = (name: string, help: string, read: (s: PaxosStatus) => number): void => {
    new Gauge({ name, help, registers: [ctx.registry], collect() { this.set(read(core().status())); } });
  };
  gauge('synod_paxos_promised_round', 'round of the highest ballot this node\'s acceptor has promised', (s) => s.promised.round);
  gauge('synod_paxos_is_leader', '1 while this node leads (its phase 1 succeeded)', (s) => (s.role === 'leader' ? 1 : 0));
  gauge('synod_paxos_known_slot', 'every slot up to this one is known chosen here', (s) => s.known);
  gauge('synod_paxos_applied_slot', 'slots applied to the state machine', (s) => s.applied);
  gauge('synod_paxos_next_slot', 'the next slot this leader assigns (0 on a follower)', (s) => s.nextSlot);
  gauge('synod_paxos_snapshot_slot', 'slot of the latest snapshot', (s) => s.snapshotSlot);
  new Gauge({ name: 'synod_paxos_bad_messages', help: 'malformed peer messages the core dropped since the node started', registers: [ctx.registry], collect() { this.set(core().badMessages); } });
}
