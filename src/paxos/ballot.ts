// Ballots (proposal numbers): a round and the proposer that owns it, ordered by round and then
// by node id, so two proposers never use the same ballot. A proposer makes its round durable
// before any message of that ballot leaves, so a restart never reuses it (with another value).
import type { NodeId } from '../core/index.js';

export interface Ballot {
  readonly round: number;
  readonly node: NodeId;
}

/** Below every real ballot: what an acceptor has promised before it promised anything. */
export const ZERO_BALLOT: Ballot = { round: 0, node: '' };

/** Node ids, client ids and other names in messages are at most this long. */
export const MAX_NAME_LENGTH = 128;

/** Negative when a < b, 0 when equal, positive when a > b. */
export function compareBallots(a: Ballot, b: Ballot): number {
  if (a.round !== b.round) return a.round < b.round ? -1 : 1;
  if (a.node === b.node) return 0;
  return a.node < b.node ? -1 : 1;
}

export function sameBallot(a: Ballot, b: Ballot): boolean {
  return a.round === b.round && a.node === b.node;
}

export function maxBallot(a: Ballot, b: Ballot): Ballot {
  return compareBallots(a, b) >= 0 ? a : b;
}

/** "3.2": round 3 of node 2; "0" for the zero ballot. */
export function ballotText(b: Ballot): string {
  return b.round === 0 && b.node === '' ? '0' : `${b.round}.${b.node}`;
}

/** The ballot `node` uses next: one round above every round it has seen. */
export function nextBallot(node: NodeId, highestRoundSeen: number): Ballot {
  return { round: highestRoundSeen + 1, node };
}

export function isNodeName(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= MAX_NAME_LENGTH;
}

/** Checks a ballot from outside: a round >= 1 with a node name, or the zero ballot. */
export function isBallot(v: unknown): v is Ballot {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const b = v as Record<string, unknown>;
  const round = b['round'];
  if (typeof round !== 'number' || !Number.isSafeInteger(round) || round < 0) return false;
  if (round === 0) return b['node'] === '';
  return isNodeName(b['node']);
}
