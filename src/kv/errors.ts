// The KV's one thrown error, with stable codes: what a caller gets for input that cannot be
// answered with a result (a malformed snapshot given to restore). Requests never throw: they get
// a result with an `error` field instead.

export type KvErrorCode = 'BAD_SNAPSHOT';

export class KvError extends Error {
  constructor(
    readonly code: KvErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'KvError';
  }
}
