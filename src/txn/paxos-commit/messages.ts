// Messages and durable ops of Paxos Commit (Gray & Lamport 2006): one Paxos instance per
// participant (resource manager, RM) decides "prepared" or "aborted"; ballot 0 belongs to the RM
// itself, higher ballots to the leader or a recovering RM. Every message is checked before use.
import type { NodeId } from '../../core/index.js';
import { MAX_ID_LENGTH, MAX_PARTICIPANTS, MAX_WRITES, type Outcome, type TxnId, type Write } from '../messages.js';

export type Vote = 'prepared' | 'aborted';

export interface Accepted {
  readonly rm: NodeId;
  readonly ballot: number;
  readonly value: Vote;
}

export type PaxosCommitMessage =
  /** Leader → RM: the transaction and this RM's writes. */
  | { readonly type: 'begin'; readonly txn: TxnId; readonly ts: number; readonly participants: readonly NodeId[]; readonly writes: readonly Write[] }
  /** Proposer → acceptors: accept `value` for RM `rm`'s instance at `ballot`. */
  | { readonly type: 'p2a'; readonly txn: TxnId; readonly ts: number; readonly participants: readonly NodeId[]; readonly rm: NodeId; readonly ballot: number; readonly value: Vote }
  /** Acceptor → leader and the proposer: accepted. */
  | { readonly type: 'p2b'; readonly txn: TxnId; readonly participants: readonly NodeId[]; readonly rm: NodeId; readonly ballot: number; readonly value: Vote }
  /** Proposer → acceptors: promise `ballot` for every instance of the transaction. */
  | { readonly type: 'p1a'; readonly txn: TxnId; readonly ts: number; readonly participants: readonly NodeId[]; readonly ballot: number }
  | { readonly type: 'p1b'; readonly txn: TxnId; readonly ballot: number; readonly accepted: readonly Accepted[] }
  /** Acceptor → proposer: a higher ballot was promised. */
  | { readonly type: 'nack'; readonly txn: TxnId; readonly promised: number }
  /** Leader → RMs once it learned the outcome (the RMs can also learn it on their own). */
  | { readonly type: 'outcome'; readonly txn: TxnId; readonly outcome: Outcome };

const isId = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= MAX_ID_LENGTH;
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isVote = (v: unknown): v is Vote => v === 'prepared' || v === 'aborted';
const isIds = (v: unknown): v is NodeId[] => Array.isArray(v) && v.length > 0 && v.length <= MAX_PARTICIPANTS && v.every(isId);

function isWrite(v: unknown): v is Write {
  if (typeof v !== 'object' || v === null) return false;
  const w = v as Record<string, unknown>;
  return isId(w['key']) && typeof w['delta'] === 'number' && Number.isSafeInteger(w['delta']);
}

function isAccepted(v: unknown): v is Accepted {
  if (typeof v !== 'object' || v === null) return false;
  const a = v as Record<string, unknown>;
  return isId(a['rm']) && isCount(a['ballot']) && isVote(a['value']);
}

/** The message when `raw` is a well-formed Paxos Commit message, else undefined. */
export function parsePaxosCommitMessage(raw: unknown): PaxosCommitMessage | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const m = raw as Record<string, unknown>;
  if (!isId(m['txn'])) return undefined;
  const ok = ((): boolean => {
    switch (m['type']) {
      case 'begin':
        return isCount(m['ts']) && isIds(m['participants']) && Array.isArray(m['writes']) && m['writes'].length <= MAX_WRITES && m['writes'].every(isWrite);
      case 'p2a':
        return isCount(m['ts']) && isIds(m['participants']) && isId(m['rm']) && isCount(m['ballot']) && isVote(m['value']) && (m['participants'] as string[]).includes(m['rm'] as string);
      case 'p2b':
        return isIds(m['participants']) && isId(m['rm']) && isCount(m['ballot']) && isVote(m['value']);
      case 'p1a':
        return isCount(m['ts']) && isIds(m['participants']) && isCount(m['ballot']) && (m['ballot'] as number) > 0;
      case 'p1b':
        return isCount(m['ballot']) && Array.isArray(m['accepted']) && m['accepted'].length <= MAX_PARTICIPANTS && m['accepted'].every(isAccepted);
      case 'nack':
        return isCount(m['promised']);
      case 'outcome':
        return m['outcome'] === 'commit' || m['outcome'] === 'abort';
      default:
        return false;
    }
  })();
  return ok ? (raw as PaxosCommitMessage) : undefined;
}

/** An acceptor's durable ops, forced before it answers. */
export type AcceptorOp =
  | { readonly kind: 'promise'; readonly txn: TxnId; readonly ts: number; readonly ballot: number }
  | { readonly kind: 'accept'; readonly txn: TxnId; readonly ts: number; readonly rm: NodeId; readonly ballot: number; readonly value: Vote };

/** A participant's (RM's) and the leader's durable ops. */
export type RmOp =
  /** Forced before the RM proposes "prepared" for its instance. */
  | { readonly kind: 'prepared'; readonly txn: TxnId; readonly ts: number; readonly participants: readonly NodeId[]; readonly writes: readonly Write[] }
  | { readonly kind: 'decided'; readonly txn: TxnId; readonly ts: number; readonly outcome: Outcome }
  /** A proposer's ballot round, forced before it is used: a restart never reuses a ballot. */
  | { readonly kind: 'round'; readonly round: number }
  /** The leader's life, so transaction names and timestamps never repeat across restarts. */
  | { readonly kind: 'life'; readonly life: number };
