// Fuzzing the peer frame decoder and the handshake, bounded: random byte streams and mutations of
// valid handshake and message streams (bit flips, truncation, duplication, oversized and 4 GiB
// lengths, spliced bytes, deeply nested MessagePack), cut at random offsets and at every offset,
// fed to the pure decoders and to a real listening transport over sockets. Properties: decoding
// fails only with typed NetErrors; nothing larger than the frame limit is ever allocated; the
// transport notices every stream the decoders reject, closes the connection, keeps no pending
// state, and keeps serving a legitimate peer. Runs: fuzzParameters (npm run fuzz runs many more).
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { fuzzParameters, fuzzTimeoutMs } from '../../test/fuzz-runs.js';
import { FRAME_KIND, HANDSHAKE_MAX_FRAME_BYTES, decodeWireFrame, encodeWireFrame, type WireFrame } from './codec.js';
import { NetError, type NetErrorCode } from './errors.js';
import { FRAME_HEADER_BYTES, FrameDecoder, MAX_FRAME_LIMIT_BYTES, encodeFrame } from './frame.js';
import type { NetLogRecord } from './log.js';
import type { TransportMetrics } from './metrics.js';
import { HOST, RawClient, helloFrame, splitAt, startNode, waitFor, type Node } from './test/harness.js';

// ---------------------------------------------------------------- streams and mutations

/** Codes the receive pipeline may fail with; anything else (or a non-NetError) is a bug. */
const DECODE_CODES: ReadonlySet<NetErrorCode> = new Set(['NET_FRAME_OVERSIZE', 'NET_FRAME_TRUNCATED', 'NET_FRAME_MALFORMED']);
const MAX_FRAME_BYTES = 64 * 1024;

const idArb = fc.string({ minLength: 1, maxLength: 12 });

/** JSON-like message fields with binary values, small. */
const valueArb: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double({ noNaN: true }),
    fc.string({ maxLength: 20 }),
    fc.uint8Array({ maxLength: 30 }),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 6 }), tie('value'), { maxKeys: 4 }),
  ),
})).value;

const messageFrameArb = fc.record({ type: fc.string({ maxLength: 10 }), body: valueArb }).map((message) => encodeWireFrame({ kind: 'message', message }));

/** What a dialer sends before authentication: a hello (a real one, or a stranger's), maybe a proof, maybe more. */
const handshakeStreamArb = fc
  .tuple(idArb, idArb, fc.string({ maxLength: 10 }), fc.string({ maxLength: 10 }), fc.boolean(), fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.array(messageFrameArb, { maxLength: 2 }))
  .map(([from, to, clusterId, incarnation, withSecret, proof, rest]) =>
    Buffer.concat([helloFrame(from, to, { clusterId, incarnation, ...(withSecret ? {} : { secret: 'not-the-cluster-secret-at-all' }) }), encodeWireFrame({ kind: 'proof', proof }), ...rest]),
  );

/** What an authenticated dialer sends: messages and pings. */
const messageStreamArb = fc.array(fc.oneof(messageFrameArb, fc.constant(encodeWireFrame({ kind: 'ping' }))), { minLength: 1, maxLength: 6 }).map((frames) => Buffer.concat(frames));

/** A frame whose MessagePack body nests arrays or maps `depth` deep. */
function nestedFrame(depth: number, maps: boolean): Buffer {
  const opener = maps ? Buffer.from([0x81, 0xa1, 0x61]) : Buffer.from([0x91]); // {"a": ...} or [...]
  return encodeFrame(Buffer.concat([Buffer.from([FRAME_KIND.message]), Buffer.alloc(opener.length * depth, opener), Buffer.from([0xc0])]));
}

function header(length: number): Buffer {
  const bytes = Buffer.alloc(FRAME_HEADER_BYTES);
  bytes.writeUInt32BE(length, 0);
  return bytes;
}

type Mutation =
  | { readonly kind: 'flip'; readonly at: number; readonly bit: number }
  | { readonly kind: 'truncate'; readonly at: number }
  | { readonly kind: 'duplicate'; readonly at: number; readonly length: number }
  | { readonly kind: 'length'; readonly at: number; readonly length: number }
  | { readonly kind: 'splice'; readonly at: number; readonly bytes: Uint8Array }
  | { readonly kind: 'nest'; readonly at: number; readonly depth: number; readonly maps: boolean };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 64 }) }),
  // lengths around every limit that matters, up to the 4 GiB a u32 header can announce
  fc.record({
    kind: fc.constant('length' as const),
    at: fc.nat(),
    length: fc.oneof(
      fc.constantFrom(0, 1, HANDSHAKE_MAX_FRAME_BYTES, HANDSHAKE_MAX_FRAME_BYTES + 1, MAX_FRAME_BYTES, MAX_FRAME_BYTES + 1, 0x7fff_ffff, MAX_FRAME_LIMIT_BYTES - 1, MAX_FRAME_LIMIT_BYTES),
      fc.integer({ min: 0, max: MAX_FRAME_LIMIT_BYTES }),
    ),
  }),
  fc.record({ kind: fc.constant('splice' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ kind: fc.constant('nest' as const), at: fc.nat(), depth: fc.integer({ min: 1, max: 20_000 }), maps: fc.boolean() }),
);

function mutate(stream: Buffer, mutations: readonly Mutation[]): Buffer {
  let bytes = stream;
  for (const m of mutations) {
    const at = bytes.length === 0 ? 0 : m.at % (bytes.length + 1);
    switch (m.kind) {
      case 'flip':
        if (at < bytes.length) {
          bytes = Buffer.from(bytes);
          bytes[at] = (bytes[at] as number) ^ (1 << m.bit);
        }
        break;
      case 'truncate':
        bytes = bytes.subarray(0, at);
        break;
      case 'duplicate':
        bytes = Buffer.concat([bytes.subarray(0, at + m.length), bytes.subarray(at)]);
        break;
      case 'length':
        bytes = Buffer.concat([bytes.subarray(0, at), header(m.length), bytes.subarray(at)]);
        break;
      case 'splice':
        bytes = Buffer.concat([bytes.subarray(0, at), m.bytes, bytes.subarray(at)]);
        break;
      case 'nest':
        bytes = Buffer.concat([bytes.subarray(0, at), nestedFrame(m.depth, m.maps), bytes.subarray(at)]);
        break;
    }
  }
  return bytes;
}


// ---------------------------------------------------------------- the pure receive pipeline

interface Received {
  readonly frames: WireFrame[];
  readonly error: NetError | null;
  /** The most the frame decoder held back at any point (header included). */
  readonly mostPendingBytes: number;
}

/** The receive path of a connection without the socket: frame decoder, then payload decoder. */
function receive(chunks: readonly Uint8Array[], limit: number): Received {
  const decoder = new FrameDecoder(limit);
  const frames: WireFrame[] = [];
  let mostPendingBytes = 0;
  try {
    for (const chunk of chunks) {
      decoder.push(chunk, (payload) => frames.push(decodeWireFrame(payload)));
      mostPendingBytes = Math.max(mostPendingBytes, decoder.pendingBytes);
    }
    decoder.finish();
    return { frames, error: null, mostPendingBytes };
  } catch (error) {
    // Anything but a NetError escapes here and fails the property with its own stack.
    if (!(error instanceof NetError)) throw error;
    return { frames, error, mostPendingBytes };
  }
}

/** Runs `work` recording every Buffer.allocUnsafe size; returns the largest. */
function largestAllocation(work: () => void): number {
  let largest = 0;
  const original = Buffer.allocUnsafe;
  const spy = vi.spyOn(Buffer, 'allocUnsafe').mockImplementation((size: number) => {
    largest = Math.max(largest, size);
    return original(size);
  });
  try {
    work();
  } finally {
    spy.mockRestore();
  }
  return largest;
}

const streamArb = fc.oneof(
  fc.record({ limit: fc.constant(HANDSHAKE_MAX_FRAME_BYTES), stream: handshakeStreamArb }),
  fc.record({ limit: fc.constant(MAX_FRAME_BYTES), stream: messageStreamArb }),
  fc.record({ limit: fc.constantFrom(HANDSHAKE_MAX_FRAME_BYTES, MAX_FRAME_BYTES), stream: fc.uint8Array({ maxLength: 600 }).map((b) => Buffer.from(b)) }),
);

describe('fuzz: pure decoders', () => {
  it(
    'random and mutated streams, cut anywhere, fail only with typed errors and never allocate beyond the limit',
    () => {
      fc.assert(
        fc.property(streamArb, fc.array(mutationArb, { maxLength: 4 }), fc.array(fc.nat({ max: 2000 }), { maxLength: 8 }), ({ limit, stream }, mutations, cuts) => {
          const bytes = mutate(stream, mutations);
          let result: Received | null = null;
          const largest = largestAllocation(() => (result = receive(splitAt(bytes, cuts), limit)));
          const { error, mostPendingBytes } = result as unknown as Received;
          if (error !== null) expect(DECODE_CODES).toContain(error.code);
          expect(largest).toBeLessThanOrEqual(limit);
          expect(mostPendingBytes).toBeLessThanOrEqual(limit + FRAME_HEADER_BYTES);
        }),
        fuzzParameters(400),
      );
    },
    fuzzTimeoutMs(20_000),
  );

  it(
    'a valid stream decodes the same when cut at every offset, and mutated ones give the same outcome',
    () => {
      fc.assert(
        fc.property(streamArb, fc.array(mutationArb, { maxLength: 2 }), ({ limit, stream }, mutations) => {
          const bytes = mutate(stream, mutations).subarray(0, 400);
          const whole = receive([bytes], limit);
          for (let at = 0; at <= bytes.length; at++) {
            const cut = receive([bytes.subarray(0, at), bytes.subarray(at)], limit);
            expect(cut.error?.code).toBe(whole.error?.code);
            expect(cut.frames).toEqual(whole.frames);
          }
        }),
        fuzzParameters(60),
      );
    },
    fuzzTimeoutMs(20_000),
  );

  it('refuses a 4 GiB length at the largest configurable limit without allocating it', () => {
    for (const limit of [HANDSHAKE_MAX_FRAME_BYTES, MAX_FRAME_BYTES, MAX_FRAME_LIMIT_BYTES - 1]) {
      let result: Received | null = null;
      const largest = largestAllocation(() => (result = receive([header(MAX_FRAME_LIMIT_BYTES), Buffer.from([1, 2, 3])], limit)));
      expect((result as unknown as Received).error?.code).toBe('NET_FRAME_OVERSIZE');
      expect(largest).toBeLessThan(1024);
    }
  });

  it('turns deeply nested MessagePack into NET_FRAME_MALFORMED or a value, never a crash', () => {
    for (const depth of [1_000, 100_000, 1_000_000]) {
      for (const maps of [false, true]) {
        const frame = nestedFrame(depth, maps);
        const { error } = receive([frame], frame.length);
        if (error !== null) expect(error.code).toBe('NET_FRAME_MALFORMED');
      }
    }
  });
});

// ---------------------------------------------------------------- a real transport

describe('fuzz: a listening transport', () => {
  let a: Node;
  let b: Node;
  const closers: (() => Promise<void>)[] = [];
  /** Every log record a writes; checked for codes and for wrapped non-NetErrors. */
  const records: NetLogRecord[] = [];

  beforeAll(async () => {
    a = await startNode('a', {
      maxFrameBytes: MAX_FRAME_BYTES,
      handshakeTimeoutMs: 10_000,
      helloTimeoutMs: 10_000,
      logger: (record) => records.push(record),
    });
    b = await startNode('b', { maxFrameBytes: MAX_FRAME_BYTES, peers: { a: a.transport.address } });
    a.transport.addPeer('b', b.transport.address);
    // a member whose address goes nowhere: raw clients authenticate as it
    a.transport.addPeer('evil', { host: HOST, port: 1 });
    closers.push(() => a.transport.close({ deadlineMs: 0 }), () => b.transport.close({ deadlineMs: 0 }));
    await waitFor(() => a.transport.metrics().peers.b!.inboundConnected && a.transport.metrics().peers.b!.connected, 'a and b connected');
  });

  afterAll(async () => {
    await Promise.all(closers.map((close) => close()));
  });

  const failures = (m: TransportMetrics): number =>
    m.decodeErrors + m.oversizeFrames + m.truncatedFrames + m.authFailures + m.handshakeTimeouts + m.tlsFailures + m.incarnationRefusals;

  let seq = 0;
  async function expectStillServing(): Promise<void> {
    seq += 1;
    const mine = seq;
    b.transport.send('a', { type: 'alive', seq: mine });
    a.transport.send('b', { type: 'alive', seq: mine });
    await waitFor(() => a.received.some((r) => r.message.seq === mine) && b.received.some((r) => r.message.seq === mine), 'a and b to keep exchanging messages');
  }

  it(
    'closes every hostile stream, notices each one the decoders reject, and keeps serving its peer',
    async () => {
      const port = a.transport.address.port;
      let largest = 0;
      const original = Buffer.allocUnsafe;
      const spy = vi.spyOn(Buffer, 'allocUnsafe').mockImplementation((size: number) => {
        largest = Math.max(largest, size);
        return original(size);
      });
      let runs = 0;
      try {
        await fc.assert(
          fc.asyncProperty(streamArb, fc.array(mutationArb, { maxLength: 3 }), fc.array(fc.nat({ max: 2000 }), { maxLength: 6 }), async ({ limit, stream }, mutations, cuts) => {
            const bytes = mutate(stream, mutations);
            const authenticated = limit === MAX_FRAME_BYTES;
            const before = failures(a.transport.metrics());
            const client = await RawClient.connect(port);
            if (authenticated) {
              const { answer } = await client.handshake('evil', 'a');
              expect(answer.kind).toBe('welcome');
            }
            for (const chunk of splitAt(bytes, cuts)) client.write(chunk);
            client.socket.end();
            await client.waitClosed();
            // The transport forgot the connection: nothing pending, evil's inbound gone.
            await waitFor(() => a.transport.metrics().pendingHandshakes === 0 && !a.transport.metrics().peers.evil!.inboundConnected, 'the transport to drop the connection');
            if (receive([bytes], limit).error !== null) expect(failures(a.transport.metrics())).toBeGreaterThan(before);
            runs += 1;
            if (runs % 25 === 0) await expectStillServing();
          }),
          fuzzParameters(60),
        );
        // A 4 GiB header on an authenticated connection, the worst a member's socket can announce.
        const client = await RawClient.connect(port);
        expect((await client.handshake('evil', 'a')).answer.kind).toBe('welcome');
        client.write(header(MAX_FRAME_LIMIT_BYTES));
        await client.waitClosed();
      } finally {
        spy.mockRestore();
      }
      expect(largest).toBeLessThanOrEqual(MAX_FRAME_BYTES + 64 * 1024);
      await expectStillServing();
      const metrics = a.transport.metrics();
      expect(metrics.peers.b!.connected && metrics.peers.b!.inboundConnected).toBe(true);
      expect(metrics.handlerErrors).toBe(0);
      for (const record of records) {
        if (record.level === 'warn' || record.level === 'error') expect(record.code, record.msg).toBeDefined();
        expect(record.msg).not.toMatch(/unexpected failure while handling a frame/);
      }
    },
    fuzzTimeoutMs(20_000),
  );
});
