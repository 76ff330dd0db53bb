import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { positionOf } from '../../ring/hash.js';
import { leafOfPosition } from './shape.js';
import { DEFAULT_DEPTH, DEFAULT_FANOUT, depthForKeys, EMPTY_HASH, MAX_LEAVES, MerkleTree, type MerkleTreeOptions } from './index.js';
import { code, digestOf, treeOf } from './test/helpers.js';

const entriesArb = fc.uniqueArray(fc.tuple(fc.string({ maxLength: 12 }), fc.integer({ min: 0, max: 2 ** 32 - 1 }).map(digestOf)), { selector: ([k]) => k, maxLength: 120 });
const shapeArb = fc.constantFrom<MerkleTreeOptions>({ fanout: 2, depth: 3 }, { fanout: 4, depth: 2 }, { fanout: 16, depth: 2 }, { fanout: 16, depth: 1 }, {});


describe('MerkleTree', () => {
  it('holds digests by key: set, get, delete, size', () => {
    const tree = new MerkleTree({ fanout: 4, depth: 3 });
    expect(tree.size).toBe(0);
    expect(tree.rootHash()).toBe(EMPTY_HASH);
    tree.set('a', '01');
    tree.set('b', 'ab12');
    tree.set('a', '02');
    expect([tree.size, tree.get('a'), tree.get('b'), tree.get('c'), tree.has('b')]).toEqual([2, '02', 'ab12', undefined, true]);
    expect(tree.rootHash()).toMatch(/^[0-9a-f]{32}$/);
    expect(tree.delete('a')).toBe(true);
    expect(tree.delete('a')).toBe(false);
    expect(tree.delete('zz')).toBe(false);
    expect(tree.delete('b')).toBe(true);
    expect([tree.size, tree.rootHash()]).toEqual([0, EMPTY_HASH]);
  });

  it('rejects malformed keys, digests and options with stable codes', () => {
    const tree = new MerkleTree();
    expect(code(() => tree.set('k', 'ABCD'))).toBe('MERKLE_INVALID_ENTRY');
    expect(code(() => tree.set('k', 'abc'))).toBe('MERKLE_INVALID_ENTRY');
    expect(code(() => tree.set('k', ''))).toBe('MERKLE_INVALID_ENTRY');
    expect(code(() => tree.set('k', 'ab'.repeat(65)))).toBe('MERKLE_INVALID_ENTRY');
    expect(code(() => tree.set('x'.repeat(4097), 'ab'))).toBe('MERKLE_INVALID_ENTRY');
    // a lone surrogate would share its UTF-8 bytes (U+FFFD) with another key
    expect(code(() => tree.set('\uD800', 'ab'))).toBe('MERKLE_INVALID_ENTRY');
    expect(code(() => tree.set(42 as unknown as string, 'ab'))).toBe('MERKLE_INVALID_ENTRY');
    for (const options of [{ fanout: 3 }, { fanout: 1 }, { fanout: 512 }, { depth: 0 }, { depth: 6 }, { fanout: 2, depth: 21 }, { start: 5, end: 5 }, { end: 2 ** 32 + 1 }, { start: -1 }, { depth: 1.5 }]) {
      expect(code(() => new MerkleTree(options))).toBe('MERKLE_INVALID_OPTION');
    }
    expect(tree.size).toBe(0);
  });

  it('has the same root whatever the insertion order', () => {
    fc.assert(
      fc.property(entriesArb, shapeArb, fc.infiniteStream(fc.nat()), (entries, options, seeds) => {
        const shuffled = [...entries];
        for (let i = shuffled.length - 1; i > 0; i--) {
          const j = (seeds.next().value as number) % (i + 1);
          [shuffled[i], shuffled[j]] = [shuffled[j] as [string, string], shuffled[i] as [string, string]];
        }
        expect(treeOf(shuffled, options).rootHash()).toBe(treeOf(entries, options).rootHash());
      }),
      { numRuns: 100 },
    );
  });

  it('keeps incremental (lazy) hashes equal to a tree built afresh, through sets, updates, deletes and reads', () => {
    const op = fc.oneof(
      fc.tuple(fc.constant('set' as const), fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 3 })),
      fc.tuple(fc.constant('delete' as const), fc.integer({ min: 0, max: 40 }), fc.constant(0)),
      fc.tuple(fc.constant('read' as const), fc.constant(0), fc.constant(0)),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 150 }), shapeArb, (ops, options) => {
        const tree = new MerkleTree(options);
        const model = new Map<string, string>();
        for (const [kind, k, v] of ops) {
          if (kind === 'set') {
            tree.set(`k${k}`, digestOf(v));
            model.set(`k${k}`, digestOf(v));
          } else if (kind === 'delete') {
            expect(tree.delete(`k${k}`)).toBe(model.delete(`k${k}`));
          } else {
            tree.rootHash();
          }
        }
        expect(tree.size).toBe(model.size);
        expect(new Map(tree.entries())).toEqual(model);
        expect(tree.rootHash()).toBe(treeOf([...model], options).rootHash());
        expect(tree.clone().rootHash()).toBe(tree.rootHash());
      }),
      { numRuns: 100 },
    );
  });

  it('changes its root when any digest changes, and gets it back when the change is undone', () => {
    const tree = treeOf(Array.from({ length: 500 }, (_, i) => [`user/${i}`, digestOf(i)] as const), { depth: 2 });
    const before = tree.rootHash();
    const seen = new Set([before]);
    for (let i = 0; i < 50; i++) {
      tree.set(`user/${i * 7}`, digestOf(i + 1_000_000));
      seen.add(tree.rootHash());
      tree.set(`user/${i * 7}`, digestOf(i * 7));
      expect(tree.rootHash()).toBe(before);
    }
    expect(seen.size).toBe(51);
  });

  it('buckets keys by ring position, over the segment [start, end) it covers', () => {
    const start = 2 ** 31;
    const end = 2 ** 31 + 2 ** 24 + 12345;
    const tree = new MerkleTree({ fanout: 4, depth: 3, start, end });
    const keys = Array.from({ length: 200_000 }, (_, i) => `k${i}`).filter((k) => positionOf(k) >= start && positionOf(k) < end);
    expect(keys.length).toBeGreaterThan(500);
    for (const k of keys) tree.set(k, 'aa');
    const perLeaf = Array.from({ length: 64 }, (_, leaf) => tree.leafSize(leaf));
    // every leaf of the segment gets keys: the segment is spread over all leaves, not a corner of them
    expect(Math.min(...perLeaf)).toBeGreaterThan(0);
    expect(perLeaf.reduce((a, b) => a + b, 0)).toBe(keys.length);
    // leaves follow positions in order
    const byPosition = [...keys].sort((a, b) => positionOf(a) - positionOf(b));
    const leaves = byPosition.map((k) => tree.leafOf(k) as number);
    expect(leaves).toEqual([...leaves].sort((a, b) => a - b));
    const outside = Array.from({ length: 100 }, (_, i) => `o${i}`).find((k) => positionOf(k) < start) as string;
    expect(tree.leafOf(outside)).toBeUndefined();
    expect(code(() => tree.set(outside, 'aa'))).toBe('MERKLE_INVALID_ENTRY');
    expect(tree.get(outside)).toBeUndefined();
    expect(tree.delete(outside)).toBe(false);
  });

  it('maps positions to leaves exactly: floor((position - start) x leaves / (end - start))', () => {
    const segment = fc.tuple(fc.nat(2 ** 32 - 1), fc.nat(2 ** 32 - 1)).map(([x, y]) => (x === y ? [x, x + 1] : [Math.min(x, y), Math.max(x, y) + 1]) as [number, number]);
    fc.assert(
      fc.property(segment, fc.constantFrom(1, 3, 5), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), ([start, end], depth, at) => {
        const shape = new MerkleTree({ fanout: 16, depth, start, end }).shape;
        const leaves = 16 ** depth;
        const position = start + Math.floor(at * (end - start));
        const exact = (p: number): number => Number((BigInt(p - start) * BigInt(leaves)) / BigInt(end - start));
        expect(leafOfPosition(shape, position)).toBe(exact(position));
        expect(leafOfPosition(shape, start)).toBe(0);
        expect(leafOfPosition(shape, end - 1)).toBe(exact(end - 1));
        expect(leafOfPosition(shape, end - 1)).toBeLessThan(leaves);
        expect(leafOfPosition(shape, end)).toBeUndefined();
      }),
      { numRuns: 300 },
    );
    // over the whole ring with 2^20 leaves, the leaf is the position's top 20 bits
    const shape = new MerkleTree({ fanout: 16, depth: 5 }).shape;
    for (const p of [0, 1, 4095, 4096, 2 ** 31, 2 ** 32 - 1]) expect(leafOfPosition(shape, p)).toBe(p >>> 12);
  });
});

describe('depthForKeys', () => {
  it('picks the smallest depth with at most 8 keys per leaf on average, capped at 2^20 leaves', () => {
    expect([0, 100, 128, 129, 1000, 10_000, 100_000, 500_000, 1_000_000, 10 ** 9].map((n) => depthForKeys(n))).toEqual([1, 1, 1, 2, 2, 3, 4, 4, 5, 5]);
    expect(depthForKeys(1000, 2)).toBe(7);
    expect(DEFAULT_FANOUT ** depthForKeys(10 ** 12) <= MAX_LEAVES).toBe(true);
    expect(DEFAULT_DEPTH).toBe(depthForKeys(500_000));
    expect(code(() => depthForKeys(-1))).toBe('MERKLE_INVALID_OPTION');
    expect(code(() => depthForKeys(10, 3))).toBe('MERKLE_INVALID_OPTION');
  });
});
