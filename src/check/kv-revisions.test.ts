// Revisions in results against the committed change log: results the KvStore gave pass; a write
// naming the wrong revision, a read that does not match the state at its revision, and a
// revision that goes back in real time are each caught.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { JsonValue } from '../core/index.js';
import { KvStore, kvRequestToJson, type KvRequest } from '../kv/store.js';
import type { KvEvent, KvResult } from '../kv/requests.js';
import { checkKvRevisions, type RevisionedOp } from './kv-revisions.js';
import type { CommittedChanges, WatchEvent } from './watch.js';
import { kvTxnRequestArb } from './test/kv-txn-generators.js';

function committedOf(store: KvStore): CommittedChanges {
  const page = store.changesSince({ op: 'changes', prefix: '', fromRevision: 1, prevKv: true, maxEvents: 10_000 }) as Extract<KvResult, { events: KvEvent[] }>;
  return { events: page.events as WatchEvent[], throughRevision: store.revision };
}

/** Runs the requests one after the other (each completes before the next is invoked). */
function run(requests: readonly KvRequest[]): { store: KvStore; ops: RevisionedOp[] } {
  const store = new KvStore();
  const ops = requests.map((request, index) => {
    const result = store.apply(request, 1) as unknown as JsonValue;
    return { index, request: kvRequestToJson(request), result, invokeMs: index * 10, completeMs: index * 10 + 5 };
  });
  return { store, ops: ops.filter((op) => !(typeof op.result === 'object' && op.result !== null && 'error' in op.result)) };
}

const sample: KvRequest[] = [
  { op: 'put', key: 'a', value: 1 },
  { op: 'txn', compare: [], success: [{ op: 'put', key: 'b', value: 2 }, { op: 'delete', key: 'a' }, { op: 'get', key: 'b' }], failure: [] },
  { op: 'get', key: 'b' },
  { op: 'get', key: 'a', revision: 1 },
  { op: 'cas', key: 'b', from: 2, to: 3 },
  { op: 'incr', key: 'n', by: 2 },
  { op: 'delete', prefix: '' },
  { op: 'get', key: 'b' },
];

describe('checkKvRevisions', () => {
  it('accepts what the store answered', () => {
    const { store, ops } = run(sample);
    const result = checkKvRevisions(committedOf(store), ops);
    expect(result.problems).toEqual([]);
    expect(result.ops).toBe(sample.length);
  });

  it('catches a write that names a revision not holding its changes', () => {
    const { store, ops } = run(sample);
    const moved = ops.map((op) => (op.index === 4 ? { ...op, result: { ...(op.result as object), revision: 2 } } : op));
    const result = checkKvRevisions(committedOf(store), moved);
    expect(result.problems[0]).toMatchObject({ kind: 'wrong-changes', index: 4, revision: 2 });
  });

  it('catches a read that is not the state at its revision, of the present or of the past', () => {
    const { store, ops } = run(sample);
    const committed = committedOf(store);
    const stale = ops.map((op) => (op.index === 2 ? { ...op, result: { ...(op.result as object), value: 99 } } : op));
    expect(checkKvRevisions(committed, stale).problems[0]).toMatchObject({ kind: 'wrong-read', index: 2 });
    const past = ops.map((op) => (op.index === 3 ? { ...op, result: { ...(op.result as object), value: null, version: 0, createRevision: 0, modRevision: 0 } } : op));
    expect(checkKvRevisions(committed, past).problems[0]).toMatchObject({ kind: 'wrong-read', index: 3, revision: 1 });
  });

  it('catches a revision that goes back in real time', () => {
    const { store, ops } = run(sample);
    // the read of b at the last step answered at revision 2 (b was 2 then) although later writes had completed
    const back = ops.map((op) => (op.index === 7 ? { ...op, result: { revision: 2, value: 2, version: 1, createRevision: 2, modRevision: 2 } } : op));
    expect(checkKvRevisions(committedOf(store), back).problems[0]).toMatchObject({ kind: 'revision-order', index: 7, revision: 2 });
  });

  it('accepts every sequential run of random requests (txns, ranges, deletes, cas)', () => {
    fc.assert(
      fc.property(fc.array(kvTxnRequestArb, { maxLength: 30 }), (requests) => {
        const { store, ops } = run(requests);
        expect(checkKvRevisions(committedOf(store), ops).problems).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});
