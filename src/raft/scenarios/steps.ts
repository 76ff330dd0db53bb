// Raft's part of the scenario language (commits, snapshots, membership, watches) on top of the
// common steps (src/sim/scenario.ts) and those Multi-Paxos shares (kv-steps.ts), and the runner
// tests use. The visualizer plays the same programs with its own driver.
import type { NodeId } from '../../core/index.js';
import type { LinkConfig } from '../../sim/network.js';
import { describeStep as describeAnyStep, runScenarioProgram, ScenarioInterpreter, type ClusterScenario, type ClusterScenarioResult, type NodeRef, type ScenarioContext, type ScenarioProgram, type StepDescriber, type Step } from '../../sim/scenario.js';
import type { Verdict } from '../../check/index.js';
import { RaftCluster, type AdminResult, type ClusterOptions } from '../cluster.js';
import type { MonitorViolation } from '../monitors.js';
import type { AdminRequestType, RaftMessage, RaftPersistOp, RaftRequest, RaftResponse } from '../types.js';
import { appliedRevision, changeLog, ClusterWatcher, clusterWatchPort } from '../watcher.js';
import { describeKvClusterStep, isKvClusterStep, KvClusterSteps, until, type KvClusterStep, type KvStepsWording, type LeaderTenure } from './kv-steps.js';

export type { NodeRef };

/** Raft's steps: those shared with Multi-Paxos, and its own. */
export type RaftStep = KvClusterStep | RaftOwnStep;

/** The steps only Raft has. */
type RaftOwnStep =
  /** No node among `among` advances its commit index for `forMs`. */
  | { readonly do: 'expectNoCommit'; readonly among: readonly NodeRef[]; readonly forMs: number }
  /** Every up node (or `nodes`) has compacted its log into a snapshot. */
  | { readonly do: 'expectSnapshot'; readonly nodes?: readonly NodeRef[] }
  /** At least one InstallSnapshot chunk was delivered since the start. */
  | { readonly do: 'expectSnapshotSent' }
  | { readonly do: 'addNode'; readonly id: NodeId }
  | { readonly do: 'admin'; readonly type: AdminRequestType; readonly node: NodeRef; readonly expect?: 'ok' | 'fail' | 'any'; readonly withinMs?: number }
  | { readonly do: 'expectMembers'; readonly voters: readonly NodeRef[]; readonly learners?: readonly NodeRef[] }
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

export type Scenario = ClusterScenario<RaftStep, ClusterOptions>;

export interface ScenarioResult extends ClusterScenarioResult<MonitorViolation, RaftCluster> {
  readonly linearizability: Verdict;
}

/** A lossy network: some loss, reordering and duplication. */
export const LOSSY: Partial<LinkConfig> = { lossRate: 0.1, reorderRate: 0.2, reorderWindowMs: 40, duplicateRate: 0.05 };

const RAFT_OWN_STEPS: ReadonlySet<string> = new Set(['expectNoCommit', 'expectSnapshot', 'expectSnapshotSent', 'addNode', 'admin', 'expectMembers', 'putKeys', 'watch', 'expectWatch']);

const RAFT_WORDING: KvStepsWording = { leader: 'a leader', epoch: 'term', replica: 'member' };

/** What a run's owner may want to know about the steps (the visualizer draws a scenario's watchers). */
export interface RaftStepsObserver {
  watchStarted?(name: string, watcher: ClusterWatcher): void;
}

/** Raft's steps on a RaftCluster (or the visualizer's subclass of it). One instance per run: it holds the clients and watchers. */
export class RaftScenarioSteps extends KvClusterSteps<RaftOwnStep, RaftCluster> {
  private readonly watchers = new Map<string, ClusterWatcher>();

  constructor(
    c: RaftCluster,
    private readonly observer: RaftStepsObserver = {},
  ) {
    super(c, RAFT_WORDING, RAFT_OWN_STEPS);
  }

  /** A watcher started by a `watch` step. */
  watcher(name: string): ClusterWatcher | undefined {
    return this.watchers.get(name);
  }

  describe(step: RaftStep): string {
    return describeRaftStep(step);
  }

  protected runOwn(step: RaftOwnStep, where: string, ctx: ScenarioContext): ScenarioProgram | void {
    const c = this.c;
    switch (step.do) {
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

  /** Raft's tenure: `leader` stays the ready leader and no up node moves to another term (an election, even a lost one, ends it). */
  protected tenure(leader: NodeId): LeaderTenure {
    const c = this.c;
    const term = c.node(leader).term;
    return { ended: () => c.readyLeader() !== leader || c.nodeIds.some((id) => c.isUp(id) && c.node(id).term !== term), text: `leader ${leader} of term ${term}` };
  }

  protected checkAgreement(leader: NodeId): void {
    this.c.monitor.checkConvergence(leader);
    this.c.monitor.checkLogs();
  }

  protected describeNodes(): string {
    return this.c
      .nodes()
      .map((n) => `${n.id}:${n.up ? `${n.role}/t${n.term}/c${n.commit}/a${n.applied}` : 'down'}`)
      .join(' ');
  }

  private *putKeys(prefix: string, count: number, where: string, ctx: ScenarioContext): ScenarioProgram {
    for (let i = 1; i <= count; i++) {
      ctx.status(`put ${prefix}${i} (${i} of ${count})`);
      yield* this.put(() => `${prefix}${i}`, () => `put ${prefix}${i}`, 'ok', where, ctx);
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
  if (isKvClusterStep(step)) return describeKvClusterStep(step, RAFT_WORDING);
  const refs = (r: readonly NodeRef[]): string => `{${r.join(',')}}`;
  switch (step.do) {
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

const DESCRIBER: StepDescriber<RaftStep> = {
  owns: (step): step is RaftStep => isKvClusterStep(step) || RAFT_OWN_STEPS.has(step.do),
  describe: describeRaftStep,
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
