// The staleness checker on hand-built histories (k and lag by hand), its aggregates, and a property
// test against counting missed writes one by one.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { joinVv, type DkvCheckedOp, type DkvReadOpWithDots } from './causal.js';
import type { DkvVersionVector, DkvWriteOp } from './history.js';
import { vvCovers } from './history.js';
import { checkDkvStaleness, nearestRank, shareConsistentAt, type DkvReadStaleness } from './staleness.js';

type Pair = readonly [string, number];

function put(client: string, key: string, value: string | null, [startMs, endMs]: readonly [number, number], dot: Pair | null, contextIn: readonly Pair[] = [], outcome: DkvWriteOp['outcome'] = 'ok'): DkvWriteOp {
  const acked = outcome === 'ok' && dot !== null;
  return { kind: 'write', client, key, value, contextIn, startMs, endMs, outcome, dot: acked ? { actor: dot[0], counter: dot[1] } : null, contextOut: acked ? joinVv(contextIn, [dot]) : null };
}

function get(client: string, key: string, [startMs, endMs]: readonly [number, number], context: readonly Pair[]): DkvReadOpWithDots {
  return { kind: 'read', client, key, startMs, endMs, outcome: 'ok', values: [], context };
}

function one(ops: readonly DkvCheckedOp[]): DkvReadStaleness {
  const reads = checkDkvStaleness({ ops }).reads;
  expect(reads).toHaveLength(1);
  return reads[0] as DkvReadStaleness;
}

describe('checkDkvStaleness', () => {
  it('finds no staleness in reads that cover every write acknowledged before them', () => {
    const ops = [put('c0', 'k', 'a', [0, 10], ['n1', 1]), get('c1', 'k', [20, 30], [['n1', 1]]), put('c1', 'k', 'b', [40, 50], ['n1', 2], [['n1', 1]]), get('c0', 'k', [60, 70], [['n1', 2]])];
    const result = checkDkvStaleness({ ops });
    expect(result).toMatchObject({ judgedReads: 2, staleReads: 0, staleShare: 0, maxK: 0, meanK: 0, lag: null, ackedWrites: 2 });
    expect(result.kHistogram).toEqual([[0, 2]]);
  });

  it('counts a missed acknowledged write, and its lag since acknowledgement', () => {
    expect(one([put('c0', 'k', 'a', [0, 10], ['n1', 1]), get('c1', 'k', [25, 30], [])])).toEqual({ read: 1, k: 1, lagMs: 15, oldestMissed: 0 });
  });

  it('counts each missed version of a chain: a read two versions behind has k = 2', () => {
    const a = put('c0', 'k', 'a', [0, 10], ['n1', 1]);
    const b = put('c0', 'k', 'b', [20, 30], ['n1', 2], [['n1', 1]]);
    expect(one([a, b, get('c1', 'k', [40, 50], [])])).toEqual({ read: 2, k: 2, lagMs: 30, oldestMissed: 0 });
    expect(one([a, b, get('c1', 'k', [40, 50], [['n1', 1]])])).toEqual({ read: 2, k: 1, lagMs: 10, oldestMissed: 1 });
  });

  it('counts concurrent (sibling) writes one by one, whatever their actors', () => {
    const ops = [put('c0', 'k', 'a', [0, 10], ['n1', 1]), put('c1', 'k', 'b', [5, 12], ['n2', 1]), put('c2', 'k', 'c', [6, 14], ['n3', 4])];
    expect(one([...ops, get('c3', 'k', [20, 30], [['n2', 1]])])).toEqual({ read: 3, k: 2, lagMs: 10, oldestMissed: 0 });
    expect(one([...ops, get('c3', 'k', [20, 30], [['n1', 1], ['n2', 1], ['n3', 4]])]).k).toBe(0);
  });

  it('does not count writes still running when the read started, writes not acknowledged, or other keys', () => {
    expect(one([put('c0', 'k', 'a', [0, 20], ['n1', 1]), get('c1', 'k', [20, 30], [])]).k).toBe(0);
    expect(one([put('c0', 'k', 'a', [0, 10], null, [], 'unknown'), get('c1', 'k', [20, 30], [])]).k).toBe(0);
    expect(one([put('c0', 'k', 'a', [0, 10], null, [], 'fail'), get('c1', 'k', [20, 30], [])]).k).toBe(0);
    expect(one([put('c0', 'j', 'a', [0, 10], ['n1', 1]), get('c1', 'k', [20, 30], [])]).k).toBe(0);
  });

  it('summarizes: stale share, k histogram, lag percentiles by nearest rank', () => {
    const ops: DkvCheckedOp[] = [put('c0', 'k', 'a', [0, 10], ['n1', 1])];
    // ten reads: four fresh, six stale with lags 10, 20, ..., 60 ms
    for (let i = 0; i < 4; i++) ops.push(get('c1', 'k', [100 + i, 101 + i], [['n1', 1]]));
    for (let i = 1; i <= 6; i++) ops.push(get('c1', 'k', [10 + 10 * i, 11 + 10 * i], []));
    const result = checkDkvStaleness({ ops });
    expect(result).toMatchObject({ judgedReads: 10, staleReads: 6, staleShare: 0.6, maxK: 1, meanK: 0.6 });
    expect(result.kHistogram).toEqual([[0, 4], [1, 6]]);
    expect(result.lag).toEqual({ count: 6, meanMs: 35, p50Ms: 30, p90Ms: 60, p99Ms: 60, maxMs: 60 });
    // seeing every write acknowledged at least t ms before: lags below t pass
    expect(shareConsistentAt(result, 1)).toBe(0.4);
    expect(shareConsistentAt(result, 35)).toBe(0.7);
    expect(shareConsistentAt(result, 61)).toBe(1);
  });

  it('nearest rank picks the ceil(p·n)-th smallest', () => {
    expect(nearestRank([1, 2, 3, 4], 0.5)).toBe(2);
    expect(nearestRank([1, 2, 3, 4], 0.51)).toBe(3);
    expect(nearestRank([7], 0.99)).toBe(7);
  });

  it('agrees with counting missed writes one by one, on random histories', () => {
    const write = fc.record({ actor: fc.constantFrom('n1', 'n2', 'n3'), startMs: fc.integer({ min: 0, max: 100 }), lengthMs: fc.integer({ min: 0, max: 30 }), acked: fc.boolean() });
    const read = fc.record({ startMs: fc.integer({ min: 0, max: 140 }), context: fc.array(fc.tuple(fc.constantFrom('n1', 'n2', 'n3'), fc.integer({ min: 0, max: 12 })), { maxLength: 3 }) });
    fc.assert(
      fc.property(fc.array(write, { maxLength: 30 }), fc.array(read, { maxLength: 15 }), (ws, rs) => {
        const counters = new Map<string, number>();
        const ops: DkvCheckedOp[] = ws.map((w, i) => {
          const counter = (counters.get(w.actor) ?? 0) + 1;
          counters.set(w.actor, counter);
          return put(`c${i}`, 'k', `v${i}`, [w.startMs, w.startMs + w.lengthMs], w.acked ? [w.actor, counter] : null, [], w.acked ? 'ok' : 'unknown');
        });
        for (const r of rs) {
          const vv: DkvVersionVector = joinVv([], [...new Map(r.context.filter(([, c]) => c > 0))].sort((a, b) => (a[0] < b[0] ? -1 : 1)));
          ops.push(get('r', 'k', [r.startMs, r.startMs + 1], vv));
        }
        const fast = checkDkvStaleness({ ops });
        for (const judged of fast.reads) {
          const r = ops[judged.read] as DkvReadOpWithDots;
          const missed = ops.flatMap((o, i) => (o.kind === 'write' && o.outcome === 'ok' && o.dot !== null && o.endMs < r.startMs && !vvCovers(r.context ?? [], o.dot) ? [i] : []));
          expect(judged.k).toBe(missed.length);
          if (missed.length === 0) {
            expect(judged.lagMs).toBeNull();
            continue;
          }
          const oldestEndMs = Math.min(...missed.map((i) => (ops[i] as DkvWriteOp).endMs));
          expect(judged.lagMs).toBe(r.startMs - oldestEndMs);
          expect((ops[judged.oldestMissed as number] as DkvWriteOp).endMs).toBe(oldestEndMs);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('skips reads that failed and collected keys', () => {
    const failed: DkvReadOpWithDots = { ...get('c1', 'k', [20, 30], []), outcome: 'unknown', context: null };
    const result = checkDkvStaleness({ ops: [put('c0', 'k', 'a', [0, 10], ['n1', 1]), failed, get('c1', 'gone', [20, 30], [])], collected: new Set(['gone']) });
    expect(result.judgedReads).toBe(0);
    expect(result.skippedOps).toBe(2);
  });
});
