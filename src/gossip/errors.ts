// The one error type src/gossip throws, with stable codes: a bad configuration is refused with
// GOSSIP_INVALID_OPTION naming the field; client requests are answered (never thrown at) with one
// of the request codes below; a broken invariant is an InvariantError instead.

export type GossipErrorCode =
  /** A configuration field is missing, of the wrong type, or out of range. */
  | 'GOSSIP_INVALID_OPTION'
  /** A request field is missing, of the wrong type, or out of range. */
  | 'GOSSIP_BAD_REQUEST'
  /** No seed answered a join within tcpTimeoutMs. */
  | 'GOSSIP_JOIN_FAILED'
  /** Too many joins are waiting for their seeds already. */
  | 'GOSSIP_BUSY'
  /** The node has left the cluster: it takes no metadata change until it joins again. */
  | 'GOSSIP_LEFT'
  /** The node's incarnation is at MAX_INCARNATION (only a hostile peer could push it there): it can change nothing more. */
  | 'GOSSIP_EXHAUSTED';

export class GossipError extends Error {
  constructor(
    readonly code: GossipErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'GossipError';
  }
}

export function failGossip(code: GossipErrorCode, message: string): never {
  throw new GossipError(code, message);
}

export function isGossipError(err: unknown): err is GossipError {
  return err instanceof GossipError;
}
