// CRC-32C (Castagnoli), the checksum on every log record and snapshot file. Node 20 has no
// built-in for it, so this is a small table-driven version (slice-by-8: eight 256-entry tables,
// eight input bytes per step), about 200 MB/s here: far from the bottleneck next to fsync.

/** The Castagnoli polynomial, bit-reversed for the LSB-first (reflected) algorithm. */
const POLY_REFLECTED = 0x82f63b78;

function buildTables(): Uint32Array[] {
  const tables = Array.from({ length: 8 }, () => new Uint32Array(256));
  const base = tables[0] as Uint32Array;
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY_REFLECTED : c >>> 1;
    base[n] = c >>> 0;
  }
  // Table t maps a byte to its CRC after it is followed by t zero bytes.
  for (let t = 1; t < 8; t++) {
    const prev = tables[t - 1] as Uint32Array;
    const cur = tables[t] as Uint32Array;
    for (let n = 0; n < 256; n++) {
      const p = prev[n] as number;
      cur[n] = ((p >>> 8) ^ (base[p & 0xff] as number)) >>> 0;
    }
  }
  return tables;
}

const [T0, T1, T2, T3, T4, T5, T6, T7] = buildTables() as [
  Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array,
];

/**
 * CRC-32C of `bytes[start, end)`, continuing from `previous` (the CRC of the bytes before), so
 * a checksum can span several buffers without copying them together.
 */
export function crc32c(bytes: Uint8Array, previous = 0, start = 0, end = bytes.length): number {
  let crc = ~previous >>> 0;
  let i = start;
  // Every index below is in range by the loop bounds; `as number` only satisfies
  // noUncheckedIndexedAccess.
  for (; i + 8 <= end; i += 8) {
    const lo = (crc ^ ((bytes[i] as number) | ((bytes[i + 1] as number) << 8) | ((bytes[i + 2] as number) << 16) | ((bytes[i + 3] as number) << 24))) >>> 0;
    crc =
      (T7[lo & 0xff] as number) ^
      (T6[(lo >>> 8) & 0xff] as number) ^
      (T5[(lo >>> 16) & 0xff] as number) ^
      (T4[lo >>> 24] as number) ^
      (T3[bytes[i + 4] as number] as number) ^
      (T2[bytes[i + 5] as number] as number) ^
      (T1[bytes[i + 6] as number] as number) ^
      (T0[bytes[i + 7] as number] as number);
  }
  for (; i < end; i++) crc = (T0[(crc ^ (bytes[i] as number)) & 0xff] as number) ^ (crc >>> 8);
  return ~crc >>> 0;
}
