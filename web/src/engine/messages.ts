// Follows every message from the moment it leaves a node until it is delivered or dropped, so the
// view can draw messages in flight at the right place. The simulator names each message in its
// trace events (`id` on send, duplicate, deliver and drop) and says when it will arrive
// (`arriveMs`, null when it is lost at once), so following a message is bookkeeping by id. The
// wrapped cores tell the tracker which message object each send carries (the trace leaves the
// bodies out), for the tooltips.
import type { Message, NodeId, TraceEvent } from '../../../src/sim/index.js';
import type { SimControl } from '../adapters/types.js';

export type MessageFate = 'flight' | 'delivered' | 'dropped';

export interface MessageRecord {
  /** The simulator's id of this message (the number a `drop` action names). */
  readonly id: number;
  readonly from: NodeId;
  readonly to: NodeId;
  readonly type: string;
  readonly body: Message | undefined;
  readonly sentAt: number;
  /** When the simulator will deliver it (the send time for a message lost at once). */
  arriveAt: number;
  /** When it was delivered or dropped; Infinity while in flight. */
  endAt: number;
  fate: MessageFate;
  /** Why it was dropped: loss, partition, down, stale, manual (dropped by the user). */
  reason: string;
  /** The simulator's second copy of a message. */
  readonly duplicate: boolean;
}

/** Ended messages stay visible this long (virtual ms), e.g. to show where one was dropped. */
const KEEP_ENDED_MS = 40;
const PRUNE_AT = 2048;

export class MessageTracker {
  /** In flight, or ended less than KEEP_ENDED_MS ago. */
  private records: MessageRecord[] = [];
  /** Messages the simulator has not delivered or dropped yet, by id. */
  private readonly open = new Map<number, MessageRecord>();
  /** Messages handed to the host by each node, not yet seen leaving (persist-before-speak may hold them). */
  private readonly outgoing = new Map<NodeId, Message[]>();
  private sent = 0;

  constructor(private readonly sim: SimControl) {}

  /** Messages sent so far, duplicates included. */
  get sentCount(): number {
    return this.sent;
  }

  /** A core handed `msg` to the host (the wrapper calls this). */
  sending(from: NodeId, msg: Message): void {
    let queue = this.outgoing.get(from);
    if (queue === undefined) this.outgoing.set(from, (queue = []));
    queue.push(msg);
  }

  /** Every trace event, in order. */
  onEvent(e: TraceEvent): void {
    switch (e.ev) {
      case 'send':
        this.add({ id: e.id, from: e.from, to: e.to, type: e.type, body: this.takeBody(e.from, e.type), sentAt: e.t, arriveAt: e.arriveMs ?? e.t, endAt: Infinity, fate: 'flight', reason: '', duplicate: false });
        break;
      case 'duplicate': {
        const original = this.open.get(e.of) ?? this.records.find((r) => r.id === e.of);
        this.add({ id: e.id, from: e.from, to: e.to, type: e.type, body: original?.body, sentAt: e.t, arriveAt: e.arriveMs, endAt: Infinity, fate: 'flight', reason: '', duplicate: true });
        break;
      }
      case 'deliver':
        this.end(e.id, e.t, 'delivered', '');
        break;
      case 'drop':
        this.end(e.id, e.t, 'dropped', e.reason);
        break;
      case 'crash':
        this.outgoing.delete(e.node);
        break;
      default:
        break;
    }
  }

  /** The body of the next message `from` sent, if the wrapper saw it go out. */
  private takeBody(from: NodeId, type: string): Message | undefined {
    const queue = this.outgoing.get(from);
    const body = queue?.shift();
    if (body !== undefined && body.type !== type) {
      // lost track of this node's outgoing order: resynchronise
      queue?.splice(0);
      return undefined;
    }
    return body;
  }

  private add(record: MessageRecord): void {
    this.sent++;
    this.open.set(record.id, record);
    this.records.push(record);
    if (this.records.length >= PRUNE_AT) this.prune(record.sentAt);
  }

  private end(id: number, t: number, fate: MessageFate, reason: string): void {
    const record = this.open.get(id);
    if (record === undefined) return;
    this.open.delete(id);
    // a message the user dropped is drawn dropped from the click on; the simulator's drop comes at its arrival
    if (record.fate === 'dropped') return;
    record.fate = fate;
    record.reason = reason;
    record.endAt = t;
    if (fate === 'dropped') record.arriveAt = Math.min(record.arriveAt, t);
  }

  /** Whether message `id` is in flight (the user may drop it). */
  canDrop(id: number): boolean {
    return this.open.get(id)?.fate === 'flight';
  }

  /** Marks message `id` dropped by the user (the simulator was told with a "drop" fault). */
  droppedByUser(id: number): void {
    const record = this.open.get(id);
    if (record === undefined || record.fate !== 'flight') return;
    record.fate = 'dropped';
    record.reason = 'manual';
    record.endAt = this.sim.nowMs;
  }

  private prune(now: number): void {
    this.records = this.records.filter((r) => r.fate === 'flight' || r.endAt >= now - KEEP_ENDED_MS);
  }

  /** Messages to draw at `now`: in flight, or ended within the last few ms. */
  visible(now: number): readonly MessageRecord[] {
    this.prune(now);
    return this.records;
  }

  inFlight(): number {
    let n = 0;
    for (const r of this.open.values()) if (r.fate === 'flight') n++;
    return n;
  }
}
