// Where a key lands on a hash ring: MurmurHash3 (x86, 32-bit) of the key's UTF-8 bytes, the hash
// Cassandra's and Riak-core's successors use for placement because it is fast and spreads well.
// Written here (a dozen lines) so that the browser, the simulator and real nodes agree bit for bit.

/** Positions on a hash ring are integers in [0, RING_SIZE). */
export const RING_SIZE = 2 ** 32;

const encoder = new TextEncoder();
/** Longest ASCII key positionOf copies into its scratch bytes instead of encoding (longer ones are encoded). */
const SCRATCH_BYTES = 1024;
const scratch = new Uint8Array(SCRATCH_BYTES);

/** MurmurHash3_x86_32 of `bytes` with `seed`, as an unsigned 32-bit integer. */
export function murmur3(bytes: Uint8Array, seed = 0): number {
  return murmur3Prefix(bytes, bytes.length, seed);
}

/** MurmurHash3_x86_32 of the first `length` bytes of `bytes`. */
function murmur3Prefix(bytes: Uint8Array, length: number, seed: number): number {
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  let h = seed | 0;
  const blocks = length >>> 2;
  for (let i = 0; i < blocks; i++) {
    const at = i << 2;
    let k = (bytes[at] as number) | ((bytes[at + 1] as number) << 8) | ((bytes[at + 2] as number) << 16) | ((bytes[at + 3] as number) << 24);
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const tail = blocks << 2;
  const rest = length & 3;
  if (rest > 0) {
    let k = 0;
    if (rest === 3) k ^= (bytes[tail + 2] as number) << 16;
    if (rest >= 2) k ^= (bytes[tail + 1] as number) << 8;
    k ^= bytes[tail] as number;
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
  }
  h ^= length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The position of a key (or any string, e.g. a vnode's name) on the hash ring. An ASCII string
 * is its own UTF-8: its characters are copied into scratch bytes, which saves the encoder's
 * allocation on every write's path (about 1 us a call here); any other string is encoded.
 */
export function positionOf(text: string): number {
  const length = text.length;
  if (length <= SCRATCH_BYTES) {
    let i = 0;
    for (; i < length; i++) {
      const c = text.charCodeAt(i);
      if (c >= 0x80) break;
      scratch[i] = c;
    }
    if (i === length) return murmur3Prefix(scratch, length, 0);
  }
  return murmur3(encoder.encode(text));
}
