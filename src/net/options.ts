// Options of Transport.start: their defaults, and validation that fails early with
// NET_INVALID_OPTION naming the option, so a misconfigured node refuses to start instead of
// misbehaving under load.
import type { Message, NodeId } from '../core/index.js';
import { DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
import { HANDSHAKE_MAX_FRAME_BYTES, MAX_CLUSTER_ID_BYTES, MAX_INCARNATION_BYTES, isValidNodeId, type AuthenticatedRefuseReason } from './codec.js';
import { failNet } from './errors.js';
import { FRAME_HEADER_BYTES, MAX_FRAME_LIMIT_BYTES } from './frame.js';
import { DEFAULT_LOG_RATE_LIMIT, silentLogger, type LogRateLimit, type NetLogger } from './log.js';
import type { TlsOptions } from './tls.js';

export interface PeerAddress {
  readonly host: string;
  readonly port: number;
}

export type TimerHandle = unknown;

/** Where the transport gets its timers; tests may pass fakes. */
export interface Timers {
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export type MessageHandler<M extends Message> = (from: NodeId, message: M) => void;

/** The server's verdict on a peer's data-directory incarnation (see checkPeerIncarnation). */
export type IncarnationVerdict = 'accept' | 'refuse';
export type IncarnationCheck = (peer: NodeId, incarnation: string) => IncarnationVerdict;
/** A member refused this node, in a refusal authenticated with the cluster secret. */
export type RefusalHandler = (peer: NodeId, reason: AuthenticatedRefuseReason) => void;

export interface TransportOptions<M extends Message = Message> {
  readonly selfId: NodeId;
  /** Port 0 picks an ephemeral port; read it back from `transport.address`. */
  readonly listen: PeerAddress;
  /** Members this node talks to, by id. An entry for `selfId` is ignored (a node does not dial itself). */
  readonly peers?: Readonly<Record<NodeId, PeerAddress>>;
  /** The shared cluster secret, at least 16 bytes (a string counts its UTF-8 bytes). */
  readonly secret: string | Uint8Array;
  /**
   * This cluster's id, sent in every hello and covered by every MAC; a hello with another is
   * refused (`wrong_cluster`). At most 128 UTF-8 bytes. Default '' (no id: matches only '').
   */
  readonly clusterId?: string;
  /**
   * This node's incarnation: an id of its data directory, created when the directory is first
   * initialised. Sent in the hello (dialer) and the welcome (acceptor), covered by the proofs.
   * At most 128 UTF-8 bytes. Default ''.
   */
  readonly incarnation?: string;
  /**
   * Called with a peer's incarnation once the peer has proved the secret, before its connection
   * is used: by the acceptor after the dialer's proof, by the dialer after the welcome. 'refuse'
   * closes the connection with an authenticated `identity_changed` refusal the peer can act on.
   * Synchronous; a hook that throws counts as 'refuse'. Default: accept every incarnation.
   */
  readonly checkPeerIncarnation?: IncarnationCheck;
  /** Called for each authenticated refusal of this node by a member (more with `transport.onRefused`). */
  readonly onRefused?: RefusalHandler;
  /**
   * Mutual TLS for peer connections: this node's key and certificate and the cluster CA. Both
   * ends must present a certificate from the CA; the HMAC handshake still runs inside. Swap the
   * material for new connections with `transport.reloadTls`. Default: plain TCP.
   */
  readonly tls?: TlsOptions;
  /** Largest frame payload accepted or sent (header excluded). Default 16 MiB. */
  readonly maxFrameBytes?: number;
  /** Per-peer outbound queue bound in messages. Default 8192. */
  readonly maxQueueMessages?: number;
  /** Per-peer outbound queue bound in bytes; at least maxFrameBytes + 4. Default 4 × maxFrameBytes. */
  readonly maxQueueBytes?: number;
  /** Small frames are concatenated into writes of up to this size. Default 256 KiB. */
  readonly maxBatchBytes?: number;
  /** A connection that has not authenticated by then is closed. Default 5000, at most 60000. */
  readonly handshakeTimeoutMs?: number;
  /**
   * An inbound connection that has not sent its hello by then (TLS handshake included) is closed.
   * Legitimate dialers send it at once. Default min(2000, handshakeTimeoutMs).
   */
  readonly helloTimeoutMs?: number;
  /** Liveness pings on outbound connections; 0 disables pings and peer timeouts. Default 1000. */
  readonly pingIntervalMs?: number;
  /** A connection on which nothing was received for this long is closed. Default 10000. */
  readonly peerTimeoutMs?: number;
  /** Reconnection delays. Default 100 ms doubling to 5 s, equal jitter. */
  readonly backoff?: Partial<BackoffOptions>;
  /**
   * Inbound connections still in their handshake. A newcomer beyond it evicts a pending one (the
   * least advanced, oldest, from the address group holding the most). Default 64.
   */
  readonly maxPendingHandshakes?: number;
  /**
   * Pending handshakes from one address (an IPv4 address or an IPv6 /64); a newcomer beyond it
   * evicts one of its own group. Default min(16, maxPendingHandshakes).
   */
  readonly maxPendingHandshakesPerAddress?: number;
  /** How long `close()` flushes queues by default. Default 2000. */
  readonly closeDeadlineMs?: number;
  readonly logger?: NetLogger;
  /**
   * Events a stranger can trigger (auth failures, handshake timeouts, evictions, frame errors) log
   * at most `burst` records per `intervalMs` each, then one summary with the count. Default 5 per 10 s.
   */
  readonly logRateLimit?: Partial<LogRateLimit>;
  /** May also be registered later with `onMessage`. */
  readonly onMessage?: MessageHandler<M>;
  /** Enables `transport.faults`. Off by default; never enable in production. */
  readonly faultInjection?: boolean;
  /** Messages the fault hook may hold back at once; further delayed messages are dropped. Default 10000. */
  readonly maxDelayedMessages?: number;
  /** Uniform in [0, 1): backoff jitter and fault drop decisions. Default Math.random. */
  readonly random?: () => number;
  /** Monotonic ms, for liveness. Default performance.now. */
  readonly now?: () => number;
  readonly timers?: Timers;
}

export interface ResolvedOptions {
  readonly selfId: NodeId;
  readonly listen: PeerAddress;
  readonly peers: ReadonlyMap<NodeId, PeerAddress>;
  readonly secret: Buffer;
  readonly clusterId: string;
  readonly incarnation: string;
  readonly checkPeerIncarnation: IncarnationCheck | null;
  /** Validated when the transport builds its TLS contexts. */
  readonly tls: TlsOptions | null;
  readonly maxFrameBytes: number;
  readonly maxQueueMessages: number;
  readonly maxQueueBytes: number;
  readonly maxBatchBytes: number;
  readonly handshakeTimeoutMs: number;
  readonly helloTimeoutMs: number;
  readonly pingIntervalMs: number;
  readonly peerTimeoutMs: number;
  readonly backoff: BackoffOptions;
  readonly maxPendingHandshakes: number;
  readonly maxPendingHandshakesPerAddress: number;
  readonly closeDeadlineMs: number;
  readonly logger: NetLogger;
  readonly logRateLimit: LogRateLimit;
  readonly faultInjection: boolean;
  readonly maxDelayedMessages: number;
  readonly random: () => number;
  readonly now: () => number;
  readonly timers: Timers;
}

export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;
export const MIN_SECRET_BYTES = 16;
export const MAX_HANDSHAKE_TIMEOUT_MS = 60_000;

const defaultTimers: Timers = {
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export function resolveOptions<M extends Message>(options: TransportOptions<M>): ResolvedOptions {
  if (typeof options.selfId !== 'string' || !isValidNodeId(options.selfId)) invalid('selfId', 'must be a non-empty string of at most 255 bytes');
  const maxFrameBytes = integer('maxFrameBytes', options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES, HANDSHAKE_MAX_FRAME_BYTES, MAX_FRAME_LIMIT_BYTES - 1);
  const maxQueueBytes = integer('maxQueueBytes', options.maxQueueBytes ?? 4 * (maxFrameBytes + FRAME_HEADER_BYTES), maxFrameBytes + FRAME_HEADER_BYTES, Number.MAX_SAFE_INTEGER);
  // Bounded: an unauthenticated connection may hold a slot for at most this long.
  const handshakeTimeoutMs = integer('handshakeTimeoutMs', options.handshakeTimeoutMs ?? 5000, 1, MAX_HANDSHAKE_TIMEOUT_MS);
  const maxPendingHandshakes = integer('maxPendingHandshakes', options.maxPendingHandshakes ?? 64, 1, 65_536);
  return {
    selfId: options.selfId,
    listen: address('listen', options.listen, true),
    peers: peerMap(options.selfId, options.peers ?? {}),
    secret: secretBytes(options.secret),
    clusterId: boundedString('clusterId', options.clusterId ?? '', MAX_CLUSTER_ID_BYTES),
    incarnation: boundedString('incarnation', options.incarnation ?? '', MAX_INCARNATION_BYTES),
    checkPeerIncarnation: fn('checkPeerIncarnation', options.checkPeerIncarnation),
    tls: options.tls ?? null,
    maxFrameBytes,
    maxQueueMessages: integer('maxQueueMessages', options.maxQueueMessages ?? 8192, 1, 1 << 24),
    maxQueueBytes,
    maxBatchBytes: integer('maxBatchBytes', options.maxBatchBytes ?? 256 * 1024, 1, 1 << 30),
    handshakeTimeoutMs,
    helloTimeoutMs: integer('helloTimeoutMs', options.helloTimeoutMs ?? Math.min(2000, handshakeTimeoutMs), 1, handshakeTimeoutMs),
    pingIntervalMs: integer('pingIntervalMs', options.pingIntervalMs ?? 1000, 0, 3_600_000),
    peerTimeoutMs: integer('peerTimeoutMs', options.peerTimeoutMs ?? 10_000, 1, 3_600_000),
    backoff: backoffOptions(options.backoff ?? {}),
    maxPendingHandshakes,
    maxPendingHandshakesPerAddress: integer('maxPendingHandshakesPerAddress', options.maxPendingHandshakesPerAddress ?? Math.min(16, maxPendingHandshakes), 1, maxPendingHandshakes),
    closeDeadlineMs: integer('closeDeadlineMs', options.closeDeadlineMs ?? 2000, 0, 3_600_000),
    logger: options.logger ?? silentLogger,
    logRateLimit: {
      intervalMs: integer('logRateLimit.intervalMs', options.logRateLimit?.intervalMs ?? DEFAULT_LOG_RATE_LIMIT.intervalMs, 1, 3_600_000),
      burst: integer('logRateLimit.burst', options.logRateLimit?.burst ?? DEFAULT_LOG_RATE_LIMIT.burst, 1, 1000),
    },
    faultInjection: options.faultInjection === true,
    maxDelayedMessages: integer('maxDelayedMessages', options.maxDelayedMessages ?? 10_000, 0, 1 << 24),
    random: options.random ?? Math.random,
    now: options.now ?? (() => performance.now()),
    timers: options.timers ?? defaultTimers,
  };
}

export function address(name: string, value: PeerAddress | undefined, allowPortZero: boolean): PeerAddress {
  if (typeof value !== 'object' || value === null || typeof value.host !== 'string' || value.host === '') {
    invalid(name, 'must be { host, port } with a non-empty host');
  }
  integer(`${name}.port`, value.port, allowPortZero ? 0 : 1, 65_535);
  return { host: value.host, port: value.port };
}

function peerMap(selfId: NodeId, peers: Readonly<Record<NodeId, PeerAddress>>): ReadonlyMap<NodeId, PeerAddress> {
  const map = new Map<NodeId, PeerAddress>();
  for (const [id, addr] of Object.entries(peers)) {
    if (!isValidNodeId(id)) invalid('peers', `peer id ${JSON.stringify(id)} is empty or longer than 255 bytes`);
    if (id !== selfId) map.set(id, address(`peers.${id}`, addr, false));
  }
  return map;
}

function boundedString(name: string, value: unknown, maxBytes: number): string {
  if (typeof value !== 'string' || Buffer.byteLength(value, 'utf8') > maxBytes) invalid(name, `must be a string of at most ${maxBytes} UTF-8 bytes`);
  return value;
}

function fn<F>(name: string, value: F | undefined): F | null {
  if (value === undefined) return null;
  if (typeof value !== 'function') invalid(name, 'must be a function');
  return value;
}

function secretBytes(secret: string | Uint8Array): Buffer {
  const bytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret instanceof Uint8Array ? Buffer.from(secret) : null;
  if (bytes === null || bytes.length < MIN_SECRET_BYTES) invalid('secret', `must be a string or Uint8Array of at least ${MIN_SECRET_BYTES} bytes`);
  return bytes;
}

function backoffOptions(partial: Partial<BackoffOptions>): BackoffOptions {
  const initialMs = integer('backoff.initialMs', partial.initialMs ?? DEFAULT_BACKOFF.initialMs, 1, 3_600_000);
  const maxMs = integer('backoff.maxMs', partial.maxMs ?? Math.max(DEFAULT_BACKOFF.maxMs, initialMs), initialMs, 3_600_000);
  const multiplier = partial.multiplier ?? DEFAULT_BACKOFF.multiplier;
  if (!Number.isFinite(multiplier) || multiplier < 1 || multiplier > 100) invalid('backoff.multiplier', 'must be in [1, 100]');
  return { initialMs, maxMs, multiplier };
}

function integer(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) invalid(name, `must be an integer in [${min}, ${max}], got ${String(value)}`);
  return value;
}

function invalid(name: string, why: string): never {
  return failNet('NET_INVALID_OPTION', `option ${name} ${why}`);
}
