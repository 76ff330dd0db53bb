// Watch streams of the KV API. Any node serves them from its applied state (never forwarded to
// the leader) by pulling the store's change log (`changes`) and writing JSON lines on a chunked
// HTTP answer: one line per revision, progress lines when idle, and a last line saying why a
// watch was cancelled (a watch asked with `once` ends cleanly after its first events line
// instead; with `rangePrefix` that line also carries the keys under a prefix, so that a lock's
// waiter learns its place in line without a read of its own). A watcher's memory is its
// selector, its next revision and a bounded send window: a client that stops reading leaves the
// events in the store's history, not here.
import { MAX_CHANGES_EVENTS, emitByRevision, keyProblem, type ChangesRequest, type KvEvent, type KvResult } from '../kv/index.js';
import { RESERVED_PREFIX } from './api.js';
import type { HealthReport } from './api.js';
import { boundParam, flagParam, revisionParam, type AccessCheck } from './kv-api-util.js';
import { HttpError } from './http.js';
import type { HttpStream, StreamSink } from './http-server.js';
import { ServiceOptionError } from './service.js';

/** Limits of a node's watchers (the KV service's `watch` option in the cluster file). */
export interface WatchOptions {
  /** Most watchers one node serves at once; more are refused with 503 TOO_MANY_WATCHERS. Default 1000. */
  readonly maxWatchers?: number;
  /** A watcher writes while fewer bytes than this wait unsent on its socket, then waits for them to drain. Default 64 KiB. */
  readonly sendWindowBytes?: number;
  /** A watcher that is behind and whose socket has not drained for this long is cancelled (SLOW_WATCHER). Default 10 s. */
  readonly slowWatcherMs?: number;
  /** A progress line after this long without a line, unless the client asks for another interval. Default 5 s. */
  readonly progressMs?: number;
}

export const WATCH_DEFAULTS: Required<WatchOptions> = { maxWatchers: 1000, sendWindowBytes: 64 * 1024, slowWatcherMs: 10_000, progressMs: 5000 };
/** The progress interval a client may ask for (`progressMs`), in milliseconds. */
export const MIN_PROGRESS_MS = 100;
export const MAX_PROGRESS_MS = 600_000;
/** Events asked for per pull: a page, written one revision at a time. */
const PAGE_EVENTS = 256;
/** Pulls one watcher makes before letting the others (and Raft) run: a watcher replaying a long history yields often. */
const PULLS_PER_TURN = 4;
/** How often progress lines are due and stalled watchers looked for. */
const SWEEP_MS = 100;

/** What the hub reads: this node's applied state. */
export interface WatchSource {
  readonly nodeId: string;
  /** The store's change log at this node's applied index. */
  changes(query: ChangesRequest): KvResult;
  /** The live keys under `prefix` at this node's applied index (at most `limit`; the cluster's own keys left out). */
  range(prefix: string, limit: number): KvResult;
  /** The store's revision at this node's applied index. */
  revision(): number;
  health(): HealthReport;
}

/** Which keys a watch covers: one key, [key, end), or a prefix. */
export type WatchSelector = { readonly key: string; readonly end?: string } | { readonly prefix: string };

export interface WatchSpec {
  readonly selector: WatchSelector;
  /** The first revision to send (0: the next one). */
  readonly startRevision: number;
  readonly prevKv: boolean;
  readonly noPut: boolean;
  readonly noDelete: boolean;
  readonly progressMs: number;
  /**
   * End the stream after the first events line, keeping the connection: a lock's waiter wants one
   * event, and a stream it had to cut would cost a connection per wait on both sides.
   */
  readonly once: boolean;
  /**
   * With `once`: the events line also carries `range`, the live keys under this prefix at this
   * node's state when the line is written (a serializable range at that revision or later), so a
   * lock's waiter that saw its predecessor go learns its place in line without another request.
   */
  readonly rangePrefix: string | null;
}

/** Most keys a once-watch's `range` carries; past it the range says `more: true` (a lock's line past this many is refused by the lock client anyway). */
export const WATCH_RANGE_LIMIT = 10_000;

/** Query parameters of GET /v1/watch. */
export const WATCH_QUERY = ['key', 'end', 'prefix', 'startRevision', 'prevKv', 'noPut', 'noDelete', 'progressMs', 'once', 'rangePrefix'] as const;

/** A watch request from its query string; every parameter checked (400 with the reason otherwise). */
export function parseWatchQuery(query: URLSearchParams, defaultProgressMs: number): WatchSpec {
  const key = query.get('key');
  const end = query.get('end');
  const prefix = query.get('prefix');
  let selector: WatchSelector;
  if (prefix !== null) {
    if (key !== null || end !== null) throw new HttpError(400, 'BAD_REQUEST', 'watch takes "key" (with an optional "end") or "prefix", not both');
    if (prefix.startsWith(RESERVED_PREFIX)) throw new HttpError(400, 'RESERVED_KEY', `keys under "${RESERVED_PREFIX}" are reserved for the cluster`);
    selector = { prefix: boundParam(prefix, 'prefix') };
  } else {
    if (key === null) throw new HttpError(400, 'BAD_REQUEST', 'watch needs "key" (with an optional "end") or "prefix"');
    const problem = keyProblem(key);
    if (problem !== null) throw new HttpError(400, 'BAD_KEY', problem);
    if (end === null) {
      if (key.startsWith(RESERVED_PREFIX)) throw new HttpError(400, 'RESERVED_KEY', `keys under "${RESERVED_PREFIX}" are reserved for the cluster`);
      selector = { key };
    } else {
      if (end < key) throw new HttpError(400, 'BAD_REQUEST', '"end" must not sort before "key" (the range is [key, end))');
      selector = { key, end: boundParam(end, 'end') };
    }
  }
  const progressText = query.get('progressMs');
  const progressMs = progressText === null ? defaultProgressMs : /^\d{1,7}$/.test(progressText) ? Number(progressText) : NaN;
  if (!(progressMs >= MIN_PROGRESS_MS && progressMs <= MAX_PROGRESS_MS)) throw new HttpError(400, 'BAD_REQUEST', `"progressMs" must be a whole number from ${MIN_PROGRESS_MS} to ${MAX_PROGRESS_MS}`);
  const once = flagParam(query, 'once');
  const rangePrefix = query.get('rangePrefix');
  if (rangePrefix !== null) {
    // a stream of many events lines would need a range per line: only the one line of a once-watch carries it
    if (!once) throw new HttpError(400, 'BAD_REQUEST', '"rangePrefix" goes with once=true (only the one events line of a once-watch carries the range)');
    if (rangePrefix.startsWith(RESERVED_PREFIX)) throw new HttpError(400, 'RESERVED_KEY', `keys under "${RESERVED_PREFIX}" are reserved for the cluster`);
    boundParam(rangePrefix, 'rangePrefix');
  }
  return {
    selector,
    startRevision: revisionParam(query, 'startRevision') ?? 0,
    prevKv: flagParam(query, 'prevKv'),
    noPut: flagParam(query, 'noPut'),
    noDelete: flagParam(query, 'noDelete'),
    progressMs,
    once,
    rangePrefix,
  };
}

/** The read permissions a watch needs: its selector's keys, and the prefix whose keys its events line carries. */
export function watchAccess(spec: Pick<WatchSpec, 'selector' | 'rangePrefix'>): AccessCheck[] {
  const selector = spec.selector;
  const keys: AccessCheck = 'prefix' in selector ? { range: { prefix: selector.prefix }, write: false } : selector.end === undefined ? { key: selector.key, write: false } : { range: { start: selector.key, end: selector.end }, write: false };
  return spec.rangePrefix === null ? [keys] : [keys, { range: { prefix: spec.rangePrefix }, write: false }];
}

/** The limits from the cluster file's `watch` option; a bad one stops the node from starting, saying which. */
export function watchOptionsOf(raw: unknown): Required<WatchOptions> {
  if (raw === undefined) return WATCH_DEFAULTS;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ServiceOptionError('the kv option "watch" must be an object');
  const out: Record<string, number> = { ...WATCH_DEFAULTS };
  for (const [name, value] of Object.entries(raw)) {
    if (!(name in WATCH_DEFAULTS)) throw new ServiceOptionError(`the kv option "watch" has no field "${name}" (it has: ${Object.keys(WATCH_DEFAULTS).join(', ')})`);
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) throw new ServiceOptionError(`watch.${name} must be a whole number >= 1`);
    out[name] = value;
  }
  return out as unknown as Required<WatchOptions>;
}

/** Codes of a watch's last line (`type: "canceled"`). */
export type WatchCancelCode = 'COMPACTED' | 'SLOW_WATCHER' | 'SHUTDOWN' | 'NODE_FAILED' | 'INTERNAL';

/** Every watcher of one node, and the pulls that feed them. */
export class WatchHub {
  private readonly watchers = new Set<Watcher>();
  /** Watchers to pump soon (after entries were applied, or a watcher yielded). */
  private readonly due = new Set<Watcher>();
  private pumpScheduled = false;
  private pumpedThisTurn = false;
  private sweeper: ReturnType<typeof setInterval> | undefined;
  /** The store's revision, read once per change of the applied index (every watcher asks on every wake-up). */
  private revisionCache: number | undefined;
  readonly limits: Required<WatchOptions>;

  constructor(
    readonly source: WatchSource,
    options: WatchOptions = {},
  ) {
    this.limits = { ...WATCH_DEFAULTS, ...options };
  }

  /** Watchers open now (counting those whose answer is still being sent). */
  get size(): number {
    return this.watchers.size;
  }

  /** Entries were applied on this node: every watcher pulls what is new, soon (coalesced; see schedule). */
  applied(): void {
    this.revisionCache = undefined;
    for (const watcher of this.watchers) this.due.add(watcher);
    this.schedule(true);
  }

  /**
   * The store's revision at this node's applied index. Cached until the next applied(): the host
   * calls that whenever the applied index moves, and only applying entries moves the revision.
   */
  revision(): number {
    this.revisionCache ??= this.source.revision();
    return this.revisionCache;
  }

  /** Pumps `watcher` on the next turn (a watcher that yields to other work). */
  later(watcher: Watcher): void {
    this.due.add(watcher);
    this.schedule(false);
  }

  /** `soon`: entries were applied (see below); otherwise at the end of the turn. */
  private schedule(soon: boolean): void {
    if (this.pumpScheduled || this.due.size === 0) return;
    this.pumpScheduled = true;
    const run = (): void => {
      this.pumpScheduled = false;
      const batch = [...this.due];
      this.due.clear();
      for (const watcher of batch) watcher.pump();
    };
    // The first pump of a turn after entries were applied runs once the code that applied them is
    // done (a microtask): before the write's own answer, which leaves in a promise reaction queued
    // after it, so a lock's next waiter hears of the release before the releaser does. Later pumps
    // of the turn wait for its end (setImmediate) and coalesce: a busy stream gets a line a turn,
    // not one per apply.
    if (!soon || this.pumpedThisTurn) {
      setImmediate(run);
      return;
    }
    this.pumpedThisTurn = true;
    setImmediate(() => (this.pumpedThisTurn = false));
    queueMicrotask(run);
  }

  /**
   * Opens a watcher and returns its stream. Refused at once (an HTTP error, no stream) when the
   * node has failed, holds its most watchers, or no longer keeps the start revision's history.
   */
  open(spec: WatchSpec): HttpStream {
    const health = this.source.health();
    if (!health.ok) throw new HttpError(503, 'NODE_FAILED', `this node stopped serving: ${health.reason ?? 'failed'}`, { safeToRetry: true });
    if (this.watchers.size >= this.limits.maxWatchers) {
      throw new HttpError(503, 'TOO_MANY_WATCHERS', `node ${this.source.nodeId} serves at most ${this.limits.maxWatchers} watchers; try another node or close some`, { safeToRetry: true });
    }
    const current = this.revision();
    const start = spec.startRevision === 0 ? current + 1 : spec.startRevision;
    const probe = this.source.changes(changesQuery(spec, start, 1));
    if ('error' in probe && probe.error === 'compacted') {
      throw new HttpError(410, 'COMPACTED', `revision ${start} has been compacted away; watch from revision ${probe.compactRevision} or later (read the keys afresh, then watch from that read's revision + 1)`, { compactRevision: probe.compactRevision, revision: current, safeToRetry: false });
    }
    const watcher = new Watcher(this, spec, start, current);
    // counted from now: a burst of opens cannot pass the limit while their heads are being sent
    this.watchers.add(watcher);
    if (this.sweeper === undefined) {
      this.sweeper = setInterval(() => this.sweep(), SWEEP_MS);
      this.sweeper.unref();
    }
    return { start: (sink) => watcher.start(sink), abandon: () => watcher.drop(), keepAlive: spec.once };
  }

  remove(watcher: Watcher): void {
    this.watchers.delete(watcher);
    this.due.delete(watcher);
    if (this.watchers.size === 0 && this.sweeper !== undefined) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }

  /** Cancels every watcher (the node is stopping): each gets its last line. */
  close(): void {
    for (const watcher of [...this.watchers]) watcher.cancel('SHUTDOWN', 'the node is shutting down; resume from nextRevision on another node');
    for (const watcher of [...this.watchers]) watcher.drop();
  }

  private sweep(): void {
    const now = performance.now();
    const health = this.source.health();
    for (const watcher of [...this.watchers]) {
      if (!health.ok) watcher.cancel('NODE_FAILED', `this node stopped serving (${health.reason ?? 'failed'}); resume from nextRevision on another node`);
      else watcher.tick(now);
    }
  }
}

function changesQuery(spec: WatchSpec, fromRevision: number, maxEvents: number): ChangesRequest {
  const s = spec.selector;
  const base = 'prefix' in s ? { prefix: s.prefix } : s.end === undefined ? { key: s.key } : { key: s.key, end: s.end };
  return {
    op: 'changes',
    ...base,
    // the cluster's own keys (members, users, roles) never reach a watcher
    exclude: RESERVED_PREFIX,
    fromRevision,
    maxEvents: Math.min(maxEvents, MAX_CHANGES_EVENTS),
    ...(spec.prevKv ? { prevKv: true } : {}),
    ...(spec.noPut ? { noPut: true } : {}),
    ...(spec.noDelete ? { noDelete: true } : {}),
  };
}

/** One watcher: its selector, the next revision it owes its client, and its stream. */
class Watcher {
  private sink: StreamSink | undefined;
  private closed = false;
  private waitingForDrain = false;
  /** An events line was written (a `once` watch ends after the first). */
  private sentEvents = false;
  /** A once-watch's events line, written with the end of the stream. */
  private onceLine: Record<string, unknown> | undefined;
  /** When its socket stopped taking bytes (undefined while it drains). */
  private blockedSinceMs: number | undefined;
  private lastLineMs = performance.now();

  constructor(
    private readonly hub: WatchHub,
    private readonly spec: WatchSpec,
    /** Every change below it has been sent (or was before the start). */
    private next: number,
    private readonly createdAt: number,
  ) {}

  start(sink: StreamSink): void {
    if (this.closed) return void sink.end();
    this.sink = sink;
    sink.onClose((reason) => {
      if (reason === 'gone') this.drop();
      else this.cancel('SHUTDOWN', 'the node is shutting down; resume from nextRevision on another node');
    });
    this.line({ type: 'created', node: this.hub.source.nodeId, revision: this.createdAt, startRevision: this.next });
    this.pump();
  }

  /** Forgets the watcher without a last line (its client is gone, or the stream never started). */
  drop(): void {
    this.closed = true;
    this.hub.remove(this);
  }

  /** Sends what is new, while the send window has room; yields to other work after a few pulls. */
  pump(): void {
    const sink = this.sink;
    if (this.closed || sink === undefined || this.waitingForDrain) return;
    const window = this.hub.limits.sendWindowBytes;
    for (let pulls = 0; ; pulls++) {
      if (sink.unsentBytes >= window) return this.waitForDrain(sink);
      if (this.next > this.hub.revision()) return; // caught up: the next applied entry wakes it
      if (pulls >= PULLS_PER_TURN) return this.hub.later(this);
      const page = this.hub.source.changes(changesQuery(this.spec, this.next, PAGE_EVENTS));
      if ('error' in page) {
        if (page.error === 'compacted') return this.cancel('COMPACTED', `revision ${this.next} was compacted away before it was sent; read the keys afresh and watch from that read's revision + 1`, { compactRevision: page.compactRevision });
        return this.cancel('INTERNAL', `the change log answered ${JSON.stringify(page).slice(0, 200)}`);
      }
      if (!('events' in page)) return this.cancel('INTERNAL', 'the change log answered without events');
      this.next = this.send(page.events, page.nextRevision, window);
      if (this.spec.once && this.sentEvents) return this.finish();
    }
  }

  /**
   * Writes a page one revision per line; stops (and resumes there on the next pull) once the
   * window is full, or after one line for a `once` watch. Returns the next revision owed.
   */
  private send(events: readonly KvEvent[], nextRevision: number, window: number): number {
    const sink = this.sink as StreamSink;
    const hasRoom = (): boolean => !(this.spec.once && this.sentEvents) && sink.unsentBytes < window;
    return emitByRevision(events, nextRevision, hasRoom, (batch) => {
      this.sentEvents = true;
      const prefix = this.spec.rangePrefix;
      // read now, in the same turn as the events: this node's state is at the batch's revision or later
      const line = prefix === null ? { type: 'events', revision: batch.revision, events: batch.events } : { type: 'events', revision: batch.revision, events: batch.events, range: this.hub.source.range(prefix, WATCH_RANGE_LIMIT) };
      // a once-watch's one events line leaves with the stream's end, in one write (finish)
      if (this.spec.once) this.onceLine = line;
      else this.line(line);
    });
  }

  /** Ends a `once` watch after its events line: no last line (the client asked for this end), and the connection stays open for its next request. */
  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.hub.remove(this);
    const line = this.onceLine;
    this.onceLine = undefined;
    if (line !== undefined) this.lastLineMs = performance.now();
    this.sink?.end(line === undefined ? undefined : `${JSON.stringify(line)}\n`);
  }

  private waitForDrain(sink: StreamSink): void {
    this.waitingForDrain = true;
    this.blockedSinceMs ??= performance.now();
    sink.onDrain(() => {
      this.waitingForDrain = false;
      this.blockedSinceMs = undefined;
      this.pump();
    });
  }

  /** Called every sweep: a progress line when idle and caught up; cancels a watcher that is behind and whose client stopped reading. */
  tick(nowMs: number): void {
    if (this.closed || this.sink === undefined) return;
    const behind = this.next <= this.hub.revision();
    if (this.blockedSinceMs !== undefined && behind && nowMs - this.blockedSinceMs > this.hub.limits.slowWatcherMs) {
      const unsent = this.sink.unsentBytes;
      return this.cancel('SLOW_WATCHER', `the client took no bytes for ${Math.round(nowMs - this.blockedSinceMs)} ms with ${unsent} bytes unsent and revisions from ${this.next} to send; resume from nextRevision`);
    }
    if (!this.waitingForDrain && !behind && nowMs - this.lastLineMs >= this.spec.progressMs) this.line({ type: 'progress', revision: this.next - 1 });
  }

  /** Sends the last line, with the code and the revision to resume from, and ends the stream. */
  cancel(code: WatchCancelCode, message: string, extra: Record<string, number> = {}): void {
    if (this.closed) return;
    this.closed = true;
    this.hub.remove(this);
    const sink = this.sink;
    if (sink === undefined) return;
    this.line({ type: 'canceled', code, message, nextRevision: this.next, ...extra }, true);
    sink.end();
  }

  private line(value: Record<string, unknown>, last = false): void {
    if (this.closed && !last) return;
    this.lastLineMs = performance.now();
    (this.sink as StreamSink).write(`${JSON.stringify(value)}\n`);
  }
}
