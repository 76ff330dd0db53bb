// A node's member list: one record per member (itself included), bounded, with the events its
// changes mean for the application (join, leave, fail, update) kept in a bounded buffer, counts
// per state, and random picks; optionally kept as differences from a view shared by many nodes.
import { assertInvariant } from '../core/index.js';
import type { NodeId } from '../core/index.js';
import type { MemberState, MemberUpdate, MemberView } from './messages.js';
import { eventKindFor, type GossipEventKind } from './rules.js';

export interface MemberRecord extends MemberView {
  /** On the node's own (monotonic) clock: when the state last changed. */
  readonly changedAtMs: number;
  /** Who suspected it first (suspect) or declared it (dead), as far as this node knows. */
  readonly by?: NodeId;
}

export interface GossipEvent {
  readonly kind: GossipEventKind;
  readonly member: NodeId;
  readonly state: MemberState;
  readonly incarnation: number;
  readonly meta: string;
  /** On the observing node's clock. */
  readonly atMs: number;
}

/**
 * A member list many nodes start from — every member alive at incarnation 0 with no metadata, as
 * after a cluster's joins have settled — shared read-only between them: each node's table keeps
 * only its differences from it, so that a simulated cluster of thousands of members holds one
 * copy of the list rather than one per node.
 */
export class StartingView {
  readonly ids: readonly NodeId[];
  readonly records: ReadonlyMap<NodeId, MemberRecord>;

  constructor(ids: readonly NodeId[]) {
    const records = new Map<NodeId, MemberRecord>();
    for (const id of ids) if (!records.has(id)) records.set(id, { id, state: 'alive', incarnation: 0, meta: '', changedAtMs: 0 });
    this.records = records;
    this.ids = [...records.keys()];
  }

  has(id: NodeId): boolean {
    return this.records.has(id);
  }
}

type StateCounts = Record<MemberState, number>;

/** Random picks try this many times per member wanted before they fall back to a full scan. */
const SAMPLE_TRIES_PER_PICK = 8;

export class MemberTable {
  /** Records that differ from the starting view or are not in it (every record when there is no view). */
  private readonly own = new Map<NodeId, MemberRecord>();
  /** Members of the starting view this table has forgotten. */
  private readonly forgotten = new Set<NodeId>();
  /** Ids held that the starting view lacks, for random picks by position. */
  private readonly extra: NodeId[] = [];
  private readonly counts: StateCounts = { alive: 0, suspect: 0, dead: 0, left: 0 };
  /** Members dead or left: reaping and making room look only at these. */
  private readonly goneIds = new Set<NodeId>();
  private readonly eventLog: GossipEvent[] = [];
  /** Events dropped from the front of the buffer when it was full. */
  droppedEvents = 0;

  constructor(
    private readonly maxMembers: number,
    private readonly maxEvents: number,
    private readonly view?: StartingView,
  ) {
    assertInvariant(view === undefined || view.ids.length <= maxMembers, () => `a starting view of ${view?.ids.length} members, over ${maxMembers}`);
    if (view !== undefined) this.counts.alive = view.ids.length;
  }

  get size(): number {
    return (this.view === undefined ? 0 : this.view.ids.length - this.forgotten.size) + this.extra.length;
  }

  get(id: NodeId): MemberRecord | undefined {
    const r = this.own.get(id);
    if (r !== undefined || this.view === undefined) return r;
    if (this.forgotten.size > 0 && this.forgotten.has(id)) return undefined;
    return this.view.records.get(id);
  }

  *ids(): IterableIterator<NodeId> {
    for (const r of this.all()) yield r.id;
  }

  /**
   * The ids of the starting view (those forgotten included: check with get) and of every other
   * member, without a lookup per member: the view's own list when nobody else is held, else a new
   * array. Never changed afterwards.
   */
  idsIncludingForgotten(): readonly NodeId[] {
    return this.view === undefined ? this.extra.slice() : this.extra.length === 0 ? this.view.ids : [...this.view.ids, ...this.extra];
  }

  /** Every record: the starting view's members first (in its order), then the others in the order they came. */
  *all(): IterableIterator<MemberRecord> {
    if (this.view !== undefined) {
      for (const id of this.view.ids) {
        const r = this.get(id);
        if (r !== undefined) yield r;
      }
    }
    for (const id of this.extra) yield this.own.get(id) as MemberRecord;
  }

  /** Members alive or suspect (not dead, not left), this node included. */
  liveCount(): number {
    return this.counts.alive + this.counts.suspect;
  }

  /** How many members are in each state, this node included. */
  stateCounts(): Readonly<StateCounts> {
    return this.counts;
  }

  /** The members dead or left. */
  gone(): IterableIterator<NodeId> {
    return this.goneIds.values();
  }

  /**
   * Up to `count` distinct members other than `except` that `keep` accepts, uniformly at random:
   * drawn by position (cheap when most members qualify), then, if draws kept missing, picked
   * from a full scan of those that remain.
   */
  sample(count: number, keep: (r: MemberRecord) => boolean, random: () => number, except: NodeId): NodeId[] {
    const out: NodeId[] = [];
    if (count <= 0) return out;
    const viewLength = this.view === undefined ? 0 : this.view.ids.length;
    const slots = viewLength + this.extra.length;
    for (let tries = count * SAMPLE_TRIES_PER_PICK; out.length < count && tries > 0 && slots > 0; tries--) {
      const at = Math.floor(random() * slots);
      const id = at < viewLength ? ((this.view as StartingView).ids[at] as NodeId) : (this.extra[at - viewLength] as NodeId);
      if (id === except || out.includes(id)) continue;
      const r = this.get(id);
      if (r !== undefined && keep(r)) out.push(id);
    }
    if (out.length === count) return out;
    const rest: NodeId[] = [];
    for (const r of this.all()) if (r.id !== except && keep(r) && !out.includes(r.id)) rest.push(r.id);
    for (let i = 0; out.length < count && i < rest.length; i++) {
      const j = i + Math.floor(random() * (rest.length - i));
      [rest[i], rest[j]] = [rest[j] as NodeId, rest[i] as NodeId];
      out.push(rest[i] as NodeId);
    }
    return out;
  }

  /**
   * Whether a new member fits: when full, the dead or left member gone longest is forgotten to
   * make room; false when every member is alive or suspect.
   */
  makeRoom(onForget: (id: NodeId) => void): boolean {
    if (this.size < this.maxMembers) return true;
    let oldest: MemberRecord | undefined;
    for (const id of this.goneIds) {
      const r = this.get(id) as MemberRecord;
      if (oldest === undefined || r.changedAtMs < oldest.changedAtMs) oldest = r;
    }
    if (oldest === undefined) return false;
    this.forget(oldest.id);
    onForget(oldest.id);
    return true;
  }

  /** Sets a member's record and logs the event the change means; returns that event's kind. */
  set(next: MemberRecord): GossipEventKind | undefined {
    const previous = this.get(next.id);
    assertInvariant(previous !== undefined || this.size < this.maxMembers, () => `member table over ${this.maxMembers} members`);
    this.own.set(next.id, next);
    if (this.view !== undefined && this.view.has(next.id)) this.forgotten.delete(next.id);
    else if (previous === undefined) this.extra.push(next.id);
    if (previous !== undefined) this.counts[previous.state]--;
    this.counts[next.state]++;
    if (next.state === 'dead' || next.state === 'left') this.goneIds.add(next.id);
    else this.goneIds.delete(next.id);
    const kind = eventKindFor(previous, next);
    if (kind !== undefined) this.log({ kind, member: next.id, state: next.state, incarnation: next.incarnation, meta: next.meta, atMs: next.changedAtMs });
    return kind;
  }

  forget(id: NodeId): void {
    const previous = this.get(id);
    if (previous === undefined) return;
    this.own.delete(id);
    if (this.view !== undefined && this.view.has(id)) {
      this.forgotten.add(id);
    } else {
      // rare (reaping, a full table): a linear search keeps the list free of a second index, and
      // the others keep their order
      this.extra.splice(this.extra.indexOf(id), 1);
    }
    this.counts[previous.state]--;
    this.goneIds.delete(id);
  }

  events(): readonly GossipEvent[] {
    return this.eventLog;
  }

  /** Events logged since the start, those dropped from the buffer included. */
  get eventsLogged(): number {
    return this.eventLog.length + this.droppedEvents;
  }

  /** Every record as an update, for a full state exchange. */
  snapshot(): MemberUpdate[] {
    return [...this.all()].map(recordUpdate);
  }

  views(): MemberView[] {
    return [...this.all()].map((r) => ({ id: r.id, state: r.state, incarnation: r.incarnation, meta: r.meta })).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  private log(event: GossipEvent): void {
    if (this.maxEvents === 0) {
      this.droppedEvents++;
      return;
    }
    if (this.eventLog.length >= this.maxEvents) {
      this.eventLog.splice(0, this.eventLog.length - this.maxEvents + 1);
      this.droppedEvents++;
    }
    this.eventLog.push(event);
  }
}

/**
 * A record as an update: metadata travels with alive records only, and suspicions and deaths name
 * who started them, so that passing one on is not mistaken for an independent confirmation.
 */
export function recordUpdate(r: MemberRecord): MemberUpdate {
  if (r.state === 'alive') return { node: r.id, state: 'alive', incarnation: r.incarnation, meta: r.meta };
  return r.by === undefined || r.state === 'left' ? { node: r.id, state: r.state, incarnation: r.incarnation } : { node: r.id, state: r.state, incarnation: r.incarnation, from: r.by };
}
