// The one error type the transport throws or reports, with stable codes so the node process can
// branch on a failure (refuse to start, page, retry) and metrics/logs can name it without
// parsing messages.

export type NetErrorCode =
  /** A frame header announced more bytes than the configured maximum frame size. */
  | 'NET_FRAME_OVERSIZE'
  /** The connection ended in the middle of a frame. */
  | 'NET_FRAME_TRUNCATED'
  /** A frame's payload is not a valid encoding of the frame kind expected at this point. */
  | 'NET_FRAME_MALFORMED'
  /** The peer failed the handshake: wrong proof (wrong secret), or it refused ours. */
  | 'NET_AUTH_FAILED'
  /** A handshake named a node id that is not a member of this node's peer set. */
  | 'NET_UNKNOWN_PEER'
  /** The peer belongs to another cluster (its hello carried another cluster id). */
  | 'NET_WRONG_CLUSTER'
  /** A peer's incarnation was refused (checkPeerIncarnation), by this node or by the peer. */
  | 'NET_IDENTITY_REFUSED'
  /** The handshake did not complete within its deadline. */
  | 'NET_HANDSHAKE_TIMEOUT'
  /** The peer speaks another version of the wire protocol. */
  | 'NET_VERSION_MISMATCH'
  /** A connected peer stopped answering liveness pings. */
  | 'NET_PEER_TIMEOUT'
  /** The transport is closed (or closing); nothing more is sent or received. */
  | 'NET_CLOSED'
  /** An option given to Transport.start or addPeer is missing or out of range. */
  | 'NET_INVALID_OPTION'
  /**
   * TLS failed: the handshake (no TLS on the other end, a protocol error), or the peer's
   * certificate (expired, from another CA, naming another node id, missing). `detail.tlsCode`
   * holds the OpenSSL/Node reason (e.g. CERT_HAS_EXPIRED) or ours (NODE_ID_MISMATCH, ...).
   */
  | 'NET_TLS'
  /** The fault-injection API was used on a transport started without `faultInjection: true`. */
  | 'NET_FAULTS_DISABLED'
  /** Listening, connecting or writing failed at the socket level. `cause` holds the system error. */
  | 'NET_IO';

/** Words and numbers that qualify an error for logs (e.g. `tlsCode`, `phase`); they land in the log record's detail. */
export type NetErrorDetail = Readonly<Record<string, string | number | boolean>>;

export class NetError extends Error {
  readonly detail: NetErrorDetail | undefined;

  constructor(
    readonly code: NetErrorCode,
    message: string,
    options?: { cause?: unknown; detail?: NetErrorDetail },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'NetError';
    this.detail = options?.detail;
  }
}

/** Throws a NetError; typed `never` so it can end an expression or a branch. */
export function failNet(code: NetErrorCode, message: string, cause?: unknown): never {
  throw new NetError(code, message, cause === undefined ? undefined : { cause });
}

export function isNetError(value: unknown, code?: NetErrorCode): value is NetError {
  return value instanceof NetError && (code === undefined || value.code === code);
}

/** A short description of an unknown thrown value, for logs and wrapped errors. */
export function describeCause(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}
