// The history of a leaderless (Dynamo-style) store as its checkers read it: client operations with
// the causal context each one carried in and got back, and the replicas' final states. Plain data
// with its own small causal types, so the checkers know nothing of the store that produced it
// (the simulator's quorum store today, real processes tomorrow).

/** [actor, counter] pairs sorted by actor: an actor's counter covers all its dots up to it. */
export type DkvVersionVector = readonly (readonly [string, number])[];

export interface DkvDot {
  readonly actor: string;
  readonly counter: number;
}

export interface DkvWriteOp {
  readonly kind: 'write';
  readonly client: string;
  readonly key: string;
  /** null: a delete. */
  readonly value: string | null;
  /** The context the client sent: what the write claims to supersede. */
  readonly contextIn: DkvVersionVector;
  readonly startMs: number;
  readonly endMs: number;
  /** ok: acknowledged by W replicas; fail and unknown: may or may not have been applied. */
  readonly outcome: 'ok' | 'fail' | 'unknown';
  /** The new version's dot, when the store said (ok outcomes). */
  readonly dot: DkvDot | null;
  /** The context the store returned (ok outcomes). */
  readonly contextOut: DkvVersionVector | null;
  /**
   * The live values the answer returned with that context (ok outcomes; the store returns every
   * version its context covers). When present, the client saw what contextOut covers.
   */
  readonly valuesOut?: readonly string[];
}

export interface DkvReadOp {
  readonly kind: 'read';
  readonly client: string;
  readonly key: string;
  readonly startMs: number;
  readonly endMs: number;
  readonly outcome: 'ok' | 'fail' | 'unknown';
  /** Live values read (empty: not found). */
  readonly values: readonly string[];
  /** The context returned: every version the read saw. */
  readonly context: DkvVersionVector | null;
}

export type DkvOp = DkvWriteOp | DkvReadOp;

export interface DkvSibling {
  readonly dot: DkvDot;
  /** null: a tombstone. */
  readonly value: string | null;
}

/** A replica's copy of a key at the end of a run; absent copies are simply not listed. */
export interface DkvReplicaState {
  readonly node: string;
  readonly key: string;
  readonly vv: DkvVersionVector;
  readonly siblings: readonly DkvSibling[];
}

export function counterOf(vv: DkvVersionVector, actor: string): number {
  for (const [a, c] of vv) if (a === actor) return c;
  return 0;
}

export function vvCovers(vv: DkvVersionVector, dot: DkvDot): boolean {
  return counterOf(vv, dot.actor) >= dot.counter;
}

export function dotText(dot: DkvDot): string {
  return `${dot.actor}:${dot.counter}`;
}
