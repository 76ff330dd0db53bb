// Choreographed sagas for Node services: the pure event log of src/saga/choreography.ts kept
// durable in an OpLogStore (the project's WAL), and a pump that hands each owed reaction to its
// service's async function, logs the resulting event, and after a restart resumes what was owed.
import type { JsonValue } from '../core/index.js';
import { ChoreographyLog, resultEvent, startEvent, type ChoreoEvent, type ChoreographyPlan, type Reaction, type ReactionResult } from '../saga/choreography.js';
import { backoffMs } from '../saga/orchestrator.js';
import { DEFAULT_RETRY, SagaError, type RetryPolicy, type SagaOutcome } from '../saga/types.js';
import { OpLogStore } from '../storage/op-log.js';
import { StepRejected, type StepFunction } from './runner.js';

export interface ChoreoService {
  readonly action: StepFunction;
  /** Needed by every service but the last. */
  readonly compensation?: StepFunction;
}

export interface ChoreographyOptions {
  readonly dir: string;
  readonly plan: ChoreographyPlan;
  readonly services: { readonly [step: string]: ChoreoService };
  /** Retries of a throwing action before it counts as failed (compensations retry without bound). */
  readonly retry?: Partial<RetryPolicy>;
  readonly timeoutMs?: number;
}

function decodeEvent(v: unknown): { readonly op: ChoreoEvent } | { readonly problem: string } {
  const e = v as Partial<ChoreoEvent> | null;
  if (e === null || typeof e !== 'object' || typeof e.id !== 'string' || typeof e.correlationId !== 'string' || typeof e.type !== 'string' || typeof e.hop !== 'number' || typeof e.source !== 'string' || !(e.causedBy === null || typeof e.causedBy === 'string') || !('payload' in e)) {
    return { problem: 'not a choreography event' };
  }
  return { op: e as ChoreoEvent };
}

/** A choreography in this process: `start` a saga, read its `trace` and `outcome`, `close`. */
export class Choreography {
  private readonly log: ChoreographyLog;
  private readonly retry: RetryPolicy;
  private readonly running = new Set<string>();
  private readonly controllers = new Set<AbortController>();
  private readonly listeners = new Map<string, (() => void)[]>();
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
      void this.react(r).finally(() => this.running.delete(r.key));
    }
  }

  private async react(r: Reaction): Promise<void> {
    const svc = this.options.services[r.service];
    const fn = r.phase === 'action' ? svc?.action : svc?.compensation;
    for (let attempt = 1; !this.closed; attempt++) {
      const controller = new AbortController();
      this.controllers.add(controller);
      const timer = setTimeout(() => controller.abort(new SagaError('SAGA_TIMEOUT', `${r.key} attempt ${attempt} timed out`)), this.options.timeoutMs ?? 1_000);
      let result: ReactionResult | undefined;
      try {
        if (fn === undefined) throw new StepRejected(`${r.service} has no ${r.phase}`);
        const output = await fn(r.cause.payload, { sagaId: r.cause.correlationId, step: r.service, idempotencyKey: r.key, actionKey: r.key.replace(/\/compensation$/, '/action'), attempt, outputs: {}, signal: controller.signal });
        result = { ok: true, output: output ?? null };
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        // a rejected action fails at once; a throwing one after its attempts (its effect unknown, so
        // the failure event also compensates it: the earlier step's undo follows, not its own)
        if (r.phase === 'action' && (err instanceof StepRejected || attempt >= this.retry.maxAttempts)) result = { ok: false, error: message };
      } finally {
        clearTimeout(timer);
        this.controllers.delete(controller);
      }
      if (result !== undefined) {
        if (!this.closed) await this.append(resultEvent(r, result));
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, backoffMs(this.retry, attempt, Math.random())));
    }
  }
}
