// Quorums of acceptors: phase 1 (prepare/promise) needs |Q1| of them, phase 2 (accept/accepted)
// |Q2|. Classic Paxos uses majorities for both; Flexible Paxos (Howard, Malkhi, Spiegelman 2016)
// shows that only phase-1 and phase-2 quorums need to intersect, so any sizes with
// |Q1| + |Q2| > N are safe: a small Q2 makes every command cheaper, paid for by a large Q1 at
// each leader change. Sizes that do not intersect are refused with PaxosError BAD_QUORUM.
import { PaxosError } from './errors.js';

export interface QuorumSizes {
  /** Acceptors whose promises a proposer needs before phase 2. */
  readonly phase1: number;
  /** Acceptors whose acceptance makes a value chosen. */
  readonly phase2: number;
}

export function majority(n: number): number {
  return Math.floor(n / 2) + 1;
}

/** The quorum sizes for `acceptors` acceptors: `requested` checked, or majorities. */
export function resolveQuorums(acceptors: number, requested?: Partial<QuorumSizes>): QuorumSizes {
  if (!Number.isSafeInteger(acceptors) || acceptors < 1) throw new PaxosError('BAD_QUORUM', `a Paxos group needs at least one acceptor, got ${acceptors}`);
  const phase1 = requested?.phase1 ?? majority(acceptors);
  const phase2 = requested?.phase2 ?? majority(acceptors);
  for (const [name, size] of [['phase1', phase1], ['phase2', phase2]] as const) {
    if (!Number.isSafeInteger(size) || size < 1 || size > acceptors) {
      throw new PaxosError('BAD_QUORUM', `${name} quorum must be an integer from 1 to ${acceptors} (the acceptors), got ${String(size)}`);
    }
  }
  if (phase1 + phase2 <= acceptors) {
    throw new PaxosError('BAD_QUORUM', `phase-1 and phase-2 quorums must intersect: |Q1| + |Q2| = ${phase1} + ${phase2} = ${phase1 + phase2} must exceed N = ${acceptors}`);
  }
  return { phase1, phase2 };
}
