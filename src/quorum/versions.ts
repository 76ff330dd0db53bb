// What a replica stores per key, and how two replicas' copies merge. Plain buckets keep dotted
// version vectors (Preguiça, Baquero et al.): each write is a sibling named by a dot (actor,
// counter) next to the key's version vector, so a write supersedes exactly the siblings its
// context saw and concurrent writes stay side by side. LWW buckets keep one value, the highest
// HLC stamp winning; counter and OR-set buckets keep a CRDT state that merges without siblings.
// Every state is kept canonical (sorted), so equal states serialize to equal strings.
import { assertInvariant } from '../core/assert.js';
import { failQuorum } from './errors.js';
import { isCrdtError } from '../crdt/errors.js';
import { PN_COUNTER, pnCounterDecrement, pnCounterIncrement } from '../crdt/counters.js';

/** One actor's counter: an actor is a node id; its counters grow for the node's whole life. */
export type VvEntry = readonly [actor: string, counter: number];
/** Sorted by actor, counters >= 1. For each actor, covers every dot of that actor up to the counter. */
export type VersionVector = readonly VvEntry[];

export interface Dot {
  readonly actor: string;
  readonly counter: number;
}

/** One concurrent version; `value: null` is a tombstone (a delete that saw the siblings it replaced). */
export interface Sibling {
  readonly dot: Dot;
  readonly value: string | null;
}

export interface DvvState {
  readonly kind: 'dvv';
  readonly vv: VersionVector;
  /** Sorted by dot (actor, then counter). */
  readonly siblings: readonly Sibling[];
}

export interface LwwState {
  readonly kind: 'lww';
  /** The winning write's HLC timestamp, packed (48-bit ms, 16-bit logical) as a decimal string. */
  readonly stamp: string;
  readonly dot: Dot;
  readonly value: string | null;
}

/** A PN-counter (src/crdt's PN_COUNTER state, tagged): per actor, the total of its increments and of its decrements. */
export interface CounterState {
  readonly kind: 'counter';
  readonly increments: VersionVector;
  readonly decrements: VersionVector;
}

/** An add-wins observed-remove set: each present element with the dots of the adds that made it present. */
export interface OrSetState {
  readonly kind: 'orset';
  readonly vv: VersionVector;
  /** Sorted by element; each element's dots sorted. */
  readonly entries: readonly (readonly [element: string, dots: readonly Dot[]])[];
}

export type KeyState = DvvState | LwwState | CounterState | OrSetState;
export type StateKind = KeyState['kind'];

export const EMPTY_DVV: DvvState = { kind: 'dvv', vv: [], siblings: [] };
export const EMPTY_COUNTER: CounterState = { kind: 'counter', increments: [], decrements: [] };
export const EMPTY_ORSET: OrSetState = { kind: 'orset', vv: [], entries: [] };

// --- version vectors -------------------------------------------------------------------------

export function counterIn(vv: VersionVector, actor: string): number {
  for (const [a, c] of vv) if (a === actor) return c;
  return 0;
}

export function covers(vv: VersionVector, dot: Dot): boolean {
  return counterIn(vv, dot.actor) >= dot.counter;
}

/** The pointwise maximum of two version vectors. */
export function joinVv(a: VersionVector, b: VersionVector): VersionVector {
  const out = new Map<string, number>(a);
  for (const [actor, c] of b) out.set(actor, Math.max(c, out.get(actor) ?? 0));
  return sortVv(out);
}

export function withDot(vv: VersionVector, dot: Dot): VersionVector {
  return joinVv(vv, [[dot.actor, dot.counter]]);
}

/** True when `a` has seen everything `b` has (a >= b pointwise). */
export function vvDescends(a: VersionVector, b: VersionVector): boolean {
  return b.every(([actor, c]) => counterIn(a, actor) >= c);
}

function sortVv(entries: Map<string, number>): VersionVector {
  return [...entries].sort((x, y) => compareText(x[0], y[0]));
}

export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compareDots(a: Dot, b: Dot): number {
  return compareText(a.actor, b.actor) || a.counter - b.counter;
}

export function sameDot(a: Dot, b: Dot): boolean {
  return a.actor === b.actor && a.counter === b.counter;
}

// --- merging ---------------------------------------------------------------------------------

/** The state that has seen both: what a replica keeps after receiving another's copy. Commutative, associative, idempotent. */
export function mergeStates(a: KeyState, b: KeyState): KeyState {
  if (a.kind !== b.kind) failQuorum('QUORUM_BAD_MESSAGE', `cannot merge a ${a.kind} state with a ${b.kind} state`);
  switch (a.kind) {
    case 'dvv':
      return mergeDvv(a, b as DvvState);
    case 'lww':
      return lwwWins(a, b as LwwState) ? a : (b as LwwState);
    case 'counter':
      // the PN-counter of src/crdt: per actor the totals of its increments and decrements, joined by maximum
      return { kind: 'counter', ...crdtCall(() => PN_COUNTER.join(a, b as CounterState)) };
    case 'orset':
      return mergeOrSet(a, b as OrSetState);
  }
}

function mergeDvv(a: DvvState, b: DvvState): DvvState {
  // a sibling survives if the other side holds it too, or has not seen its dot (so cannot have replaced it)
  const kept: Sibling[] = a.siblings.filter((s) => !covers(b.vv, s.dot) || b.siblings.some((o) => sameDot(o.dot, s.dot)));
  for (const s of b.siblings) if (!covers(a.vv, s.dot)) kept.push(s);
  return { kind: 'dvv', vv: joinVv(a.vv, b.vv), siblings: kept.sort((x, y) => compareDots(x.dot, y.dot)) };
}

/** True when `a` wins over `b`: higher stamp; equal stamps (same HLC instant on two nodes) by dot. */
export function lwwWins(a: LwwState, b: LwwState): boolean {
  const sa = BigInt(a.stamp);
  const sb = BigInt(b.stamp);
  return sa > sb || (sa === sb && compareDots(a.dot, b.dot) >= 0);
}

function mergeOrSet(a: OrSetState, b: OrSetState): OrSetState {
  const inB = new Map(b.entries);
  const inA = new Map(a.entries);
  const elements = [...new Set<string>([...inA.keys(), ...inB.keys()])].sort(compareText);
  const entries: [string, Dot[]][] = [];
  for (const e of elements) {
    const da = inA.get(e) ?? [];
    const db = inB.get(e) ?? [];
    const kept = da.filter((d) => !covers(b.vv, d) || db.some((x) => sameDot(x, d)));
    for (const d of db) if (!covers(a.vv, d) && !kept.some((x) => sameDot(x, d))) kept.push(d);
    if (kept.length > 0) entries.push([e, kept.sort(compareDots)]);
  }
  return { kind: 'orset', vv: joinVv(a.vv, b.vv), entries };
}

// --- writes at the coordinator ---------------------------------------------------------------

/**
 * A write coordinated with dot `dot` by a client that had seen `context`: replaces exactly the
 * siblings the context covers. Throws QUORUM_SIBLING_LIMIT when more than `maxSiblings` would remain.
 */
export function writeDvv(local: DvvState, context: VersionVector, dot: Dot, value: string | null, maxSiblings: number): DvvState {
  assertInvariant(!covers(local.vv, dot), () => `new dot ${dot.actor}:${dot.counter} already seen by the key`);
  const kept = local.siblings.filter((s) => !covers(context, s.dot));
  if (kept.length + 1 > maxSiblings) {
    failQuorum('QUORUM_SIBLING_LIMIT', `the write would leave ${kept.length + 1} siblings (limit ${maxSiblings}): read the key and write with its context to resolve them`);
  }
  const siblings = [...kept, { dot, value }].sort((x, y) => compareDots(x.dot, y.dot));
  return { kind: 'dvv', vv: withDot(joinVv(local.vv, context), dot), siblings };
}

export function incrementCounter(local: CounterState, actor: string, delta: number): CounterState {
  assertInvariant(Number.isSafeInteger(delta) && delta !== 0, () => `counter delta ${delta}`);
  const change = crdtCall(() => (delta > 0 ? pnCounterIncrement(local, actor, delta) : pnCounterDecrement(local, actor, -delta)));
  return { kind: 'counter', ...crdtCall(() => PN_COUNTER.join(local, change)) };
}

/** A src/crdt call whose refusal (a bound passed, a bad argument) is the store's typed error, not a crash. */
function crdtCall<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (isCrdtError(err)) failQuorum(err.code === 'CRDT_BAD_STATE' ? 'QUORUM_BAD_MESSAGE' : 'QUORUM_BAD_REQUEST', err.message);
    throw err;
  }
}

export function orSetAdd(local: OrSetState, element: string, dot: Dot): OrSetState {
  // the add replaces the element's dots this replica has observed: they are in the vv, so merges drop them elsewhere too
  const entries = local.entries.filter(([e]) => e !== element).concat([[element, [dot]]]);
  return { kind: 'orset', vv: withDot(local.vv, dot), entries: entries.sort((x, y) => compareText(x[0], y[0])) };
}

/** Removes the adds of `element` this replica has observed; a concurrent add elsewhere survives (add wins). */
export function orSetRemove(local: OrSetState, element: string): OrSetState {
  return { ...local, entries: local.entries.filter(([e]) => e !== element) };
}

// --- reading -------------------------------------------------------------------------------

export interface ReadView {
  /** False when the key holds nothing but tombstones (or nothing). */
  readonly found: boolean;
  /** Plain buckets: the live siblings' values in dot order; LWW: the value; OR-set: the elements. */
  readonly values: readonly string[];
  /** Counter buckets: the count. */
  readonly count?: number;
  readonly siblings: number;
}

export function readView(state: KeyState): ReadView {
  switch (state.kind) {
    case 'dvv': {
      const live = state.siblings.filter((s) => s.value !== null).map((s) => s.value as string);
      return { found: live.length > 0, values: live, siblings: state.siblings.length };
    }
    case 'lww':
      return { found: state.value !== null, values: state.value === null ? [] : [state.value], siblings: 1 };
    case 'counter': {
      const total = (vv: VersionVector): number => vv.reduce((sum, [, c]) => sum + c, 0);
      return { found: true, values: [], count: total(state.increments) - total(state.decrements), siblings: 0 };
    }
    case 'orset':
      return { found: state.entries.length > 0, values: state.entries.map(([e]) => e), siblings: 0 };
  }
}

/** The version vector a client's context should carry after seeing `state`. */
export function contextVv(state: KeyState): VersionVector {
  return state.kind === 'dvv' || state.kind === 'orset' ? state.vv : [];
}

/** True when nothing but tombstones is left: the key may be collected after its grace period. */
export function isTombstoneOnly(state: KeyState): boolean {
  return (state.kind === 'dvv' && state.siblings.length > 0 && state.siblings.every((s) => s.value === null)) || (state.kind === 'lww' && state.value === null);
}

/** The largest counter `actor` has used in this state (to restart a node's dot counter above it). */
export function highestDotOf(state: KeyState, actor: string): number {
  switch (state.kind) {
    case 'dvv':
    case 'orset':
      return counterIn(state.vv, actor);
    case 'lww':
      return state.dot.actor === actor ? state.dot.counter : 0;
    case 'counter':
      return 0;
  }
}

/** The canonical text of a state: equal states, equal text (for digests and convergence checks), whatever order its fields arrived in. */
export function canonicalText(state: KeyState): string {
  const dot = (d: Dot): string => JSON.stringify([d.actor, d.counter]);
  const vv = (v: VersionVector): string => JSON.stringify(v.map(([a, c]) => [a, c]));
  switch (state.kind) {
    case 'dvv':
      return `dvv|${vv(state.vv)}|${state.siblings.map((s) => `${dot(s.dot)}=${JSON.stringify(s.value)}`).join(',')}`;
    case 'lww':
      return `lww|${state.stamp}|${dot(state.dot)}|${JSON.stringify(state.value)}`;
    case 'counter':
      return `counter|${vv(state.increments)}|${vv(state.decrements)}`;
    case 'orset':
      return `orset|${vv(state.vv)}|${state.entries.map(([e, ds]) => `${JSON.stringify(e)}=${ds.map(dot).join(';')}`).join(',')}`;
  }
}
