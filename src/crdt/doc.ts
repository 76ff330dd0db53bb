// A document of named CRDTs — the replicated map an application keeps on gossip. Each entry is a
// counter (PN), a set (OR, add-wins), a register (multi-value) or a flag (enable-wins), keyed by
// name and kind, so that two replicas creating "likes" as different kinds never overwrite each
// other; the join is entry by entry, with the entry's own type. It is a CRDT itself (a product of
// lattices), so deltas, replication and the law tests apply to it unchanged.
import { checkReplica, compareText } from './causal.js';
import { PN_COUNTER, pnCounterDecrement, pnCounterIncrement, type PnCounterState } from './counters.js';
import { failCrdt } from './errors.js';
import { EW_FLAG, ewFlagDisable, ewFlagEnable, type EwFlagState } from './flags.js';
import { MV_REGISTER, mvWrite, type MvRegisterState } from './mv-register.js';
import { OR_SET, orSetAdd, orSetRemove, type OrSetState } from './or-set.js';
import type { CrdtType, ReplicaId } from './types.js';

export type DocKind = 'counter' | 'set' | 'register' | 'flag';
export const DOC_KINDS: readonly DocKind[] = ['counter', 'set', 'register', 'flag'];

/** A document holds at most this many entries (a peer's document past it is refused). */
export const MAX_DOC_ENTRIES = 10_000;
/** Longest entry name, in characters. */
export const MAX_DOC_NAME_LENGTH = 256;

interface KindStates {
  counter: PnCounterState;
  set: OrSetState;
  register: MvRegisterState;
  flag: EwFlagState;
}

/** One entry: its kind, its name and its state (of that kind's type). */
export type DocEntry = { readonly [K in DocKind]: readonly [kind: K, name: string, state: KindStates[K]] }[DocKind];

/** Entries sorted by name, then kind; a (name, kind) pair appears once. */
export interface CrdtDocState {
  readonly entries: readonly DocEntry[];
}

export type DocValue = number | string[] | boolean;

/** What an application reads: a counter's number, a set's sorted elements, a register's concurrent values, a flag. */
export interface DocEntryView {
  readonly kind: DocKind;
  readonly name: string;
  readonly value: DocValue;
}

/** A local change to one entry (mutators return the document delta). */
export type DocChange =
  | { readonly kind: 'counter'; readonly name: string; readonly action: 'incr' | 'decr'; readonly amount: number }
  | { readonly kind: 'set'; readonly name: string; readonly action: 'add' | 'remove'; readonly element: string }
  | { readonly kind: 'register'; readonly name: string; readonly action: 'set'; readonly value: string }
  | { readonly kind: 'flag'; readonly name: string; readonly action: 'enable' | 'disable' };

const TYPES: { readonly [K in DocKind]: CrdtType<KindStates[K], DocValue> } = { counter: PN_COUNTER, set: OR_SET, register: MV_REGISTER, flag: EW_FLAG };

function typeOf(kind: DocKind): CrdtType<unknown, DocValue> {
  return TYPES[kind] as CrdtType<unknown, DocValue>;
}

function compareEntries(a: DocEntry, b: DocEntry): number {
  return compareText(a[1], b[1]) || compareText(a[0], b[0]);
}

function joinDocs(a: CrdtDocState, b: CrdtDocState): CrdtDocState {
  if (b.entries.length === 0) return a;
  if (a.entries.length === 0) return b;
  const out: DocEntry[] = [];
  let i = 0;
  let j = 0;
  const x = a.entries;
  const y = b.entries;
  while (i < x.length || j < y.length) {
    const ea = x[i];
    const eb = y[j];
    const order = ea === undefined ? 1 : eb === undefined ? -1 : compareEntries(ea, eb);
    if (order < 0) {
      out.push(ea as DocEntry);
      i++;
    } else if (order > 0) {
      out.push(eb as DocEntry);
      j++;
    } else {
      const [kind, name, state] = ea as DocEntry;
      out.push([kind, name, typeOf(kind).join(state, (eb as DocEntry)[2])] as DocEntry);
      i++;
      j++;
    }
  }
  return { entries: out };
}

function decodeDoc(value: unknown): CrdtDocState {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) failCrdt('CRDT_BAD_STATE', 'a document is an object {entries}');
  const raw = (value as Record<string, unknown>)['entries'];
  if (!Array.isArray(raw)) failCrdt('CRDT_BAD_STATE', 'a document\'s entries are an array');
  if (raw.length > MAX_DOC_ENTRIES) failCrdt('CRDT_BAD_STATE', `a document holds at most ${MAX_DOC_ENTRIES} entries`);
  const entries: DocEntry[] = [];
  for (const item of raw as unknown[]) {
    if (!Array.isArray(item) || item.length !== 3) failCrdt('CRDT_BAD_STATE', 'a document entry is [kind, name, state]');
    const [kind, name, state] = item as unknown[];
    if (typeof kind !== 'string' || !(DOC_KINDS as readonly string[]).includes(kind)) failCrdt('CRDT_BAD_STATE', `an entry's kind is one of ${DOC_KINDS.join(', ')}`);
    if (!isName(name)) failCrdt('CRDT_BAD_STATE', `an entry's name is a string of 1 to ${MAX_DOC_NAME_LENGTH} characters`);
    const entry = [kind, name, typeOf(kind as DocKind).decode(state)] as DocEntry;
    const last = entries[entries.length - 1];
    if (last !== undefined && compareEntries(last, entry) >= 0) failCrdt('CRDT_BAD_STATE', 'a document\'s entries are sorted by name and kind, each once');
    entries.push(entry);
  }
  return { entries };
}

function isName(name: unknown): name is string {
  return typeof name === 'string' && name.length > 0 && name.length <= MAX_DOC_NAME_LENGTH;
}

export const CRDT_DOC: CrdtType<CrdtDocState, DocEntryView[]> = {
  name: 'doc',
  empty: () => ({ entries: [] }),
  join: joinDocs,
  value: (state) => state.entries.map(([kind, name, s]) => ({ kind, name, value: typeOf(kind).value(s) })),
  decode: decodeDoc,
  canonical: (state) => `[${state.entries.map(([kind, name, s]) => `[${JSON.stringify(kind)},${JSON.stringify(name)},${typeOf(kind).canonical(s)}]`).join(',')}]`,
};

/** The state of one entry, or undefined when the document has none of that name and kind. */
export function docEntry<K extends DocKind>(state: CrdtDocState, kind: K, name: string): KindStates[K] | undefined {
  let lo = 0;
  let hi = state.entries.length;
  const probe = [kind, name, null] as unknown as DocEntry;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const order = compareEntries(state.entries[mid] as DocEntry, probe);
    if (order === 0) return (state.entries[mid] as DocEntry)[2] as KindStates[K];
    if (order < 0) lo = mid + 1;
    else hi = mid;
  }
  return undefined;
}

/** The entries named `name` (every kind), or all of them. */
export function docRead(state: CrdtDocState, name?: string): DocEntryView[] {
  const views = CRDT_DOC.value(state);
  return name === undefined ? views : views.filter((v) => v.name === name);
}

/** What is wrong with a change from outside (a client), or undefined. */
export function docChangeProblem(change: unknown): string | undefined {
  if (typeof change !== 'object' || change === null || Array.isArray(change)) return 'a change is an object';
  const c = change as Record<string, unknown>;
  if (!isName(c['name'])) return `a name is a string of 1 to ${MAX_DOC_NAME_LENGTH} characters`;
  switch (c['kind']) {
    case 'counter':
      if (c['action'] !== 'incr' && c['action'] !== 'decr') return 'a counter\'s action is incr or decr';
      return Number.isSafeInteger(c['amount']) && (c['amount'] as number) > 0 ? undefined : 'amount is a positive safe integer';
    case 'set':
      if (c['action'] !== 'add' && c['action'] !== 'remove') return 'a set\'s action is add or remove';
      return typeof c['element'] === 'string' && c['element'].length <= 4096 ? undefined : 'element is a string of at most 4096 characters';
    case 'register':
      if (c['action'] !== 'set') return 'a register\'s action is set';
      return typeof c['value'] === 'string' && c['value'].length <= 4096 ? undefined : 'value is a string of at most 4096 characters';
    case 'flag':
      return c['action'] === 'enable' || c['action'] === 'disable' ? undefined : 'a flag\'s action is enable or disable';
    default:
      return `kind is one of ${DOC_KINDS.join(', ')}`;
  }
}

/** The document delta of `change` made at `replica`; join it into `state` and send it on. */
export function docMutate(state: CrdtDocState, replica: ReplicaId, change: DocChange): CrdtDocState {
  checkReplica(replica);
  if (!isName(change.name)) failCrdt('CRDT_INVALID_ARGUMENT', `a name is a string of 1 to ${MAX_DOC_NAME_LENGTH} characters`);
  let entry: DocEntry;
  switch (change.kind) {
    case 'counter': {
      const s = docEntry(state, 'counter', change.name) ?? PN_COUNTER.empty();
      entry = ['counter', change.name, change.action === 'incr' ? pnCounterIncrement(s, replica, change.amount) : pnCounterDecrement(s, replica, change.amount)];
      break;
    }
    case 'set': {
      const s = docEntry(state, 'set', change.name) ?? OR_SET.empty();
      entry = ['set', change.name, change.action === 'add' ? orSetAdd(s, replica, change.element) : orSetRemove(s, change.element)];
      break;
    }
    case 'register':
      entry = ['register', change.name, mvWrite(docEntry(state, 'register', change.name) ?? MV_REGISTER.empty(), replica, change.value)];
      break;
    case 'flag': {
      const s = docEntry(state, 'flag', change.name) ?? EW_FLAG.empty();
      entry = ['flag', change.name, change.action === 'enable' ? ewFlagEnable(s, replica) : ewFlagDisable(s)];
      break;
    }
  }
  if (docEntry(state, change.kind, change.name) === undefined && state.entries.length >= MAX_DOC_ENTRIES) {
    failCrdt('CRDT_INVALID_ARGUMENT', `the document holds ${MAX_DOC_ENTRIES} entries already`);
  }
  return { entries: [entry] };
}

/** Whether joining `delta` into `state` changes it: compares only the entries the delta touches. */
export function docGrows(state: CrdtDocState, delta: CrdtDocState): boolean {
  for (const [kind, name, s] of delta.entries) {
    const mine = docEntry(state, kind, name);
    const type = typeOf(kind);
    if (mine === undefined) return true;
    if (type.canonical(type.join(mine, s)) !== type.canonical(mine)) return true;
  }
  return false;
}
