// The causal kernel of delta-state CRDTs (Almeida, Shoker and Baquero 2018): dots, causal contexts,
// dot stores (DotSet, DotFun, DotMap) and the one generic join that makes a remove cost only its
// dots in the context, never a tombstone per element. All kept canonical: equal states, equal text.
import { failCrdt } from './errors.js';
import { MAX_ELEMENTS, MAX_REPLICAS, MAX_TEXT_LENGTH, type CrdtType, type ReplicaId } from './types.js';

/** The `counter`-th event of `replica` (counters start at 1). A pair, not an object, so a delta stays a few dozen bytes. */
export type Dot = readonly [replica: ReplicaId, counter: number];

/** A version vector entry: every dot of `replica` from 1 up to `counter`. */
export type VvEntry = readonly [replica: ReplicaId, counter: number];

/** The dots a state has seen: those the version vector covers, plus the cloud. */
export interface CausalContext {
  /** Sorted by replica, distinct, counters >= 1. */
  readonly vv: readonly VvEntry[];
  /** Sorted, distinct dots beyond the vv; compacted: none is the next counter after its replica's vv entry. */
  readonly cloud: readonly Dot[];
}

/** A causal CRDT state: a dot store and the context of every dot it has seen (its own dots included). */
export interface Causal<T> {
  readonly entries: T;
  readonly context: CausalContext;
}

// --- order and lookup ------------------------------------------------------------------------

/** Code-unit order of strings: the order every sorted list of src/crdt uses. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Dots by replica, then counter. */
export function compareDots(a: Dot, b: Dot): number {
  return compareText(a[0], b[0]) || a[1] - b[1];
}

/** Index of the first item of `sorted` that is not below `probe` (sorted.length if none). */
function lowerBound<E, P>(sorted: readonly E[], probe: P, compare: (item: E, probe: P) => number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compare(sorted[mid] as E, probe) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function vvCounter(vv: readonly VvEntry[], replica: ReplicaId): number {
  const entry = vv[lowerBound(vv, replica, (e, r) => compareText(e[0], r))];
  return entry !== undefined && entry[0] === replica ? entry[1] : 0;
}

/** The highest counter of `replica` in the cloud, 0 if it has none there. */
function lastCloudCounter(cloud: readonly Dot[], replica: ReplicaId): number {
  // the first dot of a later replica; the one before it is this replica's last, if any
  const after = lowerBound(cloud, replica, (d, r) => (compareText(d[0], r) <= 0 ? -1 : 1));
  const last = cloud[after - 1];
  return last !== undefined && last[0] === replica ? last[1] : 0;
}

/**
 * Walks two lists sorted by `compare` in step, calling `visit` once per distinct item with the
 * item of each side that has it (`either` is whichever is present); keeps what `visit` returns.
 */
function mergeWalk<E, R>(a: readonly E[], b: readonly E[], compare: (x: E, y: E) => number, visit: (x: E | undefined, y: E | undefined, either: E) => R | undefined): R[] {
  const out: R[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = a[i];
    const y = b[j];
    const order = x === undefined ? 1 : y === undefined ? -1 : compare(x, y);
    const here = order <= 0 ? x : undefined;
    const there = order >= 0 ? y : undefined;
    const kept = visit(here, there, (here ?? there) as E);
    if (kept !== undefined) out.push(kept);
    if (order <= 0) i++;
    if (order >= 0) j++;
  }
  return out;
}

// --- causal contexts -------------------------------------------------------------------------

export function emptyContext(): CausalContext {
  return { vv: [], cloud: [] };
}

export function contextHas(cc: CausalContext, dot: Dot): boolean {
  if (dot[1] <= vvCounter(cc.vv, dot[0])) return true;
  const found = cc.cloud[lowerBound(cc.cloud, dot, compareDots)];
  return found !== undefined && compareDots(found, dot) === 0;
}

/** The dot of `replica`'s next event: one past the highest counter of it the context has seen. */
export function nextDot(cc: CausalContext, replica: ReplicaId): Dot {
  checkReplica(replica);
  const last = Math.max(vvCounter(cc.vv, replica), lastCloudCounter(cc.cloud, replica));
  if (last >= Number.MAX_SAFE_INTEGER) failCrdt('CRDT_BAD_STATE', `replica ${JSON.stringify(replica)} has used every counter`);
  return [replica, last + 1];
}

export function contextAdd(cc: CausalContext, dot: Dot): CausalContext {
  if (!isDot(dot)) failCrdt('CRDT_INVALID_ARGUMENT', 'a dot is [replica, counter] with a non-empty replica and a positive safe integer counter');
  return contextJoin(cc, { vv: [], cloud: [dot] });
}

/** The union of two contexts, compacted. */
export function contextJoin(a: CausalContext, b: CausalContext): CausalContext {
  const vv = mergeWalk(a.vv, b.vv, (x, y) => compareText(x[0], y[0]), (x, y, either) => (x !== undefined && y !== undefined && y[1] > x[1] ? y : either));
  return compact(vv, mergeWalk(a.cloud, b.cloud, compareDots, (_x, _y, either) => either));
}

/** The context of exactly `dots` (in any order, duplicates allowed): what a delta that replaces or removes them carries. */
export function contextOf(dots: readonly Dot[]): CausalContext {
  const sorted = [...dots].sort(compareDots).filter((d, i, all) => i === 0 || compareDots(all[i - 1] as Dot, d) !== 0);
  return compact([], sorted);
}

/**
 * Folds into the vv the cloud dots that extend it without a gap and drops those it already covers.
 * One pass suffices: the cloud is sorted, so a replica's dots come in counter order.
 */
function compact(vv: readonly VvEntry[], cloud: readonly Dot[]): CausalContext {
  const counters = new Map<ReplicaId, number>(vv);
  const rest: Dot[] = [];
  for (const dot of cloud) {
    const seen = counters.get(dot[0]) ?? 0;
    if (dot[1] === seen + 1) counters.set(dot[0], dot[1]);
    else if (dot[1] > seen) rest.push(dot);
  }
  // a Map keeps insertion order: the vv stays sorted unless the cloud brought a new replica
  const entries: VvEntry[] = [...counters];
  if (counters.size > vv.length) entries.sort((x, y) => compareText(x[0], y[0]));
  return { vv: entries, cloud: rest };
}

export function contextCanonical(cc: CausalContext): string {
  return JSON.stringify([cc.vv, cc.cloud]);
}

/** A context from outside: shape, bounds, sorted and distinct; compacted on the way in. */
export function decodeContext(value: unknown): CausalContext {
  if (!isRecord(value)) failBadState('a causal context is an object {vv, cloud}');
  const vv = listOf(value['vv'], MAX_REPLICAS, 'a version vector').map((e) => decodeDot(e, 'a version vector entry'));
  checkIncreasing(vv, (x, y) => compareText(x[0], y[0]), 'version vector replicas must be sorted and distinct');
  const cloud = listOf(value['cloud'], MAX_ELEMENTS, 'a dot cloud').map((e) => decodeDot(e, 'a dot'));
  checkIncreasing(cloud, compareDots, 'cloud dots must be sorted and distinct');
  const cc = compact(vv, cloud);
  if (cc.vv.length > MAX_REPLICAS) failBadState(`a causal context names at most ${MAX_REPLICAS} replicas in its version vector`);
  return cc;
}

// --- checks of what comes from outside ----------------------------------------------------------

/** Throws CRDT_BAD_STATE: what a decoder answers to anything malformed. */
export function failBadState(message: string): never {
  return failCrdt('CRDT_BAD_STATE', message);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isReplica(value: unknown): value is ReplicaId {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_TEXT_LENGTH;
}

function isDot(value: unknown): value is Dot {
  return Array.isArray(value) && value.length === 2 && isReplica(value[0]) && Number.isSafeInteger(value[1]) && (value[1] as number) >= 1;
}

function listOf(value: unknown, max: number, what: string): readonly unknown[] {
  if (!Array.isArray(value) || value.length > max) failBadState(`${what} is a list of at most ${max} items`);
  return value as unknown[];
}

function decodeDot(value: unknown, what: string): Dot {
  if (!isDot(value)) failBadState(`${what} is [replica, counter]: a replica of 1 to ${MAX_TEXT_LENGTH} characters, a positive safe integer counter`);
  return [value[0], value[1]];
}

/** A string of at most MAX_TEXT_LENGTH characters (an element, a key, a register value). */
export function decodeText(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length > MAX_TEXT_LENGTH) failBadState(`${what} is a string of at most ${MAX_TEXT_LENGTH} characters`);
  return value;
}

function checkIncreasing<E>(items: readonly E[], compare: (x: E, y: E) => number, message: string): void {
  for (let i = 1; i < items.length; i++) if (compare(items[i - 1] as E, items[i] as E) >= 0) failBadState(message);
}

/** Mutator argument: a replica id (non-empty, at most MAX_TEXT_LENGTH characters). */
export function checkReplica(replica: unknown): asserts replica is ReplicaId {
  if (!isReplica(replica)) failCrdt('CRDT_INVALID_ARGUMENT', `a replica id is a string of 1 to ${MAX_TEXT_LENGTH} characters`);
}

/** Mutator argument: an element, key or value (a string of at most MAX_TEXT_LENGTH characters). */
export function checkText(text: unknown, what: string): asserts text is string {
  if (typeof text !== 'string' || text.length > MAX_TEXT_LENGTH) failCrdt('CRDT_INVALID_ARGUMENT', `${what} is a string of at most ${MAX_TEXT_LENGTH} characters`);
}

// --- dot stores ------------------------------------------------------------------------------

/** Sorted, distinct dots (EW flag; an OR-Set element's adds). */
export type DotSet = readonly Dot[];
/** Sorted by dot, distinct: a value per dot (MV-register's writes, DW flag's operations). */
export type DotFun<V> = readonly (readonly [dot: Dot, value: V])[];
/** Sorted by key, distinct, no empty store: an embedded store per key, all sharing the state's one context. */
export type DotMap<T> = readonly (readonly [key: string, store: T])[];

/** What the generic causal join needs of a kind of dot store. Every store's bottom is the empty list. */
export interface DotStore<T> {
  empty(): T;
  isEmpty(store: T): boolean;
  /** The store of the joined state, given the stores and contexts of both sides. */
  join(a: T, b: T, seenByA: CausalContext, seenByB: CausalContext): T;
  /** Every dot the store holds (what a remove of the whole store puts in its context). */
  dots(store: T): Dot[];
  /** The store from outside: shape, bounds, sorted and distinct, no empty nested store. */
  decode(value: unknown): T;
}

/**
 * Joins two lists sorted by dot. The paper's rule: a dot survives when both sides hold it, or when
 * the side that lacks it has not seen it (had it seen it, lacking it means it was removed there).
 */
function joinByDot<E>(a: readonly E[], b: readonly E[], seenByA: CausalContext, seenByB: CausalContext, dotOf: (e: E) => Dot, both: (x: E, y: E) => E): E[] {
  return mergeWalk(a, b, (x, y) => compareDots(dotOf(x), dotOf(y)), (x, y) => {
    if (x !== undefined && y !== undefined) return both(x, y);
    if (x !== undefined) return contextHas(seenByB, dotOf(x)) ? undefined : x;
    return y !== undefined && !contextHas(seenByA, dotOf(y)) ? y : undefined;
  });
}

export const DOT_SET: DotStore<DotSet> = {
  empty: () => [],
  isEmpty: (store) => store.length === 0,
  join: (a, b, seenByA, seenByB) => joinByDot(a, b, seenByA, seenByB, (d) => d, (x) => x),
  dots: (store) => [...store],
  decode: (value) => {
    const dots = listOf(value, MAX_ELEMENTS, 'a dot set').map((d) => decodeDot(d, 'a dot'));
    checkIncreasing(dots, compareDots, 'a dot set must be sorted and distinct');
    return dots;
  },
};

/** The values a DotFun holds: JSON primitives, so the state's JSON text is canonical. */
export interface DotFunValues<V extends string | boolean> {
  decode(value: unknown): V;
  /** A total order: two states that disagree on a dot's value (only a corrupt peer makes them) keep the greater, so join stays a lattice. */
  compare(a: V, b: V): number;
}

export function dotFun<V extends string | boolean>(values: DotFunValues<V>): DotStore<DotFun<V>> {
  return {
    empty: () => [],
    isEmpty: (store) => store.length === 0,
    join: (a, b, seenByA, seenByB) => joinByDot(a, b, seenByA, seenByB, (e) => e[0], (x, y) => (values.compare(y[1], x[1]) > 0 ? y : x)),
    dots: (store) => store.map((e) => e[0]),
    decode: (value) => {
      const entries = listOf(value, MAX_ELEMENTS, 'a dot function').map((e): readonly [Dot, V] => {
        if (!Array.isArray(e) || e.length !== 2) failBadState('a dot function entry is [dot, value]');
        return [decodeDot(e[0], 'a dot'), values.decode(e[1])];
      });
      checkIncreasing(entries, (x, y) => compareDots(x[0], y[0]), 'dot function entries must be sorted by dot and distinct');
      return entries;
    },
  };
}

/** Binary search of a sorted map's key. */
export function dotMapGet<T>(map: DotMap<T>, key: string): T | undefined {
  const entry = map[lowerBound(map, key, (e, k) => compareText(e[0], k))];
  return entry !== undefined && entry[0] === key ? entry[1] : undefined;
}

export function dotMap<T>(inner: DotStore<T>): DotStore<DotMap<T>> {
  return {
    empty: () => [],
    isEmpty: (store) => store.length === 0,
    // every key is joined with the *whole* contexts: they are shared by all keys
    join: (a, b, seenByA, seenByB) =>
      mergeWalk(a, b, (x, y) => compareText(x[0], y[0]), (x, y, either) => {
        const store = inner.join(x?.[1] ?? inner.empty(), y?.[1] ?? inner.empty(), seenByA, seenByB);
        return inner.isEmpty(store) ? undefined : ([either[0], store] as const);
      }),
    dots: (store) => store.flatMap((e) => inner.dots(e[1])),
    decode: (value) => {
      const entries = listOf(value, MAX_ELEMENTS, 'a dot map').map((e): readonly [string, T] => {
        if (!Array.isArray(e) || e.length !== 2) failBadState('a dot map entry is [key, store]');
        const store = inner.decode(e[1]);
        if (inner.isEmpty(store)) failBadState('a dot map entry holds at least one dot');
        return [decodeText(e[0], 'a key'), store];
      });
      checkIncreasing(entries, (x, y) => compareText(x[0], y[0]), 'dot map keys must be sorted and distinct');
      return entries;
    },
  };
}

// --- causal CRDT types -------------------------------------------------------------------------

/** A CRDT type whose state is a dot store with its context; an OR-Map can embed it. */
export interface CausalType<T, V> extends CrdtType<Causal<T>, V> {
  readonly store: DotStore<T>;
  /** The value of a store alone (what an OR-Map shows for a key's embedded store). */
  valueOf(store: T): V;
}

/** The CrdtType of a dot store: bottom, the generic causal join, decode with the causal invariants. */
export function causalType<T, V>(name: string, store: DotStore<T>, valueOf: (store: T) => V): CausalType<T, V> {
  return {
    name,
    store,
    valueOf,
    empty: () => ({ entries: store.empty(), context: emptyContext() }),
    join: (a, b) => ({ entries: store.join(a.entries, b.entries, a.context, b.context), context: contextJoin(a.context, b.context) }),
    value: (state) => valueOf(state.entries),
    decode: (value) => decodeCausal(store, value),
    // the stores hold only arrays, strings, numbers and booleans: their JSON text is canonical
    canonical: (state) => JSON.stringify([state.entries, state.context.vv, state.context.cloud]),
  };
}

function decodeCausal<T>(store: DotStore<T>, value: unknown): Causal<T> {
  if (!isRecord(value)) failBadState('a causal state is an object {entries, context}');
  const context = decodeContext(value['context']);
  const entries = store.decode(value['entries']);
  checkDotsSeen(store.dots(entries), context);
  return { entries, context };
}

/** Invariants of a causal state: each dot appears once in the store, and the context has seen it. */
function checkDotsSeen(dots: readonly Dot[], context: CausalContext): void {
  if (dots.length > MAX_ELEMENTS) failBadState(`a state holds at most ${MAX_ELEMENTS} dots`);
  const seen = new Set<string>();
  for (const dot of dots) {
    if (!contextHas(context, dot)) failBadState(`dot ${JSON.stringify(dot)} is not covered by the state's context`);
    const key = JSON.stringify(dot);
    if (seen.has(key)) failBadState(`dot ${key} appears twice in the state`);
    seen.add(key);
  }
}

/** A delta that removes exactly `dots`: no entries, and the dots in its context. */
export function forgetDots(dots: readonly Dot[]): Causal<readonly never[]> {
  return { entries: [], context: contextOf(dots) };
}

/** A delta writing `value` under a fresh dot of `replica` that replaces every value `state` holds. */
export function dotFunWrite<V>(state: Causal<DotFun<V>>, replica: ReplicaId, value: V): Causal<DotFun<V>> {
  const dot = nextDot(state.context, replica);
  return { entries: [[dot, value]], context: contextOf([...state.entries.map((e) => e[0]), dot]) };
}
