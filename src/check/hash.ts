// Integer hashing for the search's memo table: a 32-bit finaliser (as in MurmurHash3) that spreads
// the incrementally XOR-ed hash of a linearized set and a state id over the table's slots.

import { mix32 } from '../util/index.js';

export { mix32 };

/** A fixed pseudo-random 32-bit word per operation; XOR-ing them hashes a set incrementally. */
export function operationHashes(count: number): Int32Array {
  const hashes = new Int32Array(count);
  for (let i = 0; i < count; i++) hashes[i] = mix32(Math.imul(i + 1, 0x9e3779b1));
  return hashes;
}
