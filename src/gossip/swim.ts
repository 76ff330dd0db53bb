// A SWIM member with Lifeguard as a sans-I/O protocol core: it probes one member per (health
// scaled) probe interval, asks others to probe a member that missed its ack, disseminates what it
// learns on every message and in gossip rounds, exchanges full state with a random member now
// and then, and serves its member list, joins, leaves and metadata changes to clients.
import type { CoreEnv, Effects, NodeId, ProtocolCore, ProtocolSpec } from '../core/index.js';
import { resolveGossipConfig, type GossipConfig } from './config.js';
import { updateBytes } from './dissemination.js';
import type { GossipEvent, MemberRecord, StartingView } from './members.js';
import { Membership, type MembershipStats, type UpdateSource } from './membership.js';
import { isLive, Prober } from './prober.js';
import {
  MAX_INCARNATION,
  MAX_SEEDS,
  messageProblem,
  requestProblem,
  utf8Length,
  type GossipMessage,
  type GossipPersistOp,
  type GossipRequest,
  type GossipResponse,
  type MemberUpdate,
  type MemberView,
} from './messages.js';

type Fx = Effects<GossipMessage, GossipPersistOp, GossipResponse>;

/** Joins waiting for a seed's answer at once. */
const MAX_PENDING_JOINS = 16;

/** How a node starts, beyond its configuration. */
export interface SwimOptions {
  /**
   * The member list a node on its first life starts with when it is in it (shared by every such
   * node, which then sends no join): a cluster started as if its joins had settled, for
   * simulations of thousands of members. A restarted node joins through its seeds as usual.
   */
  readonly startingView?: StartingView;
}

interface PendingJoin {
  readonly requestId: string;
  readonly seeds: ReadonlySet<NodeId>;
  readonly deadlineMs: number;
}

export interface SwimStats extends MembershipStats {
  probes: number;
  probesFailed: number;
  /** Inputs seen after a gap longer than a probe interval (this node was stopped or its clock jumped). */
  stalls: number;
  badMessages: number;
}

export class SwimNode implements ProtocolCore<GossipMessage, GossipRequest, GossipResponse, GossipPersistOp> {
  readonly config: GossipConfig;
  readonly membership: Membership;
  private readonly counters = { stalls: 0, badMessages: 0 };
  private readonly prober: Prober;
  private readonly seeds: NodeId[];
  /** Started from a shared view of the cluster: there is nobody to join. */
  private readonly startedFromView: boolean;
  private readonly joins: PendingJoin[] = [];
  /** When each member held dead was last told so (rate limit of one notice per probe interval). */
  private readonly noticedMs = new Map<NodeId, number>();
  private clockMs: number;
  private lastRawMs: number;
  private stalled = false;
  /** What annotateSummary last said. */
  private lastSummary: { leaving: boolean; incarnation: number; health: number; alive: number; suspect: number; dead: number; left: number } | undefined;
  private nextGossipMs: number;
  private nextPushPullMs: number;
  private nextReconnectMs: number;
  private nextRejoinMs: number;
  private nextReapMs: number;

  constructor(
    private readonly env: CoreEnv,
    config: GossipConfig,
    durable: readonly GossipPersistOp[],
    options: SwimOptions = {},
  ) {
    this.config = config;
    this.lastRawMs = env.now();
    this.clockMs = this.lastRawMs;
    const last = durable.reduce<GossipPersistOp | undefined>((best, op) => (best === undefined || op.incarnation >= best.incarnation ? op : best), undefined);
    // a new life starts above every incarnation the last one may have announced (each was durable before it left)
    const recovered = last === undefined ? { incarnation: 0, meta: '' } : { incarnation: Math.min(MAX_INCARNATION, last.incarnation + 1), meta: last.meta };
    const view = options.startingView;
    this.startedFromView = view !== undefined && durable.length === 0 && view.has(env.id);
    this.membership = new Membership(env.id, config, () => env.random(), recovered, this.clockMs, this.startedFromView ? view : undefined);
    this.seeds = firstSeeds(env.members, env.id);
    const now = this.clockMs;
    // staggered, so that members started together do not probe and exchange state in lockstep
    this.prober = new Prober(env.id, config, this.membership, (to) => this.piggyback(to), (count, keep) => this.sample(count, keep), now + Math.floor(env.random() * config.probeIntervalMs), Math.floor(env.random() * 2 ** 40));
    this.nextGossipMs = now + config.gossipIntervalMs;
    this.nextPushPullMs = now + config.pushPullIntervalMs + Math.floor(env.random() * config.pushPullIntervalMs);
    this.nextReconnectMs = now + config.reconnectIntervalMs + Math.floor(env.random() * config.reconnectIntervalMs);
    this.nextRejoinMs = now + this.rejoinIntervalMs();
    this.nextReapMs = now + config.probeIntervalMs;
  }

  // ---------------------------------------------------------------- reading the node

  get id(): NodeId {
    return this.env.id;
  }

  get incarnation(): number {
    return this.membership.incarnation;
  }

  /** Lifeguard's Local Health Multiplier now. */
  get health(): number {
    return this.membership.awareness.score;
  }

  get stats(): SwimStats {
    return { ...this.membership.stats, ...this.counters, probes: this.prober.probes, probesFailed: this.prober.probesFailed };
  }

  members(): MemberView[] {
    return this.membership.table.views();
  }

  member(id: NodeId): MemberRecord | undefined {
    return this.membership.table.get(id);
  }

  /** Join, leave, fail and update events, oldest first (bounded: the oldest are dropped). */
  events(): readonly GossipEvent[] {
    return this.membership.table.events();
  }

  // ---------------------------------------------------------------- inputs

  start(fx: Fx): void {
    this.membership.startLife((op) => fx.persist(op));
    if (!this.startedFromView) for (const seed of this.seeds) fx.send(seed, { type: 'sync', join: true, members: this.membership.table.snapshot() });
    this.annotateSummary(fx);
  }

  handleTick(fx: Fx): void {
    const now = this.clock();
    const eventsBefore = this.membership.table.eventsLogged;
    if (this.stalled) this.recoverFromStall(now);
    this.prober.relayTick(now, fx);
    this.joinTimers(now, fx);
    if (!this.membership.leaving) {
      this.prober.tick(now, fx);
      this.membership.expireSuspicions(now);
      this.syncTimers(now, fx);
    }
    this.gossipTimer(now, fx);
    if (now >= this.nextReapMs) {
      this.nextReapMs = now + this.config.probeIntervalMs;
      this.membership.reap(now);
      for (const id of this.noticedMs.keys()) if (this.member(id)?.state !== 'dead') this.noticedMs.delete(id);
    }
    this.annotateSummary(fx);
    if (this.membership.table.eventsLogged !== eventsBefore) this.annotateLastEvent(fx);
  }

  handleMessage(from: NodeId, msg: GossipMessage, fx: Fx): void {
    const now = this.clock();
    const problem = messageProblem(msg) ?? (msg.type === 'sync' || msg.type === 'sync-reply' ? this.syncProblem(msg.members.length) : undefined);
    if (problem !== undefined) {
      this.counters.badMessages++;
      return fx.annotate('lastBadMessage', `${from}: ${problem}`);
    }
    const eventsBefore = this.membership.table.eventsLogged;
    if (msg.type === 'sync' || msg.type === 'sync-reply') this.merge(msg.members, 'sync', from, now, fx);
    else this.merge(msg.updates, 'gossip', from, now, fx);
    this.dispatch(from, msg, now, fx);
    this.noticeDeadSender(from, msg.type, now, fx);
    if (this.membership.table.eventsLogged !== eventsBefore) this.annotateLastEvent(fx);
  }

  handleRequest(requestId: string, request: GossipRequest, fx: Fx): void {
    const problem = requestProblem(request);
    if (problem !== undefined) return fx.reply(requestId, { ok: false, code: 'GOSSIP_BAD_REQUEST', message: problem });
    const now = this.clock();
    switch (request.op) {
      case 'members':
        return fx.reply(requestId, { ok: true, op: 'members', members: this.members() });
      case 'join':
        return this.join(requestId, request.seeds, now, fx);
      case 'leave':
        return this.leave(requestId, now, fx);
      case 'set-meta':
        return this.setMeta(requestId, request.meta, now, fx);
    }
  }

  // ---------------------------------------------------------------- time

  /**
   * The node's own monotonic clock: steps of env.now() backwards are ignored, and a gap longer
   * than a probe interval (the node was stopped, or its clock jumped) counts as one probe
   * interval, so that a node resuming does not judge its peers for its own silence.
   */
  private clock(): number {
    const raw = this.env.now();
    const deltaMs = raw - this.lastRawMs;
    this.lastRawMs = raw;
    if (deltaMs > this.config.probeIntervalMs) {
      this.clockMs += this.config.probeIntervalMs;
      this.stalled = true;
    } else if (deltaMs > 0) {
      this.clockMs += deltaMs;
    }
    return this.clockMs;
  }

  private recoverFromStall(now: number): void {
    this.stalled = false;
    this.counters.stalls++;
    // the probe under way may have been answered while this node stood still: judge nothing from it
    this.prober.abandon(now);
  }

  // ---------------------------------------------------------------- dissemination

  /**
   * Updates to piggyback on a message to `to`: first what this node holds about `to` when that is
   * suspect (Lifeguard's buddy system: it learns at once and refutes) or dead (so that a live
   * member held dead refutes), then the queue's least sent and newest, within the byte budget.
   */
  private piggyback(to: NodeId): MemberUpdate[] {
    const m = this.membership;
    const record = m.table.get(to);
    const head = record !== undefined && (record.state === 'dead' || (record.state === 'suspect' && this.config.lifeguard)) ? [m.updateAbout(record)] : [];
    const used = head.reduce((sum, u) => sum + updateBytes(u), 0);
    return [...head, ...m.queue.take(this.config.udpBufferSize - used, m.retransmitLimit())];
  }

  private merge(updates: readonly MemberUpdate[], source: UpdateSource, from: NodeId, now: number, fx: Fx): void {
    if (updates.length === 0) return;
    const persist = (op: GossipPersistOp): void => fx.persist(op);
    for (const u of updates) this.membership.receive(u, source, from, now, persist);
  }

  private gossipTimer(now: number, fx: Fx): void {
    if (now < this.nextGossipMs) return;
    this.nextGossipMs = now + this.config.gossipIntervalMs;
    if (this.membership.queue.size === 0) return;
    this.gossipRound(now, fx);
  }

  /** Sends what is queued to gossipNodes random members, the recently dead among them (so that they may refute). */
  private gossipRound(now: number, fx: Fx): void {
    const targets = this.sample(this.config.gossipNodes, (r) => isLive(r) || (r.state === 'dead' && now - r.changedAtMs < this.config.gossipToTheDeadMs));
    for (const to of targets) {
      const updates = this.piggyback(to);
      if (updates.length > 0) fx.send(to, { type: 'gossip', updates });
    }
  }

  /** A member held dead spoke: tell it (once per probe interval), so that it refutes if it is alive. */
  private noticeDeadSender(from: NodeId, type: GossipMessage['type'], now: number, fx: Fx): void {
    // pings, ping-reqs and syncs are answered already, and the answer carries the news
    if (type === 'ping' || type === 'ping-req' || type === 'sync') return;
    const record = this.member(from);
    if (record?.state !== 'dead' || now - (this.noticedMs.get(from) ?? -Infinity) < this.config.probeIntervalMs) return;
    this.noticedMs.set(from, now);
    fx.send(from, { type: 'gossip', updates: [this.membership.updateAbout(record)] });
  }

  // ---------------------------------------------------------------- push-pull, reconnect, join

  private syncTimers(now: number, fx: Fx): void {
    const table = this.membership.table;
    if (this.config.pushPullIntervalMs > 0 && now >= this.nextPushPullMs) {
      this.nextPushPullMs = now + this.config.pushPullIntervalMs;
      const [to] = this.sample(1, (r) => r.state === 'alive');
      if (to !== undefined) fx.send(to, { type: 'sync', join: false, members: table.snapshot() });
    }
    // Serf's reconnect: try a member held dead now and then, or two sides of a healed partition would never meet again
    if (this.config.reconnectIntervalMs > 0 && now >= this.nextReconnectMs) {
      this.nextReconnectMs = now + this.config.reconnectIntervalMs;
      const [to] = this.sample(1, (r) => r.state === 'dead');
      if (to !== undefined) fx.send(to, { type: 'sync', join: false, members: table.snapshot() });
    }
    // alone (every seed unreachable when this node started, or every member held dead): ask the seeds again
    if (now >= this.nextRejoinMs) {
      this.nextRejoinMs = now + this.rejoinIntervalMs();
      if (table.liveCount() - (isLive(this.member(this.id)) ? 1 : 0) === 0) for (const seed of this.seeds) fx.send(seed, { type: 'sync', join: true, members: table.snapshot() });
    }
  }

  /**
   * How often a member alone asks its seeds again: every probe interval, but no more often than
   * tcpTimeoutMs / 10 — a member started a moment before its seed (their processes launched
   * together) joins within a second instead of waiting a whole TCP timeout.
   */
  private rejoinIntervalMs(): number {
    return Math.max(this.config.probeIntervalMs, Math.ceil(this.config.tcpTimeoutMs / 10));
  }

  private onSync(from: NodeId, fx: Fx): void {
    fx.send(from, { type: 'sync-reply', members: this.membership.table.snapshot() });
  }

  private onSyncReply(from: NodeId, fx: Fx): void {
    for (let i = this.joins.length - 1; i >= 0; i--) {
      const join = this.joins[i] as PendingJoin;
      if (!join.seeds.has(from)) continue;
      this.joins.splice(i, 1);
      fx.reply(join.requestId, { ok: true, op: 'join', via: from });
    }
  }

  private syncProblem(count: number): string | undefined {
    return count > this.config.maxMembers ? `a member list longer than maxMembers (${this.config.maxMembers})` : undefined;
  }

  private joinTimers(now: number, fx: Fx): void {
    for (let i = this.joins.length - 1; i >= 0; i--) {
      const join = this.joins[i] as PendingJoin;
      if (now < join.deadlineMs) continue;
      this.joins.splice(i, 1);
      fx.reply(join.requestId, { ok: false, code: 'GOSSIP_JOIN_FAILED', message: `no seed of ${[...join.seeds].join(', ')} answered within ${this.config.tcpTimeoutMs} ms` });
    }
  }

  // ---------------------------------------------------------------- requests

  private join(requestId: string, requested: readonly NodeId[], now: number, fx: Fx): void {
    const seeds = [...new Set(requested)].filter((s) => s !== this.id);
    if (seeds.length === 0) return fx.reply(requestId, { ok: false, code: 'GOSSIP_BAD_REQUEST', message: 'join needs a seed other than this node' });
    if (this.joins.length >= MAX_PENDING_JOINS) return fx.reply(requestId, { ok: false, code: 'GOSSIP_BUSY', message: `${MAX_PENDING_JOINS} joins are waiting already` });
    if (this.membership.leaving && !this.membership.canAnnounce()) return fx.reply(requestId, { ok: false, code: 'GOSSIP_EXHAUSTED', message: 'this node\'s incarnation is at its maximum' });
    if (this.membership.leaving) this.membership.rejoin((op) => fx.persist(op), now);
    for (const s of seeds) if (this.seeds.length < MAX_SEEDS && !this.seeds.includes(s)) this.seeds.push(s);
    this.joins.push({ requestId, seeds: new Set(seeds), deadlineMs: now + this.config.tcpTimeoutMs });
    for (const s of seeds) fx.send(s, { type: 'sync', join: true, members: this.membership.table.snapshot() });
  }

  private leave(requestId: string, now: number, fx: Fx): void {
    if (!this.membership.leaving) {
      this.membership.leave(now);
      this.prober.abandon(now);
      // the leave goes out at once, then with every gossip round until its retransmissions are spent
      this.gossipRound(now, fx);
      this.annotateSummary(fx);
    }
    fx.reply(requestId, { ok: true, op: 'leave' });
  }

  private setMeta(requestId: string, meta: string, now: number, fx: Fx): void {
    if (this.membership.leaving) return fx.reply(requestId, { ok: false, code: 'GOSSIP_LEFT', message: 'this node has left: join again first' });
    if (!this.membership.canAnnounce()) return fx.reply(requestId, { ok: false, code: 'GOSSIP_EXHAUSTED', message: 'this node\'s incarnation is at its maximum' });
    const bytes = utf8Length(meta);
    if (bytes > this.config.maxMetaBytes) return fx.reply(requestId, { ok: false, code: 'GOSSIP_BAD_REQUEST', message: `meta is ${bytes} bytes, over maxMetaBytes (${this.config.maxMetaBytes})` });
    this.membership.setMeta(meta, (op) => fx.persist(op), now);
    fx.reply(requestId, { ok: true, op: 'set-meta', incarnation: this.incarnation });
    this.annotateLastEvent(fx);
  }

  // ---------------------------------------------------------------- helpers

  private dispatch(from: NodeId, msg: GossipMessage, now: number, fx: Fx): void {
    switch (msg.type) {
      case 'ping':
        // a ping meant for another name (an old address of someone else) is not answered
        if (msg.target !== this.id) return fx.annotate('lastBadMessage', `${from}: ping for ${msg.target}`);
        return fx.send(from, { type: 'ack', seq: msg.seq, updates: this.piggyback(from) });
      case 'ping-req':
        return this.prober.relay(from, msg, now, fx);
      case 'ack':
        return this.prober.onAck(from, msg.seq, fx);
      case 'nack':
        return this.prober.onNack(from, msg.seq);
      case 'gossip':
        return;
      case 'sync':
        return this.onSync(from, fx);
      case 'sync-reply':
        return this.onSyncReply(from, fx);
    }
  }

  /** Up to `count` distinct members other than this node that `keep` accepts, uniformly at random. */
  private sample(count: number, keep: (r: MemberRecord) => boolean): NodeId[] {
    return this.membership.table.sample(count, keep, () => this.env.random(), this.id);
  }

  private annotateSummary(fx: Fx): void {
    const counts = this.membership.table.stateCounts();
    // called on every tick: nothing to say when nothing it says changed
    const last = this.lastSummary;
    const leaving = this.membership.leaving;
    if (last !== undefined && last.leaving === leaving && last.incarnation === this.incarnation && last.health === this.health && last.alive === counts.alive && last.suspect === counts.suspect && last.dead === counts.dead && last.left === counts.left) return;
    this.lastSummary = { leaving, incarnation: this.incarnation, health: this.health, ...counts };
    fx.annotate('state', leaving ? 'left' : 'alive');
    fx.annotate('incarnation', this.incarnation);
    fx.annotate('health', this.health);
    fx.annotate('alive', counts.alive);
    fx.annotate('suspect', counts.suspect);
    fx.annotate('dead', counts.dead);
    fx.annotate('left', counts.left);
  }

  private annotateLastEvent(fx: Fx): void {
    const events = this.events();
    const last = events[events.length - 1];
    if (last !== undefined) fx.annotate('lastEvent', `${last.kind} ${last.member}@${last.incarnation}`);
  }
}

/** The first MAX_SEEDS distinct members other than `self`. */
function firstSeeds(members: readonly NodeId[], self: NodeId): NodeId[] {
  const seeds = new Set<NodeId>();
  for (const m of members) {
    if (seeds.size >= MAX_SEEDS) break;
    if (m !== self) seeds.add(m);
  }
  return [...seeds];
}

/** The SWIM core as a protocol spec; `config` is checked (and filled from the LAN preset) here. */
export function gossipSpec(config: Partial<GossipConfig> = {}, base?: GossipConfig, options: SwimOptions = {}): ProtocolSpec<GossipMessage, GossipRequest, GossipResponse, GossipPersistOp, SwimNode> {
  const resolved = resolveGossipConfig(config, base);
  return {
    name: 'swim',
    tickIntervalMs: resolved.tickIntervalMs,
    create: (env, durable) => new SwimNode(env, resolved, durable, options),
    // each op records the node's whole durable state
    supersedesEarlier: () => true,
  };
}
