import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildRing, decodeRingConfig, describeRing, hashLoad, hashMoves, murmur3, PartitionRing, positionOf, RangeRing, RING_SIZE, RingError, sampleLoad, sampleMoves, TokenRing, type Ring } from './index.js';

const nodes = (count: number, prefix = 'n'): string[] => Array.from({ length: count }, (_, i) => `${prefix}${i}`);
const keys = (count: number): string[] => Array.from({ length: count }, (_, i) => `key-${i}`);
const code = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (err) {
    if (err instanceof RingError) return err.code;
    throw err;
  }
  return undefined;
};

describe('murmur3', () => {
  it('matches the reference MurmurHash3_x86_32 vectors', () => {
    const enc = new TextEncoder();
    expect(murmur3(enc.encode(''), 0)).toBe(0);
    expect(murmur3(enc.encode(''), 1)).toBe(0x514e28b7);
    expect(murmur3(enc.encode('hello'))).toBe(0x248bfa47);
    expect(murmur3(enc.encode('Hello, world!'))).toBe(0xc0363e43);
    expect(murmur3(enc.encode('The quick brown fox jumps over the lazy dog'))).toBe(0x2e4ff723);
    // UTF-8 bytes, not UTF-16 code units: "é" is two bytes
    expect(positionOf('é')).toBe(murmur3(new Uint8Array([0xc3, 0xa9])));
  });

  it('places every string where the hash of its UTF-8 bytes says (ASCII through scratch bytes, the rest encoded)', () => {
    const enc = new TextEncoder();
    const lone = fc.constantFrom('\ud800', '\udfff', '\u007f', '\u0080', '\uffff');
    const text = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.array(fc.oneof(fc.string({ maxLength: 3 }), lone), { maxLength: 12 }).map((parts) => parts.join('')),
      // around the scratch length: ASCII up to 1,024 characters is copied, longer is encoded
      fc.integer({ min: 1020, max: 1030 }).chain((n) => fc.tuple(fc.constant(n), fc.constantFrom('a', 'é', '\ud83d\ude00'))).map(([n, last]) => 'k'.repeat(n) + last),
      fc.integer({ min: 1020, max: 1030 }).map((n) => 'k'.repeat(n)),
    );
    fc.assert(fc.property(text, (s) => positionOf(s) === murmur3(enc.encode(s))), { numRuns: 2000 });
    // a string hashed after a longer one: no bytes of the earlier one count
    positionOf('x'.repeat(500));
    expect(positionOf('abc')).toBe(murmur3(enc.encode('abc')));
  });
});

/** The three strategies over the same members, small enough for property runs. */
function ringsOf(members: readonly string[]): Ring[] {
  return [
    TokenRing.of(members, { vnodesPerNode: 16 }),
    PartitionRing.of(members, { partitionCount: 64 }),
    RangeRing.of(members, nodes(63, 'key-').sort()),
  ];
}

describe('preference lists', () => {
  it('are distinct members, as long as asked or as the ring has members, first the primary', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 15 }), fc.string(), (memberCount, length, key) => {
        for (const ring of ringsOf(nodes(memberCount))) {
          const list = ring.preferenceList(key, length);
          expect(list.length).toBe(Math.min(length, memberCount));
          expect(new Set(list).size).toBe(list.length);
          for (const n of list) expect(ring.members).toContain(n);
          // a longer list extends the shorter one: stand-ins come after the home replicas
          expect(ring.preferenceList(key, length + 3).slice(0, list.length)).toEqual(list);
        }
      }),
      { numRuns: 80 },
    );
  });

  it('are the same on every node building the ring from the same configuration', () => {
    for (const config of [
      { strategy: 'tokens', members: nodes(7), vnodesPerNode: 32 },
      { strategy: 'partitions', members: nodes(7), partitionCount: 128 },
      { strategy: 'ranges', members: nodes(7), splitKeys: ['b', 'k', 'q'] },
    ] as const) {
      const a = buildRing(config);
      const b = buildRing(decodeRingConfig(JSON.parse(JSON.stringify(config))));
      for (const key of keys(200)) expect(b.preferenceList(key, 4)).toEqual(a.preferenceList(key, 4));
      expect(describeRing(b)).toEqual(describeRing(a));
    }
  });

  it('skip a node’s other vnodes on the token ring', () => {
    const ring = TokenRing.of(['a', 'b', 'c'], { vnodesPerNode: 64 });
    for (const key of keys(300)) expect(new Set(ring.preferenceList(key, 3))).toEqual(new Set(['a', 'b', 'c']));
  });

  it('walk partitions of distinct nodes: round-robin dealing keeps any targetN partitions apart', () => {
    const ring = PartitionRing.of(nodes(5), { partitionCount: 40 });
    for (let i = 0; i < 40; i++) {
      const window = [0, 1, 2].map((d) => ring.ownerOfPartition((i + d) % 40));
      expect(new Set(window).size).toBe(3);
    }
  });
});

describe('joining and leaving move only what they must', () => {
  it('a key changes primary on a join only to the new node, and on a leave only away from the leaver', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 }), fc.array(fc.string(), { minLength: 20, maxLength: 60 }), (memberCount, sample) => {
        for (const ring of ringsOf(nodes(memberCount))) {
          const joined = ring.withNode('fresh');
          for (const key of sample) {
            const [was] = ring.preferenceList(key, 1);
            const [now] = joined.preferenceList(key, 1);
            if (now !== was) expect(now).toBe('fresh');
          }
          if (memberCount < 2) continue;
          const left = ring.withoutNode('n0');
          for (const key of sample) {
            const [was] = ring.preferenceList(key, 1);
            const [now] = left.preferenceList(key, 1);
            if (now !== was) expect(was).toBe('n0');
          }
        }
      }),
      { numRuns: 60 },
    );
  });

  it('on the token ring a join adds replicas only on the new node', () => {
    const ring = TokenRing.of(nodes(6), { vnodesPerNode: 32 });
    const joined = ring.withNode('fresh');
    for (const key of keys(2000)) {
      const was = ring.preferenceList(key, 3);
      for (const n of joined.preferenceList(key, 3)) if (!was.includes(n)) expect(n).toBe('fresh');
    }
  });

  it('partition counts stay within one of Q/S through any joins and leaves', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.array(fc.boolean(), { maxLength: 14 }), fc.integer({ min: 24, max: 300 }), (initial, steps, q) => {
        let ring = PartitionRing.of(nodes(initial), { partitionCount: q });
        let next = 0;
        for (const join of steps) {
          if (join || ring.members.length === 1) ring = ring.withNode(`j${next++}`);
          else ring = ring.withoutNode(ring.members[next % ring.members.length] as string);
          const counts = [...ring.partitionCounts().values()];
          expect(counts.reduce((a, b) => a + b, 0)).toBe(q);
          expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('measures a join exactly on hash rings, and the sampled measure agrees', () => {
    for (const ring of [TokenRing.of(nodes(8), { vnodesPerNode: 64 }), PartitionRing.of(nodes(8), { partitionCount: 2048 })]) {
      const joined = ring.withNode('fresh');
      const exact = hashMoves(ring, joined, 3);
      const sampled = sampleMoves(ring, joined, keys(40_000), 3);
      expect(Math.abs(exact.primaryMoved - sampled.primaryMoved)).toBeLessThan(0.01);
      expect(Math.abs(exact.replicaMoved - sampled.replicaMoved)).toBeLessThan(0.01);
      // the new node's exact share is what moved to it
      expect(hashLoad(joined, 1).shares.get('fresh')).toBeCloseTo(exact.primaryMoved, 9);
      const shares = [...hashLoad(joined, 3).shares.values()];
      expect(shares.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
    }
    // Q equal partitions: perfect primary balance when S divides Q
    expect(hashLoad(PartitionRing.of(nodes(8), { partitionCount: 2048 }), 1).maxOverMean).toBeCloseTo(1, 9);
  });

  it('nothing is placed on a member that left', () => {
    const ring = PartitionRing.of(nodes(5), { partitionCount: 100 }).withoutNode('n2');
    expect(ring.partitionCounts().has('n2')).toBe(false);
    for (const key of keys(500)) expect(ring.preferenceList(key, 4)).not.toContain('n2');
    expect(hashLoad(ring, 1).shares.size).toBe(4);
    expect(RING_SIZE).toBe(2 ** 32);
  });
});

describe('range ring', () => {
  it('finds a key’s range as a linear scan does', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ minLength: 1 }), { maxLength: 30 }), fc.array(fc.string(), { maxLength: 30 }), (splits, probes) => {
        const sorted = [...splits].sort();
        const ring = RangeRing.of(nodes(4), sorted);
        const starts = ['', ...sorted];
        for (const key of [...probes, ...sorted]) {
          let expected = 0;
          for (let i = 0; i < starts.length; i++) if ((starts[i] as string) <= key) expected = i;
          expect(ring.rangeIndexOf(key)).toBe(expected);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('a split moves nothing; a merge moves only the merged range’s keys', () => {
    const ring = RangeRing.of(['a', 'b', 'c'], ['g', 'p']);
    const split = ring.split('k');
    expect(split.rangeCount).toBe(4);
    for (const key of ['', 'a', 'g', 'h', 'k', 'kz', 'p', 'zz']) expect(split.preferenceList(key, 3)).toEqual(ring.preferenceList(key, 3));
    const reassigned = split.assign('k', 'c');
    const merged = reassigned.merge('k');
    expect(merged.list().map((r) => r.start)).toEqual(['', 'g', 'p']);
    expect(merged.preferenceList('m', 1)).toEqual(['b']);
    expect(merged.preferenceList('a', 3)).toEqual(ring.preferenceList('a', 3));
  });

  it('answers bad range operations with typed errors', () => {
    const ring = RangeRing.of(['a', 'b'], ['m']);
    expect(code(() => ring.split('m'))).toBe('RING_INVALID_RANGE');
    expect(code(() => ring.split(''))).toBe('RING_INVALID_RANGE');
    expect(code(() => ring.merge(''))).toBe('RING_INVALID_RANGE');
    expect(code(() => ring.merge('x'))).toBe('RING_INVALID_RANGE');
    expect(code(() => ring.assign('m', 'zz'))).toBe('RING_UNKNOWN_NODE');
    expect(code(() => RangeRing.of(['a'], ['m', 'b']))).toBe('RING_INVALID_RANGE');
    expect(code(() => RangeRing.of(['a'], ['m', 'm']))).toBe('RING_INVALID_RANGE');
  });
});

describe('bad input', () => {
  it('answers bad options and members with typed errors', () => {
    expect(code(() => TokenRing.of([], { vnodesPerNode: 8 }))).toBe('RING_EMPTY');
    expect(code(() => TokenRing.of(['a', 'a'], { vnodesPerNode: 8 }))).toBe('RING_INVALID_NODE');
    expect(code(() => TokenRing.of([''], { vnodesPerNode: 8 }))).toBe('RING_INVALID_NODE');
    expect(code(() => TokenRing.of(['x'.repeat(201)], { vnodesPerNode: 8 }))).toBe('RING_INVALID_NODE');
    for (const v of [0, -1, 1.5, Number.NaN, 1e9]) expect(code(() => TokenRing.of(['a'], { vnodesPerNode: v }))).toBe('RING_INVALID_OPTION');
    expect(code(() => PartitionRing.of(['a', 'b', 'c'], { partitionCount: 2 }))).toBe('RING_INVALID_OPTION');
    expect(code(() => PartitionRing.of(['a', 'b'], { partitionCount: 2 }).withNode('c'))).toBe('RING_INVALID_OPTION');
    expect(code(() => PartitionRing.of(['a'], { partitionCount: 8, targetN: 0 }))).toBe('RING_INVALID_OPTION');
    const ring = PartitionRing.of(['a', 'b'], { partitionCount: 8 });
    expect(code(() => ring.withoutNode('zz'))).toBe('RING_UNKNOWN_NODE');
    expect(code(() => ring.withoutNode('a').withoutNode('b'))).toBe('RING_EMPTY');
    expect(code(() => ring.withNode('a'))).toBe('RING_INVALID_NODE');
    for (const n of [0, -1, 2.5, 1001]) expect(code(() => ring.preferenceList('k', n))).toBe('RING_INVALID_OPTION');
    for (const p of [-1, 2 ** 32, 0.5]) expect(code(() => ring.preferenceListAt(p, 1))).toBe('RING_INVALID_OPTION');
  });

  it('decodes only well-formed configurations', () => {
    const bad: unknown[] = [
      null,
      [],
      'tokens',
      {},
      { strategy: 'tokens', members: [] },
      { strategy: 'tokens', members: ['a'], vnodesPerNode: '8' },
      { strategy: 'tokens', members: ['a', 1], vnodesPerNode: 8 },
      { strategy: 'tokens', members: ['a'], vnodesPerNode: 8, extra: true },
      { strategy: 'partitions', members: ['a'] },
      { strategy: 'ranges', members: ['a'], splitKeys: 'm' },
      { strategy: 'ranges', members: ['a'], splitKeys: [1] },
      { strategy: 'ring', members: ['a'] },
      { strategy: 'tokens', members: new Array(10_001).fill('a'), vnodesPerNode: 8 },
    ];
    for (const value of bad) expect(code(() => decodeRingConfig(value))).toBe('RING_DECODE_FAILED');
    // well-formed but invalid values fail when built, with the builder's code
    expect(code(() => buildRing(decodeRingConfig({ strategy: 'tokens', members: ['a', 'a'], vnodesPerNode: 8 })))).toBe('RING_INVALID_NODE');
    expect(code(() => buildRing(decodeRingConfig({ strategy: 'partitions', members: ['a'], partitionCount: 2 ** 21 })))).toBe('RING_INVALID_OPTION');
  });

  it('sampled load over a range ring follows where the ranges are cut', () => {
    const sample = keys(10_000);
    const sorted = [...sample].sort();
    const cuts = [2500, 5000, 7500].map((i) => sorted[i] as string);
    const ring = RangeRing.of(['a', 'b', 'c', 'd'], cuts);
    expect(sampleLoad(ring, sample, 1).maxOverMean).toBeCloseTo(1, 6);
  });
});
