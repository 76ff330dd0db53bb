import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DisseminationQueue, retransmitLimit, updateBytes } from './dissemination.js';
import { MAX_UPDATES_PER_MESSAGE, type MemberUpdate } from './messages.js';

const alive = (node: string, incarnation = 0, meta = ''): MemberUpdate => ({ node, state: 'alive', incarnation, meta });
const BIG = 1_000_000;

describe('dissemination queue', () => {
  it('sends each update retransmitMult × ceil(log10(N + 1)) times', () => {
    expect(retransmitLimit(4, 1)).toBe(4);
    expect(retransmitLimit(4, 9)).toBe(4);
    expect(retransmitLimit(4, 10)).toBe(8);
    expect(retransmitLimit(4, 99)).toBe(8);
    expect(retransmitLimit(4, 100)).toBe(12);
    expect(retransmitLimit(2, 20)).toBe(4);
    const q = new DisseminationQueue(16);
    q.enqueue(alive('a'));
    const sent = Array.from({ length: 6 }, () => q.take(BIG, 3).length);
    expect(sent).toEqual([1, 1, 1, 0, 0, 0]);
    expect(q.size).toBe(0);
  });

  it('takes the least sent first, then the newest', () => {
    const q = new DisseminationQueue(16);
    q.enqueue(alive('a'));
    q.enqueue(alive('b'));
    expect(q.take(BIG, 10).map((u) => u.node)).toEqual(['b', 'a']);
    q.enqueue(alive('c'));
    // c has been sent 0 times, a and b once: c first, then the newer of a and b
    expect(q.take(BIG, 10).map((u) => u.node)).toEqual(['c', 'b', 'a']);
    q.enqueue(alive('d'));
    const oneOnly = q.take(updateBytes(alive('d')), 10);
    expect(oneOnly.map((u) => u.node)).toEqual(['d']);
    expect(q.pending().find((p) => p.update.node === 'd')?.transmits).toBe(1);
  });

  it('keeps one update per member: a newer one replaces the queued one and starts its count again', () => {
    const q = new DisseminationQueue(16);
    q.enqueue(alive('a', 1));
    q.take(BIG, 10);
    q.enqueue({ node: 'a', state: 'suspect', incarnation: 1, from: 'x' });
    expect(q.pending()).toEqual([{ update: { node: 'a', state: 'suspect', incarnation: 1, from: 'x' }, transmits: 0 }]);
  });

  it('stays within the byte budget and the per-message cap, skipping what does not fit', () => {
    const q = new DisseminationQueue(200);
    for (let i = 0; i < 100; i++) q.enqueue(alive(`n${i}`));
    expect(q.take(BIG, 10)).toHaveLength(MAX_UPDATES_PER_MESSAGE);
    const big = alive('big', 0, 'x'.repeat(500));
    q.enqueue(big);
    const budget = 300;
    const taken = q.take(budget, 10);
    expect(taken.some((u) => u.node === 'big')).toBe(false);
    expect(taken.reduce((s, u) => s + updateBytes(u), 0)).toBeLessThanOrEqual(budget);
    expect(taken.length).toBeGreaterThan(0);
    expect(q.take(0, 10)).toEqual([]);
  });

  it('never holds more than its bound: the most sent update makes room', () => {
    const q = new DisseminationQueue(3);
    q.enqueue(alive('a'));
    q.take(updateBytes(alive('a')), 10);
    q.enqueue(alive('b'));
    q.enqueue(alive('c'));
    q.enqueue(alive('d'));
    expect(q.pending().map((p) => p.update.node).sort()).toEqual(['b', 'c', 'd']);
  });

  it('property: every update is sent exactly `limit` times, and each message within the budget', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 60, max: 600 }), (nodes, limit, budget) => {
        const q = new DisseminationQueue(64);
        const distinct = [...new Set(nodes)].map((n) => alive(`n${n}`));
        for (const u of distinct) q.enqueue(u);
        const counts = new Map<string, number>();
        for (let round = 0; round < 1_000 && q.size > 0; round++) {
          const taken = q.take(budget, limit);
          expect(taken.reduce((s, u) => s + updateBytes(u), 0)).toBeLessThanOrEqual(budget);
          expect(new Set(taken.map((u) => u.node)).size).toBe(taken.length);
          for (const u of taken) counts.set(u.node, (counts.get(u.node) ?? 0) + 1);
        }
        expect(q.size).toBe(0);
        for (const u of distinct) expect(counts.get(u.node)).toBe(limit);
      }),
      { numRuns: 200 },
    );
  });
});
