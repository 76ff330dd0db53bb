// Hooks the Paxos cores call as things happen, for monitors and tests (synchronously, inside the
// core: they must not call back into it). Single-decree Paxos reports its one value as slot 1.
import type { JsonValue, NodeId } from '../core/index.js';
import type { Ballot } from './ballot.js';

/** What an acceptor's durable state says after a restart. */
export interface AcceptorRecovery {
  readonly promised: Ballot;
  /** The ballot of the value accepted at each slot still held (after the snapshot). */
  readonly accepted: readonly { readonly slot: number; readonly ballot: Ballot }[];
  /** Slots up to here are compacted into a snapshot: chosen and applied, their acceptances dropped. */
  readonly snapshotSlot: number;
}

export interface PaxosObserver {
  /** `node`'s acceptor raised its promise to `ballot` (written in this call). */
  promised?(node: NodeId, ballot: Ballot): void;
  /** `node`'s acceptor accepted `value` at `slot` in `ballot` (written in this call). */
  accepted?(node: NodeId, slot: number, ballot: Ballot, value: JsonValue): void;
  /**
   * `node` received `from`'s promise of `ballot` (a promise, or a rejection that names it): the
   * message left `from`, so the promise was durable there.
   */
  heardPromise?(node: NodeId, from: NodeId, ballot: Ballot): void;
  /** `node` received `from`'s acceptance at `slot` in `ballot` (durable at `from`). */
  heardAccepted?(node: NodeId, from: NodeId, slot: number, ballot: Ballot): void;
  /** `node` (a learner) learned that `value` is chosen at `slot`. */
  learned?(node: NodeId, slot: number, value: JsonValue): void;
  /** `node` applied `value` at `slot` to its state machine (Multi-Paxos). */
  applied?(node: NodeId, slot: number, value: JsonValue): void;
  /** `node` replaced its state by a snapshot taken at `slot` (installed from a peer). */
  snapshotInstalled?(node: NodeId, slot: number): void;
  /** `node` restarted from its durable state (called while the core is built). */
  recovered?(node: NodeId, state: AcceptorRecovery): void;
  /** `node` finished phase 1 of `ballot`: it leads (Multi-Paxos) or proposes (single-decree). */
  becameLeader?(node: NodeId, ballot: Ballot): void;
}

/** Calls every observer given (the cluster's monitor and a user's extra one). */
export function combineObservers(...observers: readonly (PaxosObserver | undefined)[]): PaxosObserver {
  const list = observers.filter((o): o is PaxosObserver => o !== undefined);
  return {
    promised: (n, b) => list.forEach((o) => o.promised?.(n, b)),
    accepted: (n, s, b, v) => list.forEach((o) => o.accepted?.(n, s, b, v)),
    heardPromise: (n, f, b) => list.forEach((o) => o.heardPromise?.(n, f, b)),
    heardAccepted: (n, f, s, b) => list.forEach((o) => o.heardAccepted?.(n, f, s, b)),
    learned: (n, s, v) => list.forEach((o) => o.learned?.(n, s, v)),
    applied: (n, s, v) => list.forEach((o) => o.applied?.(n, s, v)),
    snapshotInstalled: (n, s) => list.forEach((o) => o.snapshotInstalled?.(n, s)),
    recovered: (n, r) => list.forEach((o) => o.recovered?.(n, r)),
    becameLeader: (n, b) => list.forEach((o) => o.becameLeader?.(n, b)),
  };
}
