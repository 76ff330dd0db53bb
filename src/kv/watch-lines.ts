// How a watch turns one page of the change log into what its client receives: one batch per
// revision, in order, stopping between revisions when the sender runs out of room and saying
// where to resume. The HTTP host (src/server/kv-watch.ts) writes its JSON lines with it, and the
// simulated watchers of the kv-txn chaos deliver with it, so the chaos judges the serving code.
import { assertInvariant } from '../core/index.js';

/** One revision's events, as one line of a watch stream. */
export interface RevisionBatch<E extends { readonly revision: number }> {
  readonly revision: number;
  readonly events: readonly E[];
}

/**
 * Emits `events` (a `changes` page, ordered by revision) one revision at a time while `hasRoom()`
 * says yes; the first revision always goes, so every page makes progress however large it is.
 * Returns the next revision owed: the page's `nextRevision` when all of it went, else the first
 * revision not sent (resuming there neither skips nor repeats a change).
 */
export function emitByRevision<E extends { readonly revision: number }>(events: readonly E[], nextRevision: number, hasRoom: () => boolean, emit: (batch: RevisionBatch<E>) => void): number {
  let i = 0;
  // each turn emits one revision's events: bounded by the page
  while (i < events.length) {
    const revision = (events[i] as E).revision;
    let j = i + 1;
    while (j < events.length && (events[j] as E).revision === revision) j++;
    assertInvariant(j === events.length || (events[j] as E).revision > revision, () => `a changes page is ordered by revision: ${(events[j] as E).revision} after ${revision}`);
    if (i > 0 && !hasRoom()) return revision;
    emit({ revision, events: events.slice(i, j) });
    i = j;
  }
  return nextRevision;
}
