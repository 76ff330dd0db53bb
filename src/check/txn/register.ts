// Read-write register inference: a read of a value points at its unique writer (wr); version
// order is known only where it is sound to infer (the initial nil comes first; a transaction that
// read v and then wrote w installs w after v), giving the ww and rw edges of those pairs only.
import type { JsonValue } from '../../core/index.js';
import { atomOf, show, type Atom, type Inference } from './infer.js';
import { RW, WR, WW, type Txn } from './types.js';

interface ExternalRead {
  readonly txn: Txn;
  readonly value: JsonValue;
  readonly atom: Atom;
}

interface KeyState {
  readonly id: number;
  readonly key: JsonValue;
  readonly writer: Map<Atom, Txn>;
  readonly failedWriter: Map<Atom, Txn>;
  readonly ambiguous: Set<Atom>;
  /** Each writer's final value for this key (earlier writes of it are intermediate). */
  readonly finalWrite: Map<Txn, Atom>;
  /** Reads of a version another transaction installed (the first read before any own write). */
  readonly reads: ExternalRead[];
  /** ok transactions whose final write follows their external read of this key. */
  readonly readThenWrite: { txn: Txn; read: ExternalRead; wrote: JsonValue }[];
  /** ok transactions that wrote this key, with their final value. */
  readonly okWriters: { txn: Txn; value: JsonValue }[];
}

const NIL: Atom = null;
/** Most rw edges one key adds from readers of the initial nil to its writers. */
const MAX_INITIAL_EDGES_PER_KEY = 100_000;

export function inferRegister(inf: Inference): void {
  const keys = new Map<Atom, KeyState>();
  const stateOf = (key: JsonValue): KeyState => {
    const atom = atomOf(key);
    let s = keys.get(atom);
    if (s === undefined) {
      s = { id: inf.keyId(key), key, writer: new Map(), failedWriter: new Map(), ambiguous: new Set(), finalWrite: new Map(), reads: [], readThenWrite: [], okWriters: [] };
      keys.set(atom, s);
    }
    return s;
  };
  for (const t of inf.history.txns) collect(inf, t, stateOf);
  for (const s of keys.values()) inferKey(inf, s);
}

function collect(inf: Inference, t: Txn, stateOf: (key: JsonValue) => KeyState): void {
  const local = new Map<KeyState, { known: boolean; value: JsonValue; wrote: boolean; read: ExternalRead | null }>();
  for (const m of t.mops) {
    if (m.f === 'append') throw inf.badOp(t, 'an append in a read-write register history (use --model txn-append)');
    const s = stateOf(m.key);
    let l = local.get(s);
    if (l === undefined) local.set(s, (l = { known: false, value: null, wrote: false, read: null }));
    if (m.f === 'w') {
      const atom = atomOf(m.value);
      if (m.value === null) inf.notes.push(`T${t.index} writes nil to key ${show(m.key)}; nil is the initial value, so that write is not used`);
      else if (t.outcome === 'fail') s.failedWriter.set(atom, t);
      else if (s.ambiguous.has(atom) || (s.writer.has(atom) && s.writer.get(atom) !== t)) {
        if (!s.ambiguous.has(atom)) inf.notes.push(`${show(m.value)} is written to key ${show(m.key)} by more than one transaction; reads of it are not used`);
        s.ambiguous.add(atom);
      } else s.writer.set(atom, t);
      if (t.outcome !== 'fail' && m.value !== null) s.finalWrite.set(t, atom);
      l.known = true;
      l.value = m.value;
      l.wrote = true;
      continue;
    }
    if (t.outcome !== 'ok') continue;
    if (l.known) {
      // after its own write, or an earlier read, a transaction must read the same value again
      if (atomOf(m.value) !== atomOf(l.value)) {
        inf.report('internal', [t], `T${t.index} read ${show(m.value)} of key ${show(m.key)}, but its own earlier operations imply ${show(l.value)}`, m.key);
      }
      continue;
    }
    const read: ExternalRead = { txn: t, value: m.value, atom: atomOf(m.value) };
    s.reads.push(read);
    l.read = read;
    l.known = true;
    l.value = m.value;
  }
  if (t.outcome !== 'ok') return;
  for (const [s, l] of local) {
    if (!l.wrote) continue;
    s.okWriters.push({ txn: t, value: l.value });
    if (l.read !== null) s.readThenWrite.push({ txn: t, read: l.read, wrote: l.value });
  }
}

function inferKey(inf: Inference, s: KeyState): void {
  const { edges } = inf;
  const k = s.key;
  const usable = (a: Atom): Txn | undefined => (s.ambiguous.has(a) ? undefined : s.writer.get(a));
  const readersOf = new Map<Atom, ExternalRead[]>();
  for (const r of s.reads) {
    let list = readersOf.get(r.atom);
    if (list === undefined) readersOf.set(r.atom, (list = []));
    list.push(r);
    if (r.value === null) continue;
    const w = usable(r.atom);
    if (w === undefined) {
      if (s.ambiguous.has(r.atom)) continue;
      const failed = s.failedWriter.get(r.atom);
      if (failed !== undefined) inf.report('G1a', [r.txn, failed], `T${r.txn.index} read ${show(r.value)} of key ${show(k)}, written by T${failed.index}, which failed`, k);
      else inf.report('garbage-read', [r.txn], `T${r.txn.index} read ${show(r.value)} of key ${show(k)}, which no transaction wrote`, k);
      continue;
    }
    if (w === r.txn) continue;
    if (s.finalWrite.get(w) !== r.atom) {
      inf.report('G1b', [r.txn, w], `T${r.txn.index} read ${show(r.value)} of key ${show(k)}, an intermediate write of T${w.index} (which wrote it again later)`, k);
    }
    edges.add(w.id, r.txn.id, WR, s.id, inf.valueId(r.value));
  }

  // the initial nil precedes every committed version: readers of nil anti-depend on every ok writer
  let budget = MAX_INITIAL_EDGES_PER_KEY;
  for (const r of readersOf.get(NIL) ?? []) {
    for (const w of s.okWriters) {
      if (w.txn !== r.txn && budget-- > 0) edges.add(r.txn.id, w.txn.id, RW, s.id, -1, inf.valueId(w.value));
    }
  }
  if (budget < 0) inf.notes.push(`key ${show(k)}: more than ${MAX_INITIAL_EDGES_PER_KEY} edges from readers of nil; the rest were not added`);

  // write follows read: T read v, then wrote w, so v precedes w
  const byVersion = new Map<Atom, Txn[]>();
  for (const { txn, read, wrote } of s.readThenWrite) {
    let list = byVersion.get(read.atom);
    if (list === undefined) byVersion.set(read.atom, (list = []));
    list.push(txn);
    if (read.value === null) continue;
    const w = usable(read.atom);
    if (w === undefined || w === txn) continue;
    edges.add(w.id, txn.id, WW, s.id, inf.valueId(read.value), inf.valueId(wrote));
    for (const other of readersOf.get(read.atom) ?? []) {
      if (other.txn !== txn && budget-- > 0) edges.add(other.txn.id, txn.id, RW, s.id, inf.valueId(read.value), inf.valueId(wrote));
    }
  }

  // lost update: two transactions read the same version and both wrote over it
  for (const [atom, txns] of byVersion) {
    if (txns.length < 2 || s.ambiguous.has(atom)) continue;
    const value = txns[0] === undefined ? null : (s.reads.find((r) => r.atom === atom)?.value ?? null);
    inf.report('lost-update', txns, `${txns.map((t) => `T${t.index}`).join(', ')} all read key ${show(k)} as ${show(value)} and then wrote it`, k);
  }
}
