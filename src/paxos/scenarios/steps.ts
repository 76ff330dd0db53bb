// Multi-Paxos's part of the scenario language (campaigns, no-ops, adopted values, recoveries,
// snapshots) on top of the common steps (src/sim/scenario.ts) and those Raft shares
// (src/raft/scenarios/kv-steps.ts), and the runner tests use. The visualizer plays the same programs.
import type { NodeId } from '../../core/index.js';
import type { Verdict } from '../../check/index.js';
import { describeKvClusterStep, isKvClusterStep, KvClusterSteps, until, type KvClusterStep, type KvStepsWording, type LeaderTenure } from '../../raft/scenarios/kv-steps.js';
import { describeStep as describeAnyStep, runScenarioProgram, ScenarioInterpreter, type ClusterScenario, type ClusterScenarioResult, type NodeRef, type ScenarioContext, type ScenarioProgram, type StepDescriber, type Step } from '../../sim/scenario.js';
import type { PaxosViolation } from '../monitors.js';
import type { PaxosMessage, PaxosPersistOp, PaxosRequest, PaxosResponse } from '../multi/types.js';
import { PaxosCluster, type PaxosClusterOptions } from '../sim/cluster.js';

/** Multi-Paxos's steps: those shared with Raft, and its own. */
export type PaxosStep = KvClusterStep | PaxosOwnStep;

/** The steps only Multi-Paxos has. */
type PaxosOwnStep =
  /** `node` runs phase 1 now (an operator's request). */
  | { readonly do: 'campaign'; readonly node: NodeRef }
  /** The leader `node` filled at least `atLeast` holes with no-ops after its phase 1. */
  | { readonly do: 'expectNoops'; readonly node: NodeRef; readonly atLeast: number }
  /** The leader `node` proposed again at least `atLeast` values its phase 1 found accepted. */
  | { readonly do: 'expectAdopted'; readonly node: NodeRef; readonly atLeast: number }
  /** `node` restarted from its durable state (the monitors checked it kept its promises) and caught up with the leader. */
  | { readonly do: 'expectRecovered'; readonly node: NodeRef; readonly withinMs: number }
  /** Every up node (or `nodes`) has a snapshot. */
  | { readonly do: 'expectSnapshot'; readonly nodes?: readonly NodeRef[] }
  /** Learners learned at least `atLeast` slots before an earlier one (decided out of order; applied in order all the same). */
  | { readonly do: 'expectOutOfOrder'; readonly atLeast: number };

export type PaxosScenarioStep = Step<PaxosStep>;

export interface PaxosScenario extends ClusterScenario<PaxosStep, PaxosClusterOptions> {
  readonly title: string;
}

export interface PaxosScenarioResult extends ClusterScenarioResult<PaxosViolation, PaxosCluster> {
  readonly linearizability: Verdict;
}

const PAXOS_OWN_STEPS: ReadonlySet<string> = new Set(['campaign', 'expectNoops', 'expectAdopted', 'expectRecovered', 'expectSnapshot', 'expectOutOfOrder']);

const PAXOS_WORDING: KvStepsWording = { leader: 'a ready leader', epoch: 'ballot', replica: 'replica' };

/** Multi-Paxos's steps on a PaxosCluster. One instance per run: it holds the clients. */
export class PaxosScenarioSteps extends KvClusterSteps<PaxosOwnStep, PaxosCluster> {
  constructor(c: PaxosCluster) {
    super(c, PAXOS_WORDING, PAXOS_OWN_STEPS);
  }

  describe(step: PaxosStep): string {
    return describePaxosStep(step);
  }

  protected runOwn(step: PaxosOwnStep, where: string, ctx: ScenarioContext): ScenarioProgram | void {
    const c = this.c;
    switch (step.do) {
      case 'campaign':
        for (const id of ctx.resolve(step.node, where)) c.campaign(id);
        return;
      case 'expectNoops': {
        const id = ctx.resolveOne(step.node, where);
        const n = c.core(id)?.noopsFilled ?? 0;
        if (n < step.atLeast) ctx.fail(where, `leader ${id} filled ${n} hole(s) with no-ops, expected at least ${step.atLeast}`);
        return;
      }
      case 'expectAdopted': {
        const id = ctx.resolveOne(step.node, where);
        const n = c.core(id)?.adopted ?? 0;
        if (n < step.atLeast) ctx.fail(where, `leader ${id} proposed again ${n} accepted value(s), expected at least ${step.atLeast}`);
        return;
      }
      case 'expectRecovered':
        return this.expectRecovered(ctx.resolveOne(step.node, where), step.withinMs, where, ctx);
      case 'expectSnapshot':
        for (const id of step.nodes ? ctx.resolveAll(step.nodes, where) : c.nodeIds.filter((n) => c.isUp(n))) {
          if (c.node(id).snapshotSlot === 0) ctx.fail(where, `node ${id} has no snapshot`);
        }
        return;
      case 'expectOutOfOrder':
        if (c.monitor.learnedOutOfOrder < step.atLeast) ctx.fail(where, `${c.monitor.learnedOutOfOrder} slot(s) learned out of order, expected at least ${step.atLeast}`);
        return;
    }
  }

  /** Paxos's tenure: `leader` stays the ready leader with the same ballot. */
  protected tenure(leader: NodeId): LeaderTenure {
    const c = this.c;
    const ballot = c.node(leader).ballot;
    return { ended: () => c.readyLeader() !== leader || JSON.stringify(c.node(leader).ballot) !== JSON.stringify(ballot), text: `leader ${leader}` };
  }

  protected checkAgreement(leader: NodeId): void {
    this.c.checkConvergence(leader);
  }

  protected describeNodes(): string {
    return this.c.describeNodes();
  }

  /** Without a ready leader the nodes' roles and ballots tell why (dueling candidates, a lost quorum). */
  protected override noLeaderDetail(): string {
    return ` [${this.c.describeNodes()}]`;
  }

  private *expectRecovered(id: NodeId, withinMs: number, where: string, ctx: ScenarioContext): ScenarioProgram {
    const c = this.c;
    if (!c.isUp(id)) return ctx.fail(where, `node ${id} is down`);
    const caughtUp = (): boolean => {
      const leader = c.readyLeader();
      return leader !== undefined && c.node(id).applied >= c.node(leader).applied;
    };
    if (!(yield until(caughtUp, withinMs))) ctx.fail(where, `node ${id} did not catch up: ${c.describeNodes()}`);
    if (c.monitor.recoveriesChecked === 0) ctx.fail(where, 'no restart was checked by the monitors');
  }
}

export function describePaxosStep(step: PaxosStep): string {
  if (isKvClusterStep(step)) return describeKvClusterStep(step, PAXOS_WORDING);
  const refs = (r: readonly NodeRef[]): string => `{${r.join(',')}}`;
  switch (step.do) {
    case 'campaign':
      return `${step.node} runs phase 1 now`;
    case 'expectNoops':
      return `expect leader ${step.node} to have filled at least ${step.atLeast} hole(s) with no-ops`;
    case 'expectAdopted':
      return `expect leader ${step.node} to have proposed again at least ${step.atLeast} value(s) found accepted`;
    case 'expectRecovered':
      return `expect ${step.node} to recover from its durable state and catch up within ${step.withinMs} ms`;
    case 'expectSnapshot':
      return `expect ${step.nodes ? refs(step.nodes) : 'every up node'} to hold a snapshot`;
    case 'expectOutOfOrder':
      return `expect at least ${step.atLeast} slot(s) learned out of order`;
  }
}

const DESCRIBER: StepDescriber<PaxosStep> = {
  owns: (step): step is PaxosStep => isKvClusterStep(step) || PAXOS_OWN_STEPS.has(step.do),
  describe: describePaxosStep,
};

export function describePaxosScenarioStep(step: PaxosScenarioStep): string {
  return describeAnyStep(step, DESCRIBER);
}

/** A scenario's program on a cluster: the interpreter, the steps, and what they share. */
export function paxosScenarioProgram(
  cluster: PaxosCluster,
  scenario: PaxosScenario,
): { program: ScenarioProgram; steps: PaxosScenarioSteps; interpreter: ScenarioInterpreter<PaxosMessage, PaxosRequest, PaxosResponse, PaxosPersistOp, PaxosStep> } {
  const steps = new PaxosScenarioSteps(cluster);
  const interpreter = new ScenarioInterpreter(cluster.sim, steps);
  return { program: interpreter.steps(scenario.steps), steps, interpreter };
}

/** Plays `scenario` with `seed`; expectations that fail stop it and are reported, never thrown. */
export function runPaxosScenario(scenario: PaxosScenario, seed: number, options: Pick<PaxosClusterOptions, 'trace' | 'wrapSpec' | 'unwrapCore'> = {}): PaxosScenarioResult {
  const cluster = new PaxosCluster({ ...scenario.cluster, ...options, seed, nodes: scenario.nodes });
  cluster.note(`scenario ${scenario.name}: ${scenario.caption}`);
  const { program, steps } = paxosScenarioProgram(cluster, scenario);
  const failure = runScenarioProgram(cluster.sim, program);
  if (failure !== undefined) cluster.note(`scenario failed: ${failure}`);
  steps.stopClients();
  const linearizability = cluster.checkLinearizability().verdict;
  const violations = cluster.violations();
  return { scenario: scenario.name, seed, ok: failure === undefined && cluster.monitor.violationCount === 0 && linearizability !== 'not-linearizable', failure, violations, linearizability, cluster };
}
