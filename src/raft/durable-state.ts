// The logical durable state of a Raft node (snapshot, hard state, log) and the pure rules that
// fold persist ops into it. Storage recovery folds what it reads and hands back the compact
// equivalent, so create() replays a handful of ops; the visualizer folds a crashed node's disk.
import type { JsonValue } from '../sim/history.js';
import type { HardState, LogEntry, RaftPersistOp, SnapshotMeta } from './types.js';

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
