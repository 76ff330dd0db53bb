// Tests of the KV state machine: each operation's result and effect, revisions and versions,
// reads of past revisions, compaction, txns, leases, the change log, snapshot/restore (this
// version's and the first version's), and properties (determinism, restore equivalence,
// agreement with a plain reference map) over random sequences of the first version's commands.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { JsonValue } from '../core/index.js';
import type { LeaseChange } from './lessor.js';
import { CHANGES_SCAN_BUDGET } from './limits.js';
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

/** Runs a request from JSON, as Raft does: decoded first (a refusal is the bad-request result). */
const send = (store: KvStore, raw: JsonValue, index = 0): JsonValue => {
  const decoded = store.decodeCommand(raw);
  return decoded.ok ? store.apply(decoded.value, index) : { error: 'bad-request', message: decoded.problem };
};

describe('history', () => {
  it('reads a key and a range as of any retained revision; the future and the compacted past are refused', () => {
    const kv = new KvStore();
    send(kv, { op: 'put', key: 'a', value: 1 }); // 1
    send(kv, { op: 'put', key: 'b', value: 1 }); // 2
    send(kv, { op: 'put', key: 'a', value: 2 }); // 3
    send(kv, { op: 'delete', key: 'b' }); // 4
    expect(send(kv, { op: 'get', key: 'a', revision: 1 })).toEqual({ revision: 4, value: 1, version: 1, createRevision: 1, modRevision: 1 });
    expect(send(kv, { op: 'get', key: 'b', revision: 3 })).toEqual({ revision: 4, value: 1, version: 1, createRevision: 2, modRevision: 2 });
    expect(send(kv, { op: 'get', key: 'b', revision: 4 })).toEqual({ revision: 4, value: null, version: 0, createRevision: 0, modRevision: 0 });
    expect(send(kv, { op: 'range', revision: 2 })).toMatchObject({ revision: 4, items: [{ key: 'a', value: 1 }, { key: 'b', value: 1 }], more: false });
    expect(send(kv, { op: 'get', key: 'a', revision: 5 })).toEqual({ revision: 4, error: 'future-revision' });
    expect(send(kv, { op: 'compact', revision: 3 })).toEqual({ revision: 4, compactRevision: 3 });
    expect(send(kv, { op: 'get', key: 'a', revision: 2 })).toEqual({ revision: 4, error: 'compacted', compactRevision: 3 });
    // the compaction revision itself is still readable: each key keeps its last put before it
    expect(send(kv, { op: 'get', key: 'a', revision: 3 })).toMatchObject({ value: 2, version: 2, createRevision: 1 });
    expect(send(kv, { op: 'range', revision: 3 })).toMatchObject({ items: [{ key: 'a' }, { key: 'b', value: 1, modRevision: 2 }] });
    expect(send(kv, { op: 'compact', revision: 3 })).toEqual({ revision: 4, error: 'compacted', compactRevision: 3 });
    expect(send(kv, { op: 'compact', revision: 9 })).toEqual({ revision: 4, error: 'future-revision' });
  });

  it('compaction drops keys deleted before it, and versions and create revisions survive it', () => {
    const kv = new KvStore();
    for (let i = 0; i < 5; i++) send(kv, { op: 'put', key: 'hot', value: i }); // 1..5
    send(kv, { op: 'put', key: 'gone', value: 0 }); // 6
    send(kv, { op: 'delete', key: 'gone' }); // 7
    send(kv, { op: 'put', key: 'hot', value: 5 }); // 8
    send(kv, { op: 'compact', revision: 8 });
    expect(kv.retainedChanges).toBe(1);
    expect((kv.snapshot() as { history: JsonValue[] }).history).toEqual([['hot', 5, 1, [5], [4], 0]]);
    expect(send(kv, { op: 'get', key: 'hot' })).toMatchObject({ value: 5, version: 6, createRevision: 1, modRevision: 8 });
    // the put kept from before the compaction is the prevKv of the change at it
    expect(send(kv, { op: 'changes', key: 'hot', fromRevision: 8, prevKv: true })).toMatchObject({ events: [{ prevKv: { value: 4, version: 5, createRevision: 1, modRevision: 5 } }] });
    expect(send(kv, { op: 'get', key: 'gone', revision: 8 })).toMatchObject({ value: null });
  });

  it('auto-compaction keeps about the asked-for number of revisions, decided from the revision alone', () => {
    const kv = new KvStore({ autoCompactRetainRevisions: 20 });
    for (let i = 0; i < 100; i++) send(kv, { op: 'put', key: `k${i % 7}`, value: i });
    // compacts at every multiple of 2 (a tenth of 20) to 20 revisions back
    expect(kv.compactRevision).toBe(80);
    expect(send(kv, { op: 'get', key: 'k0', revision: 79 })).toMatchObject({ error: 'compacted' });
    expect(send(kv, { op: 'get', key: 'k0', revision: 80 })).toMatchObject({ revision: 100 });
    expect(kv.retainedChanges).toBe(21);
  });
});

describe('txn', () => {
  it('applies every write of the chosen branch at one revision and reports it in every result', () => {
    const kv = new KvStore();
    send(kv, { op: 'put', key: 'x', value: 1 });
    const r = send(kv, {
      op: 'txn',
      compare: [{ key: 'x', target: 'value', cmp: '=', value: 1 }, { key: 'y', target: 'version', cmp: '=', value: 0 }],
      success: [{ op: 'put', key: 'y', value: 'a' }, { op: 'put', key: 'x', value: 2 }, { op: 'get', key: 'y' }, { op: 'txn', compare: [], success: [{ op: 'delete', key: 'z' }], failure: [] }],
      failure: [{ op: 'put', key: 'failed', value: true }],
    });
    expect(r).toEqual({
      revision: 2,
      succeeded: true,
      results: [
        { revision: 2, version: 1 },
        { revision: 2, version: 2 },
        { revision: 2, value: 'a', version: 1, createRevision: 2, modRevision: 2 },
        { revision: 2, succeeded: true, results: [{ revision: 2, deleted: false }] },
      ],
    });
    const events = send(kv, { op: 'changes', prefix: '', fromRevision: 2 }) as { events: { kv: { key: string } }[] };
    expect(events.events.map((e) => e.kv.key)).toEqual(['x', 'y']); // keys sorted within a revision
  });

  it('takes no revision when nothing changes, and runs the failure branch when a compare fails', () => {
    const kv = new KvStore();
    expect(send(kv, { op: 'txn', compare: [{ key: 'x', target: 'value', cmp: '>', value: 0 }], success: [], failure: [{ op: 'get', key: 'x' }, { op: 'delete', prefix: '' }] })).toEqual({
      revision: 0,
      succeeded: false,
      results: [{ revision: 0, value: null, version: 0, createRevision: 0, modRevision: 0 }, { revision: 0, deleted: 0 }],
    });
  });

  it('decides nested compares against the state before the txn, as etcd does', () => {
    const kv = new KvStore();
    const r = send(kv, { op: 'txn', success: [{ op: 'put', key: 'k', value: 1 }, { op: 'txn', compare: [{ key: 'k', target: 'version', cmp: '=', value: 0 }], success: [{ op: 'put', key: 'seen-absent', value: true }], failure: [] }] });
    expect(r).toMatchObject({ succeeded: true, results: [{ version: 1 }, { succeeded: true }] });
  });

  it('orders numbers by value and strings by code units; any other pair only equal or not, a type mismatch never ordered', () => {
    const kv = new KvStore();
    send(kv, { op: 'put', key: 'n', value: 10 });
    send(kv, { op: 'put', key: 's', value: 'b' });
    send(kv, { op: 'put', key: 'o', value: { p: [1, 2], q: null } });
    const holds = (compare: JsonValue): boolean => (send(kv, { op: 'txn', compare: [compare] }) as { succeeded: boolean }).succeeded;
    expect(holds({ key: 'n', target: 'value', cmp: '>', value: 9 })).toBe(true);
    expect(holds({ key: 'n', target: 'value', cmp: '<', value: 9.5 })).toBe(false);
    expect(holds({ key: 's', target: 'value', cmp: '<', value: 'c' })).toBe(true);
    expect(holds({ key: 's', target: 'value', cmp: '<', value: 'B' })).toBe(false);
    expect(holds({ key: 'n', target: 'value', cmp: '<', value: 'z' })).toBe(false);
    expect(holds({ key: 'n', target: 'value', cmp: '>', value: 'z' })).toBe(false);
    expect(holds({ key: 'n', target: 'value', cmp: '!=', value: '10' })).toBe(true);
    expect(holds({ key: 'o', target: 'value', cmp: '=', value: { q: null, p: [1, 2] } })).toBe(true);
    expect(holds({ key: 'absent', target: 'value', cmp: '=', value: null })).toBe(true);
    expect(holds({ key: 'absent', target: 'createRevision', cmp: '<', value: 1 })).toBe(true);
    expect(holds({ key: 'n', target: 'modRevision', cmp: '=', value: 1 })).toBe(true);
  });

  it('is refused whole when it names a missing lease, and refused at decode when it would write a key twice', () => {
    const kv = new KvStore();
    expect(send(kv, { op: 'txn', success: [{ op: 'put', key: 'a', value: 1 }, { op: 'put', key: 'b', value: 1, lease: 7 }] })).toEqual({ revision: 0, error: 'lease-not-found', id: 7 });
    expect(kv.size).toBe(0);
    expect(kvRequestProblem({ op: 'txn', success: [{ op: 'put', key: 'a', value: 1 }, { op: 'put', key: 'a', value: 2 }] })).toMatch(/"a" twice/);
    expect(kvRequestProblem({ op: 'txn', success: [{ op: 'delete', prefix: 'a' }, { op: 'put', key: 'ab', value: 2 }] })).toMatch(/"ab" twice/);
    expect(kvRequestProblem({ op: 'txn', failure: [{ op: 'put', key: 'a', value: 1 }, { op: 'txn', success: [{ op: 'put', key: 'a', value: 2 }] }] })).toMatch(/failure.*"a" twice/);
    // one branch of a nested txn runs, never both; overlapping deletes are fine
    expect(kvRequestProblem({ op: 'txn', success: [{ op: 'txn', success: [{ op: 'put', key: 'a', value: 1 }], failure: [{ op: 'put', key: 'a', value: 2 }] }] })).toBeNull();
    expect(kvRequestProblem({ op: 'txn', success: [{ op: 'delete', key: 'a', end: 'c' }, { op: 'delete', prefix: 'b' }] })).toBeNull();
  });
});

describe('leases', () => {
  it('grants with the log index as id unless asked, attaches keys, and revokes them all at one revision', () => {
    const changes: LeaseChange[] = [];
    const kv = new KvStore({ onLeaseChange: (c) => changes.push(c) });
    expect(send(kv, { op: 'leaseGrant', ttlMs: 5000 }, 42)).toEqual({ revision: 0, id: 42, ttlMs: 5000 });
    expect(send(kv, { op: 'leaseGrant', ttlMs: 1000, id: 42 }, 43)).toEqual({ revision: 0, error: 'lease-exists', id: 42 });
    expect(send(kv, { op: 'leaseGrant', ttlMs: 1000, id: 44 }, 44)).toEqual({ revision: 0, id: 44, ttlMs: 1000 });
    // the index is taken by a lease a client named: the next free id
    expect(send(kv, { op: 'leaseGrant', ttlMs: 1000 }, 44)).toEqual({ revision: 0, id: 45, ttlMs: 1000 });
    expect(send(kv, { op: 'put', key: 'a', value: 1, lease: 99 })).toEqual({ revision: 0, error: 'lease-not-found', id: 99 });
    send(kv, { op: 'put', key: 'a', value: 1, lease: 42 });
    send(kv, { op: 'put', key: 'b', value: 1, lease: 42 });
    send(kv, { op: 'put', key: 'c', value: 1, lease: 42 });
    send(kv, { op: 'put', key: 'c', value: 2 }); // detaches
    send(kv, { op: 'incr', key: 'b' }); // keeps it
    expect(send(kv, { op: 'get', key: 'b' })).toMatchObject({ value: 2, lease: 42 });
    expect(send(kv, { op: 'leaseTimeToLive', id: 42, keys: true })).toEqual({ revision: 5, id: 42, ttlMs: 5000, keys: ['a', 'b'] });
    expect(send(kv, { op: 'leaseList', limit: 2 })).toEqual({ revision: 5, leases: [{ id: 42, ttlMs: 5000 }, { id: 44, ttlMs: 1000 }], more: true });
    expect(send(kv, { op: 'leaseRevoke', id: 42 })).toEqual({ revision: 6, deleted: 2 });
    expect(kv.size).toBe(1);
    expect(send(kv, { op: 'changes', prefix: '', fromRevision: 6 })).toMatchObject({ events: [{ type: 'delete', kv: { key: 'a' } }, { type: 'delete', kv: { key: 'b' } }], nextRevision: 7 });
    expect(send(kv, { op: 'leaseRevoke', id: 44 })).toEqual({ revision: 6, deleted: 0 });
    expect(send(kv, { op: 'leaseRevoke', id: 44 })).toEqual({ revision: 6, error: 'lease-not-found', id: 44 });
    expect(changes).toEqual([
      { type: 'grant', id: 42, ttlMs: 5000 },
      { type: 'grant', id: 44, ttlMs: 1000 },
      { type: 'grant', id: 45, ttlMs: 1000 },
      { type: 'revoke', id: 42 },
      { type: 'revoke', id: 44 },
    ]);
    const restored = new KvStore({ onLeaseChange: (c) => changes.push(c) });
    restored.restore(kv.snapshot());
    expect(changes.at(-1)).toEqual({ type: 'reset', leases: [{ id: 45, ttlMs: 1000 }] });
  });
});

describe('the change log', () => {
  const filled = (): KvStore => {
    const kv = new KvStore();
    send(kv, { op: 'put', key: 'p/a', value: 1 }); // 1
    send(kv, { op: 'put', key: 'q', value: 1 }); // 2
    send(kv, { op: 'txn', success: [{ op: 'put', key: 'p/c', value: 1 }, { op: 'put', key: 'p/b', value: 1 }, { op: 'delete', key: 'p/a' }] }); // 3
    send(kv, { op: 'put', key: 'p/b', value: 2 }); // 4
    return kv;
  };

  it('pages whole revisions, with prevKv and filters', () => {
    const kv = filled();
    expect(send(kv, { op: 'changes', prefix: 'p/', fromRevision: 1, maxEvents: 2 })).toEqual({
      revision: 4,
      events: [{ type: 'put', kv: { key: 'p/a', value: 1, version: 1, createRevision: 1, modRevision: 1 }, revision: 1 }],
      nextRevision: 3,
    });
    // revision 3 has three events: it comes whole although maxEvents is 2
    const page = send(kv, { op: 'changes', prefix: 'p/', fromRevision: 3, maxEvents: 2, prevKv: true }) as { events: { type: string; kv: { key: string }; prevKv?: JsonValue }[]; nextRevision: number };
    expect(page.events.map((e) => `${e.type} ${e.kv.key}`)).toEqual(['delete p/a', 'put p/b', 'put p/c']);
    expect(page.events[0]?.prevKv).toEqual({ key: 'p/a', value: 1, version: 1, createRevision: 1, modRevision: 1 });
    expect(page.nextRevision).toBe(4);
    expect(send(kv, { op: 'changes', key: 'p/b', fromRevision: 1, noPut: true })).toEqual({ revision: 4, events: [], nextRevision: 5 });
    expect(send(kv, { op: 'changes', key: 'p/b', fromRevision: 0 })).toEqual({ revision: 4, events: [], nextRevision: 5 });
    expect(send(kv, { op: 'changes', key: 'p/b', fromRevision: 9 })).toEqual({ revision: 4, events: [], nextRevision: 9 });
    expect(send(kv, { op: 'changes', key: 'p/a', end: 'p/c', fromRevision: 4, prevKv: true })).toEqual({
      revision: 4,
      events: [{ type: 'put', kv: { key: 'p/b', value: 2, version: 2, createRevision: 3, modRevision: 4 }, prevKv: { key: 'p/b', value: 1, version: 1, createRevision: 3, modRevision: 3 }, revision: 4 }],
      nextRevision: 5,
    });
  });

  it('looks at a bounded part of the log per pull, and resumes where it stopped', () => {
    const kv = new KvStore();
    for (let i = 0; i < CHANGES_SCAN_BUDGET + 10; i++) kv.apply({ op: 'put', key: 'busy', value: i }, 0);
    kv.apply({ op: 'put', key: 'p/rare', value: 1 }, 0);
    const first = send(kv, { op: 'changes', prefix: 'p/', fromRevision: 1 }) as { events: JsonValue[]; nextRevision: number };
    expect(first).toEqual({ revision: CHANGES_SCAN_BUDGET + 11, events: [], nextRevision: CHANGES_SCAN_BUDGET + 1 });
    expect(send(kv, { op: 'changes', prefix: 'p/', fromRevision: first.nextRevision })).toMatchObject({ events: [{ kv: { key: 'p/rare' } }], nextRevision: CHANGES_SCAN_BUDGET + 12 });
    const one = send(kv, { op: 'changes', key: 'busy', fromRevision: 1, noPut: true }) as { nextRevision: number };
    expect(one.nextRevision).toBe(CHANGES_SCAN_BUDGET + 1);
  });

  it('refuses a start older than the retained history, naming the first revision it can start from', () => {
    const kv = filled();
    send(kv, { op: 'compact', revision: 3 });
    expect(send(kv, { op: 'changes', prefix: '', fromRevision: 2 })).toEqual({ revision: 4, error: 'compacted', compactRevision: 3 });
    expect((send(kv, { op: 'changes', prefix: '', fromRevision: 3, prevKv: true }) as { events: JsonValue[] }).events).toHaveLength(4);
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

  it('restores the first version\'s {revision, items}: the state, nothing older', () => {
    const kv = new KvStore();
    kv.restore({ revision: 7, items: [['a', 1, 3, 2, 6], ['b', { x: [1] }, 1, 7, 7]] });
    expect(send(kv, { op: 'get', key: 'a' })).toEqual({ revision: 7, value: 1, version: 3, createRevision: 2, modRevision: 6 });
    expect(send(kv, { op: 'get', key: 'a', revision: 7 })).toMatchObject({ value: 1 });
    expect(send(kv, { op: 'get', key: 'a', revision: 6 })).toEqual({ revision: 7, error: 'compacted', compactRevision: 7 });
    // the changes at revision 7 itself are not known (a delete there left no trace)
    expect(send(kv, { op: 'changes', prefix: '', fromRevision: 7 })).toEqual({ revision: 7, error: 'compacted', compactRevision: 8 });
    send(kv, { op: 'put', key: 'a', value: 2 });
    expect(send(kv, { op: 'changes', prefix: '', fromRevision: 8, prevKv: true })).toMatchObject({ events: [{ kv: { key: 'a', version: 4, modRevision: 8 }, prevKv: { value: 1, version: 3 } }] });
    expect(kv.snapshot()).toMatchObject({ compactRevision: 7, changesFrom: 8 });
    const again = new KvStore();
    again.restore(JSON.parse(JSON.stringify(kv.snapshot())) as JsonValue);
    expect(again.snapshot()).toEqual(kv.snapshot());
    expect(send(again, { op: 'changes', prefix: '', fromRevision: 7 })).toMatchObject({ compactRevision: 8 });
  });

  it('gives a value that later applies do not change', () => {
    const kv = new KvStore();
    send(kv, { op: 'leaseGrant', ttlMs: 10, id: 1 });
    send(kv, { op: 'put', key: 'a', value: [1], lease: 1 });
    send(kv, { op: 'put', key: 'a', value: [2], lease: 1 });
    send(kv, { op: 'put', key: 'b', value: 1 });
    const snap = kv.snapshot();
    const text = JSON.stringify(snap);
    send(kv, { op: 'put', key: 'a', value: [3] });
    send(kv, { op: 'put', key: 'c', value: 1, lease: 1 });
    send(kv, { op: 'delete', key: 'b' });
    send(kv, { op: 'leaseRevoke', id: 1 });
    send(kv, { op: 'compact', revision: 6 });
    expect(JSON.stringify(snap)).toBe(text);
  });

  it('rejects a snapshot that breaks the history rules, and keeps its state', () => {
    const kv = new KvStore();
    send(kv, { op: 'put', key: 'keep', value: 1 });
    const others = [['b', 1, 1, 2, 2], ['c', 1, 1, 4, 4]];
    const base = { revision: 4, items: [['a', 2, 2, 1, 3], ...others], compactRevision: 0, history: [['a', 1, 1, [1], [1], 0]], leases: [] };
    const withA = (item: JsonValue[]): { [key: string]: JsonValue } => ({ ...base, items: [item, ...others] });
    new KvStore().restore(base); // the valid one
    const broken: JsonValue[] = [
      { ...base, compactRevision: 6 },
      { ...base, changesFrom: 9 },
      { ...base, revision: 5 }, // revision 5 took no change
      withA(['a', 2, 3, 1, 3]), // version 3 does not follow from one put before
      withA(['a', 2, 1, 1, 3]),
      { ...withA(['a', null, 1, 3, 3]), history: [['d', 1, 1, [1, -3], [1], 0]] },
      withA(['a', 2, 2, 1, 9]),
      { ...base, history: [['a', 1, 1, [3], [1], 0]] }, // as old as its item
      { ...base, history: [['a', 1, 1, [1, -2], [1], 0]] }, // deleted, yet an item
      { ...base, history: [['a', 1, 1, [1], [], 0]] },
      { ...base, history: [['a', 1, 1, [-1], [], 0]] },
      { ...base, history: [['a', 1, 1, [1], [1], [0, 0]]] },
      { ...base, history: [['a', 1, 1, [1], [1], 0], ['e', 1, 1, [1], [1], 0]] }, // not deleted, not an item
      { ...base, history: [['a', 1, 1, [1], [1], 0], ['a', 1, 1, [2], [1], 0]] },
      { ...base, leases: [[1, 10, ['zz']]] },
      { ...base, leases: [[1, 10, ['a']], [2, 10, ['a']]] },
      { ...base, leases: [[0, 10, []]] },
      { ...base, compactRevision: 4 }, // two changes of "a" kept from before the compaction
      { ...base, leases: 'x' },
      { ...base, history: {} },
      { revision: -1, items: [] },
      { revision: 1.5, items: [] },
      { revision: 3, items: [['a', 1, 1, 1, 1], ['a', 1, 1, 2, 2]] },
      { revision: 2 ** 53, items: [], compactRevision: 0, history: [], leases: [] },
    ];
    for (const snapshot of broken) {
      let error: unknown;
      try {
        kv.restore(snapshot);
      } catch (err) {
        error = err;
      }
      expect(error, JSON.stringify(snapshot)).toBeInstanceOf(KvError);
      expect((error as KvError).code).toBe('BAD_SNAPSHOT');
      expect(send(kv, { op: 'get', key: 'keep' })).toMatchObject({ value: 1 });
    }
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
