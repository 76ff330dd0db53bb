// Frame decoder tests: exact splitting, limits, truncation, and fast-check properties that random
// bytes never escape as anything but a typed NetError and that valid streams split anywhere
// decode to the same payloads.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NetError, isNetError } from './errors.js';
import { FRAME_HEADER_BYTES, FrameDecoder, encodeFrame } from './frame.js';
import { splitAt } from './test/harness.js';

/** Feeds `chunks` and returns the payloads, or the NetError that stopped decoding. */
function decodeAll(chunks: readonly Uint8Array[], maxFrameBytes: number): { payloads: Buffer[]; error: NetError | null } {
  const decoder = new FrameDecoder(maxFrameBytes);
  const payloads: Buffer[] = [];
  try {
    for (const chunk of chunks) decoder.push(chunk, (payload) => payloads.push(Buffer.from(payload)));
    decoder.finish();
    return { payloads, error: null };
  } catch (error) {
    if (!(error instanceof NetError)) throw error;
    return { payloads, error };
  }
}


describe('FrameDecoder', () => {
  it('decodes back-to-back frames in one chunk, including empty ones', () => {
    const stream = Buffer.concat([encodeFrame(Buffer.from('ab')), encodeFrame(Buffer.alloc(0)), encodeFrame(Buffer.from('xyz'))]);
    const { payloads, error } = decodeAll([stream], 100);
    expect(error).toBeNull();
    expect(payloads.map((p) => p.toString())).toEqual(['ab', '', 'xyz']);
  });

  it('assembles a frame delivered one byte at a time', () => {
    const stream = encodeFrame(Buffer.from('hello world'));
    const { payloads } = decodeAll([...stream].map((b) => Uint8Array.of(b)), 100);
    expect(payloads.map((p) => p.toString())).toEqual(['hello world']);
  });

  it('rejects an oversized header before buffering the body, and stays failed', () => {
    const decoder = new FrameDecoder(10);
    const header = Buffer.alloc(FRAME_HEADER_BYTES);
    header.writeUInt32BE(11, 0);
    expect(() => decoder.push(header, () => {})).toThrow(expect.objectContaining({ code: 'NET_FRAME_OVERSIZE' }));
    expect(() => decoder.push(encodeFrame(Buffer.from('ok')), () => {})).toThrow(expect.objectContaining({ code: 'NET_FRAME_OVERSIZE' }));
  });

  it('accepts a frame of exactly the limit and a raised limit', () => {
    const decoder = new FrameDecoder(4);
    const seen: string[] = [];
    decoder.push(encodeFrame(Buffer.from('four')), (p) => seen.push(p.toString()));
    decoder.setMaxFrameBytes(8);
    decoder.push(encodeFrame(Buffer.from('eight!!!')), (p) => seen.push(p.toString()));
    expect(seen).toEqual(['four', 'eight!!!']);
  });

  it('reports a stream that ends inside a header or a body as truncated', () => {
    const frame = encodeFrame(Buffer.from('payload'));
    for (const cut of [2, FRAME_HEADER_BYTES, frame.length - 1]) {
      const { error } = decodeAll([frame.subarray(0, cut)], 100);
      expect(error?.code).toBe('NET_FRAME_TRUNCATED');
    }
    expect(decodeAll([frame], 100).error).toBeNull();
  });

  it('property: random bytes in random chunks never raise anything but a typed error', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 12 }), fc.integer({ min: 0, max: 300 }), (chunks, limit) => {
        const { payloads, error } = decodeAll(chunks, limit);
        if (error !== null) expect(['NET_FRAME_OVERSIZE', 'NET_FRAME_TRUNCATED']).toContain(error.code);
        for (const payload of payloads) expect(payload.length).toBeLessThanOrEqual(limit);
      }),
      { numRuns: 2000 },
    );
  });

  it('property: valid frames split at arbitrary boundaries decode identically', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }),
        fc.array(fc.nat({ max: 7000 }), { maxLength: 40 }),
        (payloads, cuts) => {
          const stream = Buffer.concat(payloads.map((p) => encodeFrame(p)));
          const { payloads: decoded, error } = decodeAll(splitAt(stream, cuts), 300);
          expect(error).toBeNull();
          expect(decoded.map((p) => p.toString('hex'))).toEqual(payloads.map((p) => Buffer.from(p).toString('hex')));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('property: a valid stream followed by garbage yields its frames first, then at most a typed error', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 50 }), { maxLength: 8 }), fc.uint8Array({ maxLength: 40 }), fc.array(fc.nat({ max: 600 })), (payloads, garbage, cuts) => {
        const stream = Buffer.concat([...payloads.map((p) => encodeFrame(p)), garbage]);
        const { payloads: decoded, error } = decodeAll(splitAt(stream, cuts), 64);
        expect(decoded.slice(0, payloads.length).map((p) => p.toString('hex'))).toEqual(payloads.map((p) => Buffer.from(p).toString('hex')));
        if (error !== null) expect(isNetError(error)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});
