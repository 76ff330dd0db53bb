// The live adapter of the "kv" service: Raft nodes replicating the key-value store. A node's
// GET /v1/status is Raft's NodeStatus (role, term, vote, leader, commit, applied, last index,
// snapshot index, voters, learners); the ring shows role, term, vote and the log positions it
// reported, the Nodes table its term, leader and indices, and the page offers the key-value form.
// The Watch and Leases panels are drawn from the feeds the live source keeps (live-feeds.ts): the
// watch stream of a chosen prefix and the lease table with each lease's keys and time left; the
// Locks panel from the lock feed (live-locks.ts).
import type { NodeDisplay } from '../source/types.js';
import { isRecord, processView, type LiveAdapter, type LiveNodeRow } from './live.js';
import { LIVE_WATCH_OP, type LiveFeeds, type LiveLeasesState, type LiveWatchRequest, type LiveWatchState } from './live-feeds.js';
import { LIVE_LOCKS_PANEL, liveLocksTable } from './live-locks.js';
import { raftAdapter } from './raft.js';
import type { LogView, NodeView, PanelContents, PanelDef, TableCell, TableContent, TableRow } from './types.js';

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

/** A Raft node as drawn live: its log positions are always known (the last ones it reported). */
export type RaftLiveView = NodeView & { readonly log: LogView };

function isStatus(v: unknown): v is LiveStatus {
  return isRecord(v) && typeof v['role'] === 'string' && typeof v['term'] === 'number' && typeof v['commit'] === 'number';
}

/** A node as the ring draws it: role, term and indices from its status (or the last one it gave). */
function describeNode(r: LiveNodeRow<LiveStatus>): NodeDisplay<RaftLiveView> {
  const s = r.status;
  const indices = s === null ? null : `commit ${s.commit} · applied ${s.applied}`;
  return {
    ...processView(r, s === null ? null : { role: s.role, details: indices === null ? [] : [indices] }),
    term: r.process === 'stopped' || (!r.fresh && r.process === 'running') ? null : (s?.term ?? null),
    vote: s?.vote ?? null,
    leader: s?.leader ?? null,
    timer: null,
    log: { cells: [], lastIndex: s?.lastIndex ?? 0, commit: s?.commit ?? null, applied: s?.applied ?? null, snapshotIndex: s?.snapshotIndex ?? 0 },
    member: s === null || s.voters.includes(r.id) || s.learners.includes(r.id),
  };
}

/** Watch entries drawn (the feed keeps about as many). */
const WATCH_ROWS = 50;

/**
 * The simulation's Watch and Leases panels, in live mode, from the feeds the live source keeps
 * (live-feeds.ts): the watch stream of a prefix through the supervisor's GET /api/watch, and the
 * lease table it reads about once a second through GET /api/leases and GET /api/leases/:id.
 */
const LIVE_WATCH_PANEL: PanelDef = {
  id: 'watch',
  title: 'Watch',
  place: 'main',
  hint: 'The watch stream of a key prefix: a node’s GET /v1/watch, passed through by the supervisor (GET /api/watch). When the stream ends or breaks off (its node was killed, say), the page opens it again a second later on a running node, from the revision after the last one it received: no gap, no duplicate.',
  controls: [
    [
      { kind: 'text', id: 'prefix', label: 'prefix', initial: '', size: 10, title: 'keys starting with this (empty: every key)' },
      { kind: 'number', id: 'from', label: 'from revision', initial: '', size: 5, title: 'the first revision to receive (past ones are replayed from the history); empty: from the next one on' },
      {
        kind: 'button',
        id: 'start',
        label: 'Watch',
        title: 'Watch this prefix (it replaces the stream shown)',
        build(values) {
          const fromText = (values.get('from') ?? '').trim();
          const from = fromText === '' ? null : Number(fromText);
          if (from !== null && !(Number.isSafeInteger(from) && from >= 1)) return { problem: 'from revision: a whole number ≥ 1, or empty for the next one' };
          const request: LiveWatchRequest = { prefix: values.get('prefix') ?? '', fromRevision: from };
          return { op: LIVE_WATCH_OP, node: null, arg: JSON.stringify(request) };
        },
      },
    ],
  ],
};

const LIVE_LEASES_PANEL: PanelDef = {
  id: 'leases',
  title: 'Leases',
  place: 'main',
  hint: 'The lease table, read about once a second through the supervisor (GET /api/leases, then each lease’s time left and keys from the leader): TTL, attached keys and the leader’s time left, counted down here between reads. Grant leases with the CLI: synod lease grant 30s, then synod kv put KEY VALUE --lease ID.',
};

const LIVE_KV_PANELS: readonly PanelDef[] = [LIVE_WATCH_PANEL, LIVE_LEASES_PANEL, LIVE_LOCKS_PANEL];

function shortJson(v: unknown, max = 24): string {
  const text = v === undefined ? '—' : JSON.stringify(v);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

function watchTable(w: LiveWatchState | undefined): TableContent {
  const columns = ['rev', 'event', 'key', 'value', 'from node'];
  if (w === undefined) return { kind: 'table', columns, rows: [], empty: 'The watch stream opens when live mode shows.' };
  const shown = w.entries.slice(Math.max(0, w.entries.length - WATCH_ROWS));
  const rows: TableRow[] = shown.map((e) => {
    if (e.kind === 'opened') {
      const text = e.resumedAfter === null ? `watching on node ${e.node ?? '?'} from revision ${e.fromRevision}` : `resumed on node ${e.node ?? '?'} from revision ${e.fromRevision} (${e.resumedAfter})`;
      return { key: `opened-${e.n}`, tone: 'dim', cells: ['', e.resumedAfter === null ? 'start' : 'resumed', { text, title: text }, '', e.node ?? ''] };
    }
    return {
      key: `${e.revision}-${e.key}`,
      cells: [
        String(e.revision),
        { text: e.type, tone: e.type === 'delete' ? 'warn' : undefined },
        { text: e.key, title: e.key },
        e.type === 'delete' ? '' : { text: shortJson(e.value), title: JSON.stringify(e.value) },
        e.node ?? '',
      ],
    };
  });
  const tone = w.phase === 'failed' ? 'bad' : w.phase === 'retrying' ? 'warn' : w.phase === 'open' ? undefined : 'dim';
  const head = `${w.prefix === '' ? 'every key' : `"${w.prefix}"`} · ${w.events} event${w.events === 1 ? '' : 's'} · next revision ${w.nextRevision ?? 'the next one'}`;
  const empty = w.phase === 'failed' ? 'Nothing to show: the watch was refused (see above).' : `No change ${w.prefix === '' ? '' : `under "${w.prefix}" `}yet: put a key (the Key-value form, or synod kv put) and it shows here.`;
  return { kind: 'table', columns, rows, empty, caption: { text: `${head} · ${w.status}`, ...(tone === undefined ? {} : { tone }) } };
}

function leaseTable(l: LiveLeasesState | undefined, nowMs: number): TableContent {
  const columns = ['lease', 'TTL', 'keys', 'time left'];
  if (l === undefined || l.leases === null) {
    const failed = l?.phase === 'failed';
    return { kind: 'table', columns, rows: [], empty: failed ? `Could not read the lease table: ${l.status}` : 'Reading the lease table…' };
  }
  const rows: TableRow[] = l.leases.map((x) => {
    let left: TableCell;
    if (x.remainingMs === null) left = { text: '—', tone: 'dim', title: x.problem ?? 'not known' };
    else {
      const ms = Math.max(0, x.remainingMs - (nowMs - x.readAt));
      left = { text: seconds(ms), tone: ms < Math.min(1000, x.ttlMs / 3) ? 'warn' : 'good', title: `the leader had ${x.remainingMs} ms left ${seconds(nowMs - x.readAt)} ago; counted down here since` };
    }
    const keys = x.keys;
    return {
      key: String(x.id),
      cells: [String(x.id), `${x.ttlMs} ms`, keys === null ? { text: '?', tone: 'dim', title: x.problem ?? 'not known' } : { text: keys.length === 0 ? 'none' : keys.join(', '), tone: keys.length === 0 ? 'dim' : undefined, title: keys.join('\n') }, left],
    };
  });
  const age = l.polledAt === null ? '' : ` · read ${seconds(nowMs - l.polledAt)} ago`;
  const whose = `via node ${l.via ?? '?'}${l.revision === null ? '' : ` at revision ${l.revision}`}${l.more ? ` · the first ${l.leases.length}` : ''}${age}`;
  const caption: TableCell = l.phase === 'failed' ? { text: `${whose} · the last read failed: ${l.status}`, tone: 'bad' } : { text: `${whose} · time left: the leader’s, counted down here between reads` };
  return { kind: 'table', columns, rows, empty: 'No leases. Grant one with the CLI (synod lease grant 30s), then put a key with it (synod kv put KEY VALUE --lease ID).', caption };
}

function liveKvPanels(_rows: readonly LiveNodeRow<LiveStatus>[], feeds: LiveFeeds): PanelContents {
  return { [LIVE_WATCH_PANEL.id]: watchTable(feeds.watch), [LIVE_LEASES_PANEL.id]: leaseTable(feeds.leases, feeds.nowMs), [LIVE_LOCKS_PANEL.id]: liveLocksTable(feeds) };
}

const dash = (s: LiveStatus | null, f: (s: LiveStatus) => string): string => (s === null ? '—' : f(s));

export const kvLiveAdapter: LiveAdapter<LiveStatus, RaftLiveView> = {
  service: 'kv',
  title: 'Raft + KV',
  blurb: 'Same drawing as the simulation: colour = role, term inside, ★ = leader, cross = stopped, orange badge = paused.',
  style: { roles: raftAdapter.roles, messageTypes: [] },
  hasLeader: true,
  keyValue: true,
  columns: [
    { title: 'Role', text: (r, leader) => (r.process === 'stopped' ? '—' : dash(r.status, (s) => `${s.role}${r.id === leader ? ' ★' : ''}`)) },
    { title: 'Term', text: (r) => dash(r.status, (s) => String(s.term)) },
    { title: 'Leader', text: (r) => dash(r.status, (s) => s.leader ?? 'none') },
    { title: 'Commit', text: (r) => dash(r.status, (s) => String(s.commit)) },
    { title: 'Applied', text: (r) => dash(r.status, (s) => String(s.applied)) },
    { title: 'Last index', text: (r) => dash(r.status, (s) => String(s.lastIndex)) },
  ],
  panels: LIVE_KV_PANELS,
  feeds: ['watch', 'leases', 'locks'],
  parseStatus: (raw) => (isStatus(raw) ? raw : null),
  describeNode,
  describePanels: liveKvPanels,
  /** The running, answering node that says it leads, with the highest term. */
  leader(rows) {
    let best: LiveNodeRow<LiveStatus> | undefined;
    for (const r of rows) {
      if (r.process !== 'running' || !r.fresh || r.status?.role !== 'leader') continue;
      if (best === undefined || (r.status.term ?? 0) > (best.status?.term ?? 0)) best = r;
    }
    return best?.id ?? null;
  },
  leaderText(leader, rows) {
    const term = rows.find((r) => r.id === leader)?.status?.term;
    return `node ${leader} leads (term ${term ?? '?'})`;
  },
};
