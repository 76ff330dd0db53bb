// Integer hashing for the search's memo table: a 32-bit finaliser (as in MurmurHash3) that spreads
// the incrementally XOR-ed hash of a linearized set and a state id over the table's slots.

export function mix32(x: number): number {
  let h = x | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

/** A fixed pseudo-random 32-bit word per operation; XOR-ing them hashes a set incrementally. */
export function operationHashes(count: number): Int32Array {
  const hashes = new Int32Array(count);
  for (let i = 0; i < count; i++) hashes[i] = mix32(Math.imul(i + 1, 0x9e3779b1));
  return hashes;
}
