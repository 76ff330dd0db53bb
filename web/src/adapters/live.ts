// The live adapter: what live mode needs to know about the service a local cluster runs
// (`synod cluster up`). The supervisor's API is the same for every service (processes, their
// GET /v1/status, kill / pause / resume / restart); only what a node's status means differs. A
// live adapter reads that status, describes each node with the neutral node view the ring draws,
// names the columns of the Nodes table, and fills its own panels (the same plain-data panels a
// simulated protocol has), also from the feeds it asks for (kv: a watch stream and the lease
// table, live-feeds.ts). The page picks the adapter from GET /api/cluster ({"service": ...}).
import type { NodeDisplay } from '../source/types.js';
import type { LiveFeedKind, LiveFeeds } from './live-feeds.js';
import type { NodeStyle, NodeView, PanelContents, PanelDef } from './types.js';

export type ProcessState = 'running' | 'paused' | 'stopped';

export interface LiveExit {
  readonly code: number | null;
  readonly signal: string | null;
  readonly reason: string | null;
}

/** What the page knows about one node process; `S` is the service's status type. */
export interface LiveNodeRow<S = unknown> {
  readonly id: string;
  readonly process: ProcessState;
  readonly pid: number | null;
  readonly restarts: number;
  readonly endpoint: string;
  /** The node's status now, or the last one it gave (see `fresh`). */
  readonly status: S | null;
  /** True when `status` is from the latest poll; false when it is the last known one. */
  readonly fresh: boolean;
  readonly lastExit: LiveExit | null;
}

/** A column of the Nodes table after the node and its process. */
export interface LiveColumn<S> {
  readonly title: string;
  /** The cell's text ("—" when the node never reported); `leader` is the adapter's leader now. */
  text(row: LiveNodeRow<S>, leader: string | null): string;
}

export interface LiveAdapter<S = unknown, V extends NodeView = NodeView> {
  /** The service name GET /api/cluster reports ("kv", "clock-sync"). */
  readonly service: string;
  readonly title: string;
  /** One sentence on what the ring shows, under "Real node processes ...". */
  readonly blurb: string;
  /** Roles and their colours (no message types: a live cluster publishes state, not traffic). */
  readonly style: NodeStyle;
  /** Whether the service has a leader (★, the leader in the status line and activity). */
  readonly hasLeader: boolean;
  /** Whether the page offers the key-value form (put / get through the supervisor). */
  readonly keyValue: boolean;
  readonly columns: readonly LiveColumn<S>[];
  /**
   * Its panels. A panel's controls work live too: a button's client action goes to the live
   * source (LiveSource.dispatch), which knows the operations of live-feeds (LIVE_WATCH_OP).
   */
  readonly panels: readonly PanelDef[];
  /** What the page reads for its panels besides the status, while live mode is showing. */
  readonly feeds?: readonly LiveFeedKind[];
  /** A node's GET /v1/status as this service's status, or null when it is not one. */
  parseStatus(raw: unknown): S | null;
  /** The neutral node view of one node process. */
  describeNode(row: LiveNodeRow<S>): NodeDisplay<V>;
  /** The content of the adapter's panels for these rows and the latest state of its feeds. */
  describePanels(rows: readonly LiveNodeRow<S>[], feeds: LiveFeeds): PanelContents;
  /** The leader now, if the service has one. */
  leader(rows: readonly LiveNodeRow<S>[]): string | null;
  /** Activity lines for what changed in a node's answer (e.g. a first clock sample). */
  changes?(id: string, before: S | null, after: S): readonly string[];
  /** A short line about the leader for the status line and activity ("node 2 leads (term 3)"). */
  leaderText?(leader: string, rows: readonly LiveNodeRow<S>[]): string;
}

/** ": exited with code 1: WAL_CORRUPT ..." for a process that told why it stopped. */
export function exitText(exit: LiveExit | null): string {
  if (exit === null) return '';
  const how = exit.signal !== null ? `killed by ${exit.signal}` : `exited with code ${String(exit.code)}`;
  return `: ${how}${exit.reason === null ? '' : `: ${exit.reason}`}`;
}

/**
 * The parts of a node view every service shares: up unless stopped, and for a node that is
 * stopped, paused or not answering, the role and first detail line that say so. `answering`
 * gives the role and details of a node that answered (or, paused, last answered).
 */
export function processView(row: LiveNodeRow<unknown>, answering: { readonly role: string; readonly details: readonly string[] } | null): Pick<NodeDisplay, 'id' | 'up' | 'role' | 'details' | 'paused' | 'process' | 'reachable'> {
  const base = { id: row.id, up: row.process !== 'stopped' };
  if (row.process === 'stopped') return { ...base, role: 'down', details: row.lastExit === null ? [] : [exitText(row.lastExit).slice(2)], paused: false, process: 'stopped' };
  if (row.process === 'paused') {
    const first = answering?.details[0];
    return { ...base, role: answering?.role ?? 'unknown', details: [first === undefined ? 'paused' : `paused · ${first}`, ...(answering?.details.slice(1) ?? [])], paused: true, process: 'paused' };
  }
  if (!row.fresh) return { ...base, role: 'unknown', details: ['no answer', `process running${row.pid === null ? '' : ` (pid ${row.pid})`}`], paused: false, process: 'running', reachable: false };
  return { ...base, role: answering?.role ?? 'unknown', details: answering?.details ?? [], paused: false, process: 'running', reachable: true };
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
