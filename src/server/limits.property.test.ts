// No request the KV accepts can make replication or persistence fail: whatever value passes the
// leader's admission check (src/kv/limits.ts) encodes for the peer transport (MessagePack), for the
// write-ahead log (JSON) and for a snapshot, and decodes to the same value. Values past the limits
// (deep nesting, size, lone surrogates) are refused before they reach the log, inside a txn too
// (whose operations, nesting and total size are bounded as well).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { kvCommandProblem, MAX_KEY_BYTES, MAX_TXN_BYTES, MAX_VALUE_BYTES, MAX_VALUE_DEPTH } from '../kv/index.js';
import { decodeWireFrame, encodeMessageFrame } from '../net/codec.js';
import { FRAME_HEADER_BYTES } from '../net/frame.js';
import type { JsonValue } from '../sim/index.js';
import { jsonCodec, jsonParts } from '../storage/codec.js';


/** Nests `inner` in `depth` arrays or objects, alternating, without recursion. */
function nest(inner: JsonValue, depth: number, objects: boolean): JsonValue {
  let value = inner;
  for (let i = 0; i < depth; i++) value = objects && i % 2 === 0 ? { k: value } : [value];
  return value;
}

const scalar = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }), // any code unit, lone surrogates included
);
const json: fc.Arbitrary<JsonValue> = fc.letrec<{ v: JsonValue }>((tie) => ({
  v: fc.oneof({ depthSize: 'small' }, scalar, fc.array(tie('v'), { maxLength: 4 }), fc.dictionary(fc.string({ maxLength: 6 }), tie('v'), { maxKeys: 4 })),
})).v;
/** Mostly ordinary values, some nested to around the limit and far past it, some large. */
const value = fc.oneof(
  { weight: 4, arbitrary: json },
  { weight: 2, arbitrary: fc.tuple(json, fc.integer({ min: MAX_VALUE_DEPTH - 3, max: MAX_VALUE_DEPTH + 3 }), fc.boolean()).map(([v, d, o]) => nest(v, d, o)) },
  { weight: 1, arbitrary: fc.tuple(json, fc.integer({ min: 100, max: 20_000 }), fc.boolean()).map(([v, d, o]) => nest(v, d, o)) },
  { weight: 1, arbitrary: fc.integer({ min: MAX_VALUE_BYTES - 20, max: MAX_VALUE_BYTES + 20 }).map((n) => 'x'.repeat(n)) },
);
const key = fc.oneof(fc.string({ unit: 'binary', minLength: 0, maxLength: 20 }), fc.integer({ min: MAX_KEY_BYTES - 2, max: MAX_KEY_BYTES + 2 }).map((n) => 'k'.repeat(n)));

/** What the leader would send and store for one accepted command. */
function carriesEverywhere(command: JsonValue): void {
  const entry = { index: 7, term: 2, kind: 'command', command: { clientId: null, seq: 0, op: command } };
  const append = { type: 'append', term: 2, prevIndex: 6, prevTerm: 2, entries: [entry], commit: 6 };
  const frame = encodeMessageFrame(append);
  const decoded = decodeWireFrame(frame.subarray(FRAME_HEADER_BYTES));
  expect(decoded.kind).toBe('message');
  const logged = jsonCodec.decode(jsonCodec.encode([entry]));
  expect(JSON.stringify(logged)).toBe(JSON.stringify([entry]));
  const snapshot = Buffer.concat([...jsonParts({ data: { items: [['k', command]] } })]);
  // JSON has one zero: -0 is written as 0, as every reader of a value (HTTP, the log) sees it
  expect(JSON.parse(snapshot.toString('utf8'))).toEqual(JSON.parse(JSON.stringify({ data: { items: [['k', command]] } })));
}

describe('value limits', () => {
  it('every accepted put encodes for the transport, the log and a snapshot; every refused one is refused with a reason', () => {
    fc.assert(
      fc.property(key, value, (k, v) => {
        const command = { op: 'put', key: k, value: v } as JsonValue;
        const problem = kvCommandProblem(command);
        if (problem === null) carriesEverywhere(command);
        else expect(problem).toMatch(/key|value|nests|bytes|surrogate|empty/);
      }),
      { numRuns: 300 },
    );
  });

  it('carries -0, which JSON writes as 0 (a counterexample fast-check found)', () => {
    carriesEverywhere({ op: 'put', key: 'k', value: -0 });
  });

  it('every accepted txn encodes for the transport, the log and a snapshot; a refused one is refused with a reason', () => {
    const op = fc.oneof(
      fc.record({ op: fc.constant('put'), key, value }),
      fc.record({ op: fc.constant('delete'), prefix: fc.string({ unit: 'binary', maxLength: 8 }) }),
      fc.record({ op: fc.constant('get'), key }),
    );
    const compare = fc.record({ key, target: fc.constant('value'), cmp: fc.constant('='), value });
    fc.assert(
      fc.property(fc.array(compare, { maxLength: 3 }), fc.array(op, { maxLength: 4 }), fc.array(op, { maxLength: 3 }), (c, success, failure) => {
        const command = { op: 'txn', compare: c, success, failure } as JsonValue;
        const problem = kvCommandProblem(command);
        if (problem === null) carriesEverywhere(command);
        else expect(problem).toMatch(/key|value|nests|bytes|surrogate|empty|twice|prefix/);
      }),
      { numRuns: 200 },
    );
    const big = 'x'.repeat(300 * 1024);
    expect(kvCommandProblem({ op: 'txn', success: [1, 2, 3, 4].map((i) => ({ op: 'put', key: `k${i}`, value: big })) })).toMatch(new RegExp(`${MAX_TXN_BYTES}`));
  });

  it('refuses the reported hostile values before they reach the log', () => {
    const deep = (n: number): JsonValue => JSON.parse('['.repeat(n) + ']'.repeat(n)) as JsonValue;
    for (const depth of [2_000, 3_000, 4_500, 10_000]) expect(kvCommandProblem({ op: 'put', key: 'k', value: deep(depth) })).toMatch(/deeper than 64/);
    expect(kvCommandProblem({ op: 'put', key: 'k', value: deep(MAX_VALUE_DEPTH) })).toBeNull();
    expect(kvCommandProblem({ op: 'cas', key: 'k', from: null, to: deep(3_000) })).toMatch(/"to"/);
    expect(kvCommandProblem({ op: 'casVersion', key: 'k', version: 0, value: 'x'.repeat(MAX_VALUE_BYTES + 1) })).toMatch(/limit/);
    expect(kvCommandProblem({ op: 'put', key: 'k'.repeat(MAX_KEY_BYTES + 1), value: 1 })).toMatch(/key/);
    expect(kvCommandProblem({ op: 'put', key: '\ud800', value: 1 })).toMatch(/surrogate/);
    expect(kvCommandProblem({ op: 'put', key: 'k', value: { ['\udc00']: 1 } })).toMatch(/surrogate/);
  });
});
