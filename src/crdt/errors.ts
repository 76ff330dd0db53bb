// The one error type src/crdt throws, with stable codes: a malformed state or delta from outside is
// answered with CRDT_BAD_STATE and the replica keeps its own state; a bad argument to a mutator
// (an empty replica id, a non-integer amount) with CRDT_INVALID_ARGUMENT.

export type CrdtErrorCode =
  /** A state, delta or encoding from outside is malformed or exceeds a bound. */
  | 'CRDT_BAD_STATE'
  /** A mutator's argument is out of range. */
  | 'CRDT_INVALID_ARGUMENT';

export class CrdtError extends Error {
  constructor(
    readonly code: CrdtErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'CrdtError';
  }
}

export function failCrdt(code: CrdtErrorCode, message: string): never {
  throw new CrdtError(code, message);
}

export function isCrdtError(err: unknown): err is CrdtError {
  return err instanceof CrdtError;
}
