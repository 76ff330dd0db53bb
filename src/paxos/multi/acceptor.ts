// A Multi-Paxos acceptor: one promise for every slot (phase 1 runs once for all future slots) and
// the value it accepted at each slot, in the highest ballot it accepted there. Every change is
// written (persist) before the core answers; the host holds the answer until it is durable.
// Slots up to the snapshot are chosen and applied: their acceptances are dropped (compaction),
// and a promise says so (`snapshotSlot`), so a new leader treats them as chosen.
import type { NodeId } from '../../core/index.js';
import { compareBallots, ZERO_BALLOT, type Ballot } from '../ballot.js';
import type { PaxosObserver } from '../observer.js';
import type { AcceptedEntry, PaxosPersistOp, PaxosValue, SlotValue } from './types.js';

export class MultiAcceptor {
  promised: Ballot = ZERO_BALLOT;
  /** Slots up to here are compacted into the snapshot. */
  snapshotSlot = 0;
  private readonly accepted = new Map<number, { readonly ballot: Ballot; readonly value: PaxosValue }>();

  constructor(
    private readonly id: NodeId,
    private readonly observer: PaxosObserver | undefined,
  ) {}

  /** Folds one durable op of an earlier life. */
  replay(op: PaxosPersistOp): void {
    switch (op.kind) {
      case 'promise':
        if (compareBallots(op.ballot, this.promised) > 0) this.promised = op.ballot;
        return;
      case 'accept':
        if (compareBallots(op.ballot, this.promised) > 0) this.promised = op.ballot;
        for (const e of op.entries) if (e.slot > this.snapshotSlot) this.accepted.set(e.slot, { ballot: op.ballot, value: e.value });
        return;
      case 'snapshot':
        this.promised = op.promised;
        this.snapshotSlot = op.slot;
        this.accepted.clear();
        for (const e of op.accepted) if (e.slot > op.slot) this.accepted.set(e.slot, { ballot: e.ballot, value: e.value });
        return;
    }
  }

  get size(): number {
    return this.accepted.size;
  }

  at(slot: number): { readonly ballot: Ballot; readonly value: PaxosValue } | undefined {
    return this.accepted.get(slot);
  }

  /** Raises the promise to `ballot` (written through `persist`); false when it was not higher. */
  promise(ballot: Ballot, persist: (op: PaxosPersistOp) => void): boolean {
    if (compareBallots(ballot, this.promised) <= 0) return false;
    this.promised = ballot;
    persist({ kind: 'promise', ballot });
    this.observer?.promised?.(this.id, ballot);
    return true;
  }

  /**
   * Accepts `entries` in `ballot` (the caller checked ballot >= promised), in one write; entries at
   * compacted slots are skipped. Returns the slots accepted.
   */
  accept(ballot: Ballot, entries: readonly SlotValue[], persist: (op: PaxosPersistOp) => void): number[] {
    const kept = entries.filter((e) => e.slot > this.snapshotSlot);
    if (kept.length === 0) {
      // nothing to accept, but the ballot is promised all the same (and written, as any promise)
      this.promise(ballot, persist);
      return [];
    }
    if (compareBallots(ballot, this.promised) > 0) this.promised = ballot;
    for (const e of kept) this.accepted.set(e.slot, { ballot, value: e.value });
    persist({ kind: 'accept', ballot, entries: kept });
    for (const e of kept) this.observer?.accepted?.(this.id, e.slot, ballot, e.value);
    return kept.map((e) => e.slot);
  }

  /** Every acceptance above `slot`, in slot order. */
  acceptedAbove(slot: number): AcceptedEntry[] {
    const out: AcceptedEntry[] = [];
    for (const [s, a] of this.accepted) if (s > slot) out.push({ slot: s, ballot: a.ballot, value: a.value });
    return out.sort((a, b) => a.slot - b.slot);
  }

  /** Every acceptance, for the restart check (observer.recovered). */
  ballots(): { slot: number; ballot: Ballot }[] {
    return [...this.accepted].map(([slot, a]) => ({ slot, ballot: a.ballot }));
  }

  /** Slots up to `slot` are chosen and applied here: drop their acceptances. */
  compact(slot: number): void {
    if (slot <= this.snapshotSlot) return;
    this.snapshotSlot = slot;
    for (const s of this.accepted.keys()) if (s <= slot) this.accepted.delete(s);
  }
}
