// Validation of Raft persist ops before the log writes them: entries must not leave a hole and
// numbers must be safe integers. The fold itself is Raft's (src/raft/durable-state.ts).
import { failStorage } from './errors.js';
import type { HardState, LogEntry, RaftPersistOp } from './raft-types.js';

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
