// Fault-hook tests over real sockets: partitions cut exactly the named links and heal, drop rates
// discard, and delays hold messages back (in order) while counting each decision.
import { describe, expect, it } from 'vitest';
import { seqsFrom, sleep, startCluster, useCleanup, waitConnected, waitFor, type Node } from './test/harness.js';

useCleanup();

function sendAll(nodes: readonly Node[], seq: number): void {
  for (const from of nodes) for (const to of nodes) if (to !== from) from.transport.send(to.id, { type: 'x', seq });
}

const has = (node: Node, from: string, seq: number): boolean => node.received.some((r) => r.from === from && r.message.seq === seq);

describe('fault hook', () => {
  it('partitions named nodes both ways, leaves other links alone, and heals', async () => {
    const nodes = await startCluster(['n1', 'n2', 'n3'], { faultInjection: true });
    const [n1, n2, n3] = nodes as [Node, Node, Node];
    await waitConnected(nodes);
    for (const node of nodes) node.transport.faults.partition(['n1'], ['n2', 'n3']);

    sendAll(nodes, 1);
    await waitFor(() => has(n3, 'n2', 1) && has(n2, 'n3', 1), 'the majority side to keep talking');
    await sleep(100);
    expect(n1.received).toEqual([]);
    expect(n2.received.filter((r) => r.from === 'n1')).toEqual([]);
    expect(n1.transport.metrics().faultDrops).toBe(2);
    expect(n1.transport.faults.state().partitionedFrom).toEqual(['n2', 'n3']);

    for (const node of nodes) node.transport.faults.heal();
    sendAll(nodes, 2);
    await waitFor(() => has(n1, 'n2', 2) && has(n1, 'n3', 2) && has(n2, 'n1', 2) && has(n3, 'n1', 2), 'delivery after heal');
    expect(n1.logs.some((r) => r.event === 'faults_changed')).toBe(true);
  });

  it('a partition set on one node alone cuts its links in both directions', async () => {
    const [a, b] = (await startCluster(['a', 'b'], { faultInjection: true })) as [Node, Node];
    await waitConnected([a, b]);
    a.transport.faults.partition(['a'], ['b']);
    a.transport.send('b', { type: 'x', seq: 1 });
    b.transport.send('a', { type: 'x', seq: 2 });
    await waitFor(() => a.transport.metrics().faultDrops === 2, 'both directions dropped at a');
    expect(a.received).toEqual([]);
    expect(b.received).toEqual([]);
  });

  it('drops by rate and delays in order', async () => {
    const [a, b] = (await startCluster(['a', 'b'], { faultInjection: true })) as [Node, Node];
    await waitConnected([a, b]);
    a.transport.faults.setDropRate('b', 1);
    for (let seq = 0; seq < 10; seq++) a.transport.send('b', { type: 'x', seq });
    expect(a.transport.metrics().peers.b!.faultDrops).toBe(10);

    a.transport.faults.setDropRate('b', 0);
    a.transport.faults.setDelayMs('b', 150);
    for (let seq = 10; seq < 20; seq++) a.transport.send('b', { type: 'x', seq });
    expect(a.transport.metrics().peers.b!.queuedMessages).toBe(0); // held by the hook, not yet queued
    await waitFor(() => b.received.length === 10, 'the delayed messages');
    expect(seqsFrom(b, 'a')).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    expect(a.transport.metrics().faultDelays).toBe(10);

    b.transport.faults.setDelayMs('a', 100, 'in');
    a.transport.faults.reset();
    a.transport.send('b', { type: 'x', seq: 20 });
    await waitFor(() => b.transport.metrics().faultDelays === 1 && b.received.length === 11, 'an inbound delay');
  });
});
