// Typed errors of the Raft core with stable codes. A broken safety property (two leaders in a
// term, a committed entry overwritten) is an InvariantError of src/core, thrown loudly.

export type RaftErrorCode =
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
