// A node's member list: one record per member (itself included), bounded, with the events its
// changes mean for the application (join, leave, fail, update) kept in a bounded buffer.
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

export class MemberTable {
  private readonly records = new Map<NodeId, MemberRecord>();
  private readonly eventLog: GossipEvent[] = [];
  /** Events dropped from the front of the buffer when it was full. */
  droppedEvents = 0;

  constructor(
    private readonly maxMembers: number,
    private readonly maxEvents: number,
  ) {}

  get size(): number {
    return this.records.size;
  }

  get(id: NodeId): MemberRecord | undefined {
    return this.records.get(id);
  }

  ids(): IterableIterator<NodeId> {
    return this.records.keys();
  }

  all(): IterableIterator<MemberRecord> {
    return this.records.values();
  }

  /** Members alive or suspect (not dead, not left), this node included. */
  liveCount(): number {
    let n = 0;
    for (const r of this.records.values()) if (r.state === 'alive' || r.state === 'suspect') n++;
    return n;
  }

  /**
   * Whether a new member fits: when full, the dead or left member gone longest is forgotten to
   * make room; false when every member is alive or suspect.
   */
  makeRoom(onForget: (id: NodeId) => void): boolean {
    if (this.records.size < this.maxMembers) return true;
    let oldest: MemberRecord | undefined;
    for (const r of this.records.values()) if ((r.state === 'dead' || r.state === 'left') && (oldest === undefined || r.changedAtMs < oldest.changedAtMs)) oldest = r;
    if (oldest === undefined) return false;
    this.forget(oldest.id);
    onForget(oldest.id);
    return true;
  }

  /** Sets a member's record and logs the event the change means; returns that event's kind. */
  set(next: MemberRecord): GossipEventKind | undefined {
    const previous = this.records.get(next.id);
    assertInvariant(previous !== undefined || this.records.size < this.maxMembers, () => `member table over ${this.maxMembers} members`);
    this.records.set(next.id, next);
    const kind = eventKindFor(previous, next);
    if (kind !== undefined) this.log({ kind, member: next.id, state: next.state, incarnation: next.incarnation, meta: next.meta, atMs: next.changedAtMs });
    return kind;
  }

  forget(id: NodeId): void {
    this.records.delete(id);
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
    return [...this.records.values()].map(recordUpdate);
  }

  views(): MemberView[] {
    return [...this.records.values()].map((r) => ({ id: r.id, state: r.state, incarnation: r.incarnation, meta: r.meta })).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
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
