// Checks the CRC-32C against published vectors (the "123456789" check value and the iSCSI
// vectors of RFC 3720, appendix B.4) and checks that chunked hashing equals one-shot hashing.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { crc32c } from './crc32c.js';

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('crc32c', () => {
  it('matches the standard check value', () => {
    expect(crc32c(ascii('123456789'))).toBe(0xe3069283);
  });

  it('matches the RFC 3720 vectors', () => {
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i))).toBe(0x113fdb5c);
  });

  it('is zero for no bytes', () => {
    expect(crc32c(new Uint8Array(0))).toBe(0);
  });

  it('continues across chunks and honours start/end', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(), (bytes, cutSeed) => {
        const cut = bytes.length === 0 ? 0 : cutSeed % (bytes.length + 1);
        const whole = crc32c(bytes);
        expect(crc32c(bytes, crc32c(bytes, 0, 0, cut), cut)).toBe(whole);
        expect(crc32c(bytes.subarray(cut))).toBe(crc32c(bytes, 0, cut));
      }),
    );
  });

  it('agrees with a bit-at-a-time reference', () => {
    const reference = (bytes: Uint8Array): number => {
      let c = 0xffffffff;
      for (const b of bytes) {
        c ^= b;
        for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
      }
      return ~c >>> 0;
    };
    fc.assert(fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
      expect(crc32c(bytes)).toBe(reference(bytes));
    }));
  });
});
