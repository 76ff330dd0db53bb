// What the kv model leaves out, checked against the committed change log instead: the revision
// numbers in results. Each write that changed something names the revision holding exactly its
// changes; a read answers with the state at the revision it reports (a read of a past revision
// too); and revisions never go back in real time. Pure; the inputs are plain JSON.
import type { JsonValue } from '../core/index.js';
import { canonicalJson, isRecord } from './json.js';
import type { CommittedChanges, WatchEvent, WatchKv } from './watch.js';

/** One operation that completed ok: the KV request as sent and the result as received. */
export interface RevisionedOp {
  /** Its index in the history, for reports. */
  readonly index: number;
  readonly request: JsonValue;
  readonly result: JsonValue;
  readonly invokeMs: number;
  readonly completeMs: number;
}

export type RevisionProblemKind =
  | 'wrong-changes' // the revision a write reported does not hold exactly its changes
  | 'wrong-read' // a read's item is not the committed one at the revision it reported (or asked for)
  | 'revision-order' // a result's revision is below one that completed before it was invoked
  | 'bad-result'; // a result without a usable revision

export interface RevisionProblem {
  readonly kind: RevisionProblemKind;
  readonly index: number;
  readonly revision: number;
  readonly message: string;
}

export interface RevisionCheckResult {
  readonly ok: boolean;
  /** Operations checked. */
  readonly ops: number;
  /** Up to `maxProblems` (default 10), in history order. */
  readonly problems: readonly RevisionProblem[];
}

/** A change a write made, as the change log shows it. `maybe`: a delete of a key that may not have existed (a put of null). */
type Change = { readonly key: string; readonly type: 'put' | 'delete'; readonly value?: string; readonly maybe?: boolean };
/** A range delete of `count` keys (which ones the result does not say). */
type RangeDelete = { readonly prefix?: string; readonly start?: string; readonly end?: string; readonly exclude?: string; readonly count: number };

type Obj = { [key: string]: JsonValue };

function str(v: JsonValue | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function inRange(key: string, r: RangeDelete): boolean {
  if (r.prefix !== undefined && !key.startsWith(r.prefix)) return false;
  if (r.exclude !== undefined && key.startsWith(r.exclude)) return false;
  if (r.start !== undefined && key < r.start) return false;
  if (r.end !== undefined && key >= r.end) return false;
  return true;
}

/** The changes of one write (or txn branch) from its request and its result. */
function changesOf(request: Obj, result: Obj, changes: Change[], ranges: RangeDelete[]): void {
  const key = str(request['key']);
  switch (request['op']) {
    case 'put': {
      const value = request['value'] ?? null;
      if (key === undefined) return;
      changes.push(value === null ? { key, type: 'delete', maybe: true } : { key, type: 'put', value: canonicalJson(value) });
      return;
    }
    case 'delete': {
      const deleted = result['deleted'];
      if (typeof deleted === 'number') {
        const prefix = str(request['prefix']);
        const end = str(request['end']);
        const exclude = str(request['exclude']);
        ranges.push({ ...(prefix === undefined ? { start: key, end } : { prefix }), ...(exclude === undefined ? {} : { exclude }), count: deleted });
      } else if (deleted === true && key !== undefined) changes.push({ key, type: 'delete' });
      return;
    }
    case 'cas':
    case 'casVersion': {
      if (result['swapped'] !== true || key === undefined) return;
      const value = (request['op'] === 'cas' ? request['to'] : request['value']) ?? null;
      changes.push(value === null ? { key, type: 'delete', maybe: true } : { key, type: 'put', value: canonicalJson(value) });
      return;
    }
    case 'incr':
      if (key !== undefined && typeof result['value'] === 'number') changes.push({ key, type: 'put', value: canonicalJson(result['value']) });
      return;
    case 'txn': {
      const succeeded = result['succeeded'];
      const ops = request[succeeded === true ? 'success' : 'failure'];
      const results = result['results'];
      if (!Array.isArray(ops) || !Array.isArray(results)) return;
      ops.forEach((op, i) => {
        const r = results[i];
        if (isRecord(op) && r !== undefined && isRecord(r)) changesOf(op, r, changes, ranges);
      });
      return;
    }
    default:
      return;
  }
}

/** Why the events at a revision are not exactly `changes` and `ranges`, or null when they are. */
function changesProblem(events: readonly WatchEvent[], changes: readonly Change[], ranges: readonly RangeDelete[]): string | null {
  const byKey = new Map(events.map((e) => [e.kv.key, e]));
  const claimed = new Set<string>();
  for (const c of changes) {
    const e = byKey.get(c.key);
    if (c.maybe === true) {
      if (e !== undefined && e.type !== 'delete') return `${JSON.stringify(c.key)} should be deleted, the log has a put`;
      if (e !== undefined) claimed.add(c.key);
      continue;
    }
    if (e === undefined) return `the log has no change of ${JSON.stringify(c.key)} there`;
    if (e.type !== c.type || (c.type === 'put' && canonicalJson(e.kv.value) !== c.value)) return `${JSON.stringify(c.key)}: the log has ${e.type} ${JSON.stringify(e.kv.value)}, the write made ${c.type} ${c.value ?? ''}`;
    claimed.add(c.key);
  }
  for (const r of ranges) {
    const hit = events.filter((e) => e.type === 'delete' && !claimed.has(e.kv.key) && inRange(e.kv.key, r));
    if (hit.length !== r.count) return `a range delete of ${r.count} keys, the log deletes ${hit.length} there`;
    for (const e of hit) claimed.add(e.kv.key);
  }
  const extra = events.find((e) => !claimed.has(e.kv.key));
  return extra === undefined ? null : `the log also has ${extra.type} ${JSON.stringify(extra.kv.key)} there, which the write did not make`;
}

/** Each key's committed items by revision: what a read at revision R must answer. */
class KeyTimeline {
  private readonly byKey = new Map<string, { revs: number[]; items: (WatchKv | null)[] }>();

  constructor(events: readonly WatchEvent[]) {
    for (const e of events) {
      let line = this.byKey.get(e.kv.key);
      if (line === undefined) this.byKey.set(e.kv.key, (line = { revs: [], items: [] }));
      line.revs.push(e.revision);
      line.items.push(e.type === 'put' ? e.kv : null);
    }
  }

  /** The item of `key` at revision `at`, null when absent. */
  at(key: string, at: number): WatchKv | null {
    const line = this.byKey.get(key);
    if (line === undefined) return null;
    let lo = 0;
    let hi = line.revs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (line.revs[mid]! <= at) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? null : line.items[lo - 1]!;
  }
}

function readProblem(result: Obj, item: WatchKv | null): string | null {
  const want = item === null ? { value: null, version: 0, createRevision: 0, modRevision: 0 } : item;
  const same =
    canonicalJson(result['value'] ?? null) === canonicalJson(want.value) &&
    result['version'] === want.version &&
    result['createRevision'] === want.createRevision &&
    result['modRevision'] === want.modRevision;
  return same ? null : `read ${canonicalJson(result['value'] ?? null)} (version ${String(result['version'])}, modRevision ${String(result['modRevision'])}), the log has ${canonicalJson(want.value)} (version ${want.version}, modRevision ${want.modRevision})`;
}

/**
 * Checks the revisions of ok results against the committed changes (complete from revision 1,
 * as read from a settled node before any compaction): see the file comment.
 */
export function checkKvRevisions(committed: CommittedChanges, ops: readonly RevisionedOp[], maxProblems = 10): RevisionCheckResult {
  const problems: RevisionProblem[] = [];
  const report = (kind: RevisionProblemKind, op: RevisionedOp, revision: number, why: string): void => {
    if (problems.length < maxProblems) problems.push({ kind, index: op.index, revision, message: `operation ${op.index}: ${kind} at revision ${revision}: ${why}` });
  };
  const byRevision = new Map<number, WatchEvent[]>();
  for (const e of committed.events) {
    const list = byRevision.get(e.revision);
    if (list === undefined) byRevision.set(e.revision, [e]);
    else list.push(e);
  }
  const timeline = new KeyTimeline(committed.events);
  /** Revision of each op, and whether it took one of its own. */
  const stamps: { op: RevisionedOp; revision: number; wrote: boolean }[] = [];
  for (const op of ops) {
    const request = op.request;
    const result = op.result;
    if (!isRecord(request) || !isRecord(result) || typeof result['revision'] !== 'number') {
      report('bad-result', op, 0, 'no request object or no result revision');
      continue;
    }
    const revision = result['revision'];
    if (revision > committed.throughRevision) {
      report('bad-result', op, revision, `the result's revision is past the committed history (${committed.throughRevision})`);
      continue;
    }
    const changes: Change[] = [];
    const ranges: RangeDelete[] = [];
    changesOf(request, result, changes, ranges);
    const definite = changes.some((c) => c.maybe !== true) || ranges.some((r) => r.count > 0);
    stamps.push({ op, revision, wrote: definite });
    if (definite) {
      const problem = changesProblem(byRevision.get(revision) ?? [], changes, ranges);
      if (problem !== null) report('wrong-changes', op, revision, problem);
    } else if (request['op'] === 'get' && typeof request['key'] === 'string') {
      // a read of the present answers at its own revision; a read of the past at the one it asked
      const asked = request['revision'];
      const at = typeof asked === 'number' && asked > 0 ? asked : revision;
      const problem = readProblem(result, timeline.at(request['key'], at));
      if (problem !== null) report('wrong-read', op, at, problem);
    }
  }
  checkRealTime(stamps, (s, floor) => report('revision-order', s.op, s.revision, `${s.wrote ? 'a write at' : 'a result at'} revision ${s.revision}, though a result at revision ${floor} completed before it was invoked`));
  return { ok: problems.length === 0, ops: ops.length, problems };
}

/** Revisions never go back in real time: a result is at or after every result that completed before its invocation; a write strictly after. */
function checkRealTime(stamps: readonly { op: RevisionedOp; revision: number; wrote: boolean }[], report: (s: (typeof stamps)[number], floor: number) => void): void {
  const byInvoke = [...stamps].sort((a, b) => a.op.invokeMs - b.op.invokeMs);
  const byComplete = [...stamps].sort((a, b) => a.op.completeMs - b.op.completeMs);
  let floor = 0;
  let c = 0;
  for (const s of byInvoke) {
    while (c < byComplete.length && byComplete[c]!.op.completeMs < s.op.invokeMs) floor = Math.max(floor, byComplete[c++]!.revision);
    if (s.revision < floor || (s.wrote && s.revision === floor)) report(s, floor);
  }
}
