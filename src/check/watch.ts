// The watch checker: given the committed history of a KV's changes (every revision's events) and
// what each watcher received (its selector, start revision and deliveries, across reconnects),
// verifies that each stream is exactly the committed history of its range from its start:
// revision order, no gap, no duplicate, a revision never split, prevKv right. Pure and total.
import type { JsonValue } from '../core/index.js';
import { CheckError } from './errors.js';
import { canonicalJson } from './json.js';

/** A key's item as a change event carries it (Synod's KvItem). */
export type WatchKv = {
  readonly key: string;
  readonly value: JsonValue;
  readonly version: number;
  readonly createRevision: number;
  readonly modRevision: number;
  readonly lease?: number;
};

/** One change (Synod's KvEvent): a delete's `kv` has value null, version and createRevision 0. */
export type WatchEvent = {
  readonly type: 'put' | 'delete';
  readonly kv: WatchKv;
  /** The key's item before the change, when it existed (and, for a watcher, when it asked). */
  readonly prevKv?: WatchKv;
  readonly revision: number;
};

/** One key, `[key, end)`, or a `prefix` (`""`: every key), minus keys starting with `exclude`. */
export type WatchSelector = { readonly key?: string; readonly end?: string; readonly prefix?: string; readonly exclude?: string };

/** What a watcher got in one message (a pull's page, a stream's message). */
export interface WatchDelivery {
  readonly events: readonly WatchEvent[];
  /** The watcher has now been told every matching change up to this revision (a page's nextRevision - 1, a progress notification). */
  readonly progressRevision?: number;
  /** Where it came from (a node), for reports. */
  readonly source?: string;
}

export interface WatcherRecord {
  readonly id: string;
  readonly selector: WatchSelector;
  /** The first revision it asked for (>= 1). */
  readonly startRevision: number;
  readonly prevKv?: boolean;
  readonly noPut?: boolean;
  readonly noDelete?: boolean;
  /** Everything it received, in the order it received it, across reconnects. */
  readonly deliveries: readonly WatchDelivery[];
}

/** The committed changes: every event of every revision up to `throughRevision`, in revision order, keys sorted within one, with `prevKv` wherever the key existed before. */
export interface CommittedChanges {
  readonly events: readonly WatchEvent[];
  /** The last revision the history is complete through (no watcher can have seen beyond it). */
  readonly throughRevision: number;
  /** The first revision it holds completely (default 1); watchers starting earlier cannot be checked. */
  readonly fromRevision?: number;
}

export type WatchProblem =
  | 'gap' // an event of the watcher's range never came, though later ones (or progress past it) did
  | 'duplicate' // an event came twice
  | 'out-of-order' // an event came before one of an earlier revision (or key within a revision)
  | 'split-revision' // one revision's events came in two deliveries, or only some of them came
  | 'wrong-event' // the right revision and key, but not the committed change
  | 'wrong-prev-kv' // prevKv missing, wrong, or sent when not asked for
  | 'unexpected-event' // a change that is not in the committed history of the watcher's range
  | 'before-start' // an event before the watcher's start revision
  | 'future-progress'; // progress claimed past the end of the committed history

export interface WatchDiscrepancy {
  readonly watcher: string;
  readonly problem: WatchProblem;
  readonly revision: number;
  readonly key: string | null;
  /** Index of the delivery and of the event in the whole stream (-1 when about the end of the stream). */
  readonly delivery: number;
  readonly position: number;
  readonly expected: WatchEvent | null;
  readonly got: WatchEvent | null;
  readonly message: string;
}

export interface WatchCheckResult {
  readonly ok: boolean;
  readonly watchers: number;
  /** Events received, over all watchers. */
  readonly events: number;
  /** The first discrepancy of each watcher that has one, in the order watchers were given. */
  readonly discrepancies: readonly WatchDiscrepancy[];
}

function inSelector(key: string, s: WatchSelector): boolean {
  if (s.exclude !== undefined && key.startsWith(s.exclude)) return false;
  if (s.prefix !== undefined) return key.startsWith(s.prefix);
  if (s.key === undefined) return false;
  return s.end === undefined ? key === s.key : key >= s.key && key < s.end;
}

function describeSelector(s: WatchSelector): string {
  const base = s.prefix !== undefined ? `prefix ${JSON.stringify(s.prefix)}` : s.end !== undefined ? `[${JSON.stringify(s.key)}, ${JSON.stringify(s.end)})` : `key ${JSON.stringify(s.key)}`;
  return s.exclude === undefined ? base : `${base} minus ${JSON.stringify(s.exclude)}`;
}

/** Events order by revision, then key (UTF-16 code units), as the store's change log. */
function order(a: WatchEvent, b: WatchEvent): number {
  return a.revision - b.revision || (a.kv.key < b.kv.key ? -1 : a.kv.key > b.kv.key ? 1 : 0);
}

const idOf = (e: WatchEvent): string => `${e.revision}\u0000${e.kv.key}`;

function sameKv(a: WatchKv | undefined, b: WatchKv | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return (
    a.key === b.key &&
    a.version === b.version &&
    a.createRevision === b.createRevision &&
    a.modRevision === b.modRevision &&
    (a.lease ?? 0) === (b.lease ?? 0) &&
    canonicalJson(a.value) === canonicalJson(b.value)
  );
}

/** `put "k" = 3 (version 2) at revision 7`, values cut at 60 characters. */
export function describeWatchEvent(e: WatchEvent | null): string {
  if (e === null) return 'nothing';
  const value = JSON.stringify(e.kv.value) ?? 'undefined';
  const shown = value.length > 60 ? `${value.slice(0, 60)}…` : value;
  const body = e.type === 'put' ? `put ${JSON.stringify(e.kv.key)} = ${shown} (version ${e.kv.version})` : `delete ${JSON.stringify(e.kv.key)}`;
  const prev = e.prevKv === undefined ? '' : `, prevKv = ${JSON.stringify(e.prevKv.value)?.slice(0, 60)} (version ${e.prevKv.version})`;
  return `${body}${prev} at revision ${e.revision}`;
}

function checkCommitted(committed: CommittedChanges): void {
  const { events, throughRevision } = committed;
  if (!Number.isSafeInteger(throughRevision) || throughRevision < 0) throw new CheckError('HISTORY_FORMAT', `committed changes: throughRevision must be an integer >= 0, not ${throughRevision}`);
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    if (!Number.isSafeInteger(e.revision) || e.revision < 1 || e.revision > throughRevision) {
      throw new CheckError('HISTORY_FORMAT', `committed changes: event ${i} has revision ${e.revision}, outside [1, ${throughRevision}]`);
    }
    if (i > 0 && order(events[i - 1]!, e) >= 0) throw new CheckError('HISTORY_FORMAT', `committed changes: event ${i} (${describeWatchEvent(e)}) is not after event ${i - 1} in revision and key order`);
  }
}

/** The stream a watcher should get: its range's committed events from its start, filtered, prevKv only when asked. */
function expectedStream(committed: CommittedChanges, w: WatcherRecord): WatchEvent[] {
  const out: WatchEvent[] = [];
  for (const e of committed.events) {
    if (e.revision < w.startRevision || !inSelector(e.kv.key, w.selector)) continue;
    if (e.type === 'put' ? w.noPut === true : w.noDelete === true) continue;
    if (w.prevKv === true || e.prevKv === undefined) out.push(e);
    else out.push({ type: e.type, kv: e.kv, revision: e.revision });
  }
  return out;
}

/** The first discrepancy in one watcher's stream, or null when it is exactly what was committed. */
export function checkWatcher(committed: CommittedChanges, w: WatcherRecord): WatchDiscrepancy | null {
  if (!Number.isSafeInteger(w.startRevision) || w.startRevision < (committed.fromRevision ?? 1)) {
    throw new CheckError('BAD_OP', `watcher ${w.id}: startRevision ${w.startRevision} is not an integer >= ${committed.fromRevision ?? 1} (the first revision the committed history holds)`);
  }
  const expected = expectedStream(committed, w);
  const place = new Map<string, number>(expected.map((e, k) => [idOf(e), k]));
  const positions = new Map<string, number[]>();
  let count = 0;
  w.deliveries.forEach((d) => {
    for (const e of d.events) {
      const list = positions.get(idOf(e)) ?? [];
      list.push(count++);
      positions.set(idOf(e), list);
    }
  });
  const who = `watcher ${w.id} (${describeSelector(w.selector)} from revision ${w.startRevision})`;
  const found = (problem: WatchProblem, delivery: number, position: number, want: WatchEvent | null, got: WatchEvent | null, why: string): WatchDiscrepancy => {
    // a missing or late event is about the expected one; anything else about what came
    const about = problem === 'gap' || problem === 'split-revision' || problem === 'out-of-order' ? (want ?? got) : (got ?? want);
    const where = position < 0 ? 'at the end of its stream' : `in delivery ${delivery}${w.deliveries[delivery]?.source === undefined ? '' : ` from ${w.deliveries[delivery]?.source}`}, event ${position}`;
    return {
      watcher: w.id,
      problem,
      revision: about?.revision ?? 0,
      key: about?.kv.key ?? null,
      delivery,
      position,
      expected: want,
      got,
      message: `${who}: ${problem} at revision ${about?.revision ?? '?'} ${where}: ${why}; expected ${describeWatchEvent(want)}, got ${describeWatchEvent(got)}`,
    };
  };
  let next = 0;
  let position = 0;
  let last: { event: WatchEvent; delivery: number } | null = null;
  for (let d = 0; d < w.deliveries.length; d++) {
    const delivery = w.deliveries[d]!;
    for (const got of delivery.events) {
      const at = position++;
      const want = expected[next] ?? null;
      if (got.revision < w.startRevision) return found('before-start', d, at, want, got, `the watcher started at revision ${w.startRevision}`);
      if (last !== null && order(got, last.event) <= 0) {
        const before = positions.get(idOf(got)) ?? [];
        if (before.some((p) => p < at)) return found('duplicate', d, at, want, got, 'this event came before');
        return found('out-of-order', d, at, want, got, `it came after ${describeWatchEvent(last.event)}`);
      }
      const k = place.get(idOf(got));
      if (k === undefined) return found('unexpected-event', d, at, want, got, 'no such change of its range was committed');
      if (k > next) {
        const missing = expected[next]!;
        if (last !== null && missing.revision === last.event.revision) return found('split-revision', d, at, missing, got, `the rest of revision ${missing.revision} did not come with its first events`);
        const later = (positions.get(idOf(missing)) ?? []).some((p) => p > at);
        return found(later ? 'out-of-order' : 'gap', d, at, missing, got, later ? 'the expected event came later' : 'the expected event never came');
      }
      // k === next: the committed event; its content must be too
      if (got.type !== want!.type || !sameKv(got.kv, want!.kv)) return found('wrong-event', d, at, want, got, 'not the committed change');
      if (!sameKv(got.prevKv, want!.prevKv)) {
        const why = w.prevKv === true ? 'prevKv is not the key\'s item before the change' : 'prevKv was not asked for';
        return found('wrong-prev-kv', d, at, want, got, why);
      }
      if (last !== null && last.event.revision === got.revision && last.delivery !== d) {
        return found('split-revision', d, at, want, got, `revision ${got.revision} began in delivery ${last.delivery}`);
      }
      next++;
      last = { event: got, delivery: d };
    }
    const progress = delivery.progressRevision;
    if (progress === undefined) continue;
    if (progress > committed.throughRevision) {
      return found('future-progress', d, position - 1, null, null, `it claims to have seen everything through revision ${progress}, but the committed history ends at ${committed.throughRevision}`);
    }
    const pending = expected[next];
    if (pending !== undefined && pending.revision <= progress) {
      if (last !== null && pending.revision === last.event.revision) {
        return found('split-revision', d, position - 1, pending, null, `delivery ${d} claims everything through revision ${progress}, but only part of revision ${pending.revision} came`);
      }
      return found('gap', d, position - 1, pending, null, `delivery ${d} claims everything through revision ${progress}, but this change never came`);
    }
  }
  const pending = expected[next];
  if (last !== null && pending !== undefined && pending.revision <= last.event.revision) {
    return found('split-revision', last.delivery, -1, pending, null, `only part of revision ${pending.revision} came`);
  }
  return null;
}

/** Checks every watcher against the committed changes; the first discrepancy of each is reported. */
export function checkWatches(committed: CommittedChanges, watchers: readonly WatcherRecord[]): WatchCheckResult {
  checkCommitted(committed);
  const discrepancies: WatchDiscrepancy[] = [];
  let events = 0;
  for (const w of watchers) {
    for (const d of w.deliveries) events += d.events.length;
    const problem = checkWatcher(committed, w);
    if (problem !== null) discrepancies.push(problem);
  }
  return { ok: discrepancies.length === 0, watchers: watchers.length, events, discrepancies };
}
