// The gossip agent's network: one udp4 socket and one TCP listener on the same host:port. A
// packet that fits a datagram goes by UDP, a larger one (a full-state sync) as one frame on a
// short-lived TCP stream; whatever arrives is checked, counted when dropped, and never thrown on.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { NodeId } from '../core/index.js';
import type { PeerTransport } from '../runtime/index.js';
import { formatAddress, parseAddress, type PeerAddress } from './address.js';
import { PacketCodec } from './codec.js';
import { failGossipNet } from './errors.js';
import { encodeFrame, FrameReader } from './frames.js';
import { resolveOptions, type ResolvedOptions, type UdpGossipTransportOptions } from './options.js';
import {
  INBOUND_DROP_REASONS,
  SEND_DROP_REASONS,
  zeroCounters,
  zeroReasons,
  type DropEvent,
  type GossipNetStats,
  type InboundDropReason,
  type MutableCounters,
  type SendDropReason,
} from './stats.js';

/** What became of one `send`: the path it took, or why it was dropped at once (later failures are counted in stats). */
export type SendResult = { readonly ok: true; readonly via: 'udp' | 'tcp' } | { readonly ok: false; readonly reason: SendDropReason };

export type GossipMessageHandler<M> = (from: NodeId, msg: M) => void;

/** With port 0, how many ephemeral ports to try before giving up (one may be free for TCP but taken for UDP). */
const BIND_ATTEMPTS = 8;

/** One peer's outbound TCP stream: frames wait in `queue` until connected, then go to the socket. */
interface OutboundStream {
  readonly peer: string;
  readonly socket: Socket;
  connected: boolean;
  /** Frames waiting for the connection. */
  queue: Buffer[];
  /** Frames and bytes accepted for this stream whose write has not completed. */
  pendingFrames: number;
  pendingBytes: number;
  connectTimer: NodeJS.Timeout | undefined;
  /** Once closed, late write callbacks change nothing (the close accounted for them). */
  closed: boolean;
  /** The reason (and what happened) charged to frames still pending when the stream closes. */
  failure: SendDropReason;
  problem: string | undefined;
}

interface InboundConnection {
  readonly socket: Socket;
  readonly reader: FrameReader;
  /** Bytes of this connection counted in `inboundBuffered`. */
  counted: number;
  frameTimer: NodeJS.Timeout | undefined;
  closed: boolean;
}

/**
 * A PeerTransport for gossip agents whose node ids are their advertised "host:port". Generic in
 * the message type: `check` decides what a message is, the transport only that it is plain data
 * in a well-formed, authentic envelope addressed to this node.
 */
export class UdpGossipTransport<M = unknown> implements PeerTransport<M> {
  /** This node's id: its advertised host:port. */
  readonly id: NodeId;
  /** The port bound for both UDP and TCP. */
  readonly port: number;
  private readonly acceptedDestinations: ReadonlySet<string>;
  private readonly handlers = new Set<GossipMessageHandler<M>>();
  private readonly counters: MutableCounters = zeroCounters();
  private readonly drops = zeroReasons(INBOUND_DROP_REASONS);
  private readonly sendDrops = zeroReasons(SEND_DROP_REASONS);
  private readonly outbound = new Map<string, OutboundStream>();
  private readonly inbound = new Set<InboundConnection>();
  private readonly isolated = new Set<string>();
  private pendingBytes = 0;
  private inboundBuffered = 0;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly options: ResolvedOptions,
    private readonly codec: PacketCodec,
    private readonly udp: UdpSocket,
    private readonly server: Server,
    port: number,
  ) {
    this.port = port;
    this.id = formatAddress({ host: options.advertiseHost, port: options.advertisePort ?? port });
    this.acceptedDestinations = new Set([this.id, ...options.aliases]);
    udp.on('message', (packet) => {
      this.counters.udpPacketsIn++;
      this.counters.udpBytesIn += packet.length;
      this.receive(packet, 'udp', undefined);
    });
    // errors of an unconnected datagram socket concern single sends, which their callbacks count
    udp.on('error', () => undefined);
    server.maxConnections = options.maxInboundConnections;
    server.on('connection', (socket) => this.accept(socket));
    server.on('drop', () => this.dropIn('too_many_connections', 'tcp'));
    server.on('error', () => undefined);
  }

  /**
   * Binds UDP and TCP on options.host:options.port. Throws GOSSIP_NET_INVALID_OPTION (named field)
   * or GOSSIP_NET_IO (the port is taken, the address is not local, ...).
   */
  static async start<M = unknown>(options: UdpGossipTransportOptions): Promise<UdpGossipTransport<M>> {
    const resolved = resolveOptions(options);
    const codec = new PacketCodec({ keyRing: resolved.keyRing, label: resolved.label, maxNestingDepth: resolved.maxNestingDepth });
    const { udp, server, port } = await bindBoth(resolved.host, resolved.port);
    return new UdpGossipTransport<M>(resolved, codec, udp, server, port);
  }

  /** Whether packets are sealed (a key ring was given). */
  get encrypted(): boolean {
    return this.codec.sealed;
  }

  get closed(): boolean {
    return this.closing !== undefined;
  }

  /** Registers a handler for checked messages; returns its unsubscribe function. */
  onMessage(handler: GossipMessageHandler<M>): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  /**
   * Sends `msg` to the node whose id is `to` ("host:port"): by UDP if the packet fits
   * maxUdpPayloadBytes, else over TCP. Never throws; a drop is returned and counted.
   */
  send(to: NodeId, msg: M): SendResult {
    if (this.closed) return this.dropOut('closed', to);
    const address = parseAddress(to);
    if (address === undefined) return this.dropOut('invalid_to', typeof to === 'string' ? to.slice(0, 64) : typeof to);
    if (to === this.id) return this.dropOut('self', to);
    if (this.isolated.has(to)) return this.dropOut('fault', to);
    let packet: Buffer;
    try {
      packet = this.codec.encode({ from: this.id, to, msg });
    } catch (cause) {
      return this.dropOut('encode_failed', to, cause instanceof Error ? cause.message : String(cause));
    }
    if (packet.length <= this.options.maxUdpPayloadBytes) {
      this.sendDatagram(to, address, packet);
      this.counters.messagesOut++;
      return { ok: true, via: 'udp' };
    }
    if (packet.length > this.options.maxFrameBytes) return this.dropOut('too_large', to, `${packet.length} bytes`);
    const refused = this.sendFrame(to, address, encodeFrame(packet));
    if (refused !== undefined) return this.dropOut(refused, to);
    this.counters.messagesOut++;
    return { ok: true, via: 'tcp' };
  }

  /** Counters and gauges as a plain-object snapshot. */
  stats(): GossipNetStats {
    return {
      ...this.counters,
      tcpOpenInbound: this.inbound.size,
      tcpOpenOutbound: this.outbound.size,
      inboundBufferedBytes: this.inboundBuffered,
      outboundPendingBytes: this.pendingBytes,
      drops: { ...this.drops },
      sendDrops: { ...this.sendDrops },
    };
  }

  /** Fault hook (faultInjection only): drops all traffic to and from `peers`, like a partition, until healed. */
  isolate(peers: readonly NodeId[]): void {
    this.requireFaults();
    for (const peer of peers) this.isolated.add(peer);
  }

  /** Ends the isolation of `peers`, or of every peer. */
  heal(peers?: readonly NodeId[]): void {
    this.requireFaults();
    if (peers === undefined) this.isolated.clear();
    else for (const peer of peers) this.isolated.delete(peer);
  }

  isolatedPeers(): NodeId[] {
    return [...this.isolated];
  }

  /**
   * Closes both sockets and every connection, resolving once all of them are closed; frames not
   * yet written are dropped (counted as closed). Idempotent.
   */
  close(): Promise<void> {
    if (this.closing !== undefined) return this.closing;
    const sockets = [...[...this.inbound].map((c) => c.socket), ...[...this.outbound.values()].map((s) => s.socket)];
    const socketsClosed = sockets.map((socket) => (socket.closed ? Promise.resolve() : new Promise<void>((resolve) => socket.once('close', () => resolve()))));
    const serverClosed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const udpClosed = new Promise<void>((resolve) => {
      try {
        this.udp.close(() => resolve());
      } catch {
        resolve();
      }
    });
    for (const connection of this.inbound) this.closeInbound(connection);
    for (const stream of this.outbound.values()) this.closeStream(stream, 'closed');
    this.closing = Promise.all([serverClosed, udpClosed, ...socketsClosed]).then(() => undefined);
    return this.closing;
  }

  // ------------------------------------------------------------------ sending

  private sendDatagram(to: string, address: PeerAddress, packet: Buffer): void {
    try {
      this.udp.send(packet, address.port, address.host, (err) => {
        if (err !== null && err !== undefined) {
          if (!this.closed) this.dropOut('udp_error', to, err.message);
          return;
        }
        this.counters.udpPacketsOut++;
        this.counters.udpBytesOut += packet.length;
      });
    } catch (cause) {
      this.dropOut('udp_error', to, cause instanceof Error ? cause.message : String(cause));
    }
  }

  /** Queues a frame on the peer's stream, opening one if needed; a reason when it cannot. */
  private sendFrame(to: string, address: PeerAddress, frame: Buffer): SendDropReason | undefined {
    let stream = this.outbound.get(to);
    if (stream === undefined) {
      if (this.outbound.size >= this.options.maxOutboundConnections && !this.closeAnIdleStream()) return 'too_many_connections';
      stream = this.openStream(to, address);
    }
    if (stream.pendingBytes + frame.length > this.options.maxPendingBytesPerPeer || this.pendingBytes + frame.length > this.options.maxPendingBytes) return 'backlog';
    stream.pendingFrames++;
    stream.pendingBytes += frame.length;
    this.pendingBytes += frame.length;
    if (stream.connected) this.writeFrame(stream, frame);
    else stream.queue.push(frame);
    return undefined;
  }

  private openStream(peer: string, address: PeerAddress): OutboundStream {
    const socket = connect({ host: address.host, port: address.port, family: 4, noDelay: true });
    const stream: OutboundStream = { peer, socket, connected: false, queue: [], pendingFrames: 0, pendingBytes: 0, connectTimer: undefined, closed: false, failure: 'tcp_error', problem: undefined };
    this.outbound.set(peer, stream);
    stream.connectTimer = setTimeout(() => this.closeStream(stream, 'tcp_error', 'connect timeout'), this.options.connectTimeoutMs);
    socket.once('connect', () => {
      clearTimeout(stream.connectTimer);
      stream.connectTimer = undefined;
      stream.connected = true;
      this.counters.tcpConnected++;
      const queued = stream.queue;
      stream.queue = [];
      for (const frame of queued) this.writeFrame(stream, frame);
      // no write progress for this long: idle (close it) or stalled by a peer that does not read
      socket.setTimeout(this.options.idleTimeoutMs);
    });
    socket.on('timeout', () => this.closeStream(stream, 'tcp_error', stream.pendingBytes > 0 ? 'write stalled' : undefined));
    // a receiver never writes back: bytes from it are a protocol violation, not something to buffer
    socket.on('data', () => this.closeStream(stream, 'tcp_error', 'peer wrote on a send-only stream'));
    socket.on('end', () => this.closeStream(stream, 'tcp_error', stream.pendingBytes > 0 ? 'peer closed' : undefined));
    socket.on('error', (err) => this.closeStream(stream, 'tcp_error', err.message));
    socket.on('close', () => this.streamClosed(stream));
    return stream;
  }

  private writeFrame(stream: OutboundStream, frame: Buffer): void {
    stream.socket.write(frame, (err) => {
      if (stream.closed) return;
      this.settle(stream, frame.length);
      if (err !== null && err !== undefined) {
        this.dropOut(stream.failure, stream.peer, stream.problem ?? err.message);
        return;
      }
      this.counters.tcpFramesOut++;
      this.counters.tcpBytesOut += frame.length;
    });
  }

  private settle(stream: OutboundStream, bytes: number): void {
    stream.pendingFrames--;
    stream.pendingBytes -= bytes;
    this.pendingBytes -= bytes;
  }

  /** Frees a slot by closing a stream with nothing pending; false when every stream is busy. */
  private closeAnIdleStream(): boolean {
    for (const stream of this.outbound.values()) {
      if (stream.connected && stream.pendingBytes === 0) {
        this.closeStream(stream, 'tcp_error');
        return true;
      }
    }
    return false;
  }

  /**
   * Takes the stream out of use at once (the next send opens a new one) and destroys its socket.
   * With nothing pending this is an orderly close: every byte was handed to the kernel, which
   * still delivers it before the FIN.
   */
  private closeStream(stream: OutboundStream, failure: SendDropReason, problem?: string): void {
    if (this.outbound.get(stream.peer) === stream) this.outbound.delete(stream.peer);
    if (stream.socket.destroyed) return;
    stream.failure = failure;
    stream.problem = problem;
    stream.socket.destroy();
  }

  /** Charges every frame still pending to the stream's failure reason and releases its bytes. */
  private streamClosed(stream: OutboundStream): void {
    if (stream.closed) return;
    stream.closed = true;
    clearTimeout(stream.connectTimer);
    if (this.outbound.get(stream.peer) === stream) this.outbound.delete(stream.peer);
    const frames = stream.pendingFrames;
    if (frames > 0) {
      this.sendDrops[stream.failure] += frames;
      this.notify({ direction: 'out', reason: stream.failure, peer: stream.peer, problem: `${frames} frame(s) not written${stream.problem === undefined ? '' : `: ${stream.problem}`}` });
    }
    this.pendingBytes -= stream.pendingBytes;
    stream.pendingFrames = 0;
    stream.pendingBytes = 0;
    stream.queue = [];
  }

  // ------------------------------------------------------------------ receiving

  private accept(socket: Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    this.counters.tcpAccepted++;
    const connection: InboundConnection = { socket, reader: new FrameReader(this.options.maxFrameBytes), counted: 0, frameTimer: undefined, closed: false };
    this.inbound.add(connection);
    // the first frame is due within frameTimeoutMs of accept: a silent connection holds a slot no longer
    this.armFrameTimer(connection);
    // between frames; a sender's stream idles out first (idleTimeoutMs), so it is the one to close
    socket.setTimeout(2 * this.options.idleTimeoutMs);
    socket.on('data', (chunk: Buffer) => this.onInboundData(connection, chunk));
    socket.on('timeout', () => {
      if (connection.reader.bufferedBytes > 0) this.dropIn('read_timeout', 'tcp');
      this.closeInbound(connection);
    });
    socket.on('end', () => {
      if (connection.reader.bufferedBytes > 0) this.dropIn('truncated_frame', 'tcp');
      this.closeInbound(connection);
    });
    socket.on('error', () => this.closeInbound(connection));
    socket.on('close', () => this.closeInbound(connection));
  }

  private onInboundData(connection: InboundConnection, chunk: Buffer): void {
    if (connection.closed) return;
    if (this.inboundBuffered + chunk.length > this.options.maxInboundBufferedBytes) {
      this.dropIn('inbound_budget', 'tcp');
      this.closeInbound(connection);
      return;
    }
    this.counters.tcpBytesIn += chunk.length;
    let frames = 0;
    const result = connection.reader.push(chunk, (packet) => {
      frames++;
      this.counters.tcpFramesIn++;
      this.receive(packet, 'tcp', connection);
    });
    const held = connection.reader.bufferedBytes;
    this.inboundBuffered += held - connection.counted;
    connection.counted = held;
    if (result === 'oversize') {
      this.dropIn('oversize_frame', 'tcp');
      this.closeInbound(connection);
      return;
    }
    if (connection.closed) return;
    // a frame must arrive whole within frameTimeoutMs of its first byte: slow senders are cut off
    if (held === 0) this.clearFrameTimer(connection);
    else if (frames > 0 || connection.frameTimer === undefined) this.armFrameTimer(connection);
  }

  private armFrameTimer(connection: InboundConnection): void {
    this.clearFrameTimer(connection);
    connection.frameTimer = setTimeout(() => {
      connection.frameTimer = undefined;
      this.dropIn('read_timeout', 'tcp');
      this.closeInbound(connection);
    }, this.options.frameTimeoutMs);
  }

  private clearFrameTimer(connection: InboundConnection): void {
    if (connection.frameTimer !== undefined) clearTimeout(connection.frameTimer);
    connection.frameTimer = undefined;
  }

  private closeInbound(connection: InboundConnection): void {
    if (connection.closed) return;
    connection.closed = true;
    this.inbound.delete(connection);
    this.clearFrameTimer(connection);
    connection.reader.release();
    this.inboundBuffered -= connection.counted;
    connection.counted = 0;
    connection.socket.destroy();
  }


  /**
   * One packet, from a datagram or a frame: decode, check, deliver. A TCP connection that sends
   * a packet failing authentication or decoding is closed (only a key holder may keep one open);
   * one whose message fails the check stays, as a UDP peer would.
   */
  private receive(packet: Buffer, via: 'udp' | 'tcp', connection: InboundConnection | undefined): void {
    if (this.closed) return;
    const decoded = this.codec.decode(packet);
    if (!decoded.ok) {
      this.dropIn(decoded.reason, via, decoded.from, decoded.problem);
      if (connection !== undefined) this.closeInbound(connection);
      return;
    }
    const { from, to, msg } = decoded.envelope;
    if (!this.acceptedDestinations.has(to) || from === this.id) {
      this.dropIn(from === this.id ? 'from_self' : 'wrong_destination', via, from, `to ${to}`);
      if (connection !== undefined) this.closeInbound(connection);
      return;
    }
    if (this.isolated.has(from)) {
      this.dropIn('fault', via, from);
      return;
    }
    let problem: string | undefined;
    try {
      problem = this.options.check(msg);
    } catch (cause) {
      problem = `the check threw: ${cause instanceof Error ? cause.message : String(cause)}`;
    }
    if (problem !== undefined) {
      this.dropIn('check_failed', via, from, problem);
      return;
    }
    if (this.handlers.size === 0) {
      this.dropIn('no_handler', via, from);
      return;
    }
    this.counters.messagesIn++;
    for (const handler of [...this.handlers]) {
      try {
        handler(from, msg as M);
      } catch {
        this.counters.handlerErrors++;
      }
    }
  }

  // ------------------------------------------------------------------ accounting

  private dropIn(reason: InboundDropReason, via: 'udp' | 'tcp', peer?: string, problem?: string): void {
    this.drops[reason]++;
    const event = { direction: 'in' as const, reason, via, ...(peer === undefined ? {} : { peer }), ...(problem === undefined ? {} : { problem }) };
    this.notify(event);
  }

  private dropOut(reason: SendDropReason, peer: string, problem?: string): SendResult {
    this.sendDrops[reason]++;
    this.notify({ direction: 'out', reason, peer, ...(problem === undefined ? {} : { problem }) });
    return { ok: false, reason };
  }

  private notify(event: DropEvent): void {
    const onDrop = this.options.onDrop;
    if (onDrop === undefined) return;
    try {
      onDrop(event);
    } catch {
      // a logging hook must not take the transport down
    }
  }

  private requireFaults(): void {
    if (!this.options.faultInjection) failGossipNet('GOSSIP_NET_FAULTS_DISABLED', 'start the transport with faultInjection: true to use isolate/heal');
  }
}

/** Binds TCP (port 0: an ephemeral port) and then UDP on the same port, retrying ephemeral ports taken for UDP. */
async function bindBoth(host: string, port: number): Promise<{ udp: UdpSocket; server: Server; port: number }> {
  let lastError: unknown;
  for (let attempt = 0; attempt < (port === 0 ? BIND_ATTEMPTS : 1); attempt++) {
    const server = createServer({ noDelay: true });
    try {
      await listen(server, host, port);
    } catch (cause) {
      return failGossipNet('GOSSIP_NET_IO', `cannot listen on TCP ${host}:${port}: ${describe(cause)}`, cause);
    }
    const bound = (server.address() as AddressInfo).port;
    const udp = createSocket({ type: 'udp4' });
    try {
      await bindUdp(udp, host, bound);
      return { udp, server, port: bound };
    } catch (cause) {
      lastError = cause;
      await new Promise<void>((resolve) => server.close(() => resolve()));
      try {
        udp.close();
      } catch {
        // never bound
      }
    }
  }
  return failGossipNet('GOSSIP_NET_IO', `cannot bind UDP ${host}:${port}: ${describe(lastError)}`, lastError);
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function bindUdp(udp: UdpSocket, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    udp.once('error', reject);
    udp.bind({ address: host, port, exclusive: true }, () => {
      udp.off('error', reject);
      resolve();
    });
  });
}

function describe(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}
