// The KV against a plain reference model (test/model.ts) over random sequences of every
// command and query: results equal at each step (reads at any revision, compaction, txns applied
// whole at one revision, lease revokes deleting exactly their keys), the change log equal to the
// model's changes for random ranges and start revisions (paged: no gap, no duplicate, no split
// revision), snapshot + restore at any point answering alike afterwards, auto-compaction.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { JsonValue } from '../core/index.js';
import { KvModel, txnWritesTwice } from './test/model.js';
import { KvStore } from './store.js';

type Obj = { [key: string]: JsonValue };

const KEYS = ['a', 'b', 'c', 'd/1', 'd/2', 'd/3', 'e'];
const key = fc.constantFrom(...KEYS);
const value: fc.Arbitrary<JsonValue> = fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constantFrom('x', 'y', 'z'), fc.constant(null), fc.constant({ o: [1] } as JsonValue));
const leaseId = fc.integer({ min: 1, max: 4 });
const flag = fc.option(fc.boolean(), { nil: undefined, freq: 2 });
/** Absent three times in four. */
const rarely = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });
/** A revision as a share (percent) of the store's revision when the request runs; past 100: a future one. */
const revision = fc.integer({ min: 0, max: 110 });

/** The request with its revision share turned into a revision of `store` (a future one past 100%). */
function resolved(request: Obj, store: KvStore): Obj {
  const pct = request['pct'];
  if (typeof pct !== 'number') return request;
  const { pct: _pct, ...rest } = request;
  return { ...rest, revision: Math.max(request['op'] === 'compact' ? 1 : 0, Math.round((pct / 100) * store.revision)) + (pct > 100 ? 1 : 0) };
}

/** Leaves out undefined fields, as JSON would. */
function json<T extends object>(o: T): Obj {
  return JSON.parse(JSON.stringify(o)) as Obj;
}

const put = fc.record({ op: fc.constant('put'), key, value, lease: rarely(leaseId), ignoreLease: rarely(fc.boolean()), prevKv: flag }).map((p) => json(p.lease !== undefined && p.ignoreLease === true ? { ...p, ignoreLease: undefined } : p));
const del = fc.oneof(
  fc.record({ op: fc.constant('delete'), key, prevKv: flag }).map(json),
  fc.record({ op: fc.constant('delete'), a: key, b: key, prevKv: flag }).map(({ a, b, ...rest }) => json({ ...rest, key: a < b ? a : b, end: a < b ? b : a })),
  fc.record({ op: fc.constant('delete'), prefix: fc.constantFrom('d/', 'd', '', 'x', 'a'), prevKv: flag }).map(json),
);
const compare = fc.oneof(
  fc.record({ key, target: fc.constant('value'), cmp: fc.constantFrom('=', '!='), value }),
  fc.record({ key, target: fc.constant('value'), cmp: fc.constantFrom('<', '>'), value: fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constantFrom('x', 'y')) }),
  fc.record({ key, target: fc.constantFrom('version', 'createRevision', 'modRevision', 'lease'), cmp: fc.constantFrom('=', '!=', '<', '>'), value: fc.nat(6) }),
);
const txnRead = fc.oneof(
  fc.record({ op: fc.constant('get'), key }),
  fc.record({ op: fc.constant('range'), prefix: fc.option(fc.constantFrom('d/', ''), { nil: undefined }), limit: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }) }).map(json),
);
const txn: fc.Arbitrary<Obj> = fc.letrec<{ txn: Obj; op: Obj }>((tie) => ({
  op: fc.oneof({ depthSize: 'small', withCrossShrink: true }, put, del, txnRead, fc.record({ op: fc.constant('leaseGrant'), ttlMs: fc.constant(1000), id: leaseId }), tie('txn')),
  txn: fc.record({
    op: fc.constant('txn'),
    compare: fc.array(compare, { maxLength: 2 }),
    success: fc.array(tie('op'), { maxLength: 3 }),
    failure: fc.array(tie('op'), { maxLength: 2 }),
  }) as fc.Arbitrary<Obj>,
})).txn;

const command: fc.Arbitrary<Obj> = fc.oneof(
  { weight: 5, arbitrary: put },
  { weight: 2, arbitrary: del },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('cas'), key, from: value, to: value }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('casVersion'), key, version: fc.nat(3), value }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('incr'), key, by: fc.integer({ min: -2, max: 2 }) }) },
  { weight: 3, arbitrary: txn },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('compact'), pct: revision }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('leaseGrant'), ttlMs: fc.constant(1000), id: fc.option(leaseId, { nil: undefined }) }).map(json) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('leaseRevoke'), id: leaseId }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('get'), key, pct: fc.option(revision, { nil: undefined }) }).map(json) },
  {
    weight: 2,
    arbitrary: fc
      .record({ op: fc.constant('range'), prefix: fc.option(fc.constantFrom('d/', 'd', ''), { nil: undefined }), start: fc.option(key, { nil: undefined }), end: rarely(key), exclude: rarely(fc.constantFrom('d/', 'd/2', 'b')), limit: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }), pct: fc.option(revision, { nil: undefined }) })
      .map(json),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('leaseTimeToLive'), id: leaseId, keys: flag }).map(json) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('leaseList'), after: fc.option(fc.nat(3), { nil: undefined }), limit: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }) }).map(json) },
);

const selectors: Obj[] = [{ key: 'a' }, { key: 'd/2' }, { prefix: 'd/' }, { key: 'b', end: 'd/2' }, { prefix: '' }, { prefix: '', exclude: 'd/' }];

/**
 * Runs one request on the store as Raft would (decoded first) and on the model, and on `copy`
 * too when there is one: all answer alike, or the decoder refuses it.
 */
function step(store: KvStore, model: KvModel, copy: KvStore | undefined, raw: Obj, index: number): void {
  const request = resolved(raw, store);
  const decoded = store.decodeCommand(request);
  if (!decoded.ok) {
    // the generators make well-formed requests but for two writes of one key in a txn
    expect(request['op'], decoded.problem).toBe('txn');
    expect(txnWritesTwice(request), decoded.problem).toBe(true);
    return;
  }
  if (request['op'] === 'txn') expect(txnWritesTwice(request)).toBe(false);
  const expected = model.run(request, index);
  expect(store.apply(decoded.value, index)).toEqual(expected);
  if (copy !== undefined) expect(copy.apply(decoded.value, index)).toEqual(expected);
}

/** Pulls every change of `selector` from `from` in pages of `max`, checking each page against the paging rules. */
function pullAll(store: KvStore, selector: Obj, from: number, max: number, filters: Obj): JsonValue[] | 'compacted' {
  const events: Obj[] = [];
  let next = from;
  // each pull moves nextRevision forward: at most one pull per revision, plus the last
  for (let pulls = 0; pulls <= store.revision + 2; pulls++) {
    const r = store.apply({ op: 'changes', ...selector, ...filters, fromRevision: next, maxEvents: max }, 0) as Obj;
    if (r['error'] === 'compacted') {
      expect(pulls).toBe(0);
      return 'compacted';
    }
    const page = r['events'] as Obj[];
    const nextRevision = r['nextRevision'] as number;
    expect(nextRevision).toBeGreaterThan(next - (next === 0 ? 0 : 1));
    const revisions = new Set(page.map((e) => e['revision'] as number));
    // whole revisions only: more than max only when the page is one revision
    if (page.length > max) expect(revisions.size).toBe(1);
    for (const e of page) {
      expect(e['revision'] as number).toBeGreaterThanOrEqual(next === 0 ? store.revision + 1 : next);
      expect(e['revision'] as number).toBeLessThan(nextRevision);
    }
    events.push(...page);
    if (nextRevision > store.revision) return events;
    next = nextRevision;
  }
  throw new Error('changes did not reach the current revision');
}

function checkChanges(store: KvStore, model: KvModel, max: number, filters: Obj): void {
  for (const selector of selectors) {
    for (let from = 0; from <= store.revision + 1; from++) {
      const expected = from === 0 ? [] : model.changesFor({ ...selector, ...filters }, from);
      expect(pullAll(store, selector, from, max, filters), `changes ${JSON.stringify({ selector, from, max, filters })}`).toEqual(expected);
    }
  }
}

const filters = fc.record({ prevKv: flag, noPut: flag, noDelete: flag }).map(json);

describe('the store agrees with the reference model', () => {
  it('for every command and query, the change log, and snapshot + restore at any point', () => {
    fc.assert(
      fc.property(fc.array(command, { minLength: 10, maxLength: 60, size: 'max' }), fc.nat(60), fc.integer({ min: 1, max: 4 }), filters, (commands, cut, max, f) => {
        const store = new KvStore();
        const model = new KvModel();
        let copy: KvStore | undefined;
        commands.forEach((request, i) => {
          if (i === cut) {
            copy = new KvStore();
            copy.restore(JSON.parse(JSON.stringify(store.snapshot())) as JsonValue);
            expect(copy.snapshot()).toEqual(store.snapshot());
          }
          step(store, model, copy, request, i + 1);
        });
        checkChanges(store, model, max, f);
        if (copy !== undefined) {
          expect(copy.snapshot()).toEqual(store.snapshot());
          checkChanges(copy, model, max, f);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('with auto-compaction: the same revisions compacted at the same points, reads and changes past them refused alike', () => {
    fc.assert(
      fc.property(fc.array(command, { minLength: 10, maxLength: 60, size: 'max' }), fc.integer({ min: 1, max: 25 }), fc.integer({ min: 1, max: 4 }), filters, (commands, retain, max, f) => {
        const store = new KvStore({ autoCompactRetainRevisions: retain });
        const model = new KvModel(retain);
        commands.forEach((request, i) => step(store, model, undefined, request, i + 1));
        expect(store.compactRevision).toBe(model.compactRevision);
        checkChanges(store, model, max, f);
      }),
      { numRuns: 60 },
    );
  });
});
