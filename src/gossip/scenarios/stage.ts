// The gossip group on a simulated cluster for scenarios and the visualizer: SWIM members keeping a
// CRDT document (GossipCrdtNode), each booting with a few seeds, watched so that probes,
// suspicions, refutations and a rumour's spread are followed (tracker.ts); the document changes
// clients made (for src/check/crdt-doc.ts), and readings the views share: who has the rumour after
// each gossip round, and whose document differs from the majority's.
import type { NodeId } from '../../core/index.js';
import { checkDocConvergence, type DocChangeRecord, type DocProblem, type DocReplica } from '../../check/crdt-doc.js';
import { CRDT_DOC, type DocChange, type DocEntryView } from '../../crdt/doc.js';
import type { LinkConfig } from '../../sim/network.js';
import { resolveGossipConfig, type GossipConfig } from '../config.js';
import type { GossipCrdtNode, GossipNodeResponse } from '../crdt-node.js';
import { GOSSIP_SIM_CONFIG, GossipCluster, type GossipNodeSpec } from '../sim/cluster.js';
import { firstSeeds, seedSpec, watchedMember, watchSpec, type GossipCore, type GossipWatcher } from './observe.js';
import { GossipTracker, type RumourRecord } from './tracker.js';

/**
 * The stage's settings: GOSSIP_SIM_CONFIG (LOCAL five times faster: probes every 200 ms, gossip
 * every 40 ms) with memberlist's LAN retransmitMult (4: each update is passed on
 * 4 × ceil(log10(N + 1)) times, so a rumour misses a member with a chance of about e^-8) and a
 * full state exchange every second, so a group that joined through seeds forms in a second or two.
 */
export const GOSSIP_STAGE_CONFIG: GossipConfig = resolveGossipConfig({ retransmitMult: 4, pushPullIntervalMs: 1_000 }, GOSSIP_SIM_CONFIG);

/** Messages take 2 to 8 ms: well inside the 50 ms probe timeout, and slow enough to watch. */
export const GOSSIP_STAGE_LINK: Partial<LinkConfig> = { latency: { kind: 'uniform', minMs: 2, maxMs: 8 } };

/** Seeds each member boots with (the first members other than itself). */
export const GOSSIP_STAGE_SEEDS = 3;

export interface GossipStageOptions {
  readonly seed: number;
  readonly nodes: number;
  readonly config?: Partial<GossipConfig>;
  readonly link?: Partial<LinkConfig>;
  /** Seeds each member boots with (default GOSSIP_STAGE_SEEDS). */
  readonly seeds?: number;
  /** Between two full document exchanges (default the config's pushPullIntervalMs). */
  readonly crdtSyncIntervalMs?: number;
  readonly trace?: false | { readonly keepLines?: boolean };
}

/** How a host that wraps cores of its own (the visualizer's engine) wraps the spec, and finds the core inside again. */
export interface GossipStageHost {
  wrapSpec?(spec: GossipNodeSpec): GossipNodeSpec;
  unwrapCore?(core: GossipCore | undefined): GossipCore | undefined;
}

/** The rumour's spread counted at the end of each gossip round since the change. */
export interface SpreadRound {
  /** 0: the moment of the change; k: k gossip intervals later. */
  readonly round: number;
  readonly atMs: number;
  readonly informed: number;
}

export interface SpreadReading {
  readonly rumour: RumourRecord;
  /** Live members now, and how many of them have the update. */
  readonly members: number;
  readonly informed: number;
  /** Rounds until every live member had it (null: not yet). */
  readonly rounds: number | null;
  readonly perRound: readonly SpreadRound[];
  /** log2 N rounded up: how many rounds doubling would need. */
  readonly log2: number;
  /** Push gossip with fan-out b (gossipNodes) informs N members in about log_(b+1) N + ln N / b rounds (Pittel). */
  readonly expected: number;
  /** How the members learned it, by message type. */
  readonly via: ReadonlyMap<string, number>;
}

/** A live member's document, with its canonical text (equal texts, equal documents). */
export interface DocReading {
  readonly node: NodeId;
  readonly version: number;
  readonly entries: readonly DocEntryView[];
  readonly canonical: string;
}

export class GossipStage extends GossipCluster {
  readonly tracker: GossipTracker;
  /** The member whose view a visualizer shows when none is selected (a scenario sets it). */
  focus: NodeId | undefined;
  /** What a visualizer marks on the members: who has the rumour, or whose document differs from the majority's. */
  markMode: 'rumour' | 'doc' | null = null;
  /** Document changes asked for by clients, with their outcomes (for the convergence checker). */
  readonly changes: DocChangeRecord[] = [];
  docsInFlight = 0;
  private readonly canonicals = new WeakMap<GossipCrdtNode, { version: number; canonical: string }>();

  constructor(options: GossipStageOptions, host: GossipStageHost = {}) {
    // the members start while the simulation is built, before this object exists: the relay drops what they do until then
    const relay: GossipWatcher & { target?: GossipWatcher } = {
      input: (node, core, input) => relay.target?.input(node, core, input),
      sent: (node, core, input, to, msg) => relay.target?.sent(node, core, input, to, msg),
      handled: (node, core, input) => relay.target?.handled(node, core, input),
    };
    const unwrap = host.unwrapCore ?? ((core: GossipCore | undefined) => core);
    const seeds = firstSeeds(options.seeds ?? GOSSIP_STAGE_SEEDS);
    super({
      seed: options.seed,
      nodes: options.nodes,
      config: { ...GOSSIP_STAGE_CONFIG, ...options.config },
      link: { ...GOSSIP_STAGE_LINK, ...options.link },
      crdt: options.crdtSyncIntervalMs === undefined ? {} : { crdtSyncIntervalMs: options.crdtSyncIntervalMs },
      trace: options.trace ?? false,
      wrapSpec: (spec) => {
        const watched = watchSpec(seedSpec(spec, seeds), relay);
        return host.wrapSpec === undefined ? watched : host.wrapSpec(watched);
      },
      unwrapCore: (core) => watchedMember(unwrap(core)),
    });
    this.tracker = new GossipTracker(
      () => this.sim.nowMs,
      () => this.liveIds(),
    );
    relay.target = this.tracker;
  }

  /** The member's GossipCrdtNode while it is up. */
  member(id: NodeId): GossipCrdtNode | undefined {
    return this.crdtNode(id);
  }

  // ---------------------------------------------------------------- clients

  /** Asks `id` to change its metadata (the rumour the tracker follows once the member took it). */
  setMeta(client: string, id: NodeId, meta: string, callback?: (res: GossipNodeResponse | undefined) => void): void {
    this.markMode = 'rumour';
    const index = this.sim.invoke(client, 'set-meta', { node: id, meta });
    this.request(id, { op: 'set-meta', meta }, (res) => {
      this.sim.complete(index, res === undefined ? 'unknown' : res.ok ? 'ok' : 'fail', res?.ok === true && res.op === 'set-meta' ? { incarnation: res.incarnation } : null);
      callback?.(res);
    });
  }

  /** Asks `id` to change its document; the change and its outcome are recorded for the checker. */
  change(client: string, id: NodeId, change: DocChange, callback?: (res: GossipNodeResponse | undefined) => void): void {
    this.markMode = 'doc';
    const index = this.sim.invoke(client, `${change.kind}-${change.action}`, { node: id, ...(change as unknown as Record<string, string | number>) });
    this.docsInFlight++;
    this.tracker.tell(client, `asks ${id}: ${changeText(change)}`);
    this.request(id, { op: 'crdt-change', change }, (res) => {
      this.docsInFlight--;
      const outcome = res === undefined ? 'unknown' : res.ok ? 'ok' : 'fail';
      const wasPresent = res?.ok === true && res.op === 'crdt-change' ? res.wasPresent : undefined;
      this.changes.push({ node: id, change, outcome, ...(wasPresent === undefined ? {} : { wasPresent }) });
      this.sim.complete(index, outcome, null);
      callback?.(res);
    });
  }

  // ---------------------------------------------------------------- readings

  /** Whether `id` has the rumour followed now (false when there is none). */
  informed(id: NodeId): boolean {
    return this.tracker.rumour?.learned.has(id) ?? false;
  }

  /** Whether every live member has the rumour followed now (false when there is none). */
  allInformed(): boolean {
    const learned = this.tracker.rumour?.learned;
    if (learned === undefined) return false;
    const live = this.liveIds();
    return learned.size >= live.length && live.every((id) => learned.has(id));
  }

  /** The rumour's spread round by round (rounds are gossip intervals since the change). */
  spread(): SpreadReading | undefined {
    const rumour = this.tracker.rumour;
    if (rumour === undefined) return undefined;
    const live = this.liveIds();
    const roundMs = this.config.gossipIntervalMs;
    const times = live.map((id) => rumour.learned.get(id)?.atMs).filter((t): t is number => t !== undefined);
    const informed = times.length;
    const last = Math.max(rumour.startMs, ...times);
    const all = informed === live.length && live.length > 0;
    const shown = Math.ceil(((all ? last : this.nowMs) - rumour.startMs) / roundMs);
    const perRound: SpreadRound[] = [];
    for (let k = 0; k <= shown; k++) {
      // the round under way is counted so far
      const atMs = Math.min(rumour.startMs + k * roundMs, this.nowMs);
      perRound.push({ round: k, atMs, informed: times.filter((t) => t <= atMs).length });
    }
    const via = new Map<string, number>();
    for (const id of live) {
      const l = rumour.learned.get(id);
      if (l !== undefined) via.set(l.via, (via.get(l.via) ?? 0) + 1);
    }
    const n = Math.max(2, live.length);
    const b = Math.max(1, this.config.gossipNodes);
    return {
      rumour,
      members: live.length,
      informed,
      rounds: all ? Math.ceil((last - rumour.startMs) / roundMs) : null,
      perRound,
      log2: Math.ceil(Math.log2(n)),
      expected: Math.log(n) / Math.log(b + 1) + Math.log(n) / b,
      via,
    };
  }

  /** Every live member's document. */
  documents(): DocReading[] {
    const out: DocReading[] = [];
    for (const id of this.liveIds()) {
      const node = this.member(id);
      if (node === undefined) continue;
      out.push({ node: id, version: node.docVersion(), entries: node.read(), canonical: this.canonical(node) });
    }
    return out;
  }

  /** The canonical text most live members hold, and who holds it (ties: the larger document's). */
  majorityDocument(): { readonly canonical: string; readonly holders: number; readonly members: number } | undefined {
    const counts = new Map<string, number>();
    let members = 0;
    for (const id of this.liveIds()) {
      const node = this.member(id);
      if (node === undefined) continue;
      members++;
      const c = this.canonical(node);
      counts.set(c, (counts.get(c) ?? 0) + 1);
    }
    let best: [string, number] | undefined;
    for (const [c, k] of counts) if (best === undefined || k > best[1] || (k === best[1] && c.length > best[0].length)) best = [c, k];
    return best === undefined ? undefined : { canonical: best[0], holders: best[1], members };
  }

  /** Whether `id`'s document is the majority's (true for a member down or with nothing to compare). */
  docAgrees(id: NodeId, majority = this.majorityDocument()): boolean {
    const node = this.member(id);
    return node === undefined || majority === undefined || this.canonical(node) === majority.canonical;
  }

  docsAgree(): boolean {
    const m = this.majorityDocument();
    return m === undefined || m.holders === m.members;
  }

  /** The convergence checker over the live documents and the recorded changes (src/check/crdt-doc.ts). */
  docProblems(): DocProblem[] {
    const replicas: DocReplica[] = this.documents().map((d) => ({ node: d.node, entries: d.entries, canonical: d.canonical }));
    return checkDocConvergence(replicas, this.changes, { goneNodes: new Set([...this.crashedForGood, ...this.departed]) });
  }

  canonical(node: GossipCrdtNode): string {
    const version = node.docVersion();
    const cached = this.canonicals.get(node);
    if (cached !== undefined && cached.version === version) return cached.canonical;
    const canonical = CRDT_DOC.canonical(node.doc());
    this.canonicals.set(node, { version, canonical });
    return canonical;
  }
}

/** A document change in a few words ("hits + 5", "tags ∪ {a}"). */
export function changeText(c: DocChange): string {
  switch (c.kind) {
    case 'counter':
      return `${c.name} ${c.action === 'incr' ? '+' : '−'} ${c.amount}`;
    case 'set':
      return c.action === 'add' ? `${c.name} ∪ {${c.element}}` : `${c.name} ∖ {${c.element}}`;
    case 'register':
      return `${c.name} := ${c.value}`;
    case 'flag':
      return `${c.name} ${c.action === 'enable' ? 'on' : 'off'}`;
  }
}

/** A document's entries in a few words: "hits = 7 · tags = {a, b} · mode = v1|v2 · open = on". */
export function docText(entries: readonly DocEntryView[]): string {
  if (entries.length === 0) return '(empty)';
  return entries.map((e) => `${e.name} = ${entryValueText(e)}`).join(' · ');
}

export function entryValueText(e: DocEntryView): string {
  switch (e.kind) {
    case 'counter':
      return String(e.value);
    case 'set':
      return `{${(e.value as string[]).join(', ')}}`;
    case 'register':
      return (e.value as string[]).join('|') || '—';
    case 'flag':
      return e.value === true ? 'on' : 'off';
  }
}
