// The transport over real sockets on 127.0.0.1: small messages by UDP, large ones by TCP, keyed
// round trips, refusal of wrong keys, other clusters and changed bytes, a live key rotation, the
// send-side drops, the fault hook, and gossip messages checked by src/gossip's messageProblem.
import { createServer, type Server, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { messageProblem, type GossipMessage } from '../gossip/index.js';
import type { PeerTransport } from '../runtime/index.js';
import { PacketCodec } from './codec.js';
import { isGossipNetError } from './errors.js';
import { generateKey, KeyRing } from './keyring.js';
import { UdpGossipTransport } from './transport.js';
import { expectDelivery, HOST, onCleanup, sendDatagrams, sleep, startNode, totalDrops, useCleanup, waitFor, type Node } from './test/harness.js';

useCleanup();

/** About 1 MB of full state: 8,000 members with 100 characters of metadata each. */
function bigSync(n = 8_000): GossipMessage {
  return {
    type: 'sync',
    join: false,
    members: Array.from({ length: n }, (_, i) => ({ node: `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}:7946`, state: 'alive' as const, incarnation: i, meta: 'm'.repeat(100) })),
  };
}

describe('delivery', () => {
  it('sends a small message by UDP and a 1 MB sync by TCP, with the sender id', async () => {
    const a = await UdpGossipTransport.start<GossipMessage>({ host: HOST, port: 0, check: messageProblem });
    const b = await UdpGossipTransport.start<GossipMessage>({ host: HOST, port: 0, check: messageProblem });
    onCleanup(() => a.close());
    onCleanup(() => b.close());
    // what NodeHost needs
    const transport: PeerTransport<GossipMessage> = a;
    expect(transport).toBe(a);
    expect(a.id).toBe(`${HOST}:${a.port}`);
    expect(a.encrypted).toBe(false);
    const got: { from: string; msg: GossipMessage }[] = [];
    b.onMessage((from, msg) => got.push({ from, msg }));
    const ping: GossipMessage = { type: 'ping', seq: 1, target: b.id, updates: [{ node: a.id, state: 'alive', incarnation: 1, meta: 'dc=1' }] };
    expect(a.send(b.id, ping)).toEqual({ ok: true, via: 'udp' });
    await waitFor(() => got.length === 1, 'the ping');
    expect(got[0]).toEqual({ from: a.id, msg: ping });
    const sync = bigSync();
    expect(a.send(b.id, sync)).toEqual({ ok: true, via: 'tcp' });
    await waitFor(() => got.length === 2, 'the sync');
    expect(got[1]).toEqual({ from: a.id, msg: sync });
    expect(b.stats().tcpBytesIn).toBeGreaterThan(1_000_000);
    expect(b.stats().tcpFramesIn).toBe(1);
    expect(b.stats().messagesIn).toBe(2);
    // and back, over the same paths
    const back: GossipMessage[] = [];
    a.onMessage((_from, msg) => back.push(msg));
    b.send(a.id, { type: 'ack', seq: 1, updates: [] });
    b.send(a.id, sync);
    await waitFor(() => back.length === 2, 'the replies');
  });

  it('keeps using one TCP stream per peer for several large messages, and closes it when idle', async () => {
    const a = await startNode({ idleTimeoutMs: 200 });
    const b = await startNode();
    const body = 'x'.repeat(5_000);
    for (let i = 0; i < 5; i++) expect(a.t.send(b.t.id, { type: 'big', seq: i, body }).ok).toBe(true);
    await waitFor(() => b.received.length === 5, 'five large messages');
    expect(b.received.map((r) => r.msg.seq)).toEqual([0, 1, 2, 3, 4]);
    expect(a.t.stats().tcpConnected).toBe(1);
    await waitFor(() => a.t.stats().tcpOpenOutbound === 0 && b.t.stats().tcpOpenInbound === 0, 'the idle stream to close');
    await expectDelivery(a, b, body);
    expect(a.t.stats().tcpConnected).toBe(2);
    expect(a.t.stats().sendDrops.tcp_error).toBe(0);
  });

  it('delivers gossip messages that pass messageProblem and drops the others', async () => {
    const a = await startNode();
    const b = await startNode({ check: messageProblem });
    a.t.send(b.t.id, { type: 'ping', seq: -1 } as never);
    a.t.send(b.t.id, { type: 'gossip', updates: [{ node: a.t.id, state: 'zombie', incarnation: 0 }] } as never);
    await waitFor(() => b.t.stats().drops.check_failed === 2, 'two refusals');
    expect(b.drops.map((d) => d.direction === 'in' && d.problem)).toEqual(['ping needs seq and target', "an update's state is alive, suspect, dead or left"]);
    a.t.send(b.t.id, { type: 'gossip', updates: [] } as never);
    await waitFor(() => b.received.length === 1, 'a good gossip message');
  });

  it('counts a throwing handler and keeps delivering', async () => {
    const a = await startNode();
    const b = await startNode();
    const off = b.t.onMessage(() => {
      throw new Error('handler bug');
    });
    await expectDelivery(a, b);
    expect(b.t.stats().handlerErrors).toBeGreaterThan(0);
    off();
    const errors = b.t.stats().handlerErrors;
    await expectDelivery(a, b);
    expect(b.t.stats().handlerErrors).toBe(errors);
  });
});

describe('encryption', () => {
  it('round-trips sealed packets over UDP and TCP', async () => {
    const key = generateKey();
    const a = await startNode({ keyRing: new KeyRing([key]), label: 'prod' });
    const b = await startNode({ keyRing: new KeyRing([key]), label: 'prod' });
    expect(a.t.encrypted).toBe(true);
    await expectDelivery(a, b);
    await expectDelivery(b, a, 'y'.repeat(50_000));
    expect(a.t.stats().tcpFramesIn).toBeGreaterThan(0);
  });

  it('refuses packets sealed with another key, for another cluster, or in clear text — without calling the handler', async () => {
    const key = generateKey();
    const b = await startNode({ keyRing: new KeyRing([key]), label: 'prod' });
    const wrongKey = await startNode({ keyRing: new KeyRing([generateKey()]), label: 'prod' });
    const otherCluster = await startNode({ keyRing: new KeyRing([key]), label: 'staging' });
    const clear = await startNode({ label: 'prod' });
    for (const n of [wrongKey, otherCluster]) {
      n.t.send(b.t.id, { type: 'probe', seq: 1 });
      n.t.send(b.t.id, { type: 'probe', seq: 2, body: 'z'.repeat(10_000) });
    }
    clear.t.send(b.t.id, { type: 'probe', seq: 3 });
    await waitFor(() => b.t.stats().drops.unauthenticated === 4 && b.t.stats().drops.unencrypted === 1, 'five refusals');
    expect(b.received).toEqual([]);
    // sealed packets reaching a node without a key ring are refused too
    wrongKey.t.send(clear.t.id, { type: 'probe', seq: 4 });
    await waitFor(() => clear.t.stats().drops.encrypted === 1, 'refusal in clear mode');
    // a clear-text node of another cluster is refused by its label
    const clearOther = await startNode({ label: 'staging' });
    clearOther.t.send(clear.t.id, { type: 'probe', seq: 5 });
    await waitFor(() => clear.t.stats().drops.wrong_label === 1, 'wrong label');
    expect(clear.received).toEqual([]);
  });

  it('refuses a sealed packet with any changed byte; replays the same packet unchanged (documented)', async () => {
    const ring = new KeyRing([generateKey()]);
    const a = await startNode({ keyRing: ring, label: 'prod' });
    const b = await startNode({ keyRing: ring, label: 'prod' });
    const packet = new PacketCodec({ keyRing: ring, label: 'prod' }).encode({ from: a.t.id, to: b.t.id, msg: { type: 'probe', seq: 42 } });
    const tampered: Buffer[] = [];
    for (let i = 1; i < packet.length; i += 7) {
      const changed = Buffer.from(packet);
      changed[i] = (changed[i] as number) ^ 0x80;
      tampered.push(changed);
    }
    await sendDatagrams(b.t.port, tampered);
    await waitFor(() => b.t.stats().drops.unauthenticated === tampered.length, 'every changed packet to be refused');
    expect(b.received).toEqual([]);
    // the unchanged packet, sent twice, arrives twice: the transport keeps no replay window
    await sendDatagrams(b.t.port, [packet, packet]);
    await waitFor(() => b.received.length === 2, 'the replayed packet');
    expect(b.received.every((r) => r.from === a.t.id && r.msg.seq === 42)).toBe(true);
  });

  it('rotates keys with install → use → remove, staying connected at every step', async () => {
    const k1 = generateKey();
    const k2 = generateKey();
    const rings = [new KeyRing([k1]), new KeyRing([k1]), new KeyRing([k1])];
    const nodes = await Promise.all(rings.map((keyRing) => startNode({ keyRing, label: 'prod' })));
    const large = 'L'.repeat(20_000);
    const allConnected = async (): Promise<void> => {
      for (const from of nodes) for (const to of nodes) if (from !== to) await expectDelivery(from, to);
      await expectDelivery(nodes[0] as Node, nodes[2] as Node, large);
      await expectDelivery(nodes[2] as Node, nodes[0] as Node, large);
    };
    await allConnected();
    // each operation reaches the members one at a time: the cluster is mixed between any two
    for (const ring of rings) {
      ring.installKey(k2);
      await allConnected();
    }
    for (const ring of rings) {
      ring.useKey(k2);
      await allConnected();
    }
    for (const ring of rings) {
      ring.removeKey(k1);
      await allConnected();
    }
    expect(rings.every((r) => r.keys().join() === k2)).toBe(true);
    // a member that missed the rotation is now locked out
    const stale = await startNode({ keyRing: new KeyRing([k1]), label: 'prod' });
    stale.t.send((nodes[0] as Node).t.id, { type: 'probe', seq: 1 });
    await waitFor(() => (nodes[0] as Node).t.stats().drops.unauthenticated === 1, 'the stale key to be refused');
  });

  it('loses packets if a key is used before every member installed it (why the order matters)', async () => {
    const k1 = generateKey();
    const k2 = generateKey();
    const ringA = new KeyRing([k1]);
    const a = await startNode({ keyRing: ringA });
    const b = await startNode({ keyRing: new KeyRing([k1]) });
    ringA.installKey(k2);
    ringA.useKey(k2);
    a.t.send(b.t.id, { type: 'probe', seq: 1 });
    await waitFor(() => b.t.stats().drops.unauthenticated === 1, 'the refusal');
    // b -> a still works: a opens k1 as a secondary key
    await expectDelivery(b, a);
  });
});

describe('send', () => {
  it('drops and counts what it cannot send, never throwing', async () => {
    const a = await startNode({ maxFrameBytes: 100_000 });
    const b = await startNode();
    expect(a.t.send('not-an-address', { type: 'x' })).toEqual({ ok: false, reason: 'invalid_to' });
    expect(a.t.send('[::1]:80', { type: 'x' })).toEqual({ ok: false, reason: 'invalid_to' });
    expect(a.t.send(a.t.id, { type: 'x' })).toEqual({ ok: false, reason: 'self' });
    const cyclic: { type: string; self?: unknown } = { type: 'x' };
    cyclic.self = cyclic;
    expect(a.t.send(b.t.id, cyclic)).toEqual({ ok: false, reason: 'encode_failed' });
    expect(a.t.send(b.t.id, { type: 'x', body: 'z'.repeat(200_000) })).toEqual({ ok: false, reason: 'too_large' });
    expect(a.t.stats().sendDrops).toMatchObject({ invalid_to: 2, self: 1, encode_failed: 1, too_large: 1 });
    expect(a.drops.map((d) => d.reason)).toEqual(['invalid_to', 'invalid_to', 'self', 'encode_failed', 'too_large']);
    await expectDelivery(a, b);
    await a.t.close();
    expect(a.t.send(b.t.id, { type: 'x' })).toEqual({ ok: false, reason: 'closed' });
  });

  it('counts a TCP peer that refuses connections', async () => {
    const a = await startNode({ connectTimeoutMs: 1_000 });
    const b = await startNode();
    const gone = b.t.id;
    await b.t.close();
    expect(a.t.send(gone, { type: 'x', body: 'z'.repeat(5_000) })).toEqual({ ok: true, via: 'tcp' });
    await waitFor(() => a.t.stats().sendDrops.tcp_error === 1, 'the failed connection');
    expect(a.t.stats().outboundPendingBytes).toBe(0);
  });

  it('bounds what waits for a peer that does not read, and closes the stalled stream', async () => {
    // a "peer" that accepts and never reads: its receive window fills, then our socket buffer
    const sockets: Socket[] = [];
    const server: Server = createServer((socket) => {
      socket.pause();
      sockets.push(socket);
    });
    await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
    onCleanup(() => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const port = (server.address() as { port: number }).port;
    const a = await startNode({ maxFrameBytes: 1_000_000, maxPendingBytesPerPeer: 2_000_010, idleTimeoutMs: 300 });
    const body = 'q'.repeat(900_000);
    // the kernel's socket buffers absorb a few MB first; then the stream's own bound is reached
    let backlog = false;
    for (let i = 0; i < 500 && !backlog; i++) {
      const result = a.t.send(`${HOST}:${port}`, { type: 'x', body });
      if (!result.ok) {
        expect(result.reason).toBe('backlog');
        backlog = true;
      } else await sleep(2);
    }
    expect(backlog).toBe(true);
    expect(a.t.stats().outboundPendingBytes).toBeLessThanOrEqual(2_000_010);
    await waitFor(() => a.t.stats().tcpOpenOutbound === 0 && a.t.stats().outboundPendingBytes === 0, 'the stalled stream to be closed');
    expect(a.t.stats().sendDrops.tcp_error).toBeGreaterThan(0);
  });

  it('closes an idle stream to open one to a new peer when at maxOutboundConnections', async () => {
    const a = await startNode({ maxOutboundConnections: 1 });
    const b = await startNode();
    const c = await startNode();
    const body = 'b'.repeat(3_000);
    await expectDelivery(a, b, body);
    await expectDelivery(a, c, body);
    expect(a.t.stats().tcpConnected).toBe(2);
    expect(a.t.stats().tcpOpenOutbound).toBe(1);
  });
});

describe('destination, sender and fault hook', () => {
  it('drops packets addressed to another node or claiming to come from this one; accepts aliases', async () => {
    const a = await startNode();
    const b = await startNode({ aliases: ['localhost:1'] });
    const codec = new PacketCodec();
    await sendDatagrams(b.t.port, [
      codec.encode({ from: a.t.id, to: '10.9.9.9:7946', msg: { type: 'x', seq: 1 } }),
      codec.encode({ from: b.t.id, to: b.t.id, msg: { type: 'x', seq: 2 } }),
      codec.encode({ from: a.t.id, to: 'localhost:1', msg: { type: 'x', seq: 3 } }),
    ]);
    await waitFor(() => b.received.length === 1, 'the packet sent to the alias');
    expect(b.received[0]?.msg.seq).toBe(3);
    expect(b.t.stats().drops).toMatchObject({ wrong_destination: 1, from_self: 1 });
  });

  it('isolates peers both ways until healed', async () => {
    const a = await startNode();
    const b = await startNode();
    const c = await startNode();
    a.t.isolate([b.t.id]);
    expect(a.t.isolatedPeers()).toEqual([b.t.id]);
    expect(a.t.send(b.t.id, { type: 'x' })).toEqual({ ok: false, reason: 'fault' });
    b.t.send(a.t.id, { type: 'x', seq: 1 });
    await waitFor(() => a.t.stats().drops.fault === 1, 'the inbound drop');
    await expectDelivery(a, c);
    a.t.heal();
    await expectDelivery(a, b);
    await expectDelivery(b, a);
    expect(totalDrops(b.t.stats())).toBe(0);
    const plain = await startNode({ faultInjection: false });
    let thrown: unknown;
    try {
      plain.t.isolate([a.t.id]);
    } catch (err) {
      thrown = err;
    }
    expect(isGossipNetError(thrown, 'GOSSIP_NET_FAULTS_DISABLED')).toBe(true);
  });
});

describe('start and close', () => {
  it('refuses bad options with GOSSIP_NET_INVALID_OPTION naming the field', async () => {
    const bad: [string, Record<string, unknown>][] = [
      ['check', { check: undefined }],
      ['port', { port: 70_000 }],
      ['advertiseHost', { host: '0.0.0.0' }],
      ['advertiseHost', { advertiseHost: 'bad host' }],
      ['maxUdpPayloadBytes', { maxUdpPayloadBytes: 70_000 }],
      ['maxFrameBytes', { maxFrameBytes: 100 }],
      ['maxPendingBytesPerPeer', { maxPendingBytesPerPeer: 10 }],
      ['aliases', { aliases: ['nope'] }],
      ['label', { label: 'x'.repeat(300) }],
      ['keyRing', { keyRing: { seal: () => undefined } }],
    ];
    for (const [field, options] of bad) {
      const thrown = await UdpGossipTransport.start({ host: HOST, port: 0, check: () => undefined, ...options } as never).then(
        async (t) => {
          await t.close();
          return undefined;
        },
        (err: unknown) => err,
      );
      expect(isGossipNetError(thrown, 'GOSSIP_NET_INVALID_OPTION'), `${field}: ${String(thrown)}`).toBe(true);
      if (field !== 'label') expect(String(thrown)).toContain(field);
    }
  });

  it('advertises another host and port than it binds', async () => {
    const t = await UdpGossipTransport.start({ host: '0.0.0.0', port: 0, advertiseHost: '127.0.0.1', check: () => undefined });
    onCleanup(() => t.close());
    expect(t.id).toBe(`127.0.0.1:${t.port}`);
    const u = await UdpGossipTransport.start({ host: HOST, port: 0, advertiseHost: 'gossip-1.internal', advertisePort: 7946, check: () => undefined });
    onCleanup(() => u.close());
    expect(u.id).toBe('gossip-1.internal:7946');
  });

  it('fails with GOSSIP_NET_IO when the port is taken', async () => {
    const a = await startNode();
    const thrown = await UdpGossipTransport.start({ host: HOST, port: a.t.port, check: () => undefined }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(isGossipNetError(thrown, 'GOSSIP_NET_IO')).toBe(true);
  });

  it('closes sockets and connections, idempotently', async () => {
    const a = await startNode();
    const b = await startNode();
    await expectDelivery(a, b, 'x'.repeat(5_000));
    expect(b.t.stats().tcpOpenInbound).toBe(1);
    await Promise.all([b.t.close(), b.t.close()]);
    expect(b.t.closed).toBe(true);
    expect(b.t.stats().tcpOpenInbound).toBe(0);
    // the port is free again, for UDP and TCP
    const again = await UdpGossipTransport.start({ host: HOST, port: b.t.port, check: () => undefined });
    await again.close();
    await sleep(10);
  });
});
