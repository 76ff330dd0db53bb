// Hostile input over real sockets: garbage and truncated datagrams, deeply nested MessagePack,
// huge and truncated TCP frames, slow and silent connections, connection floods, memory budget
// and 10,000 random datagrams. Each is dropped and counted, no handler sees it, and afterwards an
// ordinary message still arrives by UDP and by TCP.
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { CLEAR_FORMAT, PacketCodec } from './codec.js';
import { encodeFrame } from './frames.js';
import { generateKey, KeyRing } from './keyring.js';
import { expectDelivery, frameHeader, RawTcp, sendDatagrams, sleep, startNode, totalDrops, useCleanup, waitFor, type Node } from './test/harness.js';

useCleanup();

const rich = new Packr({ useRecords: false, moreTypes: true });

function clearPacket(body: Uint8Array): Buffer {
  return Buffer.concat([Buffer.of(CLEAR_FORMAT, 0), body]);
}

/** b still hears a, by UDP and by TCP, and never handed a bad message to its handler. */
async function expectStillServing(a: Node, b: Node): Promise<void> {
  await expectDelivery(a, b);
  await expectDelivery(a, b, 'big'.repeat(2_000));
  expect(b.received.every((r) => r.from === a.t.id && r.msg.type === 'probe')).toBe(true);
}

async function pair(options: Parameters<typeof startNode>[0] = {}): Promise<{ a: Node; b: Node }> {
  return { a: await startNode(options), b: await startNode(options) };
}

describe('hostile datagrams', () => {
  it('drops garbage, truncated and oversized datagrams, clear and sealed', async () => {
    const ring = new KeyRing([generateKey()]);
    for (const keyRing of [undefined, ring]) {
      const { a, b } = await pair({ keyRing });
      const good = new PacketCodec({ keyRing }).encode({ from: a.t.id, to: b.t.id, msg: { type: 'probe', seq: 1, body: 'abc' } });
      const packets = [
        Buffer.alloc(0),
        Buffer.of(0xff),
        Buffer.of(CLEAR_FORMAT),
        Buffer.of(1),
        randomBytes(100),
        randomBytes(65_507),
        ...[1, 2, 10, good.length - 1].map((n) => good.subarray(0, n)),
        Buffer.concat([good, Buffer.of(0)]),
      ];
      await sendDatagrams(b.t.port, packets);
      await waitFor(() => b.t.stats().udpPacketsIn === totalDrops(b.t.stats()) && totalDrops(b.t.stats()) >= packets.length - 1, 'every datagram to be dropped');
      expect(b.received).toEqual([]);
      await expectStillServing(a, b);
    }
  });

  it('drops deeply nested MessagePack (stack overflow in the decoder, or past the depth bound)', async () => {
    const { a, b } = await pair();
    const nested = (depth: number): Buffer => Buffer.concat([Buffer.alloc(depth, 0x91), Buffer.of(0xc0)]);
    const envelope = (msg: Buffer): Buffer => Buffer.concat([Buffer.of(0x93), rich.pack(a.t.id), rich.pack(b.t.id), msg]);
    await sendDatagrams(b.t.port, [
      clearPacket(nested(65_000)),
      clearPacket(envelope(nested(60_000))),
      clearPacket(envelope(Buffer.concat([Buffer.of(0x82, 0xa4), Buffer.from('type'), Buffer.of(0xa1, 0x78, 0xa1, 0x62), nested(100)]))),
    ]);
    await waitFor(() => totalDrops(b.t.stats()) === 3, 'three drops');
    expect(b.t.stats().drops.undecodable + b.t.stats().drops.not_plain_data).toBe(3);
    expect(b.t.stats().drops.not_plain_data).toBeGreaterThanOrEqual(1);
    // by TCP too, 4 MB deep
    const tcp = await RawTcp.connect(b.t.port);
    tcp.write(encodeFrame(clearPacket(envelope(nested(4_000_000)))));
    await tcp.waitClosed();
    expect(totalDrops(b.t.stats())).toBe(4);
    // and sealed by a key holder: authenticated nonsense is still only nonsense
    const ring = new KeyRing([generateKey()]);
    const c = await startNode({ keyRing: ring });
    const d = await startNode({ keyRing: ring });
    await sendDatagrams(d.t.port, [ring.seal(nested(60_000)), ring.seal(envelope(nested(1_000)))]);
    await waitFor(() => totalDrops(d.t.stats()) === 2, 'the sealed nesting to be dropped');
    expect(d.received).toEqual([]);
    await expectStillServing(a, b);
    await expectStillServing(c, d);
  });

  it('drops values msgpackr extensions build, and keeps Object.prototype clean', async () => {
    const { a, b } = await pair();
    const env = (msg: unknown): Buffer => clearPacket(rich.pack([a.t.id, b.t.id, msg]));
    await sendDatagrams(b.t.port, [
      env({ type: 'x', when: new Date() }),
      env({ type: 'x', s: new Set([1, 2]) }),
      env({ type: 'x', r: /(a+)+$/ }),
      env({ type: 'x', e: new RangeError('boom') }),
      env({ type: 'x', n: 2n ** 100n }),
      env(new Map([['type', 'x']])),
      env({ type: 5 }),
      env([1, 2, 3]),
      clearPacket(rich.pack({ from: a.t.id, to: b.t.id, msg: { type: 'x' } })),
      clearPacket(rich.pack(['x', b.t.id, { type: 'x' }])),
    ]);
    await waitFor(() => totalDrops(b.t.stats()) === 9 && b.received.length === 1, 'nine drops and one delivery');
    const { drops } = b.t.stats();
    expect(drops.not_plain_data).toBe(5);
    expect(drops.check_failed).toBe(2);
    expect(drops.bad_envelope).toBe(2);
    // a Map is a MessagePack map like any other: it arrives as a plain object (mapsAsObjects)
    expect(b.received.map((r) => Object.getPrototypeOf(r.msg) === Object.prototype && r.msg.type)).toEqual(['x']);
    b.received.length = 0;
    await expectStillServing(a, b);
  });

  it('survives 10,000 random datagrams (raw, clear-text-headed and well-formed MessagePack)', async () => {
    const { a, b } = await pair();
    const values = fc.sample(fc.anything({ maxDepth: 4, withBigInt: true, withDate: true, withMap: true, withSet: true, withTypedArray: true, withNullPrototype: true }), { numRuns: 3_000, seed: 19 });
    const packets: Buffer[] = [];
    for (let i = 0; i < 10_000; i++) {
      const kind = i % 3;
      if (kind === 0) packets.push(randomBytes(1 + (i % 1_400)));
      else if (kind === 1) packets.push(clearPacket(randomBytes(i % 1_400)));
      else {
        let body: Buffer;
        try {
          body = rich.pack(i % 2 === 0 ? [a.t.id, b.t.id, values[i % values.length]] : values[i % values.length]);
        } catch {
          body = randomBytes(20);
        }
        packets.push(clearPacket(body));
      }
    }
    await sendDatagrams(b.t.port, packets);
    // loopback may lose some under the burst; every datagram that arrived was dropped and counted
    await waitFor(() => b.t.stats().udpPacketsIn > 0 && b.t.stats().udpPacketsIn === totalDrops(b.t.stats()) + b.t.stats().messagesIn, 'the burst to be processed');
    await sleep(200);
    const stats = b.t.stats();
    expect(stats.udpPacketsIn).toBe(totalDrops(stats) + stats.messagesIn);
    expect(stats.udpPacketsIn).toBeGreaterThan(5_000);
    // fast-check can generate {type: string} in the envelope by chance; whatever passed the check is plain data
    expect(b.received.every((r) => typeof r.msg.type === 'string')).toBe(true);
    const delivered = b.received.length;
    await expectStillServing(a, b);
    expect(b.received.length).toBeGreaterThan(delivered);
  });
});

describe('hostile TCP connections', () => {
  it('closes a connection announcing a huge frame, without allocating it', async () => {
    const { a, b } = await pair();
    for (const length of [0xffff_ffff, 16 * 1024 * 1024 + 1]) {
      const tcp = await RawTcp.connect(b.t.port);
      tcp.write(Buffer.concat([frameHeader(length), randomBytes(100)]));
      await tcp.waitClosed();
    }
    expect(b.t.stats().drops.oversize_frame).toBe(2);
    expect(b.t.stats().inboundBufferedBytes).toBe(0);
    await expectStillServing(a, b);
  });

  it('counts a frame cut off by the end of the connection, and garbage frames', async () => {
    const { a, b } = await pair();
    const cut = await RawTcp.connect(b.t.port);
    cut.write(Buffer.concat([frameHeader(1_000), randomBytes(500)]));
    cut.socket.end();
    await cut.waitClosed();
    expect(b.t.stats().drops.truncated_frame).toBe(1);
    const garbage = await RawTcp.connect(b.t.port);
    garbage.write(encodeFrame(randomBytes(3_000)));
    await garbage.waitClosed();
    const empty = await RawTcp.connect(b.t.port);
    empty.write(frameHeader(0));
    await empty.waitClosed();
    expect(b.t.stats().drops.bad_format).toBe(2);
    expect(b.t.stats().inboundBufferedBytes).toBe(0);
    await expectStillServing(a, b);
  });

  it('closes a slow-loris connection that never finishes its frame, and a silent one', async () => {
    const { a, b } = await pair({ frameTimeoutMs: 300, idleTimeoutMs: 5_000 });
    const slow = await RawTcp.connect(b.t.port);
    slow.write(Buffer.concat([frameHeader(1_000), randomBytes(10)]));
    const started = Date.now();
    // one byte every 50 ms: never idle, never done
    const drip = setInterval(() => slow.write(Buffer.of(0)), 50);
    try {
      await slow.waitClosed(3_000);
    } finally {
      clearInterval(drip);
    }
    expect(Date.now() - started).toBeLessThan(2_000);
    const silent = await RawTcp.connect(b.t.port);
    await silent.waitClosed(3_000);
    expect(b.t.stats().drops.read_timeout).toBe(2);
    expect(b.t.stats().tcpOpenInbound).toBe(0);
    await expectStillServing(a, b);
  });

  it('refuses connections past maxInboundConnections and serves again once they go', async () => {
    const { a, b } = await pair({ maxInboundConnections: 4, frameTimeoutMs: 60_000 });
    const flood = await Promise.all(Array.from({ length: 10 }, () => RawTcp.connect(b.t.port)));
    await waitFor(() => b.t.stats().drops.too_many_connections === 6, 'six refusals');
    expect(flood.filter((c) => !c.closed)).toHaveLength(4);
    for (const c of flood) c.socket.destroy();
    await waitFor(() => b.t.stats().tcpOpenInbound === 0, 'the flood to be gone');
    await expectStillServing(a, b);
  });

  it('closes connections that would push all inbound buffers past maxInboundBufferedBytes', async () => {
    const { a, b } = await pair({ maxFrameBytes: 100_000, maxInboundBufferedBytes: 150_000, frameTimeoutMs: 60_000 });
    const first = await RawTcp.connect(b.t.port);
    first.write(Buffer.concat([frameHeader(100_000), randomBytes(90_000)]));
    await waitFor(() => b.t.stats().inboundBufferedBytes === 90_000, 'the first partial frame');
    const second = await RawTcp.connect(b.t.port);
    second.write(Buffer.concat([frameHeader(100_000), randomBytes(90_000)]));
    await second.waitClosed();
    expect(b.t.stats().drops.inbound_budget).toBe(1);
    expect(first.closed).toBe(false);
    first.socket.destroy();
    await waitFor(() => b.t.stats().inboundBufferedBytes === 0, 'the buffers to be released');
    await expectStillServing(a, b);
  });

  it('closes a TCP connection after its first unauthentic frame (only a key holder keeps one open)', async () => {
    const ring = new KeyRing([generateKey()]);
    const { a, b } = await pair({ keyRing: ring });
    const stranger = new PacketCodec({ keyRing: new KeyRing([generateKey()]) }).encode({ from: a.t.id, to: b.t.id, msg: { type: 'probe', seq: 1 } });
    const genuine = new PacketCodec({ keyRing: ring }).encode({ from: a.t.id, to: b.t.id, msg: { type: 'probe', seq: 2 } });
    const tcp = await RawTcp.connect(b.t.port);
    tcp.write(Buffer.concat([encodeFrame(stranger), encodeFrame(genuine)]));
    await tcp.waitClosed();
    expect(b.t.stats().drops.unauthenticated).toBe(1);
    // the genuine frame behind it on the same connection is not read
    expect(b.received).toEqual([]);
    const ok = await RawTcp.connect(b.t.port);
    ok.write(Buffer.concat([encodeFrame(genuine), encodeFrame(genuine)]));
    await waitFor(() => b.received.length === 2, 'two genuine frames on one connection');
    expect(ok.closed).toBe(false);
    await expectStillServing(a, b);
  });

  it('treats bytes written back on a send-only stream as a protocol violation', async () => {
    const { a, b } = await pair();
    // a "peer" answering our frames with bytes of its own
    const { createServer } = await import('node:net');
    const server = createServer((socket) => {
      socket.on('error', () => undefined);
      socket.on('data', () => socket.write(randomBytes(1_000)));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      expect(a.t.send(`127.0.0.1:${port}`, { type: 'x', body: 'z'.repeat(3_000) }).ok).toBe(true);
      // closed at once, long before the 5 s idle timeout
      await waitFor(() => a.t.stats().tcpConnected === 1 && a.t.stats().tcpOpenOutbound === 0, 'the stream to be closed', 2_000);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    await expectStillServing(a, b);
  });
});
