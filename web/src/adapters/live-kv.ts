// The live adapter of the "kv" service: Raft nodes replicating the key-value store. A node's
// GET /v1/status is Raft's NodeStatus (role, term, vote, leader, commit, applied, last index,
// snapshot index, voters, learners); the ring shows role, term, vote and the log positions it
// reported, the Nodes table its term, leader and indices, and the page offers the key-value form.
import type { NodeDisplay } from '../source/types.js';
import { isRecord, processView, type LiveAdapter, type LiveNodeRow } from './live.js';
import { raftAdapter } from './raft.js';
import type { LogView, NodeView, PanelContents, PanelDef } from './types.js';

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

/**
 * The simulation's Watch and Leases panels, in live mode. They stay empty, saying why: the node
 * API of this build has no watch or lease routes, and the supervisor proxies only /api/kv/:key.
 * When those routes exist (and the supervisor forwards them), fill these by polling them.
 */
const LIVE_KV_PANELS: readonly PanelDef[] = [
  { id: 'watch', title: 'Watch', place: 'main', hint: 'The stream of changes of a key prefix, as a watcher of a node would receive it.' },
  { id: 'leases', title: 'Leases', place: 'main', hint: 'The lease table: TTL, attached keys and, on the leader, the time left.' },
];

function liveKvPanels(): PanelContents {
  const simulation = 'The Simulation tab shows it on a simulated cluster.';
  return {
    watch: { kind: 'table', columns: ['rev', 'event', 'key', 'value'], rows: [], empty: `Not available live yet: the node API of this build has no watch route, and the supervisor forwards only GET/POST /api/kv/:key. ${simulation}` },
    leases: { kind: 'table', columns: ['lease', 'TTL', 'keys', 'time left'], rows: [], empty: `Not available live yet: the node API of this build has no lease routes, and the supervisor forwards only GET/POST /api/kv/:key. ${simulation}` },
  };
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
