// Hostile-input tests over real sockets: garbage, oversized lengths, truncated and malformed
// frames, silence and connection floods each close only the offending connection, are counted
// and logged, and the node keeps serving its real peers.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FRAME_KIND, encodeWireFrame } from './codec.js';
import { encodeFrame } from './frame.js';
import { RawClient, freePort, helloFrame, startCluster, useCleanup, waitFor, type Node } from './test/harness.js';

useCleanup();

/** A cluster a, b plus a member "evil" whose address goes nowhere: raw clients authenticate as it. */
async function setup(options: Parameters<typeof startCluster>[1] = {}): Promise<{ a: Node; b: Node }> {
  const [a, b] = (await startCluster(['a', 'b'], { maxFrameBytes: 64 * 1024, ...options })) as [Node, Node];
  a.transport.addPeer('evil', { host: '127.0.0.1', port: await freePort() });
  return { a, b };
}

/** b's messages still reach a after the attack. */
async function expectStillServing(a: Node, b: Node, seq: number): Promise<void> {
  b.transport.send('a', { type: 'alive', seq });
  await waitFor(() => a.received.some((r) => r.message.type === 'alive' && r.message.seq === seq), 'b to keep reaching a');
}

async function authenticatedClient(a: Node): Promise<RawClient> {
  const client = await RawClient.connect(a.transport.address.port);
  const welcome = await client.authenticate('evil', 'a');
  expect(welcome.kind).toBe('welcome');
  return client;
}

function header(lengthBytes: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(lengthBytes, 0);
  return bytes;
}

describe('robustness against bad peers', () => {
  it('disconnects a socket sending garbage before the handshake', async () => {
    const { a, b } = await setup();
    const client = await RawClient.connect(a.transport.address.port);
    client.write(Buffer.concat([header(5), Buffer.from([0xff, 0xc1, 0xc1, 0xc1, 0xc1])]));
    await client.waitClosed();
    expect(a.transport.metrics().decodeErrors).toBe(1);
    expect(a.logs.some((r) => r.event === 'frame_error' && r.code === 'NET_FRAME_MALFORMED')).toBe(true);
    await expectStillServing(a, b, 1);
  });

  it('disconnects an unauthenticated socket announcing a frame beyond the handshake limit', async () => {
    const { a, b } = await setup();
    const client = await RawClient.connect(a.transport.address.port);
    client.write(header(10_000)); // under maxFrameBytes, over what any handshake frame needs
    await client.waitClosed();
    expect(a.transport.metrics().oversizeFrames).toBe(1);
    await expectStillServing(a, b, 2);
  });

  it('disconnects an authenticated peer announcing an oversized frame', async () => {
    const { a, b } = await setup();
    const client = await authenticatedClient(a);
    client.write(header(64 * 1024 + 1));
    await client.waitClosed();
    expect(a.transport.metrics().peers.evil!.oversizeFrames).toBe(1);
    expect(a.logs.some((r) => r.code === 'NET_FRAME_OVERSIZE' && r.peer === 'evil')).toBe(true);
    await expectStillServing(a, b, 3);
  });

  it('counts a frame cut off by the end of the stream as truncated', async () => {
    const { a, b } = await setup();
    const client = await authenticatedClient(a);
    const frame = encodeWireFrame({ kind: 'message', message: { type: 'x', data: 'y'.repeat(100) } as { type: string } });
    client.socket.end(frame.subarray(0, 60));
    await client.waitClosed();
    await waitFor(() => a.transport.metrics().truncatedFrames === 1, 'truncation counted');
    expect(a.transport.metrics().peers.evil!.truncatedFrames).toBe(1);
    await expectStillServing(a, b, 4);
  });

  it('disconnects an authenticated peer sending an undecodable message or a handshake frame again', async () => {
    const { a, b } = await setup();
    const garbage = await authenticatedClient(a);
    garbage.write(encodeFrame(Buffer.from([FRAME_KIND.message, 0x93, 0x01])));
    const replay = await authenticatedClient(a);
    replay.write(helloFrame('evil', 'a'));
    const notAMessage = await authenticatedClient(a);
    notAMessage.write(encodeFrame(Buffer.from([FRAME_KIND.message, 0x93, 1, 2, 3])));
    await Promise.all([garbage, replay, notAMessage].map((c) => c.waitClosed()));
    expect(a.transport.metrics().peers.evil!.decodeErrors).toBe(3);
    await expectStillServing(a, b, 5);
  });

  it('closes a connection that never completes the handshake', async () => {
    const { a, b } = await setup({ handshakeTimeoutMs: 150 });
    const client = await RawClient.connect(a.transport.address.port);
    await client.waitClosed();
    expect(a.transport.metrics().handshakeTimeouts).toBeGreaterThanOrEqual(1);
    await expectStillServing(a, b, 6);
  });

  it('evicts the oldest pending connections beyond the pending-handshake bound', async () => {
    const { a, b } = await setup({ maxPendingHandshakes: 2, handshakeTimeoutMs: 60_000, helloTimeoutMs: 60_000 });
    const clients: RawClient[] = [];
    for (let i = 0; i < 4; i++) clients.push(await RawClient.connect(a.transport.address.port));
    await waitFor(() => clients.filter((c) => c.closed).length >= 2, 'two connections evicted');
    // Connected one after another, so the table saw them in this order: the first two made room.
    await waitFor(() => clients[0]!.closed && clients[1]!.closed, 'the two oldest evicted');
    expect(a.transport.metrics().evictedHandshakes).toBe(2);
    expect(clients[2]!.closed || clients[3]!.closed).toBe(false);
    for (const client of clients) client.socket.destroy();
    await expectStillServing(a, b, 7);
  });

  it('property: random bytes from many sockets, before or after a valid hello, never hurt the node', async () => {
    const { a, b } = await setup({ handshakeTimeoutMs: 300 });
    const port = a.transport.address.port;
    const hello = helloFrame('b', 'a');
    await fc.assert(
      fc.asyncProperty(fc.boolean(), fc.uint8Array({ minLength: 1, maxLength: 200 }), async (afterHello, garbage) => {
        const client = await RawClient.connect(port);
        client.write(afterHello ? Buffer.concat([hello, garbage]) : garbage);
        client.socket.end();
        await client.waitClosed();
      }),
      { numRuns: 40 },
    );
    const metrics = a.transport.metrics();
    expect(metrics.peers.b!.inboundConnected).toBe(true);
    expect(metrics.decodeErrors + metrics.oversizeFrames + metrics.truncatedFrames + metrics.authFailures + metrics.handshakeTimeouts).toBeGreaterThan(0);
    await expectStillServing(a, b, 8);
  });
});
