// End-to-end tests of the transport over real sockets on 127.0.0.1: ordered delivery among three
// nodes, large binary messages, send refusals, graceful close flushing its queues, handler
// failures, and membership changes.
import { describe, expect, it, vi } from 'vitest';
import { Connection } from './connection.js';
import { isNetError } from './errors.js';
import { SECRET, seqsFrom, startCluster, startNode, useCleanup, waitConnected, waitFor, type TestMessage } from './test/harness.js';

useCleanup();

const range = (n: number): number[] => [...Array(n).keys()];
const writeBatch = Connection.prototype.writeBatch;

describe('Transport', () => {
  it('three transports exchange messages, each sender in order', async () => {
    const nodes = await startCluster(['n1', 'n2', 'n3']);
    await waitConnected(nodes);
    const count = 500;
    for (let seq = 0; seq < count; seq++) {
      for (const from of nodes) {
        for (const to of nodes) if (to !== from) expect(from.transport.send(to.id, { type: 'ping', seq, body: { from: from.id } }).ok).toBe(true);
      }
    }
    await waitFor(() => nodes.every((n) => n.received.length === 2 * count), 'every message delivered');
    for (const node of nodes) {
      for (const other of nodes) if (other !== node) expect(seqsFrom(node, other.id)).toEqual(range(count));
      const metrics = node.transport.metrics();
      expect(metrics.messagesIn).toBe(2 * count);
      expect(metrics.messagesOut).toBe(2 * count);
      expect(metrics.queueDrops + metrics.decodeErrors + metrics.authFailures).toBe(0);
      expect(metrics.framesOut).toBeGreaterThan(metrics.messagesOut); // handshake frames count too
    }
  });

  it('writes the first sends of a loop turn at once and batches the later ones to the turn\'s end', async () => {
    const [a, b] = await startCluster(['a', 'b']);
    await waitConnected([a!, b!]);
    const batches: number[] = [];
    const spy = vi.spyOn(Connection.prototype, 'writeBatch').mockImplementation(function (this: Connection, frames, bytes) {
      batches.push(frames.length);
      return writeBatch.call(this, frames, bytes);
    });
    try {
      for (let seq = 0; seq < 20; seq++) a!.transport.send('b', { type: 'ping', seq });
      await Promise.resolve(); // a microtask later: no timer or loop turn needed
      expect(batches).toEqual([20]);
      for (let seq = 20; seq < 25; seq++) {
        a!.transport.send('b', { type: 'ping', seq });
        await Promise.resolve();
      }
      expect(batches).toEqual([20]); // the same turn: these wait for its end
      await new Promise((r) => setImmediate(r));
      expect(batches).toEqual([20, 5]);
      await new Promise((r) => setTimeout(r, 5));
      a!.transport.send('b', { type: 'ping', seq: 25 });
      await Promise.resolve(); // a new turn: at once again
      expect(batches).toEqual([20, 5, 1]);
      await waitFor(() => b!.received.length === 26, 'every message delivered');
      expect(seqsFrom(b!, 'a')).toEqual(range(26));
    } finally {
      spy.mockRestore();
    }
  });

  it('carries a large binary message between small ones, in order and intact', async () => {
    const [a, b] = await startCluster(['a', 'b']);
    const big = Buffer.alloc(6 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 4096) big[i] = i % 251;
    a!.transport.send('b', { type: 'small', seq: 0 });
    a!.transport.send('b', { type: 'snapshot', seq: 1, body: { chunk: big } });
    a!.transport.send('b', { type: 'small', seq: 2 });
    await waitFor(() => b!.received.length === 3, 'three messages');
    expect(seqsFrom(b!, 'a')).toEqual([0, 1, 2]);
    const chunk = (b!.received[1]!.message.body as { chunk: Uint8Array }).chunk;
    expect(chunk).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(chunk).equals(big)).toBe(true);
  });

  it('refuses sends it cannot carry, with a typed reason, and counts them', async () => {
    const [a] = await startCluster(['a', 'b'], { maxFrameBytes: 64 * 1024 });
    const cyclic: Record<string, unknown> = { type: 'loop' };
    cyclic.self = cyclic;
    expect(a!.transport.send('nobody', { type: 'x' })).toEqual({ ok: false, reason: 'unknown_peer' });
    expect(a!.transport.send('a', { type: 'x' })).toEqual({ ok: false, reason: 'unknown_peer' });
    expect(a!.transport.send('b', { type: 'x', body: Buffer.alloc(100 * 1024) })).toEqual({ ok: false, reason: 'too_large' });
    expect(a!.transport.send('b', cyclic as unknown as TestMessage)).toEqual({ ok: false, reason: 'encode_failed' });
    expect(a!.transport.send('b', { type: 5 } as unknown as TestMessage)).toEqual({ ok: false, reason: 'encode_failed' });
    await a!.transport.close();
    expect(a!.transport.send('b', { type: 'x' })).toEqual({ ok: false, reason: 'closed' });
    expect(a!.transport.metrics().sendRefusals).toEqual({ unknown_peer: 2, too_large: 1, encode_failed: 2, closed: 1 });
  });

  it('close flushes queued messages before closing the sockets', async () => {
    const [a, b] = await startCluster(['a', 'b']);
    await waitConnected([a!, b!]);
    for (let seq = 0; seq < 3000; seq++) a!.transport.send('b', { type: 'x', seq, body: 'y'.repeat(200) });
    await a!.transport.close({ deadlineMs: 5_000 });
    expect(a!.transport.metrics().queueDrops).toBe(0);
    await waitFor(() => b!.received.length === 3000, 'all flushed messages');
    expect(seqsFrom(b!, 'a')).toEqual(range(3000));
    await a!.transport.close(); // idempotent
  });

  it('catches a throwing handler, counts it, and keeps delivering', async () => {
    const [a, b] = await startCluster(['a', 'b']);
    const unsubscribe = b!.transport.onMessage((_from, message) => {
      if (message.seq === 1) throw new Error('handler bug');
    });
    for (let seq = 0; seq < 3; seq++) a!.transport.send('b', { type: 'x', seq });
    await waitFor(() => b!.received.length === 3, 'all three messages');
    expect(b!.transport.metrics().handlerErrors).toBe(1);
    expect(b!.logs.some((r) => r.event === 'handler_error' && r.level === 'error')).toBe(true);
    unsubscribe();
  });

  it('follows membership: removed peers are refused, re-added peers reconnect', async () => {
    const [a, b] = await startCluster(['a', 'b']);
    await waitConnected([a!, b!]);
    a!.transport.removePeer('b');
    expect(a!.transport.peerIds()).toEqual([]);
    expect(a!.transport.send('b', { type: 'x' })).toEqual({ ok: false, reason: 'unknown_peer' });
    // b keeps dialing a and is now refused as unknown.
    await waitFor(() => a!.transport.metrics().authFailures > 0, 'a to refuse b');
    expect(a!.logs.some((r) => r.event === 'auth_failed' && r.code === 'NET_UNKNOWN_PEER')).toBe(true);
    a!.transport.addPeer('b', b!.transport.address);
    await waitConnected([a!, b!]);
    b!.transport.send('a', { type: 'back', seq: 7 });
    await waitFor(() => a!.received.some((r) => r.message.type === 'back'), 'delivery after re-adding');
  });

  it('fails to start on a port in use, and has no fault hook unless enabled', async () => {
    const a = await startNode('a');
    const clash = startNode('b', { listen: { host: '127.0.0.1', port: a.transport.address.port } });
    await expect(clash).rejects.toSatisfy((error: unknown) => isNetError(error, 'NET_IO'));
    expect(() => a.transport.faults).toThrow(expect.objectContaining({ code: 'NET_FAULTS_DISABLED' }));
    expect(SECRET.length).toBeGreaterThanOrEqual(16);
  });
});
