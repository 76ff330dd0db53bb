// Test helpers for the transport: clusters of real transports on 127.0.0.1 with ephemeral ports,
// a raw client that speaks (or abuses) the wire protocol, and polling waits. Everything started
// here is registered for cleanup, so each test file closes all sockets in afterEach.
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach } from 'vitest';
import type { Message, NodeId } from '../../sim/core.js';
import { PROTOCOL_VERSION, decodeWireFrame, encodeWireFrame, type WireFrame } from '../codec.js';
import { FrameDecoder } from '../frame.js';
import { computeProof, newNonce, verifyProof } from '../handshake.js';
import type { NetLogRecord } from '../log.js';
import type { TransportOptions } from '../options.js';
import { Transport } from '../transport.js';

export const SECRET = 'test-cluster-secret-0123456789';
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

  /** Runs the dialer's half of the handshake as `from` towards `to`, with `secret`. */
  async authenticate(from: NodeId, to: NodeId, secret: string = SECRET): Promise<WireFrame> {
    const dialerNonce = newNonce();
    this.write(encodeWireFrame({ kind: 'hello', version: PROTOCOL_VERSION, from, to, nonce: dialerNonce }));
    const challenge = await this.nextFrame();
    if (challenge.kind !== 'challenge') return challenge;
    const transcript = { dialer: from, acceptor: to, dialerNonce, acceptorNonce: challenge.nonce };
    this.write(encodeWireFrame({ kind: 'proof', proof: computeProof(Buffer.from(secret), 'dialer', transcript) }));
    return this.nextFrame();
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
 * A hand-written acceptor: completes the handshake as `selfId`, then (by default) stops reading,
 * so the dialer's socket buffer fills, and never answers pings. Tests backpressure and liveness.
 */
export class RawAcceptor {
  readonly sockets: Socket[] = [];
  authenticated = 0;
  private constructor(
    private readonly server: Server,
    readonly selfId: NodeId,
  ) {}

  static async start(selfId: NodeId, options: { readonly pauseAfterAuth?: boolean } = {}): Promise<RawAcceptor> {
    let acceptor: RawAcceptor | null = null;
    const server = createServer((socket) => acceptor?.handle(socket, options.pauseAfterAuth ?? true));
    await new Promise<void>((resolve) => server.listen({ host: HOST, port: 0 }, resolve));
    acceptor = new RawAcceptor(server, selfId);
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

  private handle(socket: Socket, pauseAfterAuth: boolean): void {
    this.sockets.push(socket);
    socket.on('error', () => {});
    const decoder = new FrameDecoder(1 << 20);
    const acceptorNonce = newNonce();
    let dialer = '';
    let dialerNonce: Uint8Array = new Uint8Array(0);
    socket.on('data', (chunk: Buffer) => {
      decoder.push(chunk, (payload) => {
        const frame = decodeWireFrame(payload);
        if (frame.kind === 'hello') {
          dialer = frame.from;
          dialerNonce = frame.nonce;
          socket.write(encodeWireFrame({ kind: 'challenge', nonce: acceptorNonce }));
        } else if (frame.kind === 'proof') {
          const transcript = { dialer, acceptor: this.selfId, dialerNonce, acceptorNonce };
          if (!verifyProof(Buffer.from(SECRET), 'dialer', transcript, frame.proof)) throw new Error('bad proof from the transport');
          socket.write(encodeWireFrame({ kind: 'welcome', proof: computeProof(Buffer.from(SECRET), 'acceptor', transcript) }));
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
