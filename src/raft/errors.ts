// Typed errors of the Raft core with stable codes. An INVARIANT error means the core caught
// itself (or a peer) breaking a Raft safety property: it is thrown loudly, never swallowed.

export type RaftErrorCode =
  /** A safety invariant failed (two leaders in a term, a committed entry overwritten, ...). */
  | 'INVARIANT'
  /** An option is out of range or options contradict each other. */
  | 'BAD_OPTION'
  /** The durable ops handed back at restart do not describe a valid state. */
  | 'BAD_DURABLE_STATE'
  /** A snapshot's payload does not have the expected shape. */
  | 'BAD_SNAPSHOT';

export class RaftError extends Error {
  constructor(
    readonly code: RaftErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'RaftError';
  }
}

/** Throws an INVARIANT error when `condition` is false; `describe` runs only on failure. */
export function assertInvariant(condition: boolean, describe: () => string): asserts condition {
  if (!condition) throw new RaftError('INVARIANT', describe());
}
