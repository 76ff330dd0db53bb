// The gossip group's own scenario steps: wait for the group to form, show a member's view, change a
// member's metadata and follow the rumour round by round, watch probes escalate, suspicions
// spread and be refuted or end in death, change documents on both sides of a partition and wait
// for them to converge, and check each against what the tracker and the checkers saw.
import type { NodeId } from '../../core/index.js';
import type { DocChange } from '../../crdt/doc.js';
import type { NodeRef, ScenarioContext, ScenarioProgram, ScenarioProtocol, Step } from '../../sim/scenario.js';
import { changeText, type GossipStage } from './stage.js';

export type GossipStep =
  /** Every live member holds every other live member alive at its own incarnation (the group formed, or healed). */
  | { readonly do: 'awaitFormed'; readonly withinMs: number }
  /** The member whose view a visualizer shows (when none is selected on the page). */
  | { readonly do: 'observe'; readonly node: NodeRef }
  /** `node` changes its metadata to `meta`: the rumour the tracker follows from then on. Waits for the answer. */
  | { readonly do: 'setMeta'; readonly node: NodeRef; readonly meta: string }
  /** Every live member has the rumour. */
  | { readonly do: 'awaitSpread'; readonly withinMs: number }
  /** It reached every live member within `atMost` gossip rounds of the change. */
  | { readonly do: 'expectRounds'; readonly atMost: number }
  /** A member's direct ping to `target` went unanswered and it asked others to probe (ping-req); binds the prober to `as`. */
  | { readonly do: 'awaitEscalation'; readonly target: NodeRef; readonly withinMs: number; readonly as?: string }
  /** Some live member (or each of `by`) holds `node` suspect; binds the first to hold it to `as`. */
  | { readonly do: 'awaitSuspected'; readonly node: NodeRef; readonly by?: readonly NodeRef[]; readonly withinMs: number; readonly as?: string }
  /** `node` refuted a suspicion (a higher incarnation than it had here) and every live member holds it alive at its incarnation. */
  | { readonly do: 'awaitRefuted'; readonly node: NodeRef; readonly withinMs: number }
  /** No member has held `node` dead since the scenario began. */
  | { readonly do: 'expectNeverDead'; readonly node: NodeRef }
  /** `node` crashes and stays down: the group must declare it dead. */
  | { readonly do: 'crashForGood'; readonly node: NodeRef }
  /** Every live member holds `node` dead. */
  | { readonly do: 'awaitDead'; readonly node: NodeRef; readonly withinMs: number }
  /** A client (default d1) asks `via` to change its document; waits for the answer unless `wait` is false. */
  | { readonly do: 'change'; readonly client?: string; readonly via: NodeRef; readonly change: DocChange; readonly wait?: boolean }
  /** At least two live members hold different documents. */
  | { readonly do: 'expectDocsDiffer' }
  /** Every live member holds the same document and no change waits for its answer. */
  | { readonly do: 'awaitDocsAgree'; readonly withinMs: number }
  /** The convergence checker finds nothing wrong with the documents and the changes (src/check/crdt-doc.ts). */
  | { readonly do: 'expectDocsValid' }
  /** The named entry reads `value` on every live member. */
  | { readonly do: 'expectEntry'; readonly kind: DocChange['kind']; readonly name: string; readonly value: number | boolean | readonly string[] };

const GOSSIP_STEPS: ReadonlySet<string> = new Set([
  'awaitFormed',
  'observe',
  'setMeta',
  'awaitSpread',
  'expectRounds',
  'awaitEscalation',
  'awaitSuspected',
  'awaitRefuted',
  'expectNeverDead',
  'crashForGood',
  'awaitDead',
  'change',
  'expectDocsDiffer',
  'awaitDocsAgree',
  'expectDocsValid',
  'expectEntry',
]);

export function describeGossipStep(step: GossipStep): string {
  switch (step.do) {
    case 'awaitFormed':
      return `wait until every member holds every other alive (within ${step.withinMs} ms)`;
    case 'observe':
      return `show ${step.node}'s view`;
    case 'setMeta':
      return `${step.node} changes its metadata to ${JSON.stringify(step.meta)}`;
    case 'awaitSpread':
      return `wait until every live member has the update (within ${step.withinMs} ms)`;
    case 'expectRounds':
      return `expect the update to have reached everyone within ${step.atMost} gossip rounds`;
    case 'awaitEscalation':
      return `wait until a member's ping to ${step.target} goes unanswered and it asks others to probe (within ${step.withinMs} ms)`;
    case 'awaitSuspected':
      return `wait until ${step.by === undefined ? 'a member' : step.by.join(', ')} hold${step.by?.length === 1 || step.by === undefined ? 's' : ''} ${step.node} suspect (within ${step.withinMs} ms)`;
    case 'awaitRefuted':
      return `wait until ${step.node} has refuted the suspicion and every live member holds it alive (within ${step.withinMs} ms)`;
    case 'expectNeverDead':
      return `expect that no member ever held ${step.node} dead`;
    case 'crashForGood':
      return `${step.node} crashes for good`;
    case 'awaitDead':
      return `wait until every live member holds ${step.node} dead (within ${step.withinMs} ms)`;
    case 'change':
      return `${step.client ?? 'd1'} asks ${step.via}: ${changeText(step.change)}`;
    case 'expectDocsDiffer':
      return 'expect the members\' documents to differ';
    case 'awaitDocsAgree':
      return `wait until every live member holds the same document (within ${step.withinMs} ms)`;
    case 'expectDocsValid':
      return 'expect the convergence checker to find every change accounted for';
    case 'expectEntry':
      return `expect ${step.name} = ${JSON.stringify(step.value)} on every live member`;
  }
}

const until = (cond: () => boolean, withinMs: number) => ({ kind: 'until', until: cond, withinMs }) as const;

/**
 * `cond` looked at no more than once per virtual millisecond: the conditions below look at every
 * member (some at every pair), and a run-to-the-answer driver asks after every event.
 */
function perMs(stage: GossipStage, cond: () => boolean): () => boolean {
  let atMs = -1;
  let last = false;
  return () => {
    if (stage.nowMs === atMs) return last;
    atMs = stage.nowMs;
    return (last = cond());
  };
}

/** The gossip steps on a GossipStage; one instance per run. */
export class GossipScenarioSteps implements ScenarioProtocol<GossipStep> {
  /** Incarnation each member had when the scenario first referred to it as suspect (for awaitRefuted). */
  private readonly suspectedAt = new Map<NodeId, number>();

  constructor(private readonly stage: GossipStage) {}

  owns(step: Step<GossipStep>): step is GossipStep {
    return GOSSIP_STEPS.has(step.do);
  }

  describe(step: GossipStep): string {
    return describeGossipStep(step);
  }

  leader(): NodeId | undefined {
    return undefined;
  }

  leaders(): NodeId[] {
    return [];
  }

  run(step: GossipStep, where: string, ctx: ScenarioContext): ScenarioProgram | void {
    const s = this.stage;
    switch (step.do) {
      case 'awaitFormed':
        return this.expect(until(perMs(s, () => s.membershipProblems(1).length === 0), step.withinMs), () => ctx.fail(where, s.membershipProblems(1)[0]?.message ?? 'the group has not formed'));
      case 'observe':
        s.focus = ctx.resolveOne(step.node, where);
        ctx.status(`showing ${s.focus}'s view`);
        return;
      case 'setMeta':
        return this.setMeta(ctx.resolveOne(step.node, where), step.meta, where, ctx);
      case 'awaitSpread':
        return this.expect(until(perMs(s, () => s.allInformed()), step.withinMs), () => ctx.fail(where, `${s.spread()?.informed ?? 0} of ${s.liveIds().length} members have the update`));
      case 'expectRounds': {
        const r = s.spread();
        if (r === undefined || r.rounds === null) return ctx.fail(where, 'the update has not reached everyone');
        if (r.rounds > step.atMost) return ctx.fail(where, `it took ${r.rounds} rounds`);
        ctx.status(`${r.members} members in ${r.rounds} rounds; log2 N = ${r.log2}`);
        return;
      }
      case 'awaitEscalation': {
        const target = ctx.resolveOne(step.target, where);
        const from = s.tracker.escalations.length;
        const found = () => s.tracker.escalations.slice(from).find((p) => p.target === target && p.relays.length > 0);
        return this.expectThen(until(() => found() !== undefined, step.withinMs), () => ctx.fail(where, `no probe of ${target} went indirect`), () => {
          const p = found();
          if (p !== undefined && step.as !== undefined) ctx.bind(step.as, [p.prober]);
          if (p !== undefined) ctx.status(`${p.prober} asked ${p.relays.join(', ')} to probe ${target}`);
        });
      }
      case 'awaitSuspected': {
        const node = ctx.resolveOne(step.node, where);
        const by = step.by === undefined ? undefined : ctx.resolveAll(step.by, where);
        const holders = (): NodeId[] => (by ?? s.liveIds()).filter((id) => id !== node && s.node(id)?.member(node)?.state === 'suspect');
        const held = (): boolean => (by === undefined ? holders().length > 0 : holders().length === by.length);
        return this.expectThen(until(perMs(s, held), step.withinMs), () => ctx.fail(where, `${node} is not held suspect`), () => {
          const first = holders()[0] as NodeId;
          const record = s.node(first)?.member(node);
          if (record !== undefined && !this.suspectedAt.has(node)) this.suspectedAt.set(node, record.incarnation);
          if (step.as !== undefined) ctx.bind(step.as, [first]);
        });
      }
      case 'awaitRefuted': {
        const node = ctx.resolveOne(step.node, where);
        const suspectedAt = this.suspectedAt.get(node);
        if (suspectedAt === undefined) return ctx.fail(where, `${node} was not seen suspect first (awaitSuspected)`);
        const refuted = (): boolean => {
          const own = s.node(node)?.incarnation;
          if (own === undefined || own <= suspectedAt) return false;
          return s.liveIds().every((id) => id === node || (s.node(id)?.member(node)?.state === 'alive' && s.node(id)?.member(node)?.incarnation === own));
        };
        return this.expectThen(until(perMs(s, refuted), step.withinMs), () => ctx.fail(where, `${node} is at incarnation ${s.node(node)?.incarnation ?? '?'}, not everyone holds it alive`), () => ctx.status(`${node} is alive at incarnation ${s.node(node)?.incarnation ?? '?'} everywhere`));
      }
      case 'expectNeverDead': {
        const node = ctx.resolveOne(step.node, where);
        const dead = [...s.tracker.milestones.values()].find((m) => m.subject === node && m.state === 'dead');
        if (dead !== undefined) ctx.fail(where, `${dead.first} held ${node} dead at ${dead.firstMs} ms`);
        return;
      }
      case 'crashForGood':
        s.crashForGood(ctx.resolveOne(step.node, where));
        return;
      case 'awaitDead': {
        const node = ctx.resolveOne(step.node, where);
        const dead = (): boolean => s.liveIds().every((id) => id === node || s.node(id)?.member(node)?.state === 'dead');
        const alive = (): string => s.liveIds().filter((id) => id !== node && s.node(id)?.member(node)?.state !== 'dead').join(', ');
        return this.expect(until(perMs(s, dead), step.withinMs), () => ctx.fail(where, `${alive()} still hold ${node} alive or suspect`));
      }
      case 'change': {
        const via = ctx.resolveOne(step.via, where);
        let answered = false;
        let ok = false;
        s.change(step.client ?? 'd1', via, step.change, (res) => {
          answered = true;
          ok = res?.ok === true;
        });
        if (step.wait === false) return;
        return this.expectThen(until(() => answered, 2_000), () => ctx.fail(where, 'no answer'), () => {
          if (!ok) ctx.fail(where, `${via} refused the change`);
        });
      }
      case 'expectDocsDiffer':
        if (s.docsAgree()) ctx.fail(where, 'every live member holds the same document');
        return;
      case 'awaitDocsAgree':
        return this.expect(until(perMs(s, () => s.docsInFlight === 0 && s.docsAgree()), step.withinMs), () => ctx.fail(where, `${s.majorityDocument()?.holders ?? 0} of ${s.liveIds().length} members hold the majority's document`));
      case 'expectDocsValid': {
        const problems = s.docProblems();
        if (problems.length > 0) ctx.fail(where, problems.map((p) => p.message).join('; '));
        return;
      }
      case 'expectEntry': {
        const want = JSON.stringify(step.value);
        for (const d of s.documents()) {
          const got = d.entries.find((e) => e.kind === step.kind && e.name === step.name);
          if (JSON.stringify(got?.value) !== want) ctx.fail(where, `${d.node} reads ${step.name} = ${JSON.stringify(got?.value)}`);
        }
        return;
      }
    }
  }

  private setMeta(node: NodeId, meta: string, where: string, ctx: ScenarioContext): ScenarioProgram {
    let answered = false;
    let ok = false;
    this.stage.setMeta('m1', node, meta, (res) => {
      answered = true;
      ok = res?.ok === true;
    });
    return this.expectThen(until(() => answered, 2_000), () => ctx.fail(where, 'no answer'), () => {
      if (!ok) ctx.fail(where, `${node} refused the metadata`);
    });
  }

  private *expect(wait: ReturnType<typeof until>, onFail: () => never): ScenarioProgram {
    if (!(yield wait)) onFail();
  }

  private *expectThen(wait: ReturnType<typeof until>, onFail: () => never, then: () => void): ScenarioProgram {
    if (!(yield wait)) onFail();
    then();
  }
}
