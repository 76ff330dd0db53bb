// The gossip adapter: SWIM with Lifeguard (src/gossip), each member also keeping a CRDT document,
// on a GossipStage built from the engine's wrapped spec. Members are coloured by one member's view
// of them (the member selected on the page, or the one the scenario follows) and ringed when they
// have the latest update (or when their document differs from the majority's); groups larger than
// the ring are drawn as a crowd of dots. The guided scenarios are the scripts the tests play
// (src/gossip/scenarios), driven by the same interpreter.
import type { CrdtGossipMessage, GossipNodeMessage } from '../../../src/gossip/crdt-node.js';
import type { GossipMessage, MemberUpdate } from '../../../src/gossip/messages.js';
import { GOSSIP_SCENARIO_POLL_MS, GOSSIP_SCENARIOS, GOSSIP_STAGE_SEEDS, gossipOutcome, gossipScenarioProgram, gossipScenarioStage, GossipStage, type GossipOutcome, type GossipScenario, type GossipStageHost } from '../../../src/gossip/scenarios/index.js';
import { driveScenarioProgram } from '../../../src/sim/scenario.js';
import type { Message, NodeId, RandomStream } from '../../../src/sim/index.js';
import { CheckMonitor } from './check-monitor.js';
import { docsTable, epidemicTable, probesTable, roundsLine, storyTable, trafficTable, viewTable } from './gossip-view.js';
import type { MessageTypeDef, NodeView, PanelContents, PanelDef, ProtocolAdapter, ProtocolRun, RoleDef, SafetyMonitor, Scenario } from './types.js';

const ROLES: readonly RoleDef[] = [
  { id: 'self', label: 'the member whose view is shown (right-click a member to show its view)', color: '#2563eb' },
  { id: 'alive', label: 'alive in its view', color: '#4ade80' },
  { id: 'suspect', label: 'suspect in its view', color: '#f59e0b' },
  { id: 'dead', label: 'dead in its view', color: '#dc2626' },
  { id: 'left', label: 'left (gracefully) in its view', color: '#a78bfa' },
  { id: 'unknown', label: 'not in its member list (yet)', color: '#e2e8f0' },
];

const MARKS: readonly RoleDef[] = [
  { id: 'informed', label: 'has the latest update (the rumour followed)', color: '#7c3aed' },
  { id: 'differs', label: 'its document differs from the majority’s', color: '#db2777' },
];

const MESSAGE_TYPES: readonly MessageTypeDef[] = [
  { type: 'ping', label: 'probe: are you alive?', color: '#2563eb', response: false },
  { type: 'ack', label: 'probe answered (or passed on by a ping-req helper)', color: '#2563eb', response: true },
  { type: 'ping-req', label: 'indirect probe: please ping this member for me', color: '#ea580c', response: false },
  { type: 'nack', label: 'the helper could not reach it either (Lifeguard)', color: '#ea580c', response: true },
  { type: 'gossip', label: 'gossip round: membership news', color: '#16a34a', response: false },
  { type: 'sync', label: 'full state exchange (push-pull, join, reconnect)', color: '#0891b2', response: false },
  { type: 'sync-reply', label: 'full state exchange: the answer', color: '#0891b2', response: true },
  { type: 'crdt-delta', label: 'document change (delta rumour)', color: '#db2777', response: false },
  { type: 'crdt-sync', label: 'full document exchange', color: '#9d174d', response: false },
];

const PANELS: readonly PanelDef[] = [
  { id: 'gossip-epidemic', title: 'Epidemic: rounds against log N', place: 'main', hint: 'The latest metadata change (rumour): how many live members have it at the end of each gossip round since the change, against log₂ N and what push gossip with this fan-out predicts.' },
  { id: 'gossip-view', title: 'Member’s view', place: 'main', hint: 'The member list of the member shown (right-click a member, or pick it in the Node panel): each member’s state and incarnation as it holds them, its health multiplier (Lifeguard: it probes more slowly while unsure of itself) and its document.' },
  { id: 'gossip-docs', title: 'Documents', place: 'main', hint: 'Each live member’s CRDT document (counters, sets, multi-value registers, flags) and its version (changes seen); those that differ from the majority’s first.' },
  { id: 'gossip-probes', title: 'Probes', place: 'side', hint: 'The shown member’s probe under way, and the latest probes that went indirect: the direct ping got no ack in time, so the prober asked others to ping (ping-req); they answer with the ack or a nack.' },
  { id: 'gossip-traffic', title: 'Messages', place: 'side', hint: 'Messages by type: in flight now, sent and dropped so far (above 64 members the drawing counts them instead of drawing each).' },
  { id: 'gossip-story', title: 'What happened', place: 'lower', hint: 'Escalated probes, suspicions, deaths, refutations, the rumour reaching everyone, document changes.' },
];

function listed(s: GossipScenario): Scenario {
  return { id: s.name, title: s.title, summary: s.caption, nodes: s.nodes, seed: s.seed, steps: [], driven: true, endMs: s.endMs };
}

function monitorsFor(stage: GossipStage): SafetyMonitor[] {
  const seen = new Map<NodeId, number>();
  return [
    new CheckMonitor('gossip-incarnation', 'Incarnations never go back', 'A member’s own incarnation never decreases, not even across a restart (it is persisted before it is used): otherwise an old suspicion could hold against it.', () => {
      for (const id of stage.nodeIds) {
        const inc = stage.node(id)?.incarnation;
        if (inc === undefined) continue;
        const before = seen.get(id) ?? 0;
        if (inc < before) return `${id}'s incarnation went from ${before} back to ${inc}`;
        seen.set(id, inc);
      }
      return null;
    }),
  ];
}

/** The check above looks at every member: run it at most once per virtual millisecond. */
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

const updatesText = (updates: readonly MemberUpdate[]): string => (updates.length === 0 ? '' : ` + ${updates.length} update(s): ${updates.slice(0, 4).map((u) => `${u.node} ${u.state}@${u.incarnation}`).join(', ')}${updates.length > 4 ? ', …' : ''}`);

export function describeGossipMessage(msg: GossipNodeMessage): string {
  const m = msg as GossipMessage | CrdtGossipMessage;
  switch (m.type) {
    case 'ping':
      return `ping ${m.target} (seq ${m.seq})${updatesText(m.updates)}`;
    case 'ack':
      return `ack (seq ${m.seq})${updatesText(m.updates)}`;
    case 'ping-req':
      return `ping-req: ping ${m.target} for me (seq ${m.seq}${m.nack ? ', nack if silent' : ''})${updatesText(m.updates)}`;
    case 'nack':
      return `nack (seq ${m.seq}): no ack from the target${updatesText(m.updates)}`;
    case 'gossip':
      return `gossip${updatesText(m.updates)}`;
    case 'sync':
      return `${m.join ? 'join: ' : ''}full state, ${m.members.length} member(s)`;
    case 'sync-reply':
      return `full state reply, ${m.members.length} member(s)`;
    case 'crdt-delta':
      // a delta holds partial states: name the entries it touches
      return `document delta: ${m.doc.entries.map((e) => `${e[1]} (${e[0]})`).join(', ') || 'empty'}`;
    case 'crdt-sync':
      return `full document (${m.doc.entries.length} entr${m.doc.entries.length === 1 ? 'y' : 'ies'})${m.reply ? ', answer with yours' : ''}`;
  }
}

class GossipRun implements ProtocolRun {
  readonly sim: GossipStage['sim'];
  readonly monitors: readonly SafetyMonitor[];
  private readonly pick: RandomStream;
  private selected: NodeId | null = null;
  private narrative = '';
  private stepText = '';
  private finished: string | undefined;
  private readingsAt = '';
  private majority: ReturnType<GossipStage['majorityDocument']>;

  constructor(
    private readonly stage: GossipStage,
    private readonly scenario: GossipScenario | undefined,
  ) {
    this.sim = stage.sim;
    this.monitors = monitorsFor(stage).map((m) => throttled(m, () => stage.nowMs));
    this.pick = stage.sim.random.stream('visualizer-gossip');
  }

  nodeIds(): readonly NodeId[] {
    return this.stage.nodeIds;
  }

  leader(): NodeId | undefined {
    return undefined;
  }

  select(node: NodeId | null): void {
    this.selected = node;
  }

  /** The member whose view is shown: the one selected if it is up, else the scenario's, else the first up. */
  observer(): NodeId | undefined {
    const s = this.stage;
    const usable = (id: NodeId | null | undefined): id is NodeId => id != null && s.nodeIds.includes(id) && s.member(id) !== undefined;
    if (usable(this.selected)) return this.selected;
    if (usable(s.focus)) return s.focus;
    return s.nodeIds.find((id) => s.member(id) !== undefined);
  }

  /** The majority's document, computed once per moment (every node's description asks). */
  private majorityNow(): ReturnType<GossipStage['majorityDocument']> {
    const key = `${this.sim.nowMs}:${this.sim.stats.eventsProcessed}`;
    if (key !== this.readingsAt) {
      this.readingsAt = key;
      this.majority = this.stage.majorityDocument();
    }
    return this.majority;
  }

  describeNode(id: NodeId): NodeView {
    const s = this.stage;
    const observer = this.observer();
    const held = observer === undefined ? undefined : s.node(observer)?.member(id);
    const role = id === observer ? 'self' : (held?.state ?? 'unknown');
    const node = s.node(id);
    const member = s.member(id);
    const mark = s.markMode === 'rumour' ? (s.informed(id) ? 'informed' : null) : s.markMode === 'doc' && member !== undefined && !s.docAgrees(id, this.majorityNow()) ? 'differs' : null;
    const details: string[] = [];
    if (node === undefined || member === undefined) {
      details.push(held === undefined ? 'down' : `${observer ?? '?'}: ${held.state}@${held.incarnation}`);
      return { id, up: false, role, details, mark };
    }
    details.push(`inc ${node.incarnation}`);
    if (id !== observer && observer !== undefined) details.push(held === undefined ? `${observer} does not know it` : `${observer} holds ${held.state}@${held.incarnation}`);
    if (node.health > 0) details.push(`health ${node.health}`);
    details.push(`doc v${member.docVersion()}`);
    if (s.departed.has(id)) details.push('left the group');
    return { id, up: true, role, details, mark };
  }

  describePanels(): PanelContents {
    const s = this.stage;
    const observer = this.observer();
    return {
      'gossip-view': viewTable(s, observer),
      'gossip-epidemic': epidemicTable(s),
      'gossip-docs': docsTable(s, observer),
      'gossip-probes': probesTable(s, observer),
      'gossip-traffic': trafficTable(s.sim),
      'gossip-story': storyTable(s),
    };
  }

  describeMessage(msg: Message): string {
    return describeGossipMessage(msg as GossipNodeMessage);
  }

  /** meta (a metadata change: the rumour followed), incr (counter hits + 1), add (set tags ∪ {e<value>}). */
  clientOp(op: string, process: string, node: NodeId | null, value: number): void {
    const s = this.stage;
    const live = s.liveIds();
    const via = node !== null && s.nodeIds.includes(node) ? node : live.length > 0 ? this.pick.pick(live) : undefined;
    if (via === undefined) return s.note('visualizer: no member is up');
    if (op === 'meta') s.setMeta(process, via, `m${value}`);
    else if (op === 'incr') s.change(process, via, { kind: 'counter', name: 'hits', action: 'incr', amount: 1 });
    else if (op === 'add') s.change(process, via, { kind: 'set', name: 'tags', action: 'add', element: `e${value}` });
    else s.note(`visualizer: the gossip group has no client operation ${op}`);
  }

  protocolAction(name: string, node: NodeId | null): string {
    const s = this.stage;
    if (name === 'leave') {
      if (node === null || s.member(node) === undefined) return 'leave: the member is not up';
      s.leave(node);
      s.tracker.tell(node, 'leaves the group gracefully');
      return `${node} leaves`;
    }
    if (name === 'join') {
      const seeds = this.pick.shuffled(s.liveIds()).slice(0, GOSSIP_STAGE_SEEDS);
      if (seeds.length === 0) return 'join: no live member to join through';
      const id = `n${s.nodeIds.length + 1}`;
      s.addMember(id, seeds);
      s.tracker.tell(id, `joins through ${seeds.join(', ')}`);
      return `${id} joins through ${seeds.join(', ')}`;
    }
    return `the gossip group has no action ${name}`;
  }

  startScenario(): void {
    const scenario = this.scenario;
    if (scenario === undefined) return;
    const s = this.stage;
    s.note(`scenario ${scenario.name}: ${scenario.caption}`);
    driveScenarioProgram(s.sim, gossipScenarioProgram(s, scenario), {
      pollMs: GOSSIP_SCENARIO_POLL_MS,
      onStep: (where, text) => {
        const step = /^\d+$/.test(where) ? scenario.steps[Number(where) - 1] : undefined;
        if (step?.do === 'note') this.narrative = text;
        else this.stepText = `${where}: ${text}`;
      },
      onEnd: (failure) => {
        this.finished = failure === undefined ? `Scenario complete. ${outcomeLine(gossipOutcome(s))}` : `Expectation failed: ${failure}`;
        s.note(`scenario: ${this.finished}`);
      },
    });
  }

  scenarioCaption(): string | null {
    const scenario = this.scenario;
    if (scenario === undefined) return null;
    const lines = [scenario.caption];
    if (this.narrative !== '') lines.push(this.narrative);
    lines.push(this.finished ?? `Step ${this.stepText === '' ? '—' : this.stepText}`);
    const rounds = roundsLine(this.stage);
    if (rounds !== null) lines.push(rounds);
    return lines.join('\n');
  }
}

/** A finished scenario's outcome in one line. */
export function outcomeLine(o: GossipOutcome): string {
  const parts: string[] = [];
  if (o.rounds !== null) parts.push(`the update reached all ${o.members} members in ${o.rounds} rounds`);
  if (o.escalations > 0) parts.push(`${o.escalations} probe(s) went indirect`);
  if (o.suspicions > 0) parts.push(`${o.suspicions} suspicion(s) from failed probes`);
  if (o.refutations > 0) parts.push(`${o.refutations} refutation(s)`);
  if (o.deadDeclared > 0) parts.push(`${o.deadDeclared} death(s) declared`);
  if (o.changesOk > 0) parts.push(o.docsAgree ? (o.docProblems === 0 ? 'documents agree, every change accounted for' : `documents agree, but ${o.docProblems} problem(s)`) : 'documents differ');
  parts.push(o.settled ? 'the group agrees on its members' : 'the members’ views still differ');
  return `${parts.join('; ')}.`;
}

export const gossipAdapter: ProtocolAdapter = {
  id: 'swim',
  title: 'Gossip (SWIM + Lifeguard, CRDT documents)',
  blurb: 'A gossip group: each member probes one other member per round (ping, then ping-req through others), suspects the silent ones, refutes suspicions of itself with a higher incarnation, and spreads all it learns — and its CRDT document’s changes — infection-style. Colours: one member’s view of the group; the ring: who has the latest update.',
  nodes: { min: 3, max: 256, initial: 32, sizes: [5, 8, 12, 16, 32, 64, 128, 256] },
  initialSpeed: 120,
  initialSpanMs: 3000,
  hasLeader: false,
  roles: ROLES,
  marks: MARKS,
  messageTypes: MESSAGE_TYPES,
  panels: PANELS,
  clientOps: [
    { id: 'meta', label: 'Change metadata', title: 'The chosen member (or a random one) changes its metadata: news that spreads like an epidemic (the Epidemic panel follows it)', target: 'node' },
    { id: 'incr', label: 'Counter +1', title: 'The chosen member adds 1 to the document’s counter "hits"', target: 'node' },
    { id: 'add', label: 'Set add', title: 'The chosen member adds a new element to the document’s set "tags"', target: 'node' },
  ],
  nodeActions: [{ id: 'leave', label: 'Leave', title: 'The member leaves the group gracefully (others drop it without suspecting it)', target: 'node' }],
  clusterActions: [{ id: 'join', label: 'Join a member', title: 'A new member starts and joins through three random live members', target: 'none' }],
  checker: null,
  scenarios: GOSSIP_SCENARIOS.map(listed),
  build(ctx): ProtocolRun {
    const scenario = ctx.scenario === undefined ? undefined : GOSSIP_SCENARIOS.find((s) => s.name === ctx.scenario);
    const host: GossipStageHost = { wrapSpec: (spec) => ctx.wrap(spec), unwrapCore: (core) => ctx.unwrap(core) };
    const stage = scenario !== undefined ? gossipScenarioStage(scenario, ctx.seed, host) : new GossipStage({ seed: ctx.seed, nodes: ctx.nodes }, host);
    if (scenario === undefined) stage.focus = stage.nodeIds[0];
    return new GossipRun(stage, scenario);
  },
};
