// Messages and durable ops of three-phase commit (Skeen 1981): 2PC's vote, then PRE-COMMIT and
// its acknowledgements before COMMIT, and the termination protocol's state requests by which an
// in-doubt participant (the backup coordinator) gathers the states of the others. Every message
// is checked before a core reads it; a malformed one is dropped and counted, never thrown on.
import type { NodeId } from '../../core/index.js';
import { MAX_ID_LENGTH, MAX_PARTICIPANTS, MAX_WRITES, type Outcome, type TxnId, type Write } from '../messages.js';

/**
 * What a node says of a transaction in the termination protocol. Participants: 'uncertain'
 * (voted yes, no pre-commit), 'precommitted', 'committed', 'aborted'. The coordinator: 'active'
 * (alive and deciding), 'in-doubt' (restarted after PRE-COMMIT with no decision), or an outcome.
 */
export type ThreePcState = 'uncertain' | 'precommitted' | 'committed' | 'aborted' | 'active' | 'in-doubt';

export type ThreePcMessage =
  /** Coordinator → participant: lock these keys, check, force "prepared", vote. */
  | { readonly type: 'prepare'; readonly txn: TxnId; readonly ts: number; readonly participants: readonly NodeId[]; readonly writes: readonly Write[] }
  | { readonly type: 'vote'; readonly txn: TxnId; readonly yes: boolean }
  /** Coordinator (or a backup) → participant: everyone voted yes; force "precommitted" and acknowledge. */
  | { readonly type: 'precommit'; readonly txn: TxnId }
  | { readonly type: 'precommit-ack'; readonly txn: TxnId }
  | { readonly type: 'decision'; readonly txn: TxnId; readonly outcome: Outcome }
  | { readonly type: 'ack'; readonly txn: TxnId }
  /**
   * A backup (rank ≥ 0: its index among the participants) or the restarted coordinator (rank -1)
   * asks for a node's state. `round` is echoed so answers to an older request are told apart.
   */
  | { readonly type: 'state-request'; readonly txn: TxnId; readonly ts: number; readonly rank: number; readonly round: number }
  /** `recovered`: the node restarted since it voted, so its uncertainty proves nothing. */
  | { readonly type: 'state'; readonly txn: TxnId; readonly state: ThreePcState; readonly recovered: boolean; readonly round: number };

const isId = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= MAX_ID_LENGTH;
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const STATES: ReadonlySet<unknown> = new Set(['uncertain', 'precommitted', 'committed', 'aborted', 'active', 'in-doubt']);

function isWrite(v: unknown): v is Write {
  if (typeof v !== 'object' || v === null) return false;
  const w = v as Record<string, unknown>;
  return isId(w['key']) && typeof w['delta'] === 'number' && Number.isSafeInteger(w['delta']);
}

/** The message when `raw` is a well-formed 3PC message, else undefined. */
export function parseThreePcMessage(raw: unknown): ThreePcMessage | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const m = raw as Record<string, unknown>;
  if (!isId(m['txn'])) return undefined;
  const ok = ((): boolean => {
    switch (m['type']) {
      case 'prepare': {
        const participants = m['participants'];
        const writes = m['writes'];
        return isCount(m['ts']) && Array.isArray(participants) && participants.length > 0 && participants.length <= MAX_PARTICIPANTS && participants.every(isId) && Array.isArray(writes) && writes.length <= MAX_WRITES && writes.every(isWrite);
      }
      case 'vote':
        return typeof m['yes'] === 'boolean';
      case 'decision':
        return m['outcome'] === 'commit' || m['outcome'] === 'abort';
      case 'state-request':
        return isCount(m['ts']) && typeof m['rank'] === 'number' && Number.isSafeInteger(m['rank']) && m['rank'] >= -1 && m['rank'] < MAX_PARTICIPANTS && isCount(m['round']);
      case 'state':
        return STATES.has(m['state']) && typeof m['recovered'] === 'boolean' && isCount(m['round']);
      case 'precommit':
      case 'precommit-ack':
      case 'ack':
        return true;
      default:
        return false;
    }
  })();
  return ok ? (raw as ThreePcMessage) : undefined;
}

/** A participant's durable ops. */
export type ThreePcParticipantOp =
  /** Forced before a yes vote. */
  | { readonly kind: 'prepared'; readonly txn: TxnId; readonly ts: number; readonly coordinator: NodeId; readonly participants: readonly NodeId[]; readonly writes: readonly Write[] }
  /** Forced before a PRE-COMMIT is acknowledged. */
  | { readonly kind: 'precommitted'; readonly txn: TxnId }
  | { readonly kind: 'decided'; readonly txn: TxnId; readonly ts: number; readonly outcome: Outcome }
  /** Everything at once: earlier ops are redundant. */
  | {
      readonly kind: 'snapshot';
      readonly balances: readonly (readonly [string, number])[];
      readonly open: readonly { readonly record: ThreePcPrepared; readonly precommitted: boolean }[];
      readonly decided: readonly (readonly [TxnId, Outcome, number])[];
      readonly forgottenBelowTs: number;
    };

export type ThreePcPrepared = Extract<ThreePcParticipantOp, { kind: 'prepared' }>;

/** The coordinator's durable ops. Aborts are not forced: no record and no PRE-COMMIT means abort. */
export type ThreePcCoordinatorOp =
  | { readonly kind: 'life'; readonly life: number }
  /** Forced before PRE-COMMIT leaves: a restarted coordinator knows it may have been sent. */
  | { readonly kind: 'precommit'; readonly txn: TxnId; readonly ts: number; readonly participants: readonly NodeId[] }
  | { readonly kind: 'commit'; readonly txn: TxnId; readonly ts: number; readonly participants: readonly NodeId[] }
  /** The record is closed: every participant acknowledged the commit, or the outcome was abort. */
  | { readonly kind: 'end'; readonly txn: TxnId }
  | { readonly kind: 'state'; readonly life: number; readonly open: readonly { readonly txn: TxnId; readonly ts: number; readonly participants: readonly NodeId[]; readonly committed: boolean }[] };
