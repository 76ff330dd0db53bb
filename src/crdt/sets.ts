// Sets that merge without coordination: the grow-only G-Set (join = union), the 2P-Set (a G-Set of
// adds and a G-Set of removals, where a removal is forever), and the LWW-Element-Set (per element
// the latest add and remove stamps; present iff the add is later, and an add wins a tie).
import { compareHlcTimestamps, type HlcTimestamp } from '../clock/hlc.js';
import { failCrdt } from './errors.js';
import { compareLwwStamps, decodeLwwStamp, lwwStampFields, requireLwwStampArgument, type LwwStamp } from './registers.js';
import { MAX_ELEMENTS, MAX_TEXT_LENGTH, type CrdtType, type ReplicaId } from './types.js';

/** Sorted (code-unit order), distinct. */
export type GSetState = readonly string[];

/**
 * `removed` holds every element ever removed; `added` the elements added and never removed. An
 * element in both would read the same as one only in `removed` (a removal is forever), so it is kept
 * only there: the state is smaller and its text unique. Both sorted and distinct.
 */
export interface TwoPSetState {
  readonly added: readonly string[];
  readonly removed: readonly string[];
}

/** An element's latest add and latest remove, by (HLC stamp, replica); at least one is set. */
export interface LwwSetEntry {
  readonly element: string;
  readonly added: LwwStamp | null;
  readonly removed: LwwStamp | null;
}

/** Sorted by element (code-unit order), elements distinct. */
export type LwwElementSetState = readonly LwwSetEntry[];

// --- G-Set -----------------------------------------------------------------------------------

/** Adds `element` (any string up to MAX_TEXT_LENGTH); the delta is {element}. */
export function gSetAdd(state: GSetState, element: string): GSetState {
  requireElement(element);
  if (!hasSorted(state, element)) requireRoom(state.length);
  return [element];
}

export const G_SET: CrdtType<GSetState, ReadonlySet<string>> = {
  name: 'g-set',
  empty: () => [],
  join: (a, b) => checkSize(unionSorted(a, b)),
  value: (state) => new Set(state),
  decode: (value) => decodeElements(value, 'a g-set', MAX_ELEMENTS),
  canonical: (state) => JSON.stringify(state),
};

// --- 2P-Set ----------------------------------------------------------------------------------

/** Adds `element`; if it was ever removed (here or at any replica) it stays absent: removal is forever. */
export function twoPSetAdd(state: TwoPSetState, element: string): TwoPSetState {
  requireElement(element);
  if (!hasSorted(state.added, element) && !hasSorted(state.removed, element)) requireRoom(state.added.length + state.removed.length);
  return { added: [element], removed: [] };
}

/**
 * Removes `element` for good. Removing an element not (yet) present is allowed: the tombstone
 * pre-empts any add of it, earlier, concurrent or later, so the element can never appear.
 */
export function twoPSetRemove(state: TwoPSetState, element: string): TwoPSetState {
  requireElement(element);
  if (!hasSorted(state.added, element) && !hasSorted(state.removed, element)) requireRoom(state.added.length + state.removed.length);
  return { added: [], removed: [element] };
}

function normaliseTwoP(added: readonly string[], removed: readonly string[]): TwoPSetState {
  return { added: added.filter((e) => !hasSorted(removed, e)), removed };
}

function joinTwoP(a: TwoPSetState, b: TwoPSetState): TwoPSetState {
  const removed = unionSorted(a.removed, b.removed);
  const added = unionSorted(a.added, b.added).filter((e) => !hasSorted(removed, e));
  return { added: checkSize(added, added.length + removed.length), removed };
}

function decodeTwoP(value: unknown): TwoPSetState {
  if (!isRecord(value) || !Array.isArray(value.added) || !Array.isArray(value.removed)) {
    failCrdt('CRDT_BAD_STATE', 'a 2p-set is an object {added, removed} of two lists of elements');
  }
  // one bound for both lists, checked before reading either
  if (value.added.length + value.removed.length > MAX_ELEMENTS) failCrdt('CRDT_BAD_STATE', `a 2p-set holds at most ${MAX_ELEMENTS} elements`);
  return normaliseTwoP(decodeElements(value.added, 'the added elements of a 2p-set', MAX_ELEMENTS), decodeElements(value.removed, 'the removed elements of a 2p-set', MAX_ELEMENTS));
}

export const TWO_P_SET: CrdtType<TwoPSetState, ReadonlySet<string>> = {
  name: '2p-set',
  empty: () => ({ added: [], removed: [] }),
  join: joinTwoP,
  value: (state) => new Set(state.added),
  decode: decodeTwoP,
  canonical: (state) => `{"added":${JSON.stringify(state.added)},"removed":${JSON.stringify(state.removed)}}`,
};

// --- LWW-Element-Set -------------------------------------------------------------------------

/**
 * Adds `element` at `stamp` (from the caller's HybridLogicalClock). The element is present while its
 * latest add's HLC stamp is later than or equal to its latest remove's: on an equal stamp the add
 * wins (add bias), whichever replicas made them. The replica id only orders two adds (or two
 * removes) with equal stamps, so that the state keeps the same one everywhere.
 */
export function lwwSetAdd(state: LwwElementSetState, replica: ReplicaId, stamp: HlcTimestamp, element: string): LwwElementSetState {
  return [lwwSetDelta(state, element, requireLwwStampArgument(replica, stamp), 'add')];
}

/**
 * Removes `element` at `stamp`: it is absent until an add with a stamp later than or equal to this
 * one arrives. Removing an element never added is allowed and hides any add with an earlier stamp,
 * even one delivered afterwards.
 */
export function lwwSetRemove(state: LwwElementSetState, replica: ReplicaId, stamp: HlcTimestamp, element: string): LwwElementSetState {
  return [lwwSetDelta(state, element, requireLwwStampArgument(replica, stamp), 'remove')];
}

function lwwSetDelta(state: LwwElementSetState, element: string, stamp: LwwStamp, kind: 'add' | 'remove'): LwwSetEntry {
  requireElement(element);
  if (entryIndex(state, element) < 0) requireRoom(state.length);
  return kind === 'add' ? { element, added: stamp, removed: null } : { element, added: null, removed: stamp };
}

export function isLwwSetEntryPresent(entry: LwwSetEntry): boolean {
  return entry.added !== null && (entry.removed === null || compareHlcTimestamps(entry.added.stamp, entry.removed.stamp) >= 0);
}

function laterStamp(a: LwwStamp | null, b: LwwStamp | null): LwwStamp | null {
  if (a === null) return b;
  if (b === null) return a;
  return compareLwwStamps(a, b) >= 0 ? a : b;
}

/** Per element, the later add and the later remove, by a merge of the two sorted lists. */
function joinLwwSets(a: LwwElementSetState, b: LwwElementSetState): LwwElementSetState {
  const out: LwwSetEntry[] = [];
  let i = 0;
  let j = 0;
  // every pass consumes at least one entry of a or b: at most a.length + b.length passes
  while (i < a.length || j < b.length) {
    const x = a[i];
    const y = b[j];
    const order = x === undefined ? 1 : y === undefined ? -1 : compareText(x.element, y.element);
    if (order < 0) {
      out.push(x as LwwSetEntry);
      i++;
    } else if (order > 0) {
      out.push(y as LwwSetEntry);
      j++;
    } else {
      const [p, q] = [x as LwwSetEntry, y as LwwSetEntry];
      out.push({ element: p.element, added: laterStamp(p.added, q.added), removed: laterStamp(p.removed, q.removed) });
      i++;
      j++;
    }
  }
  return checkSize(out);
}

function decodeLwwSet(value: unknown): LwwElementSetState {
  const what = 'an lww-element-set';
  const entries = listOf(value, what, MAX_ELEMENTS).map((entry) => decodeLwwEntry(entry, what));
  entries.sort((x, y) => compareText(x.element, y.element));
  for (let k = 1; k < entries.length; k++) {
    const element = (entries[k] as LwwSetEntry).element;
    if ((entries[k - 1] as LwwSetEntry).element === element) failCrdt('CRDT_BAD_STATE', `${what} lists element ${JSON.stringify(element)} twice`);
  }
  return entries;
}

function decodeLwwEntry(entry: unknown, what: string): LwwSetEntry {
  if (!isRecord(entry)) failCrdt('CRDT_BAD_STATE', `an entry of ${what} is an object {element, added, removed}`);
  const element = decodeElement(entry.element, what);
  const added = entry.added === null ? null : decodeLwwStamp(entry.added, `the add of an element of ${what}`);
  const removed = entry.removed === null ? null : decodeLwwStamp(entry.removed, `the remove of an element of ${what}`);
  if (added === null && removed === null) failCrdt('CRDT_BAD_STATE', `an entry of ${what} has an add stamp, a remove stamp or both`);
  return { element, added, removed };
}

function lwwEntryText(entry: LwwSetEntry): string {
  const stamp = (s: LwwStamp | null): [number, number, string] | null => (s === null ? null : lwwStampFields(s));
  return JSON.stringify([entry.element, stamp(entry.added), stamp(entry.removed)]);
}

export const LWW_ELEMENT_SET: CrdtType<LwwElementSetState, ReadonlySet<string>> = {
  name: 'lww-element-set',
  empty: () => [],
  join: joinLwwSets,
  value: (state) => new Set(state.filter(isLwwSetEntryPresent).map((e) => e.element)),
  decode: decodeLwwSet,
  canonical: (state) => `[${state.map(lwwEntryText).join(',')}]`,
};

// --- sorted lists of elements ----------------------------------------------------------------

function entryIndex(state: LwwElementSetState, element: string): number {
  return binarySearch(state.length, (k) => compareText((state[k] as LwwSetEntry).element, element));
}

function hasSorted(list: readonly string[], element: string): boolean {
  return binarySearch(list.length, (k) => compareText(list[k] as string, element)) >= 0;
}

/** The index whose item compares 0, or -1; `compareAt(k)` compares item k with the target. */
function binarySearch(length: number, compareAt: (k: number) => number): number {
  let lo = 0;
  let hi = length;
  // the range halves every pass: at most log2(length) + 1 passes
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const order = compareAt(mid);
    if (order === 0) return mid;
    if (order < 0) lo = mid + 1;
    else hi = mid;
  }
  return -1;
}

function unionSorted(a: readonly string[], b: readonly string[]): string[] {
  const out: string[] = [];
  let i = 0;
  let j = 0;
  // every pass consumes at least one item of a or b: at most a.length + b.length passes
  while (i < a.length || j < b.length) {
    const x = a[i];
    const y = b[j];
    const order = x === undefined ? 1 : y === undefined ? -1 : compareText(x, y);
    out.push((order <= 0 ? x : y) as string);
    if (order <= 0) i++;
    if (order >= 0) j++;
  }
  return out;
}

function decodeElements(value: unknown, what: string, max: number): string[] {
  const elements = listOf(value, what, max).map((e) => decodeElement(e, what));
  elements.sort(compareText);
  for (let k = 1; k < elements.length; k++) {
    if (elements[k - 1] === elements[k]) failCrdt('CRDT_BAD_STATE', `${what} lists ${JSON.stringify(elements[k])} twice`);
  }
  return elements;
}

function decodeElement(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length > MAX_TEXT_LENGTH) failCrdt('CRDT_BAD_STATE', `an element of ${what} is a string of at most ${MAX_TEXT_LENGTH} characters`);
  return value;
}

function listOf(value: unknown, what: string, max: number): unknown[] {
  if (!Array.isArray(value) || value.length > max) failCrdt('CRDT_BAD_STATE', `${what} is a list of at most ${max} items`);
  return value as unknown[];
}

// --- bounds and arguments --------------------------------------------------------------------

/** Two valid states can join past MAX_ELEMENTS: refused, so every state a replica holds decodes. */
function checkSize<L extends readonly unknown[]>(joined: L, size = joined.length): L {
  if (size > MAX_ELEMENTS) failCrdt('CRDT_BAD_STATE', `the joined set would hold more than ${MAX_ELEMENTS} elements`);
  return joined;
}

function requireRoom(size: number): void {
  if (size >= MAX_ELEMENTS) failCrdt('CRDT_INVALID_ARGUMENT', `the set already holds ${MAX_ELEMENTS} elements; a new one cannot be added`);
}

function requireElement(element: unknown): void {
  if (typeof element !== 'string' || element.length > MAX_TEXT_LENGTH) failCrdt('CRDT_INVALID_ARGUMENT', `an element is a string of at most ${MAX_TEXT_LENGTH} characters`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
