// The record frame against its definition in docs/storage.md: the checksum is zlib's CRC-32 of
// the length bytes, the type byte and the payload, whatever shortcut the code takes to it.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { crc32 } from 'node:zlib';
import { INTACT_SEARCH_ALLOWANCE_BYTES, encodeRecord, findIntactRecordAfter, payloadOf, readRecordAt } from './format.js';

describe('record frames', () => {
  it('carry crc32(length bytes | type | payload) and read back to their payload', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 255 }), fc.uint8Array({ maxLength: 600 }), (type, payload) => {
        const frame = encodeRecord(type, payload);
        expect(frame.readUInt32LE(0)).toBe(payload.length);
        const covered = Buffer.concat([frame.subarray(0, 4), frame.subarray(8)]);
        expect(frame.readUInt32LE(4)).toBe(crc32(covered));
        const record = readRecordAt(frame, 0);
        if (typeof record === 'string') throw new Error(`unreadable: ${record}`);
        expect(record).toEqual({ type, offsetBytes: 0, payloadBytes: payload.length });
        expect([...payloadOf(frame, record)]).toEqual([...payload]);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses a frame with any single bit flipped', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.nat(), fc.nat(7), (payload, at, bit) => {
        const frame = encodeRecord(7, payload);
        const offset = at % frame.length;
        frame[offset] = (frame[offset] as number) ^ (1 << bit);
        expect(typeof readRecordAt(frame, 0)).toBe('string');
      }),
      { numRuns: 300 },
    );
  });
});

/** Bytes in which every fourth offset reads as a record header of a valid type and `lengthField`'s length (its low byte must not be 0). */
function wouldBeRecords(bytes: number, lengthField: number): Buffer {
  const buf = Buffer.alloc(bytes);
  for (let i = 0; i + 4 <= bytes; i += 4) buf.writeUInt32LE(lengthField, i);
  return buf;
}

describe('searching for an intact record after damage', () => {
  it('finds one, and finds none in zeros', () => {
    const record = encodeRecord(9, Buffer.from('intact'));
    expect(findIntactRecordAfter(Buffer.concat([Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), record]), 0)).toBe(10);
    expect(findIntactRecordAfter(Buffer.alloc(1 << 20), 0)).toBeNull();
  });

  it('gives up instead of checksumming without bound: 4 MiB of would-be records are a million candidates of 256 KiB', () => {
    // Unbounded, this search checksummed 256 GiB. It must stop at its bound: a fixed allowance
    // plus a multiple of the bytes searched.
    expect(findIntactRecordAfter(wouldBeRecords(4 << 20, 0x0004_0001), 0)).toBe('undecided');
    // the bound is on bytes checksummed: about 1,000 candidates of 266 bytes decide within the
    // default allowance, and not within 10 candidates' worth
    const few = wouldBeRecords(4096 + 257, 0x0000_0101);
    expect(1000 * 266).toBeLessThan(INTACT_SEARCH_ALLOWANCE_BYTES);
    expect(findIntactRecordAfter(few, 0)).toBeNull();
    expect(findIntactRecordAfter(few, 0, 10 * 266)).toBe('undecided');
  });
});
