// The one error type src/quorum/merkle throws. Each failure has a stable `code`, so that the
// anti-entropy host can drop a session with a buggy or hostile peer, count why, and keep serving;
// an InvariantError instead means this code itself is wrong.

export type MerkleErrorCode =
  /** A tree option (fan-out, depth, range) or an exchange limit is out of its range. */
  | 'MERKLE_INVALID_OPTION'
  /** A key or digest given to the tree is malformed, or the key lies outside the tree's range. */
  | 'MERKLE_INVALID_ENTRY'
  /** A peer's message is malformed: wrong types, unknown paths, duplicates, disorder, or contradicting what was compared. */
  | 'MERKLE_BAD_MESSAGE'
  /** A peer's message is well formed but not the one the exchange expects now (wrong kind or level, or after the end). */
  | 'MERKLE_UNEXPECTED_MESSAGE'
  /** The two trees have different shapes (fan-out, depth, range or format): their hashes cannot be compared. */
  | 'MERKLE_SHAPE_MISMATCH'
  /** A peer's message holds more hashes or entries than this side's limits allow. */
  | 'MERKLE_LIMIT_EXCEEDED'
  /** The peer ended the exchange with an abort message. */
  | 'MERKLE_PEER_ABORTED'
  /** The session was used out of turn: started twice, asked for its result before the end, or used after failing. */
  | 'MERKLE_SESSION_STATE';

export class MerkleError extends Error {
  constructor(
    readonly code: MerkleErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'MerkleError';
  }
}

/** Throws a MerkleError; typed `never` so it can end an expression or a branch. */
export function failMerkle(code: MerkleErrorCode, message: string): never {
  throw new MerkleError(code, message);
}

export function isMerkleError(err: unknown): err is MerkleError {
  return err instanceof MerkleError;
}

/** A short description of an untrusted value for an error message (never the whole of a huge one). */
export function describeValue(value: unknown): string {
  if (Array.isArray(value)) return `an array of ${value.length}`;
  const text = typeof value === 'string' ? JSON.stringify(value.slice(0, 61)) : typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined ? String(value) : typeof value;
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
