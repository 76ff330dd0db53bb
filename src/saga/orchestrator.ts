// The saga orchestrator as a sans-I/O core: it folds the durable saga log into each saga's
// state, decides the next invocation (an action forward, a compensation backward), retries with
// jittered exponential backoff, times attempts out on its clock, and resumes every unfinished
// saga after a restart. The same core runs in the simulator and in the Node runner.
import { assertInvariant, type CoreEnv, type Effects, type JsonValue, type NodeId, type ProtocolCore, type ProtocolSpec } from '../core/index.js';
import {
  DEFAULT_RETRY,
  DEFAULT_STEP_TIMEOUT_MS,
  idempotencyKey,
  isSagaId,
  MAX_SAGA_ID_CHARS,
  SagaError,
  type ResultMessage,
  type RetryPolicy,
  type SagaErrorCode,
  type SagaMessage,
  type SagaOutcome,
  type SagaPhase,
  type SagaPlan,
  type SagaRecord,
  type SagaRequest,
  type SagaResponse,
  type SagaStatus,
  type SagaView,
} from './types.js';

export interface OrchestratorOptions {
  readonly plans: readonly SagaPlan[];
  /** Unfinished sagas at once; a start beyond it is refused (SAGA_TOO_MANY). Default 10,000. */
  readonly maxActiveSagas?: number;
  /** Tick interval (timeouts and backoff are checked on ticks). Default 10 ms. */
  readonly tickIntervalMs?: number;
}

/** A plan checked and with its defaults filled in. */
export interface ResolvedPlan {
  readonly name: string;
  readonly steps: readonly { readonly name: string; readonly service: string; readonly retry: RetryPolicy; readonly timeoutMs: number }[];
  /** Index of the pivot; steps.length when the saga has none (every step compensable). */
  readonly pivot: number;
}

/** Checks a plan (names unique and non-empty, the pivot a step, positive numbers). Throws SAGA_BAD_PLAN. */
export function resolvePlan(plan: SagaPlan): ResolvedPlan {
  const bad = (why: string): never => {
    throw new SagaError('SAGA_BAD_PLAN', `saga ${JSON.stringify(plan.name)}: ${why}`);
  };
  if (typeof plan.name !== 'string' || plan.name === '') bad('needs a name');
  if (plan.steps.length === 0) bad('needs at least one step');
  const names = new Set<string>();
  const steps = plan.steps.map((s) => {
    if (typeof s.name !== 'string' || s.name === '' || s.name.includes('/')) bad(`step name ${JSON.stringify(s.name)} must be non-empty without "/"`);
    if (names.has(s.name)) bad(`step ${s.name} appears twice`);
    names.add(s.name);
    const retry = { ...DEFAULT_RETRY, ...s.retry };
    if (!Number.isInteger(retry.maxAttempts) || retry.maxAttempts < 1) bad(`step ${s.name}: retry.maxAttempts must be a whole number >= 1`);
    if (!(retry.baseDelayMs >= 0) || !(retry.maxDelayMs >= retry.baseDelayMs)) bad(`step ${s.name}: need 0 <= retry.baseDelayMs <= retry.maxDelayMs`);
    const timeoutMs = s.timeoutMs ?? DEFAULT_STEP_TIMEOUT_MS;
    if (!(timeoutMs > 0)) bad(`step ${s.name}: timeoutMs must be > 0`);
    return { name: s.name, service: s.service, retry, timeoutMs };
  });
  let pivot = steps.length;
  if (plan.pivot !== undefined) {
    pivot = steps.findIndex((s) => s.name === plan.pivot);
    if (pivot < 0) bad(`pivot ${JSON.stringify(plan.pivot)} is not a step`);
  }
  return { name: plan.name, steps, pivot };
}

/** Backoff before attempt `attempt + 1`: exponential, capped, with half of it jittered by `random`. */
export function backoffMs(retry: RetryPolicy, attempt: number, random: number): number {
  const full = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(full / 2 + (full / 2) * random);
}

interface SagaState {
  readonly id: string;
  readonly plan: ResolvedPlan;
  readonly input: JsonValue;
  status: SagaStatus;
  /** The step being run (running) or compensated (compensating). */
  step: number;
  /** Attempts of the current step and phase so far (from the log). */
  attempts: number;
  readonly outputs: (JsonValue | undefined)[];
  /** Per step: its action was invoked and may have taken effect. */
  readonly mayHaveRun: boolean[];
  error: string | null;
  // volatile: lost on a crash, rebuilt by resuming
  inFlight: { attempt: number; deadline: number } | undefined;
  retryAt: number | undefined;
}

type Fx = Effects<SagaMessage, SagaRecord, SagaResponse>;

export class SagaOrchestratorCore implements ProtocolCore<SagaMessage, SagaRequest, SagaResponse, SagaRecord> {
  private readonly plans = new Map<string, ResolvedPlan>();
  private readonly sagas = new Map<string, SagaState>();
  /** Unfinished sagas, in start order. */
  private readonly active = new Map<string, SagaState>();
  private readonly maxActive: number;
  private records = 0;
  private retries = 0;
  /** Sagas whose logged attempt had no answer before the restart: resumed by resending it. */
  private readonly pendingResume = new Set<string>();

  constructor(
    private readonly env: CoreEnv,
    durable: readonly SagaRecord[],
    options: OrchestratorOptions,
  ) {
    for (const plan of options.plans) {
      const resolved = resolvePlan(plan);
      if (this.plans.has(resolved.name)) throw new SagaError('SAGA_BAD_PLAN', `two plans are named ${resolved.name}`);
      this.plans.set(resolved.name, resolved);
    }
    this.maxActive = options.maxActiveSagas ?? 10_000;
    for (const record of durable) this.apply(record);
    this.records = durable.length;
  }

  // ---------------------------------------------------------------- inputs

  start(fx: Fx): void {
    fx.annotate('active', this.active.size);
    fx.annotate('sagas', this.sagas.size);
    // resume every unfinished saga: the current invocation goes out again, with the same key
    for (const saga of this.active.values()) this.advance(saga, fx);
  }

  handleRequest(requestId: string, request: SagaRequest, fx: Fx): void {
    switch (request.kind) {
      case 'start': {
        const existing = this.sagas.get(request.sagaId);
        if (existing !== undefined) {
          fx.reply(requestId, { kind: 'started', sagaId: request.sagaId, existing: true });
          return;
        }
        const plan = this.plans.get(request.saga);
        if (plan === undefined) return this.refuse(requestId, fx, 'SAGA_UNKNOWN_DEFINITION', `no saga is named ${JSON.stringify(request.saga)}`);
        if (!isSagaId(request.sagaId)) return this.refuse(requestId, fx, 'SAGA_BAD_ID', `a saga id must be 1 to ${MAX_SAGA_ID_CHARS} characters without "/"`);
        if (this.active.size >= this.maxActive) return this.refuse(requestId, fx, 'SAGA_TOO_MANY', `${this.active.size} sagas are unfinished (limit ${this.maxActive})`);
        const saga = this.record(fx, { kind: 'started', sagaId: request.sagaId, saga: plan.name, input: request.input });
        // the reply waits for the 'started' record to be durable: an acknowledged saga survives a crash
        fx.reply(requestId, { kind: 'started', sagaId: request.sagaId, existing: false });
        if (saga !== undefined) this.advance(saga, fx);
        return;
      }
      case 'show': {
        const saga = this.sagas.get(request.sagaId);
        if (saga === undefined) return this.refuse(requestId, fx, 'SAGA_NOT_FOUND', `no saga ${JSON.stringify(request.sagaId)}`);
        fx.reply(requestId, { kind: 'saga', saga: view(saga) });
        return;
      }
      case 'list':
        fx.reply(requestId, { kind: 'sagas', sagas: [...this.sagas.values()].map(view) });
        return;
      case 'resume': {
        const saga = this.sagas.get(request.sagaId);
        if (saga === undefined) return this.refuse(requestId, fx, 'SAGA_NOT_FOUND', `no saga ${JSON.stringify(request.sagaId)}`);
        if (this.active.has(saga.id)) {
          saga.retryAt = undefined;
          saga.inFlight = undefined;
          this.advance(saga, fx);
        }
        fx.reply(requestId, { kind: 'saga', saga: view(saga) });
        return;
      }
    }
  }

  handleMessage(_from: NodeId, msg: SagaMessage, fx: Fx): void {
    if (msg.type !== 'result') return;
    const saga = this.active.get(msg.sagaId);
    if (saga === undefined || saga.step !== msg.step || phaseOf(saga) !== msg.phase || saga.attempts === 0) return; // stale or duplicate
    if (msg.key !== idempotencyKey(saga.id, msg.step, (saga.plan.steps[msg.step] as { name: string }).name, msg.phase)) return;
    this.onResult(saga, msg, fx);
  }

  handleTick(fx: Fx): void {
    const now = this.env.now();
    for (const saga of [...this.active.values()]) {
      if (saga.inFlight !== undefined && now >= saga.inFlight.deadline) {
        const attempt = saga.inFlight.attempt;
        saga.inFlight = undefined;
        this.onAttemptFailed(saga, `attempt ${attempt} timed out`, fx);
      } else if (saga.retryAt !== undefined && now >= saga.retryAt) {
        saga.retryAt = undefined;
        this.advance(saga, fx);
      }
    }
  }

  // ---------------------------------------------------------------- reads (tests, hosts)

  show(sagaId: string): SagaView | undefined {
    const saga = this.sagas.get(sagaId);
    return saga === undefined ? undefined : view(saga);
  }

  list(): SagaView[] {
    return [...this.sagas.values()].map(view);
  }

  get activeCount(): number {
    return this.active.size;
  }

  get recordCount(): number {
    return this.records;
  }

  // ---------------------------------------------------------------- decisions

  private onResult(saga: SagaState, msg: ResultMessage, fx: Fx): void {
    const step = saga.step;
    if (msg.ok) {
      saga.inFlight = undefined;
      saga.retryAt = undefined;
      this.record(fx, { kind: 'succeeded', sagaId: saga.id, step, phase: msg.phase, output: msg.output });
      this.advance(saga, fx);
      return;
    }
    // a definite failure is final for its key whatever attempt it answers; a retriable one only
    // counts for the attempt in flight (an older attempt's answer says nothing about this one)
    if (!msg.retriable && msg.phase === 'action' && step <= saga.plan.pivot) {
      saga.inFlight = undefined;
      saga.retryAt = undefined;
      this.record(fx, { kind: 'failed', sagaId: saga.id, step, error: msg.error, ran: false });
      this.advance(saga, fx);
      return;
    }
    if (saga.inFlight === undefined || saga.inFlight.attempt !== msg.attempt) return;
    saga.inFlight = undefined;
    this.onAttemptFailed(saga, msg.error, fx);
  }

  /** An attempt failed retriably or timed out: retry after a backoff, or give up and compensate. */
  private onAttemptFailed(saga: SagaState, error: string, fx: Fx): void {
    const plan = saga.plan;
    const stepPlan = plan.steps[saga.step];
    assertInvariant(stepPlan !== undefined, () => `saga ${saga.id}: attempt failed at step ${saga.step} outside the plan`);
    // while compensating, `error` keeps why the saga is being compensated
    if (saga.status === 'running') saga.error = error;
    // compensations, the pivot and the steps after it are retried without bound
    const bounded = saga.status === 'running' && saga.step < plan.pivot;
    if (bounded && saga.attempts >= stepPlan.retry.maxAttempts) {
      // the action may have taken effect (a timeout, or an earlier attempt still on the wire): compensate it too
      this.record(fx, { kind: 'failed', sagaId: saga.id, step: saga.step, error: `${error} (after ${saga.attempts} attempts)`, ran: true });
      this.advance(saga, fx);
      return;
    }
    saga.retryAt = this.env.now() + backoffMs(stepPlan.retry, saga.attempts, this.env.random());
    fx.annotate('retries', (this.retries += 1));
  }

  /** Finishes the saga or sends its current invocation (again, after a restart or a resume). */
  private advance(saga: SagaState, fx: Fx): void {
    if (saga.status === 'running' && saga.step >= saga.plan.steps.length) {
      this.record(fx, { kind: 'finished', sagaId: saga.id, outcome: 'committed' });
      return;
    }
    if (saga.status === 'compensating' && saga.step < 0) {
      this.record(fx, { kind: 'finished', sagaId: saga.id, outcome: 'compensated' });
      return;
    }
    if (saga.status !== 'running' && saga.status !== 'compensating') return;
    const phase = phaseOf(saga);
    // after a restart the attempt the log says went out goes out again (same key, same attempt);
    // otherwise a fresh attempt, logged before it leaves
    let attempt = saga.attempts;
    if (!(this.pendingResume.delete(saga.id) && attempt > 0)) {
      attempt = saga.attempts + 1;
      this.record(fx, { kind: 'invoked', sagaId: saga.id, step: saga.step, phase, attempt });
    }
    this.send(saga, phase, attempt, fx);
  }

  private send(saga: SagaState, phase: SagaPhase, attempt: number, fx: Fx): void {
    const stepPlan = saga.plan.steps[saga.step];
    assertInvariant(stepPlan !== undefined, () => `saga ${saga.id}: no step ${saga.step}`);
    const outputs: { [step: string]: JsonValue } = {};
    saga.plan.steps.forEach((s, i) => {
      const out = saga.outputs[i];
      if (out !== undefined) outputs[s.name] = out;
    });
    const key = idempotencyKey(saga.id, saga.step, stepPlan.name, phase);
    const actionKey = idempotencyKey(saga.id, saga.step, stepPlan.name, 'action');
    saga.inFlight = { attempt, deadline: this.env.now() + stepPlan.timeoutMs };
    saga.retryAt = undefined;
    fx.send(stepPlan.service, { type: 'invoke', sagaId: saga.id, saga: saga.plan.name, step: saga.step, stepName: stepPlan.name, phase, key, actionKey, attempt, input: saga.input, outputs });
  }

  private refuse(requestId: string, fx: Fx, code: SagaErrorCode, message: string): void {
    fx.reply(requestId, { kind: 'error', code, message });
  }

  // ---------------------------------------------------------------- the log

  /** Persists `record` and applies it; returns the saga it touched. */
  private record(fx: Fx, record: SagaRecord): SagaState | undefined {
    fx.persist(record);
    this.records++;
    const saga = this.apply(record, true);
    fx.annotate('log', this.records);
    fx.annotate('active', this.active.size);
    fx.annotate('sagas', this.sagas.size);
    if (record.kind === 'finished') fx.annotate('lastFinished', `${record.sagaId} ${record.outcome}`);
    return saga;
  }

  /** Folds one record into the state (replay and live alike). */
  private apply(record: SagaRecord, live = false): SagaState | undefined {
    if (record.kind === 'started') {
      const plan = this.plans.get(record.saga);
      if (plan === undefined) throw new SagaError('SAGA_BAD_RECORD', `the log starts saga ${record.sagaId} of ${JSON.stringify(record.saga)}, which no plan defines`);
      assertInvariant(!this.sagas.has(record.sagaId), () => `saga ${record.sagaId} started twice in the log`);
      const saga: SagaState = {
        id: record.sagaId,
        plan,
        input: record.input,
        status: 'running',
        step: 0,
        attempts: 0,
        outputs: plan.steps.map(() => undefined),
        mayHaveRun: plan.steps.map(() => false),
        error: null,
        inFlight: undefined,
        retryAt: undefined,
      };
      this.sagas.set(saga.id, saga);
      this.active.set(saga.id, saga);
      return saga;
    }
    const saga = this.sagas.get(record.sagaId);
    if (saga === undefined) throw new SagaError('SAGA_BAD_RECORD', `a ${record.kind} record of saga ${record.sagaId}, which the log never started`);
    assertInvariant(saga.status === 'running' || saga.status === 'compensating', () => `saga ${saga.id}: ${record.kind} record after it finished`);
    switch (record.kind) {
      case 'invoked':
        assertInvariant(record.step === saga.step && record.phase === phaseOf(saga) && record.attempt === saga.attempts + 1, () => `saga ${saga.id}: invoked ${record.phase} of step ${record.step} attempt ${record.attempt}, expected ${phaseOf(saga)} of step ${saga.step} attempt ${saga.attempts + 1}`);
        saga.attempts = record.attempt;
        if (record.phase === 'action') saga.mayHaveRun[record.step] = true;
        if (!live) this.pendingResume.add(saga.id);
        break;
      case 'succeeded':
        assertInvariant(record.step === saga.step && record.phase === phaseOf(saga) && saga.attempts > 0, () => `saga ${saga.id}: ${record.phase} of step ${record.step} succeeded out of turn`);
        saga.attempts = 0;
        if (saga.status === 'running') saga.error = null;
        if (!live) this.pendingResume.delete(saga.id);
        if (record.phase === 'action') {
          saga.outputs[record.step] = record.output;
          saga.step++;
        } else {
          saga.step = nextCompensation(saga, record.step - 1);
        }
        break;
      case 'failed':
        assertInvariant(saga.status === 'running' && record.step === saga.step && record.step <= saga.plan.pivot, () => `saga ${saga.id}: step ${record.step} failed out of turn`);
        saga.mayHaveRun[record.step] = record.ran;
        saga.status = 'compensating';
        saga.error = record.error;
        saga.attempts = 0;
        if (!live) this.pendingResume.delete(saga.id);
        // the pivot is never compensated: only the steps before it
        saga.step = nextCompensation(saga, Math.min(record.step, saga.plan.pivot - 1));
        break;
      case 'finished':
        assertInvariant(record.outcome === (saga.status === 'running' ? 'committed' : 'compensated'), () => `saga ${saga.id}: finished ${record.outcome} while ${saga.status}`);
        saga.status = record.outcome satisfies SagaOutcome;
        saga.inFlight = undefined;
        saga.retryAt = undefined;
        this.active.delete(saga.id);
        this.pendingResume.delete(saga.id);
        break;
    }
    return saga;
  }
}

function phaseOf(saga: SagaState): SagaPhase {
  return saga.status === 'compensating' ? 'compensation' : 'action';
}

/** The highest step at or below `from` whose action may have run (-1: none left). */
function nextCompensation(saga: SagaState, from: number): number {
  let i = Math.min(from, saga.plan.pivot - 1);
  while (i >= 0 && !saga.mayHaveRun[i]) i--;
  return i;
}

function view(saga: SagaState): SagaView {
  const outputs: { [step: string]: JsonValue } = {};
  saga.plan.steps.forEach((s, i) => {
    const out = saga.outputs[i];
    if (out !== undefined) outputs[s.name] = out;
  });
  return { sagaId: saga.id, saga: saga.plan.name, status: saga.status, input: saga.input, step: saga.step, attempts: saga.attempts, outputs, error: saga.error };
}

/** The orchestrator's spec: a host stores its SagaRecords in order and replays them on restart. */
export function sagaOrchestratorSpec(options: OrchestratorOptions): ProtocolSpec<SagaMessage, SagaRequest, SagaResponse, SagaRecord, SagaOrchestratorCore> {
  // check the plans once, up front, so a bad plan fails at setup rather than at the first boot
  for (const plan of options.plans) resolvePlan(plan);
  return {
    name: 'saga-orchestrator',
    tickIntervalMs: options.tickIntervalMs ?? 10,
    create: (env, durable) => new SagaOrchestratorCore(env, durable, options),
  };
}
