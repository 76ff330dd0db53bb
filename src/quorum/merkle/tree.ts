// A replica's Merkle tree over one partition: key -> digest of the key's versions, bucketed by
// ring position into fanout^depth leaves. Writes update a leaf's XOR hash at once and only mark
// its ancestors dirty; inner hashes are recomputed when read, once per dirty node.
import { assertInvariant } from '../../core/assert.js';
import { positionOf } from '../../ring/hash.js';
import { describeValue, failMerkle } from './errors.js';
import { entryHash, HASH_BYTES, hashToText, innerHash, isValidDigest, isValidKey, MAX_KEY_LENGTH, MAX_DIGEST_BYTES, xorInto } from './hash.js';
import { leafOfPosition, nodeCount, shapeOf, type MerkleShape, type MerkleTreeOptions } from './shape.js';

interface Leaf {
  /** key -> digest (lowercase hex). Never empty: an empty leaf is dropped. */
  readonly entries: Map<string, string>;
  /** XOR of the entries' hashes. */
  readonly hash: Uint8Array;
}

export class MerkleTree {
  readonly shape: MerkleShape;
  /** Non-empty leaves by index: sparse, so a tree costs memory for its keys, not its shape. */
  private readonly leaves = new Map<number, Leaf>();
  /** inner[level]: hashes of the non-empty nodes at level 0 (root) .. depth - 1, by index. */
  private readonly inner: Map<number, Uint8Array>[];
  /** dirty[level]: nodes whose hash is stale. A dirty node's ancestors are all dirty. */
  private readonly dirty: Set<number>[];
  private stale = false;
  private count = 0;

  constructor(options: MerkleTreeOptions = {}) {
    this.shape = shapeOf(options);
    this.inner = Array.from({ length: this.shape.depth }, () => new Map<number, Uint8Array>());
    this.dirty = Array.from({ length: this.shape.depth }, () => new Set<number>());
  }

  /** Keys held. */
  get size(): number {
    return this.count;
  }

  get(key: string): string | undefined {
    const leaf = this.leafOf(key);
    return leaf === undefined ? undefined : this.leaves.get(leaf)?.entries.get(key);
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  /**
   * Sets `key`'s digest (lowercase hex, 1 to 64 bytes: a hash of its versions, siblings or
   * tombstone). O(depth). Throws MERKLE_INVALID_ENTRY for a malformed key or digest, or a key
   * whose position lies outside the tree's segment.
   */
  set(key: string, digest: string): void {
    if (!isValidKey(key)) failMerkle('MERKLE_INVALID_ENTRY', `a key is a well-formed string of at most ${MAX_KEY_LENGTH} code units, got ${describeValue(key)}`);
    if (!isValidDigest(digest)) failMerkle('MERKLE_INVALID_ENTRY', `a digest is 1 to ${MAX_DIGEST_BYTES} bytes of lowercase hex, got ${describeValue(digest)}`);
    const index = this.leafOf(key);
    if (index === undefined) failMerkle('MERKLE_INVALID_ENTRY', `key ${describeValue(key)} lies outside the tree's segment [${this.shape.start}, ${this.shape.end})`);
    let leaf = this.leaves.get(index);
    if (leaf === undefined) {
      leaf = { entries: new Map(), hash: new Uint8Array(HASH_BYTES) };
      this.leaves.set(index, leaf);
    }
    const old = leaf.entries.get(key);
    if (old === digest) return;
    if (old === undefined) this.count++;
    else xorInto(leaf.hash, entryHash(key, old));
    xorInto(leaf.hash, entryHash(key, digest));
    leaf.entries.set(key, digest);
    this.markDirty(index);
  }

  /** Removes `key`; false when it was not held. O(depth). */
  delete(key: string): boolean {
    const index = this.leafOf(key);
    const leaf = index === undefined ? undefined : this.leaves.get(index);
    const old = leaf?.entries.get(key);
    if (index === undefined || leaf === undefined || old === undefined) return false;
    xorInto(leaf.hash, entryHash(key, old));
    leaf.entries.delete(key);
    if (leaf.entries.size === 0) this.leaves.delete(index);
    this.count--;
    this.markDirty(index);
    return true;
  }

  /** Every entry, in no particular order. */
  *entries(): IterableIterator<[string, string]> {
    for (const leaf of this.leaves.values()) yield* leaf.entries;
  }

  /** The root's hash as sent: 32 hex characters, or EMPTY_HASH ('') for an empty tree. */
  rootHash(): string {
    return this.nodeHash(0, 0);
  }

  /** The leaf `key` falls in, or undefined when its position is outside the tree's segment (it can never be held). */
  leafOf(key: string): number | undefined {
    return leafOfPosition(this.shape, positionOf(key));
  }

  /** The hash of node `index` at `level` (0: root, depth: leaves) as sent; EMPTY_HASH when its subtree holds no key. */
  nodeHash(level: number, index: number): string {
    this.checkNode(level, index);
    this.refresh();
    return hashToText(this.hashAt(level, index));
  }

  /** The hashes of the children (at level + 1) of node `index` at `level` < depth, in child order. */
  childHashes(level: number, index: number): string[] {
    this.checkNode(level, index);
    assertInvariant(level < this.shape.depth, () => `a leaf (level ${level}) has no children`);
    this.refresh();
    const first = index * this.shape.fanout;
    return Array.from({ length: this.shape.fanout }, (_, c) => hashToText(this.hashAt(level + 1, first + c)));
  }

  /** The entries of leaf `index`, sorted by key (UTF-16 code units), so both sides list them alike. */
  leafEntries(index: number): [string, string][] {
    this.checkNode(this.shape.depth, index);
    const leaf = this.leaves.get(index);
    return leaf === undefined ? [] : [...leaf.entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** Keys in leaf `index`. */
  leafSize(index: number): number {
    this.checkNode(this.shape.depth, index);
    return this.leaves.get(index)?.entries.size ?? 0;
  }

  /** An independent copy (no hashing: the copy keeps this tree's hashes and dirty marks). */
  clone(): MerkleTree {
    const copy = new MerkleTree(this.shape);
    for (const [index, leaf] of this.leaves) copy.leaves.set(index, { entries: new Map(leaf.entries), hash: leaf.hash.slice() });
    // inner hashes are replaced, never changed in place, so the copy may share them
    this.inner.forEach((level, i) => level.forEach((hash, index) => copy.inner[i]?.set(index, hash)));
    this.dirty.forEach((level, i) => level.forEach((index) => copy.dirty[i]?.add(index)));
    copy.stale = this.stale;
    copy.count = this.count;
    return copy;
  }

  private checkNode(level: number, index: number): void {
    assertInvariant(Number.isInteger(level) && level >= 0 && level <= this.shape.depth, () => `no level ${level} in a tree of depth ${this.shape.depth}`);
    assertInvariant(Number.isInteger(index) && index >= 0 && index < nodeCount(this.shape, level), () => `no node ${index} at level ${level}`);
  }

  /** Marks the ancestors of leaf `index` dirty, bottom up, stopping at the first already dirty (its own ancestors are). */
  private markDirty(index: number): void {
    let node = index;
    for (let level = this.shape.depth - 1; level >= 0; level--) {
      node = Math.floor(node / this.shape.fanout);
      const dirty = this.dirty[level] as Set<number>;
      if (dirty.has(node)) break;
      dirty.add(node);
    }
    this.stale = true;
  }

  /** Recomputes every dirty inner node, deepest level first, so children are fresh when their parent is hashed. */
  private refresh(): void {
    if (!this.stale) return;
    for (let level = this.shape.depth - 1; level >= 0; level--) {
      const hashes = this.inner[level] as Map<number, Uint8Array>;
      const dirty = this.dirty[level] as Set<number>;
      for (const node of dirty) {
        const first = node * this.shape.fanout;
        const hash = innerHash(Array.from({ length: this.shape.fanout }, (_, c) => this.hashAt(level + 1, first + c)));
        if (hash === undefined) hashes.delete(node);
        else hashes.set(node, hash);
      }
      dirty.clear();
    }
    this.stale = false;
    assertInvariant(this.count === 0 ? this.inner[0]?.size === 0 : this.inner[0]?.size === 1, () => `a tree of ${this.count} keys has ${this.inner[0]?.size} roots`);
  }

  private hashAt(level: number, index: number): Uint8Array | undefined {
    return level === this.shape.depth ? this.leaves.get(index)?.hash : this.inner[level]?.get(index);
  }
}
