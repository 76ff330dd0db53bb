// The Paxos log on the WAL: ops come back in order after a reopen; a snapshot op becomes a
// checkpoint that drops the log before it; the periodic fold replays to the same acceptor state
// as the ops it replaced (a property over random op sequences); large accepts are split into
// records that replay as one; a foreign record is refused at open. And the value depth the
// service admits survives every place a value travels or is stored.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { KvStore } from '../kv/index.js';
import type { Ballot } from '../paxos/ballot.js';
import { MultiAcceptor } from '../paxos/multi/acceptor.js';
import { decodePaxosPersistOp, parsePaxosMessage } from '../paxos/multi/messages.js';
import type { PaxosPersistOp, PaxosValue } from '../paxos/multi/types.js';
import { OpLogStore } from '../storage/index.js';
import { PAXOS_KV_MAX_VALUE_DEPTH } from './paxos-kv-routes.js';
import { compactPaxosOps, MAX_ENTRIES_PER_RECORD, PaxosStore } from './paxos-kv-store.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'synod-paxlog-'));
  dirs.push(d);
  return d;
}

const b = (round: number, node = '1'): Ballot => ({ round, node });
const put = (key: string, value: unknown): PaxosValue => ({ kind: 'command', clientId: 'c', seq: 1, op: { op: 'put', key, value } as never });

/** The acceptor state `ops` replay to, as MultiAcceptor has it (what the core starts from). */
function replayed(ops: readonly PaxosPersistOp[]): { promised: Ballot; snapshotSlot: number; accepted: unknown[]; snapshot: unknown } {
  const a = new MultiAcceptor('1', undefined);
  let snapshot: unknown = null;
  for (const op of ops) {
    a.replay(op);
    if (op.kind === 'snapshot') snapshot = op.slot > 0 ? { slot: op.slot, data: op.data } : snapshot;
  }
  return { promised: a.promised, snapshotSlot: a.snapshotSlot, accepted: a.acceptedAbove(0), snapshot };
}

const ballotArb = fc.record({ round: fc.integer({ min: 1, max: 6 }), node: fc.constantFrom('1', '2', '3') });
/** Ops as a core writes them: ballots never go down, snapshots at growing slots. */
const opsArb = fc.array(
  fc.oneof(
    fc.record({ kind: fc.constant('promise' as const), ballot: ballotArb }),
    fc.record({ kind: fc.constant('accept' as const), ballot: ballotArb, entries: fc.array(fc.record({ slot: fc.integer({ min: 1, max: 40 }), value: fc.oneof(fc.constant<PaxosValue>({ kind: 'noop' }), fc.integer().map((n) => put('k', n))) }), { minLength: 1, maxLength: 5 }) }),
    fc.record({ kind: fc.constant('snapshot' as const), slot: fc.integer({ min: 0, max: 30 }), data: fc.integer().map((n) => ({ machine: n, sessions: [] })), promised: ballotArb, accepted: fc.constant([]) }),
  ),
  { maxLength: 40 },
).map((ops) => {
  // make it a sequence a core could write: the promise never falls, snapshots only move forward
  let promised = b(0, '');
  let slot = 0;
  const out: PaxosPersistOp[] = [];
  const higher = (x: Ballot): Ballot => (x.round > promised.round || (x.round === promised.round && x.node >= promised.node) ? x : promised);
  for (const op of ops) {
    if (op.kind === 'snapshot') {
      slot = Math.max(slot, op.slot);
      out.push({ ...op, slot, promised: (promised = higher(op.promised)) });
    } else out.push({ ...op, ballot: (promised = higher(op.ballot)) } as PaxosPersistOp);
  }
  return out;
});

describe('compactPaxosOps', () => {
  it('replays to the same acceptor state and snapshot, in no more ops', () => {
    fc.assert(
      fc.property(opsArb, (ops) => {
        const folded = compactPaxosOps(ops);
        expect(folded.length).toBeLessThanOrEqual(ops.length);
        expect(replayed(folded)).toEqual(replayed(ops));
        for (const op of folded) expect('op' in decodePaxosPersistOp(JSON.parse(JSON.stringify(op)))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('folds a long log of one-slot accepts into a promise and a few accepts', () => {
    const ops: PaxosPersistOp[] = [{ kind: 'promise', ballot: b(3, '2') }];
    for (let slot = 1; slot <= 100; slot++) ops.push({ kind: 'accept', ballot: b(3, '2'), entries: [{ slot, value: put(`k${slot}`, slot) }] });
    ops.push({ kind: 'promise', ballot: b(4, '3') });
    const folded = compactPaxosOps(ops);
    expect(folded[0]).toEqual({ kind: 'promise', ballot: b(4, '3') });
    expect(folded).toHaveLength(1 + Math.ceil(100 / MAX_ENTRIES_PER_RECORD));
    expect(replayed(folded)).toEqual(replayed(ops));
  });
});

describe('PaxosStore', () => {
  it('gives the ops back in order after a reopen; a snapshot op drops the log before it', async () => {
    const dir = tempDir();
    const store = await PaxosStore.open(dir);
    expect(store.recovered).toEqual([]);
    const early: PaxosPersistOp[] = [{ kind: 'promise', ballot: b(1) }, { kind: 'accept', ballot: b(1), entries: [{ slot: 1, value: put('a', 1) }] }];
    await store.persist(early);
    await store.close();
    const again = await PaxosStore.open(dir);
    expect(again.recovered).toEqual(early);
    const snapshot: PaxosPersistOp = { kind: 'snapshot', slot: 1, data: { machine: 'm', sessions: [] }, promised: b(2), accepted: [{ slot: 2, ballot: b(2), value: put('b', 2) }] };
    const after: PaxosPersistOp = { kind: 'accept', ballot: b(2), entries: [{ slot: 3, value: put('c', 3) }] };
    // the op before the snapshot in the same batch is superseded too
    await again.persist([{ kind: 'promise', ballot: b(2) }, snapshot, after]);
    await again.close();
    const third = await PaxosStore.open(dir);
    expect(third.recovered).toEqual([snapshot, after]);
    await third.close();
    expect(readdirSync(dir).filter((f) => f.endsWith('.snap'))).toHaveLength(1);
  });

  it('folds every compactEveryOps ops into a checkpoint that replays the same', async () => {
    const dir = tempDir();
    const store = await PaxosStore.open(dir, { compactEveryOps: 10 });
    const all: PaxosPersistOp[] = [];
    for (let slot = 1; slot <= 35; slot++) {
      const op: PaxosPersistOp = slot % 7 === 0 ? { kind: 'promise', ballot: b(slot) } : { kind: 'accept', ballot: b(Math.floor(slot / 7) * 7 || 1), entries: [{ slot, value: put(`k${slot}`, slot) }] };
      all.push(op);
      await store.persist([op]);
    }
    expect(store.stats.checkpoints).toBe(3);
    await store.close();
    const again = await PaxosStore.open(dir, { compactEveryOps: 10 });
    expect(again.recovered.length).toBeLessThan(all.length);
    expect(replayed(again.recovered)).toEqual(replayed(all));
    await again.close();
  });

  it('writes an accept of many entries as records of at most MAX_ENTRIES_PER_RECORD that replay as one', async () => {
    const dir = tempDir();
    const store = await PaxosStore.open(dir);
    const big: PaxosPersistOp = { kind: 'accept', ballot: b(5, '2'), entries: Array.from({ length: 100 }, (_, i) => ({ slot: i + 1, value: put(`k${i}`, i) })) };
    await store.persist([big]);
    expect(store.stats.records).toBe(Math.ceil(100 / MAX_ENTRIES_PER_RECORD));
    await store.close();
    const again = await PaxosStore.open(dir);
    expect(replayed(again.recovered)).toEqual(replayed([big]));
    await again.close();
  });

  it('refuses at open a record that is not a Paxos op, naming the file and offset', async () => {
    const dir = tempDir();
    const foreign = await OpLogStore.open<unknown>(dir, { decodeOp: (v) => ({ op: v }) });
    await foreign.persist([{ kind: 'accept', ballot: { round: 'one', node: 1 }, entries: [] }]);
    await foreign.close();
    await expect(PaxosStore.open(dir)).rejects.toThrow(/\.wal at byte offset \d+: accept: bad ballot or entries/);
  });
});

describe('the deepest value paxos-kv admits', () => {
  const deep = (depth: number): unknown => {
    let v: unknown = 'leaf';
    for (let i = 0; i < depth; i++) v = i % 2 === 0 ? [v] : { x: v };
    return v;
  };

  it('travels in accepts and snapshots and is read back, history included; a few levels more is not', () => {
    const survives = (depth: number): boolean => {
      const value = deep(depth) as never;
      const store = new KvStore({ autoCompactRetainRevisions: 1000 });
      store.apply({ op: 'put', key: 'k', value }, 1);
      store.apply({ op: 'put', key: 'k', value: 1 }, 2); // the deep value now lives in the history
      store.apply({ op: 'put', key: 'j', value }, 3); // and one in the current state
      const snapshot = { kind: 'snapshot', slot: 3, data: { machine: store.snapshot(), sessions: [] }, promised: b(1), accepted: [] };
      const accept = { type: 'accept', ballot: b(1, '2'), entries: [{ slot: 4, value: { kind: 'command', clientId: 'c', seq: 1, op: { op: 'cas', key: 'k', from: value, to: value } } }], decided: [] };
      return 'op' in decodePaxosPersistOp(JSON.parse(JSON.stringify(snapshot)))
        && 'msg' in parsePaxosMessage('2', JSON.parse(JSON.stringify(accept)))
        && 'msg' in parsePaxosMessage('2', { type: 'snapshot', slot: 3, data: JSON.parse(JSON.stringify(snapshot.data)) });
    };
    expect(survives(PAXOS_KV_MAX_VALUE_DEPTH)).toBe(true);
    // the reason for the limit: the KV's own 64 does not survive
    expect(survives(64)).toBe(false);
  });
});
