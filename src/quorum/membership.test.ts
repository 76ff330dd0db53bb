import { describe, expect, it } from 'vitest';
import { resolveQuorumConfig } from './config.js';
import { bootstrapRecord, claimantOf, commitRecord, decodeRingRecord, proposeJoin, proposeLeave, ringOfAssignment, ringOptions } from './membership.js';
import type { QuorumResponse } from './requests.js';
import { runQuorumChaos } from './sim/chaos.js';
import { call, get, put, quorumCluster, valuesOf } from './test/harness.js';

const config = resolveQuorumConfig({ partitionCount: 16 }, 4);

function ringOf(res: QuorumResponse | undefined): Extract<QuorumResponse, { op: 'ring' }> {
  if (res?.ok !== true || res.op !== 'ring') throw new Error(`not a ring answer: ${JSON.stringify(res)}`);
  return res;
}

describe('ring records', () => {
  it('moves only the partitions a join or leave must, and commits to the next ring', () => {
    const r0 = bootstrapRecord(['a', 'b', 'c'], config);
    const r1 = proposeJoin(r0, 'd', { peer: '127.0.0.1:1', client: 'http://127.0.0.1:2' }, config);
    expect(r1).toMatchObject({ epoch: 1, members: ['a', 'b', 'c'], next: { members: ['a', 'b', 'c', 'd'] } });
    const before = ringOfAssignment(r0, config);
    const after = ringOfAssignment(r1.next as NonNullable<typeof r1.next>, config);
    const moved = Array.from({ length: 16 }, (_, p) => p).filter((p) => before.ownerOfPartition(p) !== after.ownerOfPartition(p));
    expect(moved.length).toBe(4);
    expect(moved.every((p) => after.ownerOfPartition(p) === 'd')).toBe(true);
    const r2 = commitRecord(r1);
    expect(r2).toEqual({ epoch: 2, members: ['a', 'b', 'c', 'd'], owners: r1.next?.owners, addresses: { d: { peer: '127.0.0.1:1', client: 'http://127.0.0.1:2' } } });
    const r3 = proposeLeave(r2, 'a', true, config);
    expect(claimantOf(r3)).toBe('b');
    expect(decodeRingRecord(JSON.parse(JSON.stringify(r3)), ringOptions(config))).toEqual(r3);
  });

  it('refuses a second change under way, unknown or existing members, and a ring too small for N', () => {
    const r0 = bootstrapRecord(['a', 'b', 'c', 'd'], config);
    const r1 = proposeJoin(r0, 'e', undefined, config);
    expect(() => proposeJoin(r1, 'f', undefined, config)).toThrow(expect.objectContaining({ code: 'QUORUM_RING_CHANGING' }));
    expect(() => proposeJoin(r0, 'a', undefined, config)).toThrow(expect.objectContaining({ code: 'QUORUM_BAD_REQUEST' }));
    expect(() => proposeLeave(r0, 'z', false, config)).toThrow(expect.objectContaining({ code: 'QUORUM_BAD_REQUEST' }));
    expect(() => proposeLeave(bootstrapRecord(['a', 'b', 'c'], config), 'a', false, config)).toThrow(/could not hold 3 replicas/);
  });

  it('decodes hostile records into typed errors', () => {
    const shape = ringOptions(config);
    const good = bootstrapRecord(['a', 'b', 'c'], config);
    const bad: unknown[] = [
      null,
      'ring',
      { ...good, epoch: -1 },
      { ...good, epoch: 1.5 },
      { ...good, members: ['a', 'a', 'c'] },
      { ...good, owners: good.owners.slice(1) },
      { ...good, owners: good.owners.map(() => 7) },
      { ...good, members: ['x'.repeat(10_000), 'b', 'c'] },
      { ...good, next: { members: [], owners: [] } },
      { ...good, forced: ['nobody'] },
      { ...good, addresses: { z: { peer: 'p', client: 'c' } } },
      { ...good, addresses: { a: { peer: 'p'.repeat(1000), client: 'c' } } },
    ];
    for (const value of bad) expect(() => decodeRingRecord(value, shape), JSON.stringify(value)?.slice(0, 80)).toThrow(expect.objectContaining({ code: 'QUORUM_BAD_MESSAGE' }));
  });
});

describe('quorum store: membership', () => {
  it('a node started outside the ring answers QUORUM_NOT_JOINED, learns the ring once joined, and serves what moved to it', () => {
    const cluster = quorumCluster(3, { partitionCount: 16 });
    for (let i = 0; i < 40; i++) expect(put(cluster, '1', `k${i}`, `v${i}`)).toMatchObject({ ok: true });
    cluster.sim.addNode('4', ['1', '2', '3']);
    cluster.isolate('4');
    cluster.runFor(300);
    expect(get(cluster, '4', 'k1')).toMatchObject({ ok: false, code: 'QUORUM_NOT_JOINED' });
    // reconnected, it learns the ring from its peers' heartbeats and serves as a coordinator outside it
    cluster.heal();
    cluster.runFor(300);
    expect(valuesOf(get(cluster, '4', 'k1'))).toEqual(['v1']);
    // through a member that is not the claimant: it passes the change on
    expect(ringOf(call(cluster, '3', { op: 'ring-join', node: '4' }))).toMatchObject({ epoch: 1, next: ['1', '2', '3', '4'] });
    expect(call(cluster, '2', { op: 'ring-join', node: '5' })).toMatchObject({ ok: false, code: 'QUORUM_RING_CHANGING' });
    cluster.runUntil(() => cluster.nodeIds.every((id) => cluster.node(id)?.ringRecord()?.epoch === 2 && cluster.node(id)?.strayCount() === 0), 20_000);
    const status = ringOf(call(cluster, '4', { op: 'ring-status' }));
    expect(status).toMatchObject({ epoch: 2, members: ['1', '2', '3', '4'] });
    expect(status.next).toBeUndefined();
    // every key on exactly its new home replicas, the new node among them for some
    let onNew = 0;
    for (let i = 0; i < 40; i++) {
      const key = `b/k${i}`;
      const homes = cluster.homesOf(key);
      for (const id of cluster.nodeIds) expect(cluster.node(id)?.stateOf(key) !== undefined, `${key} on ${id} (homes ${homes.join(',')})`).toBe(homes.includes(id));
      if (homes.includes('4')) onNew++;
      expect(valuesOf(get(cluster, '4', `k${i}`, { r: 'all' }))).toEqual([`v${i}`]);
    }
    expect(onNew).toBeGreaterThan(0);
  });

  it('a member leaves: its partitions stream to the others, and it ends holding nothing', () => {
    const cluster = quorumCluster(4, { partitionCount: 16 });
    for (let i = 0; i < 40; i++) put(cluster, '2', `k${i}`, `v${i}`);
    expect(ringOf(call(cluster, '2', { op: 'ring-leave', node: '1' }))).toMatchObject({ next: ['2', '3', '4'] });
    cluster.runUntil(() => cluster.nodeIds.every((id) => cluster.node(id)?.ringRecord()?.epoch === 2 && cluster.node(id)?.strayCount() === 0), 20_000);
    expect(cluster.node('1')?.keys()).toEqual([]);
    for (let i = 0; i < 40; i++) expect(valuesOf(get(cluster, '1', `k${i}`, { r: 'all' }))).toEqual([`v${i}`]);
  });

  it('a node that gets hand-off batches for a ring it has not heard of yet keeps them (it forgot them before: seen on real processes)', () => {
    // node 3 loses partitions when 4 joins, and must get them back when 1 leaves; the leave's
    // record does not reach it (a connection reset on real processes) while the hand-off
    // batches do. It used to take them, then forget them as strays of the ring it still had.
    const cluster = quorumCluster(3, { partitionCount: 16, antiEntropyIntervalMs: 0 });
    for (let i = 0; i < 40; i++) expect(put(cluster, '1', `k${i}`, `v${i}`)).toMatchObject({ ok: true });
    cluster.sim.addNode('4', ['1', '2', '3']);
    expect(ringOf(call(cluster, '1', { op: 'ring-join', node: '4' }))).toMatchObject({ next: ['1', '2', '3', '4'] });
    cluster.runUntil(() => cluster.nodeIds.every((id) => cluster.node(id)?.ringRecord()?.epoch === 2 && cluster.node(id)?.ringRecord()?.next === undefined), 20_000);
    expect(cluster.node('3')?.strayCount()).toBeGreaterThan(0);
    // from now on nothing that carries the ring or its epoch reaches node 3
    let blocking = true;
    const unsubscribe = cluster.sim.subscribe((e) => {
      if (blocking && e.ev === 'send' && e.to === '3' && ['ring', 'ping', 'pong', 'ring-ask', 'swim'].includes(e.type)) cluster.sim.dropInFlight(e.id);
    });
    expect(ringOf(call(cluster, '2', { op: 'ring-leave', node: '1' }))).toMatchObject({ next: ['2', '3', '4'] });
    cluster.runFor(5_000);
    blocking = false;
    unsubscribe();
    cluster.runUntil(() => cluster.nodeIds.every((id) => cluster.node(id)?.ringRecord()?.epoch === 4 && cluster.node(id)?.strayCount() === 0), 30_000);
    const missing = Array.from({ length: 40 }, (_, i) => `b/k${i}`).filter((key) => cluster.homesOf(key).some((h) => cluster.node(h)?.stateOf(key) === undefined));
    expect(missing).toEqual([]);
  });

  it('drops hostile ring and hand-off messages from a peer and keeps serving', () => {
    const cluster = quorumCluster(3, { partitionCount: 16 });
    const bad: unknown[] = [
      { type: 'ring', record: { epoch: 99, members: ['evil'], owners: [0] } },
      { type: 'ring', record: 'x' },
      { type: 'ping', epoch: -3 },
      { type: 'handoff', xid: 'x', states: [['b/k', { kind: 'bogus' }]] },
      { type: 'handoff', xid: 7, states: [] },
      { type: 'ring-done', epoch: 'soon' },
      { type: 'handoff', xid: 'x', states: [], epoch: -1 },
      { type: 'store', rid: 'r', key: 'b/k', state: { kind: 'dvv', vv: [], siblings: [] }, epoch: 'newer' },
    ];
    // the simulator carries only well-typed messages: hand the frames to the core directly
    const notes: string[] = [];
    const fx = { send: () => undefined, persist: () => undefined, reply: () => undefined, annotate: (k: string, v: unknown) => void notes.push(`${k}=${String(v)}`) };
    for (const msg of bad) expect(() => cluster.node('1')?.handleMessage('2', msg as never, fx)).not.toThrow();
    expect(notes.filter((n) => n.startsWith('lastBadMessage')).length).toBe(bad.length);
    expect(cluster.node('1')?.ringRecord()?.epoch).toBe(0);
    expect(put(cluster, '1', 'k', 'v')).toMatchObject({ ok: true });
  });
});

/** Bounded here; scripts/ring-chaos.ts runs more seeds. */
const SEEDS = 12;

describe('quorum store: membership under chaos', () => {
  it(`loses no acknowledged write while a node joins and another leaves under faults, seeds 1..${SEEDS}`, () => {
    const failures: string[] = [];
    for (let seed = 1; seed <= SEEDS; seed++) {
      // 64 keys: most are written before the moves and not after, so only the hand-off keeps them
      const result = runQuorumChaos({ seed, ringChanges: true, load: { keys: 64 } });
      if (!result.ok) failures.push(`seed ${seed}: ${result.violations.map((v) => `${v.kind}: ${v.message}`).join('; ').slice(0, 400)}`);
    }
    expect(failures).toEqual([]);
  });
});

