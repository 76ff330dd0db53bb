// The JSON codec: its parts are exactly JSON.stringify's text however a value is split, and it refuses
// (with StorageErrors) what it could not read back: text that is not JSON, nesting too deep, too long.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MAX_JSON_DEPTH, jsonCodec, jsonParts, nestsDeeperThan } from './codec.js';

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

/** A value nesting `depth` arrays (depth 0 is the number itself). */
function nestedArrays(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

const decodeText = (text: string): unknown => jsonCodec.decode(Buffer.from(text, 'utf8'));

describe('jsonCodec refuses what it cannot read back, with StorageErrors', () => {
  it('decodes text that is not JSON to WAL_UNSUPPORTED, not a SyntaxError', () => {
    for (const text of ['', '{', 'nul', '[1,]', '\uFEFF{}', '"\\x"']) {
      expect(() => decodeText(text)).toThrow(expect.objectContaining({ name: 'StorageError', code: 'WAL_UNSUPPORTED' }));
    }
    expect(() => jsonCodec.decode(Uint8Array.of(0xff, 0xfe, 0x00))).toThrow(expect.objectContaining({ code: 'WAL_UNSUPPORTED' }));
  });

  it('refuses 100,000 levels of nesting, closed or not, arrays or objects', () => {
    const levels = 100_000;
    for (const text of ['['.repeat(levels), '['.repeat(levels) + ']'.repeat(levels), '{"a":'.repeat(levels) + '1' + '}'.repeat(levels)]) {
      expect(() => decodeText(text)).toThrow(expect.objectContaining({ name: 'StorageError', code: 'WAL_UNSUPPORTED', message: expect.stringMatching(/deeper than 1000 levels/) }));
    }
  });

  it('reads and writes exactly MAX_JSON_DEPTH levels, and refuses one more on both sides', () => {
    const deepest = nestedArrays(MAX_JSON_DEPTH);
    expect(jsonCodec.decode(jsonCodec.encode(deepest))).toEqual(deepest);
    const tooDeep = nestedArrays(MAX_JSON_DEPTH + 1);
    expect(() => jsonCodec.encode(tooDeep)).toThrow(expect.objectContaining({ code: 'STORAGE_INVALID_OP' }));
    expect(() => decodeText(JSON.stringify(tooDeep))).toThrow(expect.objectContaining({ code: 'WAL_UNSUPPORTED' }));
    // in parts (snapshots), where the body object is one level itself
    const body = { data: nestedArrays(MAX_JSON_DEPTH - 1) };
    expect(jsonCodec.decode(Buffer.concat([...jsonCodec.encodeParts(body)]))).toEqual(body);
    expect(() => [...jsonCodec.encodeParts({ data: deepest })]).toThrow(expect.objectContaining({ code: 'STORAGE_INVALID_OP' }));
    // long arrays are walked element by element: the walk counts its own levels too
    const longDeep = Array.from({ length: 40 }, () => nestedArrays(MAX_JSON_DEPTH - 1));
    expect(jsonCodec.decode(Buffer.concat([...jsonCodec.encodeParts(longDeep)]))).toEqual(longDeep);
    expect(() => [...jsonCodec.encodeParts([longDeep])]).toThrow(expect.objectContaining({ code: 'STORAGE_INVALID_OP' }));
    const walkedTooDeep = nestedArrays(MAX_JSON_DEPTH + 1) as unknown[];
    expect(() => [...jsonCodec.encodeParts(Array.from({ length: 40 }, () => walkedTooDeep))]).toThrow(expect.objectContaining({ code: 'STORAGE_INVALID_OP' }));
  });

  it('counts brackets inside strings as text, not nesting', () => {
    const value = { text: '['.repeat(5000) + '{'.repeat(5000), list: ['"[', '\\"[['] };
    expect(jsonCodec.decode(jsonCodec.encode(value))).toEqual(value);
    expect(nestsDeeperThan(JSON.stringify(value), 2)).toBe(false);
    expect(nestsDeeperThan('[[[', 2)).toBe(true);
  });

  it('turns what JSON.stringify throws on into STORAGE_INVALID_OP', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    for (const value of [cyclic, { n: 1n }, undefined]) {
      expect(() => jsonCodec.encode(value)).toThrow(expect.objectContaining({ code: 'STORAGE_INVALID_OP' }));
      expect(() => [...jsonCodec.encodeParts(value)]).toThrow(expect.objectContaining({ code: 'STORAGE_INVALID_OP' }));
    }
    expect(() => [...jsonCodec.encodeParts(Array.from({ length: 40 }, () => ({ n: 1n })))]).toThrow(expect.objectContaining({ code: 'STORAGE_INVALID_OP' }));
  });

  it('refuses to write a snapshot text longer than decode can hold as one string', () => {
    const value = Array.from({ length: 100 }, (_, i) => `item-${i}`);
    const chars = JSON.stringify(value).length;
    expect(Buffer.concat([...jsonParts(value, 16, chars)]).toString('utf8')).toBe(JSON.stringify(value));
    expect(() => [...jsonParts(value, 16, chars - 1)]).toThrow(expect.objectContaining({ code: 'STORAGE_INVALID_OP' }));
  });
});
