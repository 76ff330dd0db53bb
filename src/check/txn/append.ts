// List-append inference: each key's version order is its longest read (every read must be a
// prefix of it), which gives ww edges between consecutive appends, wr edges to readers and rw
// edges from a reader to the appender of the next element; plus G1a, G1b, internal and the rest.
import type { JsonValue } from '../../core/index.js';
import { CheckError } from '../errors.js';
import { atomOf, show, type Atom, type Inference } from './infer.js';
import { RW, WR, WW, type Txn } from './types.js';

interface Read {
  readonly txn: Txn;
  readonly list: readonly JsonValue[];
  readonly atoms: readonly Atom[];
  /** Whether the transaction had appended to this key before this read. */
  readonly afterOwnAppend: boolean;
}

interface KeyState {
  readonly id: number;
  readonly key: JsonValue;
  /** Element → the (ok or info) transaction that appended it. */
  readonly writer: Map<Atom, Txn>;
  /** Element → a failed transaction that appended it. */
  readonly failedWriter: Map<Atom, Txn>;
  /** Elements appended more than once: their writer is ambiguous, so they are not used. */
  readonly ambiguous: Set<Atom>;
  /** Each writer's last element appended to this key (later ones make earlier ones intermediate). */
  readonly lastAppend: Map<Txn, Atom>;
  readonly reads: Read[];
  /** Transactions that read this key before appending to it, then appended (lost-update candidates). */
  readonly readThenAppend: { txn: Txn; read: Read }[];
}

/** Most rw/ww edges one key adds for appends no read has seen (readers × unseen writers). */
const MAX_UNSEEN_EDGES_PER_KEY = 100_000;

function listOf(value: JsonValue, txn: Txn): readonly JsonValue[] {
  if (value === null) return [];
  if (!Array.isArray(value)) throw new CheckError('BAD_OP', `T${txn.index}: a list-append read must return a list or nil, not ${show(value)}`);
  return value;
}

export function inferListAppend(inf: Inference): void {
  const keys = new Map<Atom, KeyState>();
  const stateOf = (key: JsonValue): KeyState => {
    const atom = atomOf(key);
    let s = keys.get(atom);
    if (s === undefined) {
      s = { id: inf.keyId(key), key, writer: new Map(), failedWriter: new Map(), ambiguous: new Set(), lastAppend: new Map(), reads: [], readThenAppend: [] };
      keys.set(atom, s);
    }
    return s;
  };

  for (const t of inf.history.txns) {
    if (t.mops.some((m) => m.f === 'w')) throw inf.badOp(t, 'a write (:w) in a list-append history (use --model txn-rw)');
    collect(inf, t, stateOf);
  }
  for (const s of keys.values()) inferKey(inf, s);
}

/** Records a transaction's appends and reads, and checks it against itself (internal, future reads). */
function collect(inf: Inference, t: Txn, stateOf: (key: JsonValue) => KeyState): void {
  // per key: what this transaction must see next, as a whole list or as a known suffix
  const expect = new Map<KeyState, { full: Atom[] | null; suffix: Atom[]; firstRead: Read | null; appended: boolean }>();
  t.mops.forEach((m, i) => {
    const s = stateOf(m.key);
    let e = expect.get(s);
    if (e === undefined) expect.set(s, (e = { full: null, suffix: [], firstRead: null, appended: false }));
    if (m.f === 'append') {
      const atom = atomOf(m.value);
      if (t.outcome === 'fail') s.failedWriter.set(atom, t);
      else if (s.writer.has(atom) || s.ambiguous.has(atom)) {
        if (!s.ambiguous.has(atom)) inf.notes.push(`${show(m.value)} is appended to key ${show(m.key)} more than once; appends of it are not used`);
        s.ambiguous.add(atom);
      } else s.writer.set(atom, t);
      if (t.outcome !== 'fail') s.lastAppend.set(t, atom);
      if (e.full !== null) e.full.push(atom);
      else e.suffix.push(atom);
      if (!e.appended && e.firstRead !== null && t.outcome === 'ok') s.readThenAppend.push({ txn: t, read: e.firstRead });
      e.appended = true;
      return;
    }
    if (t.outcome !== 'ok') return;
    const list = listOf(m.value, t);
    const atoms = list.map(atomOf);
    const read: Read = { txn: t, list, atoms, afterOwnAppend: e.appended };
    s.reads.push(read);
    if (e.firstRead === null && !e.appended) e.firstRead = read;
    if (e.full !== null) {
      if (!sameList(atoms, e.full)) inf.report('internal', [t], `T${t.index} read ${show(list)} of key ${show(m.key)}, but its own earlier operations imply ${showAtoms(e.full)}`, m.key);
    } else if (e.suffix.length > 0 && !endsWith(atoms, e.suffix)) {
      inf.report('internal', [t], `T${t.index} read ${show(list)} of key ${show(m.key)}, which does not end with its own appends ${show(suffixValues(t, s, i))}`, m.key);
    }
    e.full = atoms.slice();
    e.suffix = [];
    // an element this transaction appends only later cannot be visible yet
    for (let j = i + 1; j < t.mops.length; j++) {
      const later = t.mops[j]!;
      if (later.f === 'append' && atomOf(later.key) === atomOf(m.key) && atoms.includes(atomOf(later.value))) {
        inf.report('future-read', [t], `T${t.index} read ${show(list)} of key ${show(m.key)}, which holds ${show(later.value)}, an element it appends only later`, m.key);
        break;
      }
    }
  });
}

function sameList(a: readonly Atom[], b: readonly Atom[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function endsWith(a: readonly Atom[], suffix: readonly Atom[]): boolean {
  if (a.length < suffix.length) return false;
  const off = a.length - suffix.length;
  for (let i = 0; i < suffix.length; i++) if (a[off + i] !== suffix[i]) return false;
  return true;
}

/** The text of an expected list, reusing the read's values where they are the same atoms. */
function showAtoms(atoms: readonly Atom[]): string {
  return `[${atoms.map((a) => (typeof a === 'string' && a.startsWith('\u0000') ? a.slice(1) : show(a))).join(' ')}]`;
}

function suffixValues(t: Txn, s: KeyState, before: number): JsonValue[] {
  const out: JsonValue[] = [];
  // the appends to this key since the transaction's last read of it
  for (let j = before - 1; j >= 0; j--) {
    const m = t.mops[j]!;
    if (atomOf(m.key) !== atomOf(s.key)) continue;
    if (m.f === 'r') break;
    out.unshift(m.value);
  }
  return out;
}

function inferKey(inf: Inference, s: KeyState): void {
  const { edges } = inf;
  const k = s.key;
  // the version order: the longest read, which every other read must be a prefix of
  let longest: Read | null = null;
  let incompatible = false;
  // reads that disagreed with the longest read at the time they were compared
  const disagreeing = new Set<Read>();
  let longestDisagreed = false;
  for (const r of s.reads) {
    if (longest === null) {
      longest = r;
      continue;
    }
    const n = Math.min(r.atoms.length, longest.atoms.length);
    let agree = true;
    for (let i = 0; i < n; i++) {
      if (r.atoms[i] !== longest.atoms[i]) {
        agree = false;
        break;
      }
    }
    if (!agree) {
      if (!incompatible) {
        inf.report('incompatible-order', [longest.txn, r.txn], `reads of key ${show(k)} disagree on its order: T${longest.txn.index} read ${show(longest.list)} but T${r.txn.index} read ${show(r.list)}`, k);
      }
      incompatible = true;
      disagreeing.add(r);
    }
    if (r.atoms.length > longest.atoms.length) {
      longest = r;
      if (!agree) longestDisagreed = true;
    }
  }
  // a read that agreed with the longest read is its prefix, so it is judged by the longest read's
  // elements; the others (only in histories with incompatible orders) are judged element by element
  const prefixFacts = longest === null ? null : readFacts(s, longest);
  for (const r of s.reads) {
    if (prefixFacts !== null && !longestDisagreed && !disagreeing.has(r)) checkRead(inf, s, r, prefixFacts);
    else checkRead(inf, s, r, readFacts(s, r));
  }
  const order = longest?.atoms ?? [];
  const orderValues = longest?.list ?? [];
  const position = new Map<Atom, number>();
  order.forEach((a, i) => {
    if (!position.has(a)) position.set(a, i);
  });
  const writerAt = (i: number): Txn | undefined => {
    const a = order[i]!;
    return s.ambiguous.has(a) ? undefined : s.writer.get(a);
  };

  // ww: consecutive appends in the version order (skipping elements without a usable writer)
  let prev: Txn | undefined;
  let prevAt = -1;
  let failedSeen: Txn | undefined;
  for (let i = 0; i < order.length; i++) {
    const failed = s.failedWriter.get(order[i]!);
    if (failed !== undefined && !s.writer.has(order[i]!)) failedSeen ??= failed;
    const w = writerAt(i);
    if (w === undefined) continue;
    if (failedSeen !== undefined) {
      inf.report('dirty-update', [failedSeen, w], `key ${show(k)}: T${w.index} appended ${show(orderValues[i]!)} on top of a version holding an append of failed T${failedSeen.index}`, k);
      failedSeen = undefined;
    }
    if (prev !== undefined && prev !== w) edges.add(prev.id, w.id, WW, s.id, inf.valueId(orderValues[prevAt]!), inf.valueId(orderValues[i]!));
    prev = w;
    prevAt = i;
  }

  // appends of ok transactions that no read saw come after the whole observed order
  const unseen: { txn: Txn; value: JsonValue }[] = [];
  for (const [atom, w] of s.writer) {
    if (w.outcome === 'ok' && !position.has(atom) && !s.ambiguous.has(atom)) unseen.push({ txn: w, value: valueOfAtom(w, s, atom) });
  }
  let unseenBudget = MAX_UNSEEN_EDGES_PER_KEY;
  if (prev !== undefined) {
    for (const u of unseen) {
      if (u.txn !== prev && unseenBudget-- > 0) edges.add(prev.id, u.txn.id, WW, s.id, inf.valueId(orderValues[prevAt]!), inf.valueId(u.value));
    }
  }

  for (const r of s.reads) {
    const R = r.txn;
    // wr: from the writer of the last element this read saw that another transaction appended
    for (let i = r.atoms.length - 1; i >= 0; i--) {
      const a = r.atoms[i]!;
      const w = s.ambiguous.has(a) ? undefined : s.writer.get(a);
      if (w === R) continue;
      if (w !== undefined) edges.add(w.id, R.id, WR, s.id, inf.valueId(r.list[i]!));
      break;
    }
    // rw: to the appender of the next element in the version order
    const last = r.atoms.length === 0 ? -1 : (position.get(r.atoms[r.atoms.length - 1]!) ?? -2);
    if (last === -2) continue;
    const from = last < 0 ? null : orderValues[last]!;
    let j = last + 1;
    for (; j < order.length; j++) {
      const w = writerAt(j);
      if (w === undefined) continue;
      if (w !== R) edges.add(R.id, w.id, RW, s.id, from === null ? -1 : inf.valueId(from), inf.valueId(orderValues[j]!));
      break;
    }
    if (j >= order.length) {
      for (const u of unseen) {
        if (u.txn !== R && unseenBudget-- > 0) edges.add(R.id, u.txn.id, RW, s.id, from === null ? -1 : inf.valueId(from), inf.valueId(u.value));
      }
    }
  }
  if (unseenBudget < 0) inf.notes.push(`key ${show(k)}: more than ${MAX_UNSEEN_EDGES_PER_KEY} edges to appends no read saw; the rest were not added`);

  // lost update: two transactions read the same version, and both appended to it
  const byVersion = new Map<string, Txn[]>();
  for (const { txn, read } of s.readThenAppend) {
    const sig = read.atoms.length === 0 ? '' : String(position.get(read.atoms[read.atoms.length - 1]!) ?? `?${read.atoms.length}`);
    const list = byVersion.get(sig);
    if (list === undefined) byVersion.set(sig, [txn]);
    else list.push(txn);
  }
  for (const [sig, txns] of byVersion) {
    if (txns.length < 2) continue;
    const seen = sig === '' ? [] : orderValues.slice(0, Number(sig) + 1);
    inf.report('lost-update', txns, `${txns.map((t) => `T${t.index}`).join(', ')} all read key ${show(k)} as ${show(seen)} and then appended to it`, k);
  }
}

function valueOfAtom(w: Txn, s: KeyState, atom: Atom): JsonValue {
  for (const m of w.mops) if (m.f === 'append' && atomOf(m.key) === atomOf(s.key) && atomOf(m.value) === atom) return m.value;
  return null;
}

/** Where a list first repeats an element, and first holds an element no ok or info transaction appended (-1: nowhere). */
interface ReadFacts {
  readonly duplicateAt: number;
  readonly badAt: number;
}

function readFacts(s: KeyState, r: Read): ReadFacts {
  const seen = new Set<Atom>();
  let duplicateAt = -1;
  let badAt = -1;
  for (let i = 0; i < r.atoms.length && (duplicateAt < 0 || badAt < 0); i++) {
    const a = r.atoms[i]!;
    if (duplicateAt < 0 && seen.has(a)) duplicateAt = i;
    seen.add(a);
    if (badAt < 0 && !s.writer.has(a)) badAt = i;
  }
  return { duplicateAt, badAt };
}

/** G1a, G1b, garbage and duplicate elements of one read (facts: of the read or of a list it is a prefix of). */
function checkRead(inf: Inference, s: KeyState, r: Read, facts: ReadFacts): void {
  const k = s.key;
  const R = r.txn;
  const n = r.atoms.length;
  if (facts.badAt >= 0 && facts.badAt < n) {
    const a = r.atoms[facts.badAt]!;
    const value = r.list[facts.badAt]!;
    const failed = s.failedWriter.get(a);
    if (failed !== undefined) inf.report('G1a', [R, failed], `T${R.index} read ${show(value)} of key ${show(k)}, appended by T${failed.index}, which failed`, k);
    else inf.report('garbage-read', [R], `T${R.index} read ${show(value)} of key ${show(k)}, which no transaction appended`, k);
  }
  if (facts.duplicateAt >= 0 && facts.duplicateAt < n) inf.report('duplicate-elements', [R], `T${R.index} read ${show(r.list)} of key ${show(k)}, which holds an element more than once`, k);
  if (n === 0) return;
  const lastAtom = r.atoms[n - 1]!;
  const w = s.writer.get(lastAtom);
  if (w === undefined || w === R || s.ambiguous.has(lastAtom)) return;
  const final = s.lastAppend.get(w);
  if (final !== undefined && final !== lastAtom) {
    inf.report('G1b', [R, w], `T${R.index} read ${show(r.list)} of key ${show(k)}, ending in ${show(r.list[n - 1]!)}, an intermediate append of T${w.index} (which appended more to it later)`, k);
  }
}
