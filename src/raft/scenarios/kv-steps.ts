// The scenario steps a simulated replicated KV cluster with one leader has, Raft's or Multi-Paxos's
// (leaders, writes, background clients, agreement). A protocol's steps extend KvClusterSteps with
// their own and fill the few hooks where the protocols differ (a leader's tenure, the agreement check).
import type { NodeId } from '../../core/index.js';
import type { NodeRef, ScenarioContext, ScenarioProgram, ScenarioProtocol, ScenarioWait, Step } from '../../sim/scenario.js';
import { startWorkload, type KvSubmitter, type Workload, type WorkloadHost } from '../workload.js';

/** The steps a leader-based KV cluster's scenarios share. */
export type KvClusterStep =
  /** A ready leader (not in `notIn`) within `withinMs`, bound to `as`. */
  | { readonly do: 'expectLeader'; readonly withinMs: number; readonly as?: string; readonly notIn?: readonly NodeRef[] }
  /** Exactly one up node believes it leads. */
  | { readonly do: 'expectOneLeader'; readonly withinMs: number }
  /** After `graceMs`, none of `among` leads for `forMs`. */
  | { readonly do: 'expectNoLeader'; readonly among: readonly NodeRef[]; readonly forMs: number; readonly graceMs?: number }
  /** The leader and its term (Raft) or ballot (Paxos) stay the same for `forMs`. */
  | { readonly do: 'expectStableLeader'; readonly forMs: number }
  | { readonly do: 'expectLeaderIs'; readonly node: NodeRef; readonly withinMs: number }
  /** `count` writes one after another through a retrying client; each must end `expect` (default ok). */
  | { readonly do: 'write'; readonly count: number; readonly expect?: 'ok' | 'any' }
  /** Proposes `count` writes straight to one node, once each, without waiting (e.g. to a cut-off leader). */
  | { readonly do: 'writeAsync'; readonly via: NodeRef; readonly count: number }
  | { readonly do: 'clients'; readonly count: number; readonly thinkMs?: number; readonly keys?: number }
  | { readonly do: 'stopClients'; readonly drainMs?: number }
  /** Every up replica applied what the ready leader applied (all acknowledged writes included), identically. */
  | { readonly do: 'expectAgreement'; readonly withinMs: number };

const KV_CLUSTER_STEPS: ReadonlySet<string> = new Set([
  'expectLeader', 'expectOneLeader', 'expectNoLeader', 'expectStableLeader', 'expectLeaderIs', 'write', 'writeAsync', 'clients', 'stopClients', 'expectAgreement',
]);

export function isKvClusterStep(step: { readonly do: string }): step is KvClusterStep {
  return KV_CLUSTER_STEPS.has(step.do);
}

/** The words that differ between protocols in descriptions and failure messages. */
export interface KvStepsWording {
  /** What expectLeader waits for: "a leader", "a ready leader". */
  readonly leader: string;
  /** What a stable leader keeps: "term", "ballot". */
  readonly epoch: string;
  /** What a copy of the state machine is called: "member", "replica". */
  readonly replica: string;
}

/** What the shared steps need of a cluster (RaftCluster, PaxosCluster): leaders, clients, progress, the monitor. */
export interface KvStepsCluster extends WorkloadHost<KvSubmitter> {
  readonly clientOptions: { readonly opTimeoutMs: number };
  /** The node that believes it leads (with the highest term or ballot), ready or not. */
  leader(): NodeId | undefined;
  /** Every up node that believes it leads. */
  leaders(): NodeId[];
  /** The leader, once it can serve requests. */
  readyLeader(): NodeId | undefined;
  /** Whether a ready leader exists and every up replica applied what it applied. */
  caughtUp(): boolean;
  core(id: NodeId): { status(): { readonly role: string } } | undefined;
  readonly monitor: { readonly violationCount: number; readonly violations: readonly { readonly message: string }[] };
}

/** How a leader's tenure, seen at the start of expectStableLeader, can end. */
export interface LeaderTenure {
  /** Whether another node leads now, or the tenure's term or ballot changed. */
  ended(): boolean;
  /** The tenure in a failure message ("leader 2 of term 1"). */
  readonly text: string;
}

type Wait = Extract<ScenarioWait, { kind: 'until' }>;

/** Run until `cond` holds, at most `withinMs`. */
export const until = (cond: () => boolean, withinMs: number): Wait => ({ kind: 'until', until: cond, withinMs });

/**
 * The shared steps on a cluster `C`; `Own` are the protocol's other steps, which the subclass
 * runs. One instance per run: it holds the clients, and numbers writes across steps so that
 * every written value is unique (the linearizability check needs that).
 */
export abstract class KvClusterSteps<Own extends { readonly do: string }, C extends KvStepsCluster> implements ScenarioProtocol<KvClusterStep | Own> {
  private readonly writer: KvSubmitter;
  private workload: Workload<KvSubmitter> | undefined;
  private workloads = 0;
  private writes = 0;
  private asyncClients = 0;

  constructor(
    protected readonly c: C,
    private readonly wording: KvStepsWording,
    private readonly ownSteps: ReadonlySet<string>,
  ) {
    this.writer = c.client('writer');
  }

  owns(step: Step<KvClusterStep | Own>): step is KvClusterStep | Own {
    return isKvClusterStep(step) || this.ownSteps.has(step.do);
  }

  abstract describe(step: KvClusterStep | Own): string;

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

  run(step: KvClusterStep | Own, where: string, ctx: ScenarioContext): ScenarioProgram | void {
    if (!isKvClusterStep(step)) return this.runOwn(step, where, ctx);
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
        const tenure = this.tenure(leader);
        return this.expectNot(until(() => tenure.ended(), step.forMs), () => ctx.fail(where, `${tenure.text} did not stay (now ${c.leader() ?? 'none'})`));
      }
      case 'expectLeaderIs': {
        const target = ctx.resolveOne(step.node, where);
        return this.expect(until(() => c.readyLeader() === target, step.withinMs), () => ctx.fail(where, `leader is ${c.leader() ?? 'nobody'}, not ${target}`));
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
    }
  }

  /** Runs one of the protocol's own steps. */
  protected abstract runOwn(step: Own, where: string, ctx: ScenarioContext): ScenarioProgram | void;

  /** The tenure of `leader`, the ready leader now, for expectStableLeader. */
  protected abstract tenure(leader: NodeId): LeaderTenure;

  /** Checks that every up replica agrees with `leader` (the monitor reports what does not). */
  protected abstract checkAgreement(leader: NodeId): void;

  /** Every node's state in one line, for failure messages. */
  protected abstract describeNodes(): string;

  /** What a failed expectLeader adds to its message (Raft adds nothing; Paxos the nodes' state). */
  protected noLeaderDetail(): string {
    return '';
  }

  /** Waits; calls `failed` when the condition did not hold in time. */
  protected *expect(wait: Wait, failed: () => never): ScenarioProgram {
    if (!(yield wait)) failed();
  }

  /** Waits; calls `failed` when the condition held (it must not happen in time). */
  protected *expectNot(wait: Wait, failed: () => never): ScenarioProgram {
    if (yield wait) failed();
  }

  /**
   * One put through the run's writer of the run's next value n (values stay unique across steps
   * for the linearizability check) to `key(n)`, waiting for it to end; with `expect` 'ok' it must
   * succeed, or the step fails naming it `name(n)`.
   */
  protected *put(key: (n: number) => string, name: (n: number) => string, expect: 'ok' | 'any', where: string, ctx: ScenarioContext): ScenarioProgram {
    const opTimeoutMs = this.c.clientOptions.opTimeoutMs;
    const n = ++this.writes;
    if (this.writer.busy) yield until(() => !this.writer.busy, opTimeoutMs + 10);
    const handle = this.writer.submit({ op: 'put', key: key(n), value: n });
    yield until(() => handle.done, opTimeoutMs + 10);
    if (expect === 'ok' && handle.outcome !== 'ok') ctx.fail(where, `${name(n)} ended ${handle.outcome ?? 'unfinished'} (${handle.error ?? ''})`);
  }

  private *expectLeader(step: Extract<KvClusterStep, { do: 'expectLeader' }>, where: string, ctx: ScenarioContext): ScenarioProgram {
    const c = this.c;
    const excluded = new Set(ctx.resolveAll(step.notIn ?? [], where));
    const ok = yield until(() => {
      const l = c.readyLeader();
      return l !== undefined && !excluded.has(l);
    }, step.withinMs);
    const leader = c.readyLeader();
    if (!ok || leader === undefined) return ctx.fail(where, `no leader${excluded.size > 0 ? ` outside {${[...excluded].join(',')}}` : ''} within ${step.withinMs} ms${this.noLeaderDetail()}`);
    if (step.as !== undefined) ctx.bind(step.as, [leader]);
  }

  private *expectNoLeader(step: Extract<KvClusterStep, { do: 'expectNoLeader' }>, where: string, ctx: ScenarioContext): ScenarioProgram {
    yield { kind: 'for', ms: step.graceMs ?? 400 };
    const among = ctx.resolveAll(step.among, where);
    const found = (): NodeId | undefined => among.find((id) => this.c.core(id)?.status().role === 'leader');
    if (yield until(() => found() !== undefined, step.forMs)) ctx.fail(where, `node ${found() ?? '?'} became leader`);
  }

  private *write(count: number, expect: 'ok' | 'any', where: string, ctx: ScenarioContext): ScenarioProgram {
    for (let i = 0; i < count; i++) {
      ctx.status(`write ${i + 1} of ${count}`);
      yield* this.put((n) => `w${n}`, (n) => `write ${n}`, expect, where, ctx);
    }
  }

  private writeAsync(targets: readonly NodeId[], count: number): void {
    for (const target of targets) {
      for (let i = 0; i < count; i++) {
        const n = ++this.writes;
        const client = this.c.client(`async${++this.asyncClients}`);
        client.submit({ op: 'put', key: `w${n}`, value: n }, { retry: false, target });
      }
    }
  }

  private *drainClients(drainMs: number | undefined): ScenarioProgram {
    const clients = this.workload?.clients ?? [];
    this.stopClients();
    yield until(() => clients.every((k) => !k.busy), drainMs ?? this.c.clientOptions.opTimeoutMs + 100);
  }

  private *expectAgreement(withinMs: number, where: string, ctx: ScenarioContext): ScenarioProgram {
    const c = this.c;
    if (!(yield until(() => c.caughtUp(), withinMs))) ctx.fail(where, `${this.wording.replica}s did not catch up: ${this.describeNodes()}`);
    const before = c.monitor.violationCount;
    this.checkAgreement(c.readyLeader() as NodeId);
    if (c.monitor.violationCount > before) ctx.fail(where, c.monitor.violations[c.monitor.violations.length - 1]?.message ?? `${this.wording.replica}s disagree`);
  }
}

/** One line describing one of the shared steps, in a protocol's words. */
export function describeKvClusterStep(step: KvClusterStep, wording: KvStepsWording): string {
  const refs = (r: readonly NodeRef[]): string => `{${r.join(',')}}`;
  switch (step.do) {
    case 'expectLeader':
      return `expect ${wording.leader}${step.notIn ? ` not in ${refs(step.notIn)}` : ''} within ${step.withinMs} ms${step.as ? ` as ${step.as}` : ''}`;
    case 'expectOneLeader':
      return `expect exactly one leader within ${step.withinMs} ms`;
    case 'expectNoLeader':
      return `expect no leader among ${refs(step.among)} for ${step.forMs} ms`;
    case 'expectStableLeader':
      return `expect the same leader and ${wording.epoch} for ${step.forMs} ms`;
    case 'expectLeaderIs':
      return `expect ${step.node} to lead within ${step.withinMs} ms`;
    case 'write':
      return `${step.count} write(s), each ${step.expect ?? 'ok'}`;
    case 'writeAsync':
      return `propose ${step.count} write(s) to ${step.via} without waiting`;
    case 'clients':
      return `start ${step.count} background clients`;
    case 'stopClients':
      return 'stop the background clients';
    case 'expectAgreement':
      return `expect every ${wording.replica} to agree within ${step.withinMs} ms`;
  }
}
