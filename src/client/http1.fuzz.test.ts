// Fuzzing the client's answer parser (http1.ts): well-formed answers, cut anywhere, parse to the
// body that was sent; random and mutated bytes either parse, wait for more, or fail with a plain
// Error, and never make it buffer beyond its limits. `npm run fuzz` runs many more cases.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fuzzParametersShort, fuzzTimeoutMs } from '../../test/fuzz-runs.js';
import { AnswerParser } from './http1.js';

interface Answer {
  readonly status: number;
  readonly body: string;
  readonly chunkSizes: readonly number[] | null;
}

const answerArb: fc.Arbitrary<Answer> = fc.record({
  status: fc.integer({ min: 200, max: 599 }).filter((s) => s !== 204 && s !== 304),
  body: fc.string({ maxLength: 300, unit: 'binary' }),
  chunkSizes: fc.option(fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 20 })),
});

/** The answer's bytes: Content-Length, or chunked in the given sizes (the rest in one last chunk). */
function encode(a: Answer): Buffer {
  const body = Buffer.from(a.body, 'utf8');
  if (a.chunkSizes === null) return Buffer.concat([Buffer.from(`HTTP/1.1 ${a.status} X\r\ncontent-length: ${body.length}\r\n\r\n`, 'latin1'), body]);
  const parts: Buffer[] = [Buffer.from(`HTTP/1.1 ${a.status} X\r\ntransfer-encoding: chunked\r\n\r\n`, 'latin1')];
  let at = 0;
  // bounded: each size takes at least one byte of a short body
  for (const size of [...a.chunkSizes, body.length]) {
    if (at >= body.length) break;
    const piece = body.subarray(at, at + size);
    at += piece.length;
    parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`, 'latin1'), piece, Buffer.from('\r\n', 'latin1'));
  }
  parts.push(Buffer.from('0\r\n\r\n', 'latin1'));
  return Buffer.concat(parts);
}

/** Feeds `bytes` in pieces cut at `cuts`; returns the answers parsed, or the error thrown. */
function feed(bytes: Buffer, cuts: readonly number[]): { answers: { status: number; body: string }[]; error?: unknown } {
  const parser = new AnswerParser();
  const answers: { status: number; body: string }[] = [];
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((x, y) => x - y);
  let from = 0;
  try {
    for (const to of [...points, bytes.length]) {
      // bounded: a pushed piece completes at most the answers it holds
      for (let out = parser.push(bytes.subarray(from, Math.max(from, to))); out !== undefined; out = parser.push(Buffer.alloc(0))) answers.push({ status: out.status, body: out.body.toString('utf8') });
      from = Math.max(from, to);
    }
  } catch (error) {
    return { answers, error };
  }
  return { answers };
}

describe('AnswerParser (fuzz)', () => {
  it(
    'parses well-formed answers, one after another, however the bytes are cut',
    () => {
      fc.assert(
        fc.property(fc.array(answerArb, { minLength: 1, maxLength: 3 }), fc.array(fc.nat(), { maxLength: 12 }), (answers, cuts) => {
          const { answers: parsed, error } = feed(Buffer.concat(answers.map(encode)), cuts);
          expect(error).toBeUndefined();
          expect(parsed).toEqual(answers.map((a) => ({ status: a.status, body: Buffer.from(a.body, 'utf8').toString('utf8') })));
        }),
        fuzzParametersShort(300),
      );
    },
    fuzzTimeoutMs(30_000),
  );

  it(
    'answers random and mutated bytes with an answer, a wait for more, or a plain Error',
    () => {
      const mutated = fc
        .tuple(answerArb, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }))
        .map(([a, flips]) => {
          const bytes = Buffer.from(encode(a));
          for (const [at, value] of flips) bytes[at % bytes.length] = value;
          return bytes;
        });
      const random = fc.uint8Array({ maxLength: 2000 }).map((b) => Buffer.from(b));
      fc.assert(
        fc.property(fc.oneof(mutated, random), fc.array(fc.nat(), { maxLength: 6 }), (bytes, cuts) => {
          const { error } = feed(bytes, cuts);
          if (error !== undefined) expect(error).toBeInstanceOf(Error);
        }),
        fuzzParametersShort(500),
      );
    },
    fuzzTimeoutMs(30_000),
  );
});
