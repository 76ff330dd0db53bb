// The one error type src/quorum throws, with stable codes. Bad input from a client or a peer
// (a malformed context, a level above N, a foreign message) is answered with one of these and
// the node keeps serving; an InvariantError instead means the code itself is wrong.

export type QuorumErrorCode =
  /** A request field is missing, of the wrong type, or out of range. */
  | 'QUORUM_BAD_REQUEST'
  /** A causal context string is not one this store issued (malformed, too large). */
  | 'QUORUM_BAD_CONTEXT'
  /** The cluster configuration is invalid. */
  | 'QUORUM_INVALID_OPTION'
  /** Fewer than R (reads) or W (writes) replicas answered in time. */
  | 'QUORUM_NOT_REACHED'
  /** No home replica of the key is reachable to coordinate the write. */
  | 'QUORUM_UNAVAILABLE'
  /** The write would leave more siblings than the bucket allows: read, resolve, write with the context. */
  | 'QUORUM_SIBLING_LIMIT'
  /** The operation does not fit the bucket's type (e.g. a counter increment on a plain bucket). */
  | 'QUORUM_WRONG_TYPE'
  /** A ring change was asked for while another is under way. */
  | 'QUORUM_RING_CHANGING'
  /** This node has not joined a ring yet (started with --join, the record has not reached it). */
  | 'QUORUM_NOT_JOINED'
  /** A peer's message is malformed. */
  | 'QUORUM_BAD_MESSAGE';

export class QuorumError extends Error {
  constructor(
    readonly code: QuorumErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'QuorumError';
  }
}

export function failQuorum(code: QuorumErrorCode, message: string): never {
  throw new QuorumError(code, message);
}
