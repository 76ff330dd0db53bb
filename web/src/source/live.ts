// Live mode: a cluster of real node processes run by `synod cluster up` (src/supervisor). The
// supervisor serves this page and, on the same origin, its control API: GET /api/cluster (the
// service it runs: {"service": "kv" | "clock-sync", "nodes": N}), GET /api/nodes (each process
// and the node's GET /v1/status), GET /api/events (the same list as server-sent events, every
// 200 ms when something changed and at least once a second), POST /api/nodes/:id/kill | pause |
// resume | restart, POST /api/auth/token, and, for the kv service, proxied to a running node:
// GET / POST /api/kv/:key, GET /api/leases (the lease list), GET /api/leases/:id?keys=true (a
// lease's time left and keys) and GET /api/watch?prefix=P&startRevision=R (a node's watch
// stream, JSON lines, passed through as it arrives).
// LiveSource turns the stream into the ClusterViews the ring draws, through the live adapter of
// the service (adapters/live.ts: what a node's status means), remembers what each node said last
// (a paused process cannot answer), notes what changed in an activity list, and sends the user's
// actions. The feeds the adapter asks for (kv: the watch stream and the lease table,
// source/live-feeds.ts) run while live mode is showing and fill the adapter's panels. A live
// cluster has no rewind and no message-level view: the nodes publish their state, not their
// traffic.
import type { LiveAdapter, LiveExit, LiveNodeRow, ProcessState } from '../adapters/live.js';
import { exitText } from '../adapters/live.js';
import { LIVE_WATCH_OP, parseWatchRequest, type LiveFeeds } from '../adapters/live-feeds.js';
import type { NodeStyle, NodeView } from '../adapters/types.js';
import type { Action } from '../engine/actions.js';
import { hashText } from '../engine/hash.js';
import { LeaseFeed, LockFeed, WatchFeed, type FeedHttp } from './live-feeds.js';
import type { ClusterSource, ClusterView, NodeDisplay, SourceCapabilities } from './types.js';

export { exitText, type LiveExit, type LiveNodeRow, type ProcessState } from '../adapters/live.js';
export type { LiveStatus } from '../adapters/live-kv.js';

/** GET /api/cluster: the service the supervisor runs. */
export interface ClusterInfo {
  readonly service: string;
  /** The number of nodes it was started with (null: not said). */
  readonly nodes: number | null;
}

/** One entry of GET /api/nodes. */
export interface LiveNodeInfo {
  readonly id: string;
  readonly process: ProcessState;
  readonly pid: number | null;
  readonly restarts: number;
  readonly endpoint: string;
  /** Absent when the process is not running; null (or not a status) when the node did not answer. */
  readonly status?: unknown;
  /** How the process ended last time, with its own one-line reason (a corrupt log, lost data, a failed disk). */
  readonly lastExit?: LiveExit;
}

/** One message of GET /api/events. */
export interface LiveSnapshot {
  /** The supervisor's wall clock (ms since the epoch). */
  readonly time: number;
  readonly nodes: readonly LiveNodeInfo[];
}

export type NodeCommand = 'kill' | 'pause' | 'resume' | 'restart';

export type Connection = 'connecting' | 'open' | 'lost';

export interface KvAnswer {
  readonly ok: boolean;
  readonly status: number;
  /** One line for the page. */
  readonly text: string;
  /** The value read (get) or written (put), when there is one. */
  readonly value?: unknown;
}

/** An update older than this (wall ms) means the stream is stuck. */
export const STALE_AFTER_MS = 3000;
const ACTIVITY_LINES = 40;
/** How long a restart of a running node waits for the process to end before starting it again. */
const STOP_WAIT_MS = 8000;

/** Where the page keeps its login token (this tab only; gone when the tab closes). */
const TOKEN_KEY = 'synod-token';

function clock(ms: number): string {
  const d = new Date(ms);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/** The error text of a JSON error answer ({ error: { code, message } }). */
function errorText(status: number, body: unknown): string {
  const e = (body as { error?: { code?: string; message?: string } } | null)?.error;
  return e === undefined ? `HTTP ${status}` : `${e.code ?? `HTTP ${status}`}: ${e.message ?? ''}`;
}

/** The service a cluster runs, when the supervisor does not say (before GET /api/cluster existed, it ran kv). */
export const DEFAULT_SERVICE = 'kv';

/** `S`: what a node's status is for this service; `V`: the node view its adapter gives. */
export class LiveSource<S = unknown, V extends NodeView = NodeView> implements ClusterSource {
  readonly kind = 'live' as const;
  readonly capabilities: SourceCapabilities = { timeTravel: false, dropMessages: false, linkFaults: false };
  private readonly listeners = new Set<() => void>();
  private rows: LiveNodeRow<S>[] = [];
  private readonly lastStatus = new Map<string, S>();
  private readonly activityLines: string[] = [];
  private stream: EventSource | undefined;
  private connectionValue: Connection = 'connecting';
  private lastUpdate = 0;
  private updates = 0;
  private readonly started = Date.now();
  private leaderSeen: string | null = null;
  /** Set once the cluster answered 401: authentication is on and the page needs credentials. */
  private authNeeded = false;
  private userName: string | null = null;
  private readonly watchFeed: WatchFeed | undefined;
  private readonly leaseFeed: LeaseFeed | undefined;
  private readonly lockFeed: LockFeed | undefined;

  /** @param base the supervisor's origin ('' for the page's own) */
  constructor(
    readonly adapter: LiveAdapter<S, V>,
    readonly base = '',
  ) {
    const http: FeedHttp = {
      base,
      headers: (accept) => this.headers(accept),
      unauthorized: () => this.unauthorized(storedToken()),
      changed: () => this.changed(),
    };
    const feeds = adapter.feeds ?? [];
    if (feeds.includes('watch')) this.watchFeed = new WatchFeed(http);
    if (feeds.includes('leases')) this.leaseFeed = new LeaseFeed(http);
    if (feeds.includes('locks')) this.lockFeed = new LockFeed(http);
  }

  /** Live mode shows or hides: the feeds (watch stream, lease polls) run only while it shows. */
  setActive(active: boolean): void {
    this.watchFeed?.setActive(active);
    this.leaseFeed?.setActive(active);
    this.lockFeed?.setActive(active);
  }

  /** The feeds' state now, for the adapter's panels. */
  feeds(): LiveFeeds {
    return { nowMs: Date.now(), ...(this.watchFeed === undefined ? {} : { watch: this.watchFeed.state() }), ...(this.leaseFeed === undefined ? {} : { leases: this.leaseFeed.state() }), ...(this.lockFeed === undefined ? {} : { locks: this.lockFeed.state() }) };
  }

  get style(): NodeStyle {
    return this.adapter.style;
  }

  /** Whether the page was served by the supervisor: GET /api/nodes answers with a list. */
  static async detect(base = '', timeoutMs = 2000): Promise<boolean> {
    if (typeof fetch !== 'function') return false;
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    try {
      const res = await fetch(`${base}/api/nodes`, { signal: abort.signal, headers: { accept: 'application/json' } });
      if (!res.ok || !(res.headers.get('content-type') ?? '').includes('json')) return false;
      return Array.isArray(await res.json());
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The service the supervisor runs (GET /api/cluster); "kv" when it does not say (an older supervisor) or cannot be asked. */
  static async cluster(base = '', timeoutMs = 2000): Promise<ClusterInfo> {
    const fallback: ClusterInfo = { service: DEFAULT_SERVICE, nodes: null };
    if (typeof fetch !== 'function') return fallback;
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    try {
      const res = await fetch(`${base}/api/cluster`, { signal: abort.signal, headers: { accept: 'application/json' } });
      if (!res.ok || !(res.headers.get('content-type') ?? '').includes('json')) return fallback;
      const body = (await res.json()) as { service?: unknown; nodes?: unknown } | null;
      const service = typeof body?.service === 'string' && body.service !== '' ? body.service : DEFAULT_SERVICE;
      return { service, nodes: typeof body?.nodes === 'number' ? body.nodes : null };
    } catch {
      return fallback;
    } finally {
      clearTimeout(timer);
    }
  }

  get connection(): Connection {
    return this.connectionValue;
  }

  /** Wall ms of the latest update (0: none yet). */
  get lastUpdateAt(): number {
    return this.lastUpdate;
  }

  get updateCount(): number {
    return this.updates;
  }

  get nodes(): readonly LiveNodeRow<S>[] {
    return this.rows;
  }

  activity(): readonly string[] {
    return this.activityLines;
  }

  /** Opens the event stream (EventSource reconnects by itself after an error). */
  connect(): void {
    if (this.stream !== undefined) return;
    const stream = new EventSource(`${this.base}/api/events`);
    this.stream = stream;
    stream.onopen = () => {
      if (this.connectionValue === 'lost') this.note('connection to the supervisor restored');
      this.connectionValue = 'open';
      this.changed();
    };
    stream.onerror = () => {
      if (this.connectionValue !== 'lost') this.note('lost the connection to the supervisor; retrying');
      this.connectionValue = 'lost';
      this.changed();
    };
    stream.onmessage = (e: MessageEvent<string>) => {
      try {
        this.ingest(JSON.parse(e.data) as LiveSnapshot);
      } catch (err) {
        console.warn('live mode: bad update from the supervisor', err);
      }
    };
  }

  /** Folds one update from the supervisor into the state drawn. */
  ingest(snapshot: LiveSnapshot): void {
    this.connectionValue = 'open';
    const before = new Map(this.rows.map((r) => [r.id, r]));
    const changes: string[] = [];
    this.rows = snapshot.nodes.map((n) => {
      const status = n.process === 'running' ? this.adapter.parseStatus(n.status) : null;
      if (status !== null) {
        if (this.adapter.changes !== undefined) changes.push(...this.adapter.changes(n.id, this.lastStatus.get(n.id) ?? null, status));
        this.lastStatus.set(n.id, status);
      }
      return { id: n.id, process: n.process, pid: n.pid, restarts: n.restarts, endpoint: n.endpoint, status: status ?? this.lastStatus.get(n.id) ?? null, fresh: status !== null, lastExit: n.lastExit ?? null };
    });
    this.lastUpdate = Date.now();
    this.updates++;
    if (this.updates > 1) {
      for (const row of this.rows) {
        const old = before.get(row.id);
        if (old === undefined) continue;
        if (old.process !== row.process) this.note(`node ${row.id}: process ${old.process} → ${row.process}${row.process === 'running' && row.restarts > old.restarts ? ' (restarted)' : ''}${row.process === 'stopped' ? exitText(row.lastExit) : ''}`);
        else if (row.process === 'running' && old.fresh !== row.fresh) this.note(row.fresh ? `node ${row.id} answers again` : `node ${row.id} does not answer`);
      }
    }
    for (const line of changes) this.note(line);
    if (this.adapter.hasLeader) {
      const leader = this.leader();
      if (leader !== this.leaderSeen) {
        this.note(leader === null ? 'no leader' : (this.adapter.leaderText?.(leader, this.rows) ?? `node ${leader} leads`));
        this.leaderSeen = leader;
      }
    }
    this.changed();
  }

  /** The leader as the service's adapter sees it (Raft: the running, answering node that says it leads, with the highest term). */
  leader(): string | null {
    return this.adapter.leader(this.rows);
  }

  private note(text: string): void {
    this.activityLines.push(`${clock(Date.now())}  ${text}`);
    if (this.activityLines.length > ACTIVITY_LINES) this.activityLines.shift();
  }

  view(_logWindow: number): ClusterView<NodeDisplay<V>> {
    const nodes = this.rows.map((r) => this.adapter.describeNode(r));
    const panels = this.adapter.describePanels(this.rows, this.feeds());
    const leader = this.leader();
    const stale = this.connectionValue !== 'open' || (this.lastUpdate > 0 && Date.now() - this.lastUpdate > STALE_AFTER_MS);
    return {
      timeMs: Date.now() - this.started,
      events: this.updates,
      nodes,
      messages: [],
      cuts: [],
      links: [],
      monitors: [],
      history: [],
      check: { verdict: 'none', text: 'not checked in live mode', unplaceable: [], stuck: null },
      caption: null,
      recent: [...this.activityLines],
      traceHash: '',
      stateHash: hashText(JSON.stringify([nodes.map((n) => [n.id, n.process, n.up, n.role, n.term, n.leader, n.log?.commit, n.log?.applied, n.reachable, n.details]), panels])),
      leader,
      failure: stale && this.updates > 0 ? 'no fresh state from the supervisor' : null,
      workload: false,
      panels,
    };
  }

  // ---------------------------------------------------------------- actions

  /** Request headers: what the page accepts and, once signed in, its token. */
  private headers(accept: string): Record<string, string> {
    const token = storedToken();
    return { accept, ...(token === null ? {} : { authorization: `Bearer ${token}` }) };
  }

  /** The cluster answered 401: authentication is on, and the page needs (new) credentials. */
  private unauthorized(token: string | null): void {
    if (this.authNeeded) return;
    this.authNeeded = true;
    this.note(token === null ? 'authentication is on: sign in to act on the cluster' : 'the login expired: sign in again');
    this.changed();
  }

  private async call(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
    const token = storedToken();
    const headers: Record<string, string> = { ...this.headers('application/json'), ...(body === undefined ? {} : { 'content-type': 'application/json' }) };
    const res = await fetch(`${this.base}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    if (res.status === 401) this.unauthorized(token);
    return { status: res.status, body: parsed };
  }

  /** Whether the cluster asked for credentials (then the page shows a sign-in form). */
  get needsLogin(): boolean {
    return this.authNeeded;
  }

  get user(): string | null {
    return this.userName;
  }

  /** Logs in through the supervisor; the token is kept for this tab only. */
  async login(name: string, password: string): Promise<{ ok: boolean; text: string }> {
    const a = await this.call('POST', '/api/auth/token', { name, password });
    const token = (a.body as { token?: unknown } | null)?.token;
    if (a.status !== 200 || typeof token !== 'string') return { ok: false, text: `sign-in failed: ${errorText(a.status, a.body)}` };
    try {
      sessionStorage.setItem(TOKEN_KEY, token);
    } catch {
      // storage unavailable: the token lives only as long as this page
      memoryToken = token;
    }
    this.authNeeded = false;
    this.userName = name;
    this.note(`signed in as ${name}`);
    // a watch refused for want of credentials may pass now
    this.watchFeed?.reopenIfFailed();
    this.lockFeed?.reopenIfFailed();
    this.changed();
    return { ok: true, text: `signed in as ${name}` };
  }

  /** Kills (SIGKILL), pauses (SIGSTOP), resumes (SIGCONT) or restarts a node's process. */
  async command(id: string, what: NodeCommand): Promise<void> {
    try {
      if (what === 'restart') await this.restart(id);
      else await this.post(id, what);
      this.note(`you: ${what} node ${id}: done`);
    } catch (err) {
      this.note(`you: ${what} node ${id}: ${err instanceof Error ? err.message : String(err)}`);
      throw err;
    } finally {
      this.changed();
    }
  }

  private async post(id: string, what: NodeCommand): Promise<void> {
    const a = await this.call('POST', `/api/nodes/${encodeURIComponent(id)}/${what}`);
    if (a.status !== 200) throw new Error(errorText(a.status, a.body));
  }

  /** Restart: a process that still runs (or is paused) is killed first, then started again. */
  private async restart(id: string): Promise<void> {
    const state = (): ProcessState | undefined => this.rows.find((r) => r.id === id)?.process;
    if (state() !== 'stopped') {
      await this.post(id, 'kill');
      const deadline = Date.now() + STOP_WAIT_MS;
      for (;;) {
        const list = await this.call('GET', '/api/nodes');
        const me = Array.isArray(list.body) ? (list.body as LiveNodeInfo[]).find((n) => n.id === id) : undefined;
        if (me?.process === 'stopped') break;
        if (Date.now() > deadline) throw new Error(`node ${id} did not stop within ${STOP_WAIT_MS / 1000} s`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    await this.post(id, 'restart');
  }

  /** Writes `value` under `key` through a running node (the supervisor tries them in turn). */
  async put(key: string, value: unknown): Promise<KvAnswer> {
    return this.kv('put', key, () => this.call('POST', `/api/kv/${encodeURIComponent(key)}`, { value }), value);
  }

  /** A linearizable read of `key` (through the leader). */
  async get(key: string): Promise<KvAnswer> {
    return this.kv('get', key, () => this.call('GET', `/api/kv/${encodeURIComponent(key)}`));
  }

  private async kv(op: 'put' | 'get', key: string, send: () => Promise<{ status: number; body: unknown }>, written?: unknown): Promise<KvAnswer> {
    let answer: KvAnswer;
    try {
      const a = await send();
      const b = (typeof a.body === 'object' && a.body !== null ? a.body : {}) as { result?: { value?: unknown; version?: number; revision?: number }; index?: number; node?: string; via?: string };
      const who = b.node !== undefined ? ` by node ${b.node}${b.via !== undefined && b.via !== b.node ? ` (asked node ${b.via})` : ''}` : '';
      if (a.status !== 200) {
        answer = { ok: false, status: a.status, text: `${op} ${key} failed: ${errorText(a.status, a.body)}` };
      } else if (op === 'put') {
        answer = { ok: true, status: 200, value: written, text: `put ${key} = ${JSON.stringify(written)}: committed at index ${b.index ?? '?'} (revision ${b.result?.revision ?? '?'})${who}` };
      } else {
        const value = b.result?.value ?? null;
        answer = { ok: true, status: 200, value, text: value === null ? `${key} is not set (read at index ${b.index ?? '?'}${who})` : `${key} = ${JSON.stringify(value)} (version ${b.result?.version ?? '?'}, read at index ${b.index ?? '?'}${who})` };
      }
    } catch (err) {
      answer = { ok: false, status: 0, text: `${op} ${key} failed: the supervisor did not answer (${err instanceof Error ? err.message : String(err)})` };
    }
    this.note(`you: ${answer.text}`);
    this.changed();
    return answer;
  }

  /** The simulator's actions that have a live meaning: crash, restart, pause (until resumed); and the Watch panel's button. */
  dispatch(action: Action): void {
    if (action.kind === 'client' && action.op === LIVE_WATCH_OP) {
      const request = parseWatchRequest(action.arg);
      if (request !== null && this.watchFeed !== undefined) {
        this.watchFeed.watch(request.prefix, request.fromRevision);
        this.note(`you: watch ${request.prefix === '' ? 'every key' : `"${request.prefix}"`} from ${request.fromRevision === null ? 'the next revision' : `revision ${request.fromRevision}`}`);
      } else this.note('watch: not available here');
      this.changed();
      return;
    }
    const target = action.kind === 'crash' || action.kind === 'restart' || action.kind === 'pause' ? (action.node === 'leader' ? this.leader() : action.node) : null;
    const command: NodeCommand | null = action.kind === 'crash' ? 'kill' : action.kind === 'restart' ? 'restart' : action.kind === 'pause' ? 'pause' : null;
    if (target === null || command === null) {
      this.note(`"${action.kind}" is not available in live mode`);
      this.changed();
      return;
    }
    void this.command(target, command).catch(() => undefined);
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }

  dispose(): void {
    this.watchFeed?.dispose();
    this.leaseFeed?.dispose();
    this.lockFeed?.dispose();
    this.stream?.close();
    this.stream = undefined;
    this.listeners.clear();
  }
}

let memoryToken: string | null = null;

function storedToken(): string | null {
  try {
    return sessionStorage.getItem(TOKEN_KEY) ?? memoryToken;
  } catch {
    return memoryToken;
  }
}

