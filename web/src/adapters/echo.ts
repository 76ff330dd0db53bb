// The echo adapter: the simulator's demonstration core (src/sim/echo.ts). A write goes to one
// node, which stores the value, broadcasts it and answers once a majority holds it; a read
// answers from the node's own copy. Reads are therefore not linearizable when a node lags (a
// partition, a lossy link), which the history panel shows with the checker's "grow-only set"
// model below. Its nodes have no term and no log: the ring shows the neutral node view, and the
// values each node holds are the adapter's own panel ("Values held").
import { CheckError, type Model } from '../../../src/check/index.js';
import { echoSpec, Simulation, type EchoCore, type EchoMessage, type EchoOp, type EchoRequest, type EchoResponse, type JsonValue, type NodeId, type Operation } from '../../../src/sim/index.js';
import type { LogCell, LogView, PanelDef, ProtocolAdapter, ProtocolRun, SafetyMonitor, Scenario } from './types.js';

type EchoSim = Simulation<EchoMessage, EchoRequest, EchoResponse, EchoOp>;

const CLIENT_TIMEOUT_MS = 1500;

// ---------------------------------------------------------------- checker model: a grow-only set

type SetCall = { readonly kind: 'add'; readonly value: number } | { readonly kind: 'read'; readonly values: string };

function setKey(values: readonly number[]): string {
  return JSON.stringify([...new Set(values)].sort((a, b) => a - b));
}

/** A set of numbers that only grows: `add` inserts, `read` returns the whole set. */
export const growSetModel: Model<string, SetCall> = {
  name: 'grow-only set',
  prepare(op: Operation) {
    if (op.outcome === 'fail') return null;
    if (op.f === 'add') {
      if (typeof op.input !== 'number') throw new CheckError('BAD_OP', `operation ${op.index}: add takes a number`);
      return { key: '', call: { kind: 'add', value: op.input } };
    }
    if (op.f === 'read') {
      if (op.outcome !== 'ok') return null;
      if (!Array.isArray(op.output) || !op.output.every((v) => typeof v === 'number')) throw new CheckError('BAD_OP', `operation ${op.index}: read returns a list of numbers`);
      return { key: '', call: { kind: 'read', values: setKey(op.output as number[]) } };
    }
    throw new CheckError('BAD_OP', `operation ${op.index}: the set has add and read, not ${op.f}`);
  },
  initial: () => '[]',
  step(state, call) {
    if (call.kind === 'read') return state === call.values ? state : undefined;
    const values = JSON.parse(state) as number[];
    return values.includes(call.value) ? state : setKey([...values, call.value]);
  },
  stateKey: (s) => s,
  stateToJson: (s) => JSON.parse(s) as JsonValue,
};

// ---------------------------------------------------------------- scenarios

const scenarios: Scenario[] = [
  {
    id: 'echo-crash',
    title: 'A node crashes and recovers',
    summary: 'Writes keep succeeding while one node of five is down; after its restart it still holds what it stored before.',
    nodes: 5,
    seed: 7,
    endMs: 4000,
    steps: [
      { atMs: 0, caption: 'Five nodes. A write goes to one node, which stores the value and broadcasts it to the others.' },
      { atMs: 300, action: { kind: 'client', op: 'write', node: '1' }, caption: 'A client writes through node 1: it answers once three of five nodes hold the value.' },
      { atMs: 1000, action: { kind: 'crash', node: '3' }, caption: 'Node 3 crashes. Its stored values stay on its disk.' },
      { atMs: 1300, action: { kind: 'client', op: 'write', node: '2' }, caption: 'A write through node 2 still reaches a majority (four nodes are up). Node 2 keeps resending to node 3.' },
      { atMs: 2400, action: { kind: 'restart', node: '3' }, caption: 'Node 3 restarts from its disk and receives the value it missed from the retransmissions.' },
      { atMs: 3200, action: { kind: 'client', op: 'read', node: '3' }, caption: 'A read at node 3 sees both values.' },
    ],
  },
  {
    id: 'echo-stale-read',
    title: 'A partition makes reads stale',
    summary: 'Reads answer from a node’s own copy, so a node cut off from the writer returns an old set: the checker finds the history not linearizable.',
    nodes: 5,
    seed: 11,
    endMs: 3500,
    steps: [
      { atMs: 0, caption: 'Reads in this protocol answer from the local copy, without asking anyone else.' },
      { atMs: 200, action: { kind: 'partition', groups: [['1', '2'], ['3', '4', '5']] }, caption: 'The network splits into {1,2} and {3,4,5}.' },
      { atMs: 500, action: { kind: 'client', op: 'write', node: '4' }, caption: 'A write through node 4 succeeds: 3, 4 and 5 are a majority.' },
      { atMs: 1400, action: { kind: 'client', op: 'read', node: '1' }, caption: 'A later read at node 1 does not see it: no order of the operations explains that, so the history is not linearizable.' },
      { atMs: 2200, action: { kind: 'heal' }, caption: 'The partition heals; retransmissions bring nodes 1 and 2 up to date.' },
      { atMs: 3000, action: { kind: 'client', op: 'read', node: '1' }, caption: 'Node 1 now returns the value too, but the earlier stale read stays in the history.' },
    ],
  },
  {
    id: 'echo-lossy',
    title: 'A lossy link',
    summary: 'Half of the messages from node 1 are lost; retransmission on every tick gets the value through.',
    nodes: 3,
    seed: 5,
    endMs: 3000,
    steps: [
      { atMs: 0, action: { kind: 'link', from: '1', to: '*', loss: 0.5, delayMs: 0, both: false }, caption: 'Every link out of node 1 now loses half of its messages.' },
      { atMs: 300, action: { kind: 'client', op: 'write', node: '1' }, caption: 'A write through node 1: some broadcasts are lost (red crosses) and node 1 resends them on its next tick.' },
      { atMs: 1500, action: { kind: 'client', op: 'write', node: '1' }, caption: 'Another write: acknowledgements flow back normally, only node 1’s own messages are lossy.' },
    ],
  },
];

// ---------------------------------------------------------------- monitors

class AckedOnMajority implements SafetyMonitor {
  readonly id = 'acked-majority';
  readonly title = 'Acknowledged writes are on a majority';
  readonly description = 'Every value a client was told is stored is durably held by a majority of nodes (up nodes in memory, down nodes on disk).';
  readonly pending: string[] = [];
  afterStep(): string | null {
    return this.pending.shift() ?? null;
  }
}

class NoInventedValues implements SafetyMonitor {
  readonly id = 'no-invention';
  readonly title = 'Only written values are stored';
  readonly description = 'A node only ever holds values some client asked to write.';
  constructor(
    private readonly sim: EchoSim,
    private readonly unwrap: (id: NodeId) => EchoCore | undefined,
    private readonly written: Set<number>,
  ) {}
  private lastCounts = new Map<NodeId, number>();
  afterStep(node: NodeId): string | null {
    const count = Number(this.sim.annotations(node).get('delivered') ?? 0);
    if (this.lastCounts.get(node) === count) return null;
    this.lastCounts.set(node, count);
    const core = this.unwrap(node);
    if (core === undefined) return null;
    const bad = core.deliveredValues().find((v) => !this.written.has(v));
    return bad === undefined ? null : `node ${node} holds ${bad}, which no client wrote`;
  }
}

// ---------------------------------------------------------------- the adapter

const VALUES_PANEL: PanelDef = {
  id: 'values',
  title: 'Values held',
  place: 'main',
  hint: 'Values a node holds, in the order it stored them, coloured by the node the value was written through.',
};

/** A node's values as a row of cells (the newest `window`), coloured by the node each was written through. */
function valuesRow(values: readonly number[], origin: ReadonlyMap<number, NodeId>, window: number): LogView {
  const first = Math.max(0, values.length - window);
  const cells: LogCell[] = values.slice(first).map((v, k) => {
    const from = origin.get(v) ?? '?';
    return { index: first + k + 1, term: Number(from) || 0, label: String(v), title: `value ${v}, written through node ${from}`, special: false };
  });
  return { cells, lastIndex: values.length, commit: null, applied: null, snapshotIndex: 0 };
}

export const echoAdapter: ProtocolAdapter = {
  id: 'echo',
  title: 'Echo broadcast (demo core)',
  blurb: 'A write is stored by the node that receives it, broadcast, and acknowledged once a majority holds it; reads answer from one node’s copy.',
  nodes: { min: 3, max: 9, initial: 5 },
  initialSpeed: 250,
  initialSpanMs: 3000,
  roles: [{ id: 'node', label: 'up', color: '#3b82f6' }],
  messageTypes: [
    { type: 'bcast', label: 'broadcast a value', color: '#8b5cf6', response: false },
    { type: 'ack', label: 'acknowledge', color: '#10b981', response: true },
  ],
  hasLeader: false,
  panels: [VALUES_PANEL],
  clientOps: [
    { id: 'write', label: 'Write', title: 'Broadcast a new value through a node (the chosen one, or a random one)', target: 'none' },
    { id: 'read', label: 'Read', title: 'Read the set of values one node holds', target: 'none' },
  ],
  nodeActions: [],
  clusterActions: [],
  checker: { model: growSetModel as Model<unknown, unknown>, describe: 'grow-only set' },
  scenarios,
  build(ctx): ProtocolRun {
    const sim: EchoSim = new Simulation({
      seed: ctx.seed,
      protocol: ctx.wrap(echoSpec(150)),
      nodes: ctx.nodes,
      link: { latency: { kind: 'uniform', minMs: 25, maxMs: 70 } },
      fsyncMs: 2,
      clientLatencyMs: 2,
      trace: false,
    });
    const inner = (id: NodeId): EchoCore | undefined => ctx.unwrap(sim.core(id)) as EchoCore | undefined;
    const origin = new Map<number, NodeId>();
    const written = new Set<number>();
    const acked = new AckedOnMajority();
    const pick = sim.random.stream('visualizer-clients');
    const holders = (value: number): number => {
      let n = 0;
      for (const id of sim.nodeIds) {
        const core = inner(id);
        const values = core !== undefined ? core.deliveredValues() : sim.disk(id).read('core').filter((r) => !r.torn).map((r) => (r.value.kind === 'delivered' ? r.value.value : NaN));
        if (values.includes(value)) n++;
      }
      return n;
    };
    return {
      sim,
      nodeIds: () => sim.nodeIds,
      leader: () => undefined,
      describeNode(id) {
        const up = sim.isUp(id);
        const held = inner(id)?.deliveredValues().length ?? 0;
        return { id, up, role: up ? 'node' : 'down', details: up ? [`holds ${held}`] : [] };
      },
      describePanels(logWindow) {
        const rows = sim.nodeIds.map((id) => ({ node: id, up: sim.isUp(id), log: valuesRow(inner(id)?.deliveredValues() ?? [], origin, logWindow) }));
        return { [VALUES_PANEL.id]: { kind: 'sequences', rowTestId: 'log', rows } };
      },
      describeMessage(msg) {
        const m = msg as EchoMessage;
        return m.type === 'bcast' ? `bcast ${m.id} = ${m.value}` : `ack ${m.id}`;
      },
      clientOp(op, process, node, value) {
        const target = node ?? pick.pick(sim.nodeIds);
        if (op === 'write') {
          origin.set(value, target);
          written.add(value);
          const index = sim.invoke(process, 'add', value);
          sim.request(target, { type: 'broadcast', value }, { timeoutMs: CLIENT_TIMEOUT_MS, process }, (res) => {
            if (res === undefined) sim.complete(index, 'unknown', null);
            else if (res.ok) {
              sim.complete(index, 'ok', res.id ?? null);
              const n = holders(value);
              const majority = Math.floor(sim.nodeIds.length / 2) + 1;
              if (n < majority) acked.pending.push(`value ${value} was acknowledged but only ${n} node(s) hold it`);
            } else sim.complete(index, 'fail', res.error);
          });
        } else {
          const index = sim.invoke(process, 'read', null);
          sim.request(target, { type: 'read' }, { timeoutMs: CLIENT_TIMEOUT_MS, process }, (res) => {
            if (res === undefined) sim.complete(index, 'unknown', null);
            else if (res.ok) sim.complete(index, 'ok', [...(res.values ?? [])].sort((a, b) => a - b));
            else sim.complete(index, 'fail', res.error);
          });
        }
      },
      protocolAction(name) {
        return `echo has no action "${name}"`;
      },
      monitors: [acked, new NoInventedValues(sim, inner, written)],
    };
  },
};
