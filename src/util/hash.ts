// Small integer hashing shared by the simulator's stream seeding and the checker's memo table.

/** MurmurHash3's 32-bit finaliser: spreads the bits of `x` over the whole word. */
export function mix32(x: number): number {
  let h = x | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}
