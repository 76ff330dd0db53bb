// The commit checker: judges a recorded history of commit events (begin, votes, decisions, from
// any protocol of this folder) for atomicity (every decider of a transaction decides the same),
// validity (a commit only after every participant voted yes; no commit by one that voted no)
// and blocking time (how long each participant stayed prepared without a decision).
import type { NodeId } from '../core/index.js';
import type { CommitEvent } from './events.js';
import type { TxnId } from './messages.js';

export interface CommitViolation {
  readonly kind: 'atomicity' | 'validity';
  readonly txn: TxnId;
  readonly atMs: number;
  readonly message: string;
}

export interface BlockingInterval {
  readonly txn: TxnId;
  readonly node: NodeId;
  readonly fromMs: number;
  /** When it decided; undefined: still in doubt when the history ends. */
  readonly toMs: number | undefined;
  readonly durationMs: number;
}

export interface CommitCheckResult {
  readonly ok: boolean;
  readonly violations: readonly CommitViolation[];
  readonly transactions: number;
  readonly committed: number;
  readonly aborted: number;
  /** Transactions nobody decided (by the end of the history). */
  readonly undecided: number;
  /** Every stretch a participant spent prepared without a decision. */
  readonly blocking: readonly BlockingInterval[];
  readonly maxBlockingMs: number;
  readonly totalBlockingMs: number;
  /** Participants still in doubt when the history ends. */
  readonly inDoubtAtEnd: number;
}

interface TxnRecord {
  participants: readonly NodeId[] | undefined;
  /** First yes vote per participant. */
  readonly yesAt: Map<NodeId, number>;
  readonly noAt: Map<NodeId, number>;
  /** The first decision per node. */
  readonly decisions: Map<NodeId, { readonly outcome: 'commit' | 'abort'; readonly atMs: number }>;
}

/**
 * Judges `events` (in time order) as a history that ended at `endMs`. A transaction whose begin
 * is missing is judged on what is there (validity needs its participants, so only atomicity).
 */
export function checkCommitHistory(events: readonly CommitEvent[], endMs: number): CommitCheckResult {
  const txns = new Map<TxnId, TxnRecord>();
  const violations: CommitViolation[] = [];
  const record = (txn: TxnId): TxnRecord => {
    let r = txns.get(txn);
    if (r === undefined) txns.set(txn, (r = { participants: undefined, yesAt: new Map(), noAt: new Map(), decisions: new Map() }));
    return r;
  };
  for (const e of events) {
    const r = record(e.txn);
    switch (e.kind) {
      case 'begin':
        r.participants ??= e.participants;
        break;
      case 'yes':
        if (!r.yesAt.has(e.node)) r.yesAt.set(e.node, e.atMs);
        break;
      case 'no':
        if (!r.noAt.has(e.node)) r.noAt.set(e.node, e.atMs);
        break;
      case 'commit':
      case 'abort': {
        const earlier = r.decisions.get(e.node);
        if (earlier === undefined) r.decisions.set(e.node, { outcome: e.kind, atMs: e.atMs });
        else if (earlier.outcome !== e.kind) violations.push({ kind: 'atomicity', txn: e.txn, atMs: e.atMs, message: `${e.txn}: node ${e.node} decided ${earlier.outcome} at ${earlier.atMs} ms, then ${e.kind} at ${e.atMs} ms` });
        if (e.kind === 'commit') checkValidity(e, r, violations);
        break;
      }
    }
  }
  const blocking: BlockingInterval[] = [];
  let committed = 0;
  let aborted = 0;
  let undecided = 0;
  for (const [txn, r] of txns) {
    const outcomes = new Set([...r.decisions.values()].map((d) => d.outcome));
    if (outcomes.size > 1) {
      const who = [...r.decisions.entries()].map(([n, d]) => `${n}:${d.outcome}@${d.atMs}`).join(' ');
      violations.push({ kind: 'atomicity', txn, atMs: Math.max(...[...r.decisions.values()].map((d) => d.atMs)), message: `${txn} decided both ways: ${who}` });
    }
    if (outcomes.has('commit')) committed++;
    else if (outcomes.has('abort')) aborted++;
    else undecided++;
    for (const [node, fromMs] of r.yesAt) {
      const d = r.decisions.get(node);
      const toMs = d === undefined || d.atMs < fromMs ? undefined : d.atMs;
      blocking.push({ txn, node, fromMs, toMs, durationMs: (toMs ?? endMs) - fromMs });
    }
  }
  const maxBlockingMs = blocking.reduce((m, b) => Math.max(m, b.durationMs), 0);
  const totalBlockingMs = blocking.reduce((s, b) => s + b.durationMs, 0);
  return {
    ok: violations.length === 0,
    violations,
    transactions: txns.size,
    committed,
    aborted,
    undecided,
    blocking,
    maxBlockingMs,
    totalBlockingMs,
    inDoubtAtEnd: blocking.filter((b) => b.toMs === undefined).length,
  };
}

function checkValidity(e: CommitEvent, r: TxnRecord, violations: CommitViolation[]): void {
  if (r.participants === undefined) return;
  for (const p of r.participants) {
    const yes = r.yesAt.get(p);
    if (yes === undefined || yes > e.atMs) {
      violations.push({ kind: 'validity', txn: e.txn, atMs: e.atMs, message: `${e.txn}: ${e.role} ${e.node} decided commit at ${e.atMs} ms, but participant ${p} had not voted yes` });
      return;
    }
    const no = r.noAt.get(p);
    if (no !== undefined && no > yes) {
      violations.push({ kind: 'validity', txn: e.txn, atMs: e.atMs, message: `${e.txn}: ${e.role} ${e.node} decided commit at ${e.atMs} ms, but participant ${p} voted no at ${no} ms (after its yes)` });
      return;
    }
  }
}

/** One line for reports. */
export function summarizeCommitCheck(r: CommitCheckResult): string {
  const verdict = r.ok ? 'atomicity and validity hold' : `${r.violations.length} violation(s), first: ${r.violations[0]?.message ?? ''}`;
  return `${r.transactions} transactions (${r.committed} committed, ${r.aborted} aborted, ${r.undecided} undecided); ${verdict}; blocking: max ${r.maxBlockingMs} ms, total ${r.totalBlockingMs} ms, ${r.inDoubtAtEnd} in doubt at the end`;
}
