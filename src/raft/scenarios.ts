// Scenario scripts for Raft + KV clusters: plain-data steps ("isolate L1", "expect a leader
// within 2 s as L2") with a name and a caption, a runner that plays them on a RaftCluster with
// every monitor on, and the library of scenarios the tests run and the visualizer replays.
import type { NodeId } from '../core/index.js';
import type { LinkConfig } from '../sim/network.js';
import type { RandomStream } from '../sim/rng.js';
import type { Verdict } from '../check/index.js';
import { RaftCluster, type ClusterOptions, type KvClient, type OpHandle } from './cluster.js';
import type { MonitorViolation } from './monitors.js';
import type { AdminRequestType } from './types.js';
import { startWorkload, type Workload } from './workload.js';

/**
 * A node reference: a node id, a name bound by an earlier step (`as`), "leader" (the current
 * leader), or "leaders" (every up node that believes it leads, stale ones included). In a list,
 * "rest" means every node the other references do not name (in a partition: the other groups).
 */
export type NodeRef = string;

export type ScenarioStep =
  | { readonly do: 'run'; readonly ms: number }
  | { readonly do: 'runRandom'; readonly minMs: number; readonly maxMs: number }
  | { readonly do: 'note'; readonly text: string }
  /** Binds `count` (default 1) random nodes, other than those in `notIn` (and up ones only if `up`), to a name. */
  | { readonly do: 'pick'; readonly as: string; readonly notIn?: readonly NodeRef[]; readonly count?: number; readonly up?: boolean }
  | { readonly do: 'expectLeader'; readonly withinMs: number; readonly as?: string; readonly notIn?: readonly NodeRef[] }
  /** Exactly one up node believes it is leader. */
  | { readonly do: 'expectOneLeader'; readonly withinMs: number }
  /** After `graceMs`, none of `among` is leader for `forMs`. */
  | { readonly do: 'expectNoLeader'; readonly among: readonly NodeRef[]; readonly forMs: number; readonly graceMs?: number }
  /** The leader and its term stay the same for `forMs`. */
  | { readonly do: 'expectStableLeader'; readonly forMs: number }
  | { readonly do: 'partition'; readonly groups: readonly (readonly NodeRef[])[] }
  /** Cuts each named node off from everyone. */
  | { readonly do: 'isolate'; readonly nodes: readonly NodeRef[] }
  | { readonly do: 'heal' }
  | { readonly do: 'crash'; readonly nodes: readonly NodeRef[] | 'all' }
  | { readonly do: 'restart'; readonly nodes: readonly NodeRef[] | 'all' }
  /** Restarts random crashed nodes until a majority is up. */
  | { readonly do: 'restartQuorum' }
  /** Reconnects random nodes cut off by `isolate` until a majority can talk to each other. */
  | { readonly do: 'reconnectQuorum' }
  | { readonly do: 'pause'; readonly node: NodeRef; readonly ms: number }
  | { readonly do: 'link'; readonly change: Partial<LinkConfig> }
  /** `count` writes one after another through a retrying client; each must end `expect` (default ok). */
  | { readonly do: 'write'; readonly count: number; readonly expect?: 'ok' | 'any' }
  /** Proposes `count` writes straight to one node, once each, without waiting (e.g. to a cut-off leader). */
  | { readonly do: 'writeAsync'; readonly via: NodeRef; readonly count: number }
  | { readonly do: 'clients'; readonly count: number; readonly thinkMs?: number; readonly keys?: number }
  | { readonly do: 'stopClients'; readonly drainMs?: number }
  /** Every up member applied what the leader committed (all acknowledged writes included), identically. */
  | { readonly do: 'expectAgreement'; readonly withinMs: number }
  /** No node among `among` advances its commit index for `forMs`. */
  | { readonly do: 'expectNoCommit'; readonly among: readonly NodeRef[]; readonly forMs: number }
  /** Every up node (or `nodes`) has compacted its log into a snapshot. */
  | { readonly do: 'expectSnapshot'; readonly nodes?: readonly NodeRef[] }
  /** At least one InstallSnapshot chunk was sent since the start. */
  | { readonly do: 'expectSnapshotSent' }
  | { readonly do: 'addNode'; readonly id: NodeId }
  | { readonly do: 'admin'; readonly type: AdminRequestType; readonly node: NodeRef; readonly expect?: 'ok' | 'fail' | 'any'; readonly withinMs?: number }
  | { readonly do: 'expectMembers'; readonly voters: readonly NodeRef[]; readonly learners?: readonly NodeRef[] }
  | { readonly do: 'expectLeaderIs'; readonly node: NodeRef; readonly withinMs: number }
  | { readonly do: 'repeat'; readonly times: number; readonly steps: readonly ScenarioStep[] }
  | { readonly do: 'maybe'; readonly probability: number; readonly steps: readonly ScenarioStep[] };

export interface Scenario {
  readonly name: string;
  readonly caption: string;
  readonly nodes: number;
  readonly cluster?: Omit<ClusterOptions, 'seed' | 'nodes'>;
  readonly steps: readonly ScenarioStep[];
}

export interface ScenarioResult {
  readonly scenario: string;
  readonly seed: number;
  /** No failed expectation, no monitor violation, and a linearizable history. */
  readonly ok: boolean;
  /** The failed expectation that stopped the scenario, if any. */
  readonly failure: string | undefined;
  readonly violations: readonly MonitorViolation[];
  readonly linearizability: Verdict;
  readonly cluster: RaftCluster;
}

export class ScenarioError extends Error {
  readonly code = 'SCENARIO_FAILED';
  constructor(message: string) {
    super(message);
    this.name = 'ScenarioError';
  }
}

/** Plays `scenario` with `seed`; expectations that fail stop it and are reported, never thrown. */
export function runScenario(scenario: Scenario, seed: number, options: Pick<ClusterOptions, 'trace'> = {}): ScenarioResult {
  const cluster = new RaftCluster({ ...scenario.cluster, ...options, seed, nodes: scenario.nodes });
  const runner = new ScenarioRunner(cluster);
  let failure: string | undefined;
  cluster.note(`scenario ${scenario.name}: ${scenario.caption}`);
  try {
    runner.runSteps(scenario.steps, '');
  } catch (err) {
    if (!(err instanceof ScenarioError)) throw err;
    failure = err.message;
    cluster.note(`scenario failed: ${failure}`);
  }
  runner.stopClients();
  cluster.monitor.checkLogs();
  const linearizability = cluster.checkLinearizability().verdict;
  const violations = cluster.violations();
  return { scenario: scenario.name, seed, ok: failure === undefined && violations.length === 0 && linearizability !== 'not-linearizable', failure, violations, linearizability, cluster };
}

/** One line describing a step, as the trace notes and a visualizer show it. */
export function describeStep(step: ScenarioStep): string {
  const refs = (r: readonly NodeRef[]): string => `{${r.join(',')}}`;
  switch (step.do) {
    case 'run':
      return `run ${step.ms} ms`;
    case 'runRandom':
      return `run ${step.minMs}-${step.maxMs} ms`;
    case 'note':
      return step.text;
    case 'pick':
      return `pick ${step.count ?? 1} node(s)${step.notIn ? ` not in ${refs(step.notIn)}` : ''} as ${step.as}`;
    case 'expectLeader':
      return `expect a leader${step.notIn ? ` not in ${refs(step.notIn)}` : ''} within ${step.withinMs} ms${step.as ? ` as ${step.as}` : ''}`;
    case 'expectOneLeader':
      return `expect exactly one leader within ${step.withinMs} ms`;
    case 'expectNoLeader':
      return `expect no leader among ${refs(step.among)} for ${step.forMs} ms`;
    case 'expectStableLeader':
      return `expect the same leader and term for ${step.forMs} ms`;
    case 'partition':
      return `partition ${step.groups.map(refs).join(' | ')}`;
    case 'isolate':
      return `isolate ${step.nodes.join(', ')}`;
    case 'heal':
      return 'heal the network';
    case 'crash':
    case 'restart':
      return `${step.do} ${step.nodes === 'all' ? 'all' : step.nodes.join(', ')}`;
    case 'restartQuorum':
      return 'restart crashed nodes until a majority is up';
    case 'reconnectQuorum':
      return 'reconnect isolated nodes until a majority is connected';
    case 'pause':
      return `pause ${step.node} for ${step.ms} ms`;
    case 'link':
      return `links: ${JSON.stringify(step.change)}`;
    case 'write':
      return `${step.count} write(s), each ${step.expect ?? 'ok'}`;
    case 'writeAsync':
      return `propose ${step.count} write(s) to ${step.via} without waiting`;
    case 'clients':
      return `start ${step.count} background clients`;
    case 'stopClients':
      return 'stop the background clients';
    case 'expectAgreement':
      return `expect every member to agree within ${step.withinMs} ms`;
    case 'expectNoCommit':
      return `expect no commit among ${refs(step.among)} for ${step.forMs} ms`;
    case 'expectSnapshot':
      return `expect ${step.nodes ? refs(step.nodes) : 'every up node'} to have compacted into a snapshot`;
    case 'expectSnapshotSent':
      return 'expect a snapshot to have been installed over the network';
    case 'addNode':
      return `add node ${step.id} to the simulation`;
    case 'admin':
      return `${step.type} ${step.node} (expect ${step.expect ?? 'ok'})`;
    case 'expectMembers':
      return `expect voters ${refs(step.voters)}${step.learners ? ` and learners ${refs(step.learners)}` : ''}`;
    case 'expectLeaderIs':
      return `expect ${step.node} to lead within ${step.withinMs} ms`;
    case 'repeat':
      return `repeat ${step.times} times: ${step.steps.map(describeStep).join('; ')}`;
    case 'maybe':
      return `with probability ${step.probability}: ${step.steps.map(describeStep).join('; ')}`;
  }
}

/** Bounds the work a scenario can ask for (nested repeats multiply). */
const MAX_STEPS_EXECUTED = 1_000_000;

class ScenarioRunner {
  private readonly bindings = new Map<string, NodeId[]>();
  private readonly isolated = new Set<NodeId>();
  private readonly rng: RandomStream;
  private writer: KvClient;
  private asyncClients = 0;
  private writes = 0;
  private executed = 0;
  private workload: Workload | undefined;
  private workloads = 0;

  constructor(private readonly cluster: RaftCluster) {
    this.rng = cluster.sim.random.stream('scenario');
    this.writer = cluster.client('writer');
  }

  runSteps(steps: readonly ScenarioStep[], path: string): void {
    steps.forEach((step, i) => {
      if (++this.executed > MAX_STEPS_EXECUTED) throw new ScenarioError(`more than ${MAX_STEPS_EXECUTED} steps executed`);
      const where = `${path}${i + 1}`;
      this.cluster.note(`step ${where}: ${describeStep(step)}`);
      this.runStep(step, where);
    });
  }

  stopClients(): void {
    this.workload?.stop();
    this.workload = undefined;
  }

  private fail(where: string, what: string): never {
    throw new ScenarioError(`step ${where}: ${what} (at ${this.cluster.nowMs} ms)`);
  }

  /** Resolves one reference; "leader" gives nobody when there is no leader (the action is skipped). */
  private resolve(ref: NodeRef, where: string): NodeId[] {
    if (ref === 'leader') {
      const leader = this.cluster.readyLeader() ?? this.cluster.leader();
      return leader === undefined ? [] : [leader];
    }
    if (ref === 'leaders') return this.cluster.leaders();
    const bound = this.bindings.get(ref);
    if (bound !== undefined) return bound;
    if (this.cluster.nodeIds.includes(ref)) return [ref];
    return this.fail(where, `unknown node reference "${ref}"`);
  }

  /** Resolves a list; "rest" stands for every node the other references do not name. */
  private resolveAll(refs: readonly NodeRef[], where: string): NodeId[] {
    const named = [...new Set(refs.filter((r) => r !== 'rest').flatMap((r) => this.resolve(r, where)))];
    if (!refs.includes('rest')) return named;
    return [...named, ...this.cluster.nodeIds.filter((id) => !named.includes(id))];
  }

  private resolveOne(ref: NodeRef, where: string): NodeId {
    const [id] = this.resolve(ref, where);
    return id ?? this.fail(where, `no node for "${ref}" (no leader?)`);
  }

  private runStep(step: ScenarioStep, where: string): void {
    const c = this.cluster;
    switch (step.do) {
      case 'run':
        return c.runFor(step.ms);
      case 'runRandom':
        return c.runFor(this.rng.int(step.minMs, step.maxMs));
      case 'note':
        return;
      case 'pick':
        return this.pick(step, where);
      case 'expectLeader':
        return this.expectLeader(step.withinMs, step.notIn ?? [], step.as, where);
      case 'expectOneLeader':
        if (!c.runUntil(() => c.leaders().length === 1, step.withinMs)) this.fail(where, `leaders: ${c.leaders().join(', ') || 'none'}`);
        return;
      case 'expectNoLeader': {
        c.runFor(step.graceMs ?? 400);
        const among = this.resolveAll(step.among, where);
        const found = () => among.find((id) => c.core(id)?.status().role === 'leader');
        if (c.runUntil(() => found() !== undefined, step.forMs)) this.fail(where, `node ${found()} became leader`);
        return;
      }
      case 'expectStableLeader':
        return this.expectStableLeader(step.forMs, where);
      case 'partition':
        this.isolated.clear();
        return c.partition(this.partitionGroups(step.groups, where));
      case 'isolate':
        for (const id of this.resolveAll(step.nodes, where)) {
          c.isolate(id);
          this.isolated.add(id);
        }
        return;
      case 'heal':
        this.isolated.clear();
        return c.heal();
      case 'crash':
        for (const id of step.nodes === 'all' ? c.nodeIds : this.resolveAll(step.nodes, where)) c.crash(id);
        return;
      case 'restart':
        for (const id of step.nodes === 'all' ? c.nodeIds : this.resolveAll(step.nodes, where)) c.restart(id);
        return;
      case 'restartQuorum':
        return this.restartQuorum();
      case 'reconnectQuorum':
        return this.reconnectQuorum();
      case 'pause':
        for (const id of this.resolve(step.node, where)) c.pause(id, step.ms);
        return;
      case 'link':
        return c.setLink('*', '*', step.change);
      case 'write':
        return this.write(step.count, step.expect ?? 'ok', where);
      case 'writeAsync':
        this.writeAsync(this.resolve(step.via, where), step.count);
        return;
      case 'clients':
        this.stopClients();
        this.workload = startWorkload(c, { clients: step.count, keys: step.keys ?? 3, thinkMs: step.thinkMs ?? 20, prefix: `bg${++this.workloads}-` });
        return;
      case 'stopClients': {
        const clients = this.workload?.clients ?? [];
        this.stopClients();
        c.runUntil(() => clients.every((k) => !k.busy), step.drainMs ?? c.clientOptions.opTimeoutMs + 100);
        return;
      }
      case 'expectAgreement':
        return this.expectAgreement(step.withinMs, where);
      case 'expectNoCommit':
        return this.expectNoCommit(this.resolveAll(step.among, where), step.forMs, where);
      case 'expectSnapshot':
        for (const id of step.nodes ? this.resolveAll(step.nodes, where) : c.nodeIds.filter((n) => c.isUp(n))) {
          if (c.node(id).snapshotIndex === 0) this.fail(where, `node ${id} has not taken or installed a snapshot`);
        }
        return;
      case 'expectSnapshotSent':
        if ((c.sim.stats.byType.get('snapshot')?.delivered ?? 0) === 0) this.fail(where, 'no snapshot chunk was delivered');
        return;
      case 'addNode':
        if (!c.nodeIds.includes(step.id)) c.addNode(step.id);
        return;
      case 'admin':
        return this.admin(step, where);
      case 'expectMembers':
        return this.expectMembers(step.voters, step.learners, where);
      case 'expectLeaderIs': {
        const target = this.resolveOne(step.node, where);
        if (!c.runUntil(() => c.readyLeader() === target, step.withinMs)) this.fail(where, `leader is ${c.leader() ?? 'nobody'}, not ${target}`);
        return;
      }
      case 'repeat':
        for (let i = 0; i < step.times; i++) this.runSteps(step.steps, `${where}.${i + 1}.`);
        return;
      case 'maybe':
        if (this.rng.chance(step.probability)) this.runSteps(step.steps, `${where}.`);
        return;
    }
  }

  private pick(step: Extract<ScenarioStep, { do: 'pick' }>, where: string): void {
    const excluded = new Set(this.resolveAll(step.notIn ?? [], where));
    const pool = this.cluster.nodeIds.filter((id) => !excluded.has(id) && (step.up !== true || this.cluster.isUp(id)));
    const count = step.count ?? 1;
    if (pool.length < count) this.fail(where, `only ${pool.length} node(s) to pick ${count} from`);
    this.bindings.set(step.as, this.rng.shuffled(pool).slice(0, count));
    this.cluster.note(`${step.as} = ${(this.bindings.get(step.as) as NodeId[]).join(',')}`);
  }

  private partitionGroups(groups: readonly (readonly NodeRef[])[], where: string): NodeId[][] {
    const named = groups.map((g) => this.resolveAll(g.filter((r) => r !== 'rest'), where));
    const used = new Set(named.flat());
    const rest = this.cluster.nodeIds.filter((id) => !used.has(id));
    return groups.map((g, i) => (g.includes('rest') ? [...(named[i] as NodeId[]), ...rest] : (named[i] as NodeId[])));
  }

  private expectLeader(withinMs: number, notIn: readonly NodeRef[], as: string | undefined, where: string): void {
    const c = this.cluster;
    const excluded = new Set(this.resolveAll(notIn, where));
    const ok = c.runUntil(() => {
      const l = c.readyLeader();
      return l !== undefined && !excluded.has(l);
    }, withinMs);
    const leader = c.readyLeader();
    if (!ok || leader === undefined) return this.fail(where, `no leader${excluded.size > 0 ? ` outside {${[...excluded].join(',')}}` : ''} within ${withinMs} ms`);
    if (as !== undefined) {
      this.bindings.set(as, [leader]);
      c.note(`${as} = ${leader}`);
    }
  }

  private expectStableLeader(forMs: number, where: string): void {
    const c = this.cluster;
    const leader = c.readyLeader();
    if (leader === undefined) return this.fail(where, 'no leader to begin with');
    const term = c.node(leader).term;
    const changed = () => c.readyLeader() !== leader || c.nodeIds.some((id) => c.isUp(id) && c.node(id).term !== term);
    if (c.runUntil(changed, forMs)) this.fail(where, `leader ${leader} of term ${term} did not stay (now ${c.leader() ?? 'none'})`);
  }

  private restartQuorum(): void {
    const c = this.cluster;
    const majority = Math.floor(c.nodeIds.length / 2) + 1;
    for (const id of this.rng.shuffled(c.nodeIds)) {
      if (c.nodeIds.filter((n) => c.isUp(n)).length >= majority) return;
      if (!c.isUp(id)) c.restart(id);
    }
  }

  /** Reconnecting one node means healing everything and cutting the others off again. */
  private reconnectQuorum(): void {
    const c = this.cluster;
    const majority = Math.floor(c.nodeIds.length / 2) + 1;
    if (c.nodeIds.length - this.isolated.size >= majority) return;
    for (const id of this.rng.shuffled([...this.isolated])) {
      if (c.nodeIds.length - this.isolated.size >= majority) break;
      this.isolated.delete(id);
    }
    c.heal();
    for (const id of this.isolated) c.isolate(id);
  }

  private write(count: number, expect: 'ok' | 'any', where: string): void {
    for (let i = 0; i < count; i++) {
      const n = ++this.writes;
      if (this.writer.busy) this.cluster.runUntil(() => !this.writer.busy, this.cluster.clientOptions.opTimeoutMs + 10);
      const handle = this.cluster.exec({ op: 'put', key: `w${n}`, value: n }, this.writer);
      if (expect === 'ok' && handle.outcome !== 'ok') this.fail(where, `write ${n} ended ${handle.outcome ?? 'unfinished'} (${handle.error ?? ''})`);
    }
  }

  private writeAsync(targets: readonly NodeId[], count: number): OpHandle[] {
    const handles: OpHandle[] = [];
    for (const target of targets) {
      for (let i = 0; i < count; i++) {
        const n = ++this.writes;
        const client = this.cluster.client(`async${++this.asyncClients}`);
        handles.push(client.submit({ op: 'put', key: `w${n}`, value: n }, { retry: false, target }));
      }
    }
    return handles;
  }

  private expectAgreement(withinMs: number, where: string): void {
    const c = this.cluster;
    if (!c.runUntil(() => c.caughtUp(), withinMs)) {
      const view = c.nodes().map((n) => `${n.id}:${n.up ? `${n.role}/t${n.term}/c${n.commit}/a${n.applied}` : 'down'}`).join(' ');
      this.fail(where, `members did not catch up: ${view}`);
    }
    const leader = c.readyLeader() as NodeId;
    const before = c.monitor.violationCount;
    c.monitor.checkConvergence(leader);
    c.monitor.checkLogs();
    if (c.monitor.violationCount > before) this.fail(where, c.monitor.violations[c.monitor.violations.length - 1]?.message ?? 'members disagree');
  }

  private expectNoCommit(among: readonly NodeId[], forMs: number, where: string): void {
    const c = this.cluster;
    // Followers may still learn of earlier commits; nothing may go past what was committed anywhere.
    const committed = Math.max(...c.nodeIds.map((id) => c.node(id).commit));
    const advanced = () => among.find((id) => c.isUp(id) && c.node(id).commit > committed);
    if (c.runUntil(() => advanced() !== undefined, forMs)) this.fail(where, `node ${advanced()} committed without a majority`);
  }

  private admin(step: Extract<ScenarioStep, { do: 'admin' }>, where: string): void {
    const node = this.resolveOne(step.node, where);
    const result = this.cluster.admin(step.type, node, step.withinMs ?? 10_000);
    const expect = step.expect ?? 'ok';
    if (expect === 'ok' && !result.ok) this.fail(where, `${step.type} ${node} failed: ${result.error ?? ''}`);
    if (expect === 'fail' && result.ok) this.fail(where, `${step.type} ${node} succeeded but should not have`);
  }

  private expectMembers(voters: readonly NodeRef[], learners: readonly NodeRef[] | undefined, where: string): void {
    const c = this.cluster;
    const leader = c.readyLeader();
    if (leader === undefined) return this.fail(where, 'no leader to ask for the configuration');
    const config = c.node(leader);
    const want = this.resolveAll(voters, where).sort();
    if (config.voters.join(',') !== want.join(',')) this.fail(where, `voters are {${config.voters.join(',')}}, expected {${want.join(',')}}`);
    if (learners !== undefined) {
      const wantL = this.resolveAll(learners, where).sort();
      if (config.learners.join(',') !== wantL.join(',')) this.fail(where, `learners are {${config.learners.join(',')}}, expected {${wantL.join(',')}}`);
    }
  }
}

// ================================================================ the scenario library

const LOSSY: Partial<LinkConfig> = { lossRate: 0.1, reorderRate: 0.2, reorderWindowMs: 40, duplicateRate: 0.05 };

export const SCENARIOS: readonly Scenario[] = [
  {
    name: 'initial-election',
    caption: 'Three nodes start; one becomes leader within 2 s and, with no faults, stays leader in the same term.',
    nodes: 3,
    steps: [
      { do: 'expectLeader', withinMs: 2000, as: 'L' },
      { do: 'expectStableLeader', forMs: 2000 },
      { do: 'expectOneLeader', withinMs: 100 },
    ],
  },
  {
    name: 're-election',
    caption: 'The leader is cut off and the others elect a new one; it returns and steps down; without a quorum nobody leads; a quorum again elects.',
    nodes: 3,
    steps: [
      { do: 'expectLeader', withinMs: 2000, as: 'L1' },
      { do: 'isolate', nodes: ['L1'] },
      { do: 'expectLeader', withinMs: 2000, notIn: ['L1'], as: 'L2' },
      { do: 'heal' },
      { do: 'expectOneLeader', withinMs: 2000 },
      { do: 'expectLeader', withinMs: 2000, as: 'L3' },
      { do: 'pick', as: 'F', notIn: ['L3'] },
      { do: 'partition', groups: [['L3'], ['F'], ['rest']] },
      { do: 'expectNoLeader', among: ['rest'], forMs: 1500 },
      { do: 'heal' },
      { do: 'partition', groups: [['L3'], ['rest']] },
      { do: 'expectLeader', withinMs: 2000, notIn: ['L3'] },
      { do: 'heal' },
      { do: 'expectOneLeader', withinMs: 2000 },
      { do: 'write', count: 1 },
    ],
  },
  {
    name: 'many-elections',
    caption: 'Seven nodes; ten times, three random nodes are cut off (each alone) and the other four must still elect a leader.',
    nodes: 7,
    steps: [
      { do: 'expectLeader', withinMs: 2000 },
      {
        do: 'repeat',
        times: 10,
        steps: [
          { do: 'pick', as: 'D', count: 3 },
          { do: 'isolate', nodes: ['D'] },
          { do: 'expectLeader', withinMs: 3000, notIn: ['D'] },
          { do: 'heal' },
        ],
      },
      { do: 'expectLeader', withinMs: 2000 },
      { do: 'write', count: 3 },
      { do: 'expectAgreement', withinMs: 2000 },
    ],
  },
  {
    name: 'basic-agreement',
    caption: 'Writes commit one after another and every node applies the same entries in the same order.',
    nodes: 3,
    steps: [
      { do: 'expectLeader', withinMs: 2000 },
      { do: 'write', count: 10 },
      { do: 'expectAgreement', withinMs: 1000 },
    ],
  },
  {
    name: 'follower-failure',
    caption: 'One follower is cut off: writes still commit with two of three; a second is cut off: nothing commits; both return and agree.',
    nodes: 3,
    steps: [
      { do: 'expectLeader', withinMs: 2000, as: 'L' },
      { do: 'write', count: 3 },
      { do: 'pick', as: 'F1', notIn: ['L'] },
      { do: 'isolate', nodes: ['F1'] },
      { do: 'write', count: 3 },
      { do: 'expectLeader', withinMs: 2000, as: 'L' },
      { do: 'pick', as: 'F2', notIn: ['L', 'F1'] },
      { do: 'isolate', nodes: ['F2'] },
      { do: 'writeAsync', via: 'L', count: 3 },
      { do: 'expectNoCommit', among: ['L'], forMs: 1000 },
      { do: 'heal' },
      { do: 'expectLeader', withinMs: 3000 },
      { do: 'write', count: 3 },
      { do: 'expectAgreement', withinMs: 2000 },
    ],
  },
  {
    name: 'leader-failure',
    caption: 'The leader crashes; the others elect a new leader and keep committing; it restarts and catches up.',
    nodes: 3,
    steps: [
      { do: 'expectLeader', withinMs: 2000, as: 'L1' },
      { do: 'write', count: 3 },
      { do: 'crash', nodes: ['L1'] },
      { do: 'expectLeader', withinMs: 2000, notIn: ['L1'], as: 'L2' },
      { do: 'write', count: 3 },
      { do: 'crash', nodes: ['L2'] },
      { do: 'pick', as: 'R', notIn: ['L1', 'L2'] },
      { do: 'expectNoLeader', among: ['R'], forMs: 1000 },
      { do: 'restart', nodes: ['L1'] },
      { do: 'expectLeader', withinMs: 3000 },
      { do: 'write', count: 3 },
      { do: 'restart', nodes: ['L2'] },
      { do: 'expectAgreement', withinMs: 2000 },
    ],
  },
  {
    name: 'no-commit-without-majority',
    caption: 'Three of five followers are cut off, each alone: writes to the leader do not commit; once healed, everyone agrees.',
    nodes: 5,
    steps: [
      { do: 'expectLeader', withinMs: 2000, as: 'L' },
      { do: 'write', count: 1 },
      { do: 'pick', as: 'D', notIn: ['L'], count: 3 },
      { do: 'isolate', nodes: ['D'] },
      { do: 'writeAsync', via: 'L', count: 3 },
      { do: 'expectNoCommit', among: ['rest'], forMs: 1500 },
      { do: 'heal' },
      { do: 'expectLeader', withinMs: 3000 },
      { do: 'write', count: 3 },
      { do: 'expectAgreement', withinMs: 2000 },
    ],
  },
  {
    name: 'reconnected-follower',
    caption: 'A follower misses 50 writes while cut off, returns and catches up.',
    nodes: 3,
    steps: [
      { do: 'expectLeader', withinMs: 2000, as: 'L' },
      { do: 'pick', as: 'F', notIn: ['L'] },
      { do: 'isolate', nodes: ['F'] },
      { do: 'write', count: 50 },
      { do: 'heal' },
      { do: 'expectAgreement', withinMs: 3000 },
    ],
  },
  {
    name: 'concurrent-proposals',
    caption: 'Five clients write and read concurrently; everything acknowledged is applied in one order everywhere.',
    nodes: 3,
    steps: [
      { do: 'expectLeader', withinMs: 2000 },
      { do: 'clients', count: 5, thinkMs: 5 },
      { do: 'run', ms: 2000 },
      { do: 'stopClients' },
      { do: 'expectAgreement', withinMs: 2000 },
    ],
  },
  {
    name: 'rejoin',
    caption: 'A partitioned old leader takes writes it cannot commit; the others move on; when it rejoins, its uncommitted entries are replaced.',
    nodes: 3,
    steps: [
      { do: 'expectLeader', withinMs: 2000, as: 'L1' },
      { do: 'write', count: 1 },
      { do: 'isolate', nodes: ['L1'] },
      { do: 'writeAsync', via: 'L1', count: 3 },
      { do: 'expectLeader', withinMs: 2000, notIn: ['L1'], as: 'L2' },
      { do: 'write', count: 1 },
      { do: 'heal' },
      { do: 'isolate', nodes: ['L2'] },
      { do: 'expectLeader', withinMs: 3000, notIn: ['L2'] },
      { do: 'write', count: 1 },
      { do: 'heal' },
      { do: 'write', count: 1 },
      { do: 'expectAgreement', withinMs: 2000 },
    ],
  },
  {
    name: 'fast-backup',
    caption: 'Two partitioned leaders each take 50 writes they cannot commit; the majority side commits 50; the old leader backs up over 50+ divergent entries quickly.',
    nodes: 5,
    steps: [
      { do: 'expectLeader', withinMs: 2000, as: 'L1' },
      { do: 'write', count: 1 },
      { do: 'pick', as: 'F1', notIn: ['L1'] },
      { do: 'pick', as: 'D', notIn: ['L1', 'F1'], count: 3 },
      { do: 'isolate', nodes: ['D'] },
      { do: 'writeAsync', via: 'L1', count: 50 },
      { do: 'run', ms: 500 },
      { do: 'heal' },
      { do: 'partition', groups: [['L1', 'F1'], ['rest']] },
      { do: 'expectLeader', withinMs: 3000, notIn: ['L1', 'F1'], as: 'L2' },
      { do: 'write', count: 50 },
      { do: 'pick', as: 'O', notIn: ['L1', 'F1', 'L2'] },
      { do: 'pick', as: 'Y', notIn: ['L1', 'F1', 'L2', 'O'] },
      { do: 'partition', groups: [['L1', 'F1'], ['O'], ['L2', 'Y']] },
      { do: 'writeAsync', via: 'L2', count: 50 },
      { do: 'run', ms: 500 },
      { do: 'heal' },
      { do: 'partition', groups: [['L1', 'F1', 'O'], ['L2', 'Y']] },
      { do: 'expectLeader', withinMs: 3000, notIn: ['L2', 'Y'] },
      { do: 'write', count: 50 },
      { do: 'heal' },
      { do: 'write', count: 1 },
      { do: 'expectAgreement', withinMs: 3000 },
    ],
  },
  {
    name: 'persist-crashes',
    caption: 'Everyone crashes and restarts; then the leader; then a follower; then a quorum: committed writes survive every time.',
    nodes: 3,
    cluster: { fsyncMs: 2 },
    steps: [
      { do: 'expectLeader', withinMs: 2000 },
      { do: 'write', count: 5 },
      { do: 'crash', nodes: 'all' },
      { do: 'restart', nodes: 'all' },
      { do: 'expectLeader', withinMs: 3000, as: 'L1' },
      { do: 'write', count: 5 },
      { do: 'crash', nodes: ['L1'] },
      { do: 'restart', nodes: ['L1'] },
      { do: 'expectLeader', withinMs: 3000, as: 'L2' },
      { do: 'write', count: 5 },
      { do: 'pick', as: 'F', notIn: ['L2'] },
      { do: 'crash', nodes: ['F'] },
      { do: 'write', count: 5 },
      { do: 'restart', nodes: ['F'] },
      { do: 'crash', nodes: ['L2', 'F'] },
      { do: 'restart', nodes: ['L2', 'F'] },
      { do: 'expectLeader', withinMs: 3000 },
      { do: 'write', count: 5 },
      { do: 'expectAgreement', withinMs: 3000 },
    ],
  },
  {
    name: 'figure-8',
    caption: 'Leaders crash again and again while proposals are in flight; an entry of an older term is committed only through one of the current term.',
    nodes: 5,
    cluster: { fsyncMs: 1, raft: { maxEntriesPerAppend: 1, maxInflightAppends: 1 } },
    steps: [
      { do: 'expectLeader', withinMs: 2000 },
      { do: 'write', count: 1 },
      {
        do: 'repeat',
        times: 600,
        steps: [
          { do: 'writeAsync', via: 'leaders', count: 1 },
          { do: 'maybe', probability: 0.1, steps: [{ do: 'runRandom', minMs: 0, maxMs: 500 }] },
          { do: 'runRandom', minMs: 0, maxMs: 13 },
          { do: 'maybe', probability: 0.5, steps: [{ do: 'crash', nodes: ['leader'] }] },
          { do: 'restartQuorum' },
        ],
      },
      { do: 'restart', nodes: 'all' },
      { do: 'expectLeader', withinMs: 5000 },
      { do: 'write', count: 1 },
      { do: 'expectAgreement', withinMs: 5000 },
    ],
  },
  {
    name: 'unreliable-agreement',
    caption: 'Concurrent clients on a network that loses, duplicates and reorders messages still agree.',
    nodes: 5,
    cluster: { link: LOSSY },
    steps: [
      { do: 'expectLeader', withinMs: 3000 },
      { do: 'clients', count: 4, thinkMs: 10 },
      { do: 'run', ms: 3000 },
      { do: 'stopClients' },
      { do: 'link', change: { lossRate: 0, duplicateRate: 0, reorderRate: 0 } },
      { do: 'expectAgreement', withinMs: 3000 },
    ],
  },
  {
    name: 'figure-8-unreliable',
    caption: 'Figure 8 on a lossy, reordering network: leaders are cut off again and again while proposals are in flight, and reconnected whenever a majority is lost.',
    nodes: 5,
    cluster: { fsyncMs: 1, link: LOSSY, raft: { maxEntriesPerAppend: 2, maxInflightAppends: 2 } },
    steps: [
      { do: 'expectLeader', withinMs: 3000 },
      { do: 'clients', count: 3, thinkMs: 5 },
      {
        do: 'repeat',
        times: 300,
        steps: [
          { do: 'writeAsync', via: 'leaders', count: 1 },
          { do: 'maybe', probability: 0.1, steps: [{ do: 'runRandom', minMs: 0, maxMs: 300 }] },
          { do: 'runRandom', minMs: 0, maxMs: 13 },
          { do: 'maybe', probability: 0.5, steps: [{ do: 'isolate', nodes: ['leader'] }] },
          { do: 'reconnectQuorum' },
        ],
      },
      { do: 'stopClients' },
      { do: 'heal' },
      { do: 'link', change: { lossRate: 0, duplicateRate: 0, reorderRate: 0 } },
      { do: 'expectLeader', withinMs: 5000 },
      { do: 'write', count: 1 },
      { do: 'expectAgreement', withinMs: 5000 },
    ],
  },
  {
    name: 'churn',
    caption: 'Clients keep working while nodes crash, restart and get cut off at random, on a lossy network; afterwards everyone agrees.',
    nodes: 5,
    cluster: { fsyncMs: 1, link: { lossRate: 0.05, reorderRate: 0.1 }, raft: { snapshotThresholdEntries: 50 } },
    steps: [
      { do: 'expectLeader', withinMs: 3000 },
      { do: 'clients', count: 4, thinkMs: 10 },
      {
        do: 'repeat',
        times: 20,
        steps: [
          { do: 'pick', as: 'X', up: true },
          { do: 'maybe', probability: 0.4, steps: [{ do: 'crash', nodes: ['X'] }] },
          { do: 'maybe', probability: 0.3, steps: [{ do: 'isolate', nodes: ['leader'] }] },
          { do: 'runRandom', minMs: 50, maxMs: 400 },
          { do: 'maybe', probability: 0.5, steps: [{ do: 'heal' }] },
          { do: 'restartQuorum' },
          { do: 'reconnectQuorum' },
        ],
      },
      { do: 'stopClients' },
      { do: 'heal' },
      { do: 'link', change: { lossRate: 0, reorderRate: 0 } },
      { do: 'restart', nodes: 'all' },
      { do: 'expectLeader', withinMs: 5000 },
      { do: 'write', count: 1 },
      { do: 'expectAgreement', withinMs: 5000 },
    ],
  },
  {
    name: 'snapshot-basic',
    caption: 'After many writes every node has compacted its log into a snapshot and still agrees.',
    nodes: 3,
    cluster: { raft: { snapshotThresholdEntries: 20 } },
    steps: [
      { do: 'expectLeader', withinMs: 2000 },
      { do: 'write', count: 60 },
      { do: 'expectAgreement', withinMs: 2000 },
      { do: 'expectSnapshot' },
    ],
  },
  {
    name: 'snapshot-install-after-disconnect',
    caption: 'A follower is cut off while the others compact past it; on return it is sent the snapshot in chunks.',
    nodes: 3,
    cluster: { raft: { snapshotThresholdEntries: 20, snapshotChunkChars: 200 } },
    steps: [
      { do: 'expectLeader', withinMs: 2000, as: 'L' },
      { do: 'pick', as: 'F', notIn: ['L'] },
      { do: 'isolate', nodes: ['F'] },
      { do: 'write', count: 60 },
      { do: 'heal' },
      { do: 'expectAgreement', withinMs: 3000 },
      { do: 'expectSnapshotSent' },
      { do: 'expectSnapshot', nodes: ['F'] },
    ],
  },
  {
    name: 'snapshot-install-after-crash',
    caption: 'A follower crashes while the others compact past it; after a restart it installs a snapshot.',
    nodes: 3,
    cluster: { fsyncMs: 1, raft: { snapshotThresholdEntries: 20, snapshotChunkChars: 200 } },
    steps: [
      { do: 'expectLeader', withinMs: 2000, as: 'L' },
      { do: 'write', count: 5 },
      { do: 'pick', as: 'F', notIn: ['L'] },
      { do: 'crash', nodes: ['F'] },
      { do: 'write', count: 60 },
      { do: 'restart', nodes: ['F'] },
      { do: 'expectAgreement', withinMs: 3000 },
      { do: 'expectSnapshotSent' },
    ],
  },
  {
    name: 'snapshot-unreliable',
    caption: 'Snapshots and their installation on a lossy, reordering network, with followers cut off in turn.',
    nodes: 5,
    cluster: { link: LOSSY, raft: { snapshotThresholdEntries: 20, snapshotChunkChars: 200 } },
    steps: [
      { do: 'expectLeader', withinMs: 3000 },
      { do: 'clients', count: 3, thinkMs: 5 },
      {
        do: 'repeat',
        times: 5,
        steps: [
          { do: 'pick', as: 'X', notIn: ['leader'] },
          { do: 'isolate', nodes: ['X'] },
          { do: 'run', ms: 600 },
          { do: 'heal' },
          { do: 'run', ms: 300 },
        ],
      },
      { do: 'stopClients' },
      { do: 'link', change: { lossRate: 0, duplicateRate: 0, reorderRate: 0 } },
      { do: 'expectLeader', withinMs: 3000 },
      { do: 'write', count: 1 },
      { do: 'expectAgreement', withinMs: 3000 },
      { do: 'expectSnapshot' },
    ],
  },
  {
    name: 'snapshot-all-crash',
    caption: 'Every node crashes after compacting; all restart from snapshot plus log and agree on the state.',
    nodes: 3,
    cluster: { fsyncMs: 1, raft: { snapshotThresholdEntries: 15 } },
    steps: [
      { do: 'expectLeader', withinMs: 2000 },
      { do: 'clients', count: 3, thinkMs: 5 },
      { do: 'run', ms: 800 },
      { do: 'crash', nodes: 'all' },
      { do: 'run', ms: 200 },
      { do: 'restart', nodes: 'all' },
      { do: 'run', ms: 800 },
      { do: 'crash', nodes: ['leader'] },
      { do: 'run', ms: 100 },
      { do: 'restart', nodes: 'all' },
      { do: 'stopClients' },
      { do: 'expectLeader', withinMs: 3000 },
      { do: 'write', count: 1 },
      { do: 'expectAgreement', withinMs: 3000 },
      { do: 'expectSnapshot' },
    ],
  },
  {
    name: 'membership-add-promote-remove',
    caption: 'A fourth node joins as a learner, catches up, is promoted to voter; then the original leader is removed and the rest carry on.',
    nodes: 3,
    cluster: { raft: { snapshotThresholdEntries: 30 } },
    steps: [
      { do: 'expectLeader', withinMs: 2000, as: 'L' },
      { do: 'write', count: 40 },
      { do: 'addNode', id: '4' },
      { do: 'admin', type: 'addLearner', node: '4' },
      { do: 'write', count: 5 },
      { do: 'admin', type: 'promote', node: '4' },
      { do: 'expectMembers', voters: ['1', '2', '3', '4'], learners: [] },
      { do: 'expectAgreement', withinMs: 3000 },
      { do: 'admin', type: 'removeNode', node: 'L' },
      { do: 'expectLeader', withinMs: 3000, notIn: ['L'] },
      { do: 'pick', as: 'R', notIn: ['L'], count: 3 },
      { do: 'expectMembers', voters: ['R'] },
      { do: 'write', count: 5 },
      { do: 'pick', as: 'X', notIn: ['L', 'leader'] },
      { do: 'crash', nodes: ['X'] },
      { do: 'write', count: 5 },
      { do: 'restart', nodes: ['X'] },
      { do: 'expectAgreement', withinMs: 3000 },
    ],
  },
  {
    name: 'membership-under-faults',
    caption: 'Nodes join and leave while clients write on a lossy network and a follower crashes; only one change is in flight at a time.',
    nodes: 3,
    cluster: { fsyncMs: 1, link: { lossRate: 0.05, reorderRate: 0.1 }, raft: { snapshotThresholdEntries: 40 } },
    steps: [
      { do: 'expectLeader', withinMs: 3000 },
      { do: 'clients', count: 3, thinkMs: 10 },
      { do: 'addNode', id: '4' },
      { do: 'addNode', id: '5' },
      { do: 'admin', type: 'addLearner', node: '4' },
      { do: 'admin', type: 'addLearner', node: '5' },
      { do: 'admin', type: 'promote', node: '4' },
      { do: 'pick', as: 'X', notIn: ['leader', '4', '5'] },
      { do: 'crash', nodes: ['X'] },
      { do: 'admin', type: 'promote', node: '5' },
      { do: 'restart', nodes: ['X'] },
      { do: 'admin', type: 'removeNode', node: 'X' },
      { do: 'admin', type: 'removeNode', node: 'leader' },
      { do: 'run', ms: 500 },
      { do: 'stopClients' },
      { do: 'link', change: { lossRate: 0, reorderRate: 0 } },
      { do: 'expectLeader', withinMs: 3000 },
      { do: 'write', count: 1 },
      { do: 'expectAgreement', withinMs: 3000 },
    ],
  },
  {
    name: 'leadership-transfer',
    caption: 'The leader hands over to a chosen follower (TimeoutNow) while clients write; then again to another under message loss.',
    nodes: 5,
    steps: [
      { do: 'expectLeader', withinMs: 2000, as: 'L1' },
      { do: 'clients', count: 2, thinkMs: 10 },
      { do: 'pick', as: 'T1', notIn: ['L1'] },
      { do: 'admin', type: 'transferLeadership', node: 'T1' },
      { do: 'expectLeaderIs', node: 'T1', withinMs: 1000 },
      { do: 'link', change: { lossRate: 0.05 } },
      { do: 'pick', as: 'T2', notIn: ['T1'] },
      { do: 'admin', type: 'transferLeadership', node: 'T2', expect: 'any' },
      { do: 'run', ms: 500 },
      { do: 'crash', nodes: ['leader'] },
      { do: 'expectLeader', withinMs: 3000 },
      { do: 'stopClients' },
      { do: 'link', change: { lossRate: 0 } },
      { do: 'restart', nodes: 'all' },
      { do: 'write', count: 1 },
      { do: 'expectAgreement', withinMs: 3000 },
    ],
  },
];

export function scenarioByName(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}
