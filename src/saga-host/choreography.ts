// Choreographed sagas for Node services: the pure event log of src/saga/choreography.ts kept
// durable in an OpLogStore (the project's WAL), and a pump that hands each owed reaction to its
// service's async function, logs the resulting event, and after a restart resumes what was owed.
import type { JsonValue } from '../core/index.js';
import { ChoreographyLog, resultEvent, startEvent, type ChoreoEvent, type ChoreographyPlan, type Reaction, type ReactionResult } from '../saga/choreography.js';
import { backoffMs } from '../saga/orchestrator.js';
import { DEFAULT_RETRY, idempotencyKey, SagaError, type RetryPolicy, type SagaOutcome } from '../saga/types.js';
import { OpLogStore } from '../storage/op-log.js';
import { StepRejected, type StepFunction } from './runner.js';

/** Problems kept for errors() (the rest are dropped). */
const MAX_PROBLEMS = 100;

export interface ChoreoService {
  readonly action: StepFunction;
  /** Needed by every service but the last. */
  readonly compensation?: StepFunction;
}

export interface ChoreographyOptions {
  readonly dir: string;
  readonly plan: ChoreographyPlan;
  readonly services: { readonly [step: string]: ChoreoService };
  /**
   * Retries of a throwing action before it counts as failed: then the service undoes it under
   * its own compensation key (its effect is unknown) and emits the failure. Compensations, and
   * the last step's action (it has no compensation), retry without bound.
   */
  readonly retry?: Partial<RetryPolicy>;
  readonly timeoutMs?: number;
}

const MAX_ID_CHARS = 1_000;
const isText = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= MAX_ID_CHARS;

/** Checks one event read back from the log (the log on disk is input from outside). */
function decodeEvent(v: unknown): { readonly op: ChoreoEvent } | { readonly problem: string } {
  const e = v as Partial<ChoreoEvent> | null;
  if (e === null || typeof e !== 'object' || Array.isArray(e)) return { problem: 'a choreography event must be an object' };
  if (!isText(e.id) || !isText(e.correlationId) || !isText(e.type) || !isText(e.source)) return { problem: 'a choreography event needs id, correlationId, type and source' };
  if (typeof e.hop !== 'number' || !Number.isInteger(e.hop) || e.hop < 0) return { problem: 'a choreography event needs a whole hop count' };
  if (!(e.causedBy === null || isText(e.causedBy)) || !('payload' in e)) return { problem: 'a choreography event needs causedBy and payload' };
  return { op: { id: e.id, correlationId: e.correlationId, type: e.type, hop: e.hop, source: e.source, causedBy: e.causedBy, payload: e.payload ?? null } };
}

/** A choreography in this process: `start` a saga, read its `trace` and `outcome`, `close`. */
export class Choreography {
  private readonly log: ChoreographyLog;
  private readonly retry: RetryPolicy;
  private readonly running = new Set<string>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly controllers = new Set<AbortController>();
  private readonly listeners = new Map<string, (() => void)[]>();
  private readonly problems: string[] = [];
  /** Wakes the backoff sleeps at close. */
  private readonly sleepers = new Set<() => void>();
  private closed = false;

  private constructor(
    private readonly store: OpLogStore<ChoreoEvent>,
    private readonly options: ChoreographyOptions,
  ) {
    this.log = new ChoreographyLog(options.plan, store.recovered);
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
  }

  static async open(options: ChoreographyOptions): Promise<Choreography> {
    const steps = options.plan.steps;
    steps.forEach((s, i) => {
      const svc = options.services[s];
      if (svc === undefined) throw new SagaError('SAGA_BAD_PLAN', `choreography ${options.plan.name}: no service for step ${s}`);
      if (i < steps.length - 1 && svc.compensation === undefined) throw new SagaError('SAGA_BAD_PLAN', `choreography ${options.plan.name}: step ${s} needs a compensation`);
    });
    const store = await OpLogStore.open<ChoreoEvent>(options.dir, { decodeOp: decodeEvent });
    const c = new Choreography(store, options);
    c.pump(); // resume what the last run owed
    return c;
  }

  /** Logs the start event (durably) and lets the services react. Idempotent by correlation id. */
  async start(correlationId: string, payload: JsonValue): Promise<void> {
    await this.append(startEvent(correlationId, payload));
  }

  trace(correlationId: string): readonly ChoreoEvent[] {
    return this.log.trace(correlationId);
  }

  outcome(correlationId: string): SagaOutcome | 'running' {
    return this.log.outcome(correlationId);
  }

  /** Flows that stopped with an error (an event past the hop limit, a failed write), oldest first. */
  errors(): readonly string[] {
    return this.problems;
  }

  /** Correlation ids of every saga in the log, oldest first. */
  correlationIds(): string[] {
    return this.log.correlationIds();
  }

  /** Resolves once the saga has committed or compensated (SAGA_TIMEOUT after `timeoutMs`). */
  wait(correlationId: string, timeoutMs = 60_000): Promise<SagaOutcome> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const o = this.outcome(correlationId);
        if (o === 'running') return false;
        clearTimeout(timer);
        resolve(o);
        return true;
      };
      const timer = setTimeout(() => reject(new SagaError('SAGA_TIMEOUT', `saga ${correlationId} did not end within ${timeoutMs} ms`)), timeoutMs);
      if (check()) return;
      let list = this.listeners.get(correlationId);
      if (list === undefined) this.listeners.set(correlationId, (list = []));
      list.push(() => void check());
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const c of this.controllers) c.abort(new SagaError('SAGA_CLOSED', 'the choreography closed'));
    for (const wake of this.sleepers) wake();
    this.sleepers.clear();
    await Promise.all([...this.inFlight]);
    await this.store.close();
  }

  private async append(event: ChoreoEvent): Promise<void> {
    if (this.closed) throw new SagaError('SAGA_CLOSED', 'the choreography is closed');
    if (!this.log.admit(event)) return;
    await this.store.persist([event]); // durable before any service reacts to it
    this.log.add(event);
    for (const l of this.listeners.get(event.correlationId) ?? []) l();
    this.pump();
  }

  /** Starts every owed reaction not already running. */
  private pump(): void {
    if (this.closed) return;
    for (const r of this.log.pending()) {
      if (this.running.has(r.key)) continue;
      this.running.add(r.key);
      const run = this.react(r).finally(() => {
        this.running.delete(r.key);
        this.inFlight.delete(run);
      });
      this.inFlight.add(run);
    }
  }

  private async react(r: Reaction): Promise<void> {
    const svc = this.options.services[r.service];
    const fn = r.phase === 'action' ? svc?.action : svc?.compensation;
    for (let attempt = 1; !this.closed; attempt++) {
      const outcome = await this.attempt(r, fn, r.key, attempt);
      let result: ReactionResult | undefined;
      if (outcome.ok) result = { ok: true, output: outcome.output };
      else if (r.phase === 'action' && outcome.rejected) result = { ok: false, error: outcome.error };
      else if (r.phase === 'action' && attempt >= this.retry.maxAttempts && svc?.compensation !== undefined) {
        // the action's effect is unknown (it threw or timed out): undo it here, under its own
        // compensation key, before the failure event hands the undo on to the step before
        if (!(await this.compensateOwn(r, svc?.compensation))) return;
        result = { ok: false, error: `${outcome.error} (after ${attempt} attempts; compensated)` };
      }
      if (result !== undefined) {
        if (this.closed) return;
        try {
          await this.append(resultEvent(r, result));
        } catch (err) {
          // past the hop limit, or the log failed: this flow stops here, visible in errors()
          if (this.problems.length < MAX_PROBLEMS) this.problems.push(err instanceof Error ? err.message : String(err));
        }
        return;
      }
      await this.sleep(backoffMs(this.retry, attempt, Math.random()));
    }
  }

  /** Runs the step's own compensation until it succeeds (false: closed first). The last step has none: nothing to undo is claimed. */
  private async compensateOwn(r: Reaction, fn: StepFunction | undefined): Promise<boolean> {
    if (fn === undefined) return true;
    const key = idempotencyKey(r.cause.correlationId, r.step, r.service, 'compensation');
    for (let attempt = 1; !this.closed; attempt++) {
      if ((await this.attempt(r, fn, key, attempt)).ok) return true;
      await this.sleep(backoffMs(this.retry, attempt, Math.random()));
    }
    return false;
  }

  private async attempt(r: Reaction, fn: StepFunction | undefined, key: string, attempt: number): Promise<{ ok: true; output: JsonValue } | { ok: false; error: string; rejected: boolean }> {
    const controller = new AbortController();
    this.controllers.add(controller);
    const timer = setTimeout(() => controller.abort(new SagaError('SAGA_TIMEOUT', `${key} attempt ${attempt} timed out`)), this.options.timeoutMs ?? 1_000);
    try {
      if (fn === undefined) throw new StepRejected(`${r.service} has no ${r.phase}`);
      const actionKey = idempotencyKey(r.cause.correlationId, r.step, r.service, 'action');
      const work = Promise.resolve(fn(r.cause.payload, { sagaId: r.cause.correlationId, step: r.service, idempotencyKey: key, actionKey, attempt, outputs: {}, signal: controller.signal }));
      const aborted = new Promise<never>((_resolve, reject) => controller.signal.addEventListener('abort', () => reject(controller.signal.reason as Error), { once: true }));
      const output = await Promise.race([work, aborted]);
      return { ok: true, output: output ?? null };
    } catch (err) {
      return { ok: false, error: err instanceof Error ? err.message : String(err), rejected: err instanceof StepRejected };
    } finally {
      clearTimeout(timer);
      this.controllers.delete(controller);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.sleepers.add(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
