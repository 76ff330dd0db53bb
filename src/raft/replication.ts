// The log side of replication, as pure functions over a RaftLog: how a follower takes an append
// (skip what it has committed, check the previous entry, find where its log diverges) or the hint
// it sends back when the previous entry does not match, and how the leader uses that hint to skip
// a whole conflicting term at once. The core carries out the plan: truncates, appends, persists, answers.
import type { NodeId } from '../core/index.js';
import { assertInvariant } from '../core/index.js';
import type { RaftLog } from './log.js';
import type { LogEntry, RaftMessage } from './types.js';

type Append = Extract<RaftMessage, { type: 'append' }>;
type AppendResp = Extract<RaftMessage, { type: 'appendResp' }>;

/** What a follower does with an append. */
export type AppendPlan =
  /** The entry before the append does not match: answer with the hint. */
  | { readonly kind: 'reject'; readonly rejectedIndex: number; readonly conflictTerm: number | null; readonly conflictIndex: number }
  /**
   * The log matches up to `matchIndex` once `truncateFrom` (the first conflicting index, if any) and
   * what follows are replaced by `append` (the entries the log lacks, possibly none).
   */
  | { readonly kind: 'accept'; readonly matchIndex: number; readonly truncateFrom: number | null; readonly append: readonly LogEntry[] };

/**
 * Plans how node `self`, whose commit index is `commit`, takes `msg` from leader `from`. Fails an
 * invariant when the leader contradicts a committed entry or log matching.
 */
export function planAppend(log: RaftLog, commit: number, msg: Append, self: NodeId, from: NodeId): AppendPlan {
  let prevIndex = msg.prevIndex;
  let prevTerm = msg.prevTerm;
  let entries = msg.entries;
  if (prevIndex < commit) {
    // Entries up to our commit index are committed, hence identical to the leader's: skip them.
    const skip = commit - prevIndex;
    for (const e of entries.slice(0, skip)) {
      const local = log.termAt(e.index);
      assertInvariant(local === undefined || local === e.term, () => `node ${self}: leader ${from} sent term ${e.term} at committed index ${e.index} (local term ${local})`);
    }
    if (skip >= entries.length) return { kind: 'accept', matchIndex: commit, truncateFrom: null, append: [] };
    const atCommit = entries[skip - 1] as LogEntry;
    entries = entries.slice(skip);
    prevIndex = commit;
    prevTerm = atCommit.term;
  }
  const localPrevTerm = log.termAt(prevIndex);
  if (localPrevTerm !== prevTerm) {
    assertInvariant(prevIndex > commit || localPrevTerm === undefined, () => `node ${self}: leader ${from} disagrees at committed index ${prevIndex} (term ${prevTerm} vs ${localPrevTerm})`);
    return { kind: 'reject', rejectedIndex: prevIndex, ...rejectionHint(log, prevIndex, localPrevTerm) };
  }
  for (let k = 0; k < entries.length; k++) {
    const entry = entries[k] as LogEntry;
    assertInvariant(entry.index === prevIndex + 1 + k, () => `node ${self}: append entries not contiguous after ${prevIndex}`);
    const localTerm = log.termAt(entry.index);
    if (localTerm === entry.term) {
      assertSameEntry(log, entry, self);
      continue;
    }
    if (localTerm !== undefined) assertInvariant(entry.index > commit, () => `node ${self}: would overwrite committed entry ${entry.index} (commit ${commit})`);
    return { kind: 'accept', matchIndex: prevIndex + entries.length, truncateFrom: localTerm !== undefined ? entry.index : null, append: entries.slice(k) };
  }
  return { kind: 'accept', matchIndex: prevIndex + entries.length, truncateFrom: null, append: [] };
}

/**
 * The hint a follower sends when its entry at `prevIndex` (of term `localPrevTerm`, undefined when
 * its log is shorter) does not match: that term and its first index, or just where its log ends.
 */
export function rejectionHint(log: RaftLog, prevIndex: number, localPrevTerm: number | undefined): { readonly conflictTerm: number | null; readonly conflictIndex: number } {
  if (localPrevTerm === undefined) return { conflictTerm: null, conflictIndex: log.lastIndex + 1 };
  return { conflictTerm: localPrevTerm, conflictIndex: log.firstIndexOfTerm(localPrevTerm, prevIndex) };
}

/**
 * The leader's next index to try after a rejection: past its last entry of the follower's
 * conflicting term when it has that term, else the follower's conflict index; never at or below
 * what the follower matches (`match`), never beyond the rejected index.
 */
export function nextAfterRejection(log: RaftLog, match: number, msg: AppendResp): number {
  let next = msg.conflictIndex;
  if (msg.conflictTerm !== null) {
    const idx = log.lastIndexWithTermAtMost(msg.conflictTerm, msg.rejectedIndex);
    if (log.termAt(idx) === msg.conflictTerm) next = idx + 1;
  }
  return Math.max(match + 1, Math.min(next, msg.rejectedIndex));
}

/** Log matching: an entry with the same index and term must be the same entry. */
function assertSameEntry(log: RaftLog, entry: LogEntry, self: NodeId): void {
  const local = log.entryAt(entry.index);
  if (local === undefined || local === entry) return;
  assertInvariant(local.kind === entry.kind && JSON.stringify(local.data) === JSON.stringify(entry.data), () => `log matching violated at ${self}: index ${entry.index} term ${entry.term} holds ${JSON.stringify(local)} but the leader sent ${JSON.stringify(entry)}`);
}
