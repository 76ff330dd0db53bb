// Node identity over real sockets: the cluster id and each node's incarnation travel in the
// handshake under the MACs; a node of another cluster is refused; checkPeerIncarnation can refuse
// a peer on either side, which the refused node learns through onRefused; and refusals that are
// not authenticated (forged, with a wrong MAC, replayed from another connection) change nothing
// but a log line and a counter.
import { describe, expect, it } from 'vitest';
import type { AuthenticatedRefuseReason } from './codec.js';
import { encodeWireFrame } from './codec.js';
import { computeProof } from './handshake.js';
import type { IncarnationVerdict } from './options.js';
import { HOST, RawAcceptor, RawClient, SECRET, STRANGER_SECRET, freePort, startNode, useCleanup, waitConnected, waitFor, type Node } from './test/harness.js';

useCleanup();

type Refusal = { peer: string; reason: AuthenticatedRefuseReason };

/** Starts a node that records the refusals it is told about and the incarnations its hook sees. */
async function identityNode(id: string, incarnation: string, verdict: (peer: string, incarnation: string) => IncarnationVerdict = () => 'accept', clusterId = 'c1') {
  const refusals: Refusal[] = [];
  const seen: { peer: string; incarnation: string }[] = [];
  const node = await startNode(id, {
    clusterId,
    incarnation,
    checkPeerIncarnation: (peer, peerIncarnation) => {
      seen.push({ peer, incarnation: peerIncarnation });
      return verdict(peer, peerIncarnation);
    },
    onRefused: (peer, reason) => refusals.push({ peer, reason }),
  });
  return Object.assign(node, { refusals, seen });
}

/** Makes `peer` a member for `node` without `node` reaching it (the address leads nowhere), so only `peer` dials. */
async function knowsWithoutDialing(node: Node, peer: string): Promise<void> {
  node.transport.addPeer(peer, { host: HOST, port: await freePort() });
}

describe('cluster id and incarnation', () => {
  it('exchanges incarnations both ways and works when the hooks accept them', async () => {
    const a = await identityNode('a', 'inc-a');
    const b = await identityNode('b', 'inc-b');
    a.transport.addPeer('b', b.transport.address);
    b.transport.addPeer('a', a.transport.address);
    await waitConnected([a, b]);
    // each hook ran as acceptor (after the proof) and as dialer (after the welcome)
    expect(a.seen).toContainEqual({ peer: 'b', incarnation: 'inc-b' });
    expect(b.seen).toContainEqual({ peer: 'a', incarnation: 'inc-a' });
    expect(a.seen.length).toBeGreaterThanOrEqual(2);
    a.transport.send('b', { type: 'x', seq: 1 });
    await waitFor(() => b.received.length === 1, 'a message from a');
    expect(a.refusals).toEqual([]);
    expect(a.transport.metrics().incarnationRefusals + a.transport.metrics().refusedByPeer).toBe(0);
  });

  it('refuses a node of another cluster on both sides, without telling onRefused', async () => {
    const a = await identityNode('a', 'inc-a', undefined, 'c1');
    const b = await identityNode('b', 'inc-b', undefined, 'c2');
    a.transport.addPeer('b', b.transport.address);
    b.transport.addPeer('a', a.transport.address);
    await waitFor(() => a.transport.metrics().authFailures >= 2 && b.transport.metrics().authFailures >= 2, 'refusals on both sides');
    for (const node of [a, b]) {
      expect(node.logs.some((r) => r.event === 'auth_failed' && r.code === 'NET_WRONG_CLUSTER')).toBe(true);
      expect(node.transport.metrics().peers[node.id === 'a' ? 'b' : 'a']!.connected).toBe(false);
      expect(node.refusals).toEqual([]);
      expect(node.seen).toEqual([]); // never got as far as the incarnation
    }
  });

  it('an acceptor whose hook refuses the dialer tells it, authenticated, and the dialer learns it lost its data', async () => {
    const a = await identityNode('a', 'inc-a', (_peer, incarnation) => (incarnation === 'inc-b' ? 'accept' : 'refuse'));
    const b = await identityNode('b', 'inc-b-new'); // b lost its data: a knew it as inc-b
    await knowsWithoutDialing(a, 'b');
    b.transport.addPeer('a', a.transport.address);
    await waitFor(() => b.refusals.length >= 2, 'b told twice (it redials)');
    expect(b.refusals[0]).toEqual({ peer: 'a', reason: 'identity_changed' });
    expect(b.transport.metrics().peers.a!.refusedByPeer).toBeGreaterThanOrEqual(2);
    expect(b.transport.metrics().peers.a!.connected).toBe(false);
    expect(b.logs.some((r) => r.event === 'refused_by_peer' && r.code === 'NET_IDENTITY_REFUSED' && r.peer === 'a')).toBe(true);
    expect(a.transport.metrics().incarnationRefusals).toBeGreaterThanOrEqual(2);
    expect(a.logs.some((r) => r.event === 'identity_refused' && r.detail?.incarnation === 'inc-b-new')).toBe(true);
    expect(a.transport.metrics().peers.b!.inboundConnected).toBe(false);
    b.transport.send('a', { type: 'vote-for-me' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(a.received).toEqual([]);
  });

  it('a dialer whose hook refuses the acceptor tells it, authenticated, and never uses the link', async () => {
    const a = await identityNode('a', 'inc-a', () => 'refuse');
    const b = await identityNode('b', 'inc-b');
    await knowsWithoutDialing(b, 'a');
    a.transport.addPeer('b', b.transport.address);
    a.transport.send('b', { type: 'append' });
    await waitFor(() => b.refusals.length >= 1, 'b told');
    expect(b.refusals[0]).toEqual({ peer: 'a', reason: 'identity_changed' });
    expect(a.transport.metrics().peers.b!.incarnationRefusals).toBeGreaterThanOrEqual(1);
    expect(a.transport.metrics().peers.b!.connected).toBe(false);
    expect(a.transport.metrics().peers.b!.queuedMessages).toBe(1); // still queued, never sent
    expect(b.received).toEqual([]);
  });

  it('a hook that throws refuses (the safe side) and is counted', async () => {
    const a = await identityNode('a', 'inc-a', () => {
      throw new Error('hook bug');
    });
    const b = await identityNode('b', 'inc-b');
    await knowsWithoutDialing(a, 'b');
    b.transport.addPeer('a', a.transport.address);
    await waitFor(() => b.refusals.length >= 1, 'b refused');
    expect(a.transport.metrics().handlerErrors).toBeGreaterThanOrEqual(1);
    expect(a.logs.some((r) => r.event === 'handler_error' && r.msg.includes('checkPeerIncarnation'))).toBe(true);
  });

  it('ignores refusals a dialer cannot authenticate: before the proof, without a MAC, with a wrong or a replayed MAC', async () => {
    for (const refuse of ['at-hello', 'no-mac', 'wrong-mac', 'replayed-mac'] as const) {
      const fake = await RawAcceptor.start('a', { refuse, incarnation: 'inc-a' });
      const b = await identityNode('b', 'inc-b', undefined, '');
      b.transport.addPeer('a', { host: HOST, port: fake.port });
      // The replayed MAC is valid on the first connection only (it was made for it).
      const authentic = refuse === 'replayed-mac' ? 1 : 0;
      await waitFor(() => b.transport.metrics().peers.a!.authFailures >= 4 - authentic, `${refuse}: b to keep redialing and counting`);
      expect(b.refusals).toHaveLength(authentic);
      expect(b.transport.metrics().peers.a!.refusedByPeer).toBe(authentic);
      expect(b.logs.some((r) => r.event === 'auth_failed' && r.peer === 'a' && r.msg.includes('identity_changed'))).toBe(true);
      await b.transport.close();
      await fake.stop();
    }
  });

  it('an acceptor acts only on a dialer refusal with a valid MAC for the connection', async () => {
    const a = await identityNode('a', 'inc-a', undefined, '');
    await knowsWithoutDialing(a, 'b');
    for (const mac of ['none', 'wrong', 'valid'] as const) {
      const client = await RawClient.connect(a.transport.address.port);
      const { answer, transcript } = await client.handshake('b', 'a', { incarnation: 'inc-b' });
      expect(answer.kind).toBe('welcome');
      await waitFor(() => a.transport.metrics().peers.b!.inboundConnected, 'the raw dialer accepted');
      const secret = mac === 'wrong' ? STRANGER_SECRET : SECRET;
      client.write(encodeWireFrame({ kind: 'refuse', reason: 'identity_changed', mac: mac === 'none' ? null : computeProof(Buffer.from(secret), 'dialer-refusal', transcript, 'identity_changed') }));
      await client.waitClosed();
    }
    expect(a.refusals).toEqual([{ peer: 'b', reason: 'identity_changed' }]);
    expect(a.transport.metrics().peers.b!.decodeErrors).toBe(2);
  });
});
