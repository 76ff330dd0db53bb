// Authentication tests over real sockets: a wrong secret (in the hello's ticket or in the proof),
// a replayed hello, an unknown node id, a wrong target id and other protocol versions are refused,
// counted and logged on the refusing side; a correct raw handshake is welcomed with a proof that
// verifies.
import { describe, expect, it } from 'vitest';
import { pack } from 'msgpackr';
import { FRAME_KIND, PROTOCOL_VERSION, encodeWireFrame } from './codec.js';
import { encodeFrame } from './frame.js';
import { computeProof, newNonce } from './handshake.js';
import { RawClient, SECRET, STRANGER_SECRET, helloFrame, startCluster, startNode, transcriptOf, useCleanup, waitFor } from './test/harness.js';

useCleanup();

describe('handshake over TCP', () => {
  it('refuses a node with a wrong secret, on both sides, and delivers nothing', async () => {
    const a = await startNode('a');
    const b = await startNode('b', { secret: 'a-different-secret-entirely' });
    a.transport.addPeer('b', b.transport.address);
    b.transport.addPeer('a', a.transport.address);
    a.transport.send('b', { type: 'x' });
    b.transport.send('a', { type: 'x' });
    await waitFor(() => a.transport.metrics().authFailures >= 2 && b.transport.metrics().authFailures >= 2, 'auth failures on both sides');
    for (const node of [a, b]) {
      const metrics = node.transport.metrics();
      expect(Object.values(metrics.peers).some((p) => p.connected || p.inboundConnected)).toBe(false);
      expect(node.received).toEqual([]);
      const failure = node.logs.find((r) => r.event === 'auth_failed');
      expect(failure).toMatchObject({ level: 'warn', code: 'NET_AUTH_FAILED' });
    }
  });

  it('refuses an unknown node id with a reason the dialer can log', async () => {
    const [a] = await startCluster(['a', 'b']);
    const client = await RawClient.connect(a!.transport.address.port);
    expect(await client.authenticate('intruder', 'a')).toEqual({ kind: 'refuse', reason: 'unknown_peer', mac: null });
    await client.waitClosed();
    const metrics = a!.transport.metrics();
    expect(metrics.authFailures).toBe(1);
    expect(a!.logs.find((r) => r.code === 'NET_UNKNOWN_PEER')).toMatchObject({ event: 'auth_failed', detail: { claimedId: 'intruder' } });
  });

  it('counts refusals on the dialer side too (the peer does not know us)', async () => {
    const a = await startNode('a');
    const b = await startNode('b');
    a.transport.addPeer('b', b.transport.address);
    await waitFor(() => a.transport.metrics().peers.b!.authFailures > 0 && b.transport.metrics().authFailures > 0, 'refusals counted');
    expect(a.logs.some((r) => r.event === 'auth_failed' && r.msg.includes('unknown_peer'))).toBe(true);
  });

  it('refuses a wrong ticket, a wrong proof, a replayed hello, a wrong target id and other protocol versions', async () => {
    const [a] = await startCluster(['a', 'b']);
    const port = a!.transport.address.port;
    const wrongTicket = await RawClient.connect(port);
    expect(await wrongTicket.authenticate('b', 'a', { secret: STRANGER_SECRET })).toEqual({ kind: 'refuse', reason: 'bad_proof', mac: null });
    const wrongProof = await RawClient.connect(port);
    expect(await wrongProof.authenticate('b', 'a', { proofSecret: STRANGER_SECRET })).toEqual({ kind: 'refuse', reason: 'bad_proof', mac: null });
    const nonce = newNonce();
    const original = await RawClient.connect(port);
    original.write(helloFrame('b', 'a', { nonce }));
    expect((await original.nextFrame()).kind).toBe('challenge');
    const replay = await RawClient.connect(port);
    replay.write(helloFrame('b', 'a', { nonce }));
    expect(await replay.nextFrame()).toEqual({ kind: 'refuse', reason: 'bad_proof', mac: null });
    const wrongTarget = await RawClient.connect(port);
    expect(await wrongTarget.authenticate('b', 'z')).toEqual({ kind: 'refuse', reason: 'wrong_target', mac: null });
    const future = await RawClient.connect(port);
    future.write(encodeWireFrame({ kind: 'foreign_hello', version: PROTOCOL_VERSION + 1 }));
    expect(await future.nextFrame()).toEqual({ kind: 'refuse', reason: 'version', mac: null });
    const past = await RawClient.connect(port); // a version-1 hello: [1, from, to, nonce]
    past.write(encodeFrame(Buffer.concat([Buffer.from([FRAME_KIND.hello]), pack([1, 'b', 'a', newNonce()])])));
    expect(await past.nextFrame()).toEqual({ kind: 'refuse', reason: 'version', mac: null });
    original.socket.destroy();
    await Promise.all([wrongTicket, wrongProof, replay, wrongTarget, future, past].map((c) => c.waitClosed()));
    expect(a!.transport.metrics().authFailures).toBe(6);
    expect(a!.logs.filter((r) => r.event === 'auth_failed' && r.code === 'NET_VERSION_MISMATCH')).toHaveLength(2);
  });

  it('welcomes a correct handshake with an acceptor proof bound to our nonce, cluster and incarnations', async () => {
    const [a] = await startCluster(['a', 'b'], { clusterId: 'c1', incarnation: 'inc-a' });
    const client = await RawClient.connect(a!.transport.address.port);
    const dialerNonce = newNonce();
    client.write(helloFrame('b', 'a', { nonce: dialerNonce, clusterId: 'c1', incarnation: 'inc-b' }));
    const challenge = await client.nextFrame();
    if (challenge.kind !== 'challenge') throw new Error(`expected a challenge, got ${challenge.kind}`);
    const transcript = transcriptOf('b', 'a', { dialerNonce, acceptorNonce: challenge.nonce, clusterId: 'c1', dialerIncarnation: 'inc-b' });
    client.write(encodeWireFrame({ kind: 'proof', proof: computeProof(Buffer.from(SECRET), 'dialer', transcript) }));
    const welcome = await client.nextFrame();
    if (welcome.kind !== 'welcome') throw new Error(`expected a welcome, got ${welcome.kind}`);
    expect(welcome.incarnation).toBe('inc-a');
    const acceptorTranscript = { ...transcript, acceptorIncarnation: 'inc-a' };
    expect(Buffer.from(welcome.proof).equals(computeProof(Buffer.from(SECRET), 'acceptor', acceptorTranscript))).toBe(true);
    expect(Buffer.from(welcome.proof).equals(computeProof(Buffer.from(SECRET), 'acceptor', { ...acceptorTranscript, acceptorIncarnation: 'other' }))).toBe(false);
    client.write(encodeWireFrame({ kind: 'message', message: { type: 'hi' } }));
    await waitFor(() => a!.received.some((r) => r.from === 'b' && r.message.type === 'hi'), 'delivery from the raw client');
  });
});
