// Typed errors of multi-shard transactions, with stable codes the CLI prints and exits on.

export type TxnKvErrorCode =
  /** The shard set (file or object) cannot be used. */
  | 'BAD_SHARDS'
  /** A shard name that the set does not hold. */
  | 'UNKNOWN_SHARD'
  /** A transaction that cannot be run as asked (no writes, a reserved key, too many writes...). */
  | 'BAD_TXN'
  /** The decision could not be written or read: the transaction may have committed or not; recovery settles it. */
  | 'OUTCOME_UNKNOWN'
  /** A shard did not answer. */
  | 'UNREACHABLE';

export class TxnKvError extends Error {
  constructor(
    readonly code: TxnKvErrorCode,
    message: string,
    /** The transaction the error is about, when there is one. */
    readonly txnId?: string,
  ) {
    super(message);
    this.name = 'TxnKvError';
  }
}
