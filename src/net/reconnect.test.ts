// Reconnection and backpressure tests over real sockets: a peer restarting on its port gets the
// messages queued while it was down; a dead or stalled peer costs at most the queue bounds, the
// oldest messages are the ones dropped; a peer that stops answering pings is redialed.
import { describe, expect, it } from 'vitest';
import { HOST, RawAcceptor, freePort, seqsFrom, startNode, useCleanup, waitConnected, waitFor } from './test/harness.js';

useCleanup();

describe('reconnection', () => {
  it('delivers messages queued while a peer restarts on the same port', async () => {
    const a = await startNode('a');
    let b = await startNode('b');
    const port = b.transport.address.port;
    a.transport.addPeer('b', { host: HOST, port });
    b.transport.addPeer('a', a.transport.address);
    await waitConnected([a, b]);

    await b.transport.close();
    await waitFor(() => !a.transport.metrics().peers.b!.connected, 'a to notice b is gone');
    for (let seq = 0; seq < 100; seq++) expect(a.transport.send('b', { type: 'x', seq }).ok).toBe(true);
    expect(a.transport.metrics().peers.b!.queuedMessages).toBe(100);

    b = await startNode('b', { listen: { host: HOST, port }, peers: { a: a.transport.address } });
    await waitFor(() => b.received.length === 100, 'the queued messages after restart');
    expect(seqsFrom(b, 'a')).toEqual([...Array(100).keys()]);
    const metrics = a.transport.metrics();
    expect(metrics.peers.b!.reconnects).toBeGreaterThanOrEqual(1);
    expect(metrics.reconnects).toBeGreaterThanOrEqual(1);
    expect(metrics.queueDrops).toBe(0);
    expect(a.logs.some((r) => r.event === 'disconnected' && r.peer === 'b')).toBe(true);
  });

  it('bounds the queue of a peer that is down, dropping the oldest, then delivers the newest', async () => {
    const port = await freePort();
    const a = await startNode('a', { maxFrameBytes: 16 * 1024, maxQueueBytes: 32 * 1024, maxQueueMessages: 200 });
    a.transport.addPeer('b', { host: HOST, port });
    const total = 5000;
    for (let seq = 0; seq < total; seq++) a.transport.send('b', { type: 'x', seq, body: 'z'.repeat(100) });
    const peer = a.transport.metrics().peers.b!;
    expect(peer.queuedMessages).toBeLessThanOrEqual(200);
    expect(peer.queuedBytes).toBeLessThanOrEqual(32 * 1024);
    expect(peer.queueDrops).toBe(total - peer.queuedMessages);
    expect(a.logs.filter((r) => r.event === 'queue_overflow')).toHaveLength(1);

    const b = await startNode('b', { listen: { host: HOST, port }, peers: { a: a.transport.address } });
    await waitFor(() => b.received.length === peer.queuedMessages, 'the surviving messages');
    const firstKept = total - peer.queuedMessages;
    expect(seqsFrom(b, 'a')).toEqual([...Array(peer.queuedMessages).keys()].map((i) => firstKept + i));
    await waitFor(() => a.logs.some((r) => r.event === 'queue_recovered'), 'the recovery log');
  });

  it('bounds memory when a connected peer stops reading (socket backpressure)', async () => {
    const stalled = await RawAcceptor.start('b');
    const a = await startNode('a', { maxFrameBytes: 256 * 1024, maxQueueBytes: 2 * 1024 * 1024, maxQueueMessages: 100_000, pingIntervalMs: 0 });
    a.transport.addPeer('b', { host: HOST, port: stalled.port });
    await waitFor(() => a.transport.metrics().peers.b!.connected, 'a connected to the stalled peer');
    const body = 'q'.repeat(64 * 1024);
    for (let round = 0; round < 40; round++) {
      for (let i = 0; i < 50; i++) a.transport.send('b', { type: 'x', seq: round * 50 + i, body });
      await new Promise((resolve) => setImmediate(resolve));
    }
    await waitFor(() => a.transport.metrics().queueDrops > 0, 'drops once the socket and queue are full');
    const peer = a.transport.metrics().peers.b!;
    expect(peer.connected).toBe(true);
    expect(peer.queuedBytes).toBeLessThanOrEqual(2 * 1024 * 1024);
    // 2000 messages of 64 KiB were sent; far fewer bytes than that left the process or stayed queued.
    expect(peer.bytesOut + peer.queuedBytes).toBeLessThan(2000 * 64 * 1024);
  });

  it('redials a connected peer that stops answering pings', async () => {
    const silent = await RawAcceptor.start('b');
    const a = await startNode('a', { pingIntervalMs: 20, peerTimeoutMs: 150 });
    a.transport.addPeer('b', { host: HOST, port: silent.port });
    await waitFor(() => a.transport.metrics().peerTimeouts >= 1 && silent.authenticated >= 2, 'a timeout and a redial');
    expect(a.logs.some((r) => r.event === 'peer_timeout' && r.code === 'NET_PEER_TIMEOUT')).toBe(true);
  });

  it('uses the injected randomness for backoff', async () => {
    const port = await freePort();
    const draws: number[] = [];
    const a = await startNode('a', {
      backoff: { initialMs: 20, maxMs: 20, multiplier: 2 },
      random: () => {
        draws.push(0);
        return 0;
      },
    });
    a.transport.addPeer('b', { host: HOST, port });
    await waitFor(() => draws.length >= 3, 'three backoff draws');
    expect(a.logs.filter((r) => r.event === 'connect_failed').length).toBeGreaterThanOrEqual(3);
  });
});
