// Typed errors of the Paxos cores: options a deployment got wrong (quorums that do not
// intersect, a negative timeout), durable state a host handed back that no node could have
// written, and broken invariants. Messages from peers are never thrown on: a malformed one is
// dropped with a note (annotation `lastBadMessage`).

export type PaxosErrorCode =
  /** An option out of range or contradicting another. */
  | 'BAD_OPTION'
  /** Phase-1 and phase-2 quorums that need not intersect: |Q1| + |Q2| <= N, or a size outside 1..N. */
  | 'BAD_QUORUM'
  /** Durable ops a host recovered that do not describe a state this node could have written. */
  | 'BAD_DURABLE_STATE';

export class PaxosError extends Error {
  constructor(
    readonly code: PaxosErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'PaxosError';
  }
}

export function isPaxosError(err: unknown): err is PaxosError {
  return err instanceof PaxosError;
}
