// Staleness of a leaderless store's reads, measured from the history: k (how many acknowledged
// writes a read missed among those acknowledged before it started) and t-visibility (how long the
// oldest missed write had been acknowledged). Per read and in aggregate; definitions in docs/dkv-checkers.md.
import { assertInvariant } from '../../core/assert.js';
import { IndexedHistory, upperBound, type DkvCheckedOp, type DkvHistoryInput } from './causal.js';
import type { DkvReadOp, DkvVersionVector, DkvWriteOp } from './history.js';
import { counterOf } from './history.js';

export interface DkvReadStaleness {
  /** The read's index in the history. */
  readonly read: number;
  /** Acknowledged writes of the key that ended before the read started and that its context does not cover. */
  readonly k: number;
  /** read.startMs − endMs of the earliest-acknowledged missed write; null when k = 0. */
  readonly lagMs: number | null;
  /** That write's index; null when k = 0. */
  readonly oldestMissed: number | null;
}

export interface DkvLagSummary {
  /** Stale reads summarized. */
  readonly count: number;
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export interface DkvStalenessResult {
  /** Every judged read (answered ok with a context), in history order. */
  readonly reads: readonly DkvReadStaleness[];
  readonly judgedReads: number;
  /** Reads with k >= 1. */
  readonly staleReads: number;
  /** staleReads / judgedReads (0 without reads). */
  readonly staleShare: number;
  /** [k, reads] for every k that occurred, ascending. */
  readonly kHistogram: readonly (readonly [k: number, reads: number])[];
  readonly maxK: number;
  readonly meanK: number;
  /** Over stale reads (nearest-rank percentiles); null when no read was stale. */
  readonly lag: DkvLagSummary | null;
  readonly ackedWrites: number;
  readonly skippedOps: number;
}

/** Counts inserted positions below an index. */
class CountTree {
  private readonly tree: Int32Array;

  constructor(readonly size: number) {
    this.tree = new Int32Array(size + 1);
  }

  add(position: number): void {
    assertInvariant(position >= 0 && position < this.size, () => `position ${position} outside 0..${this.size - 1}`);
    for (let i = position + 1; i <= this.size; i += i & -i) this.tree[i] = (this.tree[i] as number) + 1;
  }

  /** Inserted positions in [0, n). */
  below(n: number): number {
    let sum = 0;
    for (let i = n; i > 0; i -= i & -i) sum += this.tree[i] as number;
    return sum;
  }
}

/** The earliest (endMs, op) inserted at a position >= an index: a min-tree over reversed positions. */
class EarliestTree {
  private readonly endMs: Float64Array;
  private readonly ops: Int32Array;

  constructor(readonly size: number) {
    this.endMs = new Float64Array(size + 1).fill(Infinity);
    this.ops = new Int32Array(size + 1).fill(-1);
  }

  add(position: number, endMs: number, op: number): void {
    for (let i = this.size - position; i <= this.size; i += i & -i) {
      const e = this.endMs[i] as number;
      if (endMs < e || (endMs === e && op < (this.ops[i] as number))) {
        this.endMs[i] = endMs;
        this.ops[i] = op;
      }
    }
  }

  /** The earliest inserted at positions [from, size), or null. */
  from(from: number): { readonly endMs: number; readonly op: number } | null {
    let best: { endMs: number; op: number } | null = null;
    for (let i = this.size - from; i > 0; i -= i & -i) {
      const op = this.ops[i] as number;
      if (op < 0) continue;
      const e = this.endMs[i] as number;
      if (best === null || e < best.endMs || (e === best.endMs && op < best.op)) best = { endMs: e, op };
    }
    return best;
  }
}

/** One actor's acknowledged writes of a key, by counter: a context covers exactly a prefix of them. */
class ActorWrites {
  readonly counters: number[];
  readonly count: CountTree;
  readonly earliest: EarliestTree;
  inserted = 0;

  constructor(counters: number[]) {
    this.counters = counters;
    this.count = new CountTree(counters.length);
    this.earliest = new EarliestTree(counters.length);
  }
}

/**
 * k and lag for every read, O((R + W) · A · log W) for R reads and W acknowledged writes of a key
 * with A actors: reads in start order, writes inserted as they end, one Fenwick tree per actor
 * indexed by counter rank (a context covers the ranks up to its counter for that actor).
 */
export function checkDkvStaleness(input: DkvHistoryInput): DkvStalenessResult {
  const history = new IndexedHistory(input);
  const ops = history.ops;
  const perRead: DkvReadStaleness[] = [];
  let ackedWrites = 0;
  for (const key of history.keys) {
    const acked = (history.writesOf.get(key) ?? []).filter((w) => {
      const op = ops[w] as DkvWriteOp;
      return op.outcome === 'ok' && op.dot !== null;
    });
    ackedWrites += acked.length;
    const byActor = new Map<string, number[]>();
    for (const w of acked) {
      const dot = (ops[w] as DkvWriteOp).dot as NonNullable<DkvWriteOp['dot']>;
      let list = byActor.get(dot.actor);
      if (list === undefined) byActor.set(dot.actor, (list = []));
      list.push(w);
    }
    const actors = new Map<string, ActorWrites>();
    const rankOf = new Map<number, number>();
    for (const [actor, list] of byActor) {
      list.sort((a, b) => counterOfWrite(ops[a]) - counterOfWrite(ops[b]) || a - b);
      list.forEach((w, rank) => rankOf.set(w, rank));
      actors.set(actor, new ActorWrites(list.map((w) => counterOfWrite(ops[w]))));
    }
    const byEnd = [...acked].sort((a, b) => (ops[a] as DkvWriteOp).endMs - (ops[b] as DkvWriteOp).endMs || a - b);
    const reads = [...(history.readsOf.get(key) ?? [])].sort((a, b) => (ops[a] as DkvReadOp).startMs - (ops[b] as DkvReadOp).startMs || a - b);
    let next = 0;
    for (const r of reads) {
      const read = ops[r] as DkvReadOp;
      // writes acknowledged strictly before the read started; one ending at its start may be missed
      for (; next < byEnd.length && (ops[byEnd[next] as number] as DkvWriteOp).endMs < read.startMs; next++) {
        const w = byEnd[next] as number;
        const write = ops[w] as DkvWriteOp;
        const list = actors.get((write.dot as NonNullable<DkvWriteOp['dot']>).actor) as ActorWrites;
        const rank = rankOf.get(w) as number;
        list.count.add(rank);
        list.earliest.add(rank, write.endMs, w);
        list.inserted++;
      }
      perRead.push(judge(r, read.startMs, read.context as DkvVersionVector, actors));
    }
  }
  perRead.sort((a, b) => a.read - b.read);
  return summarize(perRead, ackedWrites, history.skippedOps);
}

/** The counter of an acknowledged write's dot (the callers filtered on both). */
function counterOfWrite(op: DkvCheckedOp | undefined): number {
  return ((op as DkvWriteOp).dot as NonNullable<DkvWriteOp['dot']>).counter;
}

function judge(r: number, startMs: number, context: DkvVersionVector, actors: ReadonlyMap<string, ActorWrites>): DkvReadStaleness {
  let k = 0;
  let oldest: { endMs: number; op: number } | null = null;
  for (const [actor, list] of actors) {
    if (list.inserted === 0) continue;
    const covered = upperBound(list.counters, counterOf(context, actor));
    const missed = list.inserted - list.count.below(covered);
    assertInvariant(missed >= 0 && missed <= list.inserted, () => `read #${r} missed ${missed} of ${list.inserted} writes of ${actor}`);
    if (missed === 0) continue;
    k += missed;
    const e = list.earliest.from(covered);
    assertInvariant(e !== null, () => `read #${r} missed writes of ${actor} but none is inserted above rank ${covered}`);
    if (oldest === null || e.endMs < oldest.endMs || (e.endMs === oldest.endMs && e.op < oldest.op)) oldest = { endMs: e.endMs, op: e.op };
  }
  if (oldest === null) return { read: r, k: 0, lagMs: null, oldestMissed: null };
  assertInvariant(oldest.endMs < startMs, () => `read #${r} judged to miss write #${oldest?.op}, acknowledged at ${oldest?.endMs} ms, not before its start ${startMs} ms`);
  return { read: r, k, lagMs: startMs - oldest.endMs, oldestMissed: oldest.op };
}

function summarize(reads: readonly DkvReadStaleness[], ackedWrites: number, skippedOps: number): DkvStalenessResult {
  const histogram = new Map<number, number>();
  let sumK = 0;
  let maxK = 0;
  const lags: number[] = [];
  for (const r of reads) {
    histogram.set(r.k, (histogram.get(r.k) ?? 0) + 1);
    sumK += r.k;
    maxK = Math.max(maxK, r.k);
    if (r.lagMs !== null) lags.push(r.lagMs);
  }
  lags.sort((a, b) => a - b);
  const n = reads.length;
  return {
    reads,
    judgedReads: n,
    staleReads: lags.length,
    staleShare: n === 0 ? 0 : lags.length / n,
    kHistogram: [...histogram].sort((a, b) => a[0] - b[0]),
    maxK,
    meanK: n === 0 ? 0 : sumK / n,
    lag: lags.length === 0 ? null : { count: lags.length, meanMs: lags.reduce((s, x) => s + x, 0) / lags.length, p50Ms: nearestRank(lags, 0.5), p90Ms: nearestRank(lags, 0.9), p99Ms: nearestRank(lags, 0.99), maxMs: lags[lags.length - 1] as number },
    ackedWrites,
    skippedOps,
  };
}

/** The nearest-rank percentile of ascending `sorted` (not empty). */
export function nearestRank(sorted: readonly number[], p: number): number {
  assertInvariant(sorted.length > 0 && p > 0 && p <= 1, () => `percentile ${p} of ${sorted.length} values`);
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] as number;
}

/**
 * The empirical t-visibility curve at `tMs`: the share of judged reads that saw every write
 * acknowledged at least `tMs` before they started (a read with lag L misses one acknowledged L ms
 * before it, and none earlier). Compare with PBS's P(consistent | t) in docs/pbs.md.
 */
export function shareConsistentAt(result: DkvStalenessResult, tMs: number): number {
  if (result.judgedReads === 0) return 1;
  let fresh = 0;
  for (const r of result.reads) if (r.lagMs === null || r.lagMs < tMs) fresh++;
  return fresh / result.judgedReads;
}
