// Choreographed sagas, sans-I/O: no orchestrator, each service reacts to the previous service's
// event and emits the next, all on one durable event log. An event carries the saga's
// correlation id and a hop count (bounded); a failure event makes the earlier services
// compensate in reverse, each compensation's event triggering the one before it.
import type { JsonValue } from '../core/index.js';
import type { SagaEffect } from './check.js';
import { idempotencyKey, SagaError, type SagaOutcome, type SagaPhase } from './types.js';

/** One event of the log. Its id is deterministic, so appending it twice is a no-op. */
export interface ChoreoEvent {
  readonly id: string;
  readonly correlationId: string;
  /** 'started', or STEP:done, STEP:failed, STEP:compensated. */
  readonly type: string;
  /** How many reactions led here from the start (the start is hop 0). */
  readonly hop: number;
  /** The service that emitted it ('client' for the start). */
  readonly source: string;
  /** The event it reacts to (null for the start). */
  readonly causedBy: string | null;
  readonly payload: JsonValue;
}

export interface ChoreographyPlan {
  readonly name: string;
  /** The services in the order they act; each compensates its own action. */
  readonly steps: readonly string[];
  /** Events further than this from the start are refused (SAGA_HOP_LIMIT). Default 2 * steps + 2. */
  readonly maxHops?: number;
}

/** What one service must do in reaction to one event. */
export interface Reaction {
  readonly step: number;
  readonly service: string;
  readonly phase: SagaPhase;
  /** The idempotency key of the work, and the id of the event that reports it. */
  readonly key: string;
  readonly cause: ChoreoEvent;
}

export type ReactionResult = { readonly ok: true; readonly output: JsonValue } | { readonly ok: false; readonly error: string };

export function checkChoreographyPlan(plan: ChoreographyPlan): void {
  if (plan.steps.length === 0) throw new SagaError('SAGA_BAD_PLAN', `choreography ${plan.name}: needs at least one step`);
  if (new Set(plan.steps).size !== plan.steps.length || plan.steps.some((s) => s === '' || s.includes(':') || s.includes('/'))) {
    throw new SagaError('SAGA_BAD_PLAN', `choreography ${plan.name}: step names must be unique, non-empty, without ":" or "/"`);
  }
}

function stepOf(plan: ChoreographyPlan, type: string): { step: number; what: string } | undefined {
  const colon = type.lastIndexOf(':');
  if (colon < 0) return undefined;
  const step = plan.steps.indexOf(type.slice(0, colon));
  return step < 0 ? undefined : { step, what: type.slice(colon + 1) };
}

/**
 * Which service reacts to `event`, and how: the start and STEP:done trigger the next action;
 * STEP:failed and STEP:compensated trigger the compensation of the step before. Undefined: the
 * event ends the flow (the last step done, the first step failed or compensated).
 */
export function reactionTo(plan: ChoreographyPlan, event: ChoreoEvent): Reaction | undefined {
  const make = (step: number, phase: SagaPhase): Reaction => ({ step, service: plan.steps[step] as string, phase, key: idempotencyKey(event.correlationId, step, plan.steps[step] as string, phase), cause: event });
  if (event.type === 'started') return make(0, 'action');
  const at = stepOf(plan, event.type);
  if (at === undefined) return undefined;
  if (at.what === 'done') return at.step + 1 < plan.steps.length ? make(at.step + 1, 'action') : undefined;
  if (at.what === 'failed' || at.what === 'compensated') return at.step > 0 ? make(at.step - 1, 'compensation') : undefined;
  return undefined;
}

/** The event a service emits for a reaction's result; its id is the reaction's key. */
export function resultEvent(reaction: Reaction, result: ReactionResult): ChoreoEvent {
  const step = reaction.service;
  const type = reaction.phase === 'compensation' ? `${step}:compensated` : result.ok ? `${step}:done` : `${step}:failed`;
  const payload: JsonValue = result.ok ? result.output : { error: result.error };
  return { id: reaction.key, correlationId: reaction.cause.correlationId, type, hop: reaction.cause.hop + 1, source: step, causedBy: reaction.cause.id, payload };
}

export function startEvent(correlationId: string, payload: JsonValue): ChoreoEvent {
  if (correlationId === '' || correlationId.includes('/')) throw new SagaError('SAGA_BAD_PLAN', 'a correlation id must be non-empty without "/"');
  return { id: `${correlationId}/started`, correlationId, type: 'started', hop: 0, source: 'client', causedBy: null, payload };
}

/** How a choreographed saga stands, read from its events. */
export function choreographyOutcome(plan: ChoreographyPlan, events: readonly ChoreoEvent[]): SagaOutcome | 'running' {
  const last = plan.steps[plan.steps.length - 1] as string;
  const first = plan.steps[0] as string;
  for (const e of events) {
    if (e.type === `${last}:done`) return 'committed';
    if (e.type === `${first}:compensated` || e.type === `${first}:failed`) return 'compensated';
  }
  return 'running';
}

/**
 * The event log's state: events in append order, deduplicated by id, indexed by correlation id,
 * with the reactions still owed (an event whose reaction's result is not in the log yet).
 */
export class ChoreographyLog {
  private readonly events: ChoreoEvent[] = [];
  private readonly ids = new Set<string>();
  private readonly byCorrelation = new Map<string, ChoreoEvent[]>();
  private readonly maxHops: number;

  constructor(
    readonly plan: ChoreographyPlan,
    recovered: readonly ChoreoEvent[] = [],
  ) {
    checkChoreographyPlan(plan);
    this.maxHops = plan.maxHops ?? 2 * plan.steps.length + 2;
    for (const e of recovered) this.add(e);
  }

  /** Checks `event` and tells whether it is new; throws SAGA_HOP_LIMIT past the hop limit. The caller persists it, then calls `add`. */
  admit(event: ChoreoEvent): boolean {
    if (this.ids.has(event.id)) return false;
    if (event.hop > this.maxHops) throw new SagaError('SAGA_HOP_LIMIT', `event ${event.id} of ${event.correlationId} is ${event.hop} hops from its start (limit ${this.maxHops})`);
    return true;
  }

  add(event: ChoreoEvent): void {
    if (!this.admit(event)) return;
    this.ids.add(event.id);
    this.events.push(event);
    let list = this.byCorrelation.get(event.correlationId);
    if (list === undefined) this.byCorrelation.set(event.correlationId, (list = []));
    list.push(event);
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  get size(): number {
    return this.events.length;
  }

  /** Every event of one saga, in the order they were logged: the saga's whole flow. */
  trace(correlationId: string): readonly ChoreoEvent[] {
    return this.byCorrelation.get(correlationId) ?? [];
  }

  correlationIds(): string[] {
    return [...this.byCorrelation.keys()];
  }

  outcome(correlationId: string): SagaOutcome | 'running' {
    return choreographyOutcome(this.plan, this.trace(correlationId));
  }

  /** Reactions owed, oldest cause first (after a restart: the ones the crash interrupted). */
  pending(): Reaction[] {
    const owed: Reaction[] = [];
    for (const e of this.events) {
      const r = reactionTo(this.plan, e);
      if (r !== undefined && !this.ids.has(r.key)) owed.push(r);
    }
    return owed;
  }
}

/** Builds the checker's view of one choreography from its log and the effects the services recorded. */
export function choreographyHistory(log: ChoreographyLog, effects: readonly SagaEffect[]): { sagas: { sagaId: string; steps: readonly string[]; pivot: number; outcome: SagaOutcome | 'unfinished' }[]; effects: readonly SagaEffect[] } {
  const sagas = log.correlationIds().map((id) => {
    const outcome = log.outcome(id);
    return { sagaId: id, steps: log.plan.steps, pivot: log.plan.steps.length, outcome: outcome === 'running' ? ('unfinished' as const) : outcome };
  });
  return { sagas, effects };
}
