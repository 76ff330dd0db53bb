// The watch checker: streams pulled from Synod's KvStore (paged, resumed) are exactly the
// committed history; every way of breaking one (an event dropped, duplicated, reordered, changed,
// a revision split, prevKv wrong, progress claimed too far) is caught and named.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { JsonValue } from '../core/index.js';
import { KvStore, type KvRequest } from '../kv/store.js';
import type { KvEvent, KvResult } from '../kv/requests.js';
import { CheckError } from './errors.js';
import { checkWatcher, checkWatches, type CommittedChanges, type WatchDelivery, type WatchEvent, type WatchProblem, type WatcherRecord, type WatchSelector } from './watch.js';

/** Every change of the store with prevKv, as the chaos harness reads it from a settled node. */
function committedOf(store: KvStore): CommittedChanges {
  const events: WatchEvent[] = [];
  let from = 1;
  for (let guard = 0; guard < 10_000 && from <= store.revision; guard++) {
    const page = store.changesSince({ op: 'changes', prefix: '', fromRevision: from, prevKv: true, maxEvents: 1000 }) as Extract<KvResult, { events: KvEvent[] }>;
    events.push(...page.events);
    from = page.nextRevision;
  }
  return { events, throughRevision: store.revision };
}

/** A watcher's stream pulled from `store` in pages of `pageSize` events, as a host would serve it. */
function pull(store: KvStore, w: Omit<WatcherRecord, 'deliveries'>, pageSize: number): WatcherRecord {
  const deliveries: WatchDelivery[] = [];
  let from = w.startRevision;
  for (let guard = 0; guard < 10_000 && from <= store.revision; guard++) {
    const page = store.changesSince({ op: 'changes', ...w.selector, fromRevision: from, maxEvents: pageSize, prevKv: w.prevKv, noPut: w.noPut, noDelete: w.noDelete }) as Extract<KvResult, { events: KvEvent[] }>;
    deliveries.push({ events: page.events, progressRevision: page.nextRevision - 1, source: 'n1' });
    from = page.nextRevision;
  }
  return { ...w, deliveries };
}

/** A store with multi-key revisions (txns, prefix deletes), deletes and rewrites. */
function sampleStore(): KvStore {
  const store = new KvStore();
  const run = (r: KvRequest): void => void store.apply(r, 1);
  run({ op: 'put', key: 'x/1', value: 1 });
  run({ op: 'put', key: 'y', value: 'a' });
  run({ op: 'txn', compare: [], success: [{ op: 'put', key: 'x/1', value: 2 }, { op: 'put', key: 'x/2', value: 3 }, { op: 'put', key: 'y', value: 'b' }], failure: [] });
  run({ op: 'delete', key: 'x/1' });
  run({ op: 'put', key: 'x/3', value: 4 });
  run({ op: 'delete', prefix: 'x/' });
  run({ op: 'put', key: 'x/1', value: 5 });
  return store;
}

const all = (deliveries: readonly WatchDelivery[]): WatchEvent[] => deliveries.flatMap((d) => d.events);
/** The same events cut into deliveries of one event each: splits multi-event revisions. */
const oneByOne = (w: WatcherRecord): WatcherRecord => ({ ...w, deliveries: all(w.deliveries).map((e) => ({ events: [e] })) });
const withEvents = (w: WatcherRecord, events: WatchEvent[]): WatcherRecord => ({ ...w, deliveries: [{ events }] });

describe('checkWatcher', () => {
  const store = sampleStore();
  const committed = committedOf(store);
  const prefixWatcher = pull(store, { id: 'w1', selector: { prefix: 'x/' }, startRevision: 2, prevKv: true }, 2);
  const problem = (w: WatcherRecord): WatchProblem | null => checkWatcher(committed, w)?.problem ?? null;

  it('accepts what the store serves, for keys, ranges and prefixes, any page size, filters and prevKv', () => {
    const selectors: WatchSelector[] = [{ key: 'x/1' }, { key: 'x/1', end: 'x/3' }, { prefix: 'x/' }, { prefix: '' }, { prefix: '', exclude: 'y' }];
    const watchers = selectors.flatMap((selector, s) =>
      [1, 3, 6].flatMap((startRevision) =>
        [1, 2, 100].map((page) => pull(store, { id: `w${s}-${startRevision}-${page}`, selector, startRevision, prevKv: page === 2, noDelete: page === 1 && s === 3 }, page)),
      ),
    );
    const result = checkWatches(committed, watchers);
    expect(result.discrepancies).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.events).toBeGreaterThan(40);
  });

  // from revision 2 under x/: r3 put x/1, r3 put x/2 (one txn), r4 delete x/1, r5 put x/3, r6 delete x/2, r6 delete x/3 (one prefix delete), r7 put x/1
  const events = all(prefixWatcher.deliveries);
  const pick = (...ks: number[]): WatchEvent[] => ks.map((k) => events[k]!);

  it('sees the sample stream it expects', () => {
    expect(events.map((e) => `${e.revision}:${e.type}:${e.kv.key}`)).toEqual(['3:put:x/1', '3:put:x/2', '4:delete:x/1', '5:put:x/3', '6:delete:x/2', '6:delete:x/3', '7:put:x/1']);
  });

  it('catches an event dropped (a gap), in the middle and at the end', () => {
    expect(problem(withEvents(prefixWatcher, pick(0, 1, 3, 4, 5, 6)))).toBe('gap');
    // dropped at the end: the final progress (everything through the last revision) gives it away
    const last: WatcherRecord = { ...prefixWatcher, deliveries: [{ events: pick(0, 1, 2, 3, 4, 5), progressRevision: committed.throughRevision }] };
    expect(problem(last)).toBe('gap');
    const found = checkWatcher(committed, withEvents(prefixWatcher, pick(0, 1, 3, 4, 5, 6)));
    expect(found?.message).toBe(
      'watcher w1 (prefix "x/" from revision 2): gap at revision 4 in delivery 0, event 2: the expected event never came; ' +
        'expected delete "x/1", prevKv = 2 (version 2) at revision 4, got put "x/3" = 4 (version 1) at revision 5',
    );
    expect(found).toMatchObject({ watcher: 'w1', problem: 'gap', revision: 4, key: 'x/1', delivery: 0, position: 2 });
  });

  it('catches a duplicate, as a resume from the last revision seen (instead of the next) makes', () => {
    expect(problem(withEvents(prefixWatcher, pick(0, 1, 2, 2, 3, 4, 5, 6)))).toBe('duplicate');
    const resumedEarly = pull(store, { id: 'w2', selector: { prefix: 'x/' }, startRevision: 4 }, 100);
    const before = pull(store, { id: 'w2', selector: { prefix: 'x/' }, startRevision: 2 }, 100);
    const firstPart = before.deliveries[0]!.events.filter((e) => e.revision <= 4);
    expect(problem({ ...before, deliveries: [{ events: firstPart }, ...resumedEarly.deliveries] })).toBe('duplicate');
  });

  it('catches events out of order: across revisions and across keys of one revision', () => {
    expect(problem(withEvents(prefixWatcher, pick(0, 1, 2, 3, 5, 4, 6)))).toBe('out-of-order');
    expect(problem(withEvents(prefixWatcher, pick(0, 1, 3, 2, 4, 5, 6)))).toBe('out-of-order');
    expect(problem(withEvents(prefixWatcher, pick(1, 0, 2, 3, 4, 5, 6)))).toBe('out-of-order');
  });

  it('catches a revision split across deliveries, or cut short', () => {
    expect(problem(oneByOne(prefixWatcher))).toBe('split-revision');
    // revision 3 changed x/1 and x/2: only x/1 came, then nothing, or then revision 4
    expect(problem(withEvents(prefixWatcher, pick(0)))).toBe('split-revision');
    expect(problem(withEvents(prefixWatcher, pick(0, 2, 3, 4, 5, 6)))).toBe('split-revision');
  });

  it('catches a wrong change, a wrong or unasked-for prevKv, and events from outside', () => {
    const changed = events.map((e, k) => (k === 2 ? { ...e, kv: { ...e.kv, value: 99 as JsonValue } } : e));
    expect(problem(withEvents(prefixWatcher, changed))).toBe('wrong-event');
    const noPrev = events.map((e, k) => (k === 2 ? { type: e.type, kv: e.kv, revision: e.revision } : e));
    expect(problem(withEvents(prefixWatcher, noPrev))).toBe('wrong-prev-kv');
    const unasked = pull(store, { id: 'w3', selector: { prefix: 'x/' }, startRevision: 2 }, 100);
    const withPrev = { ...unasked, deliveries: prefixWatcher.deliveries };
    expect(problem(withPrev)).toBe('wrong-prev-kv');
    const y = committed.events.find((e) => e.kv.key === 'y' && e.revision >= 2)!;
    expect(problem(withEvents(prefixWatcher, [y]))).toBe('unexpected-event');
    const first = committed.events[0]!;
    expect(problem(withEvents(prefixWatcher, [first]))).toBe('before-start');
  });

  it('catches progress claimed past what came or what was committed', () => {
    expect(problem({ ...prefixWatcher, deliveries: [{ events: pick(0, 1), progressRevision: 4 }] })).toBe('gap');
    expect(problem({ ...prefixWatcher, deliveries: [{ events: pick(0), progressRevision: 3 }] })).toBe('split-revision');
    expect(problem({ ...prefixWatcher, deliveries: [...prefixWatcher.deliveries, { events: [], progressRevision: committed.throughRevision + 1 }] })).toBe('future-progress');
  });

  it('refuses malformed input with typed errors', () => {
    expect(() => checkWatcher(committed, { ...prefixWatcher, startRevision: 0 })).toThrow(CheckError);
    const shuffled: CommittedChanges = { ...committed, events: [...committed.events].reverse() };
    expect(() => checkWatches(shuffled, [])).toThrow(/not after event 0/);
  });
});

describe('checkWatcher (property)', () => {
  const opArb = fc.oneof(
    fc.record({ op: fc.constant('put' as const), key: fc.constantFrom('a', 'b/1', 'b/2', 'c'), value: fc.integer({ min: 0, max: 5 }) }),
    fc.record({ op: fc.constant('delete' as const), key: fc.constantFrom('a', 'b/1', 'b/2', 'c') }),
    fc.constant<KvRequest>({ op: 'delete', prefix: 'b/' }),
    fc.constant<KvRequest>({ op: 'txn', compare: [], success: [{ op: 'put', key: 'a', value: 7 }, { op: 'put', key: 'b/2', value: 8 }, { op: 'delete', key: 'c' }], failure: [] }),
  );
  const selectorArb = fc.constantFrom<WatchSelector>({ key: 'a' }, { prefix: 'b/' }, { prefix: '' }, { key: 'a', end: 'b/2' });
  const mutations = ['drop', 'duplicate', 'swap', 'change', 'split'] as const;

  it('every correct stream passes; every mutated one is caught', () => {
    fc.assert(
      fc.property(
        fc.array(opArb, { minLength: 1, maxLength: 25 }),
        selectorArb,
        fc.integer({ min: 1, max: 6 }),
        fc.boolean(),
        fc.constantFrom(...mutations),
        fc.nat(),
        (ops, selector, page, prevKv, mutation, pick) => {
          const store = new KvStore();
          for (const op of ops) store.apply(op, 1);
          fc.pre(store.revision >= 1);
          const committed = committedOf(store);
          const w = pull(store, { id: 'w', selector, startRevision: 1, prevKv }, page);
          expect(checkWatcher(committed, w)).toBeNull();
          const events = all(w.deliveries);
          fc.pre(events.length >= 2);
          const i = pick % events.length;
          let mutated: WatchEvent[] | null = [...events];
          if (mutation === 'drop') mutated.splice(i, 1);
          else if (mutation === 'duplicate') mutated.splice(i, 0, events[i]!);
          else if (mutation === 'swap') {
            const j = (i + 1) % events.length;
            [mutated[i], mutated[j]] = [mutated[j]!, mutated[i]!];
          } else if (mutation === 'change') mutated[i] = { ...events[i]!, kv: { ...events[i]!.kv, version: events[i]!.kv.version + 1 } };
          else mutated = null;
          const broken: WatcherRecord =
            mutated === null ? oneByOne(w) : { ...w, deliveries: [{ events: mutated, progressRevision: committed.throughRevision }] };
          // splitting needs a revision with two events of the range
          const multi = new Set(events.map((e) => e.revision)).size < events.length;
          fc.pre(mutation !== 'split' || multi);
          expect(checkWatcher(committed, broken)).not.toBeNull();
        },
      ),
      { numRuns: 1500 },
    );
  });
});
