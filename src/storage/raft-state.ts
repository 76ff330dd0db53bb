// The logical durable state of a Raft node (snapshot, hard state, log) and the pure rules that
// fold persist ops into it. Recovery folds what it reads and hands back the compact equivalent,
// so create() replays a handful of ops instead of the whole history.
import { failStorage } from './errors.js';
import type { HardState, JsonValue, LogEntry, RaftPersistOp, SnapshotMeta } from './raft-types.js';

export interface RaftDurableState {
  readonly snapshot: { readonly meta: SnapshotMeta; readonly data: JsonValue; readonly hardState: HardState } | null;
  readonly hardState: HardState | null;
  /** Contiguous by index. */
  readonly log: readonly LogEntry[];
}

export const EMPTY_RAFT_STATE: RaftDurableState = { snapshot: null, hardState: null, log: [] };

/** Applies one op. Entries replace the stored entry at their first index and everything after. */
export function applyRaftOp(state: RaftDurableState, op: RaftPersistOp): RaftDurableState {
  switch (op.kind) {
    case 'hardState':
      return { ...state, hardState: op.state };
    case 'entries':
      return op.entries.length === 0 ? state : { ...state, log: spliceLog(state.log, op.entries) };
    case 'snapshot':
      return { snapshot: { meta: op.meta, data: op.data, hardState: op.hardState }, hardState: op.hardState, log: [...op.entriesAfter] };
  }
}

export function foldRaftOps(ops: readonly RaftPersistOp[], from: RaftDurableState = EMPTY_RAFT_STATE): RaftDurableState {
  return ops.reduce(applyRaftOp, from);
}

/** Keeps stored entries below the first new index, then appends the new ones. */
function spliceLog(log: readonly LogEntry[], entries: readonly LogEntry[]): LogEntry[] {
  const firstNew = (entries[0] as LogEntry).index;
  const firstOld = log[0]?.index ?? firstNew;
  const keep = Math.max(0, Math.min(log.length, firstNew - firstOld));
  return [...log.slice(0, keep), ...entries];
}

/** The shortest op list that folds to `state`: [snapshot?, hardState?, entries?]. */
export function raftStateToOps(state: RaftDurableState): RaftPersistOp[] {
  const ops: RaftPersistOp[] = [];
  if (state.snapshot !== null) ops.push({ kind: 'snapshot', ...state.snapshot, entriesAfter: [] });
  if (state.hardState !== null) ops.push({ kind: 'hardState', state: state.hardState });
  if (state.log.length > 0) ops.push({ kind: 'entries', entries: state.log });
  return ops;
}

/** Index of the last entry the state holds or covers; null for a node that has stored nothing. */
export function lastIndexOf(state: RaftDurableState): number | null {
  const last = state.log[state.log.length - 1];
  return last?.index ?? state.snapshot?.meta.index ?? null;
}

/**
 * Rejects ops that would leave a hole in the log: entries must be consecutive, and a batch may
 * not start beyond the entry after the current last one. Returns the new last index.
 */
export function checkRaftOp(op: RaftPersistOp, lastIndex: number | null): number | null {
  switch (op.kind) {
    case 'hardState':
      checkHardState(op.state);
      return lastIndex;
    case 'entries': {
      checkConsecutive(op.entries, 'entries');
      const first = op.entries[0];
      if (first === undefined) return lastIndex;
      if (lastIndex !== null && first.index > lastIndex + 1) {
        failStorage('STORAGE_INVALID_OP', `entries start at index ${first.index}, leaving a gap after the last stored index ${lastIndex}`);
      }
      return (op.entries[op.entries.length - 1] as LogEntry).index;
    }
    case 'snapshot':
      checkHardState(op.hardState);
      checkIndex(op.meta.index, 'snapshot index');
      checkConsecutive(op.entriesAfter, 'snapshot entriesAfter');
      return op.entriesAfter[op.entriesAfter.length - 1]?.index ?? op.meta.index;
  }
}

function checkConsecutive(entries: readonly LogEntry[], what: string): void {
  for (const [i, entry] of entries.entries()) {
    checkIndex(entry.index, `${what} index`);
    const prev = entries[i - 1];
    if (prev !== undefined && entry.index !== prev.index + 1) {
      failStorage('STORAGE_INVALID_OP', `${what} are not consecutive: index ${entry.index} follows ${prev.index}`);
    }
  }
}

function checkIndex(index: number, what: string): void {
  if (!Number.isSafeInteger(index) || index < 0) failStorage('STORAGE_INVALID_OP', `${what} must be a non-negative safe integer, got ${index}`);
}

function checkHardState(state: HardState): void {
  if (!Number.isSafeInteger(state.term) || !Number.isSafeInteger(state.commit)) {
    failStorage('STORAGE_INVALID_OP', `hard state term and commit must be safe integers, got ${state.term} and ${state.commit}`);
  }
}
