// Quorum arithmetic over a configuration's voters, kept apart from the protocol as etcd's raft
// keeps its quorum package: what a majority has reached, whether a majority satisfies a
// condition, and how an election stands. Pure functions: the caller says what each voter holds.
import type { NodeId } from '../core/index.js';
import { quorumSize } from './membership.js';
import type { Membership } from './types.js';

export type VoteResult = 'won' | 'lost' | 'pending';

/**
 * The largest value that a quorum of voters has reached: the quorum-th largest of their values
 * (the commit index when the values are match indexes). Undefined when there are no voters.
 */
export function quorumValue(config: Membership, valueOf: (voter: NodeId) => number): number | undefined {
  const values = config.voters.map(valueOf);
  values.sort((a, b) => b - a);
  return values[quorumSize(config) - 1];
}

/** Whether at least a quorum of voters satisfy `holds`. */
export function quorumHas(config: Membership, holds: (voter: NodeId) => boolean): boolean {
  let count = 0;
  for (const voter of config.voters) if (holds(voter)) count++;
  return count >= quorumSize(config);
}

/**
 * Counts the votes of the configuration's voters (answers from anyone else are ignored): won once
 * a quorum granted, lost once so many rejected that a quorum can no longer grant.
 */
export function voteResult(config: Membership, votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  let granted = 0;
  let rejected = 0;
  for (const voter of config.voters) {
    const v = votes.get(voter);
    if (v === true) granted++;
    else if (v === false) rejected++;
  }
  const quorum = quorumSize(config);
  if (granted >= quorum) return 'won';
  if (rejected > config.voters.length - quorum) return 'lost';
  return 'pending';
}
