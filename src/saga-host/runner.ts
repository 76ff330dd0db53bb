// The saga orchestrator for Node services: the sans-I/O orchestrator core run by NodeHost with
// real timers, its saga log in an OpLogStore (the project's fsync'd WAL) in `dir`, and each
// invocation carried out by calling the step's async action or compensation in this process.
import { randomUUID } from 'node:crypto';
import type { JsonValue } from '../core/index.js';
import { NodeHost, type PeerTransport } from '../runtime/node-host.js';
import { OpLogStore } from '../storage/op-log.js';
import { compactSagaLog, decodeSagaRecord } from '../saga/log.js';
import { sagaOrchestratorSpec, type SagaOrchestratorCore } from '../saga/orchestrator.js';
import { SagaError, type InvokeMessage, type RetryPolicy, type SagaMessage, type SagaPlan, type SagaRecord, type SagaRequest, type SagaResponse, type SagaView } from '../saga/types.js';

/** Between two looks of a waiting `wait()` at its saga (the end also wakes it at once). */
const WAIT_POLL_MS = 500;

/** What an action or compensation is given besides the saga's input. */
export interface StepContext {
  readonly sagaId: string;
  readonly step: string;
  /** Same for every attempt of this action (or this compensation), across restarts: dedupe by it. */
  readonly idempotencyKey: string;
  /** The action's key (for a compensation: the key of the action it undoes). */
  readonly actionKey: string;
  readonly attempt: number;
  /** Outputs of the steps that succeeded, by step name. */
  readonly outputs: { readonly [step: string]: JsonValue };
  /** Aborted when the attempt times out or the orchestrator closes. */
  readonly signal: AbortSignal;
}

export type StepFunction = (input: JsonValue, ctx: StepContext) => Promise<JsonValue | void> | JsonValue | void;

export interface SagaStepDefinition {
  readonly name: string;
  readonly action: StepFunction;
  /** Undoes the action; needed by steps before the pivot (or every step without one). */
  readonly compensation?: StepFunction;
  readonly retry?: Partial<RetryPolicy>;
  readonly timeoutMs?: number;
}

export interface SagaDefinition {
  readonly name: string;
  readonly steps: readonly SagaStepDefinition[];
  readonly pivot?: string;
}

/**
 * Thrown by an action to say it certainly failed and changed nothing (payment declined): the
 * saga compensates at once. Any other error counts as a retriable failure of unknown effect.
 */
export class StepRejected extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StepRejected';
  }
}

export interface SagaOrchestratorOptions {
  readonly dir: string;
  readonly definitions: readonly SagaDefinition[];
  readonly maxActiveSagas?: number;
  /** Finished sagas kept in the log across compactions (default 10,000). */
  readonly keepFinished?: number;
  /** Log records between compactions (default 10,000). */
  readonly compactEveryOps?: number;
  readonly tickIntervalMs?: number;
  /** How long start/show/list/resume wait for the core (default 10 s). */
  readonly requestTimeoutMs?: number;
}

const SELF = 'orchestrator';

/** Runs the steps' functions for the core: an invocation in, a result message back. */
class LocalSteps implements PeerTransport<SagaMessage> {
  private handler: ((from: string, msg: SagaMessage) => void) | undefined;
  private readonly controllers = new Set<AbortController>();
  closed = false;

  constructor(private readonly steps: ReadonlyMap<string, SagaStepDefinition>, private readonly timeouts: ReadonlyMap<string, number>) {}

  onMessage(handler: (from: string, msg: SagaMessage) => void): void {
    this.handler = handler;
  }

  send(_to: string, msg: SagaMessage): void {
    if (msg.type !== 'invoke' || this.closed) return;
    void this.run(msg);
  }

  private async run(msg: InvokeMessage): Promise<void> {
    const where = `${msg.saga}/${msg.stepName}`;
    const def = this.steps.get(where);
    const controller = new AbortController();
    this.controllers.add(controller);
    const timer = setTimeout(() => controller.abort(new SagaError('SAGA_TIMEOUT', `${where} attempt ${msg.attempt} timed out`)), this.timeouts.get(where) ?? 1_000);
    let body: { ok: true; output: JsonValue } | { ok: false; error: string; retriable: boolean };
    try {
      const fn = msg.phase === 'action' ? def?.action : def?.compensation;
      if (fn === undefined) throw new SagaError('SAGA_BAD_PLAN', `${where} has no ${msg.phase}`);
      const ctx: StepContext = { sagaId: msg.sagaId, step: msg.stepName, idempotencyKey: msg.key, actionKey: msg.actionKey, attempt: msg.attempt, outputs: msg.outputs, signal: controller.signal };
      const output = await fn(msg.input, ctx);
      body = { ok: true, output: output ?? null };
    } catch (err) {
      body = { ok: false, error: err instanceof Error ? err.message : String(err), retriable: !(err instanceof StepRejected) };
    } finally {
      clearTimeout(timer);
      this.controllers.delete(controller);
    }
    if (this.closed) return;
    this.handler?.(msg.stepName, { type: 'result', sagaId: msg.sagaId, step: msg.step, phase: msg.phase, key: msg.key, attempt: msg.attempt, ...body });
  }

  abortAll(): void {
    for (const c of this.controllers) c.abort(new SagaError('SAGA_CLOSED', 'the saga orchestrator closed'));
  }
}

/** Durable orchestrated sagas in this process: `open`, then `start`, `wait`, `list`, `show`, `resume`. */
export class SagaOrchestrator {
  private readonly waiters = new Map<string, ((view: SagaView) => void)[]>();
  private fatal: Error | undefined;

  private constructor(
    private readonly host: NodeHost<SagaMessage, SagaRequest, SagaResponse, SagaRecord, SagaOrchestratorCore>,
    private readonly store: OpLogStore<SagaRecord>,
    private readonly steps: LocalSteps,
    private readonly timeoutMs: number,
  ) {}

  /** Opens (or creates) the saga log in `dir` and resumes every unfinished saga in it. */
  static async open(options: SagaOrchestratorOptions): Promise<SagaOrchestrator> {
    const plans: SagaPlan[] = [];
    const steps = new Map<string, SagaStepDefinition>();
    const timeouts = new Map<string, number>();
    for (const d of options.definitions) {
      plans.push({
        name: d.name,
        ...(d.pivot === undefined ? {} : { pivot: d.pivot }),
        steps: d.steps.map((s) => ({ name: s.name, service: 'local', ...(s.retry === undefined ? {} : { retry: s.retry }), ...(s.timeoutMs === undefined ? {} : { timeoutMs: s.timeoutMs }) })),
      });
      const pivot = d.pivot === undefined ? d.steps.length : d.steps.findIndex((s) => s.name === d.pivot);
      d.steps.forEach((s, i) => {
        if (i < pivot && s.compensation === undefined) throw new SagaError('SAGA_BAD_PLAN', `saga ${d.name}: step ${s.name} comes before the pivot and needs a compensation`);
        steps.set(`${d.name}/${s.name}`, s);
        timeouts.set(`${d.name}/${s.name}`, s.timeoutMs ?? 1_000);
      });
    }
    const spec = sagaOrchestratorSpec({ plans, ...(options.maxActiveSagas === undefined ? {} : { maxActiveSagas: options.maxActiveSagas }), ...(options.tickIntervalMs === undefined ? {} : { tickIntervalMs: options.tickIntervalMs }) });
    const keep = options.keepFinished ?? 10_000;
    const store = await OpLogStore.open<SagaRecord>(options.dir, { decodeOp: decodeSagaRecord, compact: (ops) => compactSagaLog(ops, keep), compactEveryOps: options.compactEveryOps ?? 10_000 });
    const transport = new LocalSteps(steps, timeouts);
    const box: { orchestrator?: SagaOrchestrator } = {};
    const host = new NodeHost(spec, { id: SELF, members: [SELF], store, transport, onFatal: (err) => box.orchestrator?.onFatal(err) });
    const orchestrator = new SagaOrchestrator(host, store, transport, options.requestTimeoutMs ?? 10_000);
    box.orchestrator = orchestrator;
    host.onAnnotate((key, value) => {
      if (key === 'lastFinished' && typeof value === 'string') orchestrator.onFinished(value.split(' ')[0] as string);
    });
    try {
      host.start();
    } catch (err) {
      await store.close();
      throw err;
    }
    return orchestrator;
  }

  /** Starts a saga; resolves with its id once its start is durable. `sagaId` makes the start idempotent. */
  async start(name: string, input: JsonValue, options: { readonly sagaId?: string } = {}): Promise<string> {
    const sagaId = options.sagaId ?? randomUUID();
    const res = await this.request({ kind: 'start', sagaId, saga: name, input });
    if (res.kind !== 'started') throw new SagaError('SAGA_BAD_RECORD', `unexpected answer ${res.kind}`);
    return sagaId;
  }

  /** Resolves when the saga has committed or compensated (rejects with SAGA_TIMEOUT after `timeoutMs`). */
  async wait(sagaId: string, timeoutMs = 60_000): Promise<SagaView> {
    return new Promise<SagaView>((resolve, reject) => {
      let settled = false;
      const stop = (): void => {
        settled = true;
        clearTimeout(timer);
        clearInterval(poll);
        const list = this.waiters.get(sagaId) ?? [];
        if (list.includes(done)) list.splice(list.indexOf(done), 1);
      };
      const done = (view: SagaView): void => {
        if (settled) return;
        stop();
        resolve(view);
      };
      // the waiter is in place before the first look: a saga that ends in between still wakes it
      let list = this.waiters.get(sagaId);
      if (list === undefined) this.waiters.set(sagaId, (list = []));
      list.push(done);
      const look = (): void => {
        this.show(sagaId).then(
          (view) => (view.status === 'committed' || view.status === 'compensated' ? done(view) : undefined),
          () => undefined,
        );
      };
      look();
      // and a look now and then: the end is never missed, whatever the order of answers and annotations
      const poll = setInterval(look, WAIT_POLL_MS);
      const timer = setTimeout(() => {
        if (settled) return;
        stop();
        reject(new SagaError('SAGA_TIMEOUT', `saga ${sagaId} did not finish within ${timeoutMs} ms`));
      }, timeoutMs);
    });
  }

  async show(sagaId: string): Promise<SagaView> {
    const res = await this.request({ kind: 'show', sagaId });
    if (res.kind !== 'saga') throw new SagaError('SAGA_BAD_RECORD', `unexpected answer ${res.kind}`);
    return res.saga;
  }

  async list(): Promise<readonly SagaView[]> {
    const res = await this.request({ kind: 'list' });
    if (res.kind !== 'sagas') throw new SagaError('SAGA_BAD_RECORD', `unexpected answer ${res.kind}`);
    return res.sagas;
  }

  /** Tries the saga's current step again now, without waiting out its backoff. */
  async resume(sagaId: string): Promise<SagaView> {
    const res = await this.request({ kind: 'resume', sagaId });
    if (res.kind !== 'saga') throw new SagaError('SAGA_BAD_RECORD', `unexpected answer ${res.kind}`);
    return res.saga;
  }

  /** Stops running steps (their attempts are aborted; the log resumes them at the next open) and closes the log. */
  async close(): Promise<void> {
    this.host.stop();
    this.steps.closed = true;
    this.steps.abortAll();
    await this.store.close();
  }

  private async request(req: SagaRequest): Promise<Exclude<SagaResponse, { kind: 'error' }>> {
    if (this.fatal !== undefined) throw new SagaError('SAGA_CLOSED', `the saga log failed: ${this.fatal.message}`);
    const res = await this.host.request(req, this.timeoutMs);
    if (res === undefined) throw new SagaError('SAGA_TIMEOUT', `no answer to ${req.kind} within ${this.timeoutMs} ms`);
    if (res.kind === 'error') throw new SagaError(res.code, res.message);
    return res;
  }

  private onFinished(sagaId: string): void {
    const list = this.waiters.get(sagaId);
    if (list === undefined) return;
    this.waiters.delete(sagaId);
    // show() answers after the 'finished' record is durable
    void this.show(sagaId).then(
      (view) => list.forEach((w) => w(view)),
      () => undefined,
    );
  }

  private onFatal(err: Error): void {
    this.fatal = err;
    this.steps.closed = true;
    this.steps.abortAll();
  }
}
