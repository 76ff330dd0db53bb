// One framed TCP connection, the part outbound (dialer) and inbound (acceptor) sides share:
// socket setup, frame decoding, byte/frame counters, batched writes, and a single failure path
// that counts, logs and closes, so a bad connection never disturbs the others.
import type { Socket } from 'node:net';
import type { NodeId } from '../core/index.js';
import { HANDSHAKE_MAX_FRAME_BYTES, decodeWireFrame, type AuthenticatedRefuseReason, type WireFrame } from './codec.js';
import { NetError, describeCause, type NetErrorCode } from './errors.js';
import { FrameDecoder } from './frame.js';
import type { Log, NetLogEvent } from './log.js';
import type { CounterName, MetricsRegistry } from './metrics.js';
import type { ResolvedOptions, TimerHandle } from './options.js';
import { tlsError, type TlsState } from './tls.js';

/** Frames at least this large are written as they are; smaller ones are concatenated into one write. */
const COPY_LIMIT_BYTES = 64 * 1024;
const KEEPALIVE_DELAY_MS = 5_000;
/** After a refusal is written, the peer gets this long to read it before the socket is destroyed. */
const LINGER_MS = 1_000;

export interface ConnectionContext {
  readonly options: ResolvedOptions;
  readonly metrics: MetricsRegistry;
  readonly log: Log;
  readonly identity: IdentityHooks;
  /** Present when the transport runs over TLS. */
  readonly tls: TlsState | null;
}

/** The transport's side of the incarnation check and of refusals by peers. */
export interface IdentityHooks {
  /** Runs checkPeerIncarnation (none: accept); true to accept. Never throws. */
  accepts(peer: NodeId, incarnation: string): boolean;
  /** A member refused this node in an authenticated refusal: count, log, tell the handlers. */
  refusedBy(peer: NodeId, reason: AuthenticatedRefuseReason, remote: string): void;
}

export interface ConnectionHandlers {
  /** Called per decoded frame; throwing a NetError closes the connection with that error. */
  onFrame(frame: WireFrame): void;
  /** Called once when the socket is gone; `error` is null for an orderly close. */
  onClose(error: NetError | null): void;
}

const COUNTER_FOR: Partial<Record<NetErrorCode, CounterName>> = {
  NET_FRAME_OVERSIZE: 'oversizeFrames',
  NET_FRAME_MALFORMED: 'decodeErrors',
  NET_FRAME_TRUNCATED: 'truncatedFrames',
  NET_AUTH_FAILED: 'authFailures',
  NET_UNKNOWN_PEER: 'authFailures',
  NET_WRONG_CLUSTER: 'authFailures',
  NET_VERSION_MISMATCH: 'authFailures',
  // NET_IDENTITY_REFUSED is counted where it is decided (incarnationRefusals or refusedByPeer).
  NET_HANDSHAKE_TIMEOUT: 'handshakeTimeouts',
  NET_PEER_TIMEOUT: 'peerTimeouts',
  NET_TLS: 'tlsFailures',
};

const EVENT_FOR: Partial<Record<NetErrorCode, NetLogEvent>> = {
  NET_AUTH_FAILED: 'auth_failed',
  NET_UNKNOWN_PEER: 'auth_failed',
  NET_WRONG_CLUSTER: 'auth_failed',
  NET_VERSION_MISMATCH: 'auth_failed',
  NET_IDENTITY_REFUSED: 'identity_refused',
  NET_HANDSHAKE_TIMEOUT: 'handshake_timeout',
  NET_PEER_TIMEOUT: 'peer_timeout',
  NET_TLS: 'tls_failed',
};

/** Counts `error` under its counter and logs it under its event: the one failure path of the transport. */
export function reportFailure(ctx: ConnectionContext, error: NetError, where: { readonly remote: string; readonly peer: NodeId | null }, detail?: Readonly<Record<string, string | number | boolean>>): void {
  const counter = COUNTER_FOR[error.code];
  if (counter !== undefined) ctx.metrics.count(counter, where.peer);
  ctx.log({
    level: 'warn',
    event: EVENT_FOR[error.code] ?? 'frame_error',
    msg: error.message,
    code: error.code,
    remote: where.remote,
    ...(where.peer === null ? {} : { peer: where.peer }),
    ...(detail === undefined && error.detail === undefined ? {} : { detail: { ...error.detail, ...detail } }),
  });
}

export class Connection {
  /** The authenticated (or, during the handshake, claimed) peer; null until its hello. */
  peer: NodeId | null = null;
  lastHeardMs: number;
  private remoteAddress: string | null = null;
  private readonly decoder: FrameDecoder;
  private failure: NetError | null = null;
  private lastSocketError: Error | null = null;
  private stopped = false;
  private reported = false;
  private lingerTimer: TimerHandle | null = null;
  private framesDecoded = 0;

  constructor(
    private readonly socket: Socket,
    private readonly ctx: ConnectionContext,
    private readonly handlers: ConnectionHandlers,
  ) {
    this.lastHeardMs = ctx.options.now();
    this.decoder = new FrameDecoder(HANDSHAKE_MAX_FRAME_BYTES);
    socket.setNoDelay(true);
    socket.setKeepAlive(true, KEEPALIVE_DELAY_MS);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.onEnd());
    socket.on('error', (error) => (this.lastSocketError = error));
    socket.on('close', () => this.onSocketClose());
  }

  /** The peer's "host:port" (known once connected; kept after close for logs). */
  get remote(): string {
    if (this.remoteAddress !== null) return this.remoteAddress;
    const { remoteAddress, remotePort } = this.socket;
    if (remoteAddress === undefined || remotePort === undefined) return '?';
    this.remoteAddress = `${remoteAddress}:${remotePort}`;
    return this.remoteAddress;
  }

  /** True once the connection failed or was closed by us: nothing more is read or written. */
  get isStopped(): boolean {
    return this.stopped;
  }

  /** The socket's own buffer, for flush decisions. */
  get bufferedBytes(): number {
    return this.socket.writableLength;
  }

  /** After authentication the full frame limit applies; before it, only handshake-sized frames. */
  allowFullFrames(): void {
    this.decoder.setMaxFrameBytes(this.ctx.options.maxFrameBytes);
  }

  /** Writes one frame outside any batch (handshake, ping, pong). */
  writeFrame(frame: Buffer): boolean {
    if (!this.writable()) return false;
    this.countOut(1, frame.length);
    return this.socket.write(frame);
  }

  /**
   * Writes queued frames in as few socket writes as possible: small frames are concatenated,
   * large ones are written as they are, all under cork so the kernel sees one writev.
   * Returns false when the socket asks us to wait for 'drain'.
   */
  writeBatch(frames: readonly Buffer[], totalBytes: number): boolean {
    if (!this.writable()) return false;
    this.countOut(frames.length, totalBytes);
    if (frames.length === 1) return this.socket.write(frames[0] as Buffer);
    this.socket.cork();
    let ok = true;
    let group: Buffer[] = [];
    let groupBytes = 0;
    const writeGroup = (): void => {
      if (group.length === 0) return;
      ok = this.socket.write(group.length === 1 ? (group[0] as Buffer) : Buffer.concat(group, groupBytes)) && ok;
      group = [];
      groupBytes = 0;
    };
    for (const frame of frames) {
      if (frame.length >= COPY_LIMIT_BYTES) {
        writeGroup();
        ok = this.socket.write(frame) && ok;
      } else {
        group.push(frame);
        groupBytes += frame.length;
      }
    }
    writeGroup();
    this.socket.uncork();
    return ok;
  }

  /** Runs `callback` once the socket buffer drains (never, if the connection dies first). */
  onceDrained(callback: () => void): void {
    this.socket.once('drain', callback);
  }

  /** Counts and logs `error`, then closes. With `finalFrame`, writes it first and lets the peer read it. */
  fail(error: NetError, finalFrame?: Buffer, detail?: Readonly<Record<string, string | number | boolean>>): void {
    if (this.stopped) return;
    this.failure = error;
    reportFailure(this.ctx, error, { remote: this.remote, peer: this.peer }, detail);
    if (finalFrame !== undefined && this.writable()) this.endWith(finalFrame);
    else this.destroy();
  }

  /** Closes at once with `error` as the reason handed to onClose, without counting or logging (the caller did). */
  closeWith(error: NetError): void {
    if (this.stopped) return;
    this.failure = error;
    this.destroy();
  }

  /** Half-closes after the socket buffer is flushed; the peer's close completes it. */
  end(): void {
    if (!this.writable()) return;
    this.socket.end();
  }

  /** Closes at once, without counting or logging. */
  destroy(): void {
    this.stopped = true;
    this.socket.destroy();
  }

  private writable(): boolean {
    return !this.stopped && !this.socket.destroyed && !this.socket.writableEnded;
  }

  private countOut(frames: number, bytes: number): void {
    this.ctx.metrics.count('framesOut', this.peer, frames);
    this.ctx.metrics.count('bytesOut', this.peer, bytes);
  }

  private endWith(frame: Buffer): void {
    this.stopped = true;
    this.countOut(1, frame.length);
    this.socket.end(frame);
    this.lingerTimer = this.ctx.options.timers.setTimeout(() => this.socket.destroy(), LINGER_MS);
  }

  private onData(chunk: Buffer): void {
    if (this.stopped) return;
    this.lastHeardMs = this.ctx.options.now();
    this.ctx.metrics.count('bytesIn', this.peer, chunk.length);
    try {
      this.decoder.push(chunk, this.onPayload);
    } catch (error) {
      this.fail(this.framesDecoded === 0 ? explainFirstBytes(asNetError(error)) : asNetError(error));
    }
  }

  private readonly onPayload = (payload: Buffer): void => {
    if (this.stopped) return;
    this.framesDecoded += 1;
    this.ctx.metrics.count('framesIn', this.peer, 1);
    this.handlers.onFrame(decodeWireFrame(payload));
  };

  private onEnd(): void {
    if (this.stopped) return;
    try {
      this.decoder.finish();
      this.destroy();
    } catch (error) {
      this.fail(asNetError(error));
    }
  }

  private onSocketClose(): void {
    this.stopped = true;
    if (this.lingerTimer !== null) this.ctx.options.timers.clearTimeout(this.lingerTimer);
    if (this.reported) return;
    this.reported = true;
    const socketError = this.lastSocketError;
    const error = this.failure ?? (socketError === null ? null : new NetError('NET_IO', describeCause(socketError), { cause: socketError }));
    this.handlers.onClose(error);
  }
}

/**
 * A TLS record read as a frame header announces hundreds of megabytes: content type 20-23, then
 * major version 3. Before any frame that is no plausible handshake frame, so it means TLS on one
 * end only; say so instead of "oversized frame".
 */
function explainFirstBytes(error: NetError): NetError {
  const length = error.detail?.length;
  if (error.code !== 'NET_FRAME_OVERSIZE' || typeof length !== 'number') return error;
  const contentType = length >>> 24;
  if (contentType < 20 || contentType > 23 || ((length >>> 16) & 0xff) !== 3) return error;
  return tlsError('TLS_WITHOUT_TLS_OPTION', 'the peer speaks TLS but this end has no tls option (or the reverse): configure tls on every member or on none');
}

/** Our own code throws only NetErrors while handling a frame; anything else is a bug, reported as malformed input. */
function asNetError(error: unknown): NetError {
  if (error instanceof NetError) return error;
  return new NetError('NET_FRAME_MALFORMED', `unexpected failure while handling a frame: ${describeCause(error)}`, { cause: error });
}
