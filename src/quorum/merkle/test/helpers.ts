// What the Merkle tests share: the error code a call throws, a digest per integer, a tree of entries.
import { MerkleError } from '../errors.js';
import { MerkleTree } from '../tree.js';
import type { MerkleTreeOptions } from '../shape.js';

/** The MerkleError code `f` throws (undefined when it returns). */
export function code(f: () => unknown): string | undefined {
  try {
    f();
  } catch (err) {
    if (err instanceof MerkleError) return err.code;
    throw err;
  }
  return undefined;
}

export const digestOf = (n: number): string => (n >>> 0).toString(16).padStart(8, '0');

export function treeOf(entries: Iterable<readonly [string, string]>, options: MerkleTreeOptions = {}): MerkleTree {
  const tree = new MerkleTree(options);
  for (const [key, digest] of entries) tree.set(key, digest);
  return tree;
}
