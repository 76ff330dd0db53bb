// One accepted connection: the acceptor side of the handshake (refusing non-members, wrong ids,
// other clusters and versions, wrong tickets and proofs, refused incarnations), then receipt of
// the peer's messages and answers to its pings. The transport decides what an authenticated
// connection replaces and where messages go.
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { HandshakeProgress } from './admission.js';
import type { Message, NodeId } from '../core/index.js';
import { PROTOCOL_VERSION, encodeWireFrame, type RefuseReason, type WireFrame } from './codec.js';
import { Connection, reportFailure, type ConnectionContext } from './connection.js';
import { NetError, type NetErrorCode } from './errors.js';
import { computeProof, newNonce, verifyProof, type HandshakeTranscript } from './handshake.js';
import type { TimerHandle } from './options.js';
import type { TlsState } from './tls.js';

/** What an inbound connection needs from the transport. */
export interface InboundHost {
  isMember(id: NodeId): boolean;
  /** Records a valid hello's nonce; false if a recent hello had it (a replay). */
  rememberHello(nonce: Uint8Array): boolean;
  /** The connection got further in its handshake (for the choice of whom to evict). */
  progress(conn: InboundConnection, progress: HandshakeProgress): void;
  /** The connection authenticated as `conn.peer`. */
  adopt(conn: InboundConnection): void;
  deliver(from: NodeId, message: Message): void;
  /** The connection is gone (whatever its state). */
  release(conn: InboundConnection): void;
}

/** 'tls': the TLS handshake runs (no Connection yet); then the hello, the proof, open traffic. */
type InboundState = 'tls' | 'hello' | 'proof' | 'open' | 'done';

const PONG_FRAME = encodeWireFrame({ kind: 'pong' });

export class InboundConnection {
  private state: InboundState;
  /** The framed connection; null while the TLS handshake runs. */
  private framed: Connection | null = null;
  private readonly raw: Socket;
  private readonly remoteText: string;
  /** Node ids the peer's TLS certificate names (empty: none); null without TLS. */
  private certificateIds: readonly string[] | null = null;
  private transcript: HandshakeTranscript | null = null;
  /** The handshake deadline, then the liveness check. */
  private timer: TimerHandle | null = null;
  /** The shorter deadline for the first frame: strangers may not hold a slot by staying silent. */
  private helloTimer: TimerHandle | null = null;
  private authenticatedPeer: NodeId | null = null;
  private released = false;

  constructor(
    socket: Socket,
    private readonly ctx: ConnectionContext,
    private readonly host: InboundHost,
  ) {
    this.raw = socket;
    this.remoteText = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    const { handshakeTimeoutMs, helloTimeoutMs, timers } = ctx.options;
    this.setTimer(handshakeTimeoutMs, () =>
      this.failHandshake(new NetError('NET_HANDSHAKE_TIMEOUT', `inbound connection did not authenticate within ${handshakeTimeoutMs} ms`, { detail: { phase: this.state === 'tls' ? 'tls' : 'proof' } })),
    );
    this.helloTimer = timers.setTimeout(() => {
      this.helloTimer = null;
      this.failHandshake(new NetError('NET_HANDSHAKE_TIMEOUT', `inbound connection sent no hello within ${helloTimeoutMs} ms`, { detail: { phase: this.state === 'tls' ? 'tls' : 'hello' } }));
    }, helloTimeoutMs);
    const tls = ctx.tls;
    if (tls === null) {
      this.state = 'hello';
      this.attach(socket);
      return;
    }
    this.state = 'tls';
    socket.setNoDelay(true);
    socket.on('error', () => {}); // the TLS engine reports what went wrong
    socket.once('close', () => {
      // Closed before the TLS handshake completed (a failure was reported, or the peer just left);
      // once it completed, the framed connection reports the close.
      if (this.framed === null) this.finish();
    });
    tls.accept(socket, { secured: (secured) => this.onSecured(secured, tls), failed: (error) => this.failHandshake(error) });
  }

  /** The authenticated peer (kept after close), or null if it never authenticated. */
  get peer(): NodeId | null {
    return this.authenticatedPeer;
  }

  get authenticated(): boolean {
    return this.state === 'open';
  }

  get remote(): string {
    return this.remoteText;
  }

  close(): void {
    if (this.framed !== null) {
      this.framed.destroy();
      return;
    }
    // Closed by us during the TLS handshake (evicted, or the transport closing): the TLS engine
    // will report the reset, which is no failure of the peer's.
    this.state = 'done';
    this.raw.destroy();
  }

  /** Only frames arrive through here, so the framed connection exists by then. */
  private get conn(): Connection {
    return this.framed as Connection;
  }

  private attach(socket: Socket): void {
    this.framed = new Connection(socket, this.ctx, { onFrame: (frame) => this.onFrame(frame), onClose: () => this.onClosed() });
  }

  /** The TLS handshake is done: check the certificate, then expect the hello. */
  private onSecured(socket: TLSSocket, tls: TlsState): void {
    if (this.state !== 'tls') {
      socket.destroy();
      return;
    }
    this.attach(socket);
    this.state = 'hello';
    if (!socket.authorized) {
      const hasCertificate = socket.getPeerX509Certificate() !== undefined;
      const tlsCode = hasCertificate ? String(socket.authorizationError ?? 'UNKNOWN') : 'NO_CERTIFICATE';
      const why = hasCertificate ? `its certificate does not verify: ${tlsCode}${tlsCode === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' ? ' (not from a CA we trust)' : ''}` : 'it presented no certificate';
      return this.refuse('certificate', 'NET_TLS', `refused a TLS peer: ${why}`, { tlsCode });
    }
    try {
      this.certificateIds = tls.clientNodeIds(socket);
    } catch (error) {
      const failure = error as NetError;
      return this.refuse('certificate', failure.code, failure.message, { tlsCode: String(failure.detail?.tlsCode ?? 'UNKNOWN') });
    }
    this.host.progress(this, 'secured');
  }

  /** Fails the handshake in whatever phase it is (the TLS phase has no framed connection yet). */
  private failHandshake(error: NetError): void {
    if (this.framed !== null) {
      this.framed.fail(error);
      return;
    }
    if (this.state === 'done') return;
    this.state = 'done';
    reportFailure(this.ctx, error, { remote: this.remoteText, peer: null });
    this.raw.destroy();
    this.finish();
  }

  private onFrame(frame: WireFrame): void {
    if (this.state === 'hello' && frame.kind === 'hello') return this.onHello(frame);
    if (this.state === 'hello' && frame.kind === 'foreign_hello') {
      return this.refuse('version', 'NET_VERSION_MISMATCH', `peer speaks protocol version ${frame.version}, we speak ${PROTOCOL_VERSION}`);
    }
    if (this.state === 'proof' && frame.kind === 'proof') return this.onProof(frame.proof);
    if (this.state === 'open' && frame.kind === 'message') return this.host.deliver(this.conn.peer as NodeId, frame.message);
    if (this.state === 'open' && frame.kind === 'ping') {
      this.conn.writeFrame(PONG_FRAME);
      return;
    }
    if (this.state === 'open' && frame.kind === 'refuse') return this.onRefusedByDialer(frame);
    if (this.state === 'hello' || this.state === 'proof') return this.refuse('malformed', 'NET_FRAME_MALFORMED', `expected a ${this.state} frame, got ${frame.kind}`);
    throw new NetError('NET_FRAME_MALFORMED', `unexpected ${frame.kind} frame on an inbound connection`);
  }

  private onHello(hello: Extract<WireFrame, { kind: 'hello' }>): void {
    const { selfId, clusterId, secret } = this.ctx.options;
    const claimed = { claimedId: hello.from };
    if (hello.to !== selfId) return this.refuse('wrong_target', 'NET_AUTH_FAILED', `peer wanted node ${hello.to}, this is ${selfId}`, claimed);
    // A certificate that names node ids binds the connection to them.
    const ids = this.certificateIds;
    if (ids !== null && ids.length > 0 && !ids.includes(hello.from)) {
      return this.refuse('certificate', 'NET_TLS', `a hello claims to be ${hello.from} but the TLS certificate names ${ids.join(', ')}`, { ...claimed, tlsCode: 'NODE_ID_MISMATCH' });
    }
    // Before the ticket: between clusters that happen to share a secret this names the real
    // problem, and between others it is as good a reason as a wrong ticket.
    if (hello.clusterId !== clusterId) {
      return this.refuse('wrong_cluster', 'NET_WRONG_CLUSTER', `node ${hello.from} belongs to cluster ${JSON.stringify(hello.clusterId)}, this is ${JSON.stringify(clusterId)}`, claimed);
    }
    if (!this.host.isMember(hello.from)) return this.refuse('unknown_peer', 'NET_UNKNOWN_PEER', `node ${hello.from} is not a member`, claimed);
    const transcript: HandshakeTranscript = {
      clusterId,
      dialer: hello.from,
      acceptor: selfId,
      dialerIncarnation: hello.incarnation,
      dialerNonce: hello.nonce,
      acceptorNonce: newNonce(),
      acceptorIncarnation: this.ctx.options.incarnation,
    };
    // The ticket shows the dialer holds the secret before any round trip, so a stranger's hello
    // is turned away at once and cannot hold a slot in the class members reach (docs/net.md).
    if (!verifyProof(secret, 'ticket', transcript, hello.ticket)) {
      return this.refuse('bad_proof', 'NET_AUTH_FAILED', `a hello claiming to be ${hello.from} carries a wrong ticket (not the cluster secret)`, claimed);
    }
    if (!this.host.rememberHello(hello.nonce)) return this.refuse('bad_proof', 'NET_AUTH_FAILED', `a hello claiming to be ${hello.from} replays a recent one`, claimed);
    this.transcript = transcript;
    this.state = 'proof';
    this.clearHelloTimer();
    this.host.progress(this, 'hello');
    this.conn.writeFrame(encodeWireFrame({ kind: 'challenge', nonce: transcript.acceptorNonce }));
  }

  private onProof(proof: Uint8Array): void {
    const transcript = this.transcript as HandshakeTranscript;
    const { secret } = this.ctx.options;
    const peer = transcript.dialer;
    if (!verifyProof(secret, 'dialer', transcript, proof)) {
      return this.refuse('bad_proof', 'NET_AUTH_FAILED', `a peer claiming to be ${peer} failed to prove the cluster secret`, { claimedId: peer });
    }
    // From here on the dialer has proved the secret: refusals carry a MAC it can trust and act on.
    // Membership may have changed during the round trip.
    if (!this.host.isMember(peer)) return this.refuse('unknown_peer', 'NET_UNKNOWN_PEER', `node ${peer} is no longer a member`, { claimedId: peer }, transcript);
    if (!this.ctx.identity.accepts(peer, transcript.dialerIncarnation)) {
      this.ctx.metrics.count('incarnationRefusals', peer);
      return this.refuse('identity_changed', 'NET_IDENTITY_REFUSED', `refused ${peer}: its incarnation ${JSON.stringify(transcript.dialerIncarnation)} was refused by checkPeerIncarnation`, { claimedId: peer, incarnation: transcript.dialerIncarnation }, transcript);
    }
    // Only now is the id proven: counters and logs name the peer from here on, never a mere claim.
    this.conn.peer = peer;
    this.conn.writeFrame(encodeWireFrame({ kind: 'welcome', proof: computeProof(secret, 'acceptor', transcript), incarnation: transcript.acceptorIncarnation }));
    this.state = 'open';
    this.authenticatedPeer = peer;
    // Kept (nonces and ids, a few hundred bytes) to check a refusal the dialer may send after the welcome.
    this.transcript = transcript;
    this.conn.allowFullFrames();
    this.clearTimer();
    this.host.adopt(this);
    this.ctx.log({ level: 'info', event: 'inbound_accepted', msg: `accepted connection from ${peer}`, peer, remote: this.remoteText, detail: { incarnation: transcript.dialerIncarnation, tls: this.certificateIds !== null } });
    this.scheduleLivenessCheck();
  }

  /** The dialer refused our incarnation after the welcome; only a refusal with a valid MAC counts. */
  private onRefusedByDialer(frame: Extract<WireFrame, { kind: 'refuse' }>): void {
    const peer = this.authenticatedPeer as NodeId;
    const { reason, mac } = frame;
    const authentic = mac !== null && reason === 'identity_changed' && verifyProof(this.ctx.options.secret, 'dialer-refusal', this.transcript as HandshakeTranscript, mac, reason);
    if (!authentic) throw new NetError('NET_FRAME_MALFORMED', `${peer} sent a refusal (${reason}) without a valid MAC on an open connection`);
    this.ctx.identity.refusedBy(peer, reason, this.remoteText);
    this.conn.closeWith(new NetError('NET_IDENTITY_REFUSED', `${peer} refused this node's incarnation`));
  }

  /**
   * Closes with a refuse frame. With `transcript` (the dialer has proved the secret) the frame
   * carries a MAC over the transcript and the reason, so the dialer can act on it; otherwise the
   * dialer can only log it.
   */
  private refuse(reason: RefuseReason, code: NetErrorCode, message: string, detail?: Record<string, string>, transcript?: HandshakeTranscript): void {
    this.state = 'done';
    this.clearTimer();
    this.clearHelloTimer();
    const mac = transcript === undefined ? null : computeProof(this.ctx.options.secret, 'acceptor-refusal', transcript, reason);
    this.conn.fail(new NetError(code, message), encodeWireFrame({ kind: 'refuse', reason, mac }), detail);
  }

  /** The dialer pings while idle; silence beyond the peer timeout means a dead or wedged peer. */
  private scheduleLivenessCheck(): void {
    const { pingIntervalMs, peerTimeoutMs, now } = this.ctx.options;
    if (pingIntervalMs === 0) return;
    this.setTimer(pingIntervalMs, () => {
      const silentMs = now() - this.conn.lastHeardMs;
      if (silentMs > peerTimeoutMs) {
        this.conn.fail(new NetError('NET_PEER_TIMEOUT', `${String(this.conn.peer)} sent nothing for ${Math.round(silentMs)} ms`));
      } else {
        this.scheduleLivenessCheck();
      }
    });
  }

  private onClosed(): void {
    this.clearTimer();
    this.clearHelloTimer();
    const wasOpen = this.state === 'open';
    this.state = 'done';
    if (wasOpen) this.ctx.log({ level: 'info', event: 'inbound_closed', msg: `connection from ${String(this.conn.peer)} closed`, peer: this.conn.peer as NodeId, remote: this.remoteText });
    this.finish();
  }

  private finish(): void {
    this.clearTimer();
    this.clearHelloTimer();
    if (this.released) return;
    this.released = true;
    this.host.release(this);
  }

  private setTimer(delayMs: number, callback: () => void): void {
    this.clearTimer();
    this.timer = this.ctx.options.timers.setTimeout(() => {
      this.timer = null;
      callback();
    }, delayMs);
  }

  private clearTimer(): void {
    if (this.timer === null) return;
    this.ctx.options.timers.clearTimeout(this.timer);
    this.timer = null;
  }

  private clearHelloTimer(): void {
    if (this.helloTimer === null) return;
    this.ctx.options.timers.clearTimeout(this.helloTimer);
    this.helloTimer = null;
  }
}
