// The one error type src/gossip-net throws, with stable codes: the agent refuses to start on a
// bad option or key ring file and tells the operator which; key-ring operations refuse what
// would break the cluster. Nothing received from the network is ever thrown: it is counted.

export type GossipNetErrorCode =
  /** A transport option is missing, of the wrong type, or out of range (the message names it). */
  | 'GOSSIP_NET_INVALID_OPTION'
  /** A key is not base64 of 16, 24 or 32 bytes. */
  | 'GOSSIP_NET_BAD_KEY'
  /** useKey named a key that is not installed. */
  | 'GOSSIP_NET_UNKNOWN_KEY'
  /** removeKey named the primary key: make another key primary (useKey) first. */
  | 'GOSSIP_NET_PRIMARY_KEY'
  /** installKey would hold more than MAX_KEYS keys (each one costs a trial decryption of every bad packet). */
  | 'GOSSIP_NET_TOO_MANY_KEYS'
  /** The key ring file cannot be read or written (missing, permissions, ...); `cause` holds the system error. */
  | 'GOSSIP_NET_KEYRING_FILE'
  /** The key ring file is not JSON. */
  | 'GOSSIP_NET_KEYRING_SYNTAX'
  /** The key ring file is JSON of the wrong shape: no keys, a bad key, a duplicate, a bad primary index. */
  | 'GOSSIP_NET_KEYRING_INVALID'
  /** The fault hook was used on a transport started without `faultInjection: true`. */
  | 'GOSSIP_NET_FAULTS_DISABLED'
  /** Binding the UDP socket or the TCP listener failed (e.g. the port is in use); `cause` holds the system error. */
  | 'GOSSIP_NET_IO';

export class GossipNetError extends Error {
  constructor(
    readonly code: GossipNetErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GossipNetError';
  }
}

/** Throws a GossipNetError; typed `never` so it can end an expression or a branch. */
export function failGossipNet(code: GossipNetErrorCode, message: string, cause?: unknown): never {
  throw new GossipNetError(code, message, cause === undefined ? undefined : { cause });
}

export function isGossipNetError(value: unknown, code?: GossipNetErrorCode): value is GossipNetError {
  return value instanceof GossipNetError && (code === undefined || value.code === code);
}
