// What the commit cores say happened, as one annotation per event (key "txn"): a coordinator
// began a transaction, a participant voted, someone decided. The simulated harness collects
// them from the trace into the history the commit checker (check.ts) judges.
import type { NodeId } from '../core/index.js';
import type { TxnId } from './messages.js';

export type CommitEventKind = 'begin' | 'yes' | 'no' | 'commit' | 'abort';

export interface CommitEvent {
  readonly atMs: number;
  readonly node: NodeId;
  readonly txn: TxnId;
  readonly kind: CommitEventKind;
  /** On 'begin': the transaction's participants. */
  readonly participants?: readonly NodeId[];
  /** Whether `node` is the transaction's coordinator (its decision), rather than a participant. */
  readonly role: 'coordinator' | 'participant';
}

/** The annotation key the cores write events to. */
export const EVENT_KEY = 'txn';

/** The annotation value of one event: "KIND ROLE TXN [P1,P2,...]". */
export function formatCommitEvent(kind: CommitEventKind, role: 'coordinator' | 'participant', txn: TxnId, participants?: readonly NodeId[]): string {
  return participants === undefined ? `${kind} ${role} ${txn}` : `${kind} ${role} ${txn} ${participants.join(',')}`;
}

const KINDS: ReadonlySet<string> = new Set(['begin', 'yes', 'no', 'commit', 'abort']);

/** The event an annotation value stands for, or undefined when it is not one. */
export function parseCommitEvent(value: unknown, node: NodeId, atMs: number): CommitEvent | undefined {
  if (typeof value !== 'string') return undefined;
  const [kind, role, txn, list] = value.split(' ');
  if (kind === undefined || !KINDS.has(kind) || (role !== 'coordinator' && role !== 'participant') || txn === undefined || txn === '') return undefined;
  const base: CommitEvent = { atMs, node, txn, kind: kind as CommitEventKind, role: role === 'coordinator' ? 'coordinator' : 'participant' };
  return list === undefined ? base : { ...base, participants: list.split(',') };
}
