// The shape every CRDT of src/crdt shares (delta-state CRDTs, Almeida, Shoker and Baquero 2018):
// a state is an element of a join-semilattice; a mutator returns a *delta* — itself a state, usually
// tiny — that the replica joins into its own state and ships to others; join is commutative,
// associative and idempotent, so deltas and states may arrive late, twice or out of order.
// Everything here is a plain, JSON-able value and every function is pure: the simulator, the node
// host and the browser run the same code, and property tests compare states by canonical text.

/** A replica's id: a node id, or any stable name unique among the replicas. */
export type ReplicaId = string;

/**
 * A CRDT type: its bottom (empty) state, join, the value the application reads, and a check of a
 * state from outside (a peer, a file) that throws CrdtError('CRDT_BAD_STATE') with what is wrong.
 * Mutators are type-specific functions of the form `(state, replica, ...args) => delta`: they never
 * change `state`; the caller joins the delta in (`join(state, delta)`) and sends it on.
 */
export interface CrdtType<S, V> {
  /** A stable name ('g-counter', 'or-set', ...), used in encodings and messages. */
  readonly name: string;
  empty(): S;
  join(a: S, b: S): S;
  value(state: S): V;
  /** `state` from outside, checked field by field (sizes bounded); returns it typed. */
  decode(value: unknown): S;
  /** A canonical text of the state: equal states (as lattice elements) give equal text. */
  canonical(state: S): string;
}

/** Bounds on states decoded from outside: a peer cannot make a replica hold or loop over more. */
export const MAX_REPLICAS = 10_000;
export const MAX_ELEMENTS = 1_000_000;
export const MAX_TEXT_LENGTH = 64 * 1024;
