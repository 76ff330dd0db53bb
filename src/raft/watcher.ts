// A watcher of a simulated Raft KV cluster, as a client of the store's `changes` pull API
// (src/kv, docs/kv.md "The change log") would be: it pulls a prefix's changes from one node's
// applied state, and when that node is down it resumes on the next up node from the revision after
// the last one it received, so the stream it collects has no gap and no duplicate. Scenario steps
// check it against the leader's change log; the visualizer draws it. It reads stores only.
import type { JsonValue, NodeId } from '../core/index.js';
import type { ChangesRequest, KvEvent, KvResult } from '../kv/index.js';
import type { RaftCluster } from './cluster.js';

/** What a watcher needs from a cluster: its nodes, which are up, and a node's answer to a `changes` pull (undefined while down). */
export interface WatchPort {
  readonly nodeIds: readonly NodeId[];
  isUp(id: NodeId): boolean;
  changes(id: NodeId, request: ChangesRequest): KvResult | undefined;
}

/** A RaftCluster as a watcher sees it: `changes` answered by a node's applied state (a serializable read, as etcd's watch). */
export function clusterWatchPort(c: RaftCluster): WatchPort {
  return {
    get nodeIds() {
      return c.nodeIds;
    },
    isUp: (id) => c.isUp(id),
    // the store answers a KvQuery with a KvResult; the core's generic signature only says JSON
    changes: (id, request) => c.core(id)?.queryLocal(request) as KvResult | undefined,
  };
}

export interface WatchSpec {
  readonly prefix: string;
  /** The first revision to receive (past ones are replayed from history); 0: from the node's next revision on. */
  readonly fromRevision: number;
  readonly prevKv?: boolean;
}

/** What the watcher saw, in order: events, and the moves from one node to another. */
export type WatchEntry =
  | { readonly kind: 'event'; readonly event: KvEvent; readonly node: NodeId }
  | { readonly kind: 'moved'; readonly from: NodeId | null; readonly to: NodeId; readonly fromRevision: number; readonly reason: string };

/** Events per pull; a pull never splits a revision, so a page may hold more. */
const PAGE_EVENTS = 100;
/** Pulls per sync: a node far ahead is caught up with over several syncs rather than in one long one. */
const MAX_PULLS_PER_SYNC = 50;

export class ClusterWatcher {
  private nodeValue: NodeId;
  private next: number;
  private readonly entriesValue: WatchEntry[] = [];
  private readonly eventsValue: KvEvent[] = [];
  private cancelledValue: { readonly compactRevision: number } | null = null;
  /** The revision the first pull resolved `fromRevision: 0` to (known after that pull). */
  private startValue: number | null;

  constructor(
    private readonly port: WatchPort,
    readonly spec: WatchSpec,
    node: NodeId,
  ) {
    this.nodeValue = node;
    this.next = spec.fromRevision;
    this.startValue = spec.fromRevision === 0 ? null : spec.fromRevision;
    this.entriesValue.push({ kind: 'moved', from: null, to: node, fromRevision: spec.fromRevision, reason: 'watch started' });
  }

  /** The node it pulls from now. */
  get node(): NodeId {
    return this.nodeValue;
  }

  /** The next revision it asks for: it has every matching change below it. */
  get nextRevision(): number {
    return this.next;
  }

  /** The first revision of the stream (null until a `fromRevision: 0` watch made its first pull). */
  get startRevision(): number | null {
    return this.startValue;
  }

  get events(): readonly KvEvent[] {
    return this.eventsValue;
  }

  get entries(): readonly WatchEntry[] {
    return this.entriesValue;
  }

  /** Set when the history it needs was compacted away: it stops, as etcd cancels such a watch. */
  get cancelled(): { readonly compactRevision: number } | null {
    return this.cancelledValue;
  }

  /** Resumes on `node` from the next revision (a user's choice, or a failover). */
  moveTo(node: NodeId, reason: string): void {
    if (node === this.nodeValue) return;
    this.entriesValue.push({ kind: 'moved', from: this.nodeValue, to: node, fromRevision: this.next, reason });
    this.nodeValue = node;
  }

  /**
   * Leaves a node that is down for the next up one (in id order after it) and pulls what its node
   * has applied. Returns whether anything was received or changed.
   */
  sync(): boolean {
    if (this.cancelledValue !== null) return false;
    let changed = false;
    if (!this.port.isUp(this.nodeValue)) {
      const ids = this.port.nodeIds;
      const at = ids.indexOf(this.nodeValue);
      for (let k = 1; k <= ids.length; k++) {
        const id = ids[(at + k) % ids.length] as NodeId;
        if (this.port.isUp(id)) {
          this.moveTo(id, `node ${this.nodeValue} is down`);
          changed = true;
          break;
        }
      }
    }
    for (let pulls = 0; pulls < MAX_PULLS_PER_SYNC; pulls++) {
      const page = this.port.changes(this.nodeValue, { op: 'changes', prefix: this.spec.prefix, fromRevision: this.next, maxEvents: PAGE_EVENTS, ...(this.spec.prevKv === true ? { prevKv: true } : {}) });
      if (page === undefined) break;
      if ('error' in page) {
        if (page.error === 'compacted') {
          this.cancelledValue = { compactRevision: page.compactRevision };
          changed = true;
        }
        break;
      }
      if (!('events' in page)) break;
      if (this.startValue === null) {
        // from now on: the first revision this pull could have returned
        this.startValue = this.next === 0 ? page.revision + 1 : this.next;
        changed = true;
      }
      for (const event of page.events) {
        this.eventsValue.push(event);
        this.entriesValue.push({ kind: 'event', event, node: this.nodeValue });
      }
      const moved = page.nextRevision !== this.next;
      this.next = page.nextRevision;
      changed ||= page.events.length > 0 || moved;
      // caught up with this node (an empty page that does not move on: it is behind or idle)
      if (page.events.length === 0 || page.nextRevision > page.revision) break;
    }
    return changed;
  }

  /**
   * Why the events received differ from `reference` (the change log of the watched prefix from
   * the start revision, as another node answers it, complete through revision `through`), or null
   * when they are the same up to the revision both reached: in order, none missing, none twice.
   * (A watcher on a follower may be ahead of a leader that has not applied everything yet.)
   * With `from`, only revisions from it on are compared (the rest was compared before).
   */
  compare(reference: readonly KvEvent[], through = Infinity, from = 0): string | null {
    const upTo = Math.min(this.next - 1, through);
    const within = (e: KvEvent): boolean => e.revision >= from && e.revision <= upTo;
    const got = this.eventsValue.filter(within);
    const want = reference.filter(within);
    const n = Math.min(got.length, want.length);
    for (let i = 0; i < n; i++) {
      const g = got[i] as KvEvent;
      const w = want[i] as KvEvent;
      if (eventText(g) !== eventText(w)) return `event ${i + 1}: received ${eventLine(g)}, the change log has ${eventLine(w)}`;
    }
    if (got.length > want.length) return `received ${got.length - want.length} event(s) more than the change log holds, from ${eventLine(got[n] as KvEvent)}`;
    if (got.length < want.length) return `missing ${want.length - got.length} event(s) the change log holds, from ${eventLine(want[n] as KvEvent)}`;
    return null;
  }
}

/** Every change of `prefix` from `fromRevision` that node `id` has applied, paged through; a compaction error as text. */
export function changeLog(port: WatchPort, id: NodeId, prefix: string, fromRevision: number, prevKv = false): KvEvent[] | string {
  const out: KvEvent[] = [];
  let from = fromRevision;
  // each page moves `from` on or ends the loop
  for (;;) {
    const page = port.changes(id, { op: 'changes', prefix, fromRevision: from, maxEvents: 1000, ...(prevKv ? { prevKv: true } : {}) });
    if (page === undefined) return `node ${id} is down`;
    if ('error' in page) return page.error === 'compacted' ? `compacted: the history starts at revision ${page.compactRevision}` : `changes failed: ${page.error}`;
    if (!('events' in page)) return 'changes gave no page';
    out.push(...page.events);
    if (page.nextRevision > page.revision || page.nextRevision === from) return out;
    from = page.nextRevision;
  }
}

/** The store revision node `id` has applied (from a caught-up `changes` pull); undefined while it is down. */
export function appliedRevision(port: WatchPort, id: NodeId): number | undefined {
  const answer = port.changes(id, { op: 'changes', prefix: '', fromRevision: 0, maxEvents: 1 });
  return answer !== undefined && 'revision' in answer ? answer.revision : undefined;
}

/** An event as comparable text (its key order fixed by the store). */
function eventText(e: KvEvent): string {
  return JSON.stringify(e as unknown as JsonValue);
}

/** "rev 7 put x/a=3" */
export function eventLine(e: KvEvent): string {
  return `rev ${e.revision} ${e.type} ${e.kv.key}${e.type === 'put' ? `=${JSON.stringify(e.kv.value)}` : ''}`;
}
