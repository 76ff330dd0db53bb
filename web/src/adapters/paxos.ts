// The Paxos adapters: Multi-Paxos replicating the key-value store (`paxos`, src/paxos/sim/cluster.ts)
// and single-decree Paxos (`paxos-single`, src/paxos/sim/synod-cluster.ts), each built from the
// engine's wrapped spec, so messages, faults, time travel and links work as for Raft. Multi-Paxos
// nodes are coloured by role (follower, candidate in phase 1, leader recovering what phase 1
// found, leader), with each acceptor's promise inside and its accepted values per slot in the
// Logs panel; single-decree nodes by what they do (a proposer's phase, an acceptor, a learner
// that knows the chosen value). The guided tours are the scenario scripts the tests play
// (src/paxos/scenarios/tours.ts), driven by the same interpreter and told step by step.
import { kvModel, type Model } from '../../../src/check/index.js';
import type { KvQuery, KvRequest, KvResult } from '../../../src/kv/store.js';
import { ballotText, PaxosCluster, SynodCluster, type MultiPaxosCore, type PaxosMessage, type PaxosPersistOp, type PaxosRequest, type PaxosResponse, type SynodCore, type SynodMessage, type SynodPersistOp, type SynodRequest, type SynodResponse } from '../../../src/paxos/index.js';
import {
  MULTI_TOURS,
  multiTourCluster,
  multiTourOutcome,
  multiTourProgram,
  multiTourScenario,
  narrate,
  PAXOS_TOUR_POLL_MS,
  SYNOD_TOURS,
  synodTourCluster,
  synodTourOutcome,
  synodTourProgram,
  synodTourScenario,
  TourBindings,
  type MultiTour,
  type MultiTourOutcome,
  type PaxosTour,
  type PaxosTourHost,
  type SynodTour,
  type SynodTourHost,
  type SynodTourOutcome,
} from '../../../src/paxos/scenarios/tours.js';
import type { Message, NodeId, ProtocolCore } from '../../../src/sim/index.js';
import { driveScenarioProgram, type ScenarioProgram } from '../../../src/sim/scenario.js';
import { acceptorLog, acceptorsTable, describeMultiMessage, MULTI_MESSAGE_ORDER, paxosMonitors, PaxosTracker, phase1Table, roleOf, slotsTable, trafficTable, type Story } from './paxos-view.js';
import { ballotsTable, describeSynodMessage, proposersTable, show, SYNOD_MESSAGE_ORDER, synodNodesTable, synodRole, SynodTracker } from './synod-view.js';
import { unwatch, watchSpec } from './paxos-watch.js';
import type { MessageTypeDef, NodeView, PanelContents, PanelDef, ProtocolAdapter, ProtocolRun, RoleDef, SafetyMonitor, Scenario, SimControl } from './types.js';

/** Free play at a watchable pace: heartbeats every 60 ms, election timeouts of 150–300 ms, links of 10–30 ms. */
const VIZ_PAXOS = { tickMs: 15, heartbeatTicks: 4, electionTimeoutMinTicks: 10, electionTimeoutMaxTicks: 20, retransmitTicks: 6 } as const;
const VIZ_LINK = { latency: { kind: 'uniform', minMs: 10, maxMs: 30 } } as const;
const SYNOD_VIZ_LINK = { latency: { kind: 'uniform', minMs: 10, maxMs: 30 } } as const;

function listed(t: PaxosTour, nodes: number, title: string, caption: string): Scenario {
  return { id: t.name, title, summary: caption, nodes, seed: t.seed, steps: [], driven: true, endMs: t.endMs };
}

/** A finished Multi-Paxos tour's outcome in one line (the caption and the tests use it). */
export function multiOutcomeLine(o: MultiTourOutcome): string {
  return `Leader ${o.leader ?? 'none'}${o.ballot === null ? '' : ` in ballot ${o.ballot}`}; ${o.chosen} slot(s) chosen, ${o.noops} of them no-ops; its phase 1 adopted ${o.leaderAdopted} value(s) and filled ${o.leaderNoops} hole(s) with no-ops; monitors: ${o.violations === 0 ? 'ok' : `${o.violations} violation(s)`}.`;
}

/** A finished single-decree tour's outcome in one line. */
export function synodOutcomeLine(o: SynodTourOutcome): string {
  return `${o.chosen === null ? 'Nothing chosen' : `${o.chosen} chosen`} after ${o.ballots} ballot(s); learned by ${o.learned} of ${o.learnersUp} learner(s) up; monitors: ${o.violations === 0 ? 'ok' : `${o.violations} violation(s)`}.`;
}

/** Plays a tour's program in virtual time and keeps what its caption shows. */
class TourPlayer {
  step = '';
  narration = '';
  finished: string | undefined;
  private statusOf: () => string = () => '';

  constructor(
    private readonly tour: PaxosTour,
    private readonly caption: string,
    private readonly bindings: TourBindings,
    private readonly story: Story,
  ) {}

  start(sim: SimControl & { after(ms: number, fn: () => void): void }, program: { program: ScenarioProgram; status: () => string; stop?: () => void }, note: (text: string) => void): void {
    this.statusOf = program.status;
    note(`tour ${this.tour.name}: ${this.caption}`);
    driveScenarioProgram(sim as never, program.program, {
      pollMs: PAXOS_TOUR_POLL_MS,
      onStep: (where, text) => {
        this.step = `${where}: ${text}`;
        const line = narrate(this.tour, where, this.bindings);
        if (line !== undefined) this.narration = line;
        this.story.tell('tour', `step ${where}: ${text}`, 'dim');
      },
      onEnd: (failure) => {
        program.stop?.();
        this.finished = failure === undefined ? 'Tour complete.' : `Expectation failed: ${failure}`;
        note(`tour: ${this.finished}`);
      },
    });
  }

  /** The caption: the tour's, the step told in plain words, the step under way (or the outcome), the last thing that happened. */
  text(outcome: () => string): string {
    const lines = [this.caption];
    if (this.narration !== '') lines.push(this.narration);
    if (this.finished === undefined) {
      const status = this.statusOf();
      lines.push(`Step ${this.step === '' ? '—' : this.step}${status === '' ? '' : ` — ${status}`}`);
    } else lines.push(`${this.finished} ${outcome()}`);
    const last = this.story.lines.filter((l) => l.who !== 'tour').slice(-1)[0];
    if (last !== undefined) lines.push(`${last.atMs} ms · ${last.who} ${last.text}`);
    return lines.join('\n');
  }
}

// ================================================================ Multi-Paxos

const MULTI_ROLES: readonly RoleDef[] = [
  { id: 'follower', label: 'follower (an acceptor and learner)', color: '#bfdbfe' },
  { id: 'candidate', label: 'candidate: running phase 1 (prepare) with a new ballot', color: '#fdba74' },
  { id: 'recovering', label: 'leader, re-proposing what its phase 1 found (not serving yet)', color: '#fef08a' },
  { id: 'leader', label: 'leader (the distinguished proposer): phase 2 per command', color: '#86efac' },
];

const MULTI_MESSAGES: readonly MessageTypeDef[] = [
  { type: 'prepare', label: 'prepare (phase 1a): promise this ballot for every slot above n', color: '#f97316', response: false },
  { type: 'promise', label: 'promise (phase 1b), with every value accepted above n', color: '#f97316', response: true },
  { type: 'reject', label: 'reject: a higher ballot was promised', color: '#dc2626', response: true },
  { type: 'accept', label: 'accept (phase 2a): values for slots, and which slots are chosen', color: '#2563eb', response: false },
  { type: 'accepted', label: 'accepted (phase 2b)', color: '#2563eb', response: true },
  { type: 'heartbeat', label: 'heartbeat (leadership, chosen slots, read round)', color: '#64748b', response: false },
  { type: 'heartbeatResp', label: 'heartbeat answer', color: '#64748b', response: true },
  { type: 'values', label: 'chosen values, for a node that lacks them', color: '#16a34a', response: false },
  { type: 'snapshotReq', label: 'snapshot request', color: '#a16207', response: false },
  { type: 'snapshot', label: 'snapshot (every slot up to n, applied)', color: '#a16207', response: false },
];

const MULTI_PANELS: readonly PanelDef[] = [
  { id: 'paxos-slots', title: 'Slots', place: 'main', hint: 'The newest slots: the value chosen there (once |Q2| acceptors accepted it in one ballot; no-ops in orange), what each acceptor accepted there and in which ballot (green: the chosen value; red: an older acceptance a higher ballot will replace), and how many nodes know it chosen.' },
  { id: 'paxos-phase1', title: 'Phase 1: leader changes', place: 'main', hint: 'Every phase 1 that made a leader (newest first): whose promises it gathered, the slots whose reported value it proposed again (adopted) and the holes it filled with no-ops.' },
  { id: 'paxos-acceptors', title: 'Acceptors', place: 'side', hint: 'Each node’s promise (the highest ballot it promised: it accepts nothing lower), its own ballot as candidate or leader, the chosen prefix it knows and what it applied.' },
  { id: 'paxos-messages', title: 'Messages', place: 'side', hint: 'By type: in flight now, sent and dropped so far (the simulator’s counters).' },
  { id: 'paxos-story', title: 'What happened', place: 'lower', hint: 'Phases 1 started and won, rejections, slots learned chosen, crashes, restarts, partitions, client answers.' },
];

function multiTitle(t: MultiTour): { title: string; caption: string; nodes: number } {
  const s = multiTourScenario(t);
  return { title: `Multi-Paxos: ${s.title}`, caption: s.caption, nodes: s.nodes };
}

class MultiRun implements ProtocolRun {
  readonly sim: PaxosCluster['sim'];
  readonly monitors: readonly SafetyMonitor[];
  private readonly bindings = new TourBindings();
  private readonly player: TourPlayer | undefined;

  constructor(
    private readonly c: PaxosCluster,
    private readonly t: PaxosTracker,
    private readonly tour: MultiTour | undefined,
  ) {
    this.sim = c.sim;
    this.monitors = paxosMonitors(c.monitor, true);
    c.sim.subscribe((e) => this.bindings.onEvent(e));
    this.player = tour === undefined ? undefined : new TourPlayer(tour, multiTitle(tour).caption, this.bindings, t.story);
  }

  nodeIds(): readonly NodeId[] {
    return this.c.nodeIds;
  }

  leader(): NodeId | undefined {
    return this.c.readyLeader() ?? this.c.leader();
  }

  describeNode(id: NodeId, window: number): NodeView {
    const c = this.c;
    const core = c.core(id);
    const log = acceptorLog(this.t, c, id, window);
    if (core === undefined) return { id, up: false, role: 'down', details: [`promised ${ballotText(this.t.promisedBy(id))}`], leader: null, log };
    const s = core.status();
    const role = roleOf(core);
    const own = s.ballot === null ? '' : ballotText(s.ballot);
    const second = role === 'leader' || role === 'recovering' ? `ballot ${own} · next slot ${s.nextSlot}` : role === 'candidate' ? `phase 1 with ${own}` : `follows ${s.leader ?? 'nobody'}`;
    return { id, up: true, role, details: [`promised ${ballotText(s.promised)}`, second, `chosen ≤ ${s.known} · applied ${s.applied}`], leader: s.leader, log };
  }

  describePanels(): PanelContents {
    return {
      'paxos-slots': slotsTable(this.t, this.c),
      'paxos-phase1': phase1Table(this.t),
      'paxos-acceptors': acceptorsTable(this.t, this.c),
      'paxos-messages': trafficTable(this.c.sim, MULTI_MESSAGE_ORDER),
      'paxos-story': this.t.story.table('Nothing yet: press Play (a leader is elected), pick a tour, or write.'),
    };
  }

  describeMessage(msg: Message): string {
    try {
      return describeMultiMessage(msg as unknown as PaxosMessage);
    } catch {
      return msg.type;
    }
  }

  clientOp(op: string, process: string, node: NodeId | null, value: number): void {
    const request = op === 'read' ? ({ op: 'get', key: 'x' } as const) : ({ op: 'put', key: 'x', value } as const);
    this.c.client(process).submit(request, node === null ? {} : { target: node });
  }

  protocolAction(name: string, node: NodeId | null): string {
    if (name !== 'campaign') return `paxos has no action "${name}"`;
    if (node === null) return 'campaign: no node';
    this.c.campaign(node);
    return `node ${node} runs phase 1 now`;
  }

  startScenario(): void {
    const tour = this.tour;
    if (tour === undefined || this.player === undefined) return;
    const { program, steps, status } = multiTourProgram(this.c, tour);
    this.player.start(this.c.sim, { program, status, stop: () => steps.stopClients() }, (text) => this.c.note(text));
  }

  scenarioCaption(): string | null {
    return this.player?.text(() => multiOutcomeLine(multiTourOutcome(this.c))) ?? null;
  }
}

export const paxosAdapter: ProtocolAdapter = {
  id: 'paxos',
  title: 'Multi-Paxos + KV',
  blurb: 'The project’s Multi-Paxos core replicating a key-value store: a leader runs phase 1 once for every slot to come, then one phase-2 round per command; a new leader re-proposes what its promises report and fills holes with no-ops. Heartbeats every 60 ms, election timeouts of 150–300 ms, links of 10–30 ms (tours: the scenarios’ own settings).',
  nodes: { min: 3, max: 7, initial: 5 },
  initialSpeed: 50,
  initialSpanMs: 3000,
  hasLeader: true,
  roles: MULTI_ROLES,
  messageTypes: MULTI_MESSAGES,
  panels: MULTI_PANELS,
  logLegend: 'Each node’s acceptor: the value it accepted at each slot, coloured by the round of the ballot it accepted it in (a value proposed again by a new leader changes colour), labelled by the key written (·: a no-op, hatched). Dashed: not yet known chosen at that node; green bar: the chosen prefix it knows. A down node shows what its disk holds.',
  clientOps: [
    { id: 'write', label: 'Write', title: 'put x = a new value, through a retrying client (sent to the leader)', target: 'none' },
    { id: 'read', label: 'Read', title: 'get x (a linearizable read: the leader confirms its ballot with a quorum round first)', target: 'none' },
  ],
  nodeActions: [{ id: 'campaign', label: 'Run phase 1', title: 'This node starts phase 1 now with a ballot above every round it has seen (an operator’s “lead”)', target: 'node' }],
  clusterActions: [],
  checker: { model: kvModel as Model<unknown, unknown>, describe: 'kv model' },
  scenarios: MULTI_TOURS.map((t) => {
    const info = multiTitle(t);
    return listed(t, info.nodes, info.title, info.caption);
  }),
  build(ctx): ProtocolRun {
    const tour = ctx.scenario === undefined ? undefined : MULTI_TOURS.find((t) => t.name === ctx.scenario);
    const tracker = new PaxosTracker();
    const host: PaxosTourHost = {
      wrapSpec: (spec) => ctx.wrap(watchSpec(spec, tracker.watcher)),
      unwrapCore: (core) => unwatch<MultiPaxosCore<KvRequest, KvQuery, KvResult>>(ctx.unwrap(core as ProtocolCore<PaxosMessage, PaxosRequest, PaxosResponse, PaxosPersistOp>)),
      observer: tracker.observer,
    };
    const cluster = tour !== undefined ? multiTourCluster(tour, ctx.seed, host) : new PaxosCluster({ seed: ctx.seed, nodes: ctx.nodes, paxos: VIZ_PAXOS, link: VIZ_LINK, fsyncMs: 1, ...host });
    tracker.attach(cluster);
    return new MultiRun(cluster, tracker, tour);
  },
};

// ================================================================ single-decree Paxos

const SYNOD_ROLES: readonly RoleDef[] = [
  { id: 'preparing', label: 'proposer in phase 1: prepare sent, gathering promises', color: '#fdba74' },
  { id: 'accepting', label: 'proposer in phase 2: accept sent, gathering acceptances', color: '#fef08a' },
  { id: 'backoff', label: 'proposer rejected: waiting before a higher ballot', color: '#e9d5ff' },
  { id: 'acceptor', label: 'acceptor (and learner): promises and accepts', color: '#bfdbfe' },
  { id: 'proposer', label: 'proposer, idle', color: '#e2e8f0' },
  { id: 'learner', label: 'learner, nothing learned yet', color: '#f1f5f9' },
  { id: 'chosen', label: 'knows the chosen value', color: '#86efac' },
];

const SYNOD_MARKS: readonly RoleDef[] = [{ id: 'accepted', label: 'its acceptor holds an accepted value', color: '#2563eb' }];

const SYNOD_MESSAGES: readonly MessageTypeDef[] = [
  { type: 'prepare', label: 'prepare (phase 1a)', color: '#f97316', response: false },
  { type: 'promise', label: 'promise (phase 1b), with the value accepted before, if any', color: '#f97316', response: true },
  { type: 'reject', label: 'reject: a higher ballot was promised', color: '#dc2626', response: true },
  { type: 'accept', label: 'accept (phase 2a): this value in this ballot', color: '#2563eb', response: false },
  { type: 'accepted', label: 'accepted (phase 2b), to the proposer and every learner', color: '#2563eb', response: true },
  { type: 'decided', label: 'decided: the chosen value, to a learner that missed it', color: '#16a34a', response: false },
  { type: 'ask', label: 'ask: a learner asks what was chosen', color: '#94a3b8', response: false },
];

const SYNOD_PANELS: readonly PanelDef[] = [
  { id: 'synod-ballots', title: 'Ballots', place: 'main', hint: 'The newest ballots: who promised each, the value its phase 2 carried (adopted: reported accepted by a promise), who accepted it, who rejected it (they had promised a higher one), and whether it chose its value or was pre-empted.' },
  { id: 'synod-nodes', title: 'Acceptors and learners', place: 'main', hint: 'Each node’s roles (P proposer, A acceptor, L learner), its acceptor’s promise and accepted (value @ballot; green: the chosen value), and what it learned. A down node shows its disk.' },
  { id: 'synod-proposers', title: 'Proposers', place: 'main', hint: 'Each proposer’s phase, its ballot, how many ballots it tried, the value its client asked for and the value its phase 2 sends.' },
  { id: 'synod-messages', title: 'Messages', place: 'side', hint: 'By type: in flight now, sent and dropped so far.' },
  { id: 'synod-story', title: 'What happened', place: 'lower', hint: 'Ballots started, rejections, phase 2 with its value, the value chosen, answers, crashes and restarts.' },
];

function synodTitle(t: SynodTour): { title: string; caption: string; nodes: number } {
  const s = synodTourScenario(t);
  return { title: `Single decree: ${s.title}`, caption: s.caption, nodes: s.nodes };
}

class SynodRun implements ProtocolRun {
  readonly sim: SynodCluster['sim'];
  readonly monitors: readonly SafetyMonitor[];
  private readonly bindings = new TourBindings();
  private readonly player: TourPlayer | undefined;

  constructor(
    private readonly c: SynodCluster,
    private readonly t: SynodTracker,
    private readonly tour: SynodTour | undefined,
  ) {
    this.sim = c.sim;
    this.monitors = paxosMonitors(c.monitor, false);
    c.sim.subscribe((e) => this.bindings.onEvent(e));
    this.player = tour === undefined ? undefined : new TourPlayer(tour, synodTitle(tour).caption, this.bindings, this.t.story);
  }

  nodeIds(): readonly NodeId[] {
    return this.c.nodeIds;
  }

  leader(): NodeId | undefined {
    return undefined;
  }

  describeNode(id: NodeId): NodeView {
    const c = this.c;
    const core = c.core(id);
    if (core === undefined) {
      const d = this.t.durable(id);
      return { id, up: false, role: 'down', details: [d.promised === null ? 'down' : `promised ${ballotText(d.promised)}`] };
    }
    const details: string[] = [];
    const a = core.acceptor;
    const p = core.proposer;
    if (a !== undefined) details.push(`promised ${ballotText(a.promised)}`);
    else if (p !== undefined) details.push(p.ballot === null ? 'proposer' : `ballot ${ballotText(p.ballot)}`);
    else details.push('learner');
    if (p !== undefined && p.ballot !== null && a !== undefined) details.push(`ballot ${ballotText(p.ballot)} (${p.attempts} tried)`);
    if (p !== undefined && p.phase === 'accepting' && p.proposal !== undefined) details.push(`phase 2: ${show(p.proposal)}${p.adopted ? ' (adopted)' : ''}`);
    if (a?.accepted != null) details.push(`accepted ${show(a.accepted.value)} @${ballotText(a.accepted.ballot)}`);
    const learned = core.status().learned;
    if (learned !== undefined) details.push(`chosen ${show(learned)}`);
    return { id, up: true, role: synodRole(c, id), details, mark: a?.accepted != null ? 'accepted' : null };
  }

  describePanels(): PanelContents {
    return {
      'synod-ballots': ballotsTable(this.t, this.c),
      'synod-nodes': synodNodesTable(this.t, this.c),
      'synod-proposers': proposersTable(this.c),
      'synod-messages': trafficTable(this.c.sim, SYNOD_MESSAGE_ORDER),
      'synod-story': this.t.story.table('Nothing yet: pick a tour, or ask a proposer to propose.'),
    };
  }

  describeMessage(msg: Message): string {
    try {
      return describeSynodMessage(msg as unknown as SynodMessage);
    } catch {
      return msg.type;
    }
  }

  /** A client asks the chosen node (or a proposer picked by the run's counter) to propose "v<n>". */
  clientOp(op: string, process: string, node: NodeId | null, value: number): void {
    const proposers = this.c.placement.proposers;
    if (op !== 'propose' || proposers.length === 0) return this.c.note(`visualizer: no client operation ${op}`);
    const via = node !== null && proposers.includes(node) ? node : (proposers[value % proposers.length] as NodeId);
    this.c.propose(via, `v${value}`, process);
  }

  protocolAction(name: string): string {
    return `single-decree Paxos has no action "${name}"`;
  }

  startScenario(): void {
    const tour = this.tour;
    if (tour === undefined || this.player === undefined) return;
    const { program, status } = synodTourProgram(this.c, tour);
    this.player.start(this.c.sim, { program, status }, (text) => this.c.note(text));
  }

  scenarioCaption(): string | null {
    return this.player?.text(() => synodOutcomeLine(synodTourOutcome(this.c))) ?? null;
  }
}

export const synodAdapter: ProtocolAdapter = {
  id: 'paxos-single',
  title: 'Paxos: single decree',
  blurb: 'Single-decree Paxos (the synod): proposers, acceptors and learners agree on one value. A proposer needs promises from a majority (phase 1), then proposes the value of the highest-ballot acceptance they report, or its own (phase 2). Links of 10–30 ms in free play (tours: the scenarios’ own settings).',
  nodes: { min: 3, max: 7, initial: 3 },
  initialSpeed: 30,
  initialSpanMs: 1500,
  hasLeader: false,
  roles: SYNOD_ROLES,
  marks: SYNOD_MARKS,
  messageTypes: SYNOD_MESSAGES,
  panels: SYNOD_PANELS,
  clientOps: [{ id: 'propose', label: 'Propose', title: 'A client asks a proposer (the chosen node, or one picked in turn) to propose a new value; it is answered with the chosen value', target: 'none' }],
  nodeActions: [],
  clusterActions: [],
  checker: null,
  scenarios: SYNOD_TOURS.map((t) => {
    const info = synodTitle(t);
    return listed(t, info.nodes, info.title, info.caption);
  }),
  build(ctx): ProtocolRun {
    const tour = ctx.scenario === undefined ? undefined : SYNOD_TOURS.find((t) => t.name === ctx.scenario);
    const tracker = new SynodTracker();
    const host: SynodTourHost = {
      wrapSpec: (spec) => ctx.wrap(watchSpec(spec, tracker.watcher)),
      unwrapCore: (core) => unwatch<SynodCore>(ctx.unwrap(core as ProtocolCore<SynodMessage, SynodRequest, SynodResponse, SynodPersistOp>)),
    };
    const cluster = tour !== undefined ? synodTourCluster(tour, ctx.seed, host) : new SynodCluster({ seed: ctx.seed, nodes: ctx.nodes, link: SYNOD_VIZ_LINK, fsyncMs: 1, ...host });
    tracker.attach(cluster);
    return new SynodRun(cluster, tracker, tour);
  },
};
