// SWIM's infection-style dissemination: membership updates wait here to be piggybacked on
// probes, acks and gossip. Each is sent retransmitMult × ceil(log10(N + 1)) times, the least sent
// (then the newest) first, within a message's byte budget; a newer update about a member
// replaces the queued one, so the queue holds at most one update per member.
import { assertInvariant } from '../core/index.js';
import type { NodeId } from '../core/index.js';
import { MAX_UPDATES_PER_MESSAGE, type MemberUpdate } from './messages.js';

/** How many times each update is sent in a cluster of `memberCount` members. */
export function retransmitLimit(retransmitMult: number, memberCount: number): number {
  return retransmitMult * Math.ceil(Math.log10(Math.max(1, memberCount) + 1));
}

/** An update's cost against a message's byte budget: its JSON text, as the UDP host will send it. */
export function updateBytes(update: MemberUpdate): number {
  return JSON.stringify(update).length + 1;
}

interface Queued {
  readonly update: MemberUpdate;
  readonly bytes: number;
  /** Larger is newer. */
  readonly order: number;
  transmits: number;
}

export class DisseminationQueue {
  private readonly byNode = new Map<NodeId, Queued>();
  private nextOrder = 0;

  constructor(private readonly maxEntries: number) {}

  get size(): number {
    return this.byNode.size;
  }

  /** Queues `update` to be sent, replacing any queued update about the same member. */
  enqueue(update: MemberUpdate): void {
    this.byNode.delete(update.node);
    if (this.byNode.size >= this.maxEntries) this.evictMostSent();
    this.byNode.set(update.node, { update, bytes: updateBytes(update), order: this.nextOrder++, transmits: 0 });
    assertInvariant(this.byNode.size <= this.maxEntries, () => `dissemination queue holds ${this.byNode.size} updates, over ${this.maxEntries}`);
  }

  /** Forgets what is queued about `node` (it was forgotten). */
  drop(node: NodeId): void {
    this.byNode.delete(node);
  }

  /**
   * The updates for one message: least sent first, then newest, as many as fit in `budgetBytes`
   * (at most MAX_UPDATES_PER_MESSAGE). Each taken counts one transmission; those sent `limit`
   * times leave the queue.
   */
  take(budgetBytes: number, limit: number): MemberUpdate[] {
    if (this.byNode.size === 0 || budgetBytes <= 0) return [];
    const ranked = [...this.byNode.values()].sort((a, b) => a.transmits - b.transmits || b.order - a.order);
    const out: MemberUpdate[] = [];
    let left = budgetBytes;
    for (const q of ranked) {
      if (out.length >= MAX_UPDATES_PER_MESSAGE) break;
      if (q.bytes > left) continue;
      left -= q.bytes;
      out.push(q.update);
      q.transmits++;
      if (q.transmits >= limit) this.byNode.delete(q.update.node);
    }
    return out;
  }

  /** What is queued, with its transmission count (for tests and inspection). */
  pending(): { readonly update: MemberUpdate; readonly transmits: number }[] {
    return [...this.byNode.values()].map((q) => ({ update: q.update, transmits: q.transmits }));
  }

  private evictMostSent(): void {
    let worst: Queued | undefined;
    for (const q of this.byNode.values()) if (worst === undefined || q.transmits > worst.transmits || (q.transmits === worst.transmits && q.order < worst.order)) worst = q;
    if (worst !== undefined) this.byNode.delete(worst.update.node);
  }
}
