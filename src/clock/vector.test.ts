// Vector clocks: worked causality examples, partial-order and lattice laws as properties,
// and the binary encoding's round trip and strictness.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compareVectorClocks,
  createVectorClock,
  decodeVectorClock,
  encodeVectorClock,
  formatVectorClock,
  incrementVectorClock,
  mergeVectorClocks,
  receiveVectorClock,
  EMPTY_VECTOR_CLOCK,
  type VectorClock,
} from './vector.js';

/** Positional clocks over nodes A, B, C, as in textbook diagrams. */
function abc(a: number, b: number, c: number): VectorClock {
  return createVectorClock({ A: a, B: b, C: c });
}

/** Few ids and small counters, so random pairs are often ordered rather than concurrent. */
const smallClock = fc
  .dictionary(fc.constantFrom('a', 'b', 'c', 'd'), fc.nat({ max: 3 }), { maxKeys: 4 })
  .map((record) => createVectorClock(record));

const anyId = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)), maxLength: 6 });
const anyClock = fc
  .uniqueArray(fc.tuple(anyId, fc.nat({ max: Number.MAX_SAFE_INTEGER })), { selector: ([id]) => id, maxLength: 8 })
  .map((entries) => createVectorClock(entries));

const atMost = (a: VectorClock, b: VectorClock): boolean => ['before', 'equal'].includes(compareVectorClocks(a, b));

describe('vector clock causality', () => {
  it('A sends to B, B sends to C: A’s send is before C’s receive', () => {
    const aSend = incrementVectorClock(EMPTY_VECTOR_CLOCK, 'A');
    const bReceive = receiveVectorClock(EMPTY_VECTOR_CLOCK, aSend, 'B');
    const bSend = incrementVectorClock(bReceive, 'B');
    const cReceive = receiveVectorClock(EMPTY_VECTOR_CLOCK, bSend, 'C');
    expect(cReceive).toEqual(abc(1, 2, 1));
    expect(compareVectorClocks(aSend, cReceive)).toBe('before');
    expect(compareVectorClocks(cReceive, aSend)).toBe('after');
  });

  it('[2,0,0] and [0,2,0] are concurrent', () => {
    expect(compareVectorClocks(abc(2, 0, 0), abc(0, 2, 0))).toBe('concurrent');
  });

  it('an event unrelated to a message chain stays concurrent with it', () => {
    const aSend = incrementVectorClock(EMPTY_VECTOR_CLOCK, 'A');
    const cLocal = incrementVectorClock(EMPTY_VECTOR_CLOCK, 'C');
    const bReceive = receiveVectorClock(EMPTY_VECTOR_CLOCK, aSend, 'B');
    expect(compareVectorClocks(cLocal, bReceive)).toBe('concurrent');
    expect(compareVectorClocks(abc(1, 1, 0), abc(1, 1, 0))).toBe('equal');
  });

  it('treats missing entries as zero and drops zero counters', () => {
    expect(createVectorClock({ A: 0, B: 1 })).toEqual(createVectorClock([['B', 1]]));
    expect(compareVectorClocks(EMPTY_VECTOR_CLOCK, abc(0, 0, 0))).toBe('equal');
  });

  it('rejects invalid counters with a typed error', () => {
    expect(() => createVectorClock({ A: -1 })).toThrow(expect.objectContaining({ code: 'VC_INVALID_COUNTER' }));
    expect(() => createVectorClock({ A: 0.5 })).toThrow(expect.objectContaining({ code: 'VC_INVALID_COUNTER' }));
    const full = createVectorClock({ A: Number.MAX_SAFE_INTEGER });
    expect(() => incrementVectorClock(full, 'A')).toThrow(expect.objectContaining({ code: 'VC_INVALID_COUNTER' }));
  });

  it('formats clocks stably', () => {
    expect(formatVectorClock(createVectorClock({ b: 1, a: 2, 'x y': 3 }))).toBe('{a:2,b:1,"x y":3}');
  });
});

describe('vector clock laws', () => {
  it('compare is reflexive: every clock is equal to itself', () => {
    fc.assert(fc.property(anyClock, (a) => compareVectorClocks(a, a) === 'equal'));
  });

  it('compare is antisymmetric: swapping arguments mirrors the answer', () => {
    const mirror = { before: 'after', after: 'before', equal: 'equal', concurrent: 'concurrent' } as const;
    fc.assert(
      fc.property(smallClock, smallClock, (a, b) => {
        expect(compareVectorClocks(b, a)).toBe(mirror[compareVectorClocks(a, b)]);
        if (compareVectorClocks(a, b) === 'equal') expect(a).toEqual(b);
      }),
    );
  });

  it('compare is transitive on random triples', () => {
    fc.assert(fc.property(smallClock, smallClock, smallClock, (a, b, c) => !(atMost(a, b) && atMost(b, c)) || atMost(a, c)));
  });

  it('compare is transitive on chains built by merging', () => {
    fc.assert(
      fc.property(smallClock, smallClock, smallClock, (a, x, y) => {
        const b = mergeVectorClocks(a, x);
        const c = mergeVectorClocks(b, y);
        return atMost(a, b) && atMost(b, c) && atMost(a, c);
      }),
    );
  });

  it('merge is an upper bound of both arguments', () => {
    fc.assert(fc.property(smallClock, smallClock, (a, b) => atMost(a, mergeVectorClocks(a, b)) && atMost(b, mergeVectorClocks(a, b))));
  });

  it('merge is commutative, associative and idempotent', () => {
    fc.assert(
      fc.property(anyClock, anyClock, anyClock, (a, b, c) => {
        expect(mergeVectorClocks(a, b)).toEqual(mergeVectorClocks(b, a));
        expect(mergeVectorClocks(mergeVectorClocks(a, b), c)).toEqual(mergeVectorClocks(a, mergeVectorClocks(b, c)));
        expect(mergeVectorClocks(a, a)).toEqual(a);
      }),
    );
  });

  it('increment makes the clock strictly later', () => {
    fc.assert(fc.property(smallClock, fc.constantFrom('a', 'b', 'e'), (a, id) => compareVectorClocks(a, incrementVectorClock(a, id)) === 'before'));
  });
});

describe('vector clock encoding', () => {
  it('round-trips any clock, including unusual ids and counters near 2^53', () => {
    fc.assert(
      fc.property(anyClock, (a) => {
        const bytes = encodeVectorClock(a);
        expect(decodeVectorClock(bytes)).toEqual(a);
        expect(encodeVectorClock(decodeVectorClock(bytes))).toEqual(bytes);
      }),
    );
  });

  it('is compact for short ASCII ids', () => {
    // count, then per entry: id length, one byte per char, counter (300 needs two bytes).
    expect([...encodeVectorClock(createVectorClock({ n1: 3, n2: 300 }))]).toEqual([2, 2, 110, 49, 3, 2, 110, 50, 0xac, 0x02]);
    expect([...encodeVectorClock(EMPTY_VECTOR_CLOCK)]).toEqual([0]);
  });

  it('rejects truncated, padded and non-canonical input', () => {
    const valid = encodeVectorClock(createVectorClock({ a: 1, b: 2 }));
    const cases: number[][] = [
      [...valid.slice(0, -1)], // truncated
      [...valid, 0], // trailing byte
      [1, 1, 97, 0], // zero counter
      [2, 1, 98, 1, 1, 97, 1], // ids out of order
      [2, 1, 97, 1, 1, 97, 1], // duplicate id
      [1, 1, 97, 0x81, 0x00], // overlong varint
      [1, 1, 97, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], // beyond 8 bytes
      [1, 1, 0xff, 0xff, 0x7f, 1], // code unit beyond 16 bits
      [0x7f], // count larger than input
    ];
    for (const bytes of cases) {
      expect(() => decodeVectorClock(Uint8Array.from(bytes))).toThrow(expect.objectContaining({ code: 'VC_DECODE_FAILED' }));
    }
  });

  it('never throws anything but a typed decode error on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 24 }), (bytes) => {
        try {
          decodeVectorClock(bytes);
        } catch (error) {
          expect(error).toMatchObject({ code: 'VC_DECODE_FAILED' });
        }
      }),
    );
  });
});
