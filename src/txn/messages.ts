// The messages and durable ops of two-phase commit (coordinator and participants), and the
// checks every message passes before a core reads it: a peer may be hostile, so a malformed
// message is dropped and counted by the receiving core, never thrown on.
import type { NodeId } from '../core/index.js';

/** A transaction's name: unique for ever (it carries the coordinator's life and a sequence). */
export type TxnId = string;
export type Outcome = 'commit' | 'abort';

/** One change to one account: its balance moves by `delta` (negative: a debit). */
export interface Write {
  readonly key: string;
  readonly delta: number;
}

export type TwoPcMessage =
  /** Coordinator → participant: lock these keys, check, force "prepared", vote. */
  | { readonly type: 'prepare'; readonly txn: TxnId; readonly ts: number; readonly participants: readonly NodeId[]; readonly writes: readonly Write[] }
  | { readonly type: 'vote'; readonly txn: TxnId; readonly yes: boolean }
  /** Coordinator → participant, and participant → participant in the termination protocol. */
  | { readonly type: 'decision'; readonly txn: TxnId; readonly outcome: Outcome }
  | { readonly type: 'ack'; readonly txn: TxnId }
  /** An in-doubt participant asks the coordinator for the outcome. */
  | { readonly type: 'decision-request'; readonly txn: TxnId }
  /** An in-doubt participant asks a fellow participant what it knows (cooperative termination). */
  | { readonly type: 'status-request'; readonly txn: TxnId; readonly ts: number }
  | { readonly type: 'status'; readonly txn: TxnId; readonly state: 'commit' | 'abort' | 'prepared' };

/** Bounds on what a message may carry. */
export const MAX_WRITES = 16;
export const MAX_PARTICIPANTS = 16;
export const MAX_ID_LENGTH = 64;

const isId = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= MAX_ID_LENGTH;
const isOutcome = (v: unknown): v is Outcome => v === 'commit' || v === 'abort';

function isWrite(v: unknown): v is Write {
  if (typeof v !== 'object' || v === null) return false;
  const w = v as Record<string, unknown>;
  return isId(w['key']) && typeof w['delta'] === 'number' && Number.isSafeInteger(w['delta']);
}

/** The message when `raw` is a well-formed 2PC message, else undefined. */
export function parseTwoPcMessage(raw: unknown): TwoPcMessage | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const m = raw as Record<string, unknown>;
  if (!isId(m['txn'])) return undefined;
  switch (m['type']) {
    case 'prepare': {
      const participants = m['participants'];
      const writes = m['writes'];
      if (typeof m['ts'] !== 'number' || !Number.isSafeInteger(m['ts']) || m['ts'] < 0) return undefined;
      if (!Array.isArray(participants) || participants.length === 0 || participants.length > MAX_PARTICIPANTS || !participants.every(isId)) return undefined;
      if (!Array.isArray(writes) || writes.length > MAX_WRITES || !writes.every(isWrite)) return undefined;
      return raw as TwoPcMessage;
    }
    case 'vote':
      return typeof m['yes'] === 'boolean' ? (raw as TwoPcMessage) : undefined;
    case 'decision':
      return isOutcome(m['outcome']) ? (raw as TwoPcMessage) : undefined;
    case 'status':
      return isOutcome(m['state']) || m['state'] === 'prepared' ? (raw as TwoPcMessage) : undefined;
    case 'status-request':
      return typeof m['ts'] === 'number' && Number.isSafeInteger(m['ts']) && m['ts'] >= 0 ? (raw as TwoPcMessage) : undefined;
    case 'ack':
    case 'decision-request':
      return raw as TwoPcMessage;
    default:
      return undefined;
  }
}

/** A participant's durable ops. */
export type ParticipantOp =
  /** Forced before a yes vote: the participant can no longer abort on its own. */
  | { readonly kind: 'prepared'; readonly txn: TxnId; readonly ts: number; readonly coordinator: NodeId; readonly participants: readonly NodeId[]; readonly writes: readonly Write[] }
  /** The outcome, once known (an abort before any vote too, so a late prepare is refused). */
  | { readonly kind: 'decided'; readonly txn: TxnId; readonly ts: number; readonly outcome: Outcome }
  /** Everything at once (balances, open prepared records, remembered outcomes): earlier ops are redundant. */
  | { readonly kind: 'snapshot'; readonly balances: readonly (readonly [string, number])[]; readonly prepared: readonly PreparedRecord[]; readonly decided: readonly (readonly [TxnId, Outcome, number])[]; readonly forgottenBelowTs: number };

export type PreparedRecord = Extract<ParticipantOp, { kind: 'prepared' }>;

/** The coordinator's durable ops (presumed abort: only commits are forced, and only an end follows). */
export type CoordinatorOp =
  /** One per life, so transaction names and timestamps never repeat across restarts. */
  | { readonly kind: 'life'; readonly life: number }
  | { readonly kind: 'commit'; readonly txn: TxnId; readonly participants: readonly NodeId[] }
  /** Every participant acknowledged the commit: the record may be forgotten. */
  | { readonly kind: 'end'; readonly txn: TxnId }
  /** The life and the commits not yet acknowledged: earlier ops are redundant. */
  | { readonly kind: 'state'; readonly life: number; readonly open: readonly (readonly [TxnId, readonly NodeId[]])[] };
