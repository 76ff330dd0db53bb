// Single-decree Paxos's part of the scenario language (proposals, what is chosen, learned and
// adopted, ballots tried) on top of the steps every protocol shares (src/sim/scenario.ts), and the
// runner tests use. The visualizer plays the same programs with its own driver.
import type { JsonValue, NodeId } from '../../core/index.js';
import { describeStep as describeAnyStep, runScenarioProgram, ScenarioInterpreter, type ClusterScenario, type ClusterScenarioResult, type NodeRef, type ScenarioContext, type ScenarioProgram, type ScenarioProtocol, type StepDescriber, type Step } from '../../sim/scenario.js';
import type { PaxosViolation } from '../monitors.js';
import { SynodCluster, type ProposalHandle, type SynodClusterOptions } from '../sim/synod-cluster.js';
import type { SynodMessage, SynodPersistOp, SynodRequest, SynodResponse } from '../single/types.js';

export type SynodStep =
  /** A client asks the proposer on `via` to propose `value` (not waiting); its answer is kept as `as` (default: the value as JSON). */
  | { readonly do: 'propose'; readonly via: NodeRef; readonly value: JsonValue; readonly as?: string }
  /** Some value (`value`, when given) is chosen: |Q2| acceptors accepted it in one ballot. */
  | { readonly do: 'expectChosen'; readonly withinMs: number; readonly value?: JsonValue }
  /** Nothing is chosen for `forMs`. */
  | { readonly do: 'expectNothingChosen'; readonly forMs: number }
  /** Every up learner (or each of `nodes`) learned `value` (or the chosen value). */
  | { readonly do: 'expectLearned'; readonly withinMs: number; readonly value?: JsonValue; readonly nodes?: readonly NodeRef[] }
  /** The proposal kept as `as` was answered with `value`; `own`: whether that is the value it asked for. */
  | { readonly do: 'expectAnswer'; readonly as: string; readonly withinMs: number; readonly value: JsonValue; readonly own: boolean }
  /** The proposer on `node` sent, in phase 2, a value it adopted from an acceptance reported in phase 1. */
  | { readonly do: 'expectAdopted'; readonly node: NodeRef }
  /** The proposer on `node` has tried at least `atLeast` ballots. */
  | { readonly do: 'expectAttempts'; readonly node: NodeRef; readonly atLeast: number }
  /** The acceptor on `node` has accepted `value` (in some ballot). */
  | { readonly do: 'expectAccepted'; readonly node: NodeRef; readonly value: JsonValue };

export type SynodScenarioStep = Step<SynodStep>;

export interface SynodScenario extends ClusterScenario<SynodStep, SynodClusterOptions> {
  readonly title: string;
}

/** `ok`: no failed expectation and no monitor violation (there is no KV history to check). */
export type SynodScenarioResult = ClusterScenarioResult<PaxosViolation, SynodCluster>;

const SYNOD_STEPS: ReadonlySet<string> = new Set(['propose', 'expectChosen', 'expectNothingChosen', 'expectLearned', 'expectAnswer', 'expectAdopted', 'expectAttempts', 'expectAccepted']);

const until = (cond: () => boolean, withinMs: number) => ({ kind: 'until', until: cond, withinMs }) as const;
const same = (a: JsonValue | undefined, b: JsonValue | undefined): boolean => JSON.stringify(a) === JSON.stringify(b);
const show = (v: JsonValue | undefined): string => (v === undefined ? 'nothing' : JSON.stringify(v));

export class SynodScenarioSteps implements ScenarioProtocol<SynodStep> {
  private readonly proposals = new Map<string, ProposalHandle>();

  constructor(private readonly c: SynodCluster) {}

  owns(step: SynodScenarioStep): step is SynodStep {
    return SYNOD_STEPS.has(step.do);
  }

  describe(step: SynodStep): string {
    return describeSynodStep(step);
  }

  /** Single-decree Paxos has no leader: "leader" names the proposer in phase 2, if any. */
  leader(): NodeId | undefined {
    return this.c.nodeIds.find((id) => this.c.core(id)?.proposer?.phase === 'accepting');
  }

  leaders(): NodeId[] {
    return this.c.nodeIds.filter((id) => this.c.core(id)?.proposer?.phase === 'accepting');
  }

  /** The proposal kept as `name`. */
  proposal(name: string): ProposalHandle | undefined {
    return this.proposals.get(name);
  }

  run(step: SynodStep, where: string, ctx: ScenarioContext): ScenarioProgram | void {
    const c = this.c;
    switch (step.do) {
      case 'propose': {
        const via = ctx.resolveOne(step.via, where);
        this.proposals.set(step.as ?? JSON.stringify(step.value), c.propose(via, step.value));
        return;
      }
      case 'expectChosen':
        return this.expect(until(() => c.chosen() !== undefined && (step.value === undefined || same(c.chosen(), step.value)), step.withinMs), () =>
          ctx.fail(where, `chosen: ${show(c.chosen())}${step.value === undefined ? '' : `, expected ${show(step.value)}`}`),
        );
      case 'expectNothingChosen':
        return this.expectNot(until(() => c.chosen() !== undefined, step.forMs), () => ctx.fail(where, `${show(c.chosen())} was chosen`));
      case 'expectLearned': {
        const nodes = step.nodes === undefined ? c.placement.learners.filter((id) => c.isUp(id)) : ctx.resolveAll(step.nodes, where);
        const want = (): JsonValue | undefined => step.value ?? c.chosen();
        const missing = (): NodeId | undefined => nodes.find((id) => want() === undefined || !same(c.learned(id), want()));
        return this.expect(until(() => missing() === undefined, step.withinMs), () => ctx.fail(where, `learner ${missing() ?? '?'} learned ${show(c.learned(missing() ?? ''))}, expected ${show(want())}`));
      }
      case 'expectAnswer': {
        const p = this.proposals.get(step.as);
        if (p === undefined) return ctx.fail(where, `no proposal kept as ${step.as}`);
        return this.expect(until(() => p.done, step.withinMs), () => ctx.fail(where, `proposal ${step.as} via ${p.via} was not answered`), () => {
          if (!same(p.chosen, step.value) || p.own !== step.own) ctx.fail(where, `proposal ${step.as} was answered ${show(p.chosen)} (own: ${String(p.own)}), expected ${show(step.value)} (own: ${String(step.own)})`);
        });
      }
      case 'expectAdopted': {
        const id = ctx.resolveOne(step.node, where);
        if (!c.adopted(id)) ctx.fail(where, `the proposer on ${id} did not adopt an earlier acceptance (phase ${c.core(id)?.proposer?.phase ?? 'down'})`);
        return;
      }
      case 'expectAttempts': {
        const id = ctx.resolveOne(step.node, where);
        if (c.attempts(id) < step.atLeast) ctx.fail(where, `the proposer on ${id} tried ${c.attempts(id)} ballot(s), expected at least ${step.atLeast}`);
        return;
      }
      case 'expectAccepted': {
        const id = ctx.resolveOne(step.node, where);
        const accepted = c.core(id)?.acceptor?.accepted;
        if (accepted === undefined || accepted === null || !same(accepted.value, step.value)) ctx.fail(where, `acceptor ${id} accepted ${accepted === undefined || accepted === null ? 'nothing' : show(accepted.value)}, expected ${show(step.value)}`);
        return;
      }
    }
  }

  private *expect(wait: ReturnType<typeof until>, failed: () => never, then?: () => void): ScenarioProgram {
    if (!(yield wait)) failed();
    then?.();
  }

  private *expectNot(wait: ReturnType<typeof until>, failed: () => never): ScenarioProgram {
    if (yield wait) failed();
  }
}

export function describeSynodStep(step: SynodStep): string {
  switch (step.do) {
    case 'propose':
      return `a client asks ${step.via} to propose ${JSON.stringify(step.value)}`;
    case 'expectChosen':
      return `expect ${step.value === undefined ? 'a value' : JSON.stringify(step.value)} chosen within ${step.withinMs} ms`;
    case 'expectNothingChosen':
      return `expect nothing chosen for ${step.forMs} ms`;
    case 'expectLearned':
      return `expect ${step.nodes === undefined ? 'every learner' : `{${step.nodes.join(',')}}`} to learn ${step.value === undefined ? 'the chosen value' : JSON.stringify(step.value)} within ${step.withinMs} ms`;
    case 'expectAnswer':
      return `expect proposal ${step.as} answered ${JSON.stringify(step.value)} (${step.own ? 'its own value' : 'not its own value'}) within ${step.withinMs} ms`;
    case 'expectAdopted':
      return `expect the proposer on ${step.node} to have adopted an earlier accepted value`;
    case 'expectAttempts':
      return `expect the proposer on ${step.node} to have tried at least ${step.atLeast} ballots`;
    case 'expectAccepted':
      return `expect acceptor ${step.node} to have accepted ${JSON.stringify(step.value)}`;
  }
}

const DESCRIBER: StepDescriber<SynodStep> = {
  owns: (step): step is SynodStep => SYNOD_STEPS.has(step.do),
  describe: describeSynodStep,
};

export function describeSynodScenarioStep(step: SynodScenarioStep): string {
  return describeAnyStep(step, DESCRIBER);
}

/** A scenario's program on a cluster: the interpreter, the steps, and what they share. */
export function synodScenarioProgram(
  cluster: SynodCluster,
  scenario: SynodScenario,
): { program: ScenarioProgram; steps: SynodScenarioSteps; interpreter: ScenarioInterpreter<SynodMessage, SynodRequest, SynodResponse, SynodPersistOp, SynodStep> } {
  const steps = new SynodScenarioSteps(cluster);
  const interpreter = new ScenarioInterpreter(cluster.sim, steps);
  return { program: interpreter.steps(scenario.steps), steps, interpreter };
}

/** Plays `scenario` with `seed`; expectations that fail stop it and are reported, never thrown. */
export function runSynodScenario(scenario: SynodScenario, seed: number, options: Pick<SynodClusterOptions, 'trace' | 'wrapSpec' | 'unwrapCore'> = {}): SynodScenarioResult {
  const cluster = new SynodCluster({ ...scenario.cluster, ...options, seed, nodes: scenario.nodes });
  cluster.note(`scenario ${scenario.name}: ${scenario.caption}`);
  const { program } = synodScenarioProgram(cluster, scenario);
  const failure = runScenarioProgram(cluster.sim, program);
  if (failure !== undefined) cluster.note(`scenario failed: ${failure}`);
  const violations = cluster.violations();
  return { scenario: scenario.name, seed, ok: failure === undefined && cluster.monitor.violationCount === 0, failure, violations, cluster };
}
