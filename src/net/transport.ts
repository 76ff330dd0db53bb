// The peer transport a node process uses to carry protocol-core messages between members: one
// listening socket for peers' connections to us, one outbound link per peer for ours to them,
// membership changes, metrics, graceful close and (in tests only) the fault-injection hook.
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Message, NodeId } from '../core/index.js';
import { AdmissionTable, addressGroup } from './admission.js';
import { encodeMessageFrame, isValidNodeId } from './codec.js';
import type { ConnectionContext, IdentityHooks } from './connection.js';
import { NetError, describeCause, failNet } from './errors.js';
import { DelayLine, FaultController } from './faults.js';
import { FRAME_HEADER_BYTES } from './frame.js';
import { RecentNonces } from './handshake.js';
import { InboundConnection, type InboundHost } from './inbound.js';
import { RateLimitedLog, boundLogger, type Log } from './log.js';
import { MetricsRegistry, type SendRefusal, type TransportMetrics } from './metrics.js';
import { address, resolveOptions, type MessageHandler, type PeerAddress, type RefusalHandler, type ResolvedOptions, type TransportOptions } from './options.js';
import { OutboundLink } from './outbound.js';
import { TlsState, type TlsMaterial } from './tls.js';

/** `send` never throws for a bad destination or message; it says why it refused. */
export type SendResult = { readonly ok: true } | { readonly ok: false; readonly reason: SendRefusal };

const SENT: SendResult = { ok: true };
/** Valid hellos remembered against replay; far more than members handshake within a handshake timeout. */
const RECENT_HELLOS = 4096;

export class Transport<M extends Message = Message> {
  private readonly ctx: ConnectionContext;
  private readonly metricsRegistry = new MetricsRegistry();
  private readonly log: Log;
  private readonly limitedLog: RateLimitedLog;
  private readonly links = new Map<NodeId, OutboundLink>();
  private readonly inbound = new Map<NodeId, InboundConnection>();
  private readonly accepted = new Set<InboundConnection>();
  private readonly pending: AdmissionTable<InboundConnection>;
  private readonly recentHellos = new RecentNonces(RECENT_HELLOS);
  private readonly handlers = new Set<MessageHandler<M>>();
  private readonly refusalHandlers = new Set<RefusalHandler>();
  private readonly faultController: FaultController | null;
  private readonly delays: DelayLine;
  private readonly server: Server;
  private readonly tls: TlsState | null;
  private state: 'starting' | 'running' | 'closing' | 'closed' = 'starting';
  private closed: Promise<void> | null = null;

  private constructor(private readonly options: ResolvedOptions) {
    this.limitedLog = new RateLimitedLog(boundLogger(options.selfId, options.logger), options.logRateLimit, options.timers, options.now);
    this.log = this.limitedLog.log;
    this.tls = options.tls === null ? null : new TlsState(options.tls, options.tls.requireNodeId === true, options.handshakeTimeoutMs);
    this.ctx = { options, metrics: this.metricsRegistry, log: this.log, identity: this.identityHooks, tls: this.tls };
    this.pending = new AdmissionTable({ maxPending: options.maxPendingHandshakes, maxPerGroup: options.maxPendingHandshakesPerAddress });
    this.metricsRegistry.pendingHandshakes = () => this.pending.size;
    this.delays = new DelayLine(options.timers, options.maxDelayedMessages);
    this.faultController = options.faultInjection ? new FaultController(options.selfId, options.random, (state) => this.onFaultsChanged(state)) : null;
    this.server = createServer((socket) => this.accept(socket));
  }

  /** Validates the options, listens, and starts dialing every peer. Fails with NET_INVALID_OPTION or NET_IO. */
  static async start<M extends Message = Message>(options: TransportOptions<M>): Promise<Transport<M>> {
    const transport = new Transport<M>(resolveOptions(options));
    if (options.onMessage !== undefined) transport.onMessage(options.onMessage);
    if (options.onRefused !== undefined) transport.onRefused(options.onRefused);
    await transport.listen();
    for (const [id, addr] of transport.options.peers) transport.addPeer(id, addr);
    return transport;
  }

  get selfId(): NodeId {
    return this.options.selfId;
  }

  /** The address actually bound (the real port when `listen.port` was 0). */
  get address(): PeerAddress {
    const bound = this.server.address() as AddressInfo | null;
    return { host: this.options.listen.host, port: bound?.port ?? this.options.listen.port };
  }

  /** The fault-injection hook; throws NET_FAULTS_DISABLED unless started with `faultInjection: true`. */
  get faults(): FaultController {
    if (this.faultController === null) return failNet('NET_FAULTS_DISABLED', 'start the transport with faultInjection: true to use faults');
    return this.faultController;
  }

  /**
   * Queues `message` for `to`. Messages to one peer leave in the order sent. Delivery is not
   * guaranteed (a full queue drops its oldest messages, a broken connection loses what was in
   * flight): the protocol above retransmits, as Raft does.
   */
  send(to: NodeId, message: M): SendResult {
    if (this.state !== 'running') return this.refuse('closed', to);
    const link = this.links.get(to);
    if (link === undefined) return this.refuse('unknown_peer', to);
    // The receiver closes a connection that carries a message without a string type; refuse it here instead.
    if (typeof message !== 'object' || message === null || typeof message.type !== 'string') return this.refuse('encode_failed', to, 'message has no string type');
    let frame: Buffer;
    try {
      frame = encodeMessageFrame(message);
    } catch (error) {
      return this.refuse('encode_failed', to, describeCause(error));
    }
    if (frame.length - FRAME_HEADER_BYTES > this.options.maxFrameBytes) {
      return this.refuse('too_large', to, `${frame.length - FRAME_HEADER_BYTES} bytes > maxFrameBytes ${this.options.maxFrameBytes}`);
    }
    const decision = this.faultController?.decide(to, 'out');
    if (decision === undefined || decision.action === 'pass') link.enqueue(frame);
    else if (decision.action === 'drop') this.metricsRegistry.count('faultDrops', to);
    else this.hold(to, decision.delayMs, () => this.links.get(to)?.enqueue(frame));
    return SENT;
  }

  /** Registers a handler for every message received; returns a function that unregisters it. */
  onMessage(handler: MessageHandler<M>): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  /**
   * Registers a handler for authenticated refusals of this node by a member: `identity_changed`
   * (the member's checkPeerIncarnation refused this node's incarnation: to it, this node lost its
   * data) or `unknown_peer` (the member does not count this node among its peers). Only refusals
   * carrying a MAC that binds the connection's nonces reach it; a stranger cannot forge one.
   * Returns a function that unregisters it.
   */
  onRefused(handler: RefusalHandler): () => void {
    this.refusalHandlers.add(handler);
    return () => this.refusalHandlers.delete(handler);
  }

  /**
   * Swaps this node's TLS key, certificate and trusted CAs for every connection made from now on,
   * dialed or accepted; established connections keep the material they were made with. Throws
   * NET_INVALID_OPTION (keeping the old material) if the new one is unusable (unreadable PEM, a
   * key that does not belong to the certificate), or if the transport was started without tls.
   * To rotate the CA, first give every member a bundle with both CAs, then new certificates,
   * then drop the old CA.
   */
  reloadTls(material: TlsMaterial): void {
    if (this.tls === null) failNet('NET_INVALID_OPTION', 'reloadTls needs a transport started with the tls option');
    this.tls.reload(material);
    this.log({ level: 'info', event: 'tls_reloaded', msg: 'TLS material reloaded: new connections use it' });
  }

  /** Adds a member (or moves one to a new address): we dial it and accept its connections. */
  addPeer(id: NodeId, peerAddress: PeerAddress): void {
    if (this.state === 'closing' || this.state === 'closed') failNet('NET_CLOSED', 'the transport is closed');
    if (!isValidNodeId(id)) failNet('NET_INVALID_OPTION', `peer id ${JSON.stringify(id)} is empty or longer than 255 bytes`);
    if (id === this.options.selfId) return;
    const addr = address(`peer ${id}`, peerAddress, false);
    const existing = this.links.get(id);
    if (existing !== undefined) {
      existing.setAddress(addr);
      return;
    }
    const link = new OutboundLink(id, addr, this.ctx);
    this.links.set(id, link);
    this.metricsRegistry.trackPeer(id, {
      connected: () => link.connected,
      inboundConnected: () => this.inbound.has(id),
      queuedMessages: () => link.queuedMessages,
      queuedBytes: () => link.queuedBytes,
    });
    this.log({ level: 'info', event: 'peer_added', msg: `peer ${id} at ${addr.host}:${addr.port}`, peer: id });
    link.start();
  }

  /** Removes a member: its queue is dropped (counted), its connections closed, its hellos refused. */
  removePeer(id: NodeId): void {
    const link = this.links.get(id);
    if (link === undefined) return;
    this.links.delete(id);
    link.terminate();
    this.inbound.get(id)?.close();
    this.inbound.delete(id);
    this.metricsRegistry.untrackPeer(id);
    this.log({ level: 'info', event: 'peer_removed', msg: `peer ${id} removed`, peer: id });
  }

  peerIds(): NodeId[] {
    return [...this.links.keys()];
  }

  /** A fresh snapshot of every counter, in total and per current peer. */
  metrics(): TransportMetrics {
    return this.metricsRegistry.snapshot();
  }

  /**
   * Stops accepting and sending, flushes every connected peer's queue until `deadlineMs`
   * (default: the closeDeadlineMs option), then closes all sockets. What is still queued then is
   * counted in queueDrops. Idempotent.
   */
  close(options: { readonly deadlineMs?: number } = {}): Promise<void> {
    this.closed ??= this.shutdown(options.deadlineMs ?? this.options.closeDeadlineMs);
    return this.closed;
  }

  // ---------------------------------------------------------------- inbound side

  private listen(): Promise<void> {
    const { host, port } = this.options.listen;
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => reject(new NetError('NET_IO', `cannot listen on ${host}:${port}: ${error.message}`, { cause: error }));
      this.server.once('error', onError);
      this.server.listen({ host, port }, () => {
        this.server.off('error', onError);
        this.server.on('error', (error) => this.log({ level: 'error', event: 'listening', msg: `server error: ${error.message}`, code: 'NET_IO' }));
        this.state = 'running';
        this.log({ level: 'info', event: 'listening', msg: `listening on ${host}:${this.address.port}`, detail: { port: this.address.port } });
        resolve();
      });
    });
  }

  /**
   * Every connection is admitted; when the pending table is full, a pending one is evicted
   * instead. Refusing newcomers would let anyone who holds the slots keep members out; evicting
   * means a stranger must out-pace a member's handshake (about one round trip) to keep it out.
   */
  private accept(socket: Socket): void {
    const remoteAddress = socket.remoteAddress;
    if (this.state !== 'running' || remoteAddress === undefined) {
      socket.on('error', () => {});
      socket.destroy();
      return;
    }
    const conn = new InboundConnection(socket, this.ctx, this.inboundHost);
    this.accepted.add(conn);
    const group = addressGroup(remoteAddress);
    const eviction = this.pending.admit(conn, group);
    if (eviction === null) return;
    this.metricsRegistry.evictedHandshakes += 1;
    const { victim, victimGroup, victimProgress, groupFull } = eviction;
    const why = groupFull ? `${this.options.maxPendingHandshakesPerAddress} pending from ${group}` : `${this.options.maxPendingHandshakes} pending in total`;
    this.log({
      level: 'warn',
      event: 'too_many_handshakes',
      msg: `closed the pending handshake of ${victim.remote} (${victimProgress === 'hello' ? 'waiting for its proof' : 'no hello yet'}) to admit ${conn.remote}: ${why}`,
      remote: victim.remote,
      detail: { admitted: conn.remote, evictedFrom: victimGroup, evictedAt: victimProgress, groupFull },
    });
    victim.close();
  }

  private readonly identityHooks: IdentityHooks = {
    accepts: (peer, incarnation) => {
      const check = this.options.checkPeerIncarnation;
      if (check === null) return true;
      try {
        return check(peer, incarnation) === 'accept';
      } catch (error) {
        // Refusing is the safe side: accepting could let a node that lost its data vote.
        this.metricsRegistry.handlerErrors += 1;
        this.log({ level: 'error', event: 'handler_error', msg: `checkPeerIncarnation threw for ${peer}; refusing it: ${describeCause(error)}`, peer });
        return false;
      }
    },
    refusedBy: (peer, reason, remote) => {
      this.metricsRegistry.count('refusedByPeer', peer);
      this.log({
        level: 'warn',
        event: 'refused_by_peer',
        msg: reason === 'identity_changed' ? `${peer} refuses this node's incarnation: to it, this node lost its data` : `${peer} does not count this node as a member`,
        peer,
        remote,
        code: reason === 'identity_changed' ? 'NET_IDENTITY_REFUSED' : 'NET_UNKNOWN_PEER',
        detail: { reason, incarnation: this.options.incarnation },
      });
      for (const handler of this.refusalHandlers) {
        try {
          handler(peer, reason);
        } catch (error) {
          this.metricsRegistry.handlerErrors += 1;
          this.log({ level: 'error', event: 'handler_error', msg: `onRefused handler threw: ${describeCause(error)}`, peer });
        }
      }
    },
  };

  private readonly inboundHost: InboundHost = {
    isMember: (id) => this.links.has(id),
    rememberHello: (nonce) => this.recentHellos.remember(nonce),
    progress: (conn, progress) => this.pending.advance(conn, progress),
    adopt: (conn) => this.adopt(conn),
    deliver: (from, message) => this.deliver(from, message as M),
    release: (conn) => this.release(conn),
  };

  /** A newer authenticated connection from the same peer replaces the older (the peer restarted or redialed). */
  private adopt(conn: InboundConnection): void {
    this.pending.remove(conn);
    const peer = conn.peer as NodeId;
    const previous = this.inbound.get(peer);
    this.inbound.set(peer, conn);
    if (previous === undefined) return;
    this.log({ level: 'info', event: 'inbound_replaced', msg: `new connection from ${peer} replaces the old one`, peer, remote: conn.remote });
    previous.close();
  }

  private release(conn: InboundConnection): void {
    this.accepted.delete(conn);
    this.pending.remove(conn);
    const peer = conn.peer;
    if (peer !== null && this.inbound.get(peer) === conn) this.inbound.delete(peer);
  }

  private deliver(from: NodeId, message: M): void {
    if (this.state !== 'running') return;
    this.metricsRegistry.count('messagesIn', from);
    const decision = this.faultController?.decide(from, 'in');
    if (decision === undefined || decision.action === 'pass') this.dispatch(from, message);
    else if (decision.action === 'drop') this.metricsRegistry.count('faultDrops', from);
    else this.hold(from, decision.delayMs, () => this.dispatch(from, message));
  }

  private dispatch(from: NodeId, message: M): void {
    if (this.state !== 'running') return;
    if (this.handlers.size === 0) {
      this.metricsRegistry.unhandledMessages += 1;
      return;
    }
    for (const handler of this.handlers) {
      try {
        handler(from, message);
      } catch (error) {
        this.metricsRegistry.handlerErrors += 1;
        this.log({ level: 'error', event: 'handler_error', msg: `message handler threw on ${message.type} from ${from}: ${describeCause(error)}`, peer: from });
      }
    }
  }

  // ---------------------------------------------------------------- faults and close

  private hold(peer: NodeId, delayMs: number, deliver: () => void): void {
    if (this.delays.hold(delayMs, deliver)) this.metricsRegistry.count('faultDelays', peer);
    else this.metricsRegistry.count('faultDrops', peer);
  }

  private onFaultsChanged(state: ReturnType<FaultController['state']>): void {
    this.log({ level: 'info', event: 'faults_changed', msg: `faults: partitioned from [${state.partitionedFrom.join(', ')}]`, detail: { state: JSON.stringify(state) } });
  }

  private refuse(reason: SendRefusal, to: NodeId, why?: string): SendResult {
    this.metricsRegistry.sendRefusals[reason] += 1;
    if (reason === 'too_large' || reason === 'encode_failed') {
      this.log({ level: 'warn', event: 'frame_error', msg: `refused a message to ${to}: ${reason}${why === undefined ? '' : ` (${why})`}`, peer: to });
    }
    return { ok: false, reason };
  }

  private async shutdown(deadlineMs: number): Promise<void> {
    this.state = 'closing';
    const serverClosed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const conn of this.accepted) if (!conn.authenticated) conn.close();
    const droppedDelayed = this.delays.clear();
    if (droppedDelayed > 0) this.metricsRegistry.count('faultDrops', null, droppedDelayed);
    await Promise.all([...this.links.values()].map((link) => link.shutdown(deadlineMs)));
    for (const conn of this.accepted) conn.close();
    await serverClosed;
    this.state = 'closed';
    this.limitedLog.flush();
    this.log({ level: 'info', event: 'closed', msg: 'transport closed', detail: { queueDrops: this.metricsRegistry.total.queueDrops } });
  }
}
