// The record frame against its definition in docs/storage.md: the checksum is zlib's CRC-32 of
// the length bytes, the type byte and the payload, whatever shortcut the code takes to it.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { crc32 } from 'node:zlib';
import { encodeRecord, payloadOf, readRecordAt } from './format.js';

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
