// The quorum store adapter: src/quorum's leaderless store on a QuorumStage built from the engine's
// wrapped spec; nodes coloured by their place for the selected key, its messages and panels, and
// the guided scenarios the store's tests play (src/quorum/scenarios), driven by the same interpreter.
import type { QuorumMessage } from '../../../src/quorum/messages.js';
import type { Level } from '../../../src/quorum/requests.js';
import { liveValues, QUORUM_SCENARIO_CONFIG, QUORUM_SCENARIO_LINK, QUORUM_SCENARIO_POLL_MS, QUORUM_SCENARIOS, quorumOutcome, quorumScenarioProgram, quorumScenarioStage, QuorumStage, responseLabel, STAGE_BUCKET, versionsLabel, type QuorumScenario, type QuorumStageHost } from '../../../src/quorum/scenarios/index.js';
import { driveScenarioProgram } from '../../../src/sim/scenario.js';
import type { Message, NodeId, RandomStream } from '../../../src/sim/index.js';
import { copiesTable, hintsTable, historyTable, lastRequest, outcomeLine, placeOf, QuorumReadings, requestTable, ringTable, shortKey, storyTable, verdictTable } from './quorum-view.js';
import type { MessageTypeDef, NodeView, PanelContents, PanelDef, PanelField, ProtocolAdapter, ProtocolRun, RoleDef, SafetyMonitor, Scenario } from './types.js';
import { CheckMonitor } from './check-monitor.js';

const ROLES: readonly RoleDef[] = [
  { id: 'home', label: 'home replica of the selected key', color: '#2563eb' },
  { id: 'standin', label: 'stand-in for the selected key (next in its preference list)', color: '#93c5fd' },
  { id: 'hint', label: 'stand-in holding a hint (a write kept for a home replica that was down)', color: '#f59e0b' },
  { id: 'other', label: 'not in the selected key’s preference list', color: '#94a3b8' },
];

const MESSAGE_TYPES: readonly MessageTypeDef[] = [
  { type: 'store', label: 'coordinator → replica: store this version (or keep it as a hint)', color: '#2563eb', response: false },
  { type: 'stored', label: 'replica → coordinator: stored (counts toward W)', color: '#2563eb', response: true },
  { type: 'fetch', label: 'coordinator → replica: your copy, please', color: '#059669', response: false },
  { type: 'fetched', label: 'replica → coordinator: its copy (counts toward R)', color: '#059669', response: true },
  { type: 'forward', label: 'a write passed to a home replica', color: '#7c3aed', response: false },
  { type: 'forwarded', label: 'its answer, passed back', color: '#7c3aed', response: true },
  { type: 'hint', label: 'hinted handoff: a parked write delivered', color: '#f59e0b', response: false },
  { type: 'hint-ack', label: 'hint taken (the holder drops it)', color: '#f59e0b', response: true },
  { type: 'repair', label: 'read repair or anti-entropy push: merge these states', color: '#dc2626', response: false },
  { type: 'ae', label: 'anti-entropy: a Merkle-tree exchange', color: '#a16207', response: false },
  { type: 'tomb-check', label: 'tombstone collection: do you hold it too?', color: '#475569', response: false },
  { type: 'tomb-same', label: 'tombstone collection: answer', color: '#475569', response: true },
  { type: 'ping', label: 'failure detection', color: '#cbd5e1', response: false },
  { type: 'pong', label: 'failure detection: answer', color: '#cbd5e1', response: true },
];

/** Keys a user may pick: short, and safe in a link. */
const KEY_PATTERN = /^[A-Za-z0-9_.-]{1,40}$/;
const LEVEL_PATTERN = /^(one|quorum|all|any|[1-9][0-9]?)$/;

const REQUEST_FIELDS: readonly PanelField[] = [
  { kind: 'text', id: 'key', label: 'key', initial: 'x', size: 6, title: 'a key of the demo bucket (letters, digits, _ . -)' },
  { kind: 'text', id: 'level', label: 'W or R', initial: '', size: 6, title: 'replicas to wait for: a number, one, quorum, all, or any (writes); empty: the store’s default (2)' },
  { kind: 'node', id: 'via', label: 'via', any: true, title: 'the node the client sends the request to (any: a random one)' },
];

type Built = { readonly op: string; readonly node: NodeId | null; readonly arg?: string } | { readonly problem: string };

/** A request button: the key, the level and the node from the fields, as a client action's argument. */
function requestButton(id: string, label: string, title: string, op: string): { readonly kind: 'button'; readonly id: string; readonly label: string; readonly title: string; build(values: ReadonlyMap<string, string>): Built } {
  return {
    kind: 'button',
    id,
    label,
    title,
    build(values) {
      const key = (values.get('key') ?? '').trim();
      const level = (values.get('level') ?? '').trim();
      if (!KEY_PATTERN.test(key)) return { problem: 'a key is 1 to 40 letters, digits, _ . or -' };
      if (level !== '' && !LEVEL_PATTERN.test(level)) return { problem: 'W or R is a number, one, quorum, all or any' };
      if (op === 'get' && level === 'any') return { problem: 'R cannot be any' };
      const via = values.get('via') ?? '';
      return { op, node: via === '' ? null : via, arg: JSON.stringify(level === '' ? { key } : { key, level }) };
    },
  };
}

const PANELS: readonly PanelDef[] = [
  {
    id: 'quorum-request',
    title: 'Last request',
    place: 'main',
    hint: 'The newest request’s fan-out: whom the coordinator asked, who answered in time to count toward W (writes) or R (reads), who answered late, and whom a read repaired.',
    controls: [
      REQUEST_FIELDS,
      [
        { kind: 'button', id: 'select', label: 'Select key', title: 'Follow this key: its preference list, its copies and the node colours', build: (values) => (KEY_PATTERN.test((values.get('key') ?? '').trim()) ? { op: 'select', node: null, arg: (values.get('key') ?? '').trim() } : { problem: 'a key is 1 to 40 letters, digits, _ . or -' }) },
        requestButton('put', 'Write', 'Write the key with the context this client last saw (read-modify-write)', 'put'),
        requestButton('blind', 'Blind write', 'Write the key without a context: concurrent with everything, it makes a sibling', 'blind'),
        requestButton('get', 'Read', 'Read the key: its siblings and a context', 'get'),
      ],
    ],
  },
  { id: 'quorum-copies', title: 'Copies of the selected key', place: 'main', hint: 'The selected key on each node of its preference list: its siblings (value@dot: the dot names the write), its version vector, and any hint kept for it.' },
  { id: 'quorum-story', title: 'What happened', place: 'main', hint: 'Each request, acknowledgement, answer, repair, hint and fault, as it happened.' },
  { id: 'quorum-ring', title: 'Ring', place: 'side', hint: 'Q equal partitions dealt over the nodes (Dynamo’s strategy 3): the ones each node owns, how many it is a home replica of, and its place for the selected key.' },
  { id: 'quorum-hints', title: 'Hints parked', place: 'side', hint: 'Writes kept for a home replica that was down or did not answer: by whom, for whom, until delivered.' },
  { id: 'quorum-history', title: 'Reads and writes', place: 'lower', hint: 'Every answered request, newest last; each read judged stale or fresh against the acknowledged writes that ended before it began.' },
  { id: 'quorum-verdicts', title: 'Verdicts', place: 'lower', hint: 'The dkv checkers (durability, convergence, unique dots) over the copies now, and the stale reads so far.' },
];

/** Free play: the scenarios' timings, with sloppy quorum and anti-entropy on, so failures show every safety net. */
const PLAY_CONFIG = { ...QUORUM_SCENARIO_CONFIG, sloppyQuorum: true, antiEntropyIntervalMs: 1000 };

function listed(s: QuorumScenario): Scenario {
  return { id: s.name, title: s.title, summary: s.caption, nodes: s.nodes, seed: s.seed, steps: [], driven: true, endMs: s.endMs };
}

function monitorsFor(stage: QuorumStage): SafetyMonitor[] {
  return [
    new CheckMonitor('quorum-acked-w', 'Acknowledged writes held by W nodes', 'When a write is acknowledged, at least W nodes hold it (as a copy or a hint).', () => stage.underReplicated[0] ?? null),
    // the tracker checks each state as it is persisted: no scan of every copy after every step
    new CheckMonitor('quorum-unique-dots', 'Unique dots', 'No dot names two different versions on any node, ever (a node reusing its counter after a restart would cause it).', () => stage.tracker.dotConflicts[0] ?? null),
  ];
}

class QuorumRun implements ProtocolRun {
  readonly sim: QuorumStage['sim'];
  readonly monitors: readonly SafetyMonitor[];
  private readonly pick: RandomStream;
  private readonly readings: QuorumReadings;
  private narrative = '';
  private stepText = '';
  private finished: string | undefined;

  constructor(
    private readonly stage: QuorumStage,
    private readonly scenario: QuorumScenario | undefined,
  ) {
    this.sim = stage.sim;
    this.monitors = monitorsFor(stage);
    this.pick = stage.sim.random.stream('visualizer-quorum');
    this.readings = new QuorumReadings(stage);
  }

  nodeIds(): readonly NodeId[] {
    return this.stage.nodeIds;
  }

  leader(): NodeId | undefined {
    return undefined;
  }

  describeNode(id: NodeId): NodeView {
    const s = this.stage;
    const key = s.focusKey;
    const place = placeOf(s, key, id);
    const node = s.node(id);
    if (node === undefined) return { id, up: false, role: 'down', details: [place?.short ?? '·'] };
    const hints = node.hints();
    const role = place?.home === true ? 'home' : hints.length > 0 ? 'hint' : place !== null ? 'standin' : 'other';
    const values = liveValues(node.stateOf(key));
    const details = [place?.short ?? '·', `${shortKey(key)}: ${values.length === 0 ? '—' : values.join('|')}`];
    if (hints.length > 0) details.push(`hint → ${[...new Set(hints.map((h) => h.target))].join(',')}`);
    const rec = lastRequest(s);
    if (rec !== undefined && rec.decidedMs === null && rec.coordinator === id) details.push('coordinating');
    return { id, up: true, role, details };
  }

  describePanels(): PanelContents {
    const s = this.stage;
    return {
      'quorum-request': requestTable(s),
      'quorum-copies': copiesTable(s),
      'quorum-story': storyTable(s),
      'quorum-ring': ringTable(s),
      'quorum-hints': hintsTable(s),
      'quorum-history': historyTable(this.readings),
      'quorum-verdicts': verdictTable(this.readings),
    };
  }

  describeMessage(msg: Message): string {
    const m = msg as QuorumMessage;
    switch (m.type) {
      case 'store':
        return `store ${m.key} = ${versionsLabel(m.state)}${m.hintFor === undefined ? '' : ` (keep as a hint for ${m.hintFor})`}`;
      case 'stored':
        return `stored (request ${m.rid})`;
      case 'fetch':
        return `fetch ${m.key}`;
      case 'fetched':
        return `fetched: ${m.state === null ? 'no copy' : versionsLabel(m.state)}`;
      case 'forward':
        return `forward ${m.request.op}${'key' in m.request ? ` ${m.request.key}` : ''}`;
      case 'forwarded':
        return `forwarded answer: ${responseLabel(m.response)}`;
      case 'hint':
        return `hint ${m.id}: ${m.key} = ${versionsLabel(m.state)}`;
      case 'hint-ack':
        return `hint-ack ${m.id}`;
      case 'repair':
        return `repair ${m.states.map(([k, st]) => `${k} = ${versionsLabel(st)}`).join('; ')}`;
      case 'ae':
        return `anti-entropy, partition ${m.partition}: ${JSON.stringify(m.body).slice(0, 80)}`;
      case 'tomb-check':
        return `tomb-check ${m.key}`;
      case 'tomb-same':
        return `tomb-same ${m.key}: ${m.same ? 'same' : 'not same'}`;
      default:
        return m.type;
    }
  }

  /** put (with the client's last context), blind, get, on the selected key or the one in `arg`; select follows a key. */
  clientOp(op: string, process: string, node: NodeId | null, value: number, arg?: string): void {
    const s = this.stage;
    const parsed = parseArg(arg);
    if (op === 'select') {
      if (arg === undefined || !KEY_PATTERN.test(arg)) return s.note(`visualizer: no key to select in ${JSON.stringify(arg)}`);
      s.focusKey = `${STAGE_BUCKET}/${arg}`;
      s.tracker.tell('page', `selects key ${arg}`);
      return;
    }
    const key = parsed.key ?? shortKey(s.focusKey);
    const via = node !== null && s.nodeIds.includes(node) ? node : this.pick.pick(s.nodeIds);
    const level: Level | undefined = parsed.level === undefined ? undefined : /^\d+$/.test(parsed.level) ? Number(parsed.level) : (parsed.level as Level);
    if (op === 'get') s.get(process, via, key, level === undefined ? {} : { r: level });
    else s.put(process, via, key, `v${value}`, { context: op === 'blind' ? 'blind' : 'last', ...(level === undefined ? {} : { w: level }) });
  }

  protocolAction(name: string): string {
    return `the quorum store has no action ${name}`;
  }

  startScenario(): void {
    const scenario = this.scenario;
    if (scenario === undefined) return;
    const s = this.stage;
    s.note(`scenario ${scenario.name}: ${scenario.caption}`);
    driveScenarioProgram(s.sim, quorumScenarioProgram(s, scenario).program, {
      pollMs: QUORUM_SCENARIO_POLL_MS,
      onStep: (where, text) => {
        const step = /^\d+$/.test(where) ? scenario.steps[Number(where) - 1] : undefined;
        if (step?.do === 'note') this.narrative = text;
        else this.stepText = `${where}: ${text}`;
      },
      onEnd: (failure) => {
        this.finished = failure === undefined ? `Scenario complete. ${outcomeLine(quorumOutcome(s))}` : `Expectation failed: ${failure}`;
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
    const last = this.stage.tracker.story[this.stage.tracker.story.length - 1];
    if (last !== undefined) lines.push(`${last.atMs} ms · ${last.who} ${last.text}`);
    return lines.join('\n');
  }
}

function parseArg(arg: string | undefined): { readonly key?: string; readonly level?: string } {
  if (arg === undefined || arg === '') return {};
  try {
    const v = JSON.parse(arg) as unknown;
    if (typeof v !== 'object' || v === null) return {};
    const r = v as Record<string, unknown>;
    const key = typeof r['key'] === 'string' && KEY_PATTERN.test(r['key']) ? r['key'] : undefined;
    const level = typeof r['level'] === 'string' && LEVEL_PATTERN.test(r['level']) ? r['level'] : undefined;
    return { ...(key === undefined ? {} : { key }), ...(level === undefined ? {} : { level }) };
  } catch {
    return {};
  }
}

export const quorumAdapter: ProtocolAdapter = {
  id: 'quorum',
  title: 'Quorum store (Dynamo-style)',
  blurb: 'A leaderless key-value store: each key lives on N = 3 home replicas placed by a ring of equal partitions; any node coordinates; a write waits for W acknowledgements and a read for R answers; hints, read repair and anti-entropy bring lagging replicas back.',
  nodes: { min: 3, max: 8, initial: 5 },
  initialSpeed: 60,
  initialSpanMs: 2000,
  hasLeader: false,
  roles: ROLES,
  messageTypes: MESSAGE_TYPES,
  panels: PANELS,
  clientOps: [
    { id: 'put', label: 'Write', title: 'A client writes the selected key with the context it last saw (the chosen node or a random one coordinates or forwards)', target: 'node' },
    { id: 'blind', label: 'Blind write', title: 'A client writes the selected key without a context: it becomes a sibling of what is there', target: 'node' },
    { id: 'get', label: 'Read', title: 'A client reads the selected key through the chosen node (or a random one)', target: 'node' },
  ],
  nodeActions: [],
  clusterActions: [],
  checker: null,
  scenarios: QUORUM_SCENARIOS.map(listed),
  build(ctx): ProtocolRun {
    const scenario = ctx.scenario === undefined ? undefined : QUORUM_SCENARIOS.find((s) => s.name === ctx.scenario);
    const host: QuorumStageHost = { wrapSpec: (spec) => ctx.wrap(spec), unwrapCore: (core) => ctx.unwrap(core) };
    const stage = scenario !== undefined ? quorumScenarioStage(scenario, ctx.seed, host, false) : new QuorumStage({ seed: ctx.seed, nodes: ctx.nodes, config: PLAY_CONFIG, link: QUORUM_SCENARIO_LINK, trace: false }, host);
    return new QuorumRun(stage, scenario);
  },
};
