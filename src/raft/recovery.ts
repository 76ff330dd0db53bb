// Restart of a Raft node: folds the durable ops its host read back (hard states, entries,
// snapshots, in write order) into the in-memory log and configuration history, checking that
// they describe a log this node could have written. Pure apart from filling the given log.
import type { NodeId } from '../core/index.js';
import { RaftError } from './errors.js';
import type { RaftLog } from './log.js';
import { membershipFromJson, type ConfigHistory } from './membership.js';
import { parseSnapshotPayload, type SnapshotPayload } from './snapshots.js';
import type { HardState, RaftPersistOp, SnapshotMeta } from './types.js';

export interface Recovered {
  readonly hardState: HardState;
  /** The latest snapshot's metadata (`initialMeta` when there is none) and payload. */
  readonly snapshotMeta: SnapshotMeta;
  readonly snapshotPayload: SnapshotPayload | undefined;
}

/**
 * Replays `durable` into `log` (empty) and `configs`. `initialMeta` describes the state before any
 * snapshot (index 0, the bootstrap configuration). Throws BAD_DURABLE_STATE when entries do not
 * continue the log, or the stored commit index lies outside it.
 */
export function recover(self: NodeId, durable: readonly RaftPersistOp[], log: RaftLog, configs: ConfigHistory, initialMeta: SnapshotMeta): Recovered {
  let hardState: HardState = { term: 0, vote: null, commit: 0 };
  let snapshotMeta = initialMeta;
  let snapshotPayload: SnapshotPayload | undefined;
  for (const op of durable) {
    switch (op.kind) {
      case 'hardState':
        hardState = op.state;
        break;
      case 'entries': {
        const first = op.entries[0];
        if (first === undefined) break;
        if (first.index <= log.snapshotIndex || first.index > log.lastIndex + 1) {
          throw new RaftError('BAD_DURABLE_STATE', `node ${self}: stored entries start at ${first.index}, outside (${log.snapshotIndex}, ${log.lastIndex + 1}]`);
        }
        log.replaceFrom(op.entries);
        break;
      }
      case 'snapshot':
        log.reset(op.meta.index, op.meta.term, op.entriesAfter);
        snapshotMeta = op.meta;
        snapshotPayload = parseSnapshotPayload(op.data);
        hardState = op.hardState;
        break;
    }
  }
  if (hardState.commit < log.snapshotIndex || hardState.commit > log.lastIndex) {
    throw new RaftError('BAD_DURABLE_STATE', `node ${self}: stored commit ${hardState.commit} outside the stored log [${log.snapshotIndex}, ${log.lastIndex}]`);
  }
  configs.reset(log.snapshotIndex, membershipFromJson(snapshotMeta.config));
  for (const entry of log.all()) if (entry.kind === 'config') configs.add(entry.index, membershipFromJson(entry.data));
  return { hardState, snapshotMeta, snapshotPayload };
}
