// The safety monitors on hand-made event sequences: what they report, and what they must not
// (an acceptance a crash lost before it was durable is no acceptance; a promise only the crashed
// node knew of is no promise).
import { describe, expect, it } from 'vitest';
import type { NodeId } from '../core/index.js';
import type { Ballot } from './ballot.js';
import { PaxosMonitor } from './monitors.js';
import type { AcceptorRecovery } from './observer.js';

const b = (round: number, node: string): Ballot => ({ round, node });
const NODES = ['1', '2', '3', '4', '5'];

/** A monitor over five acceptors (|Q2| 3) whose down nodes' disks the test sets. */
function monitor(): { m: PaxosMonitor; down: Map<NodeId, AcceptorRecovery> } {
  const down = new Map<NodeId, AcceptorRecovery>();
  const m = new PaxosMonitor({ now: () => 0, phase2Quorum: 3, nodeIds: () => NODES, durableState: (id) => down.get(id) });
  return { m, down };
}

const kinds = (m: PaxosMonitor) => m.violations.map((v) => v.kind);

describe('Paxos monitors', () => {
  it('report two values chosen at one slot', () => {
    const { m } = monitor();
    for (const n of ['1', '2', '3']) m.accepted(n, 7, b(1, '1'), 'A');
    expect(m.chosenAt(7)).toBe('A');
    for (const n of ['3', '4', '5']) m.accepted(n, 7, b(2, '4'), 'B');
    expect(kinds(m)).toEqual(['chosen-twice']);
  });

  it('do not count an acceptance the acceptor\'s crash lost before it was durable (chaos seed 1948)', () => {
    const { m, down } = monitor();
    m.accepted('1', 7, b(4, '1'), 'A');
    m.accepted('2', 7, b(4, '1'), 'A');
    m.accepted('5', 7, b(4, '1'), 'A'); // not yet synced when node 5 crashes
    expect(m.chosenAt(7)).toBe('A');
    // node 5 is down; its disk kept nothing at slot 7
    down.set('5', { promised: b(4, '1'), accepted: [], snapshotSlot: 0 });
    for (const n of ['3', '4', '2']) m.accepted(n, 7, b(12, '3'), 'B');
    expect(m.violations).toEqual([]);
    expect(m.chosenAt(7)).toBe('B');
    // the restart says the same, and changes nothing
    down.delete('5');
    m.recovered('5', { promised: b(4, '1'), accepted: [], snapshotSlot: 0 });
    expect(m.violations).toEqual([]);
  });

  it('still report the second value when the first was durably chosen', () => {
    const { m, down } = monitor();
    for (const n of ['1', '2', '5']) m.accepted(n, 7, b(4, '1'), 'A');
    down.set('5', { promised: b(4, '1'), accepted: [{ slot: 7, ballot: b(4, '1') }], snapshotSlot: 0 });
    for (const n of ['3', '4', '2']) m.accepted(n, 7, b(12, '3'), 'B');
    expect(kinds(m)).toEqual(['chosen-twice']);
  });

  it('a learner learning a value that is not chosen, or two values', () => {
    const { m } = monitor();
    for (const n of ['1', '2', '3']) m.accepted(n, 1, b(1, '1'), 'A');
    m.learned('4', 1, 'A');
    expect(m.violations).toEqual([]);
    m.learned('4', 1, 'B');
    expect(kinds(m)).toEqual(['learner-conflict', 'learned-unchosen']);
    m.learned('5', 2, 'X');
    expect(kinds(m)).toContain('learned-unchosen');
  });

  it('an acceptor going back on a promise, within a life and across a restart', () => {
    const { m } = monitor();
    m.promised('2', b(3, '1'));
    m.accepted('2', 1, b(2, '4'), 'A');
    expect(kinds(m)).toEqual(['accepted-below-promise']);
    m.promised('2', b(1, '5'));
    expect(kinds(m)).toEqual(['accepted-below-promise', 'promise-regressed']);
    // another node heard its promise of 3.1: a restart that forgot it is caught, one that kept it is not
    m.heardPromise('1', '2', b(3, '1'));
    m.heardAccepted('1', '2', 5, b(3, '1'));
    m.recovered('2', { promised: b(3, '1'), accepted: [{ slot: 5, ballot: b(3, '1') }], snapshotSlot: 0 });
    expect(kinds(m)).toHaveLength(2);
    m.recovered('2', { promised: b(1, '1'), accepted: [], snapshotSlot: 0 });
    expect(kinds(m)).toEqual(['accepted-below-promise', 'promise-regressed', 'promise-forgotten', 'acceptance-forgotten']);
    // slots a snapshot compacted are not forgotten
    const other = monitor().m;
    other.heardAccepted('1', '2', 5, b(3, '1'));
    other.recovered('2', { promised: b(3, '1'), accepted: [], snapshotSlot: 9 });
    expect(other.violations).toEqual([]);
  });

  it('replicas applying different values or out of order, and acknowledged writes that were not applied', () => {
    const { m } = monitor();
    const cmd = { kind: 'command', clientId: 'c', seq: 4, op: null };
    for (const n of ['1', '2', '3']) m.accepted(n, 1, b(1, '1'), cmd);
    m.applied('1', 1, cmd);
    m.acknowledged(1, 'c', 4);
    expect(m.violations).toEqual([]);
    m.applied('2', 1, { kind: 'noop' });
    m.applied('3', 2, cmd);
    m.acknowledged(1, 'c', 5);
    expect(kinds(m)).toEqual(['applied-divergence', 'applied-divergence', 'applied-order', 'lost-write']);
  });

  it('two leaders of one ballot, or a leader in another node\'s ballot', () => {
    const { m } = monitor();
    m.becameLeader('1', b(2, '1'));
    m.becameLeader('3', b(2, '1'));
    expect(kinds(m)).toEqual(['leader-ballot', 'leader-ballot']);
    expect(m.elections).toBe(2);
  });
});
