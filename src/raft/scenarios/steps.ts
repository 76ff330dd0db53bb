// Raft's part of the scenario language (elections, writes, agreement, snapshots, membership) on
// top of the steps every protocol shares (src/sim/scenario.ts), and the runner tests use. The
// visualizer plays the same programs with its own driver; neither interprets a step itself.
import type { NodeId } from '../../core/index.js';
import type { LinkConfig } from '../../sim/network.js';
import { describeStep as describeAnyStep, runScenarioProgram, ScenarioInterpreter, type NodeRef, type ScenarioContext, type ScenarioProgram, type ScenarioProtocol, type Step } from '../../sim/scenario.js';
import type { Verdict } from '../../check/index.js';
import { RaftCluster, type AdminResult, type ClusterOptions, type KvClient, type OpHandle } from '../cluster.js';
import type { MonitorViolation } from '../monitors.js';
import type { AdminRequestType, RaftMessage, RaftPersistOp, RaftRequest, RaftResponse } from '../types.js';
import { startWorkload, type Workload } from '../workload.js';
import { appliedRevision, changeLog, ClusterWatcher, clusterWatchPort } from '../watcher.js';

export type { NodeRef };

/** Raft's own steps. */
export type RaftStep =
  | { readonly do: 'expectLeader'; readonly withinMs: number; readonly as?: string; readonly notIn?: readonly NodeRef[] }
  /** Exactly one up node believes it is leader. */
  | { readonly do: 'expectOneLeader'; readonly withinMs: number }
  /** After `graceMs`, none of `among` is leader for `forMs`. */
  | { readonly do: 'expectNoLeader'; readonly among: readonly NodeRef[]; readonly forMs: number; readonly graceMs?: number }
  /** The leader and its term stay the same for `forMs`. */
  | { readonly do: 'expectStableLeader'; readonly forMs: number }
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
  /** At least one InstallSnapshot chunk was delivered since the start. */
  | { readonly do: 'expectSnapshotSent' }
  | { readonly do: 'addNode'; readonly id: NodeId }
  | { readonly do: 'admin'; readonly type: AdminRequestType; readonly node: NodeRef; readonly expect?: 'ok' | 'fail' | 'any'; readonly withinMs?: number }
  | { readonly do: 'expectMembers'; readonly voters: readonly NodeRef[]; readonly learners?: readonly NodeRef[] }
  | { readonly do: 'expectLeaderIs'; readonly node: NodeRef; readonly withinMs: number }
  /** `count` puts of keys `${prefix}1`, `${prefix}2`, ... one after another; each must succeed. */
  | { readonly do: 'putKeys'; readonly prefix: string; readonly count: number }
  /** Starts a watcher (named `as`, default "w") of `prefix` on node `via`, from `fromRevision` (default 1: the whole history). */
  | { readonly do: 'watch'; readonly prefix: string; readonly via: NodeRef; readonly fromRevision?: number; readonly as?: string }
  /**
   * Within `withinMs`, the watcher has received every change of its prefix up to the revision the
   * leader applied, in order, none missing and none twice (compared with the leader's change log);
   * at least `minEvents` of them, and it pulls from none of `notOn`.
   */
  | { readonly do: 'expectWatch'; readonly watcher?: string; readonly withinMs: number; readonly minEvents?: number; readonly notOn?: readonly NodeRef[] };

export type ScenarioStep = Step<RaftStep>;

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

/** A lossy network: some loss, reordering and duplication. */
export const LOSSY: Partial<LinkConfig> = { lossRate: 0.1, reorderRate: 0.2, reorderWindowMs: 40, duplicateRate: 0.05 };

const RAFT_STEPS: ReadonlySet<string> = new Set([
  'expectLeader', 'expectOneLeader', 'expectNoLeader', 'expectStableLeader', 'write', 'writeAsync', 'clients', 'stopClients', 'expectAgreement',
  'expectNoCommit', 'expectSnapshot', 'expectSnapshotSent', 'addNode', 'admin', 'expectMembers', 'expectLeaderIs', 'putKeys', 'watch', 'expectWatch',
]);

/** What a run's owner may want to know about the steps (the visualizer draws a scenario's watchers). */
export interface RaftStepsObserver {
  watchStarted?(name: string, watcher: ClusterWatcher): void;
}

const until = (cond: () => boolean, withinMs: number) => ({ kind: 'until', until: cond, withinMs }) as const;

/** Raft's steps on a RaftCluster (or the visualizer's subclass of it). One instance per run: it holds the clients. */
export class RaftScenarioSteps implements ScenarioProtocol<RaftStep> {
  private readonly writer: KvClient;
  private workload: Workload | undefined;
  private workloads = 0;
  private writes = 0;
  private asyncClients = 0;
  private readonly watchers = new Map<string, ClusterWatcher>();

  constructor(
    private readonly c: RaftCluster,
    private readonly observer: RaftStepsObserver = {},
  ) {
    this.writer = c.client('writer');
  }

  /** A watcher started by a `watch` step. */
  watcher(name: string): ClusterWatcher | undefined {
    return this.watchers.get(name);
  }

  owns(step: ScenarioStep): step is RaftStep {
    return RAFT_STEPS.has(step.do);
  }

  leader(): NodeId | undefined {
    return this.c.readyLeader() ?? this.c.leader();
  }

  leaders(): NodeId[] {
    return this.c.leaders();
  }

  /** Stops the background clients (at the end of a run). */
  stopClients(): void {
    this.workload?.stop();
    this.workload = undefined;
  }

  describe(step: RaftStep): string {
    return describeRaftStep(step);
  }

  run(step: RaftStep, where: string, ctx: ScenarioContext): ScenarioProgram | void {
    const c = this.c;
    switch (step.do) {
      case 'expectLeader':
        return this.expectLeader(step, where, ctx);
      case 'expectOneLeader':
        return this.expect(until(() => c.leaders().length === 1, step.withinMs), () => ctx.fail(where, `leaders: ${c.leaders().join(', ') || 'none'}`));
      case 'expectNoLeader':
        return this.expectNoLeader(step, where, ctx);
      case 'expectStableLeader': {
        const leader = c.readyLeader();
        if (leader === undefined) return ctx.fail(where, 'no leader to begin with');
        const term = c.node(leader).term;
        const changed = (): boolean => c.readyLeader() !== leader || c.nodeIds.some((id) => c.isUp(id) && c.node(id).term !== term);
        return this.expectNot(until(changed, step.forMs), () => ctx.fail(where, `leader ${leader} of term ${term} did not stay (now ${c.leader() ?? 'none'})`));
      }
      case 'write':
        return this.write(step.count, step.expect ?? 'ok', where, ctx);
      case 'writeAsync':
        this.writeAsync(ctx.resolve(step.via, where), step.count);
        return;
      case 'clients':
        this.stopClients();
        this.workload = startWorkload(c, { clients: step.count, keys: step.keys ?? 3, thinkMs: step.thinkMs ?? 20, prefix: `bg${++this.workloads}-` });
        return;
      case 'stopClients':
        return this.drainClients(step.drainMs);
      case 'expectAgreement':
        return this.expectAgreement(step.withinMs, where, ctx);
      case 'expectNoCommit': {
        // followers may still learn of earlier commits; nothing may go past what was committed anywhere
        const among = ctx.resolveAll(step.among, where);
        const committed = Math.max(...c.nodeIds.map((id) => c.node(id).commit));
        const advanced = (): NodeId | undefined => among.find((id) => c.isUp(id) && c.node(id).commit > committed);
        return this.expectNot(until(() => advanced() !== undefined, step.forMs), () => ctx.fail(where, `node ${advanced() ?? '?'} committed without a majority`));
      }
      case 'expectSnapshot':
        for (const id of step.nodes ? ctx.resolveAll(step.nodes, where) : c.nodeIds.filter((n) => c.isUp(n))) {
          if (c.node(id).snapshotIndex === 0) ctx.fail(where, `node ${id} has not taken or installed a snapshot`);
        }
        return;
      case 'expectSnapshotSent':
        if ((c.sim.stats.byType.get('snapshot')?.delivered ?? 0) === 0) ctx.fail(where, 'no snapshot chunk was delivered');
        return;
      case 'addNode':
        if (!c.nodeIds.includes(step.id)) c.addNode(step.id);
        return;
      case 'admin':
        return this.admin(step, where, ctx);
      case 'expectMembers':
        return this.expectMembers(step.voters, step.learners, where, ctx);
      case 'expectLeaderIs': {
        const target = ctx.resolveOne(step.node, where);
        return this.expect(until(() => c.readyLeader() === target, step.withinMs), () => ctx.fail(where, `leader is ${c.leader() ?? 'nobody'}, not ${target}`));
      }
      case 'putKeys':
        return this.putKeys(step.prefix, step.count, where, ctx);
      case 'watch': {
        const name = step.as ?? 'w';
        const watcher = new ClusterWatcher(clusterWatchPort(c), { prefix: step.prefix, fromRevision: step.fromRevision ?? 1 }, ctx.resolveOne(step.via, where));
        this.watchers.set(name, watcher);
        this.observer.watchStarted?.(name, watcher);
        return;
      }
      case 'expectWatch':
        return this.expectWatch(step, where, ctx);
    }
  }

  private *putKeys(prefix: string, count: number, where: string, ctx: ScenarioContext): ScenarioProgram {
    const opTimeoutMs = this.c.clientOptions.opTimeoutMs;
    for (let i = 1; i <= count; i++) {
      ctx.status(`put ${prefix}${i} (${i} of ${count})`);
      if (this.writer.busy) yield until(() => !this.writer.busy, opTimeoutMs + 10);
      const handle = this.writer.submit({ op: 'put', key: `${prefix}${i}`, value: ++this.writes });
      yield until(() => handle.done, opTimeoutMs + 10);
      if (handle.outcome !== 'ok') ctx.fail(where, `put ${prefix}${i} ended ${handle.outcome ?? 'unfinished'} (${handle.error ?? ''})`);
    }
  }

  private *expectWatch(step: Extract<RaftStep, { do: 'expectWatch' }>, where: string, ctx: ScenarioContext): ScenarioProgram {
    const name = step.watcher ?? 'w';
    const w = this.watchers.get(name);
    if (w === undefined) return ctx.fail(where, `no watcher named ${name}`);
    const avoid = new Set(ctx.resolveAll(step.notOn ?? [], where));
    let problem = 'no leader to compare with';
    const matches = (): boolean => {
      w.sync();
      const leader = this.c.readyLeader();
      if (w.cancelled !== null) problem = `the watch was cancelled: history compacted up to revision ${w.cancelled.compactRevision}`;
      else if (leader === undefined) problem = 'no leader to compare with';
      else if (avoid.has(w.node)) problem = `it still pulls from node ${w.node}`;
      else {
        const revision = appliedRevision(clusterWatchPort(this.c), leader) ?? 0;
        const log = changeLog(clusterWatchPort(this.c), leader, w.spec.prefix, w.startRevision ?? 1);
        if (typeof log === 'string') problem = `the leader's change log: ${log}`;
        else if (w.nextRevision <= revision) problem = `it has revisions below ${w.nextRevision}, the leader has applied revision ${revision}`;
        else problem = w.compare(log, revision) ?? (w.events.length < (step.minEvents ?? 0) ? `only ${w.events.length} event(s), expected at least ${step.minEvents ?? 0}` : '');
      }
      return problem === '';
    };
    ctx.status(`watcher ${name} on node ${w.node}`);
    if (!(yield until(matches, step.withinMs))) ctx.fail(where, `watcher ${name} of "${w.spec.prefix}" on node ${w.node}: ${problem}`);
  }

  /** Waits; calls `failed` when the condition did not hold in time. */
  private *expect(wait: ReturnType<typeof until>, failed: () => never): ScenarioProgram {
    if (!(yield wait)) failed();
  }

  /** Waits; calls `failed` when the condition held (it must not happen in time). */
  private *expectNot(wait: ReturnType<typeof until>, failed: () => never): ScenarioProgram {
    if (yield wait) failed();
  }

  private *expectLeader(step: Extract<RaftStep, { do: 'expectLeader' }>, where: string, ctx: ScenarioContext): ScenarioProgram {
    const c = this.c;
    const excluded = new Set(ctx.resolveAll(step.notIn ?? [], where));
    const ok = yield until(() => {
      const l = c.readyLeader();
      return l !== undefined && !excluded.has(l);
    }, step.withinMs);
    const leader = c.readyLeader();
    if (!ok || leader === undefined) return ctx.fail(where, `no leader${excluded.size > 0 ? ` outside {${[...excluded].join(',')}}` : ''} within ${step.withinMs} ms`);
    if (step.as !== undefined) ctx.bind(step.as, [leader]);
  }

  private *expectNoLeader(step: Extract<RaftStep, { do: 'expectNoLeader' }>, where: string, ctx: ScenarioContext): ScenarioProgram {
    yield { kind: 'for', ms: step.graceMs ?? 400 };
    const among = ctx.resolveAll(step.among, where);
    const found = (): NodeId | undefined => among.find((id) => this.c.core(id)?.status().role === 'leader');
    if (yield until(() => found() !== undefined, step.forMs)) ctx.fail(where, `node ${found() ?? '?'} became leader`);
  }

  private *write(count: number, expect: 'ok' | 'any', where: string, ctx: ScenarioContext): ScenarioProgram {
    const opTimeoutMs = this.c.clientOptions.opTimeoutMs;
    for (let i = 0; i < count; i++) {
      const n = ++this.writes;
      ctx.status(`write ${i + 1} of ${count}`);
      if (this.writer.busy) yield until(() => !this.writer.busy, opTimeoutMs + 10);
      const handle = this.writer.submit({ op: 'put', key: `w${n}`, value: n });
      yield until(() => handle.done, opTimeoutMs + 10);
      if (expect === 'ok' && handle.outcome !== 'ok') ctx.fail(where, `write ${n} ended ${handle.outcome ?? 'unfinished'} (${handle.error ?? ''})`);
    }
  }

  private writeAsync(targets: readonly NodeId[], count: number): OpHandle[] {
    const handles: OpHandle[] = [];
    for (const target of targets) {
      for (let i = 0; i < count; i++) {
        const n = ++this.writes;
        const client = this.c.client(`async${++this.asyncClients}`);
        handles.push(client.submit({ op: 'put', key: `w${n}`, value: n }, { retry: false, target }));
      }
    }
    return handles;
  }

  private *drainClients(drainMs: number | undefined): ScenarioProgram {
    const clients = this.workload?.clients ?? [];
    this.stopClients();
    yield until(() => clients.every((k) => !k.busy), drainMs ?? this.c.clientOptions.opTimeoutMs + 100);
  }

  private *expectAgreement(withinMs: number, where: string, ctx: ScenarioContext): ScenarioProgram {
    const c = this.c;
    if (!(yield until(() => c.caughtUp(), withinMs))) {
      const view = c.nodes().map((n) => `${n.id}:${n.up ? `${n.role}/t${n.term}/c${n.commit}/a${n.applied}` : 'down'}`).join(' ');
      ctx.fail(where, `members did not catch up: ${view}`);
    }
    const leader = c.readyLeader() as NodeId;
    const before = c.monitor.violationCount;
    c.monitor.checkConvergence(leader);
    c.monitor.checkLogs();
    if (c.monitor.violationCount > before) ctx.fail(where, c.monitor.violations[c.monitor.violations.length - 1]?.message ?? 'members disagree');
  }

  private *admin(step: Extract<RaftStep, { do: 'admin' }>, where: string, ctx: ScenarioContext): ScenarioProgram {
    const node = ctx.resolveOne(step.node, where);
    const timeoutMs = step.withinMs ?? 10_000;
    let result: AdminResult | undefined;
    this.c.adminAsync(step.type, node, timeoutMs, (r) => (result = r));
    yield until(() => result !== undefined, timeoutMs + 10);
    const r: AdminResult = result ?? { ok: false, error: 'timeout', response: undefined };
    const expect = step.expect ?? 'ok';
    if (expect === 'ok' && !r.ok) ctx.fail(where, `${step.type} ${node} failed: ${r.error ?? ''}`);
    if (expect === 'fail' && r.ok) ctx.fail(where, `${step.type} ${node} succeeded but should not have`);
  }

  private expectMembers(voters: readonly NodeRef[], learners: readonly NodeRef[] | undefined, where: string, ctx: ScenarioContext): void {
    const c = this.c;
    const leader = c.readyLeader();
    if (leader === undefined) return ctx.fail(where, 'no leader to ask for the configuration');
    const config = c.node(leader);
    const want = ctx.resolveAll(voters, where).sort();
    if (config.voters.join(',') !== want.join(',')) ctx.fail(where, `voters are {${config.voters.join(',')}}, expected {${want.join(',')}}`);
    if (learners !== undefined) {
      const wantL = ctx.resolveAll(learners, where).sort();
      if (config.learners.join(',') !== wantL.join(',')) ctx.fail(where, `learners are {${config.learners.join(',')}}, expected {${wantL.join(',')}}`);
    }
  }
}

/** One line describing one of Raft's own steps. */
export function describeRaftStep(step: RaftStep): string {
  const refs = (r: readonly NodeRef[]): string => `{${r.join(',')}}`;
  switch (step.do) {
    case 'expectLeader':
      return `expect a leader${step.notIn ? ` not in ${refs(step.notIn)}` : ''} within ${step.withinMs} ms${step.as ? ` as ${step.as}` : ''}`;
    case 'expectOneLeader':
      return `expect exactly one leader within ${step.withinMs} ms`;
    case 'expectNoLeader':
      return `expect no leader among ${refs(step.among)} for ${step.forMs} ms`;
    case 'expectStableLeader':
      return `expect the same leader and term for ${step.forMs} ms`;
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
    case 'putKeys':
      return `put ${step.count} key(s) ${step.prefix}1..${step.prefix}${step.count}`;
    case 'watch':
      return `watch "${step.prefix}" on ${step.via} from revision ${step.fromRevision ?? 1}${step.as ? ` as ${step.as}` : ''}`;
    case 'expectWatch':
      return `expect watcher ${step.watcher ?? 'w'} to have every change in order, none missing or twice, within ${step.withinMs} ms${step.notOn ? ` and not on ${refs(step.notOn)}` : ''}`;
  }
}

/** One line describing any step of a Raft scenario. */
export function describeStep(step: ScenarioStep): string {
  return describeAnyStep(step, DESCRIBER);
}

// describing needs no cluster: only owns and describe are asked
const DESCRIBER: ScenarioProtocol<RaftStep> = {
  owns: (step): step is RaftStep => RAFT_STEPS.has(step.do),
  describe: describeRaftStep,
  run: () => undefined,
  leader: () => undefined,
  leaders: () => [],
};

/** A scenario's program on a cluster: the interpreter, Raft's steps, and what they share. */
export function scenarioProgram(
  cluster: RaftCluster,
  scenario: Scenario,
  observer: RaftStepsObserver = {},
): { program: ScenarioProgram; steps: RaftScenarioSteps; interpreter: ScenarioInterpreter<RaftMessage, RaftRequest, RaftResponse, RaftPersistOp, RaftStep> } {
  const steps = new RaftScenarioSteps(cluster, observer);
  const interpreter = new ScenarioInterpreter(cluster.sim, steps);
  return { program: interpreter.steps(scenario.steps), steps, interpreter };
}

/** Plays `scenario` with `seed`; expectations that fail stop it and are reported, never thrown. */
export function runScenario(scenario: Scenario, seed: number, options: Pick<ClusterOptions, 'trace'> = {}): ScenarioResult {
  const cluster = new RaftCluster({ ...scenario.cluster, ...options, seed, nodes: scenario.nodes });
  cluster.note(`scenario ${scenario.name}: ${scenario.caption}`);
  const { program, steps } = scenarioProgram(cluster, scenario);
  const failure = runScenarioProgram(cluster.sim, program);
  if (failure !== undefined) cluster.note(`scenario failed: ${failure}`);
  steps.stopClients();
  cluster.monitor.checkLogs();
  const linearizability = cluster.checkLinearizability().verdict;
  const violations = cluster.violations();
  return { scenario: scenario.name, seed, ok: failure === undefined && violations.length === 0 && linearizability !== 'not-linearizable', failure, violations, linearizability, cluster };
}
