// Session guarantees (Terry et al., 1994) per client and per key of a leaderless store, judged by
// causal contexts: read-your-writes, monotonic reads, monotonic writes, writes-follow-reads. Per key
// because that is all a context covers here; the definitions are in docs/dkv-checkers.md.
import { assertInvariant } from '../../core/assert.js';
import { AMBIGUOUS, CoverIndex, IndexedHistory, listOf, MAX_LISTED, vvMap, vvText, type CoverEntry, type DkvHistoryInput, type DkvReadOpWithDots, type VvMap } from './causal.js';
import type { DkvDot, DkvVersionVector, DkvWriteOp } from './history.js';
import { counterOf, dotText } from './history.js';

export type DkvSessionGuarantee = 'read-your-writes' | 'monotonic-reads' | 'monotonic-writes' | 'writes-follow-reads';

export const DKV_SESSION_GUARANTEES: readonly DkvSessionGuarantee[] = ['read-your-writes', 'monotonic-reads', 'monotonic-writes', 'writes-follow-reads'];

export interface DkvSessionViolation {
  readonly guarantee: DkvSessionGuarantee;
  /** session: the client's own later op broke it; store: a read (by anyone) showed the later write without what it was ordered after. */
  readonly part: 'session' | 'store';
  readonly client: string;
  readonly key: string;
  /** The client's earlier op: its write (read-your-writes, monotonic writes) or its read (monotonic reads, writes-follow-reads). */
  readonly earlier: number;
  /** The client's later op: a read (read-your-writes, monotonic reads) or a write (monotonic writes, writes-follow-reads). */
  readonly later: number;
  /** Store part: the read that showed `later` but not the version `earlier` had. */
  readonly witness: number | null;
  /** The version that was not covered. */
  readonly missing: DkvDot;
  readonly message: string;
}

export interface DkvSessionCounts {
  readonly session: number;
  readonly store: number;
}

export interface DkvSessionResult {
  readonly ok: boolean;
  readonly violations: readonly DkvSessionViolation[];
  /** Per guarantee and part, the number of ops that broke it (each op counted once per guarantee and part). */
  readonly counts: Readonly<Record<DkvSessionGuarantee, DkvSessionCounts>>;
  /** (client, key) pairs with at least one op judged. */
  readonly sessions: number;
  readonly readsChecked: number;
  readonly writesChecked: number;
  /** Writes sent without a context: declared concurrent, exempt from the session part of monotonic writes and writes-follow-reads. */
  readonly blindWrites: number;
  readonly skippedOps: number;
}

/** Per actor, the highest counter seen and the op that showed it: covering it covers every lower dot of that actor. */
class Frontier {
  private readonly top = new Map<string, { counter: number; op: number }>();

  add(actor: string, counter: number, op: number): void {
    if ((this.top.get(actor)?.counter ?? 0) < counter) this.top.set(actor, { counter, op });
  }

  addVv(vv: DkvVersionVector, op: number): void {
    for (const [actor, counter] of vv) this.add(actor, counter, op);
  }

  /** The first entry `vv` does not cover, or null. */
  uncovered(vv: DkvVersionVector): { readonly dot: DkvDot; readonly op: number } | null {
    for (const [actor, { counter, op }] of this.top) if (counterOf(vv, actor) < counter) return { dot: { actor, counter }, op };
    return null;
  }

  /** Per actor, min(own counter, vv's counter): the part of this frontier that `vv` covers, with its sources. */
  meet(vv: DkvVersionVector): { readonly need: DkvVersionVector; readonly sources: ReadonlyMap<string, number> } {
    const need: [string, number][] = [];
    const sources = new Map<string, number>();
    for (const [actor, { counter, op }] of this.top) {
      const c = Math.min(counter, counterOf(vv, actor));
      if (c === 0) continue;
      need.push([actor, c]);
      sources.set(actor, op);
    }
    return { need: need.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0)), sources };
  }

  clear(): void {
    this.top.clear();
  }
}

/** Per actor, the client's own acknowledged dots in counter order: to name the own write a context covered. */
class OwnDots {
  private readonly byActor = new Map<string, { counters: number[]; ops: number[] }>();

  add(dot: DkvDot, op: number): void {
    let list = this.byActor.get(dot.actor);
    if (list === undefined) this.byActor.set(dot.actor, (list = { counters: [], ops: [] }));
    // counters of one actor arrive almost always in order: the insertion scans back only over the few that do not
    let i = list.counters.length;
    while (i > 0 && (list.counters[i - 1] as number) > dot.counter) i--;
    list.counters.splice(i, 0, dot.counter);
    list.ops.splice(i, 0, op);
  }

  /** Per actor, the highest own dot `vv` covers: what a write with context `vv` ordered itself after. */
  coveredBy(vv: DkvVersionVector): { readonly need: DkvVersionVector; readonly sources: ReadonlyMap<string, number> } {
    const need: [string, number][] = [];
    const sources = new Map<string, number>();
    for (const [actor, list] of [...this.byActor].sort((x, y) => (x[0] < y[0] ? -1 : 1))) {
      const limit = counterOf(vv, actor);
      let lo = 0;
      let hi = list.counters.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if ((list.counters[mid] as number) <= limit) lo = mid + 1;
        else hi = mid;
      }
      if (lo === 0) continue;
      need.push([actor, list.counters[lo - 1] as number]);
      sources.set(actor, list.ops[lo - 1] as number);
    }
    return { need, sources };
  }

  clear(): void {
    this.byActor.clear();
  }
}

/** What a write was ordered after by its client, for the store part: the need and which earlier op each actor's entry came from. */
interface Ordered {
  readonly need: DkvVersionVector;
  readonly sources: ReadonlyMap<string, number>;
}

interface Event {
  readonly atMs: number;
  /** 0: start, 1: end; at equal times starts go first, so an op that ends as another starts does not precede it. */
  readonly phase: 0 | 1;
  readonly op: number;
}

/**
 * Checks the four guarantees for every (client, key): O(n log n) to sort each session's events,
 * O(A) per op against the session's frontiers, and for the store part O(A² log W) per read.
 */
export function checkDkvSessions(input: DkvHistoryInput): DkvSessionResult {
  const history = new IndexedHistory(input);
  const ops = history.ops;
  const violations: DkvSessionViolation[] = [];
  const counts = Object.fromEntries(DKV_SESSION_GUARANTEES.map((g) => [g, { session: 0, store: 0 }])) as Record<DkvSessionGuarantee, { session: number; store: number }>;
  const listed = new Map<string, number>();
  const report = (v: DkvSessionViolation): void => {
    counts[v.guarantee][v.part]++;
    const name = `${v.guarantee}/${v.part}`;
    const n = listed.get(name) ?? 0;
    listed.set(name, n + 1);
    if (n < MAX_LISTED) violations.push(v);
  };
  // sessions: (client, key) -> ops
  const sessions = new Map<string, number[]>();
  for (const key of history.keys) {
    for (const i of [...(history.writesOf.get(key) ?? []), ...(history.readsOf.get(key) ?? [])]) listOf(sessions, `${(ops[i] as DkvWriteOp).client}\u0000${key}`).push(i);
  }
  const mwOrdered = new Map<number, Ordered>();
  const wfrOrdered = new Map<number, Ordered>();
  let readsChecked = 0;
  let writesChecked = 0;
  let blindWrites = 0;
  for (const name of [...sessions.keys()].sort()) {
    const members = sessions.get(name) as number[];
    const events: Event[] = [];
    for (const i of members) events.push({ atMs: (ops[i] as DkvWriteOp).startMs, phase: 0, op: i }, { atMs: (ops[i] as DkvWriteOp).endMs, phase: 1, op: i });
    events.sort((a, b) => a.atMs - b.atMs || a.phase - b.phase || a.op - b.op);
    // everything the session's acknowledged writes and ok reads showed; the epoch ones restart at each blind write
    const ownAll = new Frontier();
    const readAll = new Frontier();
    const ownEpoch = new OwnDots();
    const ownEpochTop = new Frontier();
    const readEpoch = new Frontier();
    for (const e of events) {
      const op = ops[e.op] as DkvWriteOp | DkvReadOpWithDots;
      if (op.kind === 'read') {
        const context = op.context as DkvVersionVector;
        if (e.phase === 1) {
          readAll.addVv(context, e.op);
          readEpoch.addVv(context, e.op);
          continue;
        }
        readsChecked++;
        const missedWrite = ownAll.uncovered(context);
        if (missedWrite !== null) {
          report({ guarantee: 'read-your-writes', part: 'session', client: op.client, key: op.key, earlier: missedWrite.op, later: e.op, witness: null, missing: missedWrite.dot, message: `read #${e.op} by ${op.client} does not see its own acknowledged write #${missedWrite.op} (${dotText(missedWrite.dot)}, ${JSON.stringify((ops[missedWrite.op] as DkvWriteOp).value)})` });
        }
        const forgot = readAll.uncovered(context);
        if (forgot !== null) {
          report({ guarantee: 'monotonic-reads', part: 'session', client: op.client, key: op.key, earlier: forgot.op, later: e.op, witness: null, missing: forgot.dot, message: `read #${e.op} by ${op.client} does not cover ${dotText(forgot.dot)}, which its earlier read #${forgot.op} had seen` });
        }
        continue;
      }
      if (e.phase === 1) {
        if (op.outcome === 'ok' && op.dot !== null) {
          ownAll.add(op.dot.actor, op.dot.counter, e.op);
          ownEpoch.add(op.dot, e.op);
          ownEpochTop.add(op.dot.actor, op.dot.counter, e.op);
        }
        continue;
      }
      writesChecked++;
      if (op.contextIn.length === 0) {
        // a blind write declares itself concurrent with what the client saw: ordering restarts from it
        blindWrites++;
        ownEpoch.clear();
        ownEpochTop.clear();
        readEpoch.clear();
        continue;
      }
      const unordered = ownEpochTop.uncovered(op.contextIn);
      if (unordered !== null) {
        report({ guarantee: 'monotonic-writes', part: 'session', client: op.client, key: op.key, earlier: unordered.op, later: e.op, witness: null, missing: unordered.dot, message: `write #${e.op} by ${op.client} was sent with context ${vvText(op.contextIn)}, which does not cover its own earlier acknowledged write #${unordered.op} (${dotText(unordered.dot)}): the two became siblings` });
      }
      const unfollowed = readEpoch.uncovered(op.contextIn);
      if (unfollowed !== null) {
        report({ guarantee: 'writes-follow-reads', part: 'session', client: op.client, key: op.key, earlier: unfollowed.op, later: e.op, witness: null, missing: unfollowed.dot, message: `write #${e.op} by ${op.client} was sent with context ${vvText(op.contextIn)}, which does not cover ${dotText(unfollowed.dot)}, seen by its earlier read #${unfollowed.op}` });
      }
      const mw = ownEpoch.coveredBy(op.contextIn);
      if (mw.need.length > 0) mwOrdered.set(e.op, mw);
      const wfr = readEpoch.meet(op.contextIn);
      if (wfr.need.length > 0) wfrOrdered.set(e.op, wfr);
    }
  }
  for (const key of history.keys) checkStorePart(history, key, mwOrdered, wfrOrdered, report);
  return { ok: violations.length === 0, violations, counts, sessions: sessions.size, readsChecked, writesChecked, blindWrites, skippedOps: history.skippedOps };
}

/**
 * The store part: a read (by anyone) that shows a write — covers its dot, or returns its value —
 * must also cover what the write's client had ordered it after (own earlier writes; what earlier
 * reads saw), as far as the write's context said so.
 */
function checkStorePart(history: IndexedHistory, key: string, mwOrdered: ReadonlyMap<number, Ordered>, wfrOrdered: ReadonlyMap<number, Ordered>, report: (v: DkvSessionViolation) => void): void {
  const ops = history.ops;
  const writes = history.writesOf.get(key) ?? [];
  // per client, its writes of the key by what their contexts covered: to find a later write that replaced an earlier one
  const sessionWrites = new Map<string, CoverEntry[]>();
  for (const w of writes) {
    const write = ops[w] as DkvWriteOp;
    if (write.contextIn.length > 0) for (const dot of history.dotsOf(w)) listOf(sessionWrites, write.client).push({ dot, need: write.contextIn, op: w });
  }
  const replacers = new Map([...sessionWrites].map(([client, entries]) => [client, new CoverIndex(entries)]));
  const parts = [
    { guarantee: 'monotonic-writes' as const, ordered: mwOrdered, what: 'its earlier write' },
    { guarantee: 'writes-follow-reads' as const, ordered: wfrOrdered, what: 'its earlier read' },
  ];
  for (const { guarantee, ordered, what } of parts) {
    const entries: CoverEntry[] = [];
    const byValue: number[] = [];
    for (const w of writes) {
      const o = ordered.get(w);
      if (o === undefined) continue;
      const dots = history.dotsOf(w);
      for (const dot of dots) entries.push({ dot, need: o.need, op: w });
      if (dots.length === 0) byValue.push(w);
    }
    const resurrections = guarantee === 'monotonic-writes' && replacers.size > 0;
    if (entries.length === 0 && byValue.length === 0 && !resurrections) continue;
    const index = new CoverIndex(entries);
    const withoutDot = new Set(byValue);
    for (const r of history.readsOf.get(key) ?? []) {
      const read = ops[r] as DkvReadOpWithDots;
      const context = read.context as DkvVersionVector;
      const lookup = vvMap(context);
      let found = index.firstUnmet(lookup);
      for (let j = 0; found === null && j < read.values.length; j++) {
        const w = history.writerOf(key, read.values[j] as string);
        if (w === undefined || !withoutDot.has(w)) continue;
        const need = (ordered.get(w) as Ordered).need;
        for (const [actor, counter] of need) {
          if (counterOf(context, actor) < counter) {
            found = { op: w, missing: [actor, counter] };
            break;
          }
        }
      }
      if (found !== null) {
        const write = ops[found.op] as DkvWriteOp;
        const source = (ordered.get(found.op) as Ordered).sources.get(found.missing[0]);
        assertInvariant(source !== undefined, () => `no source for ${found.missing[0]} in what write #${found.op} was ordered after`);
        const missing = { actor: found.missing[0], counter: found.missing[1] };
        report({ guarantee, part: 'store', client: write.client, key, earlier: source, later: found.op, witness: r, missing, message: `read #${r} shows write #${found.op} by ${write.client} (${JSON.stringify(write.value)}) but not ${dotText(missing)}, which that write was ordered after (${what} #${source})` });
        continue;
      }
      if (resurrections) checkResurrection(history, r, read, lookup, replacers, report);
    }
  }
}

/**
 * Monotonic writes seen in values: a read that shows a client's later write also returns the value
 * of an earlier write of that client which the later one replaced. Whether the value comes back as
 * the same version or as a second one (a write applied twice), the client's writes were undone out of order.
 */
function checkResurrection(history: IndexedHistory, r: number, read: DkvReadOpWithDots, lookup: VvMap, replacers: ReadonlyMap<string, CoverIndex>, report: (v: DkvSessionViolation) => void): void {
  const ops = history.ops;
  for (const value of read.values) {
    const w = history.writerOf(read.key, value);
    if (w === undefined || w === AMBIGUOUS) continue;
    const earlier = ops[w] as DkvWriteOp;
    if (earlier.outcome !== 'ok' || earlier.dot === null) continue;
    const later = replacers.get(earlier.client)?.firstCovering(lookup, earlier.dot);
    if (later === undefined || later === null) continue;
    const l = ops[later] as DkvWriteOp;
    report({ guarantee: 'monotonic-writes', part: 'store', client: earlier.client, key: read.key, earlier: w, later, witness: r, missing: earlier.dot, message: `read #${r} shows write #${later} by ${earlier.client} (${JSON.stringify(l.value)}) and still returns ${JSON.stringify(value)} from that client's earlier write #${w} (${dotText(earlier.dot)}), which #${later} had replaced` });
    return;
  }
}
