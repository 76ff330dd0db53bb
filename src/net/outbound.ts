// The link to one peer for the messages this node sends it: a bounded queue, the dialing side of
// the handshake, batched flushing with socket backpressure, liveness pings, and reconnection
// with jittered backoff. Each link owns at most one socket; messages on it stay in order.
import { connect } from 'node:net';
import type { NodeId } from '../core/index.js';
import { Backoff } from './backoff.js';
import { PROTOCOL_VERSION, encodeWireFrame, type WireFrame } from './codec.js';
import { Connection, reportFailure, type ConnectionContext } from './connection.js';
import { NetError } from './errors.js';
import { computeProof, newNonce, verifyProof, type HandshakeTranscript } from './handshake.js';
import type { PeerAddress, TimerHandle } from './options.js';
import { FrameQueue } from './queue.js';
import { tlsError, tlsFailure } from './tls.js';

type LinkState = 'idle' | 'dialing' | 'open' | 'backoff' | 'closing' | 'closed';
type HandshakeStep = 'connect' | 'challenge' | 'welcome' | 'done';

const PING_FRAME = encodeWireFrame({ kind: 'ping' });

export class OutboundLink {
  private state: LinkState = 'idle';
  private conn: Connection | null = null;
  private step: HandshakeStep = 'connect';
  private dialerNonce: Buffer = Buffer.alloc(0);
  private acceptorNonce: Uint8Array = new Uint8Array(0);
  private acceptorIncarnation = '';
  private readonly queue: FrameQueue;
  private readonly backoff: Backoff;
  private readonly timers = new Map<'retry' | 'handshake' | 'ping' | 'deadline', TimerHandle>();
  private hasConnected = false;
  /** The current socket's TCP connection is up (with TLS, the TLS handshake may still run). */
  private tcpConnected = false;
  private flushScheduled = false;
  /** A flush already went out early in this loop turn; see scheduleFlush. */
  private flushedThisTurn = false;
  private waitingForDrain = false;
  private overflowDrops = 0;
  private closeResolve: (() => void) | null = null;

  constructor(
    readonly peer: NodeId,
    private address: PeerAddress,
    private readonly ctx: ConnectionContext,
  ) {
    const { options } = ctx;
    this.queue = new FrameQueue({ maxMessages: options.maxQueueMessages, maxBytes: options.maxQueueBytes });
    this.backoff = new Backoff(options.backoff, options.random);
  }

  get connected(): boolean {
    return this.state === 'open';
  }

  get queuedMessages(): number {
    return this.queue.length;
  }

  get queuedBytes(): number {
    return this.queue.bytes;
  }

  start(): void {
    if (this.state === 'idle') this.dial();
  }

  /** Queues an encoded message frame (dropping the oldest if full) and schedules a flush. */
  enqueue(frame: Buffer): void {
    if (this.state === 'closed' || this.state === 'closing') {
      this.countDropped(1, frame.length);
      return;
    }
    const { droppedMessages, droppedBytes } = this.queue.push(frame);
    if (droppedMessages > 0) this.onOverflow(droppedMessages, droppedBytes);
    if (this.state === 'open') this.scheduleFlush();
  }

  /** A membership change moved the peer: drop the current socket and dial the new address now. */
  setAddress(address: PeerAddress): void {
    if (address.host === this.address.host && address.port === this.address.port) return;
    this.address = address;
    if (this.state === 'closed' || this.state === 'closing') return;
    this.detach();
    this.dial();
  }

  /**
   * Graceful close: flushes the queue and half-closes the socket, resolving when the peer has
   * closed its side or at `deadlineMs`, when whatever is still queued is counted as dropped.
   */
  shutdown(deadlineMs: number): Promise<void> {
    if (this.state !== 'open' || this.conn === null) {
      this.terminate();
      return Promise.resolve();
    }
    this.state = 'closing';
    this.clearTimer('ping');
    return new Promise((resolve) => {
      this.closeResolve = resolve;
      this.setTimer('deadline', deadlineMs, () => this.terminate());
      this.flush();
    });
  }

  /** Closes at once; queued frames are counted as dropped. */
  terminate(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.detach();
    const { droppedMessages, droppedBytes } = this.queue.clear();
    this.countDropped(droppedMessages, droppedBytes);
    this.finishClose();
  }

  // ---------------------------------------------------------------- dialing and handshake

  private dial(): void {
    this.state = 'dialing';
    this.step = 'connect';
    this.tcpConnected = false;
    const tls = this.ctx.tls;
    const socket = tls === null ? connect({ host: this.address.host, port: this.address.port }) : tls.connect(this.address, this.peer);
    const conn: Connection = new Connection(socket, this.ctx, {
      onFrame: (frame) => this.onFrame(conn, frame),
      onClose: (error) => this.onClosed(conn, error),
    });
    conn.peer = this.peer;
    this.conn = conn;
    this.setTimer('handshake', this.ctx.options.handshakeTimeoutMs, () =>
      conn.fail(new NetError('NET_HANDSHAKE_TIMEOUT', `no authenticated connection to ${this.peer} within ${this.ctx.options.handshakeTimeoutMs} ms`)),
    );
    socket.once('connect', () => {
      if (conn !== this.conn) return;
      this.tcpConnected = true;
      if (tls === null) this.sendHello(conn);
    });
    // With TLS the hello waits for the acceptor's certificate to verify (CA, node id, host).
    if (tls !== null) socket.once('secureConnect', () => this.sendHello(conn));
  }

  private sendHello(conn: Connection): void {
    if (conn !== this.conn) return;
    const { selfId, clusterId, incarnation, secret } = this.ctx.options;
    this.dialerNonce = newNonce();
    this.acceptorNonce = new Uint8Array(0);
    this.acceptorIncarnation = '';
    this.step = 'challenge';
    const ticket = computeProof(secret, 'ticket', this.transcript());
    conn.writeFrame(encodeWireFrame({ kind: 'hello', version: PROTOCOL_VERSION, from: selfId, to: this.peer, nonce: this.dialerNonce, clusterId, incarnation, ticket }));
  }

  private onFrame(conn: Connection, frame: WireFrame): void {
    if (conn !== this.conn) return;
    if (frame.kind === 'refuse') return this.onRefused(conn, frame);
    if (this.step === 'challenge' && frame.kind === 'challenge') return this.answerChallenge(conn, frame.nonce);
    if (this.step === 'welcome' && frame.kind === 'welcome') return this.checkWelcome(conn, frame.proof, frame.incarnation);
    if (this.step === 'done' && frame.kind === 'pong') return;
    throw new NetError('NET_FRAME_MALFORMED', `unexpected ${frame.kind} frame from ${this.peer} at handshake step ${this.step}`);
  }

  private transcript(): HandshakeTranscript {
    const { selfId, clusterId, incarnation } = this.ctx.options;
    return {
      clusterId,
      dialer: selfId,
      acceptor: this.peer,
      dialerIncarnation: incarnation,
      dialerNonce: this.dialerNonce,
      acceptorNonce: this.acceptorNonce,
      acceptorIncarnation: this.acceptorIncarnation,
    };
  }

  private answerChallenge(conn: Connection, acceptorNonce: Uint8Array): void {
    this.acceptorNonce = acceptorNonce;
    this.step = 'welcome';
    conn.writeFrame(encodeWireFrame({ kind: 'proof', proof: computeProof(this.ctx.options.secret, 'dialer', this.transcript()) }));
  }

  private checkWelcome(conn: Connection, proof: Uint8Array, acceptorIncarnation: string): void {
    this.acceptorIncarnation = acceptorIncarnation;
    const transcript = this.transcript();
    const { secret } = this.ctx.options;
    if (!verifyProof(secret, 'acceptor', transcript, proof)) {
      throw new NetError('NET_AUTH_FAILED', `${this.peer} failed to prove the cluster secret`);
    }
    // The acceptor has proved the secret, so it can be told why it is refused, with a MAC.
    if (!this.ctx.identity.accepts(this.peer, acceptorIncarnation)) {
      this.ctx.metrics.count('incarnationRefusals', this.peer);
      const reason = 'identity_changed';
      conn.fail(
        new NetError('NET_IDENTITY_REFUSED', `refused ${this.peer}: its incarnation ${JSON.stringify(acceptorIncarnation)} was refused by checkPeerIncarnation`),
        encodeWireFrame({ kind: 'refuse', reason, mac: computeProof(secret, 'dialer-refusal', transcript, reason) }),
        { incarnation: acceptorIncarnation },
      );
      return;
    }
    this.step = 'done';
    this.open(conn);
  }

  /**
   * A refusal acts (onRefused) only when its MAC proves the acceptor holds the secret and binds
   * this connection's nonces: possible only after our proof. Anything else may come from anyone
   * on the path, so it is only logged and counted, and we redial as after any failure.
   */
  private onRefused(conn: Connection, frame: Extract<WireFrame, { kind: 'refuse' }>): void {
    const { reason, mac } = frame;
    const afterProof = this.step === 'welcome';
    if (mac !== null && afterProof && (reason === 'identity_changed' || reason === 'unknown_peer') && verifyProof(this.ctx.options.secret, 'acceptor-refusal', this.transcript(), mac, reason)) {
      this.ctx.identity.refusedBy(this.peer, reason, conn.remote);
      conn.closeWith(new NetError(reason === 'identity_changed' ? 'NET_IDENTITY_REFUSED' : 'NET_UNKNOWN_PEER', `${this.peer} refused this node (authenticated): ${reason}`));
      return;
    }
    const unverified = mac === null ? '' : ' (its MAC does not verify: ignored)';
    if (reason === 'certificate') throw tlsError('REFUSED_BY_PEER', `${this.peer} refused our TLS certificate (its log says why: expired, another CA, another node id)${unverified}`);
    const code = reason === 'version' ? 'NET_VERSION_MISMATCH' : reason === 'wrong_cluster' ? 'NET_WRONG_CLUSTER' : 'NET_AUTH_FAILED';
    throw new NetError(code, `${this.peer} refused the handshake: ${reason}${unverified}`, { detail: { reason } });
  }

  private open(conn: Connection): void {
    this.clearTimer('handshake');
    this.state = 'open';
    this.waitingForDrain = false;
    const { metrics, options } = this.ctx;
    metrics.count('connects', this.peer);
    if (this.hasConnected) metrics.count('reconnects', this.peer);
    const attempts = this.backoff.attempts;
    this.hasConnected = true;
    this.backoff.reset();
    this.ctx.log({
      level: 'info',
      event: 'connected',
      msg: `connected to ${this.peer}`,
      peer: this.peer,
      remote: conn.remote,
      detail: { failedAttempts: attempts, queued: this.queue.length, incarnation: this.acceptorIncarnation, tls: this.ctx.tls !== null },
    });
    if (options.pingIntervalMs > 0) this.schedulePing(conn);
    this.scheduleFlush();
  }

  // ---------------------------------------------------------------- failure and retry

  private onClosed(conn: Connection, socketError: NetError | null): void {
    if (conn !== this.conn) return;
    this.conn = null;
    this.clearTimer('handshake');
    this.clearTimer('ping');
    const wasOpen = this.state === 'open' || this.state === 'closing';
    if (wasOpen) this.ctx.metrics.count('disconnects', this.peer);
    let error = socketError;
    // A socket error between TCP connect and the hello is the TLS handshake or the verification
    // of the acceptor's certificate failing: report it as such, with OpenSSL's reason.
    if (this.ctx.tls !== null && this.step === 'connect' && this.tcpConnected && error?.code === 'NET_IO') {
      error = tlsFailure(`TLS handshake with ${this.peer} failed`, error.cause);
      reportFailure(this.ctx, error, { remote: `${this.address.host}:${this.address.port}`, peer: this.peer });
    }
    this.logClose(wasOpen, error);
    if (this.state === 'closing' || this.state === 'closed') return this.terminate();
    this.scheduleRetry();
  }

  private logClose(wasOpen: boolean, error: NetError | null): void {
    const reason = error === null ? 'closed by peer' : error.message;
    const first = wasOpen || this.backoff.attempts === 0;
    this.ctx.log({
      level: wasOpen ? 'warn' : first ? 'info' : 'debug',
      event: wasOpen ? 'disconnected' : 'connect_failed',
      msg: `${wasOpen ? 'lost connection to' : 'could not connect to'} ${this.peer}: ${reason}`,
      peer: this.peer,
      remote: `${this.address.host}:${this.address.port}`,
      ...(error === null ? {} : { code: error.code }),
      detail: { attempt: this.backoff.attempts + 1, queued: this.queue.length },
    });
  }

  private scheduleRetry(): void {
    this.state = 'backoff';
    this.setTimer('retry', this.backoff.nextDelayMs(), () => this.dial());
  }

  private schedulePing(conn: Connection): void {
    const { pingIntervalMs, peerTimeoutMs, now } = this.ctx.options;
    this.setTimer('ping', pingIntervalMs, () => {
      if (conn !== this.conn || this.state !== 'open') return;
      const silentMs = now() - conn.lastHeardMs;
      if (silentMs > peerTimeoutMs) {
        conn.fail(new NetError('NET_PEER_TIMEOUT', `${this.peer} has not answered for ${Math.round(silentMs)} ms`));
        return;
      }
      conn.writeFrame(PING_FRAME);
      this.schedulePing(conn);
    });
  }

  /** Forgets the current socket without scheduling anything. */
  private detach(): void {
    for (const name of ['retry', 'handshake', 'ping', 'deadline'] as const) this.clearTimer(name);
    const conn = this.conn;
    this.conn = null;
    conn?.destroy();
  }

  private finishClose(): void {
    const resolve = this.closeResolve;
    this.closeResolve = null;
    resolve?.();
  }

  // ---------------------------------------------------------------- flushing

  private scheduleFlush(): void {
    if (this.flushScheduled || this.waitingForDrain) return;
    this.flushScheduled = true;
    const run = (): void => {
      this.flushScheduled = false;
      this.flush();
    };
    // The first flush of a loop turn goes as soon as the code that sent is done (a microtask):
    // a lone message, such as a follower's answer, does not wait for the end of the turn. Later
    // sends of the same turn wait for its end (setImmediate) and leave in one write: a leader
    // handling 64 reads in one turn sends each follower one batch of heartbeats, not 64 writes.
    if (this.flushedThisTurn) {
      setImmediate(run);
      return;
    }
    this.flushedThisTurn = true;
    setImmediate(() => (this.flushedThisTurn = false));
    queueMicrotask(run);
  }

  private flush(): void {
    const conn = this.conn;
    if (conn === null || (this.state !== 'open' && this.state !== 'closing') || this.waitingForDrain) return;
    while (this.queue.length > 0) {
      const { frames, bytes } = this.takeBatch();
      this.ctx.metrics.count('messagesOut', this.peer, frames.length);
      if (!conn.writeBatch(frames, bytes)) {
        this.waitingForDrain = true;
        conn.onceDrained(() => this.onDrained(conn));
        return;
      }
    }
    this.onQueueEmpty(conn);
  }

  private onDrained(conn: Connection): void {
    if (conn !== this.conn) return;
    this.waitingForDrain = false;
    this.flush();
  }

  private onQueueEmpty(conn: Connection): void {
    if (this.overflowDrops > 0) {
      this.ctx.log({ level: 'info', event: 'queue_recovered', msg: `queue to ${this.peer} drained after dropping ${this.overflowDrops} messages`, peer: this.peer, detail: { dropped: this.overflowDrops } });
      this.overflowDrops = 0;
    }
    if (this.state === 'closing') conn.end();
  }

  private takeBatch(): { frames: Buffer[]; bytes: number } {
    const frames: Buffer[] = [];
    let bytes = 0;
    let next = this.queue.peek();
    while (next !== undefined && (frames.length === 0 || bytes + next.length <= this.ctx.options.maxBatchBytes)) {
      this.queue.shift();
      frames.push(next);
      bytes += next.length;
      next = this.queue.peek();
    }
    return { frames, bytes };
  }

  // ---------------------------------------------------------------- bookkeeping

  private onOverflow(droppedMessages: number, droppedBytes: number): void {
    this.countDropped(droppedMessages, droppedBytes);
    // One warning per overflow episode, not per message: a dead peer would otherwise flood the log.
    if (this.overflowDrops === 0) {
      this.ctx.log({
        level: 'warn',
        event: 'queue_overflow',
        msg: `queue to ${this.peer} is full; dropping oldest messages`,
        peer: this.peer,
        detail: { queuedMessages: this.queue.length, queuedBytes: this.queue.bytes, connected: this.state === 'open' },
      });
    }
    this.overflowDrops += droppedMessages;
  }

  private countDropped(messages: number, bytes: number): void {
    if (messages === 0) return;
    this.ctx.metrics.count('queueDrops', this.peer, messages);
    this.ctx.metrics.count('queueDropBytes', this.peer, bytes);
  }

  private setTimer(name: 'retry' | 'handshake' | 'ping' | 'deadline', delayMs: number, callback: () => void): void {
    this.clearTimer(name);
    const handle = this.ctx.options.timers.setTimeout(() => {
      if (this.timers.get(name) === handle) this.timers.delete(name);
      callback();
    }, delayMs);
    this.timers.set(name, handle);
  }

  private clearTimer(name: 'retry' | 'handshake' | 'ping' | 'deadline'): void {
    const handle = this.timers.get(name);
    if (handle === undefined) return;
    this.timers.delete(name);
    this.ctx.options.timers.clearTimeout(handle);
  }
}
