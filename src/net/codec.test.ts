// Payload codec tests: every frame kind round-trips, JSON-like messages with binary fields
// survive msgpackr unchanged, and random or hostile payload bytes fail only as
// NET_FRAME_MALFORMED (never another exception, never a crash of later decodes).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Message } from '../core/index.js';
import { FRAME_KIND, NONCE_BYTES, PROTOCOL_VERSION, decodeWireFrame, encodeMessageFrame, encodeWireFrame, type WireFrame } from './codec.js';
import { NetError } from './errors.js';
import { FRAME_HEADER_BYTES, FrameDecoder, encodeFrame } from './frame.js';

const payloadOf = (frame: Buffer): Buffer => frame.subarray(FRAME_HEADER_BYTES);

function expectMalformed(payload: Uint8Array): void {
  try {
    decodeWireFrame(payload);
  } catch (error) {
    expect(error).toBeInstanceOf(NetError);
    expect((error as NetError).code).toBe('NET_FRAME_MALFORMED');
  }
}

/** JSON-compatible values plus byte arrays, without the "__proto__" key (renamed by msgpackr's decoder for safety). */
const valueArb: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Object.is(d, -0)),
    fc.string(),
    fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes)),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(fc.string().filter((k) => k !== '__proto__'), tie('value'), { maxKeys: 5 }),
  ),
})).value;

describe('wire codec', () => {
  it('round-trips every frame kind', () => {
    const nonce = Buffer.alloc(NONCE_BYTES, 7);
    const frames: WireFrame[] = [
      { kind: 'hello', version: PROTOCOL_VERSION, from: 'n1', to: 'n2', nonce, clusterId: 'c', incarnation: 'i-1', ticket: nonce },
      { kind: 'foreign_hello', version: PROTOCOL_VERSION + 1 },
      { kind: 'challenge', nonce },
      { kind: 'proof', proof: nonce },
      { kind: 'welcome', proof: nonce, incarnation: '' },
      { kind: 'refuse', reason: 'bad_proof', mac: null },
      { kind: 'refuse', reason: 'identity_changed', mac: nonce },
      { kind: 'message', message: { type: 'append', term: 3, entries: [{ index: 1, data: Buffer.from([1, 2]) }] } as Message },
      { kind: 'ping' },
      { kind: 'pong' },
    ];
    for (const frame of frames) {
      const encoded = encodeWireFrame(frame);
      expect(encoded.readUInt32BE(0)).toBe(encoded.length - FRAME_HEADER_BYTES);
      expect(decodeWireFrame(payloadOf(encoded))).toEqual(frame);
    }
  });

  it('property: messages of JSON-like values and bytes decode to what was sent', () => {
    fc.assert(
      fc.property(fc.string(), fc.dictionary(fc.string().filter((k) => k !== '__proto__' && k !== 'type'), valueArb, { maxKeys: 6 }), (type, fields) => {
        const message = { ...fields, type };
        const decoded = decodeWireFrame(payloadOf(encodeMessageFrame(message)));
        expect(decoded).toEqual({ kind: 'message', message });
      }),
      { numRuns: 500 },
    );
  });

  it('property: random payload bytes fail only as NET_FRAME_MALFORMED', () => {
    const kinds = Object.values(FRAME_KIND);
    fc.assert(
      fc.property(fc.constantFrom(...kinds, 0, 99, 255), fc.uint8Array({ maxLength: 120 }), (kind, body) => {
        expectMalformed(Buffer.concat([Uint8Array.of(kind), body]));
      }),
      { numRuns: 3000 },
    );
  });

  it('property: valid messages with bytes flipped or cut fail only as NET_FRAME_MALFORMED', () => {
    fc.assert(
      fc.property(valueArb, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.boolean(), (body, at, xor, cut) => {
        const payload = Buffer.from(payloadOf(encodeMessageFrame({ type: 't', body } as Message)));
        const position = at % payload.length;
        if (cut) expectMalformed(payload.subarray(0, position));
        else {
          payload[position] = (payload[position] as number) ^ xor;
          expectMalformed(payload);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('rejects hostile shapes: deep nesting, huge declared lengths, non-object messages, short nonces', () => {
    const deep = Buffer.concat([Uint8Array.of(FRAME_KIND.message), Buffer.alloc(500_000, 0x91)]);
    const hostile: Uint8Array[] = [
      Uint8Array.of(),
      deep,
      Uint8Array.of(FRAME_KIND.message, 0xdd, 0xff, 0xff, 0xff, 0xff),
      Uint8Array.of(FRAME_KIND.message, 0xdb, 0xff, 0xff, 0xff, 0xff),
      Uint8Array.of(FRAME_KIND.message, 0xc0),
      Uint8Array.of(FRAME_KIND.message, 0x93, 1, 2, 3),
      Uint8Array.of(FRAME_KIND.message, 0xd6, 0xff, 0, 0, 0, 0),
      Uint8Array.of(FRAME_KIND.message, 0x80),
      Uint8Array.of(FRAME_KIND.message, 0x81, 0xa1, 0x74, 0x01),
      payloadOf(encodeWireFrame({ kind: 'challenge', nonce: Buffer.alloc(NONCE_BYTES) })).subarray(0, 10),
      Uint8Array.of(FRAME_KIND.ping, 0),
    ];
    for (const payload of hostile) expect(() => decodeWireFrame(payload)).toThrow(expect.objectContaining({ code: 'NET_FRAME_MALFORMED' }));
    // A stack overflow inside the decoder must leave it usable.
    expect(decodeWireFrame(payloadOf(encodeMessageFrame({ type: 'after' })))).toEqual({ kind: 'message', message: { type: 'after' } });
  });

  it('property: the whole receive pipeline (framing + payload decoding) fails only with typed errors', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.uint8Array({ maxLength: 60 }), valueArb.map((body) => payloadOf(encodeMessageFrame({ type: 'm', body } as Message)))), { maxLength: 6 }),
        fc.uint8Array({ maxLength: 80 }),
        fc.array(fc.nat({ max: 2000 }), { maxLength: 10 }),
        (payloads, tail, cuts) => {
          const stream = Buffer.concat([...payloads.map((p) => encodeFrame(p)), tail]);
          const decoder = new FrameDecoder(1024);
          const points = [...new Set([...cuts.map((c) => Math.min(c, stream.length)), stream.length])].sort((a, b) => a - b);
          try {
            let start = 0;
            for (const point of points) {
              decoder.push(stream.subarray(start, point), (payload) => decodeWireFrame(payload));
              start = point;
            }
            decoder.finish();
          } catch (error) {
            expect(error).toBeInstanceOf(NetError);
          }
        },
      ),
      { numRuns: 1500 },
    );
  });
});
