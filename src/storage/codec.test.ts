// The JSON codec's parts must be exactly JSON.stringify's text, however a value is split.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { jsonCodec, jsonParts } from './codec.js';

const joined = (parts: Iterable<Uint8Array>): string => Buffer.concat([...parts]).toString('utf8');

describe('jsonParts', () => {
  it('gives the bytes of JSON.stringify for any JSON value and any part size', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.integer({ min: 1, max: 200 }), (value, partChars) => {
        expect(joined(jsonParts(value, partChars))).toBe(JSON.stringify(value));
      }),
      { numRuns: 500 },
    );
  });

  it('splits a large store into many parts, none near its whole size', () => {
    const items = Array.from({ length: 20_000 }, (_, i) => [`key${i}`, 'v'.repeat(256), 1, i, i]);
    const value = { meta: { index: 5 }, data: { machine: { revision: 9, items }, sessions: [] }, entriesAfter: [] };
    const parts = [...jsonParts(value)];
    const total = parts.reduce((sum, p) => sum + p.length, 0);
    expect(parts.length).toBeGreaterThan(50);
    expect(Math.max(...parts.map((p) => p.length))).toBeLessThan(total / 20);
    expect(jsonCodec.decode(Buffer.concat(parts))).toEqual(value);
  });

  it('drops what JSON has no form for, as JSON.stringify does', () => {
    const long = Array.from({ length: 40 }, (_, i) => (i === 3 ? undefined : i));
    const value = { a: undefined, b: long, c: { d: () => 1, e: new Date(0) } };
    expect(joined(jsonParts(value, 8))).toBe(JSON.stringify(value));
  });
});
