// The one error type the storage layer throws, plus the warnings it reports while repairing.
// Each failure has a stable `code` so hosts can branch on it (refuse to start, page an
// operator, retry) without parsing messages.

export type StorageErrorCode =
  /**
   * A record before the tail of the log fails its checksum or framing, a segment is missing or
   * mislabelled, or a checksummed record does not continue the log as persist() would have
   * required: data that may have been acknowledged is damaged, so open refuses.
   */
  | 'WAL_CORRUPT'
  /**
   * A checksummed record or snapshot uses a format version or codec this build cannot read, or
   * its payload does not decode (not JSON, nested too deep) to the Raft op its type names.
   */
  | 'WAL_UNSUPPORTED'
  /** The snapshot named by the latest checkpoint marker is missing or fails its checksum. */
  | 'SNAPSHOT_CORRUPT'
  /** Another live process (or another open handle in this one) holds the data directory. */
  | 'STORAGE_LOCKED'
  /** The log was closed; no further appends are accepted. */
  | 'STORAGE_CLOSED'
  /** A write or fsync failed earlier; the in-memory view can no longer be trusted, so reopen. */
  | 'STORAGE_FAILED'
  /** A write, sync, rename or read failed. `cause` holds the system error. */
  | 'STORAGE_IO'
  /** An option is out of range. */
  | 'STORAGE_INVALID_OPTION'
  /** An op or record handed to the log is malformed (bad record type, gap in a log, too large). */
  | 'STORAGE_INVALID_OP';

export class StorageError extends Error {
  constructor(
    readonly code: StorageErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StorageError';
  }
}

/** Throws a StorageError; typed `never` so it can end an expression or a branch. */
export function failStorage(code: StorageErrorCode, message: string, cause?: unknown): never {
  throw new StorageError(code, message, cause === undefined ? undefined : { cause });
}

export function isStorageError(value: unknown, code?: StorageErrorCode): value is StorageError {
  return value instanceof StorageError && (code === undefined || value.code === code);
}

export type StorageWarningCode =
  /**
   * A damaged record at the end of the last segment, with nothing intact after it, was cut off:
   * what a crash in the middle of a write leaves. Its append never resolved on this node, unless
   * the disk lost or reordered synced writes or damaged the final record at rest.
   */
  | 'WAL_TAIL_TRUNCATED'
  /** A leftover temporary file from an interrupted snapshot or lock write was deleted. */
  | 'TEMP_FILE_REMOVED'
  /** A snapshot file that no durable checkpoint marker refers to was deleted. */
  | 'ORPHAN_SNAPSHOT_REMOVED'
  /** Segments or snapshots superseded by a checkpoint were deleted at open (a crash interrupted cleanup). */
  | 'SUPERSEDED_FILE_REMOVED'
  /** Deleting superseded files after a checkpoint failed; it is retried at the next open. */
  | 'CLEANUP_FAILED'
  /** The lock file named a process that no longer runs; the lock was taken over. */
  | 'STALE_LOCK_REMOVED';

/** Something storage repaired or skipped on its own. Reported, never thrown. */
export interface StorageWarning {
  readonly code: StorageWarningCode;
  readonly message: string;
  readonly file?: string;
  readonly offsetBytes?: number;
}

export type WarningSink = (warning: StorageWarning) => void;

/** Builds an Error-like message from an unknown thrown value, for wrapping system errors. */
export function describeCause(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}

/** Runs an I/O step and turns any system error into STORAGE_IO naming what was being done. */
export async function io<T>(what: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (cause) {
    if (cause instanceof StorageError) throw cause;
    return failStorage('STORAGE_IO', `${what}: ${describeCause(cause)}`, cause);
  }
}
