// Tests of the KV state machine: each operation's result and effect, revisions and versions,
// snapshot/restore, and properties (determinism, restore equivalence, agreement with a plain
// reference map) over random command sequences.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { JsonValue } from '../core/index.js';
import { KvError, KvStore, canonicalJson, kvRequestProblem, type KvCommand, type KvRequest } from './store.js';

const run = (store: KvStore, request: KvRequest): JsonValue => store.apply(request, 0);

describe('operations', () => {
  it('put, get and delete with create/mod revisions and versions', () => {
    const kv = new KvStore();
    expect(run(kv, { op: 'get', key: 'a' })).toEqual({ revision: 0, value: null, version: 0, createRevision: 0, modRevision: 0 });
    expect(run(kv, { op: 'put', key: 'a', value: 'x' })).toEqual({ revision: 1, version: 1 });
    expect(run(kv, { op: 'put', key: 'b', value: 2 })).toEqual({ revision: 2, version: 1 });
    expect(run(kv, { op: 'put', key: 'a', value: 'y' })).toEqual({ revision: 3, version: 2 });
    expect(run(kv, { op: 'get', key: 'a' })).toEqual({ revision: 3, value: 'y', version: 2, createRevision: 1, modRevision: 3 });
    expect(run(kv, { op: 'delete', key: 'a' })).toEqual({ revision: 4, deleted: true });
    expect(run(kv, { op: 'delete', key: 'a' })).toEqual({ revision: 4, deleted: false });
    expect(run(kv, { op: 'put', key: 'a', value: 'z' })).toEqual({ revision: 5, version: 1 });
    expect(run(kv, { op: 'get', key: 'a' })).toMatchObject({ createRevision: 5, modRevision: 5, version: 1 });
  });

  it('put of null deletes, as in the checker kv model', () => {
    const kv = new KvStore();
    run(kv, { op: 'put', key: 'a', value: 1 });
    run(kv, { op: 'put', key: 'a', value: null });
    expect(run(kv, { op: 'get', key: 'a' })).toMatchObject({ value: null, version: 0 });
    expect(kv.size).toBe(0);
  });

  it('compare-and-set on value compares structurally and "from: null" means absent', () => {
    const kv = new KvStore();
    expect(run(kv, { op: 'cas', key: 'a', from: 1, to: 2 })).toEqual({ revision: 0, swapped: false, version: 0 });
    expect(run(kv, { op: 'cas', key: 'a', from: null, to: { x: 1, y: [1, 2] } })).toEqual({ revision: 1, swapped: true, version: 1 });
    expect(run(kv, { op: 'cas', key: 'a', from: { y: [1, 2], x: 1 }, to: 3 })).toEqual({ revision: 2, swapped: true, version: 2 });
    expect(run(kv, { op: 'cas', key: 'a', from: 4, to: 5 })).toEqual({ revision: 2, swapped: false, version: 2 });
  });

  it('compare-and-set on version; version 0 means absent', () => {
    const kv = new KvStore();
    expect(run(kv, { op: 'casVersion', key: 'a', version: 0, value: 'new' })).toEqual({ revision: 1, swapped: true, version: 1 });
    expect(run(kv, { op: 'casVersion', key: 'a', version: 0, value: 'again' })).toEqual({ revision: 1, swapped: false, version: 1 });
    expect(run(kv, { op: 'casVersion', key: 'a', version: 1, value: 'next' })).toEqual({ revision: 2, swapped: true, version: 2 });
  });

  it('increment counts an absent key as 0 and refuses non-numbers without a change', () => {
    const kv = new KvStore();
    expect(run(kv, { op: 'incr', key: 'n' })).toEqual({ revision: 1, value: 1, version: 1 });
    expect(run(kv, { op: 'incr', key: 'n', by: 5 })).toEqual({ revision: 2, value: 6, version: 2 });
    run(kv, { op: 'put', key: 's', value: 'text' });
    expect(run(kv, { op: 'incr', key: 's' })).toEqual({ revision: 3, error: 'not-a-number' });
    expect(kv.revision).toBe(3);
  });

  it('lists ranges and prefixes in key order, with a limit', () => {
    const kv = new KvStore();
    for (const key of ['b/2', 'a/1', 'b/1', 'c', 'b/3']) run(kv, { op: 'put', key, value: key });
    const keys = (r: JsonValue) => (r as { items: { key: string }[] }).items.map((i) => i.key);
    expect(keys(run(kv, { op: 'range', prefix: 'b/' }))).toEqual(['b/1', 'b/2', 'b/3']);
    expect(keys(run(kv, { op: 'range', start: 'a', end: 'b/2' }))).toEqual(['a/1', 'b/1']);
    expect(run(kv, { op: 'range', prefix: 'b/', limit: 2 })).toMatchObject({ more: true, revision: 5 });
    expect(keys(run(kv, { op: 'range' }))).toEqual(['a/1', 'b/1', 'b/2', 'b/3', 'c']);
  });

  it('refuses malformed requests with a reason, and writes sent as reads', () => {
    const kv = new KvStore();
    expect(kvRequestProblem({ op: 'put', key: 1, value: 2 })).toMatch(/key/);
    expect(kvRequestProblem({ op: 'nope' })).toMatch(/unknown kv op/);
    expect(kvRequestProblem({ op: 'range', limit: 0 })).toMatch(/limit/);
    expect(kvRequestProblem({ op: 'incr', key: 'a', by: 'x' })).toMatch(/by/);
    expect(kv.decodeQuery({ op: 'put', key: 'a', value: 1 })).toMatchObject({ ok: false, problem: expect.stringMatching(/command/) });
    expect(kv.decodeCommand({ op: 'cas', key: 'a' })).toMatchObject({ ok: false });
    expect(kv.decodeCommand({ op: 'cas', key: 'a', from: 1, to: 2 })).toEqual({ ok: true, value: { op: 'cas', key: 'a', from: 1, to: 2 } });
  });
});

describe('snapshots', () => {
  it('restores everything: values, versions, revisions', () => {
    const kv = new KvStore();
    run(kv, { op: 'put', key: 'a', value: 1 });
    run(kv, { op: 'put', key: 'a', value: 2 });
    run(kv, { op: 'put', key: 'b', value: [1, { c: null }] });
    const copy = new KvStore();
    copy.restore(kv.snapshot());
    expect(copy.snapshot()).toEqual(kv.snapshot());
    expect(run(copy, { op: 'put', key: 'a', value: 3 })).toEqual(run(kv, { op: 'put', key: 'a', value: 3 }));
  });

  it('rejects a malformed snapshot with a typed error', () => {
    expect(() => new KvStore().restore({ revision: 1, items: [['a', 1]] })).toThrow(KvError);
    try {
      new KvStore().restore([]);
    } catch (err) {
      expect((err as KvError).code).toBe('BAD_SNAPSHOT');
    }
  });
});

const keyArb = fc.constantFrom('a', 'b', 'c', 'd/1', 'd/2');
const valueArb: fc.Arbitrary<JsonValue> = fc.oneof(fc.integer({ min: -5, max: 5 }), fc.constantFrom('x', 'y'), fc.constant(null));
// the commands of the first version: every one names a key
const commandArb: fc.Arbitrary<Extract<KvCommand, { readonly key: string }>> = fc.oneof(
  fc.record({ op: fc.constant('put' as const), key: keyArb, value: valueArb }),
  fc.record({ op: fc.constant('delete' as const), key: keyArb }),
  fc.record({ op: fc.constant('cas' as const), key: keyArb, from: valueArb, to: valueArb }),
  fc.record({ op: fc.constant('casVersion' as const), key: keyArb, version: fc.nat(3), value: valueArb }),
  fc.record({ op: fc.constant('incr' as const), key: keyArb, by: fc.integer({ min: -3, max: 3 }) }),
);

describe('properties', () => {
  it('is deterministic, and snapshot + restore at any point gives the same future', () => {
    fc.assert(
      fc.property(fc.array(commandArb, { maxLength: 40 }), fc.nat(40), (commands, cut) => {
        const whole = new KvStore();
        const results = commands.map((c) => run(whole, c));
        const first = new KvStore();
        for (const c of commands.slice(0, cut)) run(first, c);
        const restored = new KvStore();
        restored.restore(JSON.parse(JSON.stringify(first.snapshot())) as JsonValue);
        const rest = commands.slice(cut).map((c) => run(restored, c));
        expect(rest).toEqual(results.slice(Math.min(cut, commands.length)));
        expect(restored.snapshot()).toEqual(whole.snapshot());
      }),
    );
  });

  it('agrees with a plain map, and the revision grows by one exactly when the stored data changes', () => {
    fc.assert(
      fc.property(fc.array(commandArb, { maxLength: 60 }), (commands) => {
        const kv = new KvStore();
        const ref = new Map<string, JsonValue>();
        for (const c of commands) {
          const itemsBefore = canonicalJson((kv.snapshot() as { items: JsonValue })['items']);
          const revisionBefore = kv.revision;
          const result = run(kv, c) as { [k: string]: JsonValue };
          const current = ref.get(c.key) ?? null;
          let next: JsonValue = current;
          if (c.op === 'put') next = c.value;
          else if (c.op === 'delete') next = null;
          else if (c.op === 'cas' && canonicalJson(current) === canonicalJson(c.from)) next = c.to;
          else if (c.op === 'casVersion' && result['swapped'] === true) next = c.value;
          else if (c.op === 'incr' && (current === null || typeof current === 'number')) next = (current ?? 0) + (c.by ?? 1);
          if (next === null) ref.delete(c.key);
          else ref.set(c.key, next);
          const changed = canonicalJson((kv.snapshot() as { items: JsonValue })['items']) !== itemsBefore;
          expect(kv.revision).toBe(revisionBefore + (changed ? 1 : 0));
        }
        for (const key of ['a', 'b', 'c', 'd/1', 'd/2']) expect((run(kv, { op: 'get', key }) as { value: JsonValue }).value).toEqual(ref.get(key) ?? null);
      }),
    );
  });
});
