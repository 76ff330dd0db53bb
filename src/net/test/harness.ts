// Test helpers for the transport: clusters of real transports on 127.0.0.1 with ephemeral ports,
// a raw client that speaks (or abuses) the wire protocol, and polling waits. Everything started
// here is registered for cleanup, so each test file closes all sockets in afterEach.
import { randomBytes } from 'node:crypto';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach } from 'vitest';
import type { Message, NodeId } from '../../core/index.js';
import { PROTOCOL_VERSION, decodeWireFrame, encodeWireFrame, type WireFrame } from '../codec.js';
import { FrameDecoder } from '../frame.js';
import { computeProof, newNonce, verifyProof, type HandshakeTranscript } from '../handshake.js';
import type { NetLogRecord } from '../log.js';
import type { TransportOptions } from '../options.js';
import { Transport } from '../transport.js';

export const SECRET = 'test-cluster-secret-0123456789';
/** What a stranger guesses instead of the secret. */
export const STRANGER_SECRET = 'not-the-cluster-secret-at-all';
export const HOST = '127.0.0.1';

export interface TestMessage extends Message {
  readonly type: string;
  readonly seq?: number;
  readonly body?: unknown;
}

export type Received = { readonly from: NodeId; readonly message: TestMessage };

export interface Node {
  readonly id: NodeId;
  readonly transport: Transport<TestMessage>;
  readonly received: Received[];
  readonly logs: NetLogRecord[];
}

const cleanups: (() => Promise<void> | void)[] = [];

/** Registers the afterEach that closes everything the helpers started. Call once per test file. */
export function useCleanup(): void {
  afterEach(async () => {
    const pending = cleanups.splice(0);
    await Promise.all(pending.map(async (cleanup) => cleanup()));
  });
}

/** Fast reconnects and liveness so tests do not wait on production defaults. */
export const FAST: Partial<TransportOptions<TestMessage>> = {
  backoff: { initialMs: 10, maxMs: 100, multiplier: 2 },
  handshakeTimeoutMs: 2_000,
  closeDeadlineMs: 2_000,
  // Tests look for individual records; the tests of the rate limit itself set it back.
  logRateLimit: { burst: 1000 },
};

export async function startNode(id: NodeId, options: Partial<TransportOptions<TestMessage>> = {}): Promise<Node> {
  const received: Received[] = [];
  const logs: NetLogRecord[] = [];
  const transport = await Transport.start<TestMessage>({
    selfId: id,
    listen: { host: HOST, port: 0 },
    secret: SECRET,
    logger: (record) => logs.push(record),
    onMessage: (from, message) => received.push({ from, message }),
    ...FAST,
    ...options,
  });
  cleanups.push(() => transport.close({ deadlineMs: 500 }));
  return { id, transport, received, logs };
}

/** Starts `ids` and makes every node a peer of every other. */
export async function startCluster(ids: readonly NodeId[], options: Partial<TransportOptions<TestMessage>> = {}): Promise<Node[]> {
  const nodes = await Promise.all(ids.map((id) => startNode(id, options)));
  for (const node of nodes) {
    for (const other of nodes) if (other !== node) node.transport.addPeer(other.id, other.transport.address);
  }
  return nodes;
}

/** Polls `condition` until it holds; fails with `what` after `timeoutMs` (generous: never a timing assertion). */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function waitConnected(nodes: readonly Node[]): Promise<void> {
  await waitFor(
    () => nodes.every((n) => Object.values(n.transport.metrics().peers).every((p) => p.connected && p.inboundConnected)),
    'every node connected both ways to every peer',
  );
}

export function seqsFrom(node: Node, from: NodeId): number[] {
  return node.received.filter((r) => r.from === from).map((r) => r.message.seq as number);
}

/** What a raw client or acceptor claims and knows. */
export interface RawIdentity {
  /** The secret its MACs are made with (a stranger uses STRANGER_SECRET). */
  readonly secret?: string;
  readonly clusterId?: string;
  readonly incarnation?: string;
}

/** The transcript of a handshake between `dialer` and `acceptor`, with '' for what is not given. */
export function transcriptOf(
  dialer: NodeId,
  acceptor: NodeId,
  fields: { dialerNonce: Uint8Array; acceptorNonce?: Uint8Array; clusterId?: string; dialerIncarnation?: string; acceptorIncarnation?: string },
): HandshakeTranscript {
  return {
    clusterId: fields.clusterId ?? '',
    dialer,
    acceptor,
    dialerIncarnation: fields.dialerIncarnation ?? '',
    dialerNonce: fields.dialerNonce,
    acceptorNonce: fields.acceptorNonce ?? new Uint8Array(0),
    acceptorIncarnation: fields.acceptorIncarnation ?? '',
  };
}

/** A hello as a member would send it: with a ticket made with `secret` (a stranger's has a wrong one). */
export function helloFrame(from: NodeId, to: NodeId, options: RawIdentity & { readonly nonce?: Uint8Array } = {}): Buffer {
  const nonce = options.nonce ?? newNonce();
  const clusterId = options.clusterId ?? '';
  const incarnation = options.incarnation ?? '';
  const ticket = computeProof(Buffer.from(options.secret ?? SECRET), 'ticket', transcriptOf(from, to, { dialerNonce: nonce, clusterId, dialerIncarnation: incarnation }));
  return encodeWireFrame({ kind: 'hello', version: PROTOCOL_VERSION, from, to, nonce, clusterId, incarnation, ticket });
}

/** A socket that speaks the wire protocol by hand, to test what a misbehaving peer can do. */
export class RawClient {
  readonly frames: WireFrame[] = [];
  closed = false;
  private readonly decoder = new FrameDecoder(1 << 20);

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      try {
        this.decoder.push(chunk, (payload) => this.frames.push(decodeWireFrame(payload)));
      } catch {
        socket.destroy();
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => (this.closed = true));
  }

  static async connect(port: number): Promise<RawClient> {
    const socket = connect({ host: HOST, port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const client = new RawClient(socket);
    cleanups.push(() => void socket.destroy());
    return client;
  }

  write(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /**
   * Runs the dialer's half of the handshake as `from` towards `to`: the hello's ticket made with
   * `secret`, the proof with `proofSecret` (by default the same). Resolves to the acceptor's last
   * answer (a welcome or a refusal) and the transcript, to check MACs with.
   */
  async authenticate(from: NodeId, to: NodeId, options: RawIdentity & { readonly proofSecret?: string } = {}): Promise<WireFrame> {
    return (await this.handshake(from, to, options)).answer;
  }

  async handshake(from: NodeId, to: NodeId, options: RawIdentity & { readonly proofSecret?: string } = {}): Promise<{ answer: WireFrame; transcript: HandshakeTranscript }> {
    const dialerNonce = newNonce();
    this.write(helloFrame(from, to, { ...options, nonce: dialerNonce }));
    const challenge = await this.nextFrame();
    const fields = { dialerNonce, clusterId: options.clusterId ?? '', dialerIncarnation: options.incarnation ?? '' };
    if (challenge.kind !== 'challenge') return { answer: challenge, transcript: transcriptOf(from, to, fields) };
    const transcript = transcriptOf(from, to, { ...fields, acceptorNonce: challenge.nonce });
    this.write(encodeWireFrame({ kind: 'proof', proof: computeProof(Buffer.from(options.proofSecret ?? options.secret ?? SECRET), 'dialer', transcript) }));
    const answer = await this.nextFrame();
    return { answer, transcript: answer.kind === 'welcome' ? { ...transcript, acceptorIncarnation: answer.incarnation } : transcript };
  }

  async nextFrame(): Promise<WireFrame> {
    const index = this.frames.length;
    await waitFor(() => this.frames.length > index || this.closed, 'a frame from the transport');
    const frame = this.frames[index];
    if (frame === undefined) throw new Error('connection closed before a frame arrived');
    return frame;
  }

  async waitClosed(): Promise<void> {
    await waitFor(() => this.closed, 'the transport to close the raw connection');
  }
}

/**
 * How a RawAcceptor answers instead of welcoming: a refusal right after the hello (before any
 * proof, so without a MAC), or after the dialer's proof with no MAC, a MAC made with a wrong
 * secret, or the first connection's valid MAC replayed on every later connection.
 */
export type RawRefusal = 'at-hello' | 'no-mac' | 'wrong-mac' | 'replayed-mac';

export interface RawAcceptorOptions extends RawIdentity {
  /** Stop reading after the welcome (default true), so the dialer's socket buffer fills. */
  readonly pauseAfterAuth?: boolean;
  /** Refuse every dialer with `identity_changed` in this way instead of welcoming it. */
  readonly refuse?: RawRefusal;
}

/**
 * A hand-written acceptor: completes the handshake as `selfId`, then (by default) stops reading,
 * so the dialer's socket buffer fills, and never answers pings. Tests backpressure and liveness,
 * and with `refuse` what forged or replayed refusals can do to a dialer.
 */
export class RawAcceptor {
  readonly sockets: Socket[] = [];
  authenticated = 0;
  /** Connections it refused. */
  refused = 0;
  private firstRefusalMac: Uint8Array | null = null;
  private constructor(
    private readonly server: Server,
    readonly selfId: NodeId,
    private readonly options: RawAcceptorOptions,
  ) {}

  static async start(selfId: NodeId, options: RawAcceptorOptions = {}): Promise<RawAcceptor> {
    let acceptor: RawAcceptor | null = null;
    const server = createServer((socket) => acceptor?.handle(socket));
    await new Promise<void>((resolve) => server.listen({ host: HOST, port: 0 }, resolve));
    acceptor = new RawAcceptor(server, selfId, options);
    cleanups.push(() => acceptor.stop());
    return acceptor;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private handle(socket: Socket): void {
    this.sockets.push(socket);
    socket.on('error', () => {});
    const { refuse, pauseAfterAuth = true } = this.options;
    const secret = Buffer.from(this.options.secret ?? SECRET);
    const decoder = new FrameDecoder(1 << 20);
    const acceptorNonce = newNonce();
    let transcript: HandshakeTranscript | null = null;
    const sendRefusal = (mac: Uint8Array | null): void => {
      this.refused += 1;
      socket.end(encodeWireFrame({ kind: 'refuse', reason: 'identity_changed', mac }));
    };
    socket.on('data', (chunk: Buffer) => {
      decoder.push(chunk, (payload) => {
        const frame = decodeWireFrame(payload);
        if (frame.kind === 'hello') {
          if (refuse === 'at-hello') return sendRefusal(null);
          transcript = transcriptOf(frame.from, this.selfId, {
            dialerNonce: frame.nonce,
            acceptorNonce,
            clusterId: frame.clusterId,
            dialerIncarnation: frame.incarnation,
            acceptorIncarnation: this.options.incarnation ?? '',
          });
          socket.write(encodeWireFrame({ kind: 'challenge', nonce: acceptorNonce }));
        } else if (frame.kind === 'proof' && transcript !== null) {
          if (!verifyProof(secret, 'dialer', transcript, frame.proof)) throw new Error('bad proof from the transport');
          if (refuse === 'no-mac') return sendRefusal(null);
          if (refuse === 'wrong-mac') return sendRefusal(computeProof(Buffer.from(STRANGER_SECRET), 'acceptor-refusal', transcript, 'identity_changed'));
          if (refuse === 'replayed-mac') {
            this.firstRefusalMac ??= computeProof(secret, 'acceptor-refusal', transcript, 'identity_changed');
            return sendRefusal(this.firstRefusalMac);
          }
          socket.write(encodeWireFrame({ kind: 'welcome', proof: computeProof(secret, 'acceptor', transcript), incarnation: transcript.acceptorIncarnation }));
          this.authenticated += 1;
          if (pauseAfterAuth) socket.pause();
        }
      });
    });
  }
}

/** A port on 127.0.0.1 with nothing listening (bound once, then released). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen({ host: HOST, port: 0 }, resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export type FloodMode =
  /** Connect and send nothing. */
  | 'idle'
  /** Send a well-formed hello claiming member `helloFrom`, then nothing (its ticket is wrong: the flooder has no secret). */
  | 'hello'
  /** Send random bytes. */
  | 'garbage';

export interface FloodOptions {
  /** Connections the flooder keeps open (reopening each as the node closes it). */
  readonly connections: number;
  readonly mode: FloodMode;
  /** Source address, e.g. 127.0.0.2, to test the per-address limit. */
  readonly localAddress?: string;
  /** Member id the hellos claim (mode 'hello'); the node's id is `helloTo`. */
  readonly helloFrom?: NodeId;
  readonly helloTo?: NodeId;
}

/**
 * A stranger flooding a node's peer port: keeps `connections` sockets open and reopens each one
 * the node closes, as fast as the node closes them. Counts what it did so tests can check that
 * the flood was really running while they asserted something.
 */
export class Flood {
  opened = 0;
  closed = 0;
  private running = true;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly port: number,
    private readonly options: FloodOptions,
  ) {}

  static start(port: number, options: FloodOptions): Flood {
    const flood = new Flood(port, options);
    for (let i = 0; i < options.connections; i++) flood.open();
    cleanups.push(() => flood.stop());
    return flood;
  }

  /** Sockets open now, from the flooder's side (accepted or still in the node's backlog). */
  get openNow(): number {
    return this.sockets.size;
  }

  stop(): void {
    this.running = false;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  private open(): void {
    if (!this.running) return;
    const socket = connect({ host: HOST, port: this.port, ...(this.options.localAddress === undefined ? {} : { localAddress: this.options.localAddress }) });
    this.opened += 1;
    this.sockets.add(socket);
    socket.on('error', () => {});
    socket.on('data', () => {}); // read and ignore challenges, so nothing backs up
    socket.once('connect', () => {
      if (this.options.mode === 'hello') socket.write(helloFrame(this.options.helloFrom ?? 'b', this.options.helloTo ?? 'a', { secret: STRANGER_SECRET }));
      if (this.options.mode === 'garbage') socket.write(randomBytes(1 + Math.floor(Math.random() * 64)));
    });
    socket.once('close', () => {
      this.sockets.delete(socket);
      this.closed += 1;
      // Reopen on the next turn, not inside the close handler, so a storm of closes cannot recurse.
      if (this.running) setImmediate(() => this.open());
    });
  }
}

/** Cuts `bytes` at the given offsets (clamped, sorted, deduplicated): a stream as the socket may deliver it. */
export function splitAt(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => Math.min(c, bytes.length)))].sort((x, y) => x - y);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const point of [...points, bytes.length]) {
    chunks.push(bytes.subarray(start, point));
    start = point;
  }
  return chunks;
}
