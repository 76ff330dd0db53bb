// Causal consistency of a leaderless store's history, judged per key from the contexts clients sent
// and got back: no read shows an effect without its cause, a version its own context omits, a version
// that a version it saw had replaced, or a value nobody wrote. Across keys, measured (not promised).
import { assertInvariant } from '../../core/assert.js';
import type { DkvDot, DkvReadOp, DkvVersionVector, DkvWriteOp } from './history.js';
import { counterOf, dotText, vvCovers } from './history.js';

/** A read that may also carry the dot of each value it returned (the store's answer does not yet). */
export interface DkvReadOpWithDots extends DkvReadOp {
  /** Same length and order as `values`: the dot of the sibling each value came from. */
  readonly valueDots?: readonly DkvDot[];
}

export type DkvCheckedOp = DkvWriteOp | DkvReadOpWithDots;

export interface DkvHistoryInput {
  /** The history; violations name operations by their index here. */
  readonly ops: readonly DkvCheckedOp[];
  /** Keys whose tombstones were collected during the run: their contexts restart from nothing, so they are skipped. */
  readonly collected?: ReadonlySet<string>;
}

/** At most this many violations are listed per kind (the counts stay exact). */
export const MAX_LISTED = 50;

// --- version vectors -------------------------------------------------------------------------

/** The first [actor, counter] of `need` that `have` does not cover, or null when `have` descends `need`. */
export function firstMissing(have: DkvVersionVector, need: DkvVersionVector): readonly [string, number] | null {
  for (const entry of need) if (counterOf(have, entry[0]) < entry[1]) return entry;
  return null;
}

/** A context as a map, for O(1) lookups when one context is compared with many vectors. */
export type VvMap = ReadonlyMap<string, number>;

export function vvMap(vv: DkvVersionVector): VvMap {
  return new Map(vv);
}

/** firstMissing with `have` as a map: O(|need|). */
export function firstMissingIn(have: VvMap, need: DkvVersionVector): readonly [string, number] | null {
  for (const entry of need) if ((have.get(entry[0]) ?? 0) < entry[1]) return entry;
  return null;
}

/** The pointwise maximum, kept sorted by actor like every version vector of the history. */
export function joinVv(a: DkvVersionVector, b: DkvVersionVector): DkvVersionVector {
  const out: (readonly [string, number])[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = a[i];
    const y = b[j];
    if (y === undefined || (x !== undefined && x[0] < y[0])) {
      out.push(x as readonly [string, number]);
      i++;
    } else if (x === undefined || y[0] < x[0]) {
      out.push(y);
      j++;
    } else {
      out.push(x[1] >= y[1] ? x : y);
      i++;
      j++;
    }
  }
  return out;
}

/** The history's promise about version vectors, on which every join and binary search here relies: sorted by actor, each once, counters >= 1. */
export function assertVv(vv: DkvVersionVector, what: () => string): void {
  for (let i = 0; i < vv.length; i++) {
    const [actor, counter] = vv[i] as readonly [string, number];
    const before = vv[i - 1];
    assertInvariant(Number.isSafeInteger(counter) && counter >= 1 && (before === undefined || before[0] < actor), () => `${what()} is not a version vector sorted by actor with counters >= 1: ${vvText(vv)}`);
  }
}

/** A version vector as text for messages: {n1:3,n2:1}. */
export function vvText(vv: DkvVersionVector): string {
  return `{${vv.map(([a, c]) => `${a}:${c}`).join(',')}}`;
}

/** The number of sorted `values` that are <= `limit`. */
export function upperBound(values: readonly number[], limit: number): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((values[mid] as number) <= limit) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// --- the history, indexed ------------------------------------------------------------------------

interface ActorDot {
  readonly counter: number;
  readonly write: number;
  /** The index of the next entry written by another client (the list's length if none). */
  nextOther: number;
}

/** Marks a value that more than one write wrote: reads of it cannot be attributed. */
export const AMBIGUOUS = -1;

export interface DotConflict {
  readonly key: string;
  readonly write: number;
  readonly related: number | null;
  readonly read: number | null;
  readonly message: string;
}

/** One pass over the history that every checker here shares: per-key lists, who wrote each value, each write's dot. */
export class IndexedHistory {
  readonly ops: readonly DkvCheckedOp[];
  /** Keys in sorted order (collected keys left out). */
  readonly keys: readonly string[];
  /** Per key, the indexes of reads answered ok with a context, in history order. */
  readonly readsOf = new Map<string, number[]>();
  /** Per key, the indexes of every write (any outcome), in history order. */
  readonly writesOf = new Map<string, number[]>();
  /** Ops left out: on collected keys, or reads without an ok answer. */
  readonly skippedOps: number;
  readonly conflicts: DotConflict[] = [];
  private readonly writerByValue = new Map<string, number>();
  private readonly keysOfValue = new Map<string, string>();
  /** Per write, the dots of its versions: the acknowledged one, and any reads reported (a write forwarded twice is applied twice). */
  private readonly dots = new Map<number, DkvDot[]>();
  private readonly writeByDot = new Map<string, number>();
  /** Per key and actor, every known dot by counter. */
  private readonly dotsByActor = new Map<string, ActorDot[]>();

  constructor(input: DkvHistoryInput) {
    this.ops = input.ops;
    let skipped = 0;
    const keys = new Set<string>();
    for (let i = 0; i < input.ops.length; i++) {
      const op = input.ops[i] as DkvCheckedOp;
      if (input.collected?.has(op.key) === true) {
        skipped++;
        continue;
      }
      keys.add(op.key);
      if (op.kind === 'read') {
        if (op.outcome !== 'ok' || op.context === null) {
          skipped++;
          continue;
        }
        assertInvariant(op.valueDots === undefined || op.valueDots.length === op.values.length, () => `read #${i} has ${op.values.length} values but ${op.valueDots?.length} value dots`);
        assertVv(op.context, () => `the context of read #${i}`);
        listOf(this.readsOf, op.key).push(i);
        continue;
      }
      assertVv(op.contextIn, () => `the context sent by write #${i}`);
      if (op.contextOut !== null) assertVv(op.contextOut, () => `the context returned to write #${i}`);
      listOf(this.writesOf, op.key).push(i);
      if (op.value !== null) {
        const name = valueName(op.key, op.value);
        this.writerByValue.set(name, this.writerByValue.has(name) ? AMBIGUOUS : i);
        if (!this.keysOfValue.has(op.value)) this.keysOfValue.set(op.value, op.key);
      }
      if (op.outcome === 'ok' && op.dot !== null) this.learnDot(i, op.dot, null);
    }
    // dots of writes whose answer was lost, as reads that returned their values report them
    for (const reads of this.readsOf.values()) {
      for (const r of reads) {
        const read = this.ops[r] as DkvReadOpWithDots;
        read.valueDots?.forEach((dot, j) => {
          const w = this.writerOf(read.key, read.values[j] as string);
          if (w !== undefined && w !== AMBIGUOUS) this.learnDot(w, dot, r);
        });
      }
    }
    this.keys = [...keys].sort();
    this.skippedOps = skipped;
    for (const [write, dots] of this.dots) for (const dot of dots) listOf(this.dotsByActor, `${(this.ops[write] as DkvWriteOp).key}\u0000${dot.actor}`).push({ counter: dot.counter, write, nextOther: 0 });
    for (const list of this.dotsByActor.values()) {
      list.sort((a, b) => a.counter - b.counter || a.write - b.write);
      // from the end: where the next entry written by another client than this one's is
      for (let i = list.length - 1; i >= 0; i--) {
        const e = list[i] as ActorDot;
        const next = list[i + 1];
        e.nextOther = next === undefined ? list.length : this.clientOf(next.write) !== this.clientOf(e.write) ? i + 1 : next.nextOther;
      }
    }
  }

  /** A version of `key` written by another client than `client` whose known dot of `actor` has a counter in (above, upTo]; undefined if none. O(log n). */
  othersVersionBetween(key: string, actor: string, above: number, upTo: number, client: string): { readonly write: number; readonly dot: DkvDot } | undefined {
    const list = this.dotsByActor.get(`${key}\u0000${actor}`);
    if (list === undefined) return undefined;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((list[mid] as ActorDot).counter <= above) lo = mid + 1;
      else hi = mid;
    }
    const first = list[lo];
    if (first === undefined) return undefined;
    const found = this.clientOf(first.write) !== client ? first : list[first.nextOther];
    return found !== undefined && found.counter <= upTo ? { write: found.write, dot: { actor, counter: found.counter } } : undefined;
  }

  private clientOf(op: number): string {
    return (this.ops[op] as DkvCheckedOp).client;
  }

  /** The index of the write of `value` to `key`; undefined: none; AMBIGUOUS: several. */
  writerOf(key: string, value: string): number | undefined {
    return this.writerByValue.get(valueName(key, value));
  }

  /** Some key `value` was written to (to say where a read of another key got it). */
  keyOfValue(value: string): string | undefined {
    return this.keysOfValue.get(value);
  }

  /** The dots of a write's versions: the one its answer carried, and those reads reported for its value (empty: none known). */
  dotsOf(write: number): readonly DkvDot[] {
    return this.dots.get(write) ?? [];
  }

  /** The write whose version `dot` names on `key`, when known. */
  writeOfDot(key: string, dot: DkvDot): number | undefined {
    return this.writeByDot.get(`${key}\u0000${dotText(dot)}`);
  }

  private learnDot(write: number, dot: DkvDot, read: number | null): void {
    const op = this.ops[write] as DkvWriteOp;
    const name = `${op.key}\u0000${dotText(dot)}`;
    const other = this.writeByDot.get(name);
    if (other === write) return;
    if (other !== undefined) {
      this.conflicts.push({ key: op.key, write, related: other, read, message: `dot ${dotText(dot)} names two writes: #${other} (${JSON.stringify((this.ops[other] as DkvWriteOp).value)}) and #${write} (${JSON.stringify(op.value)})` });
      return;
    }
    if (vvCovers(op.contextIn, dot)) {
      this.conflicts.push({ key: op.key, write, related: null, read, message: `write #${write} got dot ${dotText(dot)}, which its own context ${vvText(op.contextIn)} already covered (a reused dot)` });
    }
    listOf(this.dots, write).push(dot);
    this.writeByDot.set(name, write);
  }
}

function valueName(key: string, value: string): string {
  return `${key}\u0000${value}`;
}

export function listOf<K, V>(map: Map<K, V[]>, key: K): V[] {
  let list = map.get(key);
  if (list === undefined) map.set(key, (list = []));
  return list;
}

// --- what a read that saw a version must also have seen ----------------------------------------

/** A version (by dot) and what any read that saw it must also have seen. */
export interface CoverEntry {
  readonly dot: DkvDot;
  readonly need: DkvVersionVector;
  readonly op: number;
}

interface ActorList {
  readonly counters: number[];
  readonly ops: number[];
  readonly needs: DkvVersionVector[];
  /** prefix[i]: the join of needs[0..i]; it only grows with i, which makes both searches binary. */
  readonly prefix: DkvVersionVector[];
}

/**
 * Answers "does a context that covers some versions also cover what each of them needs?" in
 * O(A² log n) for A actors, not O(n): a context covers exactly the first entries of each actor's
 * list (sorted by counter), so the join of their needs is a prefix join.
 */
export class CoverIndex {
  private readonly lists = new Map<string, ActorList>();
  private readonly actors: readonly string[];

  constructor(entries: readonly CoverEntry[]) {
    const byActor = new Map<string, CoverEntry[]>();
    for (const e of entries) listOf(byActor, e.dot.actor).push(e);
    this.actors = [...byActor.keys()].sort();
    for (const actor of this.actors) {
      const list = (byActor.get(actor) as CoverEntry[]).sort((x, y) => x.dot.counter - y.dot.counter || x.op - y.op);
      const prefix: DkvVersionVector[] = [];
      let acc: DkvVersionVector = [];
      for (const e of list) prefix.push((acc = joinVv(acc, e.need)));
      this.lists.set(actor, { counters: list.map((e) => e.dot.counter), ops: list.map((e) => e.op), needs: list.map((e) => e.need), prefix });
    }
  }

  /** Some version `context` covers whose need it does not cover, with an [actor, counter] missing; null if none. */
  firstUnmet(context: VvMap): { readonly op: number; readonly missing: readonly [string, number] } | null {
    for (const actor of this.actors) {
      const list = this.lists.get(actor) as ActorList;
      const n = upperBound(list.counters, context.get(actor) ?? 0);
      if (n === 0 || firstMissingIn(context, list.prefix[n - 1] as DkvVersionVector) === null) continue;
      let lo = 0;
      let hi = n - 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (firstMissingIn(context, list.prefix[mid] as DkvVersionVector) !== null) hi = mid;
        else lo = mid + 1;
      }
      const missing = firstMissingIn(context, list.needs[lo] as DkvVersionVector);
      assertInvariant(missing !== null, () => `prefix join grew at entry ${lo} of ${actor} without its need being missing`);
      return { op: list.ops[lo] as number, missing };
    }
    return null;
  }

  /** Some version `context` covers whose need covers `dot` (a version that replaced it, if need is the write's context); null if none. */
  firstCovering(context: VvMap, dot: DkvDot): number | null {
    for (const actor of this.actors) {
      const list = this.lists.get(actor) as ActorList;
      const n = upperBound(list.counters, context.get(actor) ?? 0);
      if (n === 0 || !vvCovers(list.prefix[n - 1] as DkvVersionVector, dot)) continue;
      let lo = 0;
      let hi = n - 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (vvCovers(list.prefix[mid] as DkvVersionVector, dot)) hi = mid;
        else lo = mid + 1;
      }
      return list.ops[lo] as number;
    }
    return null;
  }
}

// --- the causal checker ---------------------------------------------------------------------

export type DkvCausalKind = 'thin-air' | 'future-read' | 'uncovered-value' | 'missing-cause' | 'superseded-value' | 'write-context' | 'context-gap' | 'dot-conflict';

export const DKV_CAUSAL_KINDS: readonly DkvCausalKind[] = ['thin-air', 'future-read', 'uncovered-value', 'missing-cause', 'superseded-value', 'write-context', 'context-gap', 'dot-conflict'];

export interface DkvCausalViolation {
  readonly kind: DkvCausalKind;
  readonly key: string;
  /** The read that showed it (null for write-context and some dot conflicts). */
  readonly read: number | null;
  /** The write whose version is concerned (the effect, the returned or the misnamed version). */
  readonly write: number | null;
  /** The other write involved when known: the missing cause, the replacing version, the dot's other holder. */
  readonly related: number | null;
  readonly message: string;
}

export interface DkvCrossKeyAnomaly {
  readonly client: string;
  /** The read that missed a version of its key that its client already depended on. */
  readonly read: number;
  readonly key: string;
  readonly missing: DkvDot;
  /** The read of another key through which the client came to depend on it, and the write it returned. */
  readonly via: number;
  readonly viaWrite: number;
  readonly message: string;
}

export interface DkvCrossKeyResult {
  /** False when the work budget ran out: anomalies then counts only what was judged before. */
  readonly complete: boolean;
  /** Reads judged. */
  readonly reads: number;
  /** Reads that missed a version they depended on through another key (exact while complete). */
  readonly anomalies: number;
  readonly examples: readonly DkvCrossKeyAnomaly[];
}

export interface DkvCausalResult {
  readonly ok: boolean;
  readonly violations: readonly DkvCausalViolation[];
  /** Per kind, the number of reads (writes, for write-context, context-gap and dot-conflict) showing it. */
  readonly counts: Readonly<Record<DkvCausalKind, number>>;
  readonly readsChecked: number;
  readonly writesChecked: number;
  readonly skippedOps: number;
  /**
   * Judged by value only, for reads without `valueDots`: a write forwarded twice is applied as two
   * versions of one value, so a returned value may be a version whose dot the history does not hold.
   * Probable problems, not proven ones; with `valueDots` they become violations.
   */
  readonly suspects: readonly DkvCausalViolation[];
  readonly suspectCounts: { readonly uncoveredValue: number; readonly supersededValue: number };
  /** Returned values without a reported dot whose write has no known dot either (its answer was lost): not judged for uncovered or superseded. */
  readonly unjudgedValues: number;
  /** Returned values that several writes wrote: not attributed, not judged. */
  readonly ambiguousValues: number;
  /** Across keys: what this store does not promise, measured. */
  readonly crossKey: DkvCrossKeyResult;
}

export interface DkvCausalOptions extends DkvHistoryInput {
  /** Work units (events, and entries of clients' pasts caught up on) the cross-key measure may spend; default 20,000,000. */
  readonly crossKeyBudget?: number;
}

const DEFAULT_CROSS_KEY_BUDGET = 20_000_000;

/**
 * Per-key causal consistency, O((R·A² + W·A) log W) for R reads, W writes, A actors per key, plus
 * the cross-key measure (bounded by its budget). Every check is explained in docs/dkv-checkers.md.
 */
export function checkDkvCausal(input: DkvCausalOptions): DkvCausalResult {
  const history = new IndexedHistory(input);
  const ops = history.ops;
  const violations: DkvCausalViolation[] = [];
  const counts = Object.fromEntries(DKV_CAUSAL_KINDS.map((k) => [k, 0])) as Record<DkvCausalKind, number>;
  const listed = Object.fromEntries(DKV_CAUSAL_KINDS.map((k) => [k, 0])) as Record<DkvCausalKind, number>;
  const report = (v: DkvCausalViolation): void => {
    counts[v.kind]++;
    if (listed[v.kind]++ < MAX_LISTED) violations.push(v);
  };
  for (const c of history.conflicts) report({ kind: 'dot-conflict', key: c.key, read: c.read, write: c.write, related: c.related, message: c.message });
  const suspects: DkvCausalViolation[] = [];
  const suspectCounts = { uncoveredValue: 0, supersededValue: 0 };
  const suspect = (v: DkvCausalViolation): void => {
    suspectCounts[v.kind === 'uncovered-value' ? 'uncoveredValue' : 'supersededValue']++;
    if (suspects.length < 2 * MAX_LISTED) suspects.push(v);
  };
  let readsChecked = 0;
  let writesChecked = 0;
  const tally: ReadTally = { unjudged: 0, ambiguous: 0 };
  for (const key of history.keys) {
    const writes = history.writesOf.get(key) ?? [];
    const entries: CoverEntry[] = [];
    for (const w of writes) {
      const write = ops[w] as DkvWriteOp;
      writesChecked++;
      checkWriteContext(history, w, write, report);
      for (const dot of history.dotsOf(w)) entries.push({ dot, need: write.contextIn, op: w });
    }
    const index = new CoverIndex(entries);
    for (const r of history.readsOf.get(key) ?? []) {
      readsChecked++;
      checkRead(history, index, r, report, suspect, tally);
    }
  }
  const crossKey = measureCrossKey(history, input.crossKeyBudget ?? DEFAULT_CROSS_KEY_BUDGET);
  return { ok: violations.length === 0, violations, counts, suspects, suspectCounts, readsChecked, writesChecked, skippedOps: history.skippedOps, unjudgedValues: tally.unjudged, ambiguousValues: tally.ambiguous, crossKey };
}

function checkWriteContext(history: IndexedHistory, w: number, write: DkvWriteOp, report: (v: DkvCausalViolation) => void): void {
  if (write.outcome !== 'ok' || write.dot === null || write.contextOut === null) return;
  const dot = write.dot;
  const missing = firstMissing(write.contextOut, joinVv(write.contextIn, [[dot.actor, dot.counter]]));
  if (missing !== null) {
    report({ kind: 'write-context', key: write.key, read: null, write: w, related: null, message: `write #${w} sent ${vvText(write.contextIn)} and got dot ${dotText(dot)}, but its answer ${vvText(write.contextOut)} does not cover ${missing[0]}:${missing[1]}` });
    return;
  }
  // what the answer covers beyond what the client sent, its own dot and its own writes, the client
  // never saw: its next write with this context would replace those versions unseen. An answer
  // that returned its values (valuesOut) showed the client every live version its context covers.
  if (write.valuesOut !== undefined) return;
  for (const [actor, counter] of write.contextOut) {
    const gap = history.othersVersionBetween(write.key, actor, counterOf(write.contextIn, actor), counter, write.client);
    if (gap === undefined) continue;
    const other = gap.write;
    const o = history.ops[other] as DkvWriteOp;
    report({
      kind: 'context-gap',
      key: write.key,
      read: null,
      write: w,
      related: other,
      message: `write #${w} sent ${vvText(write.contextIn)} and got ${vvText(write.contextOut)}, which also covers write #${other} by ${o.client} (${dotText(gap.dot)}, ${JSON.stringify(o.value)}), which this client never saw: a write with this context replaces it unseen`,
    });
    return;
  }
}

interface ReadTally {
  unjudged: number;
  ambiguous: number;
}

function checkRead(history: IndexedHistory, index: CoverIndex, r: number, report: (v: DkvCausalViolation) => void, suspect: (v: DkvCausalViolation) => void, tally: ReadTally): void {
  const ops = history.ops;
  const read = ops[r] as DkvReadOpWithDots;
  const context = read.context as DkvVersionVector;
  const lookup = vvMap(context);
  const flagged = new Set<string>();
  const once = (v: DkvCausalViolation, to: (v: DkvCausalViolation) => void = report): void => {
    const name = `${to === report ? 'v' : 's'}${v.kind}`;
    if (flagged.has(name)) return;
    flagged.add(name);
    to(v);
  };
  const returned: { readonly write: number; readonly dot: DkvDot | null }[] = [];
  read.values.forEach((value, j) => {
    const w = history.writerOf(read.key, value);
    if (w === undefined) {
      const elsewhere = history.keyOfValue(value);
      once({ kind: 'thin-air', key: read.key, read: r, write: null, related: null, message: `read #${r} returned ${JSON.stringify(value)}, which no write ${elsewhere === undefined ? 'ever wrote' : `wrote to ${read.key} (it was written to ${elsewhere})`}` });
      return;
    }
    if (w === AMBIGUOUS) {
      tally.ambiguous++;
      return;
    }
    const write = ops[w] as DkvWriteOp;
    if (write.startMs > read.endMs) once({ kind: 'future-read', key: read.key, read: r, write: w, related: null, message: `read #${r} (ended ${read.endMs} ms) returned ${JSON.stringify(value)}, written by #${w}, which started only at ${write.startMs} ms` });
    const dot = read.valueDots?.[j] ?? null;
    returned.push({ write: w, dot });
    if (dot === null) {
      // by value only: the sibling returned may be another version of the same write (applied twice), so these are suspects, not violations
      const known = history.dotsOf(w);
      if (known.length === 0) tally.unjudged++;
      else if (!known.some((d) => vvCovers(context, d))) once({ kind: 'uncovered-value', key: read.key, read: r, write: w, related: null, message: `read #${r} returned ${JSON.stringify(value)}, but its context ${vvText(context)} covers no known version of it (${known.map(dotText).join(', ')}): the context omits it, or the write was applied under a dot nobody reported` }, suspect);
    } else if (!vvCovers(context, dot)) {
      once({ kind: 'uncovered-value', key: read.key, read: r, write: w, related: null, message: `read #${r} returned ${JSON.stringify(value)} (${dotText(dot)}), but its context ${vvText(context)} does not cover that version` });
    }
  });
  // an effect without its cause: a version the read saw (by its dot, or by returning its value) was written by a client that had seen more than the read did
  let unmet = index.firstUnmet(lookup);
  for (let i = 0; unmet === null && i < returned.length; i++) {
    const w = (returned[i] as { readonly write: number }).write;
    const missing = firstMissingIn(lookup, (ops[w] as DkvWriteOp).contextIn);
    if (missing !== null) unmet = { op: w, missing };
  }
  if (unmet !== null) {
    const effect = ops[unmet.op] as DkvWriteOp;
    const related = history.writeOfDot(read.key, { actor: unmet.missing[0], counter: unmet.missing[1] }) ?? null;
    const cause = `${unmet.missing[0]}:${unmet.missing[1]}${related === null ? '' : ` (write #${related}, ${JSON.stringify((ops[related] as DkvWriteOp).value)})`}`;
    once({ kind: 'missing-cause', key: read.key, read: r, write: unmet.op, related, message: `read #${r} saw write #${unmet.op} (${JSON.stringify(effect.value)}), whose client had seen ${cause}, but the read's context ${vvText(context)} does not cover it` });
  }
  // a version returned although the read saw a version whose writer had seen it, and so replaced it
  const replacerOf = (w: number, dot: DkvDot): number | null => index.firstCovering(lookup, dot) ?? returned.find((o) => o.write !== w && vvCovers((ops[o.write] as DkvWriteOp).contextIn, dot))?.write ?? null;
  for (const { write: w, dot } of returned) {
    const value = JSON.stringify((ops[w] as DkvWriteOp).value);
    if (dot !== null) {
      const by = replacerOf(w, dot);
      if (by !== null) once({ kind: 'superseded-value', key: read.key, read: r, write: w, related: by, message: `read #${r} returned ${value} (${dotText(dot)}), which write #${by} (${JSON.stringify((ops[by] as DkvWriteOp).value)}) had replaced, and the read saw #${by}` });
      continue;
    }
    const known = history.dotsOf(w);
    if (known.length === 0) continue;
    const by = known.map((d) => replacerOf(w, d));
    if (by.every((b) => b !== null)) {
      const first = by[0] as number;
      once({ kind: 'superseded-value', key: read.key, read: r, write: w, related: first, message: `read #${r} returned ${value} (known as ${known.map(dotText).join(', ')}), which write #${first} (${JSON.stringify((ops[first] as DkvWriteOp).value)}) had replaced, and the read saw #${first}; unless the write was applied under a dot nobody reported` }, suspect);
    }
  }
}

// --- across keys: a measure --------------------------------------------------------------------

interface Learned {
  readonly counter: number;
  /** The read of another key through which the client came to depend on it, and the write that read returned. */
  readonly via: number;
  readonly viaWrite: number;
}

interface Event {
  readonly atMs: number;
  /** 0: start, 1: end; at equal times starts go first, so an op ending when another starts does not precede it. */
  readonly phase: 0 | 1;
  readonly op: number;
}

/**
 * Everything a client knows (its causal past, per key and actor), kept as a log of increases: a
 * write depends on a prefix of its writer's log, and a reader catches up on that prefix from where
 * it last stopped, so each entry of a log is read at most once per other client.
 */
class ClientPast {
  /** Per (key, actor) id, the highest counter known. */
  private readonly known: number[] = [];
  /** The log, as parallel columns of (key, actor) ids and counters: no record per entry to collect. */
  readonly logPairs: number[] = [];
  readonly logCounters: number[] = [];
  /** Per other client, how much of its log this one has caught up on. */
  private readonly cursors = new Map<string, number>();
  /** Per key, what the client depends on only through reads of other keys. */
  readonly via = new Map<string, Map<string, Learned>>();

  constructor(private readonly pairs: PairIds) {}

  private raise(pair: number, counter: number): boolean {
    if ((this.known[pair] ?? 0) >= counter) return false;
    this.known[pair] = counter;
    this.logPairs.push(pair);
    this.logCounters.push(counter);
    return true;
  }

  /** What the client's own read or write of `key` showed it: missing it later is a session matter (monotonic reads), not a cross-key one. */
  learnOwn(key: string, vv: DkvVersionVector): void {
    const mine = this.via.get(key);
    if (mine !== undefined) for (const [a, l] of [...mine]) if (counterOf(vv, a) >= l.counter) mine.delete(a);
    for (const [actor, counter] of vv) this.raise(this.pairs.id(key, actor), counter);
  }

  /** Catches up on `writer`'s log up to `upTo` (the write's dependencies), having read it on `readKey`; returns the entries read. */
  learnFrom(writer: ClientPast, writerName: string, upTo: number, readKey: string, via: number, viaWrite: number): number {
    const from = this.cursors.get(writerName) ?? 0;
    if (upTo <= from) return 0;
    for (let i = from; i < upTo; i++) {
      const pair = writer.logPairs[i] as number;
      const counter = writer.logCounters[i] as number;
      if (!this.raise(pair, counter)) continue;
      const [key, actor] = this.pairs.pair(pair);
      if (key === readKey) continue;
      let mine = this.via.get(key);
      if (mine === undefined) this.via.set(key, (mine = new Map()));
      if ((mine.get(actor)?.counter ?? 0) < counter) mine.set(actor, { counter, via, viaWrite });
    }
    this.cursors.set(writerName, upTo);
    return upTo - from;
  }
}

/** Small integer ids for (key, actor) pairs, shared by every client's past. */
class PairIds {
  private readonly ids = new Map<string, Map<string, number>>();
  private readonly pairs: (readonly [string, string])[] = [];

  id(key: string, actor: string): number {
    let byActor = this.ids.get(key);
    if (byActor === undefined) this.ids.set(key, (byActor = new Map()));
    let id = byActor.get(actor);
    if (id === undefined) {
      id = this.pairs.length;
      byActor.set(actor, id);
      this.pairs.push([key, actor]);
    }
    return id;
  }

  pair(id: number): readonly [string, string] {
    const p = this.pairs[id];
    assertInvariant(p !== undefined, () => `no (key, actor) pair has id ${id}`);
    return p;
  }
}

/**
 * Causality across keys, which this store does not track (contexts are per key): a client that
 * read a write of key y depends on everything its writer knew of other keys when it wrote; a later
 * read of such a key x by that client that misses a version of x it so depends on is an anomaly.
 * O(C · L) for C clients whose logs total L entries, capped by `budget` entries read.
 */
function measureCrossKey(history: IndexedHistory, budget: number): DkvCrossKeyResult {
  const ops = history.ops;
  const events: Event[] = [];
  for (const key of history.keys) {
    for (const i of [...(history.writesOf.get(key) ?? []), ...(history.readsOf.get(key) ?? [])]) {
      const op = ops[i] as DkvCheckedOp;
      events.push({ atMs: op.startMs, phase: 0, op: i }, { atMs: op.endMs, phase: 1, op: i });
    }
  }
  events.sort((a, b) => a.atMs - b.atMs || a.phase - b.phase || a.op - b.op);
  let work = 0;
  const clients = new Map<string, ClientPast>();
  const pairs = new PairIds();
  /** Per write, how much of its writer's log it depends on (the writer's past when it started). */
  const depsOf = new Map<number, number>();
  const examples: DkvCrossKeyAnomaly[] = [];
  let anomalies = 0;
  let reads = 0;
  for (const e of events) {
    if (work > budget) return { complete: false, reads, anomalies, examples };
    work++;
    const op = ops[e.op] as DkvCheckedOp;
    let client = clients.get(op.client);
    if (client === undefined) clients.set(op.client, (client = new ClientPast(pairs)));
    if (op.kind === 'write') {
      if (e.phase === 0) depsOf.set(e.op, client.logPairs.length);
      else if (op.outcome === 'ok' && op.contextOut !== null) client.learnOwn(op.key, op.contextOut);
      continue;
    }
    const context = op.context as DkvVersionVector;
    if (e.phase === 0) {
      reads++;
      for (const [actor, l] of client.via.get(op.key) ?? []) {
        if (counterOf(context, actor) >= l.counter) continue;
        anomalies++;
        const missing = { actor, counter: l.counter };
        if (examples.length < MAX_LISTED) {
          examples.push({ client: op.client, read: e.op, key: op.key, missing, via: l.via, viaWrite: l.viaWrite, message: `read #${e.op} of ${op.key} by ${op.client} misses ${dotText(missing)}, which it depended on since read #${l.via} of ${ops[l.via]?.key} returned write #${l.viaWrite}, whose writer had seen it` });
        }
        break;
      }
      continue;
    }
    client.learnOwn(op.key, context);
    for (const value of op.values) {
      const w = history.writerOf(op.key, value);
      if (w === undefined || w === AMBIGUOUS) continue;
      const writerName = (ops[w] as DkvWriteOp).client;
      // a write that started after this read ended has no dependencies yet: a future read, reported per key
      const upTo = depsOf.get(w);
      if (upTo === undefined || writerName === op.client) continue;
      work += client.learnFrom(clients.get(writerName) as ClientPast, writerName, upTo, op.key, e.op, w);
    }
  }
  return { complete: true, reads, anomalies, examples };
}
