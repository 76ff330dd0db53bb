// The store's own scenario steps: name a key's home replicas and stand-ins, read and write through
// chosen nodes (with a context or blind), wait for answers, suspicion, copies, hints, convergence,
// and check what the tracker saw (acks counted toward W, answers toward R, repairs, stale reads).
import type { NodeId } from '../../core/index.js';
import type { NodeRef, ScenarioContext, ScenarioProgram, ScenarioProtocol, Step } from '../../sim/scenario.js';
import { storeKeyOf, type Level } from '../requests.js';
import { STAGE_BUCKET, type ContextChoice, type QuorumStage } from './stage.js';
import { contextOf, liveValues } from './text.js';
import type { TrackedRequest } from './tracker.js';

export type QuorumStep =
  /** Binds the key's home replicas (in preference order) to the names in `homes` and its stand-ins to `standIns`; the view follows the key. */
  | { readonly do: 'placement'; readonly key: string; readonly homes: readonly string[]; readonly standIns?: readonly string[] }
  /**
   * A client (default c1) writes `value` through `via`. `context`: "blind" (no context, the
   * default), "last" (the client's last context for the key) or the name of an earlier request
   * whose context it sends. Waits for the answer unless `wait` is false; `as` names the request.
   */
  | { readonly do: 'put'; readonly client?: string; readonly via: NodeRef; readonly key: string; readonly value: string; readonly w?: Level; readonly context?: string; readonly as?: string; readonly wait?: boolean }
  | { readonly do: 'get'; readonly client?: string; readonly via: NodeRef; readonly key: string; readonly r?: Level; readonly as?: string; readonly wait?: boolean }
  /**
   * c1 writes through `via` with its last context; `gapMs` after the answer c2 reads through
   * `readVia`. Chained in virtual time inside the step, so the read starts at the same moment
   * however the program is driven. Does not wait for the read's answer.
   */
  | { readonly do: 'putThenGet'; readonly via: NodeRef; readonly readVia: NodeRef; readonly key: string; readonly value: string; readonly w?: Level; readonly r?: Level; readonly gapMs: number }
  | { readonly do: 'awaitAnswers'; readonly withinMs: number }
  /** The named request's answer: ok or not; writes: the acks; reads: the values (sorted). */
  | { readonly do: 'expectAnswer'; readonly ref: string; readonly ok: boolean; readonly acks?: number; readonly values?: readonly string[] }
  /** How the named request fanned out: legs counted toward W or R, answered after the client was answered, and stand-ins asked. */
  | { readonly do: 'expectFanOut'; readonly ref: string; readonly counted: number; readonly late?: number; readonly standIns?: number }
  /** Every node of `by` treats `node` as down (it has not been heard from for suspectAfterMs). */
  | { readonly do: 'awaitSuspected'; readonly by: readonly NodeRef[]; readonly node: NodeRef; readonly withinMs: number }
  /** `node` (up) holds these live values of `key` (sorted; [] for none). */
  | { readonly do: 'expectCopy'; readonly node: NodeRef; readonly key: string; readonly values: readonly string[] }
  | { readonly do: 'awaitCopy'; readonly node: NodeRef; readonly key: string; readonly values: readonly string[]; readonly withinMs: number }
  | { readonly do: 'expectHint'; readonly holder: NodeRef; readonly target: NodeRef; readonly key: string }
  | { readonly do: 'awaitNoHints'; readonly withinMs: number }
  /** The named read's repair went to exactly these nodes. */
  | { readonly do: 'expectRepaired'; readonly ref: string; readonly nodes: readonly NodeRef[] }
  | { readonly do: 'awaitConverged'; readonly withinMs: number }
  /** The history holds at least this many stale and fresh reads (staleness.ts). */
  | { readonly do: 'expectReads'; readonly stale: number; readonly fresh: number };

const QUORUM_STEPS: ReadonlySet<string> = new Set([
  'placement',
  'put',
  'get',
  'putThenGet',
  'awaitAnswers',
  'expectAnswer',
  'expectFanOut',
  'awaitSuspected',
  'expectCopy',
  'awaitCopy',
  'expectHint',
  'awaitNoHints',
  'expectRepaired',
  'awaitConverged',
  'expectReads',
]);

const levelText = (name: 'R' | 'W', level: Level | undefined): string => (level === undefined ? '' : ` (${name}=${level})`);
const valuesText = (values: readonly string[]): string => (values.length === 0 ? 'nothing' : values.join(' | '));
const contextText = (context: string | undefined): string => (context === undefined || context === 'blind' ? ', blind' : context === 'last' ? ', with its last context' : `, with the context of ${context}`);

export function describeQuorumStep(step: QuorumStep): string {
  switch (step.do) {
    case 'placement':
      return `find where ${step.key} lives: home replicas ${step.homes.join(', ')}${step.standIns === undefined ? '' : `, stand-ins ${step.standIns.join(', ')}`}`;
    case 'put':
      return `${step.client ?? 'c1'} writes ${step.key} = ${step.value} through ${step.via}${levelText('W', step.w)}${contextText(step.context)}`;
    case 'get':
      return `${step.client ?? 'c1'} reads ${step.key} through ${step.via}${levelText('R', step.r)}`;
    case 'putThenGet':
      return `c1 writes ${step.key} = ${step.value} through ${step.via}${levelText('W', step.w)}; ${step.gapMs} ms after the answer c2 reads it through ${step.readVia}${levelText('R', step.r)}`;
    case 'awaitAnswers':
      return `wait until every client is answered (within ${step.withinMs} ms)`;
    case 'expectAnswer':
      return `expect ${step.ref} ${step.ok ? 'ok' : 'refused'}${step.acks === undefined ? '' : ` with ${step.acks} acks`}${step.values === undefined ? '' : ` reading ${valuesText(step.values)}`}`;
    case 'expectFanOut':
      return `expect ${step.ref} to have counted ${step.counted}${step.late === undefined ? '' : `, ${step.late} late`}${step.standIns === undefined ? '' : `, ${step.standIns} stand-in(s)`}`;
    case 'awaitSuspected':
      return `wait until ${step.by.join(', ')} treat${step.by.length === 1 ? 's' : ''} ${step.node} as down (within ${step.withinMs} ms)`;
    case 'expectCopy':
      return `expect ${step.node}'s copy of ${step.key}: ${valuesText(step.values)}`;
    case 'awaitCopy':
      return `wait until ${step.node}'s copy of ${step.key} is ${valuesText(step.values)} (within ${step.withinMs} ms)`;
    case 'expectHint':
      return `expect ${step.holder} to keep a hint of ${step.key} for ${step.target}`;
    case 'awaitNoHints':
      return `wait until no node keeps a hint (within ${step.withinMs} ms)`;
    case 'expectRepaired':
      return `expect the read ${step.ref} to have repaired ${step.nodes.length === 0 ? 'nobody' : step.nodes.join(', ')}`;
    case 'awaitConverged':
      return `wait until every key's home replicas agree and no hint waits (within ${step.withinMs} ms)`;
    case 'expectReads':
      return `expect at least ${step.stale} stale and ${step.fresh} fresh read(s)`;
  }
}

const until = (cond: () => boolean, withinMs: number) => ({ kind: 'until', until: cond, withinMs }) as const;

/** The store's steps on a QuorumStage; one instance per run (it keeps the named requests). */
export class QuorumScenarioSteps implements ScenarioProtocol<QuorumStep> {
  /** Requests named by `as`. */
  readonly named = new Map<string, TrackedRequest>();

  constructor(private readonly stage: QuorumStage) {}

  owns(step: Step<QuorumStep>): step is QuorumStep {
    return QUORUM_STEPS.has(step.do);
  }

  describe(step: QuorumStep): string {
    return describeQuorumStep(step);
  }

  leader(): NodeId | undefined {
    return undefined;
  }

  leaders(): NodeId[] {
    return [];
  }

  run(step: QuorumStep, where: string, ctx: ScenarioContext): ScenarioProgram | void {
    const s = this.stage;
    const key = (k: string): string => storeKeyOf(STAGE_BUCKET, k);
    switch (step.do) {
      case 'placement': {
        const list = s.preferenceList(key(step.key));
        step.homes.forEach((name, i) => ctx.bind(name, [list[i] as NodeId]));
        (step.standIns ?? []).forEach((name, i) => ctx.bind(name, [list[s.config.replicas + i] as NodeId]));
        s.focusKey = key(step.key);
        ctx.status(`${step.key}: home replicas ${list.slice(0, s.config.replicas).join(', ')}; stand-ins ${list.slice(s.config.replicas).join(', ')}`);
        return;
      }
      case 'put': {
        const rec = s.put(step.client ?? 'c1', ctx.resolveOne(step.via, where), step.key, step.value, { ...(step.w === undefined ? {} : { w: step.w }), context: this.context(step.context, where, ctx) });
        return this.sent(rec, step.as, step.wait, where, ctx);
      }
      case 'get': {
        const rec = s.get(step.client ?? 'c1', ctx.resolveOne(step.via, where), step.key, step.r === undefined ? {} : { r: step.r });
        return this.sent(rec, step.as, step.wait, where, ctx);
      }
      case 'putThenGet': {
        const readVia = ctx.resolveOne(step.readVia, where);
        s.put('c1', ctx.resolveOne(step.via, where), step.key, step.value, { ...(step.w === undefined ? {} : { w: step.w }), context: 'last' }, () => {
          s.sim.after(step.gapMs, () => void s.get('c2', readVia, step.key, step.r === undefined ? {} : { r: step.r }));
        });
        return;
      }
      case 'awaitAnswers':
        return this.expect(until(() => s.inFlight === 0, step.withinMs), () => ctx.fail(where, `${s.inFlight} request(s) still unanswered`));
      case 'expectAnswer':
        return this.expectAnswer(step, where, ctx);
      case 'expectFanOut': {
        const rec = this.request(step.ref, where, ctx);
        const counted = rec.legs.filter((l) => l.counted).length;
        const late = rec.legs.filter((l) => !l.counted && l.answeredMs !== null).length;
        const standIns = rec.legs.filter((l) => l.standsInFor !== null).length;
        if (counted !== step.counted || (step.late !== undefined && late !== step.late) || (step.standIns !== undefined && standIns !== step.standIns)) {
          ctx.fail(where, `${step.ref} counted ${counted}, ${late} late, ${standIns} stand-in(s)`);
        }
        return;
      }
      case 'awaitSuspected': {
        const node = ctx.resolveOne(step.node, where);
        const by = ctx.resolveAll(step.by, where);
        return this.expect(until(() => by.every((b) => s.node(b)?.isUp(node) === false), step.withinMs), () => ctx.fail(where, `${node} is still believed up`));
      }
      case 'expectCopy': {
        const node = ctx.resolveOne(step.node, where);
        const got = this.copy(node, key(step.key));
        if (got === null || !sameValues(got, step.values)) ctx.fail(where, `${node} holds ${got === null ? 'no copy: it is down' : valuesText(got)}`);
        return;
      }
      case 'awaitCopy': {
        const node = ctx.resolveOne(step.node, where);
        const k = key(step.key);
        return this.expect(until(() => sameValues(this.copy(node, k) ?? [], step.values) && this.copy(node, k) !== null, step.withinMs), () => ctx.fail(where, `${node} holds ${valuesText(this.copy(node, k) ?? [])}`));
      }
      case 'expectHint': {
        const holder = ctx.resolveOne(step.holder, where);
        const target = ctx.resolveOne(step.target, where);
        const hints = s.node(holder)?.hints() ?? [];
        if (!hints.some((h) => h.target === target && h.key === key(step.key))) ctx.fail(where, `${holder} keeps hints for ${hints.map((h) => `${h.target} (${h.key})`).join(', ') || 'nobody'}`);
        return;
      }
      case 'awaitNoHints':
        return this.expect(until(() => s.hintCount() === 0, step.withinMs), () => ctx.fail(where, `${s.hintCount()} hint(s) still kept`));
      case 'expectRepaired': {
        const rec = this.request(step.ref, where, ctx);
        const repaired = rec.legs.filter((l) => l.repairedMs !== null).map((l) => l.node).sort();
        const want = ctx.resolveAll(step.nodes, where).sort();
        if (repaired.join(',') !== want.join(',')) ctx.fail(where, `${step.ref} repaired ${repaired.join(', ') || 'nobody'}`);
        return;
      }
      case 'awaitConverged':
        return this.expect(until(() => s.converged(), step.withinMs), () => ctx.fail(where, 'the replicas have not converged'));
      case 'expectReads': {
        const verdicts = s.readVerdicts();
        const stale = verdicts.filter((v) => v.verdict === 'stale').length;
        const fresh = verdicts.filter((v) => v.verdict === 'fresh').length;
        if (stale < step.stale || fresh < step.fresh) ctx.fail(where, `${stale} stale and ${fresh} fresh read(s)`);
        return;
      }
    }
  }

  private context(name: string | undefined, where: string, ctx: ScenarioContext): ContextChoice {
    if (name === undefined || name === 'blind') return 'blind';
    if (name === 'last') return 'last';
    const rec = this.request(name, where, ctx);
    const context = contextOf(rec.response);
    return context === undefined ? ctx.fail(where, `${name} was not answered ok: no context to send`) : { context };
  }

  private request(name: string, where: string, ctx: ScenarioContext): TrackedRequest {
    return this.named.get(name) ?? ctx.fail(where, `no request named ${name}`);
  }

  /** Live values of `node`'s copy (sorted); null when the node is down. */
  private copy(node: NodeId, storeKey: string): string[] | null {
    const core = this.stage.node(node);
    return core === undefined ? null : liveValues(core.stateOf(storeKey));
  }

  private sent(rec: TrackedRequest, as: string | undefined, wait: boolean | undefined, where: string, ctx: ScenarioContext): ScenarioProgram | void {
    if (as !== undefined) this.named.set(as, rec);
    if (wait === false) return;
    // the client gives up after 3 request timeouts: it is answered (or timed out) by then
    return this.expect(until(() => rec.endMs !== null, 3 * this.stage.config.requestTimeoutMs + 10), () => ctx.fail(where, 'no answer'));
  }

  private expectAnswer(step: Extract<QuorumStep, { do: 'expectAnswer' }>, where: string, ctx: ScenarioContext): void {
    const rec = this.request(step.ref, where, ctx);
    const res = rec.response;
    const got = res === undefined ? 'no answer' : JSON.stringify(res);
    if ((res?.ok === true) !== step.ok) return ctx.fail(where, `${step.ref}: ${got}`);
    if (step.acks !== undefined && !(res !== undefined && 'acks' in res && res.acks === step.acks)) return ctx.fail(where, `${step.ref}: ${got}`);
    if (step.values !== undefined && !(res?.ok === true && res.op === 'get' && sameValues([...res.values].sort(), step.values))) return ctx.fail(where, `${step.ref}: ${got}`);
  }

  private *expect(wait: ReturnType<typeof until>, onFail: () => never): ScenarioProgram {
    if (!(yield wait)) onFail();
  }
}

function sameValues(a: readonly string[], b: readonly string[]): boolean {
  const sb = [...b].sort();
  return a.length === sb.length && [...a].sort().every((v, i) => v === sb[i]);
}
