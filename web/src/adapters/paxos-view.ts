// What the Multi-Paxos view shows of a simulated PaxosCluster (src/paxos/sim/cluster.ts): each
// acceptor's promise and its accepted (ballot, value) per slot, read from the cores' public
// readings (status, acceptedAt, chosenAt) or, for a node that is down, from its disk; the chosen
// value of each slot (by the acceptances the monitor counted); every phase 1 that made a leader,
// with what its promises reported and which slots it adopted or filled with no-ops (from the
// promise messages in the trace and the cores' observer hooks); the traffic by message type; and
// a story. Shared with the single-decree view: the story, the traffic table, the monitors.
import { ballotText, compareBallots, MultiAcceptor, type AcceptedEntry, type Ballot, type PaxosCluster, type PaxosMessage, type PaxosMonitor, type PaxosObserver, type PaxosValue, type PaxosViolationKind } from '../../../src/paxos/index.js';
import type { JsonValue, NodeId, Simulation, TraceEvent } from '../../../src/sim/index.js';
import type { MessageWatcher } from './paxos-watch.js';
import type { LogCell, LogView, SafetyMonitor, TableCell, TableContent, TableRow, Tone } from './types.js';

const STORY_LINES = 300;
const STORY_ROWS = 14;
/** Slots the Slots panel shows (the newest). */
const SLOT_ROWS = 14;
const LEADERSHIP_ROWS = 5;

export const dim = (text: string, title?: string): TableCell => (title === undefined ? { text, tone: 'dim' } : { text, tone: 'dim', title });
export const toned = (text: string, tone: Tone | undefined, title?: string): TableCell => ({ text, ...(tone === undefined ? {} : { tone }), ...(title === undefined ? {} : { title }) });

// ---------------------------------------------------------------- the story (both views)

export interface StoryLine {
  readonly atMs: number;
  readonly who: string;
  readonly text: string;
  readonly tone?: Tone;
}

export class Story {
  readonly lines: StoryLine[] = [];
  count = 0;

  constructor(private readonly now: () => number) {}

  tell(who: string, text: string, tone?: Tone): void {
    this.count++;
    if (this.lines.length >= STORY_LINES) this.lines.shift();
    this.lines.push({ atMs: this.now(), who, text, ...(tone === undefined ? {} : { tone }) });
  }

  /** Faults and client answers, told the same way by both views. */
  onFault(e: TraceEvent): void {
    switch (e.ev) {
      case 'crash':
        return this.tell(`node ${e.node}`, 'crashes', 'bad');
      case 'restart':
        return this.tell(`node ${e.node}`, `restarts from its disk (${e.replayedOps} durable op${e.replayedOps === 1 ? '' : 's'} read back)`, 'good');
      case 'partition':
        return this.tell('network', `partition: ${e.cuts.length} link${e.cuts.length === 1 ? '' : 's'} cut`, 'warn');
      case 'heal':
        return this.tell('network', 'healed');
      case 'pause':
        return this.tell(`node ${e.node}`, `paused for ${e.ms} ms`, 'warn');
      case 'drop':
        if (e.reason === 'manual') this.tell('network', `a ${e.type} ${e.from} → ${e.to} is dropped`, 'warn');
        return;
      default:
        return;
    }
  }

  table(empty: string): TableContent {
    const shown = this.lines.slice(-STORY_ROWS);
    const first = this.count - shown.length;
    const rows: TableRow[] = shown.map((l, i) => ({ key: String(first + i), cells: [`${l.atMs} ms`, l.who, toned(l.text, l.tone, l.text)] }));
    return { kind: 'table', columns: ['time', 'who', 'what happened'], rows, empty };
  }
}

// ---------------------------------------------------------------- traffic (both views)

export function trafficTable(sim: Pick<Simulation<never, unknown, unknown, unknown>, 'stats'>, order: readonly string[]): TableContent {
  const rows: TableRow[] = [];
  let flight = 0;
  const rank = (t: string): number => (order.indexOf(t) + 1 || 99);
  const types = [...sim.stats.byType.keys()].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : 1));
  for (const type of types) {
    const c = sim.stats.byType.get(type);
    // client requests are counted too: only the protocol's messages are listed
    if (c === undefined || !order.includes(type)) continue;
    const inFlight = Math.max(0, c.sent + c.duplicated - c.delivered - c.dropped);
    flight += inFlight;
    rows.push({ key: type, cells: [type, inFlight === 0 ? dim('0') : String(inFlight), String(c.sent), c.dropped === 0 ? dim('0') : toned(String(c.dropped), 'warn')] });
  }
  const t = sim.stats.total;
  return { kind: 'table', columns: ['type', 'in flight', 'sent', 'dropped'], rows, empty: 'Nothing sent yet.', caption: dim(`${flight} in flight · ${t.sent} sent · ${t.delivered} delivered · ${t.dropped} dropped so far`) };
}

// ---------------------------------------------------------------- monitors (both views)

/** The PaxosMonitor's violations, handed out one per step to the page's monitor of that kind. */
class Violations {
  private seen = 0;
  private readonly queues = new Map<PaxosViolationKind, string[]>();
  constructor(private readonly monitor: PaxosMonitor) {}
  take(kinds: readonly PaxosViolationKind[]): string | null {
    const all = this.monitor.violations;
    for (; this.seen < all.length; this.seen++) {
      const v = all[this.seen];
      if (v === undefined) continue;
      const q = this.queues.get(v.kind) ?? [];
      q.push(v.message);
      this.queues.set(v.kind, q);
    }
    for (const k of kinds) {
      const msg = this.queues.get(k)?.shift();
      if (msg !== undefined) return msg;
    }
    return null;
  }
}

/** The project's PaxosMonitor, as the page's safety monitors (replicas: Multi-Paxos only). */
export function paxosMonitors(monitor: PaxosMonitor, replicas: boolean): SafetyMonitor[] {
  const v = new Violations(monitor);
  const m = (id: string, title: string, description: string, kinds: readonly PaxosViolationKind[]): SafetyMonitor => ({ id, title, description, afterStep: () => v.take(kinds) });
  const list = [
    m('paxos-one-value', 'One value chosen per slot', 'Once |Q2| acceptors accepted a value in one ballot it is chosen; no other value is ever chosen at that slot, and no two acceptors accept different values in one ballot (the project’s PaxosMonitor, on every acceptance).', ['chosen-twice', 'ballot-values']),
    m('paxos-learners', 'Learners learn the chosen value', 'A learner learns only the value chosen at a slot, and never two values for one slot (PaxosMonitor).', ['learned-unchosen', 'learner-conflict']),
    m('paxos-promises', 'Promises kept', 'An acceptor never lowers its promise, never accepts below it, and restarts from its disk with every promise and acceptance others heard from it (PaxosMonitor).', ['promise-regressed', 'accepted-below-promise', 'promise-forgotten', 'acceptance-forgotten']),
    m('paxos-ballots', 'One proposer per ballot', 'A ballot belongs to one node: only that node leads (or proposes) with it (PaxosMonitor).', ['leader-ballot']),
  ];
  if (replicas) list.push(m('paxos-replicas', 'Replicas apply the same values in order', 'Every replica applies the chosen value of each slot, in slot order, and a write a client was told succeeded is the value applied at its slot (PaxosMonitor).', ['applied-divergence', 'applied-order', 'lost-write', 'invariant']));
  return list;
}

// ---------------------------------------------------------------- values

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A slot's value in a few characters: "put w3=3", "get x", "no-op". */
export function valueLabel(v: PaxosValue | JsonValue | undefined): string {
  if (v === undefined) return '—';
  if (!isRecord(v)) return JSON.stringify(v);
  const r: Record<string, unknown> = v;
  if (r['kind'] === 'noop') return 'no-op';
  const op = r['op'];
  if (!isRecord(op)) return JSON.stringify(op ?? v);
  const key = typeof op['key'] === 'string' ? ` ${op['key']}` : '';
  const value = 'value' in op ? `=${JSON.stringify(op['value'])}` : 'by' in op ? ` +${JSON.stringify(op['by'])}` : 'to' in op ? ` →${JSON.stringify(op['to'])}` : '';
  return `${String(op['op'])}${key}${value}`;
}

/** The short label of a log cell: the key written, or "·" for a no-op. */
function cellLabel(v: PaxosValue): string {
  if (v.kind === 'noop') return '·';
  const op = v.op;
  return isRecord(op) && typeof op['key'] === 'string' ? op['key'].slice(0, 3) : '?';
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

// ---------------------------------------------------------------- the Multi-Paxos tracker

interface HeardPromise {
  readonly from: NodeId;
  readonly accepted: readonly AcceptedEntry[];
}

/** A phase 1 that made a leader: its promises, and what it proposed again (adopted) or filled (no-ops). */
export interface Leadership {
  readonly node: NodeId;
  readonly ballot: Ballot;
  readonly atMs: number;
  readonly promisesFrom: readonly NodeId[];
  readonly adopted: { readonly slot: number; readonly value: PaxosValue; readonly from: string }[];
  readonly noops: number[];
  /** The event the leader was made in (its recovered acceptances come in the same one). */
  readonly event: number;
}

export type PaxosNodeRole = 'follower' | 'candidate' | 'recovering' | 'leader';

/** The durable acceptor state of a node that is down, read back from its disk. */
interface DiskState {
  readonly records: number;
  readonly acceptor: MultiAcceptor;
}

/**
 * Follows a Multi-Paxos run for the view: an observer of the cores (pass `observer` to the
 * cluster) and a subscriber to its trace (call `attach` once the cluster exists). Neither changes
 * the run.
 */
export class PaxosTracker {
  readonly story: Story;
  readonly leaderships: Leadership[] = [];
  /** The highest slot each node's acceptor has accepted at (this life, or from its durable state). */
  private readonly highestAccepted = new Map<NodeId, number>();
  private maxSlot = 0;
  /** Promises each candidate received, by ballot. */
  private readonly heard = new Map<string, HeardPromise[]>();
  private readonly rejectsTold = new Set<string>();
  private readonly campaignsTold = new Set<string>();
  private readonly learnedSlots = new Set<number>();
  private readonly invoked = new Map<number, string>();
  private readonly disks = new Map<NodeId, DiskState>();
  private cluster: PaxosCluster | undefined;
  readonly observer: PaxosObserver;
  /** Wrap the spec with it (paxos-watch.ts): the messages with their bodies. */
  readonly watcher: MessageWatcher<PaxosMessage>;

  constructor() {
    this.story = new Story(() => this.cluster?.nowMs ?? 0);
    this.observer = {
      accepted: (node, slot, ballot, value) => this.onAccepted(node, slot, ballot, value),
      learned: (node, slot, value) => this.onLearned(node, slot, value),
      recovered: (node, state) => this.highestAccepted.set(node, Math.max(state.snapshotSlot, ...state.accepted.map((a) => a.slot))),
      becameLeader: (node, ballot) => this.onLeader(node, ballot),
    };
    this.watcher = { received: (node, from, msg) => this.onReceived(node, from, msg), sent: (node, to, msg) => this.onSent(node, to, msg) };
  }

  attach(cluster: PaxosCluster): void {
    this.cluster = cluster;
    cluster.sim.subscribe((e) => this.onTrace(e));
  }

  private get c(): PaxosCluster {
    if (this.cluster === undefined) throw new Error('PaxosTracker: not attached to a cluster');
    return this.cluster;
  }

  // ---------------------------------------------------------------- observing

  private onAccepted(node: NodeId, slot: number, ballot: Ballot, value: JsonValue): void {
    if (slot > (this.highestAccepted.get(node) ?? 0)) this.highestAccepted.set(node, slot);
    if (slot > this.maxSlot) this.maxSlot = slot;
    // a new leader's acceptances of what its phase 1 recovered come in the call that made it leader
    const L = this.leaderships[this.leaderships.length - 1];
    if (L === undefined || L.node !== node || compareBallots(L.ballot, ballot) !== 0 || this.cluster === undefined || this.c.sim.stats.eventsProcessed !== L.event) return;
    const v = value as unknown as PaxosValue;
    if (v.kind === 'noop') {
      L.noops.push(slot);
      return;
    }
    // the highest-ballot report of this slot among the promises it heard, else its own acceptor's
    let best: { ballot: Ballot; from: NodeId } | undefined;
    for (const p of this.heard.get(`${node}@${ballotText(ballot)}`) ?? []) {
      for (const a of p.accepted) if (a.slot === slot && (best === undefined || compareBallots(a.ballot, best.ballot) > 0)) best = { ballot: a.ballot, from: p.from };
    }
    L.adopted.push({ slot, value: v, from: best === undefined ? `its own acceptor` : `accepted in ${ballotText(best.ballot)}, reported by ${best.from}` });
  }

  private onLeader(node: NodeId, ballot: Ballot): void {
    if (this.cluster === undefined) return;
    const heard = this.heard.get(`${node}@${ballotText(ballot)}`) ?? [];
    this.leaderships.push({ node, ballot, atMs: this.c.nowMs, promisesFrom: [node, ...heard.map((h) => h.from)], adopted: [], noops: [], event: this.c.sim.stats.eventsProcessed });
    if (this.leaderships.length > 50) this.leaderships.shift();
    this.story.tell(`node ${node}`, `leads in ballot ${ballotText(ballot)}: phase 1 done with promises from ${[node, ...heard.map((h) => h.from)].join(', ')}`, 'good');
  }

  private onLearned(node: NodeId, slot: number, value: JsonValue): void {
    if (this.learnedSlots.has(slot)) return;
    this.learnedSlots.add(slot);
    const v = value as unknown as PaxosValue;
    this.story.tell(`node ${node}`, `learns slot ${slot} chosen: ${valueLabel(v)}${this.c.core(node)?.status().role === 'leader' ? ' (its own proposal reached |Q2|)' : ''}`, v.kind === 'noop' ? 'warn' : undefined);
  }

  /** A promise reaches a candidate: what it reports counts before the candidate's core handles it. */
  private onReceived(node: NodeId, from: NodeId, m: PaxosMessage): void {
    if (m.type !== 'promise') return;
    const key = `${node}@${ballotText(m.ballot)}`;
    const list = this.heard.get(key) ?? [];
    if (!list.some((h) => h.from === from)) list.push({ from, accepted: m.accepted });
    this.heard.set(key, list);
  }

  private onSent(node: NodeId, to: NodeId, m: PaxosMessage): void {
    if (this.cluster === undefined) return;
    if (m.type === 'prepare') {
      const key = `${node}@${ballotText(m.ballot)}`;
      if (this.campaignsTold.has(key)) return;
      this.campaignsTold.add(key);
      this.story.tell(`node ${node}`, `starts phase 1: prepare ${ballotText(m.ballot)} for every slot above ${m.fromSlot}`, 'warn');
    } else if (m.type === 'reject') {
      const key = `${node}>${ballotText(m.ballot)}`;
      if (this.rejectsTold.has(key) || this.rejectsTold.size > 2000) return;
      this.rejectsTold.add(key);
      this.story.tell(`node ${node}`, `rejects ballot ${ballotText(m.ballot)} of node ${to}: it promised ${ballotText(m.promised)}`, 'warn');
    }
  }

  private onTrace(e: TraceEvent): void {
    switch (e.ev) {
      case 'invoke':
        this.invoked.set(e.index, `${e.f} ${JSON.stringify(e.input)}`);
        return;
      case 'complete': {
        const what = this.invoked.get(e.index) ?? `operation ${e.index}`;
        this.invoked.delete(e.index);
        this.story.tell(e.process, `${what}: ${e.outcome}${e.outcome === 'ok' ? ` → ${JSON.stringify(e.output)}` : ''}`, e.outcome === 'ok' ? 'good' : e.outcome === 'fail' ? undefined : 'warn');
        return;
      }
      default:
        this.story.onFault(e);
        return;
    }
  }

  // ---------------------------------------------------------------- readings

  /** The durable acceptor state of a down node (its disk, read back as a restart would). */
  diskAcceptor(id: NodeId): MultiAcceptor {
    const records = this.c.sim.disk(id).read('core');
    const cached = this.disks.get(id);
    if (cached !== undefined && cached.records === records.length) return cached.acceptor;
    const acceptor = new MultiAcceptor(id, undefined);
    for (const r of records) if (!r.torn) acceptor.replay(r.value);
    this.disks.set(id, { records: records.length, acceptor });
    return acceptor;
  }

  /** What `id`'s acceptor accepted at `slot` (from its core, or from its disk while it is down). */
  acceptedAt(id: NodeId, slot: number): { readonly ballot: Ballot; readonly value: PaxosValue } | undefined {
    const core = this.c.core(id);
    return core !== undefined ? core.acceptedAt(slot) : this.diskAcceptor(id).at(slot);
  }

  promisedBy(id: NodeId): Ballot {
    const core = this.c.core(id);
    return core !== undefined ? core.status().promised : this.diskAcceptor(id).promised;
  }

  snapshotOf(id: NodeId): number {
    const core = this.c.core(id);
    return core !== undefined ? core.status().snapshotSlot : this.diskAcceptor(id).snapshotSlot;
  }

  /** The highest slot anything was accepted or chosen at. */
  topSlot(): number {
    const chosen = this.c.monitor.chosenSlots();
    return Math.max(this.maxSlot, chosen[chosen.length - 1] ?? 0);
  }

  highestAcceptedBy(id: NodeId): number {
    return this.highestAccepted.get(id) ?? 0;
  }

  heardBy(node: NodeId, ballot: Ballot): readonly HeardPromise[] {
    return this.heard.get(`${node}@${ballotText(ballot)}`) ?? [];
  }
}

export function roleOf(core: { status(): { readonly role: string; readonly ready: boolean } }): PaxosNodeRole {
  const s = core.status();
  if (s.role === 'leader') return s.ready ? 'leader' : 'recovering';
  return s.role === 'candidate' ? 'candidate' : 'follower';
}

// ---------------------------------------------------------------- the nodes' logs

/** A node's row in the Logs panel: what its acceptor accepted per slot (coloured by the ballot's round), the chosen prefix it knows. */
export function acceptorLog(t: PaxosTracker, c: PaxosCluster, id: NodeId, window: number): LogView {
  const core = c.core(id);
  const known = core?.status().known ?? null;
  const snapshot = t.snapshotOf(id);
  const top = Math.max(t.highestAcceptedBy(id), known ?? 0, snapshot);
  const cells: LogCell[] = [];
  for (let slot = Math.max(snapshot + 1, top - window + 1, 1); slot <= top; slot++) {
    const a = t.acceptedAt(id, slot);
    const chosenHere = core?.chosenAt(slot);
    if (a !== undefined) {
      cells.push({ index: slot, term: a.ballot.round, label: cellLabel(a.value), title: `slot ${slot}: accepted ${valueLabel(a.value)} in ballot ${ballotText(a.ballot)}${chosenHere === undefined ? '' : same(chosenHere, a.value) ? '; known chosen here' : `; known chosen here: ${valueLabel(chosenHere)}`}`, special: a.value.kind === 'noop' });
    } else if (chosenHere !== undefined) {
      const ballot = c.monitor.chosenBallot(slot);
      cells.push({ index: slot, term: ballot?.round ?? 0, label: cellLabel(chosenHere), title: `slot ${slot}: known chosen here (${valueLabel(chosenHere)}), learned without accepting it`, special: chosenHere.kind === 'noop' });
    }
  }
  return { cells, lastIndex: top, commit: known ?? snapshot, applied: core?.status().applied ?? null, snapshotIndex: snapshot };
}

// ---------------------------------------------------------------- tables

/** Each slot: the chosen value, what every acceptor accepted there, and how many nodes know it chosen. */
export function slotsTable(t: PaxosTracker, c: PaxosCluster): TableContent {
  const ids = c.nodeIds;
  const columns = ['slot', 'chosen', ...ids.map((id) => `node ${id}`), 'known by'];
  const top = t.topSlot();
  const chosenSlots = c.monitor.chosenSlots();
  const noops = chosenSlots.filter((s) => (c.monitor.chosenAt(s) as PaxosValue | undefined)?.kind === 'noop');
  const leader = c.leader();
  const lb = leader === undefined ? null : c.core(leader)?.status().ballot ?? null;
  const caption = toned(
    `${chosenSlots.length} slot${chosenSlots.length === 1 ? '' : 's'} chosen${noops.length > 0 ? `, ${noops.length} no-op${noops.length === 1 ? '' : 's'} (slot${noops.length === 1 ? '' : 's'} ${noops.slice(-6).join(', ')})` : ''} · ${leader === undefined ? 'no leader' : `leader ${leader} in ballot ${lb === null ? '?' : ballotText(lb)}`}`,
    undefined,
  );
  const rows: TableRow[] = [];
  for (let slot = Math.max(1, top - SLOT_ROWS + 1); slot <= top; slot++) {
    const chosen = c.monitor.chosenAt(slot) as PaxosValue | undefined;
    const ballot = c.monitor.chosenBallot(slot);
    const chosenCell: TableCell =
      chosen === undefined ? dim('not yet') : toned(`${valueLabel(chosen)} (${ballotText(ballot as Ballot)})`, chosen.kind === 'noop' ? 'warn' : 'good', chosen.kind === 'noop' ? `a no-op fills slot ${slot}: no acceptor of the leader's phase-1 quorum had accepted anything there` : `chosen in ballot ${ballotText(ballot as Ballot)}`);
    const cells: TableCell[] = ids.map((id) => {
      const up = c.isUp(id);
      if (slot <= t.snapshotOf(id)) return dim('in snapshot', `slot ${slot} is compacted into node ${id}'s snapshot: chosen and applied there`);
      const a = t.acceptedAt(id, slot);
      if (a === undefined) return dim(up ? '—' : '— (down)');
      const tone: Tone | undefined = !up ? 'dim' : chosen === undefined ? undefined : same(chosen, a.value) ? 'good' : 'bad';
      const note = chosen !== undefined && !same(chosen, a.value) ? ' — not the chosen value (an acceptance a higher ballot will replace)' : '';
      return toned(`${valueLabel(a.value)} @${ballotText(a.ballot)}${up ? '' : ' (disk)'}`, tone, `node ${id} accepted ${valueLabel(a.value)} at slot ${slot} in ballot ${ballotText(a.ballot)}${note}`);
    });
    const knownBy = ids.filter((id) => {
      const core = c.core(id);
      return core !== undefined && (slot <= core.status().snapshotSlot || core.chosenAt(slot) !== undefined);
    }).length;
    rows.push({ key: String(slot), cells: [String(slot), chosenCell, ...cells, knownBy === 0 ? dim(`0/${ids.length}`) : `${knownBy}/${ids.length}`] });
  }
  return { kind: 'table', columns, rows, caption, empty: 'No slot used yet: a leader is being elected (press Play), then write.' };
}

/** Each node as an acceptor (its promise) and as a replica (what it knows chosen, what it applied). */
export function acceptorsTable(t: PaxosTracker, c: PaxosCluster): TableContent {
  const rows: TableRow[] = c.nodeIds.map((id) => {
    const core = c.core(id);
    if (core === undefined) {
      const a = t.diskAcceptor(id);
      return { key: id, tone: 'dim', cells: [id, 'down', `${ballotText(a.promised)} (disk)`, '—', a.snapshotSlot === 0 ? '—' : `snapshot ${a.snapshotSlot}`, `${a.size} held`] };
    }
    const s = core.status();
    const role = roleOf(core);
    const roleCell = toned(role === 'recovering' ? 'leader (recovering)' : role, role === 'leader' ? 'good' : role === 'candidate' || role === 'recovering' ? 'warn' : undefined, role === 'recovering' ? 'phase 1 is done; it re-proposes what the promises reported before it serves' : undefined);
    const progress = `${s.known} / ${s.applied}${s.snapshotSlot === 0 ? '' : ` (snapshot ${s.snapshotSlot})`}`;
    return { key: id, cells: [id, roleCell, ballotText(s.promised), s.ballot === null ? dim('—') : ballotText(s.ballot), progress, `${core.noopsFilled} / ${core.adopted}`] };
  });
  const q = c.quorums;
  return { kind: 'table', columns: ['node', 'role', 'promised', 'own ballot', 'chosen ≤ / applied', 'no-ops / adopted'], rows, caption: dim(`quorums: phase 1 needs ${q.phase1} promises, phase 2 needs ${q.phase2} acceptances (of ${c.nodeIds.length})`) };
}

/** Every phase 1 that made a leader (the newest first): its promises, the slots it adopted and those it filled with no-ops. */
export function phase1Table(t: PaxosTracker): TableContent {
  const shown = t.leaderships.slice(-LEADERSHIP_ROWS).reverse();
  const rows: TableRow[] = shown.map((L) => ({
    key: `${ballotText(L.ballot)}`,
    cells: [
      ballotText(L.ballot),
      `node ${L.node}`,
      `${L.atMs} ms`,
      L.promisesFrom.join(', '),
      L.adopted.length === 0 ? dim('none') : toned(L.adopted.map((a) => `${a.slot}: ${valueLabel(a.value)}`).join('; '), 'good', L.adopted.map((a) => `slot ${a.slot}: ${valueLabel(a.value)} (${a.from})`).join('\n')),
      L.noops.length === 0 ? dim('none') : toned(L.noops.join(', '), 'warn', 'holes below the highest slot reported: nobody in the quorum accepted anything there, so nothing was chosen; filled with no-ops'),
    ],
  }));
  const last = shown[0];
  const caption =
    last === undefined
      ? undefined
      : toned(
          `node ${last.node} leads in ballot ${ballotText(last.ballot)}${last.adopted.length === 0 && last.noops.length === 0 ? ': its promises reported nothing above what it knew chosen' : ''}${last.adopted.length > 0 ? `: adopted ${last.adopted.map((a) => `slot ${a.slot} (${a.from})`).join(', ')}` : ''}${last.noops.length > 0 ? `${last.adopted.length > 0 ? ';' : ':'} no-ops in slot${last.noops.length === 1 ? '' : 's'} ${last.noops.join(', ')}` : ''}`,
          undefined,
        );
  return { kind: 'table', columns: ['ballot', 'leader', 'at', 'promises from', 'adopted (slot: value)', 'no-ops'], rows, ...(caption === undefined ? {} : { caption }), empty: 'No phase 1 has finished yet.' };
}

// ---------------------------------------------------------------- messages

export const MULTI_MESSAGE_ORDER = ['prepare', 'promise', 'reject', 'accept', 'accepted', 'heartbeat', 'heartbeatResp', 'values', 'snapshotReq', 'snapshot'];

function ranges(r: readonly { from: number; to: number; ballot: Ballot }[]): string {
  return r.map((x) => `${x.from === x.to ? x.from : `${x.from}–${x.to}`}@${ballotText(x.ballot)}`).join(', ');
}

export function describeMultiMessage(m: PaxosMessage): string {
  switch (m.type) {
    case 'prepare':
      return `prepare ${ballotText(m.ballot)} (phase 1a) for every slot above ${m.fromSlot}`;
    case 'promise':
      return `promise ${ballotText(m.ballot)} (phase 1b); knows chosen ≤ ${m.known}; reports ${m.accepted.length === 0 ? 'nothing accepted' : m.accepted.slice(0, 6).map((a) => `slot ${a.slot} = ${valueLabel(a.value)} @${ballotText(a.ballot)}`).join('; ')}${m.accepted.length > 6 ? '; …' : ''}`;
    case 'accept':
      return `accept in ${ballotText(m.ballot)} (phase 2a): ${m.entries.slice(0, 6).map((e) => `slot ${e.slot} = ${valueLabel(e.value)}`).join('; ')}${m.entries.length > 6 ? '; …' : ''}${m.decided.length > 0 ? ` · chosen: ${ranges(m.decided)}` : ''}`;
    case 'accepted':
      return `accepted in ${ballotText(m.ballot)} (phase 2b): slot${m.slots.length === 1 ? '' : 's'} ${m.slots.join(', ') || '—'} · knows chosen ≤ ${m.known}${m.need.length > 0 ? ` · needs ${m.need.join(', ')}` : ''}`;
    case 'reject':
      return `reject ${ballotText(m.ballot)}: promised ${ballotText(m.promised)}`;
    case 'heartbeat':
      return `heartbeat ${ballotText(m.ballot)}, read round ${m.round}${m.decided.length > 0 ? ` · chosen: ${ranges(m.decided)}` : ''}`;
    case 'heartbeatResp':
      return `heartbeat answer ${ballotText(m.ballot)}, round ${m.round} · knows chosen ≤ ${m.known}${m.need.length > 0 ? ` · needs ${m.need.join(', ')}` : ''}`;
    case 'values':
      return `chosen values: ${m.entries.map((e) => `slot ${e.slot} = ${valueLabel(e.value)}`).join('; ')}`;
    case 'snapshotReq':
      return 'snapshot request';
    case 'snapshot':
      return `snapshot up to slot ${m.slot}`;
  }
}
