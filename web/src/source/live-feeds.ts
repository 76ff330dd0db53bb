// The kv service's feeds in live mode (adapters/live-feeds.ts has their plain data): the watch
// stream of a key prefix and the lease table, read through the supervisor while live mode is
// showing (LiveSource.setActive).
//
// WatchFeed opens GET /api/watch?prefix=P&startRevision=R (the node's JSON lines, passed through
// by the supervisor) with fetch and reads the body as it arrives. It remembers the revision to
// resume from: the `created` line's first revision, then each `events` line's revision + 1, each
// `progress` line's revision + 1 and a `canceled` line's nextRevision. When the stream ends (the
// node stopped it) or breaks off (its node was killed, the supervisor went away), or stays silent
// for several progress intervals (its node is paused), it opens again a second later from that
// revision: on whichever node the supervisor picks, with no gap and no duplicate, since every
// node's change log is the same. A refusal (a bad or reserved prefix, no permission, history
// compacted past the resume point) stops it, saying why, until Watch is pressed again.
//
// LockFeed is a WatchFeed of the lock recipes' keys from revision 1, whose changes it folds into
// the keys that exist now with their create revisions (a lock's line and tokens).
//
// LeaseFeed polls GET /api/leases (the first MAX_LEASES) and, for each, GET
// /api/leases/:id?keys=true (the leader's time left and the attached keys), about once a second.
import { isRecord } from '../adapters/live.js';
import { LOCK_WATCH_PREFIX, type LiveLease, type LiveLeasesState, type LiveLockKey, type LiveLocksState, type LiveWatchEntry, type LiveWatchState } from '../adapters/live-feeds.js';

/** What the feeds need from the live source: where the supervisor is and the page's credentials. */
export interface FeedHttp {
  readonly base: string;
  /** Request headers with the page's credentials, if it has any. */
  headers(accept: string): Record<string, string>;
  /** The supervisor answered 401: the page asks for credentials. */
  unauthorized(): void;
  /** Anything changed: draw again. */
  changed(): void;
}

/** Watch entries kept (the panel draws about as many). */
export const WATCH_ENTRIES = 50;
/** How long after a stream ended or broke off it opens again. */
export const WATCH_RETRY_MS = 1000;
/** The progress interval asked of the node: a quiet stream still says it is alive this often. */
const WATCH_PROGRESS_MS = 2000;
/** A stream silent for this long is taken as stuck (its node paused) and opened again. */
const WATCH_SILENT_MS = 3 * WATCH_PROGRESS_MS + 1000;
const SILENT = `no line for ${WATCH_SILENT_MS / 1000} s: its node may be paused`;
/** How often the lease table is read. */
export const LEASE_POLL_MS = 1000;
/** The leases read, with their time left and keys, per poll. */
export const MAX_LEASES = 20;

/** The error text of a JSON error answer ({ error: { code, message } }). */
function errorText(status: number, body: unknown): string {
  const e = isRecord(body) && isRecord(body['error']) ? body['error'] : undefined;
  return e === undefined ? `HTTP ${status}` : `${typeof e['code'] === 'string' ? e['code'] : `HTTP ${status}`}: ${typeof e['message'] === 'string' ? e['message'] : ''}`;
}

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** One line of a watch stream, as far as the page reads it. */
interface WatchLine {
  readonly type?: unknown;
  readonly node?: unknown;
  readonly revision?: unknown;
  readonly startRevision?: unknown;
  readonly nextRevision?: unknown;
  readonly code?: unknown;
  readonly message?: unknown;
  readonly events?: unknown;
}

const wholeOrNull = (v: unknown): number | null => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : null);

/** One change as a watch stream delivered it, for a feed that folds the stream (LockFeed). */
export interface WatchChange {
  readonly type: 'put' | 'delete';
  readonly key: string;
  readonly value: unknown;
  readonly createRevision: number;
  readonly lease: number | null;
}

export class WatchFeed {
  private prefix = '';
  private entries: LiveWatchEntry[] = [];
  private events = 0;
  private opened = 0;
  private next: number | null = null;
  private phase: LiveWatchState['phase'] = 'idle';
  private status = 'not started';
  private configured = false;
  private active = false;
  /** Bumped whenever the stream in hand is given up: a late answer of an older one is ignored. */
  private generation = 0;
  private abort: AbortController | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly http: FeedHttp,
    /** Told every change received, in order (each once: a resumed stream starts after the last one). */
    private readonly onChange?: (change: WatchChange) => void,
  ) {}

  state(): LiveWatchState {
    return { prefix: this.prefix, phase: this.phase, status: this.status, entries: this.entries, events: this.events, nextRevision: this.next };
  }

  /** Watches `prefix` afresh from `fromRevision` (null: the next revision on); the entries shown so far go. */
  watch(prefix: string, fromRevision: number | null): void {
    this.configured = true;
    this.prefix = prefix;
    this.entries = [];
    this.events = 0;
    this.opened = 0;
    this.next = fromRevision;
    this.stopStream();
    if (this.active) this.open(null);
    else this.setPhase('idle', 'opens when live mode shows');
  }

  /** Live mode shows (the stream opens; the first time, on every key) or hides (it closes, to resume from where it was). */
  setActive(active: boolean): void {
    if (active === this.active) return;
    this.active = active;
    if (active) {
      if (!this.configured) this.watch('', null);
      else if (this.phase !== 'failed') this.open(this.opened === 0 ? null : 'live mode was hidden');
      return;
    }
    this.stopStream();
    if (this.phase !== 'failed') this.setPhase('idle', `closed while live mode is hidden; resumes${this.next === null ? '' : ` from revision ${this.next}`} when it shows`);
  }

  /** Opens again a watch that was refused (after a sign-in, say), from where it was. */
  reopenIfFailed(): void {
    if (this.phase === 'failed' && this.active) this.open(null);
  }

  dispose(): void {
    this.active = false;
    this.stopStream();
  }

  private stopStream(): void {
    this.generation++;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.abort?.abort();
    this.abort = undefined;
  }

  private setPhase(phase: LiveWatchState['phase'], status: string): void {
    this.phase = phase;
    this.status = status;
    this.http.changed();
  }

  private open(resumedAfter: string | null): void {
    this.stopStream();
    const generation = this.generation;
    const abort = new AbortController();
    this.abort = abort;
    this.setPhase('connecting', resumedAfter === null ? 'connecting…' : `reconnecting from revision ${this.next ?? 'the next one'}…`);
    void this.run(generation, abort, resumedAfter);
  }

  /** Opens the stream and reads it to its end; then retries or stops, saying why. */
  private async run(generation: number, abort: AbortController, resumedAfter: string | null): Promise<void> {
    const current = (): boolean => generation === this.generation;
    const query = new URLSearchParams({ prefix: this.prefix, progressMs: String(WATCH_PROGRESS_MS) });
    if (this.next !== null) query.set('startRevision', String(this.next));
    let res: Response;
    try {
      res = await fetch(`${this.http.base}/api/watch?${query.toString()}`, { headers: this.http.headers('application/x-ndjson'), signal: abort.signal, cache: 'no-store' });
    } catch (err) {
      if (current()) this.retry(`the supervisor did not answer (${messageOf(err)})`, 'the supervisor did not answer');
      return;
    }
    if (!current()) return void res.body?.cancel().catch(() => undefined);
    if (res.status !== 200 || res.body === null) {
      const body = (await res.json().catch(() => null)) as unknown;
      if (!current()) return;
      if (res.status === 401) this.http.unauthorized();
      const why = errorText(res.status, body);
      // a node that is down, busy or without a leader: another try may find one; anything else is a refusal
      if (res.status >= 500 || res.status === 429) this.retry(why, `refused: HTTP ${res.status}`);
      else this.fail(res.status === 410 ? `${why} (press Watch to start again from the next revision)` : why);
      return;
    }
    const node = res.headers.get('x-synod-node');
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffered = '';
    let canceled: string | null = null;
    let compacted = false;
    let silent = false;
    let silence: ReturnType<typeof setTimeout> | undefined;
    const listen = (): void => {
      clearTimeout(silence);
      silence = setTimeout(() => {
        silent = true;
        abort.abort();
      }, WATCH_SILENT_MS);
    };
    listen();
    // given up (Watch pressed again, live mode hidden, silence): stop reading at once
    abort.signal.addEventListener('abort', () => {
      clearTimeout(silence);
      reader.cancel().catch(() => undefined);
    });
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (!current()) return;
        if (done) break;
        listen();
        buffered += decoder.decode(value, { stream: true });
        let changed = false;
        for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
          const text = buffered.slice(0, nl).trim();
          buffered = buffered.slice(nl + 1);
          if (text === '') continue;
          const line = JSON.parse(text) as WatchLine;
          changed = true;
          if (line.type === 'created') this.created(line, node, resumedAfter);
          else if (line.type === 'events') this.received(line, node);
          else if (line.type === 'progress') {
            const r = wholeOrNull(line.revision);
            if (r !== null && (this.next === null || r + 1 > this.next)) this.next = r + 1;
          } else if (line.type === 'canceled') {
            const r = wholeOrNull(line.nextRevision);
            if (r !== null && r > 0) this.next = r;
            canceled = `${typeof line.code === 'string' ? line.code : 'canceled'}: ${typeof line.message === 'string' ? line.message : ''}`;
            compacted = line.code === 'COMPACTED';
          }
        }
        if (changed) this.http.changed();
      }
    } catch (err) {
      if (!current()) return;
      this.retry(silent ? SILENT : `the stream broke off (${messageOf(err)}): its node stopped, or the supervisor went away`, silent ? 'the stream went silent' : 'the stream broke off');
      return;
    } finally {
      clearTimeout(silence);
    }
    if (silent) return this.retry(SILENT, 'the stream went silent');
    if (compacted) return this.fail(`${canceled ?? 'COMPACTED'} (press Watch to start again from the next revision)`);
    this.retry(canceled === null ? 'the node ended the stream' : `the node ended the stream: ${canceled}`, 'the node ended the stream');
  }

  private created(line: WatchLine, node: string | null, resumedAfter: string | null): void {
    const from = wholeOrNull(line.startRevision);
    if (from !== null) this.next = from;
    const served = typeof line.node === 'string' ? line.node : node;
    this.opened++;
    this.push({ kind: 'opened', n: this.opened, node: served, fromRevision: from ?? 0, resumedAfter });
    this.phase = 'open';
    this.status = `streaming from node ${served ?? '?'}`;
  }

  private received(line: WatchLine, node: string | null): void {
    const revision = wholeOrNull(line.revision);
    if (revision === null || !Array.isArray(line.events)) return;
    for (const e of line.events as unknown[]) {
      if (!isRecord(e) || !isRecord(e['kv'])) continue;
      const kv = e['kv'];
      const type = e['type'] === 'delete' ? 'delete' : 'put';
      const key = String(kv['key']);
      this.events++;
      this.push({ kind: 'event', revision, type, key, value: type === 'delete' ? null : (kv['value'] ?? null), node });
      this.onChange?.({ type, key, value: kv['value'] ?? null, createRevision: wholeOrNull(kv['createRevision']) ?? revision, lease: wholeOrNull(kv['lease']) });
    }
    this.next = revision + 1;
  }

  private push(entry: LiveWatchEntry): void {
    this.entries = [...this.entries.slice(Math.max(0, this.entries.length - WATCH_ENTRIES + 1)), entry];
  }

  /** The stream is over for now: open it again shortly from the revision after the last one received. */
  /** `why` for the status line; `short` for the row of the stream opened next. */
  private retry(why: string, short: string): void {
    this.stopStream();
    if (!this.active) return;
    this.setPhase('retrying', `${why}; reconnecting in ${WATCH_RETRY_MS / 1000} s from revision ${this.next ?? 'the next one'}`);
    const generation = this.generation;
    this.retryTimer = setTimeout(() => {
      if (generation === this.generation && this.active) this.open(short);
    }, WATCH_RETRY_MS);
  }

  private fail(why: string): void {
    this.stopStream();
    this.setPhase('failed', `stopped: ${why}`);
  }
}

/** Recipe keys kept by the lock feed (beyond, the panel says some are not shown). */
export const MAX_LOCK_KEYS = 1000;

export class LockFeed {
  private readonly keys = new Map<string, LiveLockKey>();
  private truncated = false;
  private readonly stream: WatchFeed;

  constructor(http: FeedHttp) {
    this.stream = new WatchFeed(http, (c) => this.apply(c));
    // from the first revision: the history replays every key that exists now, with its create revision
    this.stream.watch(LOCK_WATCH_PREFIX, 1);
  }

  private apply(c: WatchChange): void {
    if (c.type === 'delete') {
      this.keys.delete(c.key);
      return;
    }
    if (!this.keys.has(c.key) && this.keys.size >= MAX_LOCK_KEYS) {
      this.truncated = true;
      return;
    }
    this.keys.set(c.key, { key: c.key, createRevision: c.createRevision, lease: c.lease, value: c.value });
  }

  state(): LiveLocksState {
    const w = this.stream.state();
    return { phase: w.phase, status: w.status, keys: [...this.keys.values()], truncated: this.truncated };
  }

  setActive(active: boolean): void {
    this.stream.setActive(active);
  }

  reopenIfFailed(): void {
    this.stream.reopenIfFailed();
  }

  dispose(): void {
    this.stream.dispose();
  }
}

export class LeaseFeed {
  private table: LiveLeasesState = { phase: 'idle', status: 'not read yet', leases: null, more: false, revision: null, via: null, polledAt: null };
  private active = false;
  private generation = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly http: FeedHttp) {}

  state(): LiveLeasesState {
    return this.table;
  }

  /** Polls while live mode shows. */
  setActive(active: boolean): void {
    if (active === this.active) return;
    this.active = active;
    this.generation++;
    clearTimeout(this.timer);
    this.timer = undefined;
    if (active) void this.poll(this.generation);
  }

  dispose(): void {
    this.setActive(false);
  }

  private async get(path: string): Promise<{ status: number; body: unknown }> {
    const res = await fetch(`${this.http.base}${path}`, { headers: this.http.headers('application/json'), cache: 'no-store' });
    const body = (await res.json().catch(() => null)) as unknown;
    if (res.status === 401) this.http.unauthorized();
    return { status: res.status, body };
  }

  private async poll(generation: number): Promise<void> {
    try {
      this.table = await this.read();
    } catch (err) {
      this.table = { ...this.table, phase: 'failed', status: `the supervisor did not answer (${messageOf(err)})` };
    }
    if (generation !== this.generation) return;
    this.http.changed();
    this.timer = setTimeout(() => void this.poll(generation), LEASE_POLL_MS);
  }

  /** One read of the table: the list, then each lease's time left and keys, in parallel. */
  private async read(): Promise<LiveLeasesState> {
    const list = await this.get(`/api/leases?limit=${MAX_LEASES}`);
    const result = isRecord(list.body) && isRecord(list.body['result']) ? list.body['result'] : undefined;
    if (list.status !== 200 || result === undefined || !Array.isArray(result['leases'])) {
      return { ...this.table, phase: 'failed', status: list.status === 200 ? 'the answer had no lease list' : errorText(list.status, list.body) };
    }
    const polledAt = Date.now();
    const listed = (result['leases'] as unknown[]).filter(isRecord).slice(0, MAX_LEASES);
    const leases = await Promise.all(listed.map((l) => this.lease(Number(l['id']), Number(l['ttlMs']))));
    const via = isRecord(list.body) ? list.body['via'] : undefined;
    return {
      phase: 'ok',
      status: `read ${leases.length} lease${leases.length === 1 ? '' : 's'}`,
      leases,
      more: result['more'] === true,
      revision: wholeOrNull(result['revision']),
      via: typeof via === 'string' ? via : null,
      polledAt,
    };
  }

  private async lease(id: number, ttlMs: number): Promise<LiveLease> {
    const unknown = (problem: string): LiveLease => ({ id, ttlMs, remainingMs: null, readAt: Date.now(), keys: null, problem });
    let a: { status: number; body: unknown };
    try {
      a = await this.get(`/api/leases/${id}?keys=true`);
    } catch (err) {
      return unknown(`the supervisor did not answer (${messageOf(err)})`);
    }
    const readAt = Date.now();
    const r = isRecord(a.body) && isRecord(a.body['result']) ? a.body['result'] : undefined;
    if (a.status !== 200 || r === undefined) return unknown(errorText(a.status, a.body));
    // e.g. lease-not-found: revoked or expired since the list was read
    if (typeof r['error'] === 'string') return unknown(r['error']);
    const keys = Array.isArray(r['keys']) ? (r['keys'] as unknown[]).map(String) : null;
    const remaining = typeof r['remainingMs'] === 'number' ? r['remainingMs'] : null;
    return { id, ttlMs: typeof r['ttlMs'] === 'number' ? r['ttlMs'] : ttlMs, remainingMs: remaining, readAt, keys, problem: remaining === null ? 'the leader gave no time left' : null };
  }
}
