// Which reads were stale: an acknowledged write of the key had ended before the read began and the
// read's context does not cover its dot. Over plain dkv history data (src/check/dkv), so that
// scenarios, tests and the visualizer judge alike.
import { dotText, vvCovers, type DkvDot, type DkvOp, type DkvReadOp } from '../../check/dkv/index.js';

export type ReadFreshness = 'fresh' | 'stale' | 'failed';

export interface ReadVerdict {
  /** The read's index in the history. */
  readonly index: number;
  readonly verdict: ReadFreshness;
  /** The acknowledged writes it missed (dots as "actor:counter"), oldest first. */
  readonly missed: readonly string[];
}

/**
 * Every read of `ops`, judged. "Completed before the read started" is strict in virtual ms: a
 * write answered in the very millisecond the read began counts as concurrent, never as missed.
 */
export function readVerdicts(ops: readonly DkvOp[]): ReadVerdict[] {
  const out: ReadVerdict[] = [];
  ops.forEach((op, index) => {
    if (op.kind !== 'read') return;
    out.push({ index, ...judgeRead(op, ops) });
  });
  return out;
}

function judgeRead(read: DkvReadOp, ops: readonly DkvOp[]): { verdict: ReadFreshness; missed: string[] } {
  if (read.outcome !== 'ok' || read.context === null) return { verdict: 'failed', missed: [] };
  const context = read.context;
  const missed: DkvDot[] = [];
  for (const op of ops) {
    if (op.kind !== 'write' || op.key !== read.key || op.outcome !== 'ok' || op.dot === null) continue;
    if (op.endMs < read.startMs && !vvCovers(context, op.dot)) missed.push(op.dot);
  }
  return { verdict: missed.length > 0 ? 'stale' : 'fresh', missed: missed.map(dotText) };
}
