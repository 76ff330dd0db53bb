// Lock safety over recorded events with real (simulated) times: the mutex checker (no two grants
// of one lock held at once, judged as the lock service saw them, as the clients believed, or as
// the clients could legitimately believe by their own clocks) and the fenced-resource checker (no
// write of a superseded holder accepted after a newer holder's). Pure: any host may feed them.

/** Whose view an event records: the lock service's (grant, release, expiry) or a client's (what it believed). */
export type LockEventSource = 'service' | 'client';

/**
 * acquired: the grant began (service: granted; client: learned it holds). released: given up.
 * lost: ended without a release (service: expired, or lost in a crash; client: learned it lost
 * it, or gave up). validity-passed: the client's own clock passed the end of the validity it
 * computed; it ends the client's *legitimate* belief, not its belief (a paused client cannot know).
 */
export type LockEventKind = 'acquired' | 'released' | 'lost' | 'validity-passed';

export interface LockEvent {
  readonly atMs: number;
  readonly lock: string;
  /** Unique per grant, the same in the service's and the client's events (a lease id, a random value). */
  readonly grant: string;
  /** The client process holding it. */
  readonly holder: string;
  /** The grant's fencing token, when the backend gives one. */
  readonly token: number | null;
  readonly by: LockEventSource;
  readonly kind: LockEventKind;
}

/**
 * service: from grant to release or expiry as the lock service saw them. client: from when the
 * client learned it held the lock to when it released it or learned it lost it (what a paused
 * client acts on). client-valid: as client, cut short when the client's clock passed its validity.
 */
export type MutexView = 'service' | 'client' | 'client-valid';

export const MUTEX_VIEWS: readonly MutexView[] = ['service', 'client', 'client-valid'];

export interface HoldInterval {
  readonly lock: string;
  readonly grant: string;
  readonly holder: string;
  readonly token: number | null;
  readonly fromMs: number;
  /** null: still held when the history ends. */
  readonly toMs: number | null;
  readonly endedBy: LockEventKind | null;
}

export interface MutexOverlap {
  readonly lock: string;
  readonly view: MutexView;
  readonly first: HoldInterval;
  readonly second: HoldInterval;
  /** When both were held. */
  readonly fromMs: number;
  readonly toMs: number | null;
  readonly message: string;
}

export interface MutexResult {
  readonly view: MutexView;
  readonly ok: boolean;
  readonly intervals: number;
  /** The first overlaps found (at most `maxReported`); `overlapCount` counts all. */
  readonly overlaps: readonly MutexOverlap[];
  readonly overlapCount: number;
  /** Malformed events (a grant acquired twice in one view). */
  readonly problems: readonly string[];
}

export interface MutexOptions {
  /** Overlaps (and problems) reported at most; the rest are counted. Default 20. */
  readonly maxReported?: number;
}

const DEFAULT_MAX_REPORTED = 20;

function endsInView(kind: LockEventKind, view: MutexView): boolean {
  if (kind === 'released' || kind === 'lost') return true;
  return kind === 'validity-passed' && view === 'client-valid';
}

function byTime<T extends { readonly atMs: number }>(items: readonly T[]): T[] {
  // stable: events at the same millisecond keep the order they were recorded in
  return items.map((item, i) => ({ item, i })).sort((a, b) => a.item.atMs - b.item.atMs || a.i - b.i).map((x) => x.item);
}

/** The holding intervals of one view, from events in any order (ties keep their recorded order). */
export function holdIntervals(events: readonly LockEvent[], view: MutexView): { intervals: HoldInterval[]; problems: string[] } {
  const source: LockEventSource = view === 'service' ? 'service' : 'client';
  const open = new Map<string, { e: LockEvent }>();
  const seen = new Set<string>();
  const intervals: HoldInterval[] = [];
  const problems: string[] = [];
  for (const e of byTime(events)) {
    if (e.by !== source) continue;
    const id = `${e.lock}\u0000${e.grant}`;
    if (e.kind === 'acquired') {
      if (seen.has(id)) {
        problems.push(`${view} view: grant ${e.grant} of lock ${JSON.stringify(e.lock)} acquired again at ${e.atMs} ms`);
        continue;
      }
      seen.add(id);
      open.set(id, { e });
    } else if (endsInView(e.kind, view)) {
      const o = open.get(id);
      if (o === undefined) continue; // ended already (a release after a validity end, say) or never began in this view
      open.delete(id);
      intervals.push({ lock: e.lock, grant: e.grant, holder: o.e.holder, token: o.e.token ?? e.token, fromMs: o.e.atMs, toMs: e.atMs, endedBy: e.kind });
    }
  }
  for (const { e } of open.values()) intervals.push({ lock: e.lock, grant: e.grant, holder: e.holder, token: e.token, fromMs: e.atMs, toMs: null, endedBy: null });
  return { intervals, problems };
}

function describeInterval(i: HoldInterval): string {
  const token = i.token === null ? '' : ` (token ${i.token})`;
  return `${i.holder}'s grant ${i.grant}${token} [${i.fromMs}, ${i.toMs === null ? 'end' : `${i.toMs}`}) ms`;
}

const endOf = (i: HoldInterval): number => i.toMs ?? Number.POSITIVE_INFINITY;

/** No two grants of one lock held at once in `view`: intervals that share any time (touching ends do not). */
export function checkMutex(events: readonly LockEvent[], view: MutexView, options: MutexOptions = {}): MutexResult {
  const max = options.maxReported ?? DEFAULT_MAX_REPORTED;
  const { intervals, problems } = holdIntervals(events, view);
  const byLock = new Map<string, HoldInterval[]>();
  for (const i of intervals) {
    let list = byLock.get(i.lock);
    if (list === undefined) byLock.set(i.lock, (list = []));
    list.push(i);
  }
  const overlaps: MutexOverlap[] = [];
  let overlapCount = 0;
  for (const [lock, list] of byLock) {
    list.sort((a, b) => a.fromMs - b.fromMs || endOf(a) - endOf(b));
    // a sweep: the intervals still open when each one begins
    let active: HoldInterval[] = [];
    for (const next of list) {
      active = active.filter((a) => endOf(a) > next.fromMs);
      for (const a of active) {
        if (endOf(next) <= next.fromMs) continue; // empty interval
        overlapCount++;
        if (overlaps.length >= max) continue;
        const toMs = Math.min(endOf(a), endOf(next));
        overlaps.push({
          lock,
          view,
          first: a,
          second: next,
          fromMs: next.fromMs,
          toMs: Number.isFinite(toMs) ? toMs : null,
          message: `${view} view: lock ${JSON.stringify(lock)} held twice from ${next.fromMs} ms: ${describeInterval(a)} and ${describeInterval(next)}`,
        });
      }
      active.push(next);
    }
  }
  return { view, ok: overlapCount === 0 && problems.length === 0, intervals: intervals.length, overlaps, overlapCount, problems: problems.slice(0, max) };
}

export interface GrantProblem {
  readonly kind: 'client-ahead-of-service' | 'token-mismatch' | 'token-order';
  readonly atMs: number;
  readonly message: string;
}

/**
 * What ties the two views together: a client believes it holds only a grant the service made
 * (at or before the client learned of it) with the same token, and the service's tokens of a lock
 * rise with every grant.
 */
export function checkGrants(events: readonly LockEvent[], options: MutexOptions = {}): { ok: boolean; problems: GrantProblem[]; problemCount: number } {
  const max = options.maxReported ?? DEFAULT_MAX_REPORTED;
  const granted = new Map<string, LockEvent>();
  const lastToken = new Map<string, LockEvent>();
  const problems: GrantProblem[] = [];
  let problemCount = 0;
  const report = (p: GrantProblem): void => {
    problemCount++;
    if (problems.length < max) problems.push(p);
  };
  for (const e of byTime(events)) {
    if (e.kind !== 'acquired') continue;
    const id = `${e.lock}\u0000${e.grant}`;
    if (e.by === 'service') {
      if (!granted.has(id)) granted.set(id, e);
      if (e.token === null) continue;
      const last = lastToken.get(e.lock);
      if (last !== undefined && last.token !== null && e.token <= last.token) {
        report({ kind: 'token-order', atMs: e.atMs, message: `lock ${JSON.stringify(e.lock)}: grant ${e.grant} at ${e.atMs} ms has token ${e.token}, not above ${last.token} of the earlier grant ${last.grant}` });
      }
      lastToken.set(e.lock, e);
      continue;
    }
    const service = granted.get(id);
    if (service === undefined) {
      report({ kind: 'client-ahead-of-service', atMs: e.atMs, message: `${e.holder} believed at ${e.atMs} ms that it held grant ${e.grant} of lock ${JSON.stringify(e.lock)}, which the service had not granted` });
    } else if (service.token !== null && e.token !== null && service.token !== e.token) {
      report({ kind: 'token-mismatch', atMs: e.atMs, message: `${e.holder} holds grant ${e.grant} with token ${e.token}; the service granted it with token ${service.token}` });
    }
  }
  return { ok: problemCount === 0, problems, problemCount };
}

// ================================================================ the fenced resource

/** A write as the protected resource (the storage of Kleppmann's figure) answered it, in the order it did. */
export interface ResourceWrite {
  readonly atMs: number;
  readonly resource: string;
  readonly grant: string;
  readonly holder: string;
  /** The token the write carried; null from a backend without tokens. */
  readonly token: number | null;
  readonly accepted: boolean;
}

export interface FencedResourceOptions extends MutexOptions {
  /**
   * The grants in the order the lock service made them (its acquired events), to rank writes
   * without tokens. Writes with tokens are ranked by token when every accepted write of their
   * resource has one.
   */
  readonly grantOrder?: readonly string[];
}

export type FencedResourceViolationKind =
  /** A write of a superseded holder (lower token, or an earlier grant) accepted after a newer holder's. */
  | 'superseded-write-accepted'
  /** Writes of two grants accepted with the same token. */
  | 'token-reused'
  /** A write without a token whose grant the service never made. */
  | 'unranked-write';

export interface FencedResourceViolation {
  readonly kind: FencedResourceViolationKind;
  readonly atMs: number;
  readonly resource: string;
  readonly message: string;
}

export interface FencedResourceResult {
  readonly ok: boolean;
  readonly accepted: number;
  readonly refused: number;
  readonly violations: readonly FencedResourceViolation[];
  readonly violationCount: number;
}

/**
 * No write with a stale token accepted: along the resource's accepted writes (in the order it
 * accepted them) the grants' ranks never go down, and two grants never share a token.
 */
export function checkFencedResource(writes: readonly ResourceWrite[], options: FencedResourceOptions = {}): FencedResourceResult {
  const max = options.maxReported ?? DEFAULT_MAX_REPORTED;
  const order = new Map((options.grantOrder ?? []).map((g, i) => [g, i] as const));
  const tokensEverywhere = new Map<string, boolean>();
  for (const w of writes) if (w.accepted) tokensEverywhere.set(w.resource, (tokensEverywhere.get(w.resource) ?? true) && w.token !== null);
  const violations: FencedResourceViolation[] = [];
  let violationCount = 0;
  let accepted = 0;
  let refused = 0;
  const report = (v: FencedResourceViolation): void => {
    violationCount++;
    if (violations.length < max) violations.push(v);
  };
  const highest = new Map<string, { rank: number; write: ResourceWrite }>();
  for (const w of writes) {
    if (!w.accepted) {
      refused++;
      continue;
    }
    accepted++;
    const byToken = tokensEverywhere.get(w.resource) === true;
    const rank = byToken ? (w.token as number) : order.get(w.grant);
    const what = (x: ResourceWrite): string => `${x.holder}'s write (grant ${x.grant}${x.token === null ? '' : `, token ${x.token}`}) at ${x.atMs} ms`;
    if (rank === undefined) {
      report({ kind: 'unranked-write', atMs: w.atMs, resource: w.resource, message: `${w.resource}: ${what(w)} carries no token and its grant is not among the service's grants` });
      continue;
    }
    const top = highest.get(w.resource);
    if (top !== undefined && rank < top.rank) {
      report({ kind: 'superseded-write-accepted', atMs: w.atMs, resource: w.resource, message: `${w.resource} accepted ${what(w)} after ${what(top.write)}: the writer had been superseded` });
      continue;
    }
    if (top !== undefined && rank === top.rank && w.grant !== top.write.grant) {
      report({ kind: 'token-reused', atMs: w.atMs, resource: w.resource, message: `${w.resource} accepted ${what(w)} and ${what(top.write)}: two grants with one token` });
    }
    if (top === undefined || rank >= top.rank) highest.set(w.resource, { rank, write: w });
  }
  return { ok: violationCount === 0, accepted, refused, violations, violationCount };
}

// ================================================================ a queue lock's grants, by revision

/**
 * One change of a key under a queue lock's prefix, from the store's own history (a watch from the
 * first revision): etcd's lock service and the recipes here keep a lock's holders and waiters as
 * keys `<lock>/<id>`, and the holder is the live key of lowest create revision.
 */
export interface QueueKeyChange {
  readonly revision: number;
  readonly key: string;
  readonly type: 'put' | 'delete';
}

/** A grant as the lock service answered it: the contender's key and the revision the answer was read at. */
export interface QueueGrant {
  readonly key: string;
  readonly revision: number;
  readonly holder: string;
  /** When the client got the answer (for messages). */
  readonly atMs: number;
}

export type QueueGrantViolationKind =
  /** The key had been deleted (its lease expired, or it was revoked) at or before the grant's revision. */
  | 'granted-after-own-key-deleted'
  /** The key did not exist yet at the grant's revision. */
  | 'granted-before-own-key-created'
  /** A key created before it was still live at the grant's revision: its holder still held the lock. */
  | 'granted-while-predecessor-live';

export interface QueueGrantViolation {
  readonly kind: QueueGrantViolationKind;
  readonly grant: QueueGrant;
  readonly message: string;
}

export interface QueueGrantsResult {
  readonly ok: boolean;
  readonly grants: number;
  readonly violations: readonly QueueGrantViolation[];
  readonly violationCount: number;
  readonly byKind: Readonly<Record<QueueGrantViolationKind, number>>;
}

/** One life of a key: live at revisions [created, deleted). */
interface KeyGeneration {
  readonly key: string;
  readonly created: number;
  readonly deleted: number;
}

const lockOfKey = (key: string): string => key.slice(0, Math.max(0, key.lastIndexOf('/')));

/**
 * Each grant against the store's history: at the revision it was answered at, its key was live and
 * no key of the same lock created before it was (so every earlier contender had released, expired
 * or given up). Catches a lock service that grants a contender whose lease expired while it waited.
 */
export function checkQueueGrants(changes: readonly QueueKeyChange[], grants: readonly QueueGrant[], options: MutexOptions = {}): QueueGrantsResult {
  const max = options.maxReported ?? DEFAULT_MAX_REPORTED;
  const generations = new Map<string, KeyGeneration[]>();
  const createdAt = new Map<string, number>();
  for (const c of [...changes].sort((a, b) => a.revision - b.revision)) {
    const open = createdAt.get(c.key);
    if (c.type === 'put') {
      if (open === undefined) createdAt.set(c.key, c.revision);
      continue;
    }
    if (open === undefined) continue; // a delete of an absent key changes nothing
    createdAt.delete(c.key);
    const lock = lockOfKey(c.key);
    let list = generations.get(lock);
    if (list === undefined) generations.set(lock, (list = []));
    list.push({ key: c.key, created: open, deleted: c.revision });
  }
  for (const [key, created] of createdAt) {
    const lock = lockOfKey(key);
    let list = generations.get(lock);
    if (list === undefined) generations.set(lock, (list = []));
    list.push({ key, created, deleted: Number.POSITIVE_INFINITY });
  }
  const byKind: Record<QueueGrantViolationKind, number> = { 'granted-after-own-key-deleted': 0, 'granted-before-own-key-created': 0, 'granted-while-predecessor-live': 0 };
  const violations: QueueGrantViolation[] = [];
  let violationCount = 0;
  const report = (kind: QueueGrantViolationKind, grant: QueueGrant, message: string): void => {
    violationCount++;
    byKind[kind]++;
    if (violations.length < max) violations.push({ kind, grant, message });
  };
  for (const g of grants) {
    const list = generations.get(lockOfKey(g.key)) ?? [];
    const what = `${g.holder}'s grant of ${JSON.stringify(g.key)} at revision ${g.revision} (${g.atMs} ms)`;
    // the generation of this key that the grant speaks of: the last one created at or before the revision
    const own = list.filter((x) => x.key === g.key && x.created <= g.revision).sort((a, b) => b.created - a.created)[0];
    if (own === undefined) {
      report('granted-before-own-key-created', g, `${what}: the key did not exist yet`);
      continue;
    }
    if (own.deleted <= g.revision) {
      report('granted-after-own-key-deleted', g, `${what}: the key was deleted at revision ${own.deleted}, before the grant`);
      continue;
    }
    const ahead = list.find((x) => x.created < own.created && x.created <= g.revision && x.deleted > g.revision);
    if (ahead !== undefined) report('granted-while-predecessor-live', g, `${what}: ${JSON.stringify(ahead.key)}, created at revision ${ahead.created}, was still live (deleted at ${Number.isFinite(ahead.deleted) ? ahead.deleted : 'never'})`);
  }
  return { ok: violationCount === 0, grants: grants.length, violations, violationCount, byKind };
}

// ================================================================ everything at once

export interface LockSafetyReport {
  readonly service: MutexResult;
  readonly client: MutexResult;
  readonly clientValid: MutexResult;
  readonly grants: ReturnType<typeof checkGrants>;
  readonly resource: FencedResourceResult;
}

/** Every lock check over one run: the three views of the mutex, the grants, and the resource (ranked by the service's grant order). */
export function checkLockSafety(events: readonly LockEvent[], writes: readonly ResourceWrite[], options: MutexOptions = {}): LockSafetyReport {
  const grantOrder = byTime(events).filter((e) => e.by === 'service' && e.kind === 'acquired').map((e) => e.grant);
  return {
    service: checkMutex(events, 'service', options),
    client: checkMutex(events, 'client', options),
    clientValid: checkMutex(events, 'client-valid', options),
    grants: checkGrants(events, options),
    resource: checkFencedResource(writes, { ...options, grantOrder }),
  };
}
