import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ProbeOrder } from './probe-order.js';

function seeded(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

describe('round-robin probe order', () => {
  it('property: each pass probes every probeable member exactly once, in a new random order', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 30 }), fc.integer(), (n, seed) => {
        const members = Array.from({ length: n }, (_, i) => `m${i}`);
        const order = new ProbeOrder(seeded(seed));
        for (let pass = 0; pass < 3; pass++) {
          const seen = Array.from({ length: n }, () => order.next(members, () => true));
          expect([...seen].sort()).toEqual([...members].sort());
        }
      }),
      { numRuns: 100 },
    );
  });

  it('skips members that are no longer probeable and probes a new member within two passes', () => {
    const members = ['a', 'b', 'c', 'd'];
    const order = new ProbeOrder(seeded(7));
    const gone = new Set(['b']);
    const first = Array.from({ length: 3 }, () => order.next(members, (id) => !gone.has(id)));
    expect(first.sort()).toEqual(['a', 'c', 'd']);
    members.push('e');
    order.insert('e');
    const next = Array.from({ length: 8 }, () => order.next(members, (id) => !gone.has(id)));
    expect(next).toContain('e');
    expect(next).not.toContain('b');
    expect(new ProbeOrder(seeded(1)).next([], () => true)).toBeUndefined();
  });
});
