// The Raft adapter: the project's Raft core with the KV state machine (src/raft, src/kv), run
// with timings slowed to a watchable pace. Nodes show role, term, vote, election timer and log;
// a "Configuration" panel shows the membership each node believes in; clients write and read
// one key through the project's retrying KvClient; the history is checked with the checker's kv
// model; the project's RaftMonitor and a per-step log-matching check watch safety; the project's
// scenario scripts are the guided stories.
import { kvModel, type Model } from '../../../src/check/index.js';
import { describeEntry, sameEntry, type LogEntry, type MonitorViolation, type RaftCore, type RaftMessage, type ViolationKind } from '../../../src/raft/index.js';
import type { NodeId } from '../../../src/sim/index.js';
import { VizRaftCluster } from './raft-cluster.js';
import { KV_PANELS, KvPanels } from './raft-kv.js';
import { raftScenario, RAFT_SCENARIOS, ScenarioDriver } from './raft-scenarios.js';
import type { LogCell, NodeView, PanelDef, ProtocolAdapter, ProtocolRun, SafetyMonitor, TableContent, TableRow } from './types.js';

/** Slower than the library defaults (15 ms ticks, heartbeat every tick, 1-5 ms links) so it can be watched. */
const VIZ_RAFT = { tickMs: 15, heartbeatTicks: 4, electionTimeoutMinTicks: 10, electionTimeoutMaxTicks: 20, snapshotThresholdEntries: 200 } as const;
const VIZ_LINK = { latency: { kind: 'uniform', minMs: 10, maxMs: 30 } } as const;
const MAX_NODES = 9;

/** Raft's violations, handed out one per step to the visualizer's monitor of that kind. */
class RaftViolations {
  private seen = 0;
  private readonly queues = new Map<ViolationKind, string[]>();
  constructor(private readonly source: () => readonly MonitorViolation[]) {}
  take(kinds: readonly ViolationKind[]): string | null {
    const all = this.source();
    for (; this.seen < all.length; this.seen++) {
      const v = all[this.seen] as MonitorViolation;
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

/**
 * Log matching, checked whenever a node's log changes: against every other up node, find the
 * highest index where both logs hold the same term; everything up to it must be identical.
 */
class LogMatching implements SafetyMonitor {
  readonly id = 'log-matching';
  readonly title = 'Log matching';
  readonly description = 'If two logs hold an entry with the same index and term, they are identical up to that index. Checked after every step that changes a log.';
  private readonly shape = new Map<NodeId, string>();
  constructor(private readonly c: VizRaftCluster) {}
  afterStep(node: NodeId): string | null {
    const x = this.c.core(node);
    if (x === undefined) return null;
    const s = x.status();
    const key = `${s.snapshotIndex}:${s.lastIndex}:${x.termAt(s.lastIndex) ?? ''}`;
    if (this.shape.get(node) === key) return null;
    this.shape.set(node, key);
    for (const other of this.c.nodeIds) {
      if (other === node) continue;
      const y = this.c.core(other);
      if (y === undefined) continue;
      const problem = compareLogs(x, y);
      if (problem !== null) return `nodes ${node} and ${other}: ${problem}`;
    }
    return null;
  }
}

function compareLogs(x: RaftCore, y: RaftCore): string | null {
  const sx = x.status();
  const sy = y.status();
  const from = Math.max(sx.snapshotIndex, sy.snapshotIndex) + 1;
  let agree = Math.min(sx.lastIndex, sy.lastIndex);
  while (agree >= from && x.termAt(agree) !== y.termAt(agree)) agree--;
  for (let i = agree; i >= from; i--) {
    const ex = x.entryAt(i) as LogEntry;
    const ey = y.entryAt(i) as LogEntry;
    if (!sameEntry(ex, ey)) return `both hold term ${String(x.termAt(agree))} at index ${agree} but differ at ${i}: ${describeEntry(ex)} vs ${describeEntry(ey)}`;
  }
  return null;
}

function monitorsFor(c: VizRaftCluster): SafetyMonitor[] {
  const violations = new RaftViolations(() => c.monitor.violations);
  const fromRaft = (id: string, title: string, description: string, kinds: readonly ViolationKind[]): SafetyMonitor => ({ id, title, description, afterStep: () => violations.take(kinds) });
  return [
    fromRaft('election-safety', 'One leader per term', 'At most one node becomes leader in any term (the project’s RaftMonitor, on every election).', ['election-safety']),
    new LogMatching(c),
    fromRaft('state-machine-safety', 'State-machine safety', 'No two nodes apply different entries at the same index (RaftMonitor, on every applied entry).', ['state-machine-safety']),
    fromRaft('leader-completeness', 'Leader completeness', 'A new leader holds every entry committed in earlier terms (RaftMonitor, on every election).', ['leader-completeness']),
    fromRaft('acknowledged-writes', 'Acknowledged writes are applied', 'A write a client was told succeeded is the entry applied at its index (RaftMonitor).', ['lost-write', 'invariant']),
  ];
}

function describeMessage(m: RaftMessage): string {
  switch (m.type) {
    case 'preVote':
    case 'vote':
      return `${m.type} for term ${m.term}, last entry ${m.lastIndex}/t${m.lastTerm}${m.type === 'vote' && m.transfer ? ' (transfer)' : ''}`;
    case 'preVoteResp':
    case 'voteResp':
      return `${m.type} term ${m.term}: ${m.granted ? 'granted' : 'refused'}`;
    case 'append':
      return `append term ${m.term}, after ${m.prevIndex}/t${m.prevTerm}, ${m.entries.length} entr${m.entries.length === 1 ? 'y' : 'ies'}${m.entries.length > 0 ? ` (${m.entries[0]?.index}..${m.entries[m.entries.length - 1]?.index})` : ''}, commit ${m.commit}`;
    case 'appendResp':
      return m.success ? `appendResp term ${m.term}: ok, match ${m.matchIndex}` : `appendResp term ${m.term}: rejected at ${m.rejectedIndex} (hint ${m.conflictIndex}${m.conflictTerm === null ? '' : `/t${m.conflictTerm}`})`;
    case 'heartbeat':
      return `heartbeat term ${m.term}, commit ${m.commit}`;
    case 'heartbeatResp':
      return `heartbeatResp term ${m.term}`;
    case 'snapshot':
      return `snapshot term ${m.term} up to ${m.meta.index}, chunk at ${m.offset}${m.done ? ' (last)' : ''}`;
    case 'snapshotResp':
      return `snapshotResp term ${m.term}: ${m.done ? `installed, match ${m.matchIndex}` : `next offset ${m.nextOffset}`}`;
    case 'timeoutNow':
      return `timeoutNow term ${m.term}: campaign now`;
    case 'syncProbe':
      return `syncProbe term ${m.term}, round ${m.round} (to itself)`;
    default:
      return (m as { type: string }).type;
  }
}

function entryLabel(e: LogEntry): string {
  return e.kind === 'noop' ? '·' : e.kind === 'config' ? 'c' : String(e.term);
}

function cells(entries: readonly LogEntry[], window: number): LogCell[] {
  return entries.slice(Math.max(0, entries.length - window)).map((e) => ({
    index: e.index,
    term: e.term,
    label: entryLabel(e),
    title: `${describeEntry(e)} (term ${e.term})`,
    special: e.kind !== 'command',
  }));
}

const MEMBERSHIP_PANEL: PanelDef = {
  id: 'membership',
  title: 'Configuration',
  place: 'lower',
  hint: 'The membership each node believes in (a row per node): V voter, L learner, · not a member; the entry that set it, pending until committed there.',
};

/** The membership matrix: what each up node counts as voters and learners. */
function membershipTable(c: VizRaftCluster): TableContent {
  const ids = c.nodeIds;
  const rows = ids.map((id): TableRow => {
    const core = c.core(id);
    if (core === undefined) return { key: id, tone: 'dim', cells: [`node ${id}`, ...ids.map(() => '—'), 'down'] };
    const s = core.status();
    const cells = ids.map((m) => {
      if (s.voters.includes(m)) return { text: 'V', tone: 'good' as const, title: `node ${id} counts ${m} as a voter` };
      if (s.learners.includes(m)) return { text: 'L', tone: 'warn' as const, title: `node ${id} counts ${m} as a learner` };
      return { text: '·', tone: 'dim' as const, title: `${m} is not a member for node ${id}` };
    });
    return { key: id, cells: [`node ${id}`, ...cells, `#${s.configIndex}${s.commit >= s.configIndex ? '' : ' (pending)'}`] };
  });
  return { kind: 'table', columns: ['seen by', ...ids, 'set at'], rows };
}

export const raftAdapter: ProtocolAdapter = {
  id: 'raft',
  title: 'Raft + KV',
  blurb: 'The project’s Raft core replicating a key-value store. Heartbeats every 60 ms, election timeouts of 150–300 ms, links of 10–30 ms.',
  nodes: { min: 3, max: MAX_NODES, initial: 5 },
  initialSpeed: 80,
  initialSpanMs: 3000,
  roles: [
    { id: 'follower', label: 'follower', color: '#bfdbfe' },
    { id: 'precandidate', label: 'pre-candidate', color: '#fef08a' },
    { id: 'candidate', label: 'candidate', color: '#fdba74' },
    { id: 'leader', label: 'leader', color: '#86efac' },
    { id: 'learner', label: 'learner', color: '#e9d5ff' },
  ],
  messageTypes: [
    { type: 'preVote', label: 'pre-vote request', color: '#eab308', response: false },
    { type: 'preVoteResp', label: 'pre-vote answer', color: '#eab308', response: true },
    { type: 'vote', label: 'vote request', color: '#f97316', response: false },
    { type: 'voteResp', label: 'vote answer', color: '#f97316', response: true },
    { type: 'append', label: 'append entries', color: '#2563eb', response: false },
    { type: 'appendResp', label: 'append answer', color: '#2563eb', response: true },
    { type: 'heartbeat', label: 'heartbeat', color: '#64748b', response: false },
    { type: 'heartbeatResp', label: 'heartbeat answer', color: '#64748b', response: true },
    { type: 'snapshot', label: 'snapshot chunk', color: '#a16207', response: false },
    { type: 'snapshotResp', label: 'snapshot answer', color: '#a16207', response: true },
    { type: 'timeoutNow', label: 'campaign now (transfer)', color: '#dc2626', response: false },
  ],
  timerLabel: 'election timer',
  hasLeader: true,
  panels: [MEMBERSHIP_PANEL, ...KV_PANELS],
  logLegend: 'Log entries coloured and labelled by term (c: configuration change, ·: no-op). Dashed: not yet committed at that node; green bar: commit index. A down node shows what its disk holds.',
  clientOps: [
    { id: 'write', label: 'Write', title: 'put x = a new value, through a retrying client', target: 'none' },
    { id: 'read', label: 'Read', title: 'get x (a linearizable ReadIndex read)', target: 'none' },
    { id: 'incr', label: 'Incr', title: 'increment counter n', target: 'none' },
  ],
  nodeActions: [
    { id: 'timeout', label: 'Time out', title: 'Make this node’s election timer expire at its next tick', target: 'node' },
    { id: 'transfer', label: 'Make leader', title: 'Ask the leader to hand leadership to this node (TimeoutNow)', target: 'node' },
    { id: 'remove', label: 'Remove', title: 'Remove this node from the configuration', target: 'node' },
  ],
  clusterActions: [{ id: 'add', label: 'Add node', title: 'Start a new node, add it as a learner, then promote it to voter once it caught up', target: 'none' }],
  checker: { model: kvModel as Model<unknown, unknown>, describe: 'kv model' },
  scenarios: RAFT_SCENARIOS,
  build(ctx): ProtocolRun {
    // a scenario's own settings (snapshot thresholds, lossy links, ...) apply on top of the slow pace
    const own = ctx.scenario === undefined ? undefined : raftScenario(ctx.scenario)?.cluster;
    const c = new VizRaftCluster(ctx, { raft: { ...VIZ_RAFT, ...own?.raft }, link: { ...VIZ_LINK, ...own?.link }, fsyncMs: own?.fsyncMs ?? 1 });
    const sim = c.sim;
    let driver: ScenarioDriver | undefined;
    const kv = new KvPanels(c);
    const describeNode = (id: NodeId, window: number): NodeView => {
      const core = c.core(id);
      const config = c.membership();
      const member = config === undefined || config.voters.includes(id) || config.learners.includes(id);
      if (core === undefined) {
        const disk = c.durableLog(id);
        return {
          id,
          up: false,
          role: 'down',
          term: disk.term,
          vote: disk.vote,
          leader: null,
          timer: null,
          details: [],
          log: { cells: cells(disk.entries, window), lastIndex: disk.entries[disk.entries.length - 1]?.index ?? disk.snapshotIndex, commit: disk.commit, applied: null, snapshotIndex: disk.snapshotIndex },
          member,
        };
      }
      const s = core.status();
      const a = sim.annotations(id);
      const elapsed = Number(a.get('electionElapsed') ?? 0);
      const timeout = Number(a.get('electionTimeout') ?? 0);
      return {
        id,
        up: true,
        role: s.role,
        term: s.term,
        vote: s.vote,
        leader: s.leader,
        timer: s.role === 'leader' || timeout <= 0 ? null : { elapsed, timeout },
        details: [s.applied < s.commit ? `commit ${s.commit} (applied ${s.applied})` : `commit ${s.commit}`],
        log: { cells: cells(core.entries(), window), lastIndex: s.lastIndex, commit: s.commit, applied: s.applied, snapshotIndex: s.snapshotIndex },
        member,
      };
    };
    return {
      sim,
      nodeIds: () => sim.nodeIds,
      leader: () => c.leader(),
      describeNode,
      describePanels: () => ({ [MEMBERSHIP_PANEL.id]: membershipTable(c), ...kv.describe() }),
      describeMessage: (m) => describeMessage(m as RaftMessage),
      clientOp(op, process, node, value, arg) {
        if (kv.clientOp(op, process, node, arg)) return;
        const request = op === 'read' ? ({ op: 'get', key: 'x' } as const) : op === 'incr' ? ({ op: 'incr', key: 'n', by: 1 } as const) : ({ op: 'put', key: 'x', value } as const);
        c.client(process).submit(request, node === null ? {} : { target: node });
      },
      protocolAction(name, node) {
        switch (name) {
          case 'timeout': {
            if (node === null) return 'timeout: no node';
            ctx.forceTicks(node, () => {
              const a = sim.annotations(node);
              if (a.get('role') === 'leader') return 0;
              return Math.max(1, Number(a.get('electionTimeout') ?? 0) - Number(a.get('electionElapsed') ?? 0));
            });
            return `election timer of ${node} expires at its next tick`;
          }
          case 'transfer':
            if (node === null) return 'transfer: no node';
            c.adminAsync('transferLeadership', node, 3000, () => undefined);
            return `asked the leader to transfer leadership to ${node}`;
          case 'remove':
            if (node === null) return 'remove: no node';
            c.adminAsync('removeNode', node, 5000, () => undefined);
            return `asked the leader to remove ${node}`;
          case 'add': {
            if (c.nodeIds.length >= MAX_NODES) return `add: at most ${MAX_NODES} nodes`;
            const id = String(Math.max(...c.nodeIds.map((n) => Number(n) || 0)) + 1);
            c.addNode(id);
            c.adminAsync('addLearner', id, 5000, (r) => {
              if (r.ok) c.adminAsync('promote', id, 10_000, () => undefined);
            });
            return `started node ${id}; adding it as a learner`;
          }
          default:
            return `raft has no action "${name}"`;
        }
      },
      afterStep: (node) => kv.afterStep(node),
      checkable: (ops) => kv.checkable(ops),
      monitors: monitorsFor(c),
      startScenario(id) {
        const scenario = raftScenario(id);
        if (scenario === undefined) return;
        driver = new ScenarioDriver(c, scenario, { watchStarted: (_name, w) => kv.show(w) });
        driver.start();
      },
      scenarioCaption: () => driver?.caption() ?? null,
    };
  },
};
