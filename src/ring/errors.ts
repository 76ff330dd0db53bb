// The one error type src/ring throws. Each failure has a stable `code`, so that a host (the
// quorum store, the CLI) can answer bad input with a clear error instead of a stack trace.

export type RingErrorCode =
  /** An option (vnodes per node, partition count, replica count, ...) is out of its range. */
  | 'RING_INVALID_OPTION'
  /** A node id is empty, too long, or already a member. */
  | 'RING_INVALID_NODE'
  /** The node named is not a member of the ring. */
  | 'RING_UNKNOWN_NODE'
  /** The operation needs at least one member (or would remove the last one). */
  | 'RING_EMPTY'
  /** A range operation names a range that does not exist, or a split key outside its range. */
  | 'RING_INVALID_RANGE'
  /** A serialized ring description is malformed. */
  | 'RING_DECODE_FAILED';

export class RingError extends Error {
  constructor(
    readonly code: RingErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'RingError';
  }
}

/** Throws a RingError; typed `never` so it can end an expression or a branch. */
export function failRing(code: RingErrorCode, message: string): never {
  throw new RingError(code, message);
}

export function isRingError(err: unknown): err is RingError {
  return err instanceof RingError;
}
