// The voting rules of a Raft election as pure decisions: whether a node grants a pre-vote or a
// vote, given what it knows (its term, vote, leader and how recently it heard from one) and the
// election restriction (is the candidate's log at least as up to date). The core keeps the
// timers and roles, counts the votes (quorum.ts) and sends the messages.
import type { NodeId } from '../core/index.js';

export interface PreVoter {
  readonly term: number;
  readonly isLeader: boolean;
  /** Ticks since this node last heard from a leader. */
  readonly leaderContactTicks: number;
  readonly electionTimeoutMinTicks: number;
}

/**
 * A pre-vote for a campaign in `campaignTerm` is granted only to a node with an up-to-date log that
 * could win a real election, and only when this node has not heard from a leader for a minimum
 * election timeout (thesis §9.6): a node cut off alone cannot disrupt a working cluster.
 */
export function grantsPreVote(voter: PreVoter, campaignTerm: number, upToDate: boolean): boolean {
  return campaignTerm > voter.term && !voter.isLeader && voter.leaderContactTicks >= voter.electionTimeoutMinTicks && upToDate;
}

/**
 * A vote in the current term goes to at most one candidate (again to the same one, whose request
 * may have been repeated), never while this node follows a leader of the term, and only to an
 * up-to-date log.
 */
export function grantsVote(vote: NodeId | null, leader: NodeId | null, candidate: NodeId, upToDate: boolean): boolean {
  return (vote === candidate || (vote === null && leader === null)) && upToDate;
}
