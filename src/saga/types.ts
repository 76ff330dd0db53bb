// The vocabulary of orchestrated sagas, shared by the sans-I/O orchestrator, the services that
// carry out steps, the checker and the hosts: saga plans, the messages between orchestrator and
// services, the durable saga log's records, client requests and replies, and typed errors.
import type { JsonValue, Message } from '../core/index.js';

/** How often, and how patiently, a step's action is tried before the saga gives up on it. */
export interface RetryPolicy {
  /** Attempts before the saga compensates (steps before the pivot only; at least 1). */
  readonly maxAttempts: number;
  /** Delay before the second attempt; doubles each attempt up to `maxDelayMs`, with jitter. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 3, baseDelayMs: 50, maxDelayMs: 2_000 };
export const DEFAULT_STEP_TIMEOUT_MS = 1_000;

/** One step as the orchestrator sees it: where it runs, how it is retried and timed out. */
export interface SagaStepPlan {
  readonly name: string;
  /** Who carries out the action and the compensation (a node id in the simulator; the step's own name in the Node runner). */
  readonly service: string;
  readonly retry?: Partial<RetryPolicy>;
  /** An attempt with no answer within this long counts as failed, its effect unknown. */
  readonly timeoutMs?: number;
}

/**
 * A saga: steps run in order. Steps before the pivot are compensable: when one of them fails
 * (definitely, or after its attempts), the saga compensates every earlier step that may have
 * run, in reverse order. The pivot is retried until it answers definitely; if it fails the
 * earlier steps are compensated, if it succeeds the steps after it are retried until they
 * succeed and nothing is ever compensated. Without a pivot every step is compensable.
 */
export interface SagaPlan {
  readonly name: string;
  readonly steps: readonly SagaStepPlan[];
  /** The pivot step's name, if any. */
  readonly pivot?: string;
}

export type SagaPhase = 'action' | 'compensation';

/** A saga id is 1 to this many characters, without "/" (it is part of every idempotency key). */
export const MAX_SAGA_ID_CHARS = 200;

export function isSagaId(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= MAX_SAGA_ID_CHARS && !v.includes('/');
}

/**
 * The idempotency key of a step's action or compensation: depends only on the saga and the step,
 * so every retry, and every attempt after a restart, carries the same key.
 */
export function idempotencyKey(sagaId: string, step: number, stepName: string, phase: SagaPhase): string {
  return `${sagaId}/${step}.${stepName}/${phase}`;
}

// ------------------------------------------------------------------ messages

/** The orchestrator asks a service to run a step's action or compensation. */
export interface InvokeMessage extends Message {
  readonly type: 'invoke';
  readonly sagaId: string;
  readonly saga: string;
  readonly step: number;
  readonly stepName: string;
  readonly phase: SagaPhase;
  readonly key: string;
  /** The action's key (equal to `key` for an action): a compensation names what it undoes. */
  readonly actionKey: string;
  readonly attempt: number;
  readonly input: JsonValue;
  /** Outputs of the steps that succeeded so far, by step name (the step's own for a compensation). */
  readonly outputs: { readonly [step: string]: JsonValue };
}

/** A service's answer. A definite failure is final for its key; a retriable one changed nothing. */
export type ResultMessage = {
  readonly type: 'result';
  readonly sagaId: string;
  readonly step: number;
  readonly phase: SagaPhase;
  readonly key: string;
  readonly attempt: number;
} & ({ readonly ok: true; readonly output: JsonValue } | { readonly ok: false; readonly error: string; readonly retriable: boolean });

export type SagaMessage = InvokeMessage | ResultMessage;

// ------------------------------------------------------------------ the durable saga log

export type SagaOutcome = 'committed' | 'compensated';

/** One record of the saga log. The orchestrator's state is the fold of these records. */
export type SagaRecord =
  | { readonly kind: 'started'; readonly sagaId: string; readonly saga: string; readonly input: JsonValue }
  /** Written before the invocation leaves: after it, the action may have taken effect. */
  | { readonly kind: 'invoked'; readonly sagaId: string; readonly step: number; readonly phase: SagaPhase; readonly attempt: number }
  | { readonly kind: 'succeeded'; readonly sagaId: string; readonly step: number; readonly phase: SagaPhase; readonly output: JsonValue }
  /** The saga gives up on a step and starts compensating; `ran`: its action may have taken effect. */
  | { readonly kind: 'failed'; readonly sagaId: string; readonly step: number; readonly error: string; readonly ran: boolean }
  | { readonly kind: 'finished'; readonly sagaId: string; readonly outcome: SagaOutcome };

// ------------------------------------------------------------------ requests and replies

export type SagaRequest =
  | { readonly kind: 'start'; readonly sagaId: string; readonly saga: string; readonly input: JsonValue }
  | { readonly kind: 'show'; readonly sagaId: string }
  | { readonly kind: 'list' }
  /** Tries the current step again now (skipping any backoff wait). */
  | { readonly kind: 'resume'; readonly sagaId: string };

export type SagaStatus = 'running' | 'compensating' | SagaOutcome;

/** What `show` and `list` tell about a saga. */
export interface SagaView {
  readonly sagaId: string;
  readonly saga: string;
  readonly status: SagaStatus;
  readonly input: JsonValue;
  /** The step being run or compensated; -1 or steps.length when none. */
  readonly step: number;
  readonly attempts: number;
  readonly outputs: { readonly [step: string]: JsonValue };
  /** While running: the last failed attempt's error; once compensating: why the saga gave up. */
  readonly error: string | null;
}

export type SagaResponse =
  | { readonly kind: 'started'; readonly sagaId: string; readonly existing: boolean }
  | { readonly kind: 'saga'; readonly saga: SagaView }
  | { readonly kind: 'sagas'; readonly sagas: readonly SagaView[] }
  | { readonly kind: 'error'; readonly code: SagaErrorCode; readonly message: string };

// ------------------------------------------------------------------ errors

export type SagaErrorCode =
  | 'SAGA_BAD_PLAN'
  | 'SAGA_BAD_ID'
  | 'SAGA_UNKNOWN_DEFINITION'
  | 'SAGA_NOT_FOUND'
  | 'SAGA_TOO_MANY'
  | 'SAGA_BAD_RECORD'
  | 'SAGA_CLOSED'
  | 'SAGA_TIMEOUT'
  | 'SAGA_HOP_LIMIT';

/** A saga failure with a stable code. */
export class SagaError extends Error {
  constructor(
    readonly code: SagaErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SagaError';
  }
}

export function isSagaError(err: unknown, code?: SagaErrorCode): err is SagaError {
  return err instanceof SagaError && (code === undefined || err.code === code);
}
