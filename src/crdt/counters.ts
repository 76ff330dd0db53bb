// Counters that merge without coordination: a G-Counter keeps one count per replica and each
// replica raises only its own, so the pointwise maximum of two copies has seen every increment of
// both; a PN-Counter is two G-Counters, one of increments and one of decrements.
import { failCrdt } from './errors.js';
import { MAX_REPLICAS, MAX_TEXT_LENGTH, type CrdtType, type ReplicaId } from './types.js';

/** One replica's total: the sum of every increment that replica made. */
export type GCounterEntry = readonly [replica: ReplicaId, count: number];
/** Sorted by replica (code-unit order), replicas distinct, counts >= 1: an absent replica counts 0. */
export type GCounterState = readonly GCounterEntry[];

/** Value = sum(increments) - sum(decrements); each side is a G-Counter, so it only grows. */
export interface PnCounterState {
  readonly increments: GCounterState;
  readonly decrements: GCounterState;
}

// --- G-Counter -------------------------------------------------------------------------------

/**
 * Adds `amount` (a positive safe integer) to `replica`'s count. The delta is that replica's new
 * entry alone, whatever the number of replicas: joining it raises exactly that count.
 */
export function gCounterIncrement(state: GCounterState, replica: ReplicaId, amount = 1): GCounterState {
  requireReplicaArgument(replica);
  requireAmount(amount);
  const current = countOf(state, replica);
  if (current === 0 && state.length >= MAX_REPLICAS) {
    failCrdt('CRDT_INVALID_ARGUMENT', `the counter already holds ${MAX_REPLICAS} replicas; a new one cannot be added`);
  }
  // checking the total also bounds this replica's own count
  if (!Number.isSafeInteger(sumOf(state) + amount)) {
    failCrdt('CRDT_INVALID_ARGUMENT', `incrementing by ${amount} would take the counter past 2^53 - 1`);
  }
  return [[replica, current + amount]];
}

/** The count `replica` has contributed (0 when absent). */
export function countOf(state: GCounterState, replica: ReplicaId): number {
  for (const [r, count] of state) if (r === replica) return count;
  return 0;
}

function sumOf(state: GCounterState): number {
  let total = 0;
  for (const [, count] of state) total += count;
  return total;
}

/** Pointwise maximum by a merge of the two sorted lists. */
function joinCounts(a: GCounterState, b: GCounterState): GCounterState {
  const out: GCounterEntry[] = [];
  let i = 0;
  let j = 0;
  // every pass consumes at least one entry of a or b: at most a.length + b.length passes
  while (i < a.length || j < b.length) {
    const x = a[i];
    const y = b[j];
    const order = x === undefined ? 1 : y === undefined ? -1 : compareText(x[0], y[0]);
    if (order < 0) {
      out.push(x as GCounterEntry);
      i++;
    } else if (order > 0) {
      out.push(y as GCounterEntry);
      j++;
    } else {
      out.push((x as GCounterEntry)[1] >= (y as GCounterEntry)[1] ? (x as GCounterEntry) : (y as GCounterEntry));
      i++;
      j++;
    }
  }
  return checkJoined(out);
}

/** Two valid states can still join past the bounds (distinct replicas each near the limit): refused. */
function checkJoined(state: GCounterState): GCounterState {
  if (state.length > MAX_REPLICAS) failCrdt('CRDT_BAD_STATE', `the joined counter would hold more than ${MAX_REPLICAS} replicas`);
  if (!Number.isSafeInteger(sumOf(state))) failCrdt('CRDT_BAD_STATE', 'the joined counter would exceed 2^53 - 1');
  return state;
}

function decodeCounts(value: unknown, what: string): GCounterState {
  if (!Array.isArray(value) || value.length > MAX_REPLICAS) {
    failCrdt('CRDT_BAD_STATE', `${what} is a list of at most ${MAX_REPLICAS} [replica, count] pairs`);
  }
  const entries: GCounterEntry[] = [];
  for (const entry of value as unknown[]) entries.push(decodeEntry(entry, what));
  entries.sort((x, y) => compareText(x[0], y[0]));
  for (let k = 1; k < entries.length; k++) {
    const replica = (entries[k] as GCounterEntry)[0];
    if ((entries[k - 1] as GCounterEntry)[0] === replica) failCrdt('CRDT_BAD_STATE', `${what} lists replica ${JSON.stringify(replica)} twice`);
  }
  if (!Number.isSafeInteger(sumOf(entries))) failCrdt('CRDT_BAD_STATE', `${what} sums past 2^53 - 1`);
  // a zero count is the same lattice element as no entry: dropped, so the canonical text is unique
  return entries.filter(([, count]) => count > 0);
}

function decodeEntry(entry: unknown, what: string): GCounterEntry {
  if (!Array.isArray(entry) || entry.length !== 2) failCrdt('CRDT_BAD_STATE', `an entry of ${what} is a [replica, count] pair`);
  const [replica, count] = entry as unknown[];
  if (typeof replica !== 'string' || replica.length === 0 || replica.length > MAX_TEXT_LENGTH) {
    failCrdt('CRDT_BAD_STATE', `a replica id in ${what} is a string of 1 to ${MAX_TEXT_LENGTH} characters`);
  }
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) {
    failCrdt('CRDT_BAD_STATE', `a count in ${what} is a non-negative safe integer`);
  }
  return [replica, count];
}

function countsText(state: GCounterState): string {
  return JSON.stringify(state.map(([replica, count]) => [replica, count]));
}

export const G_COUNTER: CrdtType<GCounterState, number> = {
  name: 'g-counter',
  empty: () => [],
  join: joinCounts,
  value: sumOf,
  decode: (value) => decodeCounts(value, 'a g-counter'),
  canonical: countsText,
};

// --- PN-Counter ------------------------------------------------------------------------------

/** Adds `amount` (a positive safe integer); the delta carries only `replica`'s increments entry. */
export function pnCounterIncrement(state: PnCounterState, replica: ReplicaId, amount = 1): PnCounterState {
  return { increments: gCounterIncrement(state.increments, replica, amount), decrements: [] };
}

/** Subtracts `amount` (a positive safe integer); the delta carries only `replica`'s decrements entry. */
export function pnCounterDecrement(state: PnCounterState, replica: ReplicaId, amount = 1): PnCounterState {
  return { increments: [], decrements: gCounterIncrement(state.decrements, replica, amount) };
}

function decodePnCounter(value: unknown): PnCounterState {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    failCrdt('CRDT_BAD_STATE', 'a pn-counter is an object {increments, decrements}');
  }
  const { increments, decrements } = value as Record<string, unknown>;
  return { increments: decodeCounts(increments, 'the increments of a pn-counter'), decrements: decodeCounts(decrements, 'the decrements of a pn-counter') };
}

export const PN_COUNTER: CrdtType<PnCounterState, number> = {
  name: 'pn-counter',
  empty: () => ({ increments: [], decrements: [] }),
  join: (a, b) => ({ increments: joinCounts(a.increments, b.increments), decrements: joinCounts(a.decrements, b.decrements) }),
  // both sums are safe integers in [0, 2^53 - 1], so their difference is one too
  value: (state) => sumOf(state.increments) - sumOf(state.decrements),
  decode: decodePnCounter,
  canonical: (state) => `{"increments":${countsText(state.increments)},"decrements":${countsText(state.decrements)}}`,
};

// --- arguments -------------------------------------------------------------------------------

function requireReplicaArgument(replica: unknown): void {
  if (typeof replica !== 'string' || replica.length === 0 || replica.length > MAX_TEXT_LENGTH) {
    failCrdt('CRDT_INVALID_ARGUMENT', `a replica id is a string of 1 to ${MAX_TEXT_LENGTH} characters`);
  }
}

function requireAmount(amount: unknown): void {
  if (typeof amount !== 'number' || !Number.isSafeInteger(amount) || amount < 1) {
    failCrdt('CRDT_INVALID_ARGUMENT', `an amount is a positive safe integer, not ${String(amount)}`);
  }
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
