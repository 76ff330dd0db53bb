// The packet codec, the frame reader and the address parser on their own (no sockets): round
// trips in clear text and sealed, each drop reason of decode, plain-data checks against
// msgpackr's extension types, and frames reassembled from any chunking.
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { formatAddress, parseAddress } from './address.js';
import { CLEAR_FORMAT, MAX_LABEL_BYTES, PacketCodec, plainDataProblem } from './codec.js';
import { isGossipNetError } from './errors.js';
import { encodeFrame, FrameReader } from './frames.js';
import { generateKey, KeyRing } from './keyring.js';

const A = '10.0.0.1:7946';
const B = '10.0.0.2:7946';
const msg = { type: 'ping', seq: 7, target: B, updates: [{ node: A, state: 'alive', incarnation: 3 }] };
/** msgpackr with its extensions on, as a hostile peer may use them. */
const rich = new Packr({ useRecords: false, moreTypes: true });

function clearPacket(body: Uint8Array, label = ''): Buffer {
  const labelBytes = Buffer.from(label);
  return Buffer.concat([Buffer.of(CLEAR_FORMAT, labelBytes.length), labelBytes, body]);
}

describe('PacketCodec', () => {
  it('round-trips an envelope in clear text and sealed', () => {
    const clear = new PacketCodec({ label: 'c1' });
    const packet = clear.encode({ from: A, to: B, msg });
    expect(packet[0]).toBe(CLEAR_FORMAT);
    expect(clear.decode(packet)).toEqual({ ok: true, envelope: { from: A, to: B, msg } });
    const ring = new KeyRing([generateKey()]);
    const sealed = new PacketCodec({ keyRing: ring, label: 'c1' });
    expect(sealed.decode(sealed.encode({ from: A, to: B, msg }))).toEqual({ ok: true, envelope: { from: A, to: B, msg } });
    const withBytes = { type: 'delta', data: new Uint8Array([1, 2, 255]) };
    const decoded = clear.decode(clear.encode({ from: A, to: B, msg: withBytes }));
    expect(decoded.ok && Buffer.from((decoded.envelope.msg as { data: Uint8Array }).data)).toEqual(Buffer.from([1, 2, 255]));
  });

  it('names why a packet is dropped', () => {
    const ring = new KeyRing([generateKey()]);
    const clear = new PacketCodec({ label: 'c1' });
    const sealed = new PacketCodec({ keyRing: ring, label: 'c1' });
    const good = clear.encode({ from: A, to: B, msg });
    const reason = (codec: PacketCodec, packet: Uint8Array): string => {
      const d = codec.decode(packet);
      return d.ok ? 'ok' : d.reason;
    };
    expect(reason(clear, new Uint8Array(0))).toBe('bad_format');
    expect(reason(clear, Buffer.of(7, 1, 2))).toBe('bad_format');
    expect(reason(clear, Buffer.of(CLEAR_FORMAT))).toBe('bad_format');
    expect(reason(clear, Buffer.of(CLEAR_FORMAT, 200, 1))).toBe('bad_format');
    expect(reason(sealed, good)).toBe('unencrypted');
    expect(reason(clear, sealed.encode({ from: A, to: B, msg }))).toBe('encrypted');
    expect(reason(new PacketCodec({ label: 'c2' }), good)).toBe('wrong_label');
    expect(reason(new PacketCodec({ keyRing: ring, label: 'c2' }), sealed.encode({ from: A, to: B, msg }))).toBe('unauthenticated');
    expect(reason(clear, good.subarray(0, good.length - 1))).toBe('undecodable');
    expect(reason(clear, Buffer.concat([good, Buffer.of(0xc0)]))).toBe('undecodable');
    const pack = (value: unknown): Buffer => clearPacket(rich.pack(value), 'c1');
    expect(reason(clear, pack({ from: A, to: B, msg }))).toBe('bad_envelope');
    expect(reason(clear, pack([A, B]))).toBe('bad_envelope');
    expect(reason(clear, pack(['nope', B, msg]))).toBe('bad_envelope');
    expect(reason(clear, pack([A, 'x'.repeat(300), msg]))).toBe('bad_envelope');
    expect(reason(clear, pack([A, B, { type: 'x', when: new Date(0) }]))).toBe('not_plain_data');
    expect(reason(clear, pack([A, B, { type: 'x', set: new Set([1]) }]))).toBe('not_plain_data');
    expect(reason(clear, pack([A, B, { type: 'x', re: /a+/ }]))).toBe('not_plain_data');
    expect(reason(clear, pack([A, B, { type: 'x', err: new Error('e') }]))).toBe('not_plain_data');
    expect(reason(clear, pack([A, B, { type: 'x', n: 2n ** 70n }]))).toBe('not_plain_data');
    expect(reason(clear, pack([A, B, { type: 'x', f: new Float64Array(2) }]))).toBe('not_plain_data');
  });

  it('neither pollutes prototypes nor keeps record definitions from one packet to the next', () => {
    const clear = new PacketCodec();
    // a map whose key is __proto__, written by hand: 0x81 (map of 1), "__proto__", {polluted: true}
    const key = Buffer.from('__proto__');
    const inner = rich.pack({ polluted: true });
    const msgBytes = Buffer.concat([Buffer.of(0x82, 0xa4), Buffer.from('type'), Buffer.of(0xa1, 0x78, 0xa0 | key.length), key, inner]);
    const envelope = Buffer.concat([Buffer.of(0x93), rich.pack(A), rich.pack(B), msgBytes]);
    const decoded = clear.decode(clearPacket(envelope));
    expect(decoded.ok).toBe(true);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    // a msgpackr record definition (ext 0x72) for slot 0x40, then a packet using byte 0x40 as the number 64
    const records = new Packr({ useRecords: true });
    const withRecord = records.pack([A, B, { type: 'x', a: 1 }]);
    clear.decode(clearPacket(withRecord));
    const plain = clear.decode(clearPacket(Buffer.concat([Buffer.of(0x93), rich.pack(A), rich.pack(B), Buffer.of(0x81, 0xa4), Buffer.from('type'), Buffer.of(0x40)])));
    expect(plain).toEqual({ ok: true, envelope: { from: A, to: B, msg: { type: 64 } } });
  });

  it('refuses a label over 255 bytes', () => {
    let thrown: unknown;
    try {
      new PacketCodec({ label: 'x'.repeat(MAX_LABEL_BYTES + 1) });
    } catch (err) {
      thrown = err;
    }
    expect(isGossipNetError(thrown, 'GOSSIP_NET_INVALID_OPTION')).toBe(true);
  });

  it('property: decode never throws on arbitrary bytes, clear or sealed', () => {
    const ring = new KeyRing([generateKey()]);
    const codecs = [new PacketCodec(), new PacketCodec({ keyRing: ring })];
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (bytes, withHeader) => {
        const packet = withHeader ? clearPacket(bytes) : bytes;
        for (const codec of codecs) expect(typeof codec.decode(packet).ok).toBe('boolean');
      }),
      { numRuns: 2_000 },
    );
    fc.assert(
      fc.property(fc.anything(), (value) => {
        let body: Buffer;
        try {
          body = rich.pack([A, B, value]);
        } catch {
          return;
        }
        const decoded = codecs[0]?.decode(clearPacket(body));
        expect(typeof decoded?.ok).toBe('boolean');
      }),
      { numRuns: 1_000 },
    );
  });
});

describe('plainDataProblem', () => {
  it('accepts JSON-like data and bytes, refuses the rest and deep nesting', () => {
    expect(plainDataProblem({ a: [1, 'x', null, true, undefined, { b: new Uint8Array(2) }], c: Buffer.from('z') }, 64)).toBeUndefined();
    expect(plainDataProblem(new Map(), 64)).toBeDefined();
    expect(plainDataProblem(() => 1, 64)).toBeDefined();
    expect(plainDataProblem(Object.create(null) as object, 64)).toBeDefined();
    let deep: unknown = 1;
    for (let i = 0; i < 64; i++) deep = [deep];
    expect(plainDataProblem(deep, 64)).toBeUndefined();
    expect(plainDataProblem([deep], 64)).toMatch(/nested/);
    // iterative: a million levels do not overflow the stack
    let deeper: unknown = 1;
    for (let i = 0; i < 1_000_000; i++) deeper = { x: deeper };
    expect(plainDataProblem(deeper, 1_000)).toMatch(/nested/);
  });
});

describe('FrameReader', () => {
  it('property: frames come back whole and in order however the stream is cut', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }), fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 50 }), (packets, cuts) => {
        const stream = Buffer.concat(packets.map((p) => encodeFrame(p)));
        const reader = new FrameReader(1_000);
        const out: Buffer[] = [];
        let pos = 0;
        for (let i = 0; pos < stream.length; i++) {
          const size = cuts[i % cuts.length] as number;
          expect(reader.push(stream.subarray(pos, pos + size), (p) => out.push(Buffer.from(p)))).toBe('ok');
          pos += size;
        }
        expect(out).toEqual(packets.map((p) => Buffer.from(p)));
        expect(reader.bufferedBytes).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses a header over the limit before buffering anything, and stays refused', () => {
    const reader = new FrameReader(100);
    expect(reader.push(Buffer.of(0xff, 0xff), () => undefined)).toBe('ok');
    expect(reader.push(Buffer.of(0xff, 0xff, 1, 2, 3), () => undefined)).toBe('oversize');
    expect(reader.bufferedBytes).toBe(0);
    expect(reader.push(encodeFrame(Buffer.of(1)), () => undefined)).toBe('oversize');
  });

  it('holds only the bytes that arrived, whatever the header announces', () => {
    const reader = new FrameReader(16 * 1024 * 1024);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(16 * 1024 * 1024, 0);
    reader.push(Buffer.concat([header, Buffer.alloc(10)]), () => undefined);
    expect(reader.bufferedBytes).toBe(10);
  });

  it('stops reading when released from the sink', () => {
    const reader = new FrameReader(100);
    const seen: number[] = [];
    reader.push(Buffer.concat([encodeFrame(Buffer.of(1)), encodeFrame(Buffer.of(2))]), (p) => {
      seen.push(p[0] as number);
      reader.release();
    });
    expect(seen).toEqual([1]);
  });
});

describe('addresses', () => {
  it('are host:port with an IPv4 address or host name and a port 1-65535', () => {
    expect(parseAddress('127.0.0.1:7946')).toEqual({ host: '127.0.0.1', port: 7946 });
    expect(parseAddress('node-3.example.com:1')).toEqual({ host: 'node-3.example.com', port: 1 });
    expect(formatAddress({ host: 'a', port: 2 })).toBe('a:2');
    for (const bad of ['', ':80', 'host', 'host:', 'host:0', 'host:65536', 'host:+80', 'host:8 0', '::1:80', '[::1]:80', 'a b:80', 'x'.repeat(200) + ':1', 7946, null, undefined]) {
      expect(parseAddress(bad), String(bad)).toBeUndefined();
    }
  });
});
