// fast-check generators of kv histories with transactions, ranges and version compares, whose
// results come from Synod's real KvStore and are recorded as RaftCluster records them: run in
// order they are linearizable by construction (and show the model agrees with the store); run in
// a shuffled order they make small random histories for the brute-force comparison.
import fc from 'fast-check';
import type { History, JsonValue, Operation, Outcome } from '../../core/index.js';
import { KvStore, kvRequestProblem, kvRequestToJson, type KvRequest, type TxnOp } from '../../kv/store.js';
import { historyCallOf, historyOutputOf } from '../../raft/cluster.js';
import { assignProcesses } from './histories.js';
import { fateArb, indexed, outcomeOf, placeAroundPoints, wideningArb, type Draft, type Fate, type Widening } from './generators.js';

export const TXN_KEYS = ['p/1', 'p/2', 'q'] as const;
const keyArb = fc.constantFrom(...TXN_KEYS);
const valueArb = fc.integer({ min: 0, max: 3 });

const compareArb = fc.oneof(
  fc.record({ key: keyArb, target: fc.constant('value'), cmp: fc.constantFrom('=', '!=', '<', '>'), value: fc.option(valueArb, { freq: 4 }) }),
  fc.record({ key: keyArb, target: fc.constant('version'), cmp: fc.constantFrom('=', '!=', '<', '>'), value: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ key: keyArb, target: fc.constantFrom('createRevision', 'modRevision'), cmp: fc.constantFrom('=', '!=', '>'), value: fc.constant(0) }),
);

const rangeSelectorArb = fc.constantFrom<{ [key: string]: JsonValue }>({ prefix: 'p/' }, { prefix: '' }, { start: 'p/2', end: 'r' }, { prefix: 'p/', limit: 1 });

function stepArb(depth: number): fc.Arbitrary<TxnOp> {
  const leaves: fc.Arbitrary<TxnOp>[] = [
    fc.record({ op: fc.constant('put' as const), key: keyArb, value: fc.option(valueArb, { freq: 6 }).map((v): JsonValue => v), prevKv: fc.boolean() }),
    fc.record({ op: fc.constant('delete' as const), key: keyArb, prevKv: fc.boolean() }),
    fc.record({ op: fc.constant('get' as const), key: keyArb }),
    rangeSelectorArb.map((s) => ({ op: 'range', ...s }) as TxnOp),
    fc.boolean().map((prevKv) => ({ op: 'delete', prefix: 'p/', prevKv }) as TxnOp),
  ];
  if (depth >= 2) return fc.oneof(...leaves);
  return fc.oneof({ arbitrary: fc.oneof(...leaves), weight: 5 }, { arbitrary: txnArb(depth + 1), weight: 1 });
}

function txnArb(depth: number): fc.Arbitrary<TxnOp> {
  return fc.record({
    op: fc.constant('txn' as const),
    compare: fc.array(compareArb, { maxLength: 2 }),
    success: fc.array(stepArb(depth), { maxLength: 3 }),
    failure: fc.array(stepArb(depth), { maxLength: 2 }),
  }) as fc.Arbitrary<TxnOp>;
}

/** Any request the model knows, txns weighted up; txns the store would refuse at decode (a key written twice) become gets. */
export const kvTxnRequestArb: fc.Arbitrary<KvRequest> = fc
  .oneof(
    { arbitrary: txnArb(1) as fc.Arbitrary<KvRequest>, weight: 4 },
    { arbitrary: fc.record({ op: fc.constant('get' as const), key: keyArb }), weight: 2 },
    { arbitrary: fc.record({ op: fc.constant('put' as const), key: keyArb, value: valueArb }), weight: 2 },
    { arbitrary: fc.record({ op: fc.constant('delete' as const), key: keyArb }), weight: 1 },
    { arbitrary: fc.record({ op: fc.constant('cas' as const), key: keyArb, from: fc.option(valueArb, { freq: 3 }), to: valueArb }), weight: 1 },
    { arbitrary: fc.record({ op: fc.constant('incr' as const), key: keyArb, by: fc.integer({ min: 1, max: 2 }) }), weight: 1 },
    { arbitrary: fc.record({ op: fc.constant('casVersion' as const), key: keyArb, version: fc.integer({ min: 0, max: 2 }), value: valueArb }), weight: 1 },
    { arbitrary: rangeSelectorArb.map((s) => ({ op: 'range', ...s }) as KvRequest), weight: 1 },
    { arbitrary: fc.constant<KvRequest>({ op: 'delete', prefix: 'p/' }), weight: 1 },
  )
  .map((request) => (kvRequestProblem(kvRequestToJson(request)) === null ? request : ({ op: 'get', key: 'q' } as KvRequest)));

/** The request run on `store` (unless lost) and recorded as RaftCluster records it. */
function record(store: KvStore, request: KvRequest, fate: Fate): { f: string; input: JsonValue; output: JsonValue; outcome: Outcome } {
  const call = historyCallOf(request);
  if (fate === 'lost') return { ...call, output: null, outcome: 'unknown' };
  const result = store.apply(request, 1);
  const seen = historyOutputOf(request, result);
  if (seen.outcome === 'fail') return { ...call, output: seen.output, outcome: 'fail' };
  // a read whose outcome was lost has no effect and nothing to say: it stays unknown
  return { ...call, output: fate === 'applied' ? seen.output : null, outcome: outcomeOf(fate) };
}

interface Step extends Widening {
  readonly request: KvRequest;
  readonly fate: Fate;
}

const stepRecordArb: fc.Arbitrary<Step> = fc.record({ request: kvTxnRequestArb, fate: fateArb, ...wideningArb });

/** Histories run in order on a KvStore, each window widened around its point: linearizable by construction. */
export const linearizableTxnHistory = (maxOps = 30): fc.Arbitrary<History> =>
  fc.array(stepRecordArb, { maxLength: maxOps }).map((steps) => {
    const store = new KvStore();
    const drafts = steps.map((s) => ({ draft: record(store, s.request, s.fate) as Draft, widen: s as Widening }));
    return placeAroundPoints(drafts);
  });

/** A few operations with results from running them on a KvStore in a random order, at random times: a mix of verdicts. */
export const randomTxnHistory = (maxOps = 6): fc.Arbitrary<History> =>
  fc
    .array(fc.record({ request: kvTxnRequestArb, fate: fateArb, invokeMs: fc.integer({ min: 0, max: 20 }), durationMs: fc.integer({ min: 0, max: 8 }), order: fc.nat(1000) }), { maxLength: maxOps })
    .map((specs) => {
      const store = new KvStore();
      const ran = new Map<number, ReturnType<typeof record>>();
      const order = specs.map((_, k) => k).sort((a, b) => specs[a]!.order - specs[b]!.order || a - b);
      for (const k of order) ran.set(k, record(store, specs[k]!.request, specs[k]!.fate));
      const windows = specs.map((s) => [s.invokeMs, s.invokeMs + s.durationMs] as const);
      const processes = assignProcesses(windows);
      return indexed(
        specs.map((_, k): Operation => {
          const r = ran.get(k)!;
          return { index: 0, process: processes[k]!, ...r, invokeMs: windows[k]![0], completeMs: windows[k]![1] };
        }),
      );
    });
