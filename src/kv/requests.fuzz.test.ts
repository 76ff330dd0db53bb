// Fuzzing the KV's doors: random and mutated requests (wrong types, negative, fractional and
// unsafe numbers, huge and deeply nested input, ranges that end before they start) decode to a
// request or to a short reason, never a throw; what decodes encodes back to itself and applies
// without throwing; random and mutated snapshots restore or throw KvError BAD_SNAPSHOT, nothing else.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fuzzParametersShort, fuzzTimeoutMs } from '../../test/fuzz-runs.js';
import type { JsonValue } from '../core/index.js';
import { KvError } from './errors.js';
import { decodeKvRequest, isQuery, kvCommandProblem, kvRequestToJson } from './requests.js';
import { KvStore } from './store.js';

const TIMEOUT_MS = fuzzTimeoutMs(30_000);
type Obj = { [key: string]: JsonValue };

const deep = (n: number): JsonValue => JSON.parse('['.repeat(n) + ']'.repeat(n)) as JsonValue;
const hostile: fc.Arbitrary<JsonValue> = fc.oneof(
  fc.constantFrom<JsonValue>(-1, 0, 1, 1.5, -0, 2 ** 53, -(2 ** 53), 1e308, '', 'a', 'zz', null, true, false, [], {}, '\ud800'),
  fc.integer({ min: 0, max: 8 }),
  fc.string({ unit: 'binary', maxLength: 8 }),
  fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<JsonValue>,
  fc.integer({ min: 60, max: 3000 }).map(deep),
  fc.integer({ min: 4000, max: 6000 }).map((n) => 'k'.repeat(n)),
  fc.integer({ min: 1000, max: 3000 }).map((n) => new Array<JsonValue>(n).fill({ op: 'get', key: 'k' })),
);

/** Well-formed requests of every kind, for mutation. */
const VALID: Obj[] = [
  { op: 'get', key: 'a', revision: 2 },
  { op: 'range', prefix: 'd/', limit: 2, revision: 0 },
  { op: 'put', key: 'a', value: 1, lease: 1, prevKv: true },
  { op: 'delete', key: 'a', end: 'c', prevKv: true },
  { op: 'delete', prefix: 'd/', exclude: 'd/x' },
  { op: 'cas', key: 'a', from: null, to: 2 },
  { op: 'casVersion', key: 'a', version: 0, value: 1 },
  { op: 'incr', key: 'n', by: 2 },
  { op: 'compact', revision: 2 },
  { op: 'leaseGrant', ttlMs: 1000, id: 9 },
  { op: 'leaseRevoke', id: 1 },
  { op: 'leaseTimeToLive', id: 1, keys: true },
  { op: 'leaseList', after: 0, limit: 2 },
  { op: 'changes', key: 'a', end: 'e', fromRevision: 1, maxEvents: 2, prevKv: true, noPut: false },
  {
    op: 'txn',
    compare: [{ key: 'a', target: 'value', cmp: '<', value: 5 }, { key: 'b', target: 'modRevision', cmp: '>', value: 0 }],
    success: [{ op: 'put', key: 'x', value: [1] }, { op: 'txn', compare: [], success: [{ op: 'delete', prefix: 'd/' }], failure: [{ op: 'get', key: 'x' }] }],
    failure: [{ op: 'range', start: 'a', end: 'c' }],
  },
];
const FIELDS = ['op', 'key', 'value', 'revision', 'prefix', 'start', 'end', 'exclude', 'limit', 'lease', 'ignoreLease', 'prevKv', 'from', 'to', 'version', 'by', 'ttlMs', 'id', 'keys', 'after', 'fromRevision', 'maxEvents', 'noPut', 'noDelete', 'compare', 'success', 'failure', 'target', 'cmp'];

/** A change to one field of `o` or, at random, of a request nested in its txn branches. */
type Edit = { readonly path: number[]; readonly field: string; readonly value: JsonValue | undefined };
const edit: fc.Arbitrary<Edit> = fc.record({ path: fc.array(fc.nat(3), { maxLength: 3 }), field: fc.constantFrom(...FIELDS), value: fc.option(hostile, { nil: undefined, freq: 6 }) });

function mutate(request: Obj, edits: readonly Edit[]): JsonValue {
  const copy = JSON.parse(JSON.stringify(request)) as Obj;
  for (const e of edits) {
    let target: Obj = copy;
    // walk into txn branches and compares as far as the path leads
    for (const i of e.path) {
      const lists = ['success', 'failure', 'compare'].map((n) => target[n]).filter((l): l is JsonValue[] => Array.isArray(l) && l.length > 0 && l.length < 100);
      const list = lists[i % Math.max(1, lists.length)];
      const next = list?.[i % (list?.length ?? 1)];
      if (next === undefined || next === null || typeof next !== 'object' || Array.isArray(next)) break;
      target = next;
    }
    if (e.value === undefined) delete target[e.field];
    else target[e.field] = e.value;
  }
  return copy;
}

const request: fc.Arbitrary<JsonValue> = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(fc.constantFrom(...VALID), fc.array(edit, { minLength: 1, maxLength: 3 })).map(([r, edits]) => mutate(r, edits)) },
  { weight: 1, arbitrary: fc.constantFrom<JsonValue>(...VALID) },
  { weight: 1, arbitrary: fc.dictionary(fc.constantFrom(...FIELDS), hostile, { maxKeys: 6 }) },
  { weight: 1, arbitrary: hostile },
);

/** A small store with history, a lease and a compaction behind it. */
function sample(): KvStore {
  const kv = new KvStore();
  kv.apply({ op: 'leaseGrant', ttlMs: 1000, id: 1 }, 1);
  for (let i = 0; i < 12; i++) kv.apply({ op: 'put', key: ['a', 'b', 'c', 'd/1', 'd/2'][i % 5] as string, value: i, ...(i % 4 === 0 ? { lease: 1 } : {}) }, i + 2);
  kv.apply({ op: 'delete', key: 'b' }, 20);
  kv.apply({ op: 'compact', revision: 3 }, 21);
  return kv;
}
const SAMPLE = sample().snapshot();

describe('hostile requests', () => {
  it('decode to a request or a short reason; a request encodes back to itself and applies without throwing', () => {
    const params = fuzzParametersShort<[JsonValue]>(400);
    fc.assert(
      fc.property(request, (raw) => {
        const decoded = decodeKvRequest(raw);
        const problem = kvCommandProblem(raw);
        if (!decoded.ok) {
          expect(decoded.problem.length).toBeGreaterThan(0);
          expect(decoded.problem.length).toBeLessThan(600);
          expect(problem).toBe(decoded.problem);
          return;
        }
        const again = decodeKvRequest(kvRequestToJson(decoded.value));
        expect(again).toEqual(decoded);
        const kv = new KvStore();
        kv.restore(SAMPLE);
        const before = kv.revision;
        const result = kv.apply(decoded.value, 100);
        expect(typeof JSON.stringify(result)).toBe('string');
        if (isQuery(decoded.value)) expect(kv.revision).toBe(before);
        else expect(kv.revision - before).toBeLessThanOrEqual(1);
      }),
      params,
    );
  }, TIMEOUT_MS);
});

describe('hostile snapshots', () => {
  const paths = (v: JsonValue, at: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] => {
    out.push(at);
    if (out.length > 400 || v === null || typeof v !== 'object') return out;
    if (Array.isArray(v)) v.forEach((c, i) => paths(c, [...at, i], out));
    else for (const [k, c] of Object.entries(v)) paths(c, [...at, k], out);
    return out;
  };
  const PATHS = paths(SAMPLE).filter((p) => p.length > 0);

  it('restore or throw KvError BAD_SNAPSHOT and leave the store as it was', () => {
    const params = fuzzParametersShort<[JsonValue]>(300);
    const snapshot = fc.oneof(
      { weight: 4, arbitrary: fc.tuple(fc.constantFrom(...PATHS), hostile).map(([path, value]) => {
        const copy = JSON.parse(JSON.stringify(SAMPLE)) as JsonValue;
        let node = copy as { [k: string]: JsonValue };
        for (const step of path.slice(0, -1)) node = node[step as string] as { [k: string]: JsonValue };
        node[path[path.length - 1] as string] = value;
        return copy;
      }) },
      { weight: 1, arbitrary: hostile },
      { weight: 1, arbitrary: fc.dictionary(fc.constantFrom('revision', 'items', 'compactRevision', 'changesFrom', 'history', 'leases'), hostile) },
    );
    fc.assert(
      fc.property(snapshot, (data) => {
        const kv = sample();
        const before = JSON.stringify(kv.snapshot());
        try {
          kv.restore(data);
        } catch (err) {
          expect(err).toBeInstanceOf(KvError);
          expect((err as KvError).code).toBe('BAD_SNAPSHOT');
          expect(JSON.stringify(kv.snapshot())).toBe(before);
          return;
        }
        // what was accepted is a state the store can use and give again
        const copy = new KvStore();
        copy.restore(kv.snapshot());
        expect(copy.snapshot()).toEqual(kv.snapshot());
        for (const key of ['a', 'b', 'c', 'd/1', 'zz']) kv.apply({ op: 'get', key, revision: 0 }, 0);
        kv.apply({ op: 'changes', prefix: '', fromRevision: Math.max(1, kv.compactRevision + 1) }, 0);
        kv.apply({ op: 'put', key: 'a', value: 'after' }, 0);
      }),
      params,
    );
  }, TIMEOUT_MS);
});
