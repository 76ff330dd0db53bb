// The replicated key-value state machine, after etcd v3: one revision per write command, every
// key's retained history (past reads, compaction), a change log for watchers, leases, and txns.
// Pure and deterministic: no clocks, no I/O; the same commands give the same results everywhere.
import { assertInvariant, type Decoded, type JsonValue, type StateMachine } from '../core/index.js';
import { ABSENT, compareHolds, type Compared } from './compare.js';
import { KvError } from './errors.js';
import { KeyHistory } from './history.js';
import type { LeaseChange } from './lessor.js';
import { CHANGES_SCAN_BUDGET, DEFAULT_CHANGES_EVENTS, MAX_LEASES } from './limits.js';
import {
  DEFAULT_RANGE_LIMIT,
  canonicalJson,
  decodeKvRequest,
  isQuery,
  kvLimitProblem,
  txnGrantCount,
  type ChangesRequest,
  type DeleteRequest,
  type KvEvent,
  type KvItem,
  type KvQuery,
  type KvRequest,
  type KvResult,
  type PutRequest,
  type RangeRequest,
  type TxnOp,
  type TxnRequest,
} from './requests.js';
import { parseSnapshot, snapshotOf, type StoreState } from './snapshot.js';
import { lowerBound, SortedKeys } from './sorted-keys.js';

export { KvError, type KvErrorCode } from './errors.js';
export {
  canonicalJson,
  decodeKvRequest,
  kvCommandProblem,
  kvLimitProblem,
  kvRequestProblem,
  kvRequestToJson,
  type Compare,
  type KvCommand,
  type KvEvent,
  type KvItem,
  type KvQuery,
  type KvRequest,
  type KvResult,
  type TxnOp,
  type TxnRequest,
} from './requests.js';

export interface KvStoreOptions {
  /**
   * Keep about this many revisions of history (etcd's --auto-compaction-mode=revision): whenever
   * the revision reaches a multiple of a tenth of it, the history before `revision - retain` is
   * compacted. Decided at apply from the revision alone, so every replica compacts alike; give
   * every member the same value. 0 or absent: off, history is kept until a `compact` command.
   */
  readonly autoCompactRetainRevisions?: number;
  /** Told every lease grant and revoke as it is applied, and the whole table on restore: the Lessor follows it. */
  readonly onLeaseChange?: (change: LeaseChange) => void;
}

/** The replicated part of a lease: its TTL and the keys attached to it now. */
interface Lease {
  readonly ttlMs: number;
  readonly keys: Set<string>;
}

/** A txn's decisions, all taken before any of its operations runs (as etcd does): the branch and those of its nested txns. */
interface TxnPlan {
  readonly succeeded: boolean;
  readonly ops: readonly TxnOp[];
  /** The plan of each nested txn in `ops`, by position. */
  readonly inner: ReadonlyMap<number, TxnPlan>;
}

/** A result before the revision it reports is known (a txn's results all report its final revision). */
type Body = { readonly [key: string]: JsonValue };

type Selector = { readonly key?: string; readonly end?: string; readonly prefix?: string; readonly start?: string; readonly exclude?: string };

export class KvStore implements StateMachine<KvRequest, KvQuery, KvResult> {
  /** Every key with retained history, deleted ones included until compaction drops them. */
  private keys = new Map<string, KeyHistory>();
  /** The keys of `keys` in order, for ranges at past revisions. */
  private keyIndex = new SortedKeys();
  /** The live keys in order: ranges of the current state walk only these, not the deleted keys history keeps. */
  private liveIndex = new SortedKeys();
  private revisionValue = 0;
  private compactRevisionValue = 0;
  /** The first revision whose changes the log holds completely (one past the revision of a pre-MVCC snapshot). */
  private changesFrom = 0;
  /** The change log: the revision and key of every change at or after `changesFrom`, in revision order, keys sorted within one. */
  private logRevs: number[] = [];
  private logKeys: KeyHistory[] = [];
  private leases = new Map<number, Lease>();
  /** Changes recorded by the write command being applied; they take revision `revision + 1`. */
  private pendingChanges = 0;
  private readonly retainRevisions: number;
  private readonly compactEvery: number;
  private readonly onLeaseChange: ((change: LeaseChange) => void) | undefined;

  constructor(options: KvStoreOptions = {}) {
    const retain = options.autoCompactRetainRevisions ?? 0;
    assertInvariant(Number.isSafeInteger(retain) && retain >= 0, () => `kv: autoCompactRetainRevisions must be an integer >= 0, not ${retain}`);
    this.retainRevisions = retain;
    this.compactEvery = Math.max(1, Math.floor(retain / 10));
    this.onLeaseChange = options.onLeaseChange;
  }

  /** The global revision: the number of write commands that changed something. */
  get revision(): number {
    return this.revisionValue;
  }

  /** Reads below this revision are refused (`compacted`). */
  get compactRevision(): number {
    return this.compactRevisionValue;
  }

  /** Keys that exist now. */
  get size(): number {
    return this.liveIndex.size;
  }

  /** The revision a read of the state now sees: the next one while a write command is being applied and has changed something. */
  private get revisionNow(): number {
    return this.revisionValue + (this.pendingChanges > 0 ? 1 : 0);
  }

  /** Changes retained in the change log (what a watcher could replay). */
  get retainedChanges(): number {
    return this.logRevs.length;
  }

  /** Every lease now, in id order (for a Lessor that starts late). */
  leaseTable(): { id: number; ttlMs: number }[] {
    return [...this.leases.entries()].sort((a, b) => a[0] - b[0]).map(([id, l]) => ({ id, ttlMs: l.ttlMs }));
  }

  /** Commands, and reads sent through the log (answered like queries). */
  decodeCommand(raw: JsonValue): Decoded<KvRequest> {
    return decodeKvRequest(raw);
  }

  decodeQuery(raw: JsonValue): Decoded<KvQuery> {
    const decoded = decodeKvRequest(raw);
    if (!decoded.ok) return decoded;
    const request = decoded.value;
    return isQuery(request) ? { ok: true, value: request } : { ok: false, problem: `${request.op} changes state; send it as a command` };
  }

  admitCommand(command: KvRequest): string | null {
    if (isQuery(command)) return null;
    // the table's size as the leader sees it: a bound on memory, not a rule of apply (which must not depend on limits)
    const grants = command.op === 'leaseGrant' ? 1 : command.op === 'txn' ? txnGrantCount(command) : 0;
    if (grants > 0 && this.leases.size + grants > MAX_LEASES) return `too many leases (${MAX_LEASES}); revoke some first`;
    return kvLimitProblem(command);
  }

  apply(command: KvRequest, index: number): KvResult {
    return this.execute(command, index);
  }

  query(query: KvQuery): KvResult {
    return this.execute(query);
  }

  /** Runs a request; `index` (the entry's log index) is the id of a lease granted without one. */
  execute(request: KvRequest, index = 0): KvResult {
    switch (request.op) {
      case 'get':
        return this.get(request.key, request.revision);
      case 'range':
        return this.range(request);
      case 'changes':
        return this.changesSince(request);
      case 'put':
        return this.putCommand(request);
      case 'delete':
        return this.write(() => this.doDelete(request));
      case 'cas': {
        const current = this.currentItem(request.key)?.value ?? null;
        if (canonicalJson(current) !== canonicalJson(request.from)) return { revision: this.revisionValue, swapped: false, version: this.versionOf(request.key) };
        return this.swap(request.key, request.to);
      }
      case 'casVersion':
        if (this.versionOf(request.key) !== request.version) return { revision: this.revisionValue, swapped: false, version: this.versionOf(request.key) };
        return this.swap(request.key, request.value);
      case 'incr':
        return this.increment(request.key, request.by ?? 1);
      case 'txn':
        return this.txn(request);
      case 'compact':
        return this.compactCommand(request.revision);
      case 'leaseGrant':
        return this.grant(request.ttlMs, request.id, index);
      case 'leaseRevoke':
        return this.revoke(request.id);
      case 'leaseTimeToLive': {
        const lease = this.leases.get(request.id);
        if (lease === undefined) return { revision: this.revisionValue, error: 'lease-not-found', id: request.id };
        const head = { revision: this.revisionValue, id: request.id, ttlMs: lease.ttlMs };
        return request.keys === true ? { ...head, keys: [...lease.keys].sort() } : head;
      }
      case 'leaseList':
        return this.leaseList(request.after ?? 0, request.limit ?? DEFAULT_RANGE_LIMIT);
    }
  }

  // ================================================================ reads

  private currentRecord(key: string): KeyHistory | undefined {
    const record = this.keys.get(key);
    return record !== undefined && record.live ? record : undefined;
  }

  private currentItem(key: string): KvItem | null {
    const record = this.currentRecord(key);
    return record === undefined ? null : record.itemAt(record.revs.length - 1);
  }

  private versionOf(key: string): number {
    return this.currentRecord(key)?.version ?? 0;
  }

  /** The revision a read is answered at, or the error result that refuses it. */
  private readAt(revision: number | undefined): number | KvResult {
    if (revision === undefined || revision === 0 || revision === this.revisionValue) return this.revisionValue;
    if (revision > this.revisionValue) return { revision: this.revisionValue, error: 'future-revision' };
    if (revision < this.compactRevisionValue) return { revision: this.revisionValue, error: 'compacted', compactRevision: this.compactRevisionValue };
    return revision;
  }

  /** The item of `key` as of `revision` (now or retained), or null when it did not exist then. */
  private itemAt(record: KeyHistory | undefined, revision: number): KvItem | null {
    if (record === undefined) return null;
    if (revision === this.revisionValue) return record.live ? record.itemAt(record.revs.length - 1) : null;
    const i = record.indexAt(revision);
    return i >= 0 && record.isPut(i) ? record.itemAt(i) : null;
  }

  private get(key: string, revision?: number): KvResult {
    const at = this.readAt(revision);
    if (typeof at !== 'number') return at;
    return { revision: this.revisionValue, ...getBody(this.itemAt(this.keys.get(key), at)) };
  }

  private range(q: RangeRequest): KvResult {
    const at = this.readAt(q.revision);
    if (typeof at !== 'number') return at;
    return { revision: this.revisionValue, ...this.rangeBody(q, at) };
  }

  private rangeBody(q: RangeRequest, at: number): { items: KvItem[]; more: boolean } {
    const limit = q.limit ?? DEFAULT_RANGE_LIMIT;
    const found: KvItem[] = [];
    // a read of the state now walks the live keys; one at a past revision, every retained key in range
    const index = at >= this.revisionNow ? this.liveIndex : this.keyIndex;
    // in key order: one past the limit tells whether there is more; bounded by the keys in range
    for (const key of keysIn(index, q)) {
      const item = this.itemAt(this.keys.get(key), at);
      if (item === null) continue;
      found.push(item);
      if (found.length > limit) break;
    }
    return { items: found.slice(0, limit), more: found.length > limit };
  }

  // ================================================================ the change log

  /**
   * Changes to the selected keys from `fromRevision` (0: from the next revision on), oldest first
   * and keys sorted within a revision, for a host to serve watchers from:
   * - a page holds whole revisions: it stops before a revision that would take it past
   *   `maxEvents`, unless that revision is its first (one revision is never split);
   * - `nextRevision` is where the next pull starts: every change below it that matches has been
   *   returned (by this pull or earlier ones), none at or above it has;
   * - a pull of a range or prefix looks at no more than CHANGES_SCAN_BUDGET log entries;
   * - `compacted` (with the first revision a pull can start from) when `fromRevision` is older
   *   than the retained history.
   * A caught-up pull costs a binary search; a single key is served from its own history.
   */
  changesSince(q: ChangesRequest): KvResult {
    const current = this.revisionValue;
    const from = q.fromRevision === 0 ? current + 1 : q.fromRevision;
    if (from < this.changesFrom || from < this.compactRevisionValue) {
      return { revision: current, error: 'compacted', compactRevision: Math.max(this.changesFrom, this.compactRevisionValue) };
    }
    if (from > current) return { revision: current, events: [], nextRevision: from };
    const max = q.maxEvents ?? DEFAULT_CHANGES_EVENTS;
    if (q.prefix === undefined && q.end === undefined) return this.keyChanges(q, from, max);
    const events: KvEvent[] = [];
    let p = lowerBound(this.logRevs, from);
    let scanned = 0;
    // each turn takes one whole revision; bounded by the scan budget and the log's length
    while (p < this.logRevs.length && scanned < CHANGES_SCAN_BUDGET) {
      const revision = this.logRevs[p] as number;
      const batch: KvEvent[] = [];
      let q2 = p;
      for (; q2 < this.logRevs.length && this.logRevs[q2] === revision; q2++) {
        const record = this.logKeys[q2] as KeyHistory;
        if (!inRange(record.key, q)) continue;
        const event = this.eventOf(record, revision, q);
        if (event !== null) batch.push(event);
      }
      if (events.length > 0 && events.length + batch.length > max) return { revision: current, events, nextRevision: revision };
      events.push(...batch);
      scanned += q2 - p;
      p = q2;
      if (events.length >= max) break;
    }
    const nextRevision = p < this.logRevs.length ? (this.logRevs[p] as number) : current + 1;
    return { revision: current, events, nextRevision };
  }

  /** The changes of one key, from its own history: no other key's changes are looked at. */
  private keyChanges(q: ChangesRequest, from: number, max: number): KvResult {
    const current = this.revisionValue;
    const key = q.key as string;
    const record = this.keys.get(key);
    const events: KvEvent[] = [];
    if (record !== undefined && !(q.exclude !== undefined && key.startsWith(q.exclude))) {
      const first = record.indexAt(from - 1) + 1;
      // one change per revision: a page never splits one; filters may skip many, hence the budget
      for (let i = first; i < record.revs.length; i++) {
        const revision = record.revs[i] as number;
        if (events.length >= max || i - first >= CHANGES_SCAN_BUDGET) return { revision: current, events, nextRevision: revision };
        const event = this.eventOf(record, revision, q);
        if (event !== null) events.push(event);
      }
    }
    return { revision: current, events, nextRevision: current + 1 };
  }

  private eventOf(record: KeyHistory, revision: number, q: ChangesRequest): KvEvent | null {
    const i = record.indexOf(revision);
    assertInvariant(i >= 0, () => `kv: the change log names ${JSON.stringify(record.key)} at revision ${revision}, which its history lacks`);
    const put = record.isPut(i);
    if (put ? q.noPut === true : q.noDelete === true) return null;
    const kv = put ? record.itemAt(i) : { key: record.key, value: null, version: 0, createRevision: 0, modRevision: revision };
    const prev = q.prevKv === true && i > 0 && record.isPut(i - 1) ? record.itemAt(i - 1) : null;
    const type = put ? 'put' : 'delete';
    return prev === null ? { type, kv, revision } : { type, kv, prevKv: prev, revision };
  }

  // ================================================================ writes

  /** Runs one write command's changes; they all take the next revision, which the result reports. */
  private write(run: () => Body): KvResult {
    this.pendingChanges = 0;
    const body = run();
    return { revision: this.commit(), ...body } as KvResult;
  }

  /** Ends a write command: one new revision if it changed anything, the log's last revision in key order, auto-compaction. */
  private commit(): number {
    const changes = this.pendingChanges;
    this.pendingChanges = 0;
    if (changes === 0) return this.revisionValue;
    assertInvariant(this.keyIndex.size === this.keys.size, () => `kv: the key index holds ${this.keyIndex.size} keys, the store ${this.keys.size}`);
    if (changes > 1) this.sortLogTail(changes);
    const revision = ++this.revisionValue;
    if (this.retainRevisions > 0 && revision % this.compactEvery === 0 && revision - this.retainRevisions > this.compactRevisionValue) {
      this.compactTo(revision - this.retainRevisions);
    }
    return revision;
  }

  private sortLogTail(count: number): void {
    const start = this.logKeys.length - count;
    const tail = this.logKeys.slice(start).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    for (let i = 0; i < count; i++) this.logKeys[start + i] = tail[i] as KeyHistory;
  }

  /** Records a put of `key`, whose history is `record` (undefined: none retained). */
  private recordPut(record: KeyHistory | undefined, key: string, value: JsonValue, lease: number): KeyHistory {
    const revision = this.revisionValue + 1;
    if (record === undefined) {
      record = new KeyHistory(key, revision, value, lease);
      this.keys.set(key, record);
      this.keyIndex.add(key);
      this.liveIndex.add(key);
    } else {
      if (!record.live) this.liveIndex.add(key);
      record.put(revision, value, lease);
    }
    return this.logChange(record, revision);
  }

  private logChange(record: KeyHistory, revision: number): KeyHistory {
    this.logRevs.push(revision);
    this.logKeys.push(record);
    this.pendingChanges++;
    return record;
  }

  private recordDelete(record: KeyHistory): void {
    const revision = this.revisionValue + 1;
    const lease = record.lease;
    if (lease !== 0) this.leases.get(lease)?.keys.delete(record.key);
    record.remove(revision);
    this.liveIndex.delete(record.key);
    this.logChange(record, revision);
  }

  private putCommand(op: PutRequest): KvResult {
    if (op.lease !== undefined && op.value !== null && !this.leases.has(op.lease)) return { revision: this.revisionValue, error: 'lease-not-found', id: op.lease };
    // the hot path of the store, written out: no closure, no spread
    this.pendingChanges = 0;
    const prevKv = op.prevKv === true ? this.currentItem(op.key) : undefined;
    const version = this.doPut(op.key, op.value, op.lease ?? 0, op.ignoreLease === true);
    const revision = this.commit();
    return prevKv === undefined ? { revision, version } : { revision, version, prevKv };
  }

  /** A put (of a lease known to exist, 0: none) in the write command under way; `value: null` deletes. The key's version after it. */
  private doPut(key: string, value: JsonValue, lease: number, ignoreLease: boolean): number {
    const record = this.keys.get(key);
    const live = record !== undefined && record.live;
    if (value === null) {
      if (live) this.recordDelete(record);
      return 0;
    }
    const oldLease = live ? record.lease : 0;
    const newLease = ignoreLease ? oldLease : lease;
    if (newLease !== oldLease) {
      if (oldLease !== 0) this.leases.get(oldLease)?.keys.delete(key);
      if (newLease !== 0) (this.leases.get(newLease) as Lease).keys.add(record?.key ?? key);
    }
    return this.recordPut(record, key, value, newLease).version;
  }

  /** A put of a txn: its result fields. */
  private txnPut(op: PutRequest): Body {
    const prevKv = op.prevKv === true ? this.currentItem(op.key) : undefined;
    const version = this.doPut(op.key, op.value, op.lease ?? 0, op.ignoreLease === true);
    return prevKv === undefined ? { version } : { version, prevKv };
  }

  private doDelete(op: DeleteRequest): Body {
    if (!('end' in op) && !('prefix' in op)) {
      const record = this.currentRecord(op.key);
      const deleted = record !== undefined;
      if (op.prevKv !== true) {
        if (record !== undefined) this.recordDelete(record);
        return { deleted };
      }
      const prevKv = record === undefined ? null : record.itemAt(record.revs.length - 1);
      if (record !== undefined) this.recordDelete(record);
      return { deleted, prevKv };
    }
    const selector: Selector = 'prefix' in op ? op : { start: op.key, end: op.end, ...(op.exclude === undefined ? {} : { exclude: op.exclude }) };
    const doomed = this.liveRecords(selector);
    const prevKvs = op.prevKv === true ? doomed.map((r) => r.itemAt(r.revs.length - 1)) : undefined;
    for (const record of doomed) this.recordDelete(record);
    return prevKvs === undefined ? { deleted: doomed.length } : { deleted: doomed.length, prevKvs };
  }

  /** The live keys a selector covers, in key order. */
  private liveRecords(selector: Selector): KeyHistory[] {
    const out: KeyHistory[] = [];
    for (const key of keysIn(this.liveIndex, selector)) out.push(this.keys.get(key) as KeyHistory);
    return out;
  }

  /** cas and casVersion: a put that keeps the key's lease (`value: null` deletes). */
  private swap(key: string, value: JsonValue): KvResult {
    this.pendingChanges = 0;
    const version = this.doPut(key, value, 0, true);
    return { revision: this.commit(), swapped: true, version };
  }

  private increment(key: string, by: number): KvResult {
    const current = this.currentItem(key)?.value ?? 0;
    if (typeof current !== 'number') return { revision: this.revisionValue, error: 'not-a-number' };
    const value = current + by;
    this.pendingChanges = 0;
    const version = this.doPut(key, value, 0, true);
    return { revision: this.commit(), value, version };
  }

  // ================================================================ txn

  private txn(t: TxnRequest): KvResult {
    const plan = this.plan(t);
    const problem = this.leaseProblem(plan, new Set());
    if (problem !== null) return { revision: this.revisionValue, ...problem };
    this.pendingChanges = 0;
    const body = this.runPlan(plan);
    return stamp(body, this.commit()) as KvResult;
  }

  /** Every compare of the txn and of the nested txns it would run, against the state before any operation. */
  private plan(t: TxnRequest): TxnPlan {
    const succeeded = t.compare.every((c) => compareHolds(c, this.compared(c.key)));
    const ops = succeeded ? t.success : t.failure;
    const inner = new Map<number, TxnPlan>();
    ops.forEach((op, i) => {
      if (op.op === 'txn') inner.set(i, this.plan(op));
    });
    return { succeeded, ops, inner };
  }

  private compared(key: string): Compared {
    const item = this.currentItem(key);
    return item === null ? ABSENT : { value: item.value, version: item.version, createRevision: item.createRevision, modRevision: item.modRevision, lease: item.lease ?? 0 };
  }

  /**
   * A lease that a put of the plan names and that neither exists nor is granted by an earlier
   * operation of the plan, or one a grant of the plan names that exists already (`granted`
   * collects the plan's grants as the walk goes, in the order they would run). Checked before
   * anything runs, so a txn applies whole or not at all.
   */
  private leaseProblem(plan: TxnPlan, granted: Set<number>): { readonly error: 'lease-not-found' | 'lease-exists'; readonly id: number } | null {
    for (let i = 0; i < plan.ops.length; i++) {
      const op = plan.ops[i] as TxnOp;
      if (op.op === 'put' && op.lease !== undefined && op.value !== null && !this.leases.has(op.lease) && !granted.has(op.lease)) return { error: 'lease-not-found', id: op.lease };
      if (op.op === 'leaseGrant') {
        if (this.leases.has(op.id) || granted.has(op.id)) return { error: 'lease-exists', id: op.id };
        granted.add(op.id);
      }
      const inner = plan.inner.get(i);
      if (inner !== undefined) {
        const problem = this.leaseProblem(inner, granted);
        if (problem !== null) return problem;
      }
    }
    return null;
  }

  /** Runs a plan's operations in order: reads see the writes before them; no operation can fail here. */
  private runPlan(plan: TxnPlan): Body {
    const results: Body[] = plan.ops.map((op, i) => {
      switch (op.op) {
        case 'put':
          return this.txnPut(op);
        case 'delete':
          return this.doDelete(op);
        case 'get':
          return getBody(this.currentItem(op.key));
        case 'range':
          return this.rangeBody(op, this.revisionNow);
        case 'leaseGrant':
          this.addLease(op.id, op.ttlMs);
          return { id: op.id, ttlMs: op.ttlMs };
        case 'txn':
          return this.runPlan(plan.inner.get(i) as TxnPlan);
      }
    });
    return { succeeded: plan.succeeded, results };
  }

  // ================================================================ compaction

  private compactCommand(revision: number): KvResult {
    const current = this.revisionValue;
    if (revision > current) return { revision: current, error: 'future-revision' };
    if (revision <= this.compactRevisionValue) return { revision: current, error: 'compacted', compactRevision: this.compactRevisionValue };
    this.compactTo(revision);
    return { revision: current, compactRevision: revision };
  }

  /**
   * Forgets the history before `revision`: each key keeps its changes from `revision` on and the
   * last put before it; keys deleted before it and not written since go. Costs the changes
   * dropped (found through the log), not the number of keys.
   */
  private compactTo(revision: number): void {
    assertInvariant(revision > this.compactRevisionValue && revision <= this.revisionValue, () => `kv: compaction to ${revision} outside (${this.compactRevisionValue}, ${this.revisionValue}]`);
    const end = lowerBound(this.logRevs, revision);
    const touched = new Set<KeyHistory>();
    for (let i = 0; i < end; i++) touched.add(this.logKeys[i] as KeyHistory);
    for (const record of touched) {
      if (!record.compact(revision)) continue;
      assertInvariant(!record.live, () => `kv: compaction dropped ${JSON.stringify(record.key)}, which exists`);
      this.keys.delete(record.key);
      this.keyIndex.delete(record.key);
    }
    this.logRevs.splice(0, end);
    this.logKeys.splice(0, end);
    this.compactRevisionValue = revision;
    this.changesFrom = Math.max(this.changesFrom, revision);
  }

  // ================================================================ leases

  private grant(ttlMs: number, requested: number | undefined, index: number): KvResult {
    const revision = this.revisionValue;
    if (requested !== undefined && this.leases.has(requested)) return { revision, error: 'lease-exists', id: requested };
    let id = requested ?? Math.max(1, index);
    // the log index is unique, but an id chosen by a client may hold it: take the next free one (at most one probe per lease)
    while (this.leases.has(id)) id++;
    this.addLease(id, ttlMs);
    return { revision, id, ttlMs };
  }

  private addLease(id: number, ttlMs: number): void {
    assertInvariant(!this.leases.has(id), () => `kv: lease ${id} granted twice`);
    this.leases.set(id, { ttlMs, keys: new Set() });
    this.onLeaseChange?.({ type: 'grant', id, ttlMs });
  }

  /** Deletes the lease and every key attached to it, all at one revision. */
  private revoke(id: number): KvResult {
    const lease = this.leases.get(id);
    if (lease === undefined) return { revision: this.revisionValue, error: 'lease-not-found', id };
    const result = this.write(() => {
      const doomed = [...lease.keys].sort();
      for (const key of doomed) {
        const record = this.currentRecord(key);
        assertInvariant(record !== undefined && record.lease === id, () => `kv: lease ${id} lists ${JSON.stringify(key)}, which is not attached to it`);
        this.recordDelete(record);
      }
      return { deleted: doomed.length };
    });
    this.leases.delete(id);
    this.onLeaseChange?.({ type: 'revoke', id });
    return result;
  }

  private leaseList(after: number, limit: number): KvResult {
    const ids = [...this.leases.keys()].filter((id) => id > after).sort((a, b) => a - b);
    const leases = ids.slice(0, limit).map((id) => ({ id, ttlMs: (this.leases.get(id) as Lease).ttlMs }));
    return { revision: this.revisionValue, leases, more: ids.length > limit };
  }

  // ================================================================ snapshots

  /** The whole state (history, compaction point, leases) as JSON that later applies never change. */
  snapshot(): JsonValue {
    const records = [...this.keyIndex.from()].map((key) => this.keys.get(key) as KeyHistory);
    return snapshotOf({
      revision: this.revisionValue,
      compactRevision: this.compactRevisionValue,
      changesFrom: this.changesFrom,
      records,
      leases: new Map([...this.leases].map(([id, l]) => [id, l.ttlMs])),
    });
  }

  /**
   * Replaces the whole state with a snapshot's: this version's, or the `{revision, items}` of the
   * versions before history (whose reads before that revision then answer `compacted`). Throws
   * KvError BAD_SNAPSHOT, and changes nothing, when `data` is not a snapshot.
   */
  restore(data: JsonValue): void {
    const state: StoreState = parseSnapshot(data);
    const keys = new Map<string, KeyHistory>();
    const leases = new Map<number, Lease>();
    for (const [id, ttlMs] of state.leases) leases.set(id, { ttlMs, keys: new Set() });
    for (const record of state.records) {
      keys.set(record.key, record);
      if (!record.live) continue;
      if (record.lease !== 0) (leases.get(record.lease) as Lease).keys.add(record.key);
    }
    const log = changeLog(state);
    const sorted = [...keys.keys()].sort();
    this.keys = keys;
    this.keyIndex = SortedKeys.fromSorted(sorted);
    this.liveIndex = SortedKeys.fromSorted(sorted.filter((key) => (keys.get(key) as KeyHistory).live));
    this.leases = leases;
    this.revisionValue = state.revision;
    this.compactRevisionValue = state.compactRevision;
    this.changesFrom = state.changesFrom;
    this.logRevs = log.revs;
    this.logKeys = log.keys;
    this.pendingChanges = 0;
    this.onLeaseChange?.({ type: 'reset', leases: this.leaseTable() });
  }
}

/**
 * The change log of a restored state, by a counting sort on revision: every revision from
 * `changesFrom` on has at least one change (a revision is only taken by a change, and the log
 * keeps them all), so the counts take no more room than the changes. Records come in key order,
 * which keeps keys sorted within a revision. Throws BAD_SNAPSHOT when a revision has no change.
 */
function changeLog(state: StoreState): { revs: number[]; keys: KeyHistory[] } {
  const base = Math.max(state.changesFrom, 1);
  const span = state.revision - base + 1;
  let total = 0;
  for (const record of state.records) for (const revision of record.revs) if (revision >= base) total++;
  if (span > total) throw new KvError('BAD_SNAPSHOT', `revisions ${base} to ${state.revision} hold ${total} changes: some revision has none`);
  const starts = new Array<number>(Math.max(0, span) + 1).fill(0);
  for (const record of state.records) for (const revision of record.revs) if (revision >= base) starts[revision - base + 1] = (starts[revision - base + 1] as number) + 1;
  for (let i = 1; i <= span; i++) {
    if (starts[i] === 0) throw new KvError('BAD_SNAPSHOT', `revision ${base + i - 1} has no change`);
    starts[i] = (starts[i] as number) + (starts[i - 1] as number);
  }
  const revs = new Array<number>(total);
  const keys = new Array<KeyHistory>(total);
  for (const record of state.records) {
    for (const revision of record.revs) {
      if (revision < base) continue;
      const at = starts[revision - base] as number;
      starts[revision - base] = at + 1;
      revs[at] = revision;
      keys[at] = record;
    }
  }
  return { revs, keys };
}

type GetBody = { value: JsonValue; version: number; createRevision: number; modRevision: number; lease?: number };

/** A get's fields for an item, or for an absent key. */
function getBody(item: KvItem | null): GetBody {
  if (item === null) return { value: null, version: 0, createRevision: 0, modRevision: 0 };
  const body = { value: item.value, version: item.version, createRevision: item.createRevision, modRevision: item.modRevision };
  return item.lease === undefined ? body : { ...body, lease: item.lease };
}

/** A txn's results with the revision it ended at, its nested txns' results too (as etcd reports them). */
function stamp(body: Body, revision: number): Body {
  const results = body['results'];
  if (body['succeeded'] === undefined || !Array.isArray(results)) return { revision, ...body };
  return { revision, succeeded: body['succeeded'], results: results.map((r) => stamp(r as Body, revision)) };
}

/**
 * The keys of `index` a range or range delete covers, in order: the walk starts at the selector's
 * lowest key and stops at the first key past its end or outside its prefix (a prefix's keys are
 * contiguous). Change-log selectors (`key`) are served from the log, not from here.
 */
function* keysIn(index: SortedKeys, q: Selector): Generator<string, void, undefined> {
  let lower: string | undefined;
  for (const bound of [q.prefix, q.start]) if (bound !== undefined && (lower === undefined || bound > lower)) lower = bound;
  for (const key of index.from(lower)) {
    if (q.prefix !== undefined && !key.startsWith(q.prefix)) return;
    if (q.end !== undefined && key >= q.end) return;
    if (inRange(key, q)) yield key;
  }
}

function inRange(key: string, q: Selector): boolean {
  if (q.prefix !== undefined && !key.startsWith(q.prefix)) return false;
  if (q.exclude !== undefined && key.startsWith(q.exclude)) return false;
  if (q.start !== undefined && key < q.start) return false;
  if (q.key !== undefined) {
    // a changes selector: one key, or [key, end)
    if (q.end === undefined) return key === q.key;
    if (key < q.key) return false;
  }
  if (q.end !== undefined && key >= q.end) return false;
  return true;
}


