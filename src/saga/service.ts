// A saga participant as a sans-I/O core: it carries out the actions and compensations the
// orchestrator (or a choreography) asks for, at most once per idempotency key, with the outcome
// of every key durable before it answers. A compensation that arrives before its action leaves a
// tombstone, so the late action is refused and never takes effect after its undo.
import { isJsonObject, type CoreEnv, type Effects, type JsonValue, type NodeId, type ProtocolCore, type ProtocolSpec } from '../core/index.js';
import type { InvokeMessage, SagaMessage } from './types.js';

/** The service's durable ledger: the outcome of each key it decided. */
export type ServiceRecord =
  | { readonly kind: 'action'; readonly key: string; readonly sagaId: string; readonly step: number; readonly ok: true; readonly output: JsonValue; readonly atMs: number }
  | { readonly kind: 'action'; readonly key: string; readonly sagaId: string; readonly step: number; readonly ok: false; readonly error: string; readonly atMs: number }
  /** `applied`: the action had taken effect and is now undone; false: a tombstone only. */
  | { readonly kind: 'compensation'; readonly key: string; readonly actionKey: string; readonly sagaId: string; readonly step: number; readonly applied: boolean; readonly atMs: number };

const MAX_KEY_CHARS = 1_000;
const isKey = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= MAX_KEY_CHARS;
const isStep = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

/** Checks one ledger record read back from disk (input from outside). `atMs` is the host's clock when it was decided. */
export function decodeServiceRecord(value: unknown): { readonly op: ServiceRecord } | { readonly problem: string } {
  if (!isJsonObject(value)) return { problem: 'a service record must be an object' };
  const v = value;
  if (!isKey(v.key) || !isKey(v.sagaId) || !isStep(v.step) || typeof v.atMs !== 'number' || !Number.isFinite(v.atMs)) return { problem: 'a service record needs key, sagaId, step and atMs' };
  if (v.kind === 'action') {
    if (v.ok === true && 'output' in v) return { op: { kind: 'action', key: v.key, sagaId: v.sagaId, step: v.step, ok: true, output: v.output ?? null, atMs: v.atMs } };
    if (v.ok === false && typeof v.error === 'string') return { op: { kind: 'action', key: v.key, sagaId: v.sagaId, step: v.step, ok: false, error: v.error, atMs: v.atMs } };
    return { problem: 'an action record needs ok with output or error' };
  }
  if (v.kind === 'compensation' && isKey(v.actionKey) && typeof v.applied === 'boolean') return { op: { kind: 'compensation', key: v.key, actionKey: v.actionKey, sagaId: v.sagaId, step: v.step, applied: v.applied, atMs: v.atMs } };
  return { problem: `unknown service record kind ${JSON.stringify(v.kind)}` };
}

/** What the business logic decides for one new key. */
export type StepDecision = { readonly ok: true; readonly output: JsonValue } | { readonly ok: false; readonly error: string; readonly retriable: boolean };

export interface ServiceLogic {
  /** Decides a new action (e.g. payment declined: a definite failure; a transient error: retriable). */
  action(invoke: InvokeMessage, random: () => number): StepDecision;
  /** Decides a compensation of an action that took effect: succeeds, or fails retriably. Default: succeeds. */
  compensation?(invoke: InvokeMessage, random: () => number): { readonly ok: true } | { readonly ok: false; readonly error: string };
}

export interface SagaServiceOptions {
  readonly logic: (env: CoreEnv) => ServiceLogic;
  /**
   * Remember outcomes by key (default true). `false` is a broken service that runs every
   * invocation it receives: a retry applies twice. It exists to show the checker catching it.
   */
  readonly dedupe?: boolean;
  /**
   * Refuse an action whose compensation came first (default true). `false` is a broken service
   * where a delayed action lands after its undo: it exists to show the checker catching it.
   */
  readonly tombstones?: boolean;
}

type Fx = Effects<SagaMessage, ServiceRecord, never>;

/** Bound on keys remembered in memory is the durable log itself: every decided key has a record. */
export class SagaServiceCore implements ProtocolCore<SagaMessage, never, never, ServiceRecord> {
  private readonly actions = new Map<string, ServiceRecord & { kind: 'action' }>();
  /** By the key of the action each one undoes (or fenced off, as a tombstone). */
  private readonly compensations = new Map<string, ServiceRecord & { kind: 'compensation' }>();
  private readonly logic: ServiceLogic;
  private readonly dedupe: boolean;
  private readonly tombstones: boolean;
  private effects = 0;
  private handled = 0;

  constructor(
    private readonly env: CoreEnv,
    durable: readonly ServiceRecord[],
    options: SagaServiceOptions,
  ) {
    this.logic = options.logic(env);
    this.dedupe = options.dedupe ?? true;
    this.tombstones = options.tombstones ?? true;
    for (const r of durable) this.apply(r);
  }

  start(fx: Fx): void {
    fx.annotate('effects', this.effects);
  }

  handleRequest(): void {}

  handleTick(): void {}

  handleMessage(from: NodeId, msg: SagaMessage, fx: Fx): void {
    if (msg.type !== 'invoke') return;
    fx.annotate('handled', ++this.handled);
    const answer = (body: { ok: true; output: JsonValue } | { ok: false; error: string; retriable: boolean }): void =>
      fx.send(from, { type: 'result', sagaId: msg.sagaId, step: msg.step, phase: msg.phase, key: msg.key, attempt: msg.attempt, ...body });
    const random = (): number => this.env.random();
    if (msg.phase === 'action') {
      const known = this.dedupe ? this.actions.get(msg.key) : undefined;
      if (known !== undefined) return answer(known.ok ? { ok: true, output: known.output } : { ok: false, error: known.error, retriable: false });
      // a tombstone: the compensation came first, so the action must never take effect
      if (this.tombstones && this.compensations.has(msg.actionKey)) return answer({ ok: false, error: 'cancelled: compensated before it ran', retriable: false });
      const decision = this.logic.action(msg, random);
      if (!decision.ok && decision.retriable) return answer(decision); // nothing decided, nothing stored
      const record: ServiceRecord = decision.ok
        ? { kind: 'action', key: msg.key, sagaId: msg.sagaId, step: msg.step, ok: true, output: decision.output, atMs: this.env.now() }
        : { kind: 'action', key: msg.key, sagaId: msg.sagaId, step: msg.step, ok: false, error: decision.error, atMs: this.env.now() };
      this.store(record, fx);
      return answer(decision.ok ? { ok: true, output: decision.output } : { ok: false, error: decision.error, retriable: false });
    }
    if (this.dedupe && this.compensations.has(msg.actionKey)) return answer({ ok: true, output: null });
    const applied = this.actions.get(msg.actionKey)?.ok === true;
    if (applied) {
      const outcome = this.logic.compensation?.(msg, random) ?? { ok: true };
      if (!outcome.ok) return answer({ ok: false, error: outcome.error, retriable: true });
    }
    this.store({ kind: 'compensation', key: msg.key, actionKey: msg.actionKey, sagaId: msg.sagaId, step: msg.step, applied, atMs: this.env.now() }, fx);
    answer({ ok: true, output: null });
  }

  private store(record: ServiceRecord, fx: Fx): void {
    fx.persist(record);
    this.apply(record);
    if ((record.kind === 'action' && record.ok) || (record.kind === 'compensation' && record.applied)) {
      fx.annotate('effects', this.effects);
      fx.annotate('effect', `${record.kind} ${record.key}`);
    }
  }

  private apply(r: ServiceRecord): void {
    if (r.kind === 'action') {
      this.actions.set(r.key, r);
      if (r.ok) this.effects++;
    } else {
      this.compensations.set(r.actionKey, r);
      if (r.applied) this.effects++;
    }
  }

  /** Keys whose action took effect and is not undone (for tests). */
  get standing(): string[] {
    return [...this.actions.values()].filter((a) => a.ok && this.compensations.get(a.key)?.applied !== true).map((a) => a.key);
  }
}

export function sagaServiceSpec(options: SagaServiceOptions): ProtocolSpec<SagaMessage, never, never, ServiceRecord, SagaServiceCore> {
  return { name: 'saga-service', tickIntervalMs: 0, create: (env, durable) => new SagaServiceCore(env, durable, options) };
}
