// A simulated lock system: a lock service (Synod's Raft KV, one Redis-like node, or five for
// Redlock), the protected resource (a database node, fenced or not, with a power switch beside it)
// and client nodes, composed in one simulation. The harness records what the service granted,
// what each client believed and what the resource accepted, and hands them to the checkers.
import type { JsonValue, NodeId, ProtocolCore, ProtocolSpec } from '../../core/index.js';
import { checkHistory, checkLockSafety, kvModel, type CheckResult, type LockEvent, type LockEventKind, type LockSafetyReport, type ResourceWrite } from '../../check/index.js';
import type { LeasedKvStore } from '../../kv/leased-store.js';
import type { KvResult } from '../../kv/store.js';
import { commandOf } from '../../raft/commands.js';
import type { RaftCore } from '../../raft/core.js';
import { RaftMonitor } from '../../raft/monitors.js';
import type { LogEntry, RaftOptions } from '../../raft/types.js';
import { redisLikeSpec, type RedisKeyEvent, type RedisPersistence } from '../../redislike/index.js';
import { clientNodeSpec, ClientNodeDriver, type ClientNodeResponse } from '../../sim/client-node.js';
import { SimCluster } from '../../sim/cluster.js';
import { composeSpecs, type ComposedMessage, type ComposedOp, type ComposedRequest, type ComposedResponse } from '../../sim/compose.js';
import type { Violation } from '../../sim/chaos.js';
import type { LinkConfig } from '../../sim/network.js';
import { Simulation, type SimulationOptions } from '../../sim/simulation.js';

import { BuyerProgram, type InventoryApproach } from './buyer.js';
import { kvGatewaySpec, type KvGatewayCore } from './kv-gateway.js';
import { LOCK_CLIENT_DEFAULTS, LockClientProgram, type BackendEvents, type ClientLockNotice, type LockBackend, type LockClientMessage, type LockClientOp } from './lock-client.js';
import { powerSwitchSpec } from './power-switch.js';
import { RedisLockBackend } from './redis-lock-client.js';
import { RedlockBackend } from './redlock-client.js';
import { dbSpec, type DbWriteRecord } from './resource.js';
import { SynodLockBackend } from './synod-lock-client.js';

export type LockBackendName = 'synod' | 'redis' | 'redlock';

export interface LockSystemOptions {
  readonly seed: number;
  readonly backend: LockBackendName;
  /** The database refuses writes whose token is below the highest it accepted. */
  readonly fencing: boolean;
  /** Client nodes c1..cN. Default 2. */
  readonly clients?: number;
  /** Raft nodes k1..kN (synod backend, and the version-check buyers). Default 3. */
  readonly kvNodes?: number;
  /** Redis-like nodes r1..rN. Default 1 (redis), 5 (redlock). */
  readonly redisNodes?: number;
  readonly lock?: string;
  readonly ttlMs?: number;
  readonly workMs?: number;
  /** Synod: how often a waiting client looks at the key before its own. */
  readonly pollMs?: number;
  readonly redisPersistence?: RedisPersistence;
  /** Single Redis: fencing tokens from INCR. Default true. */
  readonly redisTokens?: boolean;
  /** Synod: a new holder has the previous one powered off (STONITH) before it writes. */
  readonly stonith?: boolean;
  /** Clients are inventory buyers of this approach instead of lock clients. */
  readonly buyers?: InventoryApproach;
  /** The database's keys at start. */
  readonly initial?: Readonly<Record<string, number>>;
  readonly raft?: Partial<Omit<RaftOptions, 'observer'>>;
  readonly link?: Partial<LinkConfig>;
  readonly fsyncMs?: number;
  readonly trace?: SimulationOptions<never, never, never, never>['trace'];
  readonly clientTickMs?: number;
  /** An operation a client node has not finished after this long (its clock) is abandoned. */
  readonly clientOpTimeoutMs?: number;
  /** The driver's patience for one operation (virtual ms); unknown after. */
  readonly driverTimeoutMs?: number;
}

export const LOCK_SYSTEM_DEFAULTS = {
  clients: 2,
  kvNodes: 3,
  lock: 'L',
  ttlMs: 300,
  workMs: LOCK_CLIENT_DEFAULTS.workMs,
  pollMs: 20,
  redisPersistence: 'fsync-always',
  clientTickMs: 5,
  clientOpTimeoutMs: 3000,
  driverTimeoutMs: 4000,
  redisRoundTimeoutMs: 50,
} as const;

export interface LockLayout {
  readonly kv: readonly NodeId[];
  readonly redis: readonly NodeId[];
  readonly db: NodeId;
  readonly clients: readonly NodeId[];
}

const range = (prefix: string, n: number): NodeId[] => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);

export function lockLayout(o: Pick<LockSystemOptions, 'backend' | 'clients' | 'kvNodes' | 'redisNodes' | 'buyers'>): LockLayout {
  const usesKv = o.buyers === undefined ? o.backend === 'synod' : o.buyers === 'version-check';
  const usesRedis = o.buyers === undefined && o.backend !== 'synod';
  return {
    kv: usesKv ? range('k', o.kvNodes ?? LOCK_SYSTEM_DEFAULTS.kvNodes) : [],
    redis: usesRedis ? range('r', o.redisNodes ?? (o.backend === 'redlock' ? 5 : 1)) : [],
    db: 'db',
    clients: range('c', o.clients ?? LOCK_SYSTEM_DEFAULTS.clients),
  };
}

/** What the harness listens to inside the cores (set once the harness exists). */
interface Hooks {
  raftApplied?(node: NodeId, entry: LogEntry, term: number): void;
  raftLeader?(node: NodeId, term: number): void;
  kvStore?(node: NodeId, store: LeasedKvStore): void;
  redisKey?(node: NodeId, e: RedisKeyEvent): void;
  dbWrite?(node: NodeId, w: DbWriteRecord): void;
  dbRestored?(node: NodeId, lastSeq: number): void;
  powerOff?(switchNode: NodeId, target: NodeId, requester: NodeId): void;
  notice?(client: NodeId, n: ClientLockNotice): void;
}

export function lockSystemSpec(options: LockSystemOptions, hooks: Hooks = {}) {
  const o = { ...LOCK_SYSTEM_DEFAULTS, ...options };
  const layout = lockLayout(options);
  const backendOf = (self: NodeId, events: BackendEvents): LockBackend => {
    switch (o.backend) {
      case 'synod':
        return new SynodLockBackend({ self, kvNodes: layout.kv, lock: o.lock, ttlMs: o.ttlMs, pollMs: o.pollMs, ...(o.stonith === true ? { powerNode: layout.db } : {}) }, events);
      case 'redis':
        return new RedisLockBackend({ redisNode: layout.redis[0] as NodeId, lock: o.lock, ttlMs: o.ttlMs, tokens: o.redisTokens ?? true, backoffMs: o.pollMs, commandTimeoutMs: o.redisRoundTimeoutMs }, events);
      case 'redlock':
        return new RedlockBackend({ redisNodes: layout.redis, lock: o.lock, ttlMs: o.ttlMs, roundTimeoutMs: o.redisRoundTimeoutMs, backoffMs: o.pollMs }, events);
    }
  };
  const client = clientNodeSpec<LockClientMessage, LockClientOp>({
    tickIntervalMs: o.clientTickMs,
    opTimeoutMs: o.clientOpTimeoutMs,
    program: (env) => {
      if (o.buyers !== undefined) return new BuyerProgram({ self: env.id, approach: o.buyers, dbNode: layout.db, kvNodes: layout.kv, workMs: o.workMs, maxRetries: 5 });
      return new LockClientProgram(
        { self: env.id, lock: o.lock, dbNode: layout.db, workMs: o.workMs, dbRetryMs: LOCK_CLIENT_DEFAULTS.dbRetryMs, observer: { notice: (c, n) => hooks.notice?.(c, n) } },
        (events) => backendOf(env.id, events),
      );
    },
  });
  const parts = {
    kv: kvGatewaySpec({
      raft: o.raft ?? {},
      observer: { applied: (n, e, t) => hooks.raftApplied?.(n, e, t), becameLeader: (n, t) => hooks.raftLeader?.(n, t) },
      onStore: (n, s) => hooks.kvStore?.(n, s),
    }),
    redis: redisLikeSpec({ persistence: o.redisPersistence, observer: { keyEvent: (n, e) => hooks.redisKey?.(n, e) } }),
    db: dbSpec({ fencing: o.fencing, ...(o.initial === undefined ? {} : { initial: o.initial }), observer: { write: (n, w) => hooks.dbWrite?.(n, w), restored: (n, s) => hooks.dbRestored?.(n, s) } }),
    power: powerSwitchSpec({ powerOff: (s, t, r) => hooks.powerOff?.(s, t, r) }),
    client,
  };
  const kvSet = new Set(layout.kv);
  const redisSet = new Set(layout.redis);
  return composeSpecs({
    name: `lock-${o.backend}`,
    parts,
    placement: (id) => (kvSet.has(id) ? ['kv'] : redisSet.has(id) ? ['redis'] : id === layout.db ? ['db', 'power'] : ['client']),
    routes: {
      kv: (msg) => (msg.type === 'kvReply' ? 'client' : 'kv'),
      redis: () => 'client',
      db: () => 'client',
      power: () => 'client',
      client: (msg) => (msg.type === 'kvRequest' ? 'kv' : msg.type === 'redisCommand' ? 'redis' : msg.type === 'dbRequest' ? 'db' : msg.type === 'powerOff' ? 'power' : 'client'),
    },
  });
}

export type LockSystemSpec = ReturnType<typeof lockSystemSpec>;
type Parts = LockSystemSpec['parts'];
export type LockSystemMessage = ComposedMessage<Parts>;
export type LockSystemRequest = ComposedRequest<Parts>;
export type LockSystemResponse = ComposedResponse<Parts>;
export type LockSystemOp = ComposedOp<Parts>;

/**
 * How a host that watches every core (the visualizer) builds the system: it wraps the composed
 * spec before the simulation is made, and finds the composed core inside a wrapped one.
 */
export interface LockSystemHost {
  wrapSpec?(spec: LockSystemSpec): ProtocolSpec<LockSystemMessage, LockSystemRequest, LockSystemResponse, LockSystemOp>;
  unwrapCore?(core: ProtocolCore<LockSystemMessage, LockSystemRequest, LockSystemResponse, LockSystemOp> | undefined): ProtocolCore<LockSystemMessage, LockSystemRequest, LockSystemResponse, LockSystemOp> | undefined;
}

/** The verdicts of one run. */
export interface LockVerdicts extends LockSafetyReport {
  /** The resource's reads and writes as a kv history (writes under a lock are puts). */
  readonly linearizability: CheckResult['verdict'] | 'skipped';
}

/** Findings kept at most. */
const MAX_EVENTS = 200_000;

/**
 * The harness: the composed simulation, the client driver, and the recorders the checkers read:
 * `events` (what the service granted and the clients believed, with virtual times) and `writes`
 * (what the resource accepted or refused, in its order).
 */
export class LockSystem extends SimCluster<LockSystemMessage, LockSystemRequest, LockSystemResponse, LockSystemOp> {
  readonly layout: LockLayout;
  readonly spec: LockSystemSpec;
  readonly driver: ClientNodeDriver<LockSystemMessage, LockSystemRequest, LockSystemResponse, LockSystemOp, LockClientOp>;
  readonly options: LockSystemOptions;
  readonly lock: string;
  readonly ttlMs: number;
  readonly monitor: RaftMonitor | undefined;
  readonly events: LockEvent[] = [];
  readonly writes: (ResourceWrite & { readonly seq: number })[] = [];
  /** STONITH requests carried out: who asked to power off whom, when. */
  readonly poweredOff: { readonly atMs: number; readonly target: NodeId; readonly requester: NodeId }[] = [];
  private readonly harnessFindings: Violation[] = [];
  // ---- the Synod service view
  private readonly stores: Map<NodeId, LeasedKvStore>;
  private firstApplied = 0;
  private readonly owners = new Map<string, { key: string; revision: number; holder: string }>();
  // ---- the Redis service view: which nodes hold which value of each lock key
  private readonly redisHeld = new Map<NodeId, Map<string, string>>();
  private readonly holders = new Map<string, { lock: string; nodes: Set<NodeId>; granted: boolean }>();
  private readonly redisQuorum: number;
  // ---- the clients' beliefs, for their validity ends
  private readonly beliefs = new Map<string, { client: NodeId; lock: string; grant: string; token: number | null; validUntilMs: number }>();
  private polling = false;
  private readonly unwrap: NonNullable<LockSystemHost['unwrapCore']>;

  constructor(options: LockSystemOptions, host: LockSystemHost = {}) {
    // the simulation creates the cores (and the first stores) before this object exists
    const early = new Map<NodeId, LeasedKvStore>();
    const hooks: Hooks = { kvStore: (n, s) => void early.set(n, s) };
    const spec = lockSystemSpec(options, hooks);
    const layout = lockLayout(options);
    const nodes = [...layout.kv, ...layout.redis, layout.db, ...layout.clients];
    const protocol = host.wrapSpec === undefined ? spec : host.wrapSpec(spec);
    super(new Simulation({ seed: options.seed, protocol, nodes, link: options.link, fsyncMs: options.fsyncMs ?? 1, trace: options.trace ?? false }));
    this.options = options;
    this.unwrap = host.unwrapCore ?? ((core) => core);
    this.layout = layout;
    this.spec = spec;
    this.lock = options.lock ?? LOCK_SYSTEM_DEFAULTS.lock;
    this.ttlMs = options.ttlMs ?? LOCK_SYSTEM_DEFAULTS.ttlMs;
    this.redisQuorum = options.backend === 'redlock' ? Math.floor(layout.redis.length / 2) + 1 : 1;
    this.monitor = layout.kv.length > 0 ? new RaftMonitor({ now: () => this.sim.nowMs, nodeIds: () => this.layout.kv, core: (id) => this.raft(id) }) : undefined;
    hooks.raftApplied = (n, e, t) => {
      this.monitor?.applied(n, e, t);
      this.onApplied(n, e);
    };
    hooks.raftLeader = (n, t) => this.monitor?.becameLeader(n, t);
    this.stores = early;
    hooks.kvStore = (n, s) => void this.stores.set(n, s);
    hooks.redisKey = (n, e) => this.onRedisKey(n, e);
    hooks.dbWrite = (n, w) => this.onDbWrite(n, w);
    hooks.dbRestored = (_n, lastSeq) => this.onDbRestored(lastSeq);
    hooks.powerOff = (_s, target, requester) => this.onPowerOff(target, requester);
    hooks.notice = (c, n) => this.onNotice(c, n);
    this.driver = new ClientNodeDriver(this.sim, {
      timeoutMs: options.driverTimeoutMs ?? LOCK_SYSTEM_DEFAULTS.driverTimeoutMs,
      describe: (op): { f: string; input: JsonValue } => (op.f === 'write' ? { f: 'put', input: { key: op.key, value: op.value } } : op.f === 'read' ? { f: 'get', input: { key: op.key } } : { f: 'buy', input: { key: op.key } }),
      request: (op) => ({ part: 'client', op: { op } }),
      response: (res) => clientAnswer(res),
    });
    this.sim.subscribe((e) => {
      if (e.ev === 'crash') this.onCrash(e.node);
      else if (e.ev === 'restart') this.onRestart(e.node);
    });
  }

  // ---------------------------------------------------------------- inspection

  raft(id: NodeId): RaftCore | undefined {
    const gateway: KvGatewayCore | undefined = this.spec.part(this.unwrap(this.sim.core(id)), 'kv');
    return gateway?.raft as RaftCore | undefined;
  }

  /** A Raft node's store of its current life (its Lessor counts leases down on the leader), for views. */
  kvStore(id: NodeId): LeasedKvStore | undefined {
    return this.stores.get(id);
  }

  /** The Raft node that believes it leads with the highest term. */
  leader(): NodeId | undefined {
    let best: NodeId | undefined;
    let term = -1;
    for (const id of this.layout.kv) {
      const s = this.raft(id)?.status();
      if (s?.role === 'leader' && s.term > term) [best, term] = [id, s.term];
    }
    return best;
  }

  /** A leader that has committed an entry of its term. */
  readyLeader(): NodeId | undefined {
    const id = this.leader();
    const core = id === undefined ? undefined : this.raft(id);
    if (core === undefined) return undefined;
    const s = core.status();
    return core.termAt(s.commit) === s.term ? id : undefined;
  }

  /** A value of the database now. */
  dbValue(key: string): number | null {
    return this.spec.part(this.unwrap(this.sim.core(this.layout.db)), 'db')?.valueOf(key) ?? null;
  }

  /** A value of the Raft KV as the node that applied most sees it. */
  kvValue(key: string): JsonValue {
    let best: { applied: number; value: JsonValue } | undefined;
    for (const id of this.layout.kv) {
      const core = this.raft(id);
      if (core === undefined) continue;
      const applied = core.status().applied;
      if (best !== undefined && best.applied >= applied) continue;
      const got = core.queryLocal({ op: 'get', key }) as KvResult;
      best = { applied, value: 'value' in got ? (got.value as JsonValue) : null };
    }
    return best?.value ?? null;
  }

  /** Puts keys straight into the Raft KV (a host request to the leader, retried), e.g. the inventory's stock. */
  seedKv(entries: Readonly<Record<string, number>>, withinMs = 3000): boolean {
    const deadline = this.nowMs + withinMs;
    for (const [key, value] of Object.entries(entries)) {
      let done = false;
      while (!done && this.nowMs < deadline) {
        const leader = this.runUntil(() => this.readyLeader() !== undefined, deadline - this.nowMs) ? this.readyLeader() : undefined;
        if (leader === undefined) return false;
        let answered: LockSystemResponse | undefined;
        this.sim.request(leader, { part: 'kv', op: { type: 'command', clientId: null, seq: 0, op: { op: 'put', key, value } } }, { timeoutMs: 500, process: 'setup' }, (r) => (answered = r ?? { part: 'kv', error: 'part-not-placed' }));
        this.runUntil(() => answered !== undefined, 600);
        done = answered !== undefined && 'response' in answered && (answered.response as { ok: boolean }).ok;
      }
      if (!done) return false;
    }
    return true;
  }

  // ---------------------------------------------------------------- driving

  /** Submits one operation to a client now. */
  submit(client: NodeId, op: LockClientOp, onDone?: (r: ClientNodeResponse) => void): void {
    this.driver.submit(client, op, onDone);
  }

  /** Every client busy with nothing. */
  idle(): boolean {
    return this.layout.clients.every((c) => !this.driver.isBusy(c));
  }

  /** Pauses `client` for `ms` the first time it enters `phase` (e.g. 'working': after the lease check, before the write). */
  pauseAtPhase(client: NodeId, phase: string, ms: number): void {
    this.atPhase(client, phase, () => this.pause(client, ms));
  }

  /** Runs `fn` (in an event of its own) the first time `client` enters `phase`. */
  atPhase(client: NodeId, phase: string, fn: () => void): void {
    let armed = true;
    this.sim.subscribe((e) => {
      if (!armed || e.ev !== 'annotate' || e.node !== client || e.key !== 'client/phase' || e.value !== phase) return;
      armed = false;
      this.sim.after(0, fn);
    });
  }

  /** The phase a client's program is in (its annotation). */
  phaseOf(client: NodeId): string | undefined {
    const v = this.sim.annotations(client).get('client/phase');
    return typeof v === 'string' ? v : undefined;
  }

  // ---------------------------------------------------------------- verdicts

  /** Every lock check over what was recorded so far, and the resource's history checked as a kv register. */
  verdicts(maxStates = 1_000_000): LockVerdicts {
    const safety = checkLockSafety(this.events, this.writes);
    const ops = this.history().ops.filter((op) => op.f === 'put' || op.f === 'get');
    const linearizability = ops.length === 0 ? 'skipped' : checkHistory({ format: 'synod-history/1', ops }, kvModel, { maxStates }).verdict;
    return { ...safety, linearizability };
  }

  /** What the harness itself found wrong (events past their bound, say), besides the checkers. */
  findings(): readonly Violation[] {
    return this.harnessFindings;
  }

  /** Sales acknowledged to buyers (op output 'bought'). */
  purchases(): number {
    return this.history().ops.filter((op) => op.f === 'buy' && op.outcome === 'ok' && op.output === 'bought').length;
  }

  // ---------------------------------------------------------------- the service view: Synod

  /** The first apply of each index anywhere: the lock keys' owners may have changed. */
  private onApplied(node: NodeId, entry: LogEntry): void {
    if (entry.index <= this.firstApplied) return;
    this.firstApplied = entry.index;
    const store = this.stores.get(node);
    if (store === undefined) return;
    const got = store.query({ op: 'range', prefix: 'locks/', limit: 10_000 });
    if (!('items' in got)) return;
    const now = new Map<string, { key: string; revision: number; holder: string }>();
    for (const item of got.items) {
      const lock = item.key.slice('locks/'.length, item.key.lastIndexOf('/'));
      const seen = now.get(lock);
      if (seen === undefined || item.createRevision < seen.revision) now.set(lock, { key: item.key, revision: item.createRevision, holder: typeof item.value === 'string' ? item.value : String(item.value) });
    }
    let expiry = false;
    if (entry.kind === 'command') {
      const { clientId, op } = commandOf(entry);
      expiry = clientId === null && typeof op === 'object' && op !== null && !Array.isArray(op) && op['op'] === 'leaseRevoke';
    }
    for (const [lock, before] of this.owners) {
      const after = now.get(lock);
      if (after?.key === before.key && after.revision === before.revision) continue;
      this.record({ lock, grant: before.key, holder: before.holder, token: before.revision, by: 'service', kind: expiry ? 'lost' : 'released' });
      this.owners.delete(lock);
    }
    for (const [lock, after] of now) {
      if (this.owners.has(lock)) continue;
      this.owners.set(lock, after);
      this.record({ lock, grant: after.key, holder: after.holder, token: after.revision, by: 'service', kind: 'acquired' });
    }
  }

  // ---------------------------------------------------------------- the service view: Redis and Redlock

  private onRedisKey(node: NodeId, e: RedisKeyEvent): void {
    if (!e.key.startsWith('lock:')) return;
    let held = this.redisHeld.get(node);
    if (held === undefined) this.redisHeld.set(node, (held = new Map()));
    if (e.type === 'set') {
      const old = held.get(e.key);
      if (old !== undefined && old !== e.value) this.redisDrop(node, e.key, old, 'lost');
      held.set(e.key, e.value);
      this.redisAdd(node, e.key, e.value);
    } else if (e.type === 'deleted' || e.type === 'expired') {
      if (held.get(e.key) !== e.value) return;
      held.delete(e.key);
      this.redisDrop(node, e.key, e.value, e.type === 'deleted' ? 'released' : 'lost');
    }
  }

  private redisAdd(node: NodeId, key: string, value: string): void {
    let h = this.holders.get(value);
    if (h === undefined) this.holders.set(value, (h = { lock: key.slice('lock:'.length), nodes: new Set(), granted: false }));
    h.nodes.add(node);
    if (!h.granted && h.nodes.size >= this.redisQuorum) {
      h.granted = true;
      this.record({ lock: h.lock, grant: value, holder: holderOfValue(value), token: null, by: 'service', kind: 'acquired' });
    }
  }

  private redisDrop(node: NodeId, _key: string, value: string, kind: LockEventKind): void {
    const h = this.holders.get(value);
    if (h === undefined || !h.nodes.delete(node)) return;
    if (h.granted && h.nodes.size < this.redisQuorum) {
      h.granted = false;
      this.record({ lock: h.lock, grant: value, holder: holderOfValue(value), token: null, by: 'service', kind });
    }
    if (h.nodes.size === 0) this.holders.delete(value);
  }

  private onCrash(node: NodeId): void {
    if (this.layout.clients.includes(node)) {
      // a crashed client believes nothing
      for (const [id, b] of this.beliefs) {
        if (b.client !== node) continue;
        this.beliefs.delete(id);
      }
      for (const grant of this.openClientGrants(node)) this.record({ lock: grant.lock, grant: grant.grant, holder: node, token: grant.token, by: 'client', kind: 'lost' });
      return;
    }
    if (this.layout.redis.includes(node) && (this.options.redisPersistence ?? LOCK_SYSTEM_DEFAULTS.redisPersistence) === 'none') {
      for (const [key, value] of [...(this.redisHeld.get(node) ?? [])]) {
        this.redisHeld.get(node)?.delete(key);
        this.redisDrop(node, key, value, 'lost');
      }
    }
  }

  /** After a restart, keys the node no longer has (unsynced, or no persistence) are lost. */
  private onRestart(node: NodeId): void {
    if (!this.layout.redis.includes(node)) return;
    const core = this.spec.part(this.unwrap(this.sim.core(node)), 'redis');
    const has = new Map((core?.entries() ?? []).map((e) => [e.key, e.value] as const));
    for (const [key, value] of [...(this.redisHeld.get(node) ?? [])]) {
      if (has.get(key) === value) continue;
      this.redisHeld.get(node)?.delete(key);
      this.redisDrop(node, key, value, 'lost');
    }
  }

  // ---------------------------------------------------------------- the clients' view

  private onNotice(client: NodeId, n: ClientLockNotice): void {
    const id = `${client}\u0000${n.grant}`;
    if (n.kind === 'acquired' || n.kind === 'renewed') {
      const known = this.beliefs.get(id);
      if (n.kind === 'acquired') this.record({ lock: n.lock, grant: n.grant, holder: client, token: n.token, by: 'client', kind: 'acquired' });
      // a renewal after the validity passed revives nothing: the legitimate belief ended
      if (n.kind === 'renewed' && known === undefined) return;
      this.beliefs.set(id, { client, lock: n.lock, grant: n.grant, token: n.kind === 'acquired' ? n.token : (known?.token ?? null), validUntilMs: n.validUntilMs });
      this.startPolling();
      return;
    }
    this.beliefs.delete(id);
    this.record({ lock: n.lock, grant: n.grant, holder: client, token: n.token, by: 'client', kind: n.kind });
  }

  /** Every virtual millisecond while someone believes: has its own clock passed its validity? */
  private startPolling(): void {
    if (this.polling) return;
    this.polling = true;
    const poll = (): void => {
      for (const [id, b] of this.beliefs) {
        if (this.sim.localNowMs(b.client) < b.validUntilMs) continue;
        this.beliefs.delete(id);
        this.record({ lock: b.lock, grant: b.grant, holder: b.client, token: b.token, by: 'client', kind: 'validity-passed' });
      }
      if (this.beliefs.size === 0) {
        this.polling = false;
        return;
      }
      this.sim.after(1, poll);
    };
    this.sim.after(0, poll);
  }

  private openClientGrants(client: NodeId): { lock: string; grant: string; token: number | null }[] {
    const open = new Map<string, { lock: string; grant: string; token: number | null }>();
    for (const e of this.events) {
      if (e.by !== 'client' || e.holder !== client) continue;
      if (e.kind === 'acquired') open.set(e.grant, { lock: e.lock, grant: e.grant, token: e.token });
      else if (e.kind === 'released' || e.kind === 'lost') open.delete(e.grant);
    }
    return [...open.values()];
  }

  // ---------------------------------------------------------------- the resource and the power switch

  private onDbWrite(_node: NodeId, w: DbWriteRecord): void {
    // writes outside any lock (the inventory's buyers) are not the fenced-resource checker's business
    if (w.grant === null || this.writes.length >= MAX_EVENTS) return;
    this.writes.push({ atMs: this.nowMs, resource: w.key, grant: w.grant, holder: w.writer, token: w.token, accepted: w.accepted, seq: w.seq });
  }

  /** A restarted database kept its writes up to `lastSeq`: later accepted ones were lost with the crash. */
  private onDbRestored(lastSeq: number): void {
    for (let i = this.writes.length - 1; i >= 0; i--) {
      const w = this.writes[i] as ResourceWrite & { seq: number };
      if (w.accepted && w.seq > lastSeq) this.writes.splice(i, 1);
    }
  }

  private onPowerOff(target: NodeId, requester: NodeId): void {
    this.poweredOff.push({ atMs: this.nowMs, target, requester });
    // the switch answers by message (at least 1 ms away): the target is off before the answer lands
    this.sim.after(0, () => {
      if (this.sim.nodeIds.includes(target) && this.isUp(target)) this.crash(target);
    });
  }

  private record(e: Omit<LockEvent, 'atMs'>): void {
    if (this.events.length >= MAX_EVENTS) return;
    this.events.push({ ...e, atMs: this.nowMs });
  }
}

/** The client node that set a Redis value: values are `OPID#N`, op ids `NODE.LIFE.N`. */
function holderOfValue(value: string): string {
  return value.slice(0, value.indexOf('.') < 0 ? value.length : value.indexOf('.'));
}

function clientAnswer(res: LockSystemResponse): ClientNodeResponse | undefined {
  if (!('response' in res) || res.part !== 'client') return undefined;
  return res.response as ClientNodeResponse;
}
