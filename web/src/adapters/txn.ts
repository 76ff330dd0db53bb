// The commit adapters: the simulated commit systems of src/txn/sim (2PC, 3PC, Paxos Commit), one
// per protocol, built from the engine's wrapped spec. Node 1 coordinates (leads, for Paxos
// Commit); the participants hold accounts and are coloured by their phase in their newest
// transaction and ringed while they hold locks. The guided tours are the scripts the tests play
// (src/txn/scenarios/tours.ts), driven by the same interpreter: the blocking problem made visible.
import type { Message, NodeId } from '../../../src/sim/index.js';
import { driveScenarioProgram } from '../../../src/sim/scenario.js';
import { emptyBlockingObservation } from '../../../src/txn/scenarios/blocking.js';
import { COMMIT_TOUR_LINK, COMMIT_TOUR_POLL_MS, COMMIT_TOURS, commitTourCluster, commitTourOutcome, commitTourProgram, type CommitTour, type CommitTourOutcome } from '../../../src/txn/scenarios/tours.js';
import { COORDINATOR, newCommitCluster, type CommitProtocolName } from '../../../src/txn/sim/cluster.js';
import { CheckMonitor } from './check-monitor.js';
import { compareTable, participantsTable, PHASE_TEXT, phasesTable, storyTable, TxnView, verdictTable, type Cluster } from './txn-view.js';
import type { MessageTypeDef, NodeView, PanelContents, PanelDef, ProtocolAdapter, ProtocolRun, RoleDef, SafetyMonitor, Scenario } from './types.js';

const ROLES: readonly RoleDef[] = [
  { id: 'coordinator', label: 'coordinator (node 1; the leader in Paxos Commit)', color: '#2563eb' },
  { id: 'idle', label: 'participant, no transaction yet', color: '#cbd5e1' },
  { id: 'working', label: 'working: asked to prepare, not voted yet', color: '#93c5fd' },
  { id: 'prepared', label: 'prepared: voted yes, uncertain (in doubt)', color: '#f59e0b' },
  { id: 'precommitted', label: 'pre-committed (3PC)', color: '#a855f7' },
  { id: 'committed', label: 'committed', color: '#16a34a' },
  { id: 'aborted', label: 'aborted', color: '#64748b' },
  { id: 'acceptor', label: 'acceptor (Paxos Commit)', color: '#0891b2' },
];

const MARKS: readonly RoleDef[] = [{ id: 'locks', label: 'holds locks on the keys it changes', color: '#dc2626' }];

const MESSAGE_TYPES: readonly MessageTypeDef[] = [
  { type: 'prepare', label: 'PREPARE: lock, force "prepared", vote', color: '#2563eb', response: false },
  { type: 'vote', label: 'vote yes / no', color: '#2563eb', response: true },
  { type: 'precommit', label: 'PRE-COMMIT (3PC)', color: '#a855f7', response: false },
  { type: 'precommit-ack', label: 'pre-commit acknowledged (3PC)', color: '#a855f7', response: true },
  { type: 'decision', label: 'decision: commit or abort', color: '#16a34a', response: false },
  { type: 'ack', label: 'decision acknowledged', color: '#16a34a', response: true },
  { type: 'decision-request', label: 'in doubt: what was decided? (2PC)', color: '#f59e0b', response: false },
  { type: 'status-request', label: 'cooperative termination: what is your state? (2PC)', color: '#ea580c', response: false },
  { type: 'status', label: 'cooperative termination: my state (2PC)', color: '#ea580c', response: true },
  { type: 'state-request', label: 'termination protocol: a backup asks for states (3PC)', color: '#ea580c', response: false },
  { type: 'state', label: 'termination protocol: my state (3PC)', color: '#ea580c', response: true },
  { type: 'begin', label: 'BEGIN: the leader asks the participants to prepare (Paxos Commit)', color: '#2563eb', response: false },
  { type: 'p2a', label: 'phase 2a: accept this vote (Paxos Commit)', color: '#0891b2', response: false },
  { type: 'p2b', label: 'phase 2b: vote accepted (Paxos Commit)', color: '#0891b2', response: true },
  { type: 'p1a', label: 'phase 1a: a higher ballot, to finish an instance (Paxos Commit)', color: '#ea580c', response: false },
  { type: 'p1b', label: 'phase 1b: promise, with what was accepted (Paxos Commit)', color: '#ea580c', response: true },
  { type: 'nack', label: 'ballot refused (Paxos Commit)', color: '#ea580c', response: true },
  { type: 'outcome', label: 'the outcome learned (Paxos Commit)', color: '#16a34a', response: false },
];

/** Which of the message types each protocol sends (its legend shows only those). */
const PROTOCOL_MESSAGES: Readonly<Record<CommitProtocolName, readonly string[]>> = {
  '2pc': ['prepare', 'vote', 'decision', 'ack', 'decision-request', 'status-request', 'status'],
  '3pc': ['prepare', 'vote', 'precommit', 'precommit-ack', 'decision', 'ack', 'state-request', 'state'],
  'paxos-commit': ['begin', 'p2a', 'p2b', 'p1a', 'p1b', 'nack', 'outcome'],
};

const PANELS: readonly PanelDef[] = [
  { id: 'txn-participants', title: 'Participants', place: 'main', hint: 'Each participant’s phase in its newest transaction (working, prepared and uncertain, pre-committed, committed, aborted), the locks it holds, how long it has been in doubt, and its balances.' },
  { id: 'txn-phases', title: 'Phases', place: 'main', hint: 'The newest transactions, one row per participant: its phase, its vote, its decision and how long it stayed in doubt (the commit checker’s blocking time).' },
  { id: 'txn-compare', title: 'The same crash, three protocols', place: 'side', hint: 'The blocking tour played once under each protocol on the same seed: the outcome, who was still in doubt (and the locks held) when the coordinator came back, the longest time in doubt, and whether everyone decided while it was down.' },
  { id: 'txn-verdicts', title: 'Verdicts', place: 'side', hint: 'The commit checker on the history so far: atomicity, validity, blocking time; and the money (none created or destroyed).' },
  { id: 'txn-story', title: 'What happened', place: 'lower', hint: 'Votes, decisions, crashes and recoveries, client answers, as they happened.' },
];

const PROTOCOL_TITLES: Readonly<Record<CommitProtocolName, string>> = { '2pc': 'Commit: 2PC', '3pc': 'Commit: 3PC', 'paxos-commit': 'Commit: Paxos Commit' };
const PROTOCOL_BLURBS: Readonly<Record<CommitProtocolName, string>> = {
  '2pc': 'Two-phase commit: node 1 asks each participant to prepare (lock, force "prepared", vote), then forces and sends its decision; a prepared participant cannot decide alone, so a coordinator crash leaves it in doubt, holding its locks.',
  '3pc': 'Three-phase commit (Skeen): a PRE-COMMIT round between the votes and the commit, so that after a coordinator crash a backup can decide from the participants’ states (non-blocking under crash failures, unsafe under partitions).',
  'paxos-commit': 'Paxos Commit (Gray & Lamport): each participant’s vote is chosen by three acceptors, so any participant in doubt can finish the instances at a higher ballot: the coordinator’s crash blocks no one.',
};
const FREE_PLAY_END_MS = 3000;

function listed(t: CommitTour): Scenario {
  return { id: t.name, title: t.title, summary: t.caption, nodes: t.participants, seed: t.seed, steps: [], driven: true, endMs: t.endMs };
}

/** A finished tour's outcome in one line (the caption and the tests use it). */
export function tourOutcomeLine(o: CommitTourOutcome): string {
  const doubt = o.inDoubtBeforeRestart > 0 ? `${o.inDoubtBeforeRestart} participant(s) still in doubt holding ${o.locksBeforeRestart} lock(s) when the coordinator came back` : 'nobody in doubt when the coordinator came back';
  return `Outcome: ${o.outcome}; ${doubt}; ${o.decidedWhileDown ? 'decided while the coordinator was down' : 'blocked until the coordinator recovered'}; longest in doubt ${o.maxInDoubtMs} ms.`;
}

function monitorsFor(view: TxnView): SafetyMonitor[] {
  const first = (kind: 'atomicity' | 'validity'): string | null => view.check().violations.find((v) => v.kind === kind)?.message ?? null;
  return [
    new CheckMonitor('txn-atomicity', 'Atomicity', 'Every participant of a transaction decides the same outcome (the commit checker).', () => first('atomicity')),
    new CheckMonitor('txn-validity', 'Validity', 'A transaction commits only if every participant voted yes (the commit checker).', () => first('validity')),
  ];
}

/** The commit checker looks at the whole history: run the monitors at most once per virtual millisecond. */
function throttled(monitor: SafetyMonitor, now: () => number): SafetyMonitor {
  let at = -1;
  return {
    id: monitor.id,
    title: monitor.title,
    description: monitor.description,
    afterStep(node) {
      if (now() === at) return null;
      at = now();
      return monitor.afterStep(node);
    },
  };
}

class TxnRun implements ProtocolRun {
  readonly sim: Cluster['sim'];
  readonly monitors: readonly SafetyMonitor[];
  readonly view: TxnView;
  private readonly seen = emptyBlockingObservation();
  private outcome: CommitTourOutcome | undefined;

  constructor(
    private readonly cluster: Cluster,
    private readonly protocol: CommitProtocolName,
    private readonly tour: CommitTour | undefined,
  ) {
    this.sim = cluster.sim;
    this.view = new TxnView(cluster, protocol);
    this.monitors = monitorsFor(this.view).map((m) => throttled(m, () => cluster.nowMs));
  }

  nodeIds(): readonly NodeId[] {
    return this.cluster.nodeIds;
  }

  leader(): NodeId | undefined {
    return undefined;
  }

  describeNode(id: NodeId): NodeView {
    const c = this.cluster;
    const up = c.core(id) !== undefined;
    if (id === COORDINATOR) {
      const open = c.coordinatorOpen();
      return { id, up, role: up ? 'coordinator' : 'down', details: up ? [`open ${open ?? 0}`] : ['coordinator down'] };
    }
    if (!c.participants.includes(id)) return { id, up, role: up ? 'acceptor' : 'down', details: ['acceptor'] };
    const t = this.view.latestOf(id);
    const phase = this.view.phase(id, t);
    const locks = c.participant(id)?.lockCount() ?? 0;
    const details = [PHASE_TEXT[phase]];
    if (locks > 0) details.push(`locks ${locks}`);
    const doubt = this.view.inDoubtMs(id, t);
    if (doubt !== null && this.view.inDoubtNow(id)) details.push(`in doubt ${doubt} ms`);
    return { id, up, role: up ? phase : 'down', details, mark: up && locks > 0 ? 'locks' : null };
  }

  describePanels(): PanelContents {
    return {
      'txn-participants': participantsTable(this.view),
      'txn-phases': phasesTable(this.view),
      'txn-compare': compareTable(this.protocol),
      'txn-verdicts': verdictTable(this.view),
      'txn-story': storyTable(this.view),
    };
  }

  describeMessage(msg: Message): string {
    const m = msg as Message & { txn?: string; yes?: boolean; outcome?: string; value?: string; ballot?: number; rm?: string; state?: string };
    const parts = [m.type, m.txn ?? ''];
    if (m.yes !== undefined) parts.push(m.yes ? 'yes' : 'no');
    if (m.outcome !== undefined) parts.push(m.outcome);
    if (m.state !== undefined) parts.push(m.state);
    if (m.rm !== undefined) parts.push(`for ${m.rm}`);
    if (m.value !== undefined) parts.push(String(m.value));
    if (m.ballot !== undefined) parts.push(`ballot ${m.ballot}`);
    return parts.filter((p) => p !== '').join(' ');
  }

  /** A transfer of a small amount from the chosen participant (or a random one) to another. */
  clientOp(op: string, process: string, node: NodeId | null, value: number): void {
    const c = this.cluster;
    if (op !== 'transfer') return c.sim.note(`visualizer: no client operation ${op}`);
    const ps = c.participants;
    const from = node !== null && ps.includes(node) ? node : (ps[value % ps.length] as NodeId);
    const others = ps.filter((p) => p !== from);
    const to = others[value % others.length] as NodeId;
    const account = c.accounts[value % c.accounts.length] as string;
    c.transfer(process, { node: from, key: account }, { node: to, key: account }, 1 + (value % 40));
  }

  protocolAction(name: string): string {
    return `no action ${name}`;
  }

  startScenario(): void {
    const tour = this.tour;
    if (tour === undefined) return;
    const c = this.cluster;
    c.sim.note(`tour ${tour.name}: ${tour.caption}`);
    driveScenarioProgram(c.sim, commitTourProgram(c, tour, this.seen), {
      pollMs: COMMIT_TOUR_POLL_MS,
      onStep: (where, text) => this.view.stepBegan(where, text),
      onEnd: (failure) => {
        this.outcome = commitTourOutcome(c, this.seen);
        this.view.finished = failure === undefined ? 'Tour complete.' : `Expectation failed: ${failure}`;
        c.sim.note(`tour: ${this.view.finished}`);
      },
    });
  }

  scenarioCaption(): string | null {
    const tour = this.tour;
    if (tour === undefined) return null;
    const lines = [tour.caption];
    if (this.view.finished === undefined) lines.push(`Step ${this.view.step === '' ? '—' : this.view.step}`);
    else lines.push(`${this.view.finished}${this.outcome === undefined ? '' : ` ${tourOutcomeLine(this.outcome)}`}`);
    const last = this.view.story.filter((l) => l.who !== 'tour').slice(-1)[0];
    if (last !== undefined) lines.push(`${last.atMs} ms · ${last.who} ${last.text}`);
    return lines.join('\n');
  }
}

function commitAdapter(protocol: CommitProtocolName): ProtocolAdapter {
  const tours = COMMIT_TOURS.filter((t) => t.protocol === protocol);
  return {
    id: `txn-${protocol}`,
    title: PROTOCOL_TITLES[protocol],
    blurb: `${PROTOCOL_BLURBS[protocol]} Participants are nodes 2..N+1; start a transfer, crash the coordinator, or play the blocking tour.`,
    nodes: { min: 2, max: 5, initial: 3 },
    initialSpeed: 400,
    initialSpanMs: FREE_PLAY_END_MS,
    hasLeader: false,
    roles: protocol === 'paxos-commit' ? ROLES : ROLES.filter((r) => r.id !== 'acceptor' && (protocol === '3pc' || r.id !== 'precommitted')),
    marks: MARKS,
    messageTypes: MESSAGE_TYPES.filter((m) => PROTOCOL_MESSAGES[protocol].includes(m.type)),
    panels: PANELS,
    clientOps: [{ id: 'transfer', label: 'Transfer', title: 'A client asks the coordinator to transfer a small amount from the chosen participant (or one picked for it) to another, atomically', target: 'node' }],
    nodeActions: [],
    clusterActions: [],
    checker: null,
    scenarios: tours.map(listed),
    build(ctx): ProtocolRun {
      const tour = ctx.scenario === undefined ? undefined : tours.find((t) => t.name === ctx.scenario);
      const host = { wrapSpec: ctx.wrap, unwrapCore: ctx.unwrap };
      const cluster = tour !== undefined ? commitTourCluster(tour, ctx.seed, host) : (newCommitCluster(protocol, { seed: ctx.seed, participants: ctx.nodes, link: COMMIT_TOUR_LINK, trace: false, host }) as unknown as Cluster);
      return new TxnRun(cluster, protocol, tour);
    },
  };
}

/** One adapter per commit protocol. */
export const TXN_ADAPTERS: readonly ProtocolAdapter[] = (['2pc', '3pc', 'paxos-commit'] as const).map(commitAdapter);
