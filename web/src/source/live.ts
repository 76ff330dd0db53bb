// Live mode: a cluster of real node processes run by `synod cluster up` (src/cli/cluster.ts). The
// supervisor serves this page and, on the same origin, its control API: GET /api/nodes (each
// process and the node's GET /v1/status), GET /api/events (the same list as server-sent events,
// every 200 ms when something changed and at least once a second), POST /api/nodes/:id/kill |
// pause | resume | restart, and GET / POST /api/kv/:key (proxied to a running node). LiveSource
// turns the stream into the ClusterViews the ring draws, remembers what each node said last (a
// paused process cannot answer), notes what changed in an activity list, and sends the user's
// actions. A live cluster has no rewind and no message-level view: the nodes publish their state,
// not their traffic.
import type { LogView, NodeView, ProtocolAdapter } from '../adapters/types.js';
import type { Action } from '../engine/actions.js';
import { hashText } from '../engine/hash.js';
import type { ClusterSource, ClusterView, NodeDisplay, SourceCapabilities } from './types.js';

export type ProcessState = 'running' | 'paused' | 'stopped';

/** A node's GET /v1/status (src/raft NodeStatus). */
export interface LiveStatus {
  readonly id: string;
  readonly role: string;
  readonly term: number;
  readonly vote: string | null;
  readonly leader: string | null;
  readonly commit: number;
  readonly applied: number;
  readonly lastIndex: number;
  readonly snapshotIndex: number;
  readonly voters: readonly string[];
  readonly learners: readonly string[];
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

export interface LiveExit {
  readonly code: number | null;
  readonly signal: string | null;
  readonly reason: string | null;
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

export interface LiveNodeRow {
  readonly id: string;
  readonly process: ProcessState;
  readonly pid: number | null;
  readonly restarts: number;
  readonly endpoint: string;
  /** The node's status now, or the last one it gave (see `fresh`). */
  readonly status: LiveStatus | null;
  /** True when `status` is from the latest poll; false when it is the last known one. */
  readonly fresh: boolean;
  readonly lastExit: LiveExit | null;
}

/** An update older than this (wall ms) means the stream is stuck. */
export const STALE_AFTER_MS = 3000;
const ACTIVITY_LINES = 40;
/** How long a restart of a running node waits for the process to end before starting it again. */
const STOP_WAIT_MS = 8000;

function isStatus(v: unknown): v is LiveStatus {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Record<string, unknown>;
  return typeof s['role'] === 'string' && typeof s['term'] === 'number' && typeof s['commit'] === 'number';
}

/** ": exited with code 1: WAL_CORRUPT ..." for a process that told why it stopped. */
export function exitText(exit: LiveExit | null): string {
  if (exit === null) return '';
  const how = exit.signal !== null ? `killed by ${exit.signal}` : `exited with code ${String(exit.code)}`;
  return `: ${how}${exit.reason === null ? '' : `: ${exit.reason}`}`;
}

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

export class LiveSource implements ClusterSource {
  readonly kind = 'live' as const;
  readonly capabilities: SourceCapabilities = { timeTravel: false, dropMessages: false, linkFaults: false };
  private readonly listeners = new Set<() => void>();
  private rows: LiveNodeRow[] = [];
  private readonly lastStatus = new Map<string, LiveStatus>();
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

  /** @param base the supervisor's origin ('' for the page's own) */
  constructor(
    readonly adapter: ProtocolAdapter,
    readonly base = '',
  ) {}

  get style(): ProtocolAdapter {
    return this.adapter;
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

  get nodes(): readonly LiveNodeRow[] {
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
    this.rows = snapshot.nodes.map((n) => {
      const status = n.process === 'running' && isStatus(n.status) ? n.status : null;
      if (status !== null) this.lastStatus.set(n.id, status);
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
    const leader = this.leader();
    if (leader !== this.leaderSeen) {
      const term = leader === null ? null : (this.rows.find((r) => r.id === leader)?.status?.term ?? null);
      this.note(leader === null ? 'no leader' : `node ${leader} leads (term ${term ?? '?'})`);
      this.leaderSeen = leader;
    }
    this.changed();
  }

  /** The running, answering node that says it leads, with the highest term. */
  leader(): string | null {
    let best: LiveNodeRow | undefined;
    for (const r of this.rows) {
      if (r.process !== 'running' || !r.fresh || r.status?.role !== 'leader') continue;
      if (best === undefined || (r.status.term ?? 0) > (best.status?.term ?? 0)) best = r;
    }
    return best?.id ?? null;
  }

  private note(text: string): void {
    this.activityLines.push(`${clock(Date.now())}  ${text}`);
    if (this.activityLines.length > ACTIVITY_LINES) this.activityLines.shift();
  }

  view(_logWindow: number): ClusterView<RaftNodeDisplay> {
    const nodes: RaftNodeDisplay[] = this.rows.map(describeRow);
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
      stateHash: hashText(JSON.stringify(nodes.map((n) => [n.id, n.process, n.up, n.role, n.term, n.leader, n.log.commit, n.log.applied, n.reachable]))),
      leader,
      failure: stale && this.updates > 0 ? 'no fresh state from the supervisor' : null,
      workload: false,
      panels: {},
    };
  }

  // ---------------------------------------------------------------- actions

  private async call(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
    const token = storedToken();
    const headers: Record<string, string> = { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(token === null ? {} : { authorization: `Bearer ${token}` }) };
    const res = await fetch(`${this.base}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    if (res.status === 401 && !this.authNeeded) {
      this.authNeeded = true;
      this.note(token === null ? 'authentication is on: sign in to act on the cluster' : 'the login expired: sign in again');
      this.changed();
    }
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

  /** The simulator's actions that have a live meaning: crash, restart, pause (until resumed). */
  dispatch(action: Action): void {
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

/** A Raft node: its log positions are always known (the last ones it reported). */
type RaftNodeDisplay = NodeDisplay<NodeView & { readonly log: LogView }>;

/** A node as the ring draws it: role, term and indices from its status (or the last one it gave). */
function describeRow(r: LiveNodeRow): RaftNodeDisplay {
  const s = r.status;
  const indices = s === null ? null : `commit ${s.commit} · applied ${s.applied}`;
  const base = {
    id: r.id,
    up: r.process !== 'stopped',
    term: r.process === 'stopped' || (!r.fresh && r.process === 'running') ? null : (s?.term ?? null),
    vote: s?.vote ?? null,
    leader: s?.leader ?? null,
    timer: null,
    log: { cells: [], lastIndex: s?.lastIndex ?? 0, commit: s?.commit ?? null, applied: s?.applied ?? null, snapshotIndex: s?.snapshotIndex ?? 0 },
    member: s === null || s.voters.includes(r.id) || s.learners.includes(r.id),
  };
  if (r.process === 'stopped') return { ...base, role: 'down', details: r.lastExit === null ? [] : [exitText(r.lastExit).slice(2)], paused: false, process: 'stopped' };
  if (r.process === 'paused') return { ...base, role: s?.role ?? 'unknown', details: [indices === null ? 'paused' : `paused · ${indices}`], paused: true, process: 'paused' };
  if (!r.fresh) return { ...base, role: 'unknown', details: ['no answer', `process running${r.pid === null ? '' : ` (pid ${r.pid})`}`], paused: false, process: 'running', reachable: false };
  return { ...base, role: s?.role ?? 'unknown', details: indices === null ? [] : [indices], paused: false, process: 'running', reachable: true };
}
