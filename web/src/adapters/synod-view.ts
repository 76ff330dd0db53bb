// What the single-decree view shows of a simulated SynodCluster (src/paxos/sim/synod-cluster.ts):
// each node's roles, each acceptor's promise and accepted (ballot, value) (from its core, or from
// its disk while it is down), each proposer's phase, ballot and value (its own, or one it adopted),
// each learner's value, and every ballot tried: who promised it, who accepted it in phase 2, who
// rejected it, and whether it chose its value or was pre-empted. From the cores' public fields and
// the messages in the trace.
import { ballotText, compareBallots, type Ballot, type SynodCluster, type SynodMessage, type SynodPersistOp } from '../../../src/paxos/index.js';
import type { JsonValue, NodeId, TraceEvent } from '../../../src/sim/index.js';
import { dim, Story, toned } from './paxos-view.js';
import type { MessageWatcher } from './paxos-watch.js';
import type { TableCell, TableContent, TableRow, Tone } from './types.js';

const BALLOT_ROWS = 10;

/** One ballot as the messages tell it. */
export interface BallotLine {
  readonly ballot: Ballot;
  readonly atMs: number;
  readonly promisedBy: Set<NodeId>;
  readonly acceptedBy: Set<NodeId>;
  readonly rejectedBy: Set<NodeId>;
  /** The value its phase 2 carried, and whether it was adopted from an earlier acceptance. */
  value: JsonValue | undefined;
  adopted: boolean;
  chosen: boolean;
}

export type SynodNodeRole = 'chosen' | 'preparing' | 'accepting' | 'backoff' | 'acceptor' | 'proposer' | 'learner';

/** An acceptor's state as its disk holds it. */
interface DurableAcceptor {
  readonly records: number;
  readonly promised: Ballot | null;
  readonly accepted: { readonly ballot: Ballot; readonly value: JsonValue } | null;
  readonly learned: JsonValue | undefined;
}

export const show = (v: JsonValue | undefined | null): string => (v === undefined || v === null ? '—' : JSON.stringify(v));

export class SynodTracker {
  readonly story: Story;
  readonly ballots = new Map<string, BallotLine>();
  private readonly disks = new Map<NodeId, DurableAcceptor>();
  private readonly rejectsTold = new Set<string>();
  private chosenTold = false;
  private cluster: SynodCluster | undefined;
  /** Wrap the spec with it (paxos-watch.ts): the messages with their bodies. */
  readonly watcher: MessageWatcher<SynodMessage>;

  constructor() {
    this.story = new Story(() => this.cluster?.nowMs ?? 0);
    this.watcher = { sent: (node, to, msg) => this.onSent(node, to, msg) };
  }

  attach(cluster: SynodCluster): void {
    this.cluster = cluster;
    cluster.sim.subscribe((e) => this.onTrace(e));
  }

  private get c(): SynodCluster {
    if (this.cluster === undefined) throw new Error('SynodTracker: not attached to a cluster');
    return this.cluster;
  }

  private line(ballot: Ballot): BallotLine {
    const key = ballotText(ballot);
    let l = this.ballots.get(key);
    if (l === undefined) {
      l = { ballot, atMs: this.c.nowMs, promisedBy: new Set(), acceptedBy: new Set(), rejectedBy: new Set(), value: undefined, adopted: false, chosen: false };
      this.ballots.set(key, l);
      if (this.ballots.size > 400) this.ballots.delete(this.ballots.keys().next().value as string);
    }
    return l;
  }

  private onTrace(e: TraceEvent): void {
    if (e.ev === 'reply') {
      const r = e.response as { ok?: boolean; value?: JsonValue; own?: boolean };
      if (r.ok === true && 'value' in r) this.story.tell(`node ${e.node}`, `answers its client: ${show(r.value)} is chosen${r.own === true ? ' (the value it asked for)' : ' (not the value it asked for)'}`, r.own === true ? 'good' : 'warn');
      return;
    }
    if (e.ev === 'request') {
      const r = e.request as { type?: string; value?: JsonValue };
      if (r.type === 'propose') this.story.tell(e.process, `asks node ${e.node} to propose ${show(r.value)}`);
      return;
    }
    this.story.onFault(e);
  }

  private onSent(from: NodeId, _to: NodeId, m: SynodMessage): void {
    if (this.cluster === undefined) return;
    const e = { from };
    switch (m.type) {
      case 'prepare': {
        const fresh = !this.ballots.has(ballotText(m.ballot));
        this.line(m.ballot);
        if (fresh) this.story.tell(`node ${e.from}`, `starts ballot ${ballotText(m.ballot)}: prepare (phase 1a)`, 'warn');
        return;
      }
      case 'promise':
        this.line(m.ballot).promisedBy.add(e.from);
        return;
      case 'accept': {
        const l = this.line(m.ballot);
        if (l.value === undefined) {
          l.value = m.value;
          const core = this.c.core(e.from);
          l.adopted = core?.proposer?.adopted === true;
          this.story.tell(`node ${e.from}`, `has a majority of promises for ${ballotText(m.ballot)}: accept ${show(m.value)} (phase 2a)${l.adopted ? `, adopted: a promise reported it accepted earlier (its own value was ${show(core?.proposer?.own)})` : ''}`, l.adopted ? 'warn' : undefined);
        }
        return;
      }
      case 'accepted': {
        const l = this.line(m.ballot);
        l.acceptedBy.add(e.from);
        if (l.value === undefined) l.value = m.value;
        if (!l.chosen && l.acceptedBy.size >= this.c.quorums.phase2) {
          l.chosen = true;
          if (!this.chosenTold) {
            this.chosenTold = true;
            this.story.tell('acceptors', `${[...l.acceptedBy].join(', ')} accepted ${show(m.value)} in ballot ${ballotText(m.ballot)}: a majority, so ${show(m.value)} is chosen`, 'good');
          }
        }
        return;
      }
      case 'reject': {
        const l = this.line(m.ballot);
        l.rejectedBy.add(e.from);
        const key = `${e.from}>${ballotText(m.ballot)}`;
        if (!this.rejectsTold.has(key) && this.rejectsTold.size < 2000) {
          this.rejectsTold.add(key);
          this.story.tell(`node ${e.from}`, `rejects ballot ${ballotText(m.ballot)}: it promised ${ballotText(m.promised)}`, 'warn');
        }
        return;
      }
      default:
        return;
    }
  }

  /** The acceptor and learner state on `id`'s disk (what a restart reads back). */
  durable(id: NodeId): DurableAcceptor {
    const records = this.c.sim.disk(id).read('core');
    const cached = this.disks.get(id);
    if (cached !== undefined && cached.records === records.length) return cached;
    let promised: Ballot | null = null;
    let accepted: { ballot: Ballot; value: JsonValue } | null = null;
    let learned: JsonValue | undefined;
    for (const r of records) {
      if (r.torn) continue;
      const op: SynodPersistOp = r.value;
      if (op.kind === 'promise' || op.kind === 'accept') {
        if (promised === null || compareBallots(op.ballot, promised) > 0) promised = op.ballot;
        if (op.kind === 'accept' && (accepted === null || compareBallots(op.ballot, accepted.ballot) >= 0)) accepted = { ballot: op.ballot, value: op.value };
      } else if (op.kind === 'learned') learned = op.value;
    }
    const d = { records: records.length, promised, accepted, learned };
    this.disks.set(id, d);
    return d;
  }

  /** The ballots tried, oldest first. */
  list(): BallotLine[] {
    return [...this.ballots.values()];
  }
}

/** How a node is coloured: it knows the chosen value; else its proposer's phase; else its passive role. */
export function synodRole(c: SynodCluster, id: NodeId): SynodNodeRole {
  const core = c.core(id);
  if (core === undefined) return 'acceptor';
  if (core.status().learned !== undefined) return 'chosen';
  const phase = core.proposer?.phase;
  if (phase === 'preparing' || phase === 'accepting' || phase === 'backoff') return phase;
  if (core.acceptor !== undefined) return 'acceptor';
  return core.proposer !== undefined ? 'proposer' : 'learner';
}

const PHASE_TEXT: Readonly<Record<string, string>> = { idle: 'idle', preparing: 'phase 1', accepting: 'phase 2', backoff: 'backing off', done: 'done' };
const PHASE_TITLE: Readonly<Record<string, string>> = {
  idle: 'no client has asked it to propose yet',
  preparing: 'prepare sent: waiting for promises from a majority',
  accepting: 'accept sent: waiting for acceptances from a majority',
  backoff: 'rejected: waiting a random time before a higher ballot',
  done: 'it knows the chosen value',
};

/** Every node: its roles, its acceptor's promise and acceptance, what it learned. */
export function synodNodesTable(t: SynodTracker, c: SynodCluster): TableContent {
  const chosen = c.chosen();
  const rows: TableRow[] = c.nodeIds.map((id) => {
    const roles = [c.placement.proposers.includes(id) ? 'P' : '', c.placement.acceptors.includes(id) ? 'A' : '', c.placement.learners.includes(id) ? 'L' : ''].join('');
    const core = c.core(id);
    if (core === undefined) {
      const d = t.durable(id);
      return { key: id, tone: 'dim', cells: [`node ${id}`, roles, 'down', d.promised === null ? '—' : `${ballotText(d.promised)} (disk)`, d.accepted === null ? '—' : `${show(d.accepted.value)} @${ballotText(d.accepted.ballot)} (disk)`, d.learned === undefined ? '—' : `${show(d.learned)} (disk)`] };
    }
    const a = core.acceptor;
    const accepted: TableCell =
      a === undefined ? dim('not an acceptor') : a.accepted === null ? dim('nothing') : toned(`${show(a.accepted.value)} @${ballotText(a.accepted.ballot)}`, chosen === undefined ? undefined : JSON.stringify(chosen) === JSON.stringify(a.accepted.value) ? 'good' : 'bad');
    const learned = core.status().learned;
    return {
      key: id,
      cells: [`node ${id}`, roles, 'up', a === undefined ? dim('—') : ballotText(a.promised), accepted, learned === undefined ? dim(core.learner === undefined ? 'not a learner' : 'nothing yet') : toned(show(learned), 'good')],
    };
  });
  const q = c.quorums;
  return { kind: 'table', columns: ['node', 'roles', 'state', 'promised', 'accepted', 'learned'], rows, caption: toned(chosen === undefined ? `nothing chosen yet · |Q1| = ${q.phase1}, |Q2| = ${q.phase2} of ${c.placement.acceptors.length} acceptors` : `${show(chosen)} is chosen · |Q1| = ${q.phase1}, |Q2| = ${q.phase2} of ${c.placement.acceptors.length} acceptors`, chosen === undefined ? undefined : 'good') };
}

/** Every proposer: its phase, its ballot, the ballots it tried, and the value it proposes. */
export function proposersTable(c: SynodCluster): TableContent {
  const rows: TableRow[] = c.placement.proposers.map((id) => {
    const p = c.core(id)?.proposer;
    if (p === undefined) return { key: id, tone: 'dim', cells: [`node ${id}`, 'down', '—', '—', '—', '—'] };
    const tone: Tone | undefined = p.phase === 'done' ? 'good' : p.phase === 'backoff' ? 'warn' : undefined;
    const value = p.proposal === undefined ? dim('—') : toned(`${show(p.proposal)}${p.adopted ? ' (adopted)' : ''}`, p.adopted ? 'warn' : undefined, p.adopted ? 'a promise reported this value accepted in an earlier ballot: the proposer must send it instead of its own' : undefined);
    return { key: id, cells: [`node ${id}`, toned(PHASE_TEXT[p.phase] ?? p.phase, tone, PHASE_TITLE[p.phase]), p.ballot === null ? dim('—') : ballotText(p.ballot), String(p.attempts), show(p.own), value] };
  });
  return { kind: 'table', columns: ['proposer', 'phase', 'ballot', 'ballots tried', 'its client asked', 'phase 2 sends'], rows };
}

/** The newest ballots: who promised, accepted and rejected each, and what became of it. */
export function ballotsTable(t: SynodTracker, c: SynodCluster): TableContent {
  const all = t.list();
  const shown = all.slice(-BALLOT_ROWS).reverse();
  const set = (s: ReadonlySet<NodeId>): string => (s.size === 0 ? '—' : [...s].sort().join(', '));
  const rows: TableRow[] = shown.map((l) => {
    const higher = all.some((o) => compareBallots(o.ballot, l.ballot) > 0);
    const outcome: TableCell = l.chosen
      ? toned(`chose ${show(l.value)}`, 'good')
      : l.rejectedBy.size > 0 || higher
        ? toned(l.acceptedBy.size > 0 || l.value !== undefined ? 'pre-empted in phase 2' : 'pre-empted in phase 1', 'warn', 'an acceptor promised a higher ballot before this one finished')
        : dim(l.value === undefined ? 'phase 1' : 'phase 2');
    return {
      key: ballotText(l.ballot),
      cells: [ballotText(l.ballot), `node ${l.ballot.node}`, `${l.atMs} ms`, set(l.promisedBy), l.value === undefined ? dim('—') : toned(`${show(l.value)}${l.adopted ? ' (adopted)' : ''}`, l.adopted ? 'warn' : undefined), set(l.acceptedBy), l.rejectedBy.size === 0 ? dim('—') : toned(set(l.rejectedBy), 'warn'), outcome],
    };
  });
  const chosen = all.find((l) => l.chosen);
  const caption = toned(`${all.length} ballot${all.length === 1 ? '' : 's'} tried${chosen === undefined ? ', nothing chosen' : `; ${show(chosen.value)} chosen in ${ballotText(chosen.ballot)}`}`, chosen === undefined ? (all.length > 10 ? 'warn' : undefined) : 'good');
  void c;
  return { kind: 'table', columns: ['ballot', 'proposer', 'started', 'promised by', 'phase 2 value', 'accepted by', 'rejected by', 'outcome'], rows, caption, empty: 'No ballot yet: a client asks a proposer to propose (a tour, or Propose).' };
}

export const SYNOD_MESSAGE_ORDER = ['prepare', 'promise', 'reject', 'accept', 'accepted', 'decided', 'ask'];

export function describeSynodMessage(m: SynodMessage): string {
  switch (m.type) {
    case 'prepare':
      return `prepare ${ballotText(m.ballot)} (phase 1a)`;
    case 'promise':
      return `promise ${ballotText(m.ballot)} (phase 1b); accepted before: ${m.accepted === null ? 'nothing' : `${show(m.accepted.value)} in ${ballotText(m.accepted.ballot)}`}`;
    case 'accept':
      return `accept ${show(m.value)} in ${ballotText(m.ballot)} (phase 2a)`;
    case 'accepted':
      return `accepted ${show(m.value)} in ${ballotText(m.ballot)} (phase 2b)`;
    case 'reject':
      return `reject ${ballotText(m.ballot)}: promised ${ballotText(m.promised)}`;
    case 'decided':
      return `decided: ${show(m.value)} is chosen`;
    case 'ask':
      return 'ask: what was chosen?';
  }
}
