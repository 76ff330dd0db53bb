// A sorted set of keys for the store's ranges: sorted chunks of at most CHUNK_MAX keys, so that an
// insert or delete moves at most one chunk and a range starts with two binary searches and walks
// only the keys it returns. Order is JavaScript's string order (UTF-16 code units), the store's.
import { assertInvariant } from '../core/index.js';

/** A chunk splits in two past this many keys; a small chunk merges with a neighbour that has room. */
const CHUNK_MAX = 512;
const CHUNK_MERGE_BELOW = CHUNK_MAX / 8;

/** Index of the first element of `sorted` (ascending numbers, or strings in UTF-16 order) that is >= `value`; sorted.length when none is. */
export function lowerBound<T extends number | string>(sorted: readonly T[], value: T): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as T) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class SortedKeys {
  /** Non-empty chunks, each sorted, every key of a chunk below every key of the next. */
  private chunks: string[][] = [];
  /** The last key of each chunk, parallel to `chunks`: where a key belongs is one binary search. */
  private lasts: string[] = [];
  private count = 0;

  /** A set of `sorted` (ascending, no duplicates; asserted). */
  static fromSorted(sorted: readonly string[]): SortedKeys {
    const set = new SortedKeys();
    for (let i = 0; i < sorted.length; i += CHUNK_MAX / 2) {
      const chunk = sorted.slice(i, i + CHUNK_MAX / 2);
      set.chunks.push(chunk);
      set.lasts.push(chunk[chunk.length - 1] as string);
    }
    for (let i = 1; i < sorted.length; i++) assertInvariant((sorted[i - 1] as string) < (sorted[i] as string), () => `sorted keys: ${JSON.stringify(sorted[i])} is out of order or repeated`);
    set.count = sorted.length;
    return set;
  }

  get size(): number {
    return this.count;
  }

  /** The chunk `key` belongs in: the first whose last key is >= it, else the last chunk. */
  private chunkIndexOf(key: string): number {
    return Math.min(lowerBound(this.lasts, key), this.chunks.length - 1);
  }

  has(key: string): boolean {
    if (this.count === 0) return false;
    const chunk = this.chunks[this.chunkIndexOf(key)] as string[];
    return chunk[lowerBound(chunk, key)] === key;
  }

  /** Adds `key`; false when it was there already. */
  add(key: string): boolean {
    if (this.count === 0) {
      this.chunks.push([key]);
      this.lasts.push(key);
      this.count = 1;
      return true;
    }
    const c = this.chunkIndexOf(key);
    const chunk = this.chunks[c] as string[];
    const i = lowerBound(chunk, key);
    if (chunk[i] === key) return false;
    chunk.splice(i, 0, key);
    this.count++;
    if (i === chunk.length - 1) this.lasts[c] = key;
    if (chunk.length > CHUNK_MAX) {
      const upper = chunk.splice(CHUNK_MAX / 2);
      this.chunks.splice(c + 1, 0, upper);
      this.lasts.splice(c, 1, chunk[chunk.length - 1] as string, upper[upper.length - 1] as string);
    }
    return true;
  }

  /** Removes `key`; false when it was not there. */
  delete(key: string): boolean {
    if (this.count === 0) return false;
    const c = this.chunkIndexOf(key);
    const chunk = this.chunks[c] as string[];
    const i = lowerBound(chunk, key);
    if (chunk[i] !== key) return false;
    chunk.splice(i, 1);
    this.count--;
    if (chunk.length === 0) {
      this.chunks.splice(c, 1);
      this.lasts.splice(c, 1);
      return true;
    }
    if (i === chunk.length) this.lasts[c] = chunk[chunk.length - 1] as string;
    if (chunk.length < CHUNK_MERGE_BELOW) this.mergeWithNeighbour(c);
    return true;
  }

  /** Joins chunk `c` with the next (or previous) one when the two fit in one: deletes never leave a trail of tiny chunks. */
  private mergeWithNeighbour(c: number): void {
    const left = c + 1 < this.chunks.length ? c : c - 1;
    if (left < 0) return;
    const a = this.chunks[left] as string[];
    const b = this.chunks[left + 1] as string[];
    if (a.length + b.length > CHUNK_MAX) return;
    for (const key of b) a.push(key);
    this.chunks.splice(left + 1, 1);
    this.lasts.splice(left, 2, a[a.length - 1] as string);
  }

  /** The keys >= `lower` (all keys when undefined), ascending. The set must not change during the walk. */
  *from(lower?: string): Generator<string, void, undefined> {
    if (this.count === 0) return;
    let c = lower === undefined ? 0 : lowerBound(this.lasts, lower);
    let i = lower === undefined || c >= this.chunks.length ? 0 : lowerBound(this.chunks[c] as string[], lower);
    const count = this.count;
    for (; c < this.chunks.length; c++, i = 0) {
      const chunk = this.chunks[c] as string[];
      for (; i < chunk.length; i++) {
        assertInvariant(this.count === count, () => 'sorted keys: the set changed during a walk');
        yield chunk[i] as string;
      }
    }
  }

  /** Every key, ascending. */
  toArray(): string[] {
    return this.chunks.flat();
  }
}
