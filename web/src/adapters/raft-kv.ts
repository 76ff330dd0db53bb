// The key-value side of the Raft adapter: the Watch, Leases and KV requests panels. Requests
// (txn, reads at a revision, compaction, leases, range deletes) go through the same retrying
// client as Write and Read; the watcher is the project's ClusterWatcher (src/raft/watcher.ts)
// pulling the store's change log from one node's applied state; the lease table is read from a
// node's store. Everything here reads the simulation and never changes it, except the requests.
import { decodeKvRequest, kvCommandProblem, kvRequestToJson, prefixEnd, type KvEvent, type KvItem, type KvRequest, type KvResult, type TxnOp } from '../../../src/kv/index.js';
import type { JsonValue, NodeId, Operation } from '../../../src/sim/index.js';
import { appliedRevision, changeLog, ClusterWatcher, clusterWatchPort, type WatchPort } from '../../../src/raft/watcher.js';
import type { OpHandle } from '../../../src/raft/index.js';
import type { VizRaftCluster } from './raft-cluster.js';
import type { PanelButton, PanelContents, PanelDef, TableContent, TableRow } from './types.js';

/** Rows of the watch stream drawn (the most recent); the caption counts the rest. */
const WATCH_ROWS = 40;
const REQUEST_ROWS = 8;
const LEASE_ROWS = 50;

/** The client operations the panels issue (not offered to the background workload). */
export const KV_OPS = { request: 'kv', watch: 'watch', watchMove: 'watchMove' } as const;

/**
 * The leader's time left on a lease, as its Lessor (src/kv/lessor.ts) knows it. The Leases panel
 * shows a countdown only when the cluster gives one for the leader (VizRaftCluster.leaseCountdown).
 */
export interface LeaseCountdown {
  remainingMs(id: number, nowMs: number): number | null;
}

// ---------------------------------------------------------------- panel definitions

const value = (values: ReadonlyMap<string, string>, id: string): string => values.get(id) ?? '';
const nodeOrNull = (text: string): NodeId | null => (text === '' ? null : text);

/** A whole number >= min from a field, or why not. */
function whole(text: string, name: string, min: number): number | string {
  const n = Number(text.trim());
  return text.trim() !== '' && Number.isSafeInteger(n) && n >= min ? n : `${name} must be a whole number >= ${min}`;
}

/** A value field: JSON when it parses (3, "a", {"k":1}), else the text itself. */
function jsonOrText(text: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return text;
  }
}

/** The client action of a KV request, checked as the leader would (decoding and limits), or why not. */
export function requestAction(raw: JsonValue, via: NodeId | null): ReturnType<PanelButton['build']> {
  const decoded = decodeKvRequest(raw);
  if (!decoded.ok) return { problem: decoded.problem };
  const problem = kvCommandProblem(raw);
  if (problem !== null) return { problem };
  return { op: KV_OPS.request, node: via, arg: JSON.stringify(kvRequestToJson(decoded.value)) };
}

const PRESETS: readonly { readonly label: string; readonly request: JsonValue }[] = [
  {
    label: 'txn: create if absent',
    request: { op: 'txn', compare: [{ key: 'x/lock', target: 'version', cmp: '=', value: 0 }], success: [{ op: 'put', key: 'x/lock', value: 'mine' }], failure: [{ op: 'get', key: 'x/lock' }] },
  },
  {
    label: 'txn: compare value, then put',
    request: { op: 'txn', compare: [{ key: 'x/a', target: 'value', cmp: '=', value: 1 }], success: [{ op: 'put', key: 'x/a', value: 2 }], failure: [{ op: 'put', key: 'x/a', value: 1 }] },
  },
  {
    label: 'txn: move x/a to x/b',
    request: { op: 'txn', compare: [{ key: 'x/a', target: 'version', cmp: '>', value: 0 }], success: [{ op: 'delete', key: 'x/a' }, { op: 'put', key: 'x/b', value: 'moved' }], failure: [] },
  },
  { label: 'get at a revision', request: { op: 'get', key: 'x/a', revision: 1 } },
  { label: 'range of a prefix', request: { op: 'range', prefix: 'x/' } },
  { label: 'delete a prefix', request: { op: 'delete', prefix: 'x/' } },
  { label: 'compact', request: { op: 'compact', revision: 2 } },
  { label: 'lease grant', request: { op: 'leaseGrant', ttlMs: 3000 } },
  { label: 'put with a lease', request: { op: 'put', key: 'x/session', value: 'alive', lease: 1 } },
  { label: 'lease revoke', request: { op: 'leaseRevoke', id: 1 } },
  { label: 'lease list', request: { op: 'leaseList' } },
];

export const WATCH_PANEL: PanelDef = {
  id: 'watch',
  title: 'Watch',
  place: 'main',
  hint: 'A watcher of a key prefix, pulling the store’s change log (the `changes` query) from one node’s applied state. When its node is down it resumes on the next up node from the revision after the last one it received: no gap, no duplicate.',
  controls: [
    [
      { kind: 'text', id: 'prefix', label: 'prefix', initial: 'x/', size: 8, title: 'keys starting with this ("" : every key)' },
      { kind: 'number', id: 'from', label: 'from revision', initial: '1', size: 4, title: 'the first revision to receive (past ones are replayed from history); 0: from the next one on' },
      { kind: 'check', id: 'prevKv', label: 'prevKv', title: 'each event also carries the key’s item before the change' },
    ],
    [
      { kind: 'node', id: 'node', label: 'on', title: 'the node whose applied state the watcher reads' },
      {
        kind: 'button',
        id: 'start',
        label: 'Watch',
        title: 'Start a watcher (it replaces the one shown)',
        build(values) {
          const from = whole(value(values, 'from'), 'from revision', 0);
          if (typeof from === 'string') return { problem: from };
          const node = nodeOrNull(value(values, 'node'));
          if (node === null) return { problem: 'choose a node to watch on' };
          return { op: KV_OPS.watch, node, arg: JSON.stringify({ prefix: value(values, 'prefix'), fromRevision: from, prevKv: value(values, 'prevKv') === 'true' }) };
        },
      },
      {
        kind: 'button',
        id: 'move',
        label: 'Move here',
        title: 'Resume the watcher on this node from its next revision',
        build(values) {
          const node = nodeOrNull(value(values, 'node'));
          return node === null ? { problem: 'choose a node' } : { op: KV_OPS.watchMove, node };
        },
      },
    ],
  ],
};

export const REQUESTS_PANEL: PanelDef = {
  id: 'kv-requests',
  title: 'KV requests',
  place: 'side',
  hint: 'Any request of the store (txn, reads at a revision, compaction, leases, range deletes) through the same retrying client as Write and Read. Operations the kv model does not know, and the keys they write, are left out of the linearizability check.',
  controls: [
    [
      { kind: 'json', id: 'request', initial: JSON.stringify(PRESETS[0]?.request ?? null), presets: PRESETS.map((p) => ({ label: p.label, text: JSON.stringify(p.request, null, 1) })), title: 'a request as JSON (docs/kv.md)' },
    ],
    [
      { kind: 'node', id: 'via', label: 'via', any: true, title: 'the node to send it to first (any: the client picks; a follower redirects to the leader)' },
      {
        kind: 'button',
        id: 'send',
        label: 'Send',
        title: 'Send the request in the box',
        build(values) {
          let raw: JsonValue;
          try {
            raw = JSON.parse(value(values, 'request')) as JsonValue;
          } catch (err) {
            return { problem: `not JSON: ${err instanceof Error ? err.message : String(err)}` };
          }
          return requestAction(raw, nodeOrNull(value(values, 'via')));
        },
      },
    ],
    [
      { kind: 'text', id: 'key', label: 'key', initial: 'x/a', size: 7 },
      { kind: 'number', id: 'rev', label: 'rev', initial: '1', size: 3, title: 'a revision (for Get at and Compact)' },
      {
        kind: 'button',
        id: 'get-at',
        label: 'Get at',
        title: 'Read the key as of that revision',
        build(values) {
          const rev = whole(value(values, 'rev'), 'rev', 0);
          return typeof rev === 'string' ? { problem: rev } : requestAction({ op: 'get', key: value(values, 'key'), revision: rev }, nodeOrNull(value(values, 'via')));
        },
      },
      {
        kind: 'button',
        id: 'compact',
        label: 'Compact',
        title: 'Forget the history before that revision',
        build(values) {
          const rev = whole(value(values, 'rev'), 'rev', 1);
          return typeof rev === 'string' ? { problem: rev } : requestAction({ op: 'compact', revision: rev }, nodeOrNull(value(values, 'via')));
        },
      },
    ],
    [
      { kind: 'text', id: 'prefix', label: 'prefix', initial: 'x/', size: 7 },
      {
        kind: 'button',
        id: 'delete-prefix',
        label: 'Delete prefix',
        title: 'Delete every key with this prefix, at one revision',
        build: (values) => requestAction({ op: 'delete', prefix: value(values, 'prefix') }, nodeOrNull(value(values, 'via'))),
      },
    ],
  ],
};

export const LEASES_PANEL: PanelDef = {
  id: 'leases',
  title: 'Leases',
  place: 'main',
  hint: 'The lease table of the leader’s store (or of the most advanced up node): each lease’s TTL and attached keys; revoking a lease deletes its keys at one revision. The time left comes from the leader’s Lessor.',
  controls: [
    [
      { kind: 'number', id: 'ttl', label: 'TTL', initial: '3000', size: 6, title: 'milliseconds' },
      {
        kind: 'button',
        id: 'grant',
        label: 'Grant',
        title: 'Grant a lease (its id is the log index of its entry)',
        build(values) {
          const ttl = whole(value(values, 'ttl'), 'TTL', 1);
          return typeof ttl === 'string' ? { problem: ttl } : requestAction({ op: 'leaseGrant', ttlMs: ttl }, null);
        },
      },
      { kind: 'number', id: 'lease', label: 'lease', initial: '', size: 4, title: 'a lease id (from the table)' },
      {
        kind: 'button',
        id: 'revoke',
        label: 'Revoke',
        title: 'Revoke the lease: its keys are deleted at one revision',
        build(values) {
          const id = whole(value(values, 'lease'), 'lease', 1);
          return typeof id === 'string' ? { problem: id } : requestAction({ op: 'leaseRevoke', id }, null);
        },
      },
    ],
    [
      { kind: 'text', id: 'key', label: 'key', initial: 'x/session', size: 9 },
      { kind: 'text', id: 'value', label: '=', initial: 'alive', size: 6, title: 'JSON if it parses, else text' },
      {
        kind: 'button',
        id: 'put',
        label: 'Put with lease',
        title: 'Put the key attached to the lease',
        build(values) {
          const id = whole(value(values, 'lease'), 'lease', 1);
          return typeof id === 'string' ? { problem: id } : requestAction({ op: 'put', key: value(values, 'key'), value: jsonOrText(value(values, 'value')), lease: id }, null);
        },
      },
    ],
  ],
};

export const KV_PANELS: readonly PanelDef[] = [WATCH_PANEL, LEASES_PANEL, REQUESTS_PANEL];

// ---------------------------------------------------------------- text

function shortJson(v: JsonValue | undefined, max = 24): string {
  const text = v === undefined ? '—' : JSON.stringify(v);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** One line for a request ("txn: 1 compare, 1 / 1 ops", "get x/a @3"). */
export function requestText(r: KvRequest): string {
  switch (r.op) {
    case 'put':
      return `put ${r.key}=${shortJson(r.value)}${r.lease === undefined ? '' : ` lease ${r.lease}`}`;
    case 'delete':
      return 'prefix' in r ? `delete prefix ${r.prefix}` : 'end' in r ? `delete [${r.key}, ${r.end})` : `delete ${r.key}`;
    case 'get':
      return `get ${r.key}${r.revision === undefined || r.revision === 0 ? '' : ` @${r.revision}`}`;
    case 'range':
      return `range ${r.prefix !== undefined ? `prefix ${r.prefix}` : `[${r.start ?? ''}, ${r.end ?? ''})`}${r.revision === undefined ? '' : ` @${r.revision}`}`;
    case 'txn':
      return `txn: ${r.compare.length} compare${r.compare.length === 1 ? '' : 's'}, ${r.success.length} / ${r.failure.length} ops`;
    case 'compact':
      return `compact ${r.revision}`;
    case 'leaseGrant':
      return `lease grant ${r.ttlMs} ms${r.id === undefined ? '' : ` id ${r.id}`}`;
    case 'leaseRevoke':
      return `lease revoke ${r.id}`;
    case 'leaseTimeToLive':
      return `lease ttl ${r.id}`;
    case 'changes':
      return `changes from ${r.fromRevision}`;
    default:
      return r.op;
  }
}

function itemText(i: KvItem | null | undefined): string {
  return i === null || i === undefined ? 'absent' : `${shortJson(i.value)} (v${i.version}, mod ${i.modRevision})`;
}

/** One line for a result ("succeeded at revision 7", "value 2 (v1, mod 5)"). */
export function resultText(r: KvResult): string {
  if ('error' in r) {
    switch (r.error) {
      case 'compacted':
        return `compacted: the history starts at revision ${r.compactRevision}`;
      case 'bad-request':
        return `refused: ${r.message}`;
      default:
        return r.error;
    }
  }
  if ('succeeded' in r) {
    const reads = r.results.filter((x) => 'value' in x && 'createRevision' in x).map((x) => ('value' in x ? shortJson(x.value as JsonValue, 12) : ''));
    return `${r.succeeded ? 'succeeded' : 'compare failed'} · revision ${r.revision}${reads.length > 0 ? ` · read ${reads.join(', ')}` : ''}`;
  }
  if ('compactRevision' in r) return `compacted below ${r.compactRevision}`;
  if ('items' in r) return `${r.items.length} key${r.items.length === 1 ? '' : 's'}: ${r.items.slice(0, 4).map((i) => `${i.key}=${shortJson(i.value, 10)}`).join(', ')}${r.items.length > 4 || r.more ? ', …' : ''}`;
  if ('leases' in r) return r.leases.length === 0 ? 'no leases' : r.leases.map((l) => `${l.id} (${l.ttlMs} ms)`).join(', ');
  if ('events' in r) return `${r.events.length} event(s), next ${r.nextRevision}`;
  if ('ttlMs' in r && 'id' in r) return `lease ${r.id}, TTL ${r.ttlMs} ms${r.keys === undefined ? '' : `, keys ${r.keys.join(', ') || 'none'}`}`;
  if ('createRevision' in r) return r.version === 0 ? `absent (revision ${r.revision})` : `${shortJson(r.value as JsonValue)} (v${r.version}, mod ${r.modRevision}; now ${r.revision})`;
  if ('deleted' in r) return `deleted ${String(r.deleted)} · revision ${r.revision}`;
  if ('swapped' in r) return `${r.swapped ? 'swapped' : 'not swapped'} · revision ${r.revision}`;
  // put, incr
  return `ok · revision ${r.revision}`;
}

// ---------------------------------------------------------------- keys outside the kv model

/** Keys a request may change in ways the checker's kv model cannot follow: a key, or [start, end) (end undefined: no end). */
type Touched = { readonly key: string } | { readonly start: string; readonly end: string | undefined };

function touchedBy(r: KvRequest): Touched[] {
  switch (r.op) {
    case 'put':
      // a key with a lease can vanish by a revoke or an expiry the history does not show
      return r.lease === undefined ? [] : [{ key: r.key }];
    case 'delete':
      return 'prefix' in r || 'end' in r ? writtenBy(r) : [];
    case 'casVersion':
      return [{ key: r.key }];
    case 'txn':
      // recorded as one "txn" operation: every key it may write is outside the model
      return writtenBy(r);
    default:
      return [];
  }
}

/** Every key or range a write (or a txn, in either branch) may change. */
function writtenBy(op: TxnOp): Touched[] {
  switch (op.op) {
    case 'put':
      return [{ key: op.key }];
    case 'delete':
      return 'prefix' in op ? [{ start: op.prefix, end: prefixEnd(op.prefix) }] : 'end' in op ? [{ start: op.key, end: op.end }] : [{ key: op.key }];
    case 'txn':
      return [...op.success, ...op.failure].flatMap(writtenBy);
    default:
      return [];
  }
}

const MODEL_OPS: ReadonlySet<string> = new Set(['get', 'put', 'delete', 'cas', 'incr']);

function keyOf(op: Operation): string | undefined {
  const input = op.input;
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return undefined;
  const key = input['key'];
  return typeof key === 'string' ? key : undefined;
}

// ---------------------------------------------------------------- the per-run state

interface SentRequest {
  readonly n: number;
  readonly text: string;
  readonly via: NodeId | null;
  readonly handle: OpHandle | null;
  /** Why it was not sent (a hand-edited link). */
  readonly refused: string | null;
}

/** The KV panels of one run: the watcher, the requests sent from the page, and the keys changed outside the kv model. */
export class KvPanels {
  private watcher: ClusterWatcher | undefined;
  private readonly port: WatchPort;
  private readonly sent: SentRequest[] = [];
  private readonly touched: Touched[] = [];
  /**
   * How far the shown watcher's stream was found equal to the change log (committed changes never
   * change, so a revision compared once stays compared), or the difference found: each frame
   * compares only what is new.
   */
  private verified: { readonly watcher: ClusterWatcher; through: number; problem: string | null } | undefined;

  constructor(private readonly c: VizRaftCluster) {
    this.port = clusterWatchPort(c);
  }

  /** Shows `w` (a guided scenario's watcher, say) in the Watch panel. */
  show(w: ClusterWatcher): void {
    this.watcher = w;
  }

  /** Handles the panels' client operations; false for any other operation. */
  clientOp(op: string, process: string, node: NodeId | null, arg: string | undefined): boolean {
    switch (op) {
      case KV_OPS.request:
        this.request(process, node, arg ?? '');
        return true;
      case KV_OPS.watch:
        this.watch(node, arg ?? '');
        return true;
      case KV_OPS.watchMove:
        if (this.watcher !== undefined && node !== null && this.c.nodeIds.includes(node)) {
          this.watcher.moveTo(node, 'moved from the page');
          this.watcher.sync();
          this.c.note(`visualizer: watcher moved to node ${node}, from revision ${this.watcher.nextRevision}`);
        } else this.c.note(`visualizer: no watcher to move${node === null ? '' : ` to node ${node}`}`);
        return true;
      default:
        return false;
    }
  }

  private request(process: string, via: NodeId | null, arg: string): void {
    let raw: JsonValue = null;
    let refused: string | null = null;
    try {
      raw = JSON.parse(arg) as JsonValue;
    } catch {
      refused = 'the request is not JSON';
    }
    const decoded = decodeKvRequest(raw);
    if (refused === null && !decoded.ok) refused = decoded.problem;
    const n = this.sent.length + 1;
    if (refused !== null || !decoded.ok) {
      this.sent.push({ n, text: arg.slice(0, 40), via, handle: null, refused: refused ?? 'bad request' });
      this.c.note(`visualizer: kv request refused: ${refused ?? ''}`);
      return;
    }
    const request = decoded.value;
    this.touched.push(...touchedBy(request));
    const handle = this.c.client(process).submit(request, via === null ? {} : { target: via });
    this.sent.push({ n, text: requestText(request), via, handle, refused: null });
  }

  private watch(node: NodeId | null, arg: string): void {
    let spec: { prefix: string; fromRevision: number; prevKv: boolean } | undefined;
    try {
      const raw = JSON.parse(arg) as JsonValue;
      if (typeof raw === 'object' && raw !== null && !Array.isArray(raw) && typeof raw['prefix'] === 'string' && typeof raw['fromRevision'] === 'number' && Number.isSafeInteger(raw['fromRevision']) && raw['fromRevision'] >= 0) {
        spec = { prefix: raw['prefix'], fromRevision: raw['fromRevision'], prevKv: raw['prevKv'] === true };
      }
    } catch {
      spec = undefined;
    }
    const at = node ?? this.c.leader();
    if (spec === undefined || at === undefined || !this.c.nodeIds.includes(at)) {
      this.c.note('visualizer: watch: needs {prefix, fromRevision} and a node');
      return;
    }
    this.watcher = new ClusterWatcher(this.port, spec, at);
    this.watcher.sync();
    this.c.note(`visualizer: watch "${spec.prefix}" on node ${at} from revision ${spec.fromRevision}`);
  }

  /** After every step: the watcher pulls when its node moved on, or leaves it when it is down. */
  afterStep(node: NodeId): void {
    const w = this.watcher;
    if (w === undefined || w.cancelled !== null) return;
    if (node === w.node || !this.c.isUp(w.node)) w.sync();
  }

  /** The history the kv model can judge: its own operations, on keys nothing outside it changed. */
  checkable(ops: readonly Operation[]): { readonly ops: readonly Operation[]; readonly note: string | null } {
    const outside = (key: string): boolean => this.touched.some((t) => ('key' in t ? t.key === key : key >= t.start && (t.end === undefined || key < t.end)));
    let unknown = 0;
    const keys = new Set<string>();
    const kept = ops.filter((op) => {
      if (!MODEL_OPS.has(op.f)) {
        unknown++;
        return false;
      }
      const key = keyOf(op);
      if (key !== undefined && outside(key)) {
        keys.add(key);
        return false;
      }
      return true;
    });
    if (unknown === 0 && keys.size === 0) return { ops, note: null };
    const parts: string[] = [];
    if (unknown > 0) parts.push(`${unknown} operation${unknown === 1 ? '' : 's'} the model does not know`);
    if (keys.size > 0) parts.push(`key${keys.size === 1 ? '' : 's'} ${[...keys].sort().slice(0, 5).join(', ')}${keys.size > 5 ? ', …' : ''} (changed by txn, range delete or lease)`);
    return { ops: kept, note: `not checked: ${parts.join('; ')}` };
  }

  // ---------------------------------------------------------------- contents

  describe(): PanelContents {
    return { [WATCH_PANEL.id]: this.watchTable(), [LEASES_PANEL.id]: this.leaseTable(), [REQUESTS_PANEL.id]: this.requestTable() };
  }

  /** The leader if there is one, else the up node that has applied the most. */
  private sourceNode(): NodeId | undefined {
    const leader = this.c.leader();
    if (leader !== undefined) return leader;
    let best: NodeId | undefined;
    let applied = -1;
    for (const id of this.c.nodeIds) {
      const core = this.c.core(id);
      if (core !== undefined && core.status().applied > applied) {
        best = id;
        applied = core.status().applied;
      }
    }
    return best;
  }

  private watchTable(): TableContent {
    const columns = ['rev', 'event', 'key', 'value', 'prev', 'from node'];
    const w = this.watcher;
    if (w === undefined) return { kind: 'table', columns, rows: [], empty: 'No watcher yet: choose a prefix and a node, then press Watch.' };
    const entries = w.entries;
    const shown = entries.slice(Math.max(0, entries.length - WATCH_ROWS));
    const rows: TableRow[] = shown.map((e, i) => {
      if (e.kind === 'moved') {
        const text = e.from === null ? `watching on node ${e.to} from revision ${e.fromRevision}` : `resumed on node ${e.to} from revision ${e.fromRevision} (${e.reason})`;
        return { key: `moved-${entries.length - shown.length + i}`, tone: 'dim', cells: ['', e.from === null ? 'start' : 'moved', { text, title: text }, '', '', e.to] };
      }
      const ev: KvEvent = e.event;
      return {
        key: `${ev.revision}-${ev.kv.key}`,
        cells: [
          String(ev.revision),
          { text: ev.type, tone: ev.type === 'delete' ? 'warn' : undefined },
          ev.kv.key,
          ev.type === 'delete' ? '' : { text: shortJson(ev.kv.value), title: JSON.stringify(ev.kv.value) },
          ev.prevKv === undefined ? '' : { text: shortJson(ev.prevKv.value, 12), title: `before: ${itemText(ev.prevKv)}` },
          e.node,
        ],
      };
    });
    return { kind: 'table', columns, rows, caption: this.watchCaption(w, entries.length - shown.length) };
  }

  private watchCaption(w: ClusterWatcher, hidden: number): TableContent['caption'] {
    const head = `"${w.spec.prefix}" on node ${w.node}${this.c.isUp(w.node) ? '' : ' (down)'} · ${w.events.length} event${w.events.length === 1 ? '' : 's'} · next revision ${w.nextRevision}${hidden > 0 ? ` · ${hidden} earlier rows not shown` : ''}`;
    if (w.cancelled !== null) return { text: `${head} · cancelled: the history was compacted up to revision ${w.cancelled.compactRevision}`, tone: 'bad' };
    const ref = this.sourceNode();
    const start = w.startRevision;
    if (ref === undefined || start === null) return { text: head };
    // the caption must be the same whatever frames were drawn before (scrubbing replays from the
    // seed and draws only the last): it says only what holds now, the cache only saves work
    const probe = this.port.changes(ref, { op: 'changes', prefix: w.spec.prefix, fromRevision: start, maxEvents: 1 });
    if (probe !== undefined && 'error' in probe && probe.error === 'compacted') return { text: `${head} · not compared: node ${ref}'s history starts at revision ${probe.compactRevision}`, tone: 'dim' };
    if (this.verified?.watcher !== w) this.verified = { watcher: w, through: start - 1, problem: null };
    const v = this.verified;
    const through = Math.min(w.nextRevision - 1, appliedRevision(this.port, ref) ?? 0);
    if (v.problem === null && through > v.through) {
      const log = changeLog(this.port, ref, w.spec.prefix, v.through + 1, w.spec.prevKv === true);
      if (typeof log === 'string') return { text: `${head} · not compared: ${log}`, tone: 'dim' };
      v.problem = w.compare(log, through, v.through + 1);
      if (v.problem === null) v.through = through;
    }
    if (v.problem !== null) return { text: `${head} · differs from the change log: ${v.problem}`, tone: 'bad' };
    return {
      text: `${head} · same as the change log through revision ${Math.max(through, start - 1)}: in order, none missing, none twice`,
      tone: 'good',
      title: `compared, as it arrives, with the change log of the leader (or of the most advanced up node; now node ${ref}) through the revision both have reached`,
    };
  }

  private leaseTable(): TableContent {
    const columns = ['lease', 'TTL', 'keys', 'time left'];
    const id = this.sourceNode();
    const core = id === undefined ? undefined : this.c.core(id);
    if (id === undefined || core === undefined) return { kind: 'table', columns, rows: [], empty: 'No node is up.' };
    const list = core.queryLocal({ op: 'leaseList', limit: LEASE_ROWS }) as KvResult;
    if (!('leases' in list)) return { kind: 'table', columns, rows: [], empty: 'The store did not list its leases.' };
    const leader = this.c.leader() === id;
    const countdown = leader ? this.c.leaseCountdown(id) : undefined;
    const now = this.c.sim.localNowMs(id);
    const rows: TableRow[] = list.leases.map((l) => {
      const ttl = core.queryLocal({ op: 'leaseTimeToLive', id: l.id, keys: true }) as KvResult;
      const keys = 'keys' in ttl && ttl.keys !== undefined ? ttl.keys : [];
      const left = countdown?.remainingMs(l.id, now) ?? null;
      return {
        key: String(l.id),
        cells: [
          String(l.id),
          `${l.ttlMs} ms`,
          { text: keys.length === 0 ? 'none' : keys.join(', '), tone: keys.length === 0 ? 'dim' : undefined, title: keys.join('\n') },
          left === null ? { text: '—', tone: 'dim', title: countdown === undefined ? 'no countdown: see the caption' : 'not known to the leader’s Lessor' } : { text: `${Math.ceil(left)} ms`, tone: left < Math.min(1000, l.ttlMs / 3) ? 'warn' : 'good' },
        ],
      };
    });
    const whose = `node ${id}${leader ? ' (leader)' : ' (no leader now: the most advanced up node)'} at revision ${list.revision}${list.more ? ` · first ${LEASE_ROWS}` : ''}`;
    const clock = countdown !== undefined ? ` · time left by node ${id}'s clock, from its Lessor; the leader revokes a lease when it runs out` : ' · no countdown: only the leader’s Lessor counts down';
    return { kind: 'table', columns, rows, empty: 'No leases. Grant one, then put a key with it.', caption: { text: `${whose}${clock}`, tone: countdown !== undefined || !leader ? undefined : 'dim' } };
  }

  private requestTable(): TableContent {
    const columns = ['#', 'request', 'via', 'result'];
    const rows: TableRow[] = this.sent.slice(-REQUEST_ROWS).reverse().map((s) => {
      const h = s.handle;
      let result: { text: string; tone?: 'good' | 'bad' | 'warn' | 'dim'; title?: string };
      if (s.refused !== null) result = { text: `refused: ${s.refused}`, tone: 'bad' };
      else if (h === null || !h.done) result = { text: 'pending…', tone: 'dim' };
      else if (h.result !== undefined) result = { text: resultText(h.result), tone: 'error' in h.result ? 'bad' : 'good', title: JSON.stringify(h.result) };
      else result = { text: `${h.outcome ?? 'unknown'}${h.error === undefined ? '' : `: ${h.error}`}`, tone: h.outcome === 'fail' ? 'bad' : 'warn' };
      return { key: String(s.n), cells: [String(s.n), { text: s.text, title: s.text }, s.via ?? 'any', result] };
    });
    return { kind: 'table', columns, rows, empty: 'Nothing sent yet: pick an example or write a request, then Send.' };
  }
}
