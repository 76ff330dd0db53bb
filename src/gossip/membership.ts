// What one node believes about the membership and how it changes: updates from peers applied by
// the incarnation rules (rules.ts), suspicions with Lifeguard's shrinking timeouts, refutation of
// suspicions about itself (persisting each new incarnation before it is used), its own leave and
// metadata, and the queue that disseminates every change. No I/O: the node (swim.ts) carries it.
import { assertInvariant } from '../core/index.js';
import type { NodeId } from '../core/index.js';
import type { GossipConfig } from './config.js';
import { DisseminationQueue, retransmitLimit } from './dissemination.js';
import { Awareness, AWARENESS_DELTA, Suspicion, suspicionBoundsMs } from './lifeguard.js';
import { MemberTable, recordUpdate, type MemberRecord, type StartingView } from './members.js';
import { MAX_INCARNATION, utf8Length, type GossipPersistOp, type MemberUpdate } from './messages.js';
import { ProbeOrder } from './probe-order.js';
import { mustRefute, precedence } from './rules.js';

/** Where an update came from: piggybacked gossip, or a full state exchange (push-pull). */
export type UpdateSource = 'gossip' | 'sync';

export interface MembershipStats {
  /** Suspicions this node started from its own failed probes. */
  suspicionsStarted: number;
  /** Members this node declared dead when their suspicion ran out. */
  deadDeclared: number;
  /** Times this node refuted a suspicion (or death) about itself. */
  refutations: number;
  /** Updates dropped for metadata over maxMetaBytes, or because the table was full of live members. */
  updatesRefused: number;
}

export class Membership {
  readonly table: MemberTable;
  readonly queue: DisseminationQueue;
  readonly order: ProbeOrder;
  readonly awareness: Awareness;
  readonly stats: MembershipStats = { suspicionsStarted: 0, deadDeclared: 0, refutations: 0, updatesRefused: 0 };
  private readonly suspicions = new Map<NodeId, Suspicion>();
  private ownIncarnation: number;
  private ownMeta: string;
  private leavingNow = false;

  constructor(
    readonly id: NodeId,
    private readonly config: GossipConfig,
    private readonly random: () => number,
    recovered: { readonly incarnation: number; readonly meta: string },
    nowMs: number,
    /** The member list this node starts with (shared with other nodes), instead of itself alone. */
    view?: StartingView,
  ) {
    this.table = new MemberTable(config.maxMembers, config.maxEvents, view);
    this.queue = new DisseminationQueue(config.maxMembers);
    this.order = new ProbeOrder(random);
    this.awareness = new Awareness(config.lifeguard ? config.awarenessMaxMultiplier : 1);
    this.ownIncarnation = recovered.incarnation;
    this.ownMeta = recovered.meta;
    this.table.set({ id, state: 'alive', incarnation: this.ownIncarnation, meta: this.ownMeta, changedAtMs: nowMs });
  }

  get incarnation(): number {
    return this.ownIncarnation;
  }

  get meta(): string {
    return this.ownMeta;
  }

  get leaving(): boolean {
    return this.leavingNow;
  }

  /** Whether this node can still take a higher incarnation (refute, change metadata, join again). */
  canAnnounce(): boolean {
    return this.ownIncarnation < MAX_INCARNATION;
  }

  /** Transmissions per update now: retransmitMult × ceil(log10(N + 1)) over the live members. */
  retransmitLimit(): number {
    return retransmitLimit(this.config.retransmitMult, this.table.liveCount());
  }

  /** The record of a member as an update, sent to it so that it learns what this node holds. */
  updateAbout(record: MemberRecord): MemberUpdate {
    return recordUpdate(record);
  }

  /** Applies Lifeguard's score change for an event (plain SWIM keeps the score at 0). */
  health(delta: number): void {
    if (this.config.lifeguard) this.awareness.apply(delta);
  }

  // ---------------------------------------------------------------- updates from peers

  /** Applies an update received from `sender`. */
  receive(update: MemberUpdate, source: UpdateSource, sender: NodeId, nowMs: number, persist: (op: GossipPersistOp) => void): void {
    if (update.node === this.id) return this.aboutSelf(update, persist, nowMs);
    if (update.meta !== undefined && utf8Length(update.meta) > this.config.maxMetaBytes) {
      this.stats.updatesRefused++;
      return;
    }
    const incoming = normalize(update, source, sender, this.id);
    const current = this.table.get(incoming.node);
    switch (precedence(current, incoming)) {
      case 'apply':
        return this.adopt(current, incoming, nowMs);
      case 'confirm':
        return this.confirm(incoming);
      case 'ignore':
        return;
    }
  }

  private aboutSelf(update: MemberUpdate, persist: (op: GossipPersistOp) => void, nowMs: number): void {
    // a leaving node lets its leave stand; a live one contradicts anything that says otherwise
    if (this.leavingNow || !mustRefute(this.ownIncarnation, update)) return;
    if (update.incarnation >= MAX_INCARNATION) {
      this.stats.updatesRefused++;
      return;
    }
    this.stats.refutations++;
    if (update.state !== 'alive') this.health(AWARENESS_DELTA.refutedSuspicion);
    this.announce(update.incarnation + 1, this.ownMeta, persist, nowMs);
  }

  private adopt(current: MemberRecord | undefined, u: MemberUpdate, nowMs: number): void {
    if (current === undefined && !this.table.makeRoom((id) => this.forgetAround(id))) {
      this.stats.updatesRefused++;
      return;
    }
    const meta = u.state === 'alive' && u.meta !== undefined ? u.meta : (current?.meta ?? '');
    const by = u.state === 'suspect' || u.state === 'dead' ? (u.from ?? this.id) : undefined;
    this.table.set({ id: u.node, state: u.state, incarnation: u.incarnation, meta, changedAtMs: nowMs, ...(by === undefined ? {} : { by }) });
    this.queue.enqueue(u);
    if (u.state === 'suspect') {
      this.startSuspicion(u.node, u.incarnation, u.from ?? this.id, nowMs);
    } else {
      this.suspicions.delete(u.node);
    }
    if (u.state === 'alive' || u.state === 'suspect') this.order.insert(u.node);
  }

  private startSuspicion(node: NodeId, incarnation: number, suspecter: NodeId, nowMs: number): void {
    const members = this.table.liveCount();
    const { minMs, maxMs } = suspicionBoundsMs(this.config, members);
    // K: confirmations to expect, no more than there are other members to send them
    const expected = this.config.lifeguard ? Math.max(0, Math.min(this.config.indirectChecks, members - 2)) : 0;
    this.suspicions.set(node, new Suspicion(incarnation, nowMs, suspecter, minMs, this.config.lifeguard ? maxMs : minMs, expected));
  }

  /** Another member's independent suspicion: counts toward Lifeguard's K and is passed on when it does. */
  private confirm(u: MemberUpdate): void {
    const suspicion = this.suspicions.get(u.node);
    assertInvariant(suspicion !== undefined, () => `member ${u.node} is suspect without a suspicion`);
    if (suspicion.incarnation === u.incarnation && suspicion.confirm(u.from ?? this.id)) this.queue.enqueue(u);
  }

  // ---------------------------------------------------------------- this node's own findings

  /** This node's probe of `target` failed: suspect it (or confirm the suspicion already held). */
  suspectAfterProbe(target: NodeId, nowMs: number): void {
    const record = this.table.get(target);
    if (record === undefined || (record.state !== 'alive' && record.state !== 'suspect')) return;
    const u: MemberUpdate = { node: target, state: 'suspect', incarnation: record.incarnation, from: this.id };
    if (record.state === 'suspect') return this.confirm(u);
    this.stats.suspicionsStarted++;
    this.adopt(record, u, nowMs);
  }

  /** Declares dead every suspect whose (Lifeguard-shortened) timeout has passed. */
  expireSuspicions(nowMs: number): void {
    if (this.suspicions.size === 0) return;
    for (const [node, suspicion] of this.suspicions) {
      if (nowMs < suspicion.deadlineMs()) continue;
      this.suspicions.delete(node);
      const record = this.table.get(node);
      if (record?.state !== 'suspect' || record.incarnation !== suspicion.incarnation) continue;
      this.stats.deadDeclared++;
      this.adopt(record, { node, state: 'dead', incarnation: record.incarnation, from: this.id }, nowMs);
    }
  }

  /** Forgets dead and left members older than the retention (they may come back with a higher incarnation). */
  reap(nowMs: number): void {
    const expired: NodeId[] = [];
    for (const id of this.table.gone()) if (id !== this.id && nowMs - (this.table.get(id) as MemberRecord).changedAtMs > this.config.deadMemberRetentionMs) expired.push(id);
    for (const id of expired) {
      this.table.forget(id);
      this.forgetAround(id);
    }
  }

  private forgetAround(id: NodeId): void {
    this.queue.drop(id);
    this.suspicions.delete(id);
  }

  // ---------------------------------------------------------------- this node's own state

  /** Records the incarnation this life starts with: durable before any message can carry it. */
  startLife(persist: (op: GossipPersistOp) => void): void {
    persist({ op: 'self', incarnation: this.ownIncarnation, meta: this.ownMeta });
    this.queue.enqueue(this.selfUpdate());
  }

  setMeta(meta: string, persist: (op: GossipPersistOp) => void, nowMs: number): void {
    this.announce(this.ownIncarnation + 1, meta, persist, nowMs);
  }

  /** A graceful leave: others drop this node without suspecting it; it refutes nothing from now on. */
  leave(nowMs: number): void {
    this.leavingNow = true;
    this.table.set({ id: this.id, state: 'left', incarnation: this.ownIncarnation, meta: this.ownMeta, changedAtMs: nowMs });
    this.queue.enqueue({ node: this.id, state: 'left', incarnation: this.ownIncarnation });
  }

  /** Joins again after a leave, above the incarnation the leave was announced with. */
  rejoin(persist: (op: GossipPersistOp) => void, nowMs: number): void {
    this.leavingNow = false;
    this.announce(this.ownIncarnation + 1, this.ownMeta, persist, nowMs);
  }

  private announce(incarnation: number, meta: string, persist: (op: GossipPersistOp) => void, nowMs: number): void {
    assertInvariant(incarnation > this.ownIncarnation && incarnation <= MAX_INCARNATION, () => `incarnation ${incarnation} does not follow ${this.ownIncarnation}`);
    this.ownIncarnation = incarnation;
    this.ownMeta = meta;
    persist({ op: 'self', incarnation, meta });
    this.table.set({ id: this.id, state: 'alive', incarnation, meta, changedAtMs: nowMs });
    this.queue.enqueue(this.selfUpdate());
  }

  private selfUpdate(): MemberUpdate {
    return { node: this.id, state: 'alive', incarnation: this.ownIncarnation, meta: this.ownMeta };
  }

  /** For tests and inspection: the suspicion held about `node`, if any. */
  suspicion(node: NodeId): Suspicion | undefined {
    return this.suspicions.get(node);
  }

  /** Every suspect has exactly one suspicion at its incarnation (checked by tests and the simulator). */
  checkInvariants(): void {
    for (const r of this.table.all()) {
      const s = this.suspicions.get(r.id);
      assertInvariant((r.state === 'suspect') === (s !== undefined), () => `member ${r.id} is ${r.state} with${s === undefined ? 'out' : ''} a suspicion`);
      assertInvariant(s === undefined || s.incarnation === r.incarnation, () => `member ${r.id}'s suspicion is at incarnation ${s?.incarnation}, its record at ${r.incarnation}`);
    }
  }
}

/**
 * What an update means here. A death learned in a full state exchange only starts a suspicion (as
 * memberlist does), so a stale view pushed after a partition gives the member a chance to refute
 * instead of killing it at once. A suspicion names its suspecter; one that does not is counted as
 * this node's own in a state exchange (relaying it is no independent confirmation) and as the
 * sender's in gossip.
 */
function normalize(u: MemberUpdate, source: UpdateSource, sender: NodeId, self: NodeId): MemberUpdate {
  if (u.state === 'suspect' || (u.state === 'dead' && source === 'sync')) return { node: u.node, state: 'suspect', incarnation: u.incarnation, from: u.from ?? (source === 'sync' ? self : sender) };
  if (u.state === 'alive') return u.meta === undefined ? { node: u.node, state: 'alive', incarnation: u.incarnation } : { node: u.node, state: 'alive', incarnation: u.incarnation, meta: u.meta };
  return { node: u.node, state: u.state, incarnation: u.incarnation, from: u.from ?? sender };
}
