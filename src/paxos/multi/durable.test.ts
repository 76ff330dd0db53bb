// The durable side of Multi-Paxos: the chosen log (slots learned in any order, the known prefix,
// decided ranges), folding a durable op log into fewer ops that replay to the same acceptor
// (property), and the checks a host applies to ops it reads back.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareBallots, type Ballot } from '../ballot.js';
import { MultiAcceptor } from './acceptor.js';
import { ChosenLog } from './chosen-log.js';
import { compactPaxosOps } from './durable.js';
import { decodePaxosPersistOp } from './messages.js';
import type { PaxosPersistOp, PaxosValue } from './types.js';

const b = (round: number, node: string): Ballot => ({ round, node });
const v = (n: number): PaxosValue => ({ kind: 'command', clientId: 'c', seq: n, op: { op: 'put', key: 'k', value: n } });

describe('chosen log', () => {
  it('learns slots in any order and knows the prefix all chosen', () => {
    const log = new ChosenLog();
    expect(log.learn(3, b(1, '1'), v(3))).toBe('new');
    expect(log.known).toBe(0);
    expect(log.learn(1, b(1, '1'), v(1))).toBe('new');
    expect(log.known).toBe(1);
    expect(log.learn(2, b(2, '2'), v(2))).toBe('new');
    expect(log.known).toBe(3);
    expect(log.learn(2, b(3, '3'), v(2))).toBe('same');
    expect(log.learn(2, b(3, '3'), v(9))).toBe('conflict');
    expect(log.highest).toBe(3);
  });

  it('describes what it knows as runs of slots chosen in one ballot', () => {
    const log = new ChosenLog();
    for (const s of [1, 2, 3]) log.learn(s, b(1, '1'), v(s));
    for (const s of [4, 5]) log.learn(s, b(2, '2'), v(s));
    log.learn(7, b(2, '2'), v(7));
    expect(log.ranges(1, 10, 100)).toEqual([
      { from: 1, to: 3, ballot: b(1, '1') },
      { from: 4, to: 5, ballot: b(2, '2') },
      { from: 7, to: 7, ballot: b(2, '2') },
    ]);
    expect(log.ranges(2, 1, 100)).toEqual([{ from: 2, to: 3, ballot: b(1, '1') }]);
    expect(log.ranges(1, 10, 2)).toEqual([{ from: 1, to: 2, ballot: b(1, '1') }]);
  });

  it('compaction drops values below a slot but keeps them known chosen', () => {
    const log = new ChosenLog();
    for (const s of [1, 2, 3, 5]) log.learn(s, b(1, '1'), v(s));
    log.compactBelow(3);
    expect(log.get(2)).toBeUndefined();
    expect(log.has(2)).toBe(true);
    expect(log.learn(1, b(1, '1'), v(99))).toBe('compacted');
    log.installed(8);
    expect(log.known).toBe(8);
    expect(log.has(5)).toBe(true);
    expect(log.ranges(1, 10, 100)).toEqual([]);
  });
});

/** What an acceptor would write, given random requests: ballots only go up, snapshots only forward. */
const opLog = fc
  .array(
    fc.oneof(
      fc.record({ kind: fc.constant('promise' as const), round: fc.integer({ min: 1, max: 6 }), node: fc.constantFrom('1', '2', '3') }),
      fc.record({ kind: fc.constant('accept' as const), round: fc.integer({ min: 1, max: 6 }), node: fc.constantFrom('1', '2', '3'), slots: fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 4 }) }),
      fc.record({ kind: fc.constant('snapshot' as const), slot: fc.integer({ min: 1, max: 12 }) }),
    ),
    { maxLength: 30 },
  )
  .map((actions) => {
    const acceptor = new MultiAcceptor('x', undefined);
    const ops: PaxosPersistOp[] = [];
    const persist = (op: PaxosPersistOp): void => void ops.push(op);
    let n = 0;
    for (const a of actions) {
      if (a.kind === 'promise') acceptor.promise(b(a.round, a.node), persist);
      else if (a.kind === 'accept') {
        const ballot = b(a.round, a.node);
        if (compareBallots(ballot, acceptor.promised) >= 0) acceptor.accept(ballot, [...new Set(a.slots)].map((slot) => ({ slot, value: v(++n) })), persist);
      } else if (a.slot > acceptor.snapshotSlot) {
        acceptor.compact(a.slot);
        persist({ kind: 'snapshot', slot: a.slot, data: { machine: { n }, sessions: [] }, promised: acceptor.promised, accepted: acceptor.acceptedAbove(a.slot) });
      }
    }
    return ops;
  });

function stateOf(ops: readonly PaxosPersistOp[]) {
  const a = new MultiAcceptor('x', undefined);
  for (const op of ops) a.replay(op);
  return { promised: a.promised, snapshotSlot: a.snapshotSlot, accepted: a.acceptedAbove(0) };
}

describe('folding durable ops (for op-log hosts)', () => {
  it('replays to the same promise, snapshot and acceptances, in no more ops (property)', () => {
    fc.assert(
      fc.property(opLog, (ops) => {
        const folded = compactPaxosOps(ops);
        expect(folded.length).toBeLessThanOrEqual(ops.length);
        expect(stateOf(folded)).toEqual(stateOf(ops));
        // folding again changes nothing
        expect(compactPaxosOps(folded)).toEqual(folded);
      }),
      { numRuns: 300 },
    );
  });

  it('every op the acceptor writes passes the host\'s check; junk does not', () => {
    fc.assert(
      fc.property(opLog, (ops) => ops.every((op) => JSON.stringify(decodePaxosPersistOp(JSON.parse(JSON.stringify(op)))) === JSON.stringify({ op }))),
      { numRuns: 100 },
    );
    for (const bad of [null, [], { kind: 'promise' }, { kind: 'promise', ballot: b(0, '') }, { kind: 'accept', ballot: b(1, '1'), entries: [{ slot: 0, value: { kind: 'noop' } }] }, { kind: 'accept', ballot: b(1, '1'), entries: [{ slot: 1, value: { kind: 'command', seq: 1 } }] }, { kind: 'snapshot', slot: -1, data: null, promised: b(0, ''), accepted: [] }, { kind: 'wipe' }]) {
      expect(decodePaxosPersistOp(bad), JSON.stringify(bad)).toHaveProperty('problem');
    }
  });
});
