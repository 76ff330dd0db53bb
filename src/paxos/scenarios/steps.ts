// Multi-Paxos's part of the scenario language (leaders by ballot, writes, agreement, holes filled
// with no-ops, adopted values, recoveries, snapshots) on top of the steps every protocol shares
// (src/sim/scenario.ts), and the runner tests use. The visualizer plays the same programs with
// its own driver; neither interprets a step itself.
import type { NodeId } from '../../core/index.js';
import type { Verdict } from '../../check/index.js';
import type { KvRequest, KvResult } from '../../kv/store.js';
import { startWorkload, type Workload } from '../../raft/workload.js';
import type { OpHandle } from '../../sim/client.js';
import { describeStep as describeAnyStep, runScenarioProgram, ScenarioInterpreter, type NodeRef, type ScenarioContext, type ScenarioProgram, type ScenarioProtocol, type Step } from '../../sim/scenario.js';
import type { PaxosViolation } from '../monitors.js';
import type { PaxosMessage, PaxosPersistOp, PaxosRequest, PaxosResponse } from '../multi/types.js';
import { PaxosCluster, type PaxosClusterOptions, type PaxosKvClient } from '../sim/cluster.js';

export type PaxosStep =
  /** A ready leader (not in `notIn`) within `withinMs`, bound to `as`. */
  | { readonly do: 'expectLeader'; readonly withinMs: number; readonly as?: string; readonly notIn?: readonly NodeRef[] }
  /** Exactly one up node believes it leads. */
  | { readonly do: 'expectOneLeader'; readonly withinMs: number }
  /** After `graceMs`, none of `among` leads for `forMs`. */
  | { readonly do: 'expectNoLeader'; readonly among: readonly NodeRef[]; readonly forMs: number; readonly graceMs?: number }
  /** The leader and its ballot stay the same for `forMs`. */
  | { readonly do: 'expectStableLeader'; readonly forMs: number }
  | { readonly do: 'expectLeaderIs'; readonly node: NodeRef; readonly withinMs: number }
  /** `node` runs phase 1 now (an operator's request). */
  | { readonly do: 'campaign'; readonly node: NodeRef }
  /** `count` writes one after another through a retrying client; each must end `expect` (default ok). */
  | { readonly do: 'write'; readonly count: number; readonly expect?: 'ok' | 'any' }
  /** Proposes `count` writes straight to one node, once each, without waiting (e.g. to a cut-off leader). */
  | { readonly do: 'writeAsync'; readonly via: NodeRef; readonly count: number }
  | { readonly do: 'clients'; readonly count: number; readonly thinkMs?: number; readonly keys?: number }
  | { readonly do: 'stopClients'; readonly drainMs?: number }
  /** A ready leader, every up replica applied what it applied, and their state machines are identical. */
  | { readonly do: 'expectAgreement'; readonly withinMs: number }
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

export interface PaxosScenario {
  readonly name: string;
  readonly title: string;
  readonly caption: string;
  readonly nodes: number;
  readonly cluster?: Omit<PaxosClusterOptions, 'seed' | 'nodes'>;
  readonly steps: readonly PaxosScenarioStep[];
}

export interface PaxosScenarioResult {
  readonly scenario: string;
  readonly seed: number;
  /** No failed expectation, no monitor violation, and a linearizable history. */
  readonly ok: boolean;
  readonly failure: string | undefined;
  readonly violations: readonly PaxosViolation[];
  readonly linearizability: Verdict;
  readonly cluster: PaxosCluster;
}

const PAXOS_STEPS: ReadonlySet<string> = new Set([
  'expectLeader', 'expectOneLeader', 'expectNoLeader', 'expectStableLeader', 'expectLeaderIs', 'campaign', 'write', 'writeAsync', 'clients', 'stopClients',
  'expectAgreement', 'expectNoops', 'expectAdopted', 'expectRecovered', 'expectSnapshot', 'expectOutOfOrder',
]);

const until = (cond: () => boolean, withinMs: number) => ({ kind: 'until', until: cond, withinMs }) as const;

/** Multi-Paxos's steps on a PaxosCluster. One instance per run: it holds the clients. */
export class PaxosScenarioSteps implements ScenarioProtocol<PaxosStep> {
  private readonly writer: PaxosKvClient;
  private workload: Workload<PaxosKvClient> | undefined;
  private workloads = 0;
  private writes = 0;
  private asyncClients = 0;

  constructor(private readonly c: PaxosCluster) {
    this.writer = c.client('writer');
  }

  owns(step: PaxosScenarioStep): step is PaxosStep {
    return PAXOS_STEPS.has(step.do);
  }

  describe(step: PaxosStep): string {
    return describePaxosStep(step);
  }

  leader(): NodeId | undefined {
    return this.c.readyLeader() ?? this.c.leader();
  }

  leaders(): NodeId[] {
    return this.c.leaders();
  }

  stopClients(): void {
    this.workload?.stop();
    this.workload = undefined;
  }

  run(step: PaxosStep, where: string, ctx: ScenarioContext): ScenarioProgram | void {
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
        const ballot = c.node(leader).ballot;
        const changed = (): boolean => c.readyLeader() !== leader || JSON.stringify(c.node(leader).ballot) !== JSON.stringify(ballot);
        return this.expectNot(until(changed, step.forMs), () => ctx.fail(where, `leader ${leader} did not stay (now ${c.leader() ?? 'none'})`));
      }
      case 'expectLeaderIs': {
        const target = ctx.resolveOne(step.node, where);
        return this.expect(until(() => c.readyLeader() === target, step.withinMs), () => ctx.fail(where, `leader is ${c.leader() ?? 'nobody'}, not ${target}`));
      }
      case 'campaign':
        for (const id of ctx.resolve(step.node, where)) c.campaign(id);
        return;
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

  private *expect(wait: ReturnType<typeof until>, failed: () => never): ScenarioProgram {
    if (!(yield wait)) failed();
  }

  private *expectNot(wait: ReturnType<typeof until>, failed: () => never): ScenarioProgram {
    if (yield wait) failed();
  }

  private *expectLeader(step: Extract<PaxosStep, { do: 'expectLeader' }>, where: string, ctx: ScenarioContext): ScenarioProgram {
    const c = this.c;
    const excluded = new Set(ctx.resolveAll(step.notIn ?? [], where));
    const ok = yield until(() => {
      const l = c.readyLeader();
      return l !== undefined && !excluded.has(l);
    }, step.withinMs);
    const leader = c.readyLeader();
    if (!ok || leader === undefined) return ctx.fail(where, `no leader${excluded.size > 0 ? ` outside {${[...excluded].join(',')}}` : ''} within ${step.withinMs} ms [${c.describeNodes()}]`);
    if (step.as !== undefined) ctx.bind(step.as, [leader]);
  }

  private *expectNoLeader(step: Extract<PaxosStep, { do: 'expectNoLeader' }>, where: string, ctx: ScenarioContext): ScenarioProgram {
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

  private writeAsync(targets: readonly NodeId[], count: number): OpHandle<KvRequest, KvResult>[] {
    const handles: OpHandle<KvRequest, KvResult>[] = [];
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
    if (!(yield until(() => c.caughtUp(), withinMs))) ctx.fail(where, `replicas did not catch up: ${c.describeNodes()}`);
    const before = c.monitor.violationCount;
    c.checkConvergence(c.readyLeader() as NodeId);
    if (c.monitor.violationCount > before) ctx.fail(where, c.monitor.violations[c.monitor.violations.length - 1]?.message ?? 'replicas disagree');
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
  const refs = (r: readonly NodeRef[]): string => `{${r.join(',')}}`;
  switch (step.do) {
    case 'expectLeader':
      return `expect a ready leader${step.notIn ? ` not in ${refs(step.notIn)}` : ''} within ${step.withinMs} ms${step.as ? ` as ${step.as}` : ''}`;
    case 'expectOneLeader':
      return `expect exactly one leader within ${step.withinMs} ms`;
    case 'expectNoLeader':
      return `expect no leader among ${refs(step.among)} for ${step.forMs} ms`;
    case 'expectStableLeader':
      return `expect the same leader and ballot for ${step.forMs} ms`;
    case 'expectLeaderIs':
      return `expect ${step.node} to lead within ${step.withinMs} ms`;
    case 'campaign':
      return `${step.node} runs phase 1 now`;
    case 'write':
      return `${step.count} write(s), each ${step.expect ?? 'ok'}`;
    case 'writeAsync':
      return `propose ${step.count} write(s) to ${step.via} without waiting`;
    case 'clients':
      return `start ${step.count} background clients`;
    case 'stopClients':
      return 'stop the background clients';
    case 'expectAgreement':
      return `expect every replica to agree within ${step.withinMs} ms`;
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

const DESCRIBER: ScenarioProtocol<PaxosStep> = {
  owns: (step): step is PaxosStep => PAXOS_STEPS.has(step.do),
  describe: describePaxosStep,
  run: () => undefined,
  leader: () => undefined,
  leaders: () => [],
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
