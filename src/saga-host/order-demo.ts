// The lessons' order saga with real HTTP services: order, payment, inventory and shipping each an
// HTTP server with a durable ledger (service-http.ts), and the orchestrator (runner.ts) calling
// them with an idempotency key per action and compensation. Used by `synod demo saga`, the
// process entry demo-process.ts and the kill -9 test; readOrderHistory hands both logs to the checker.
import { join } from 'node:path';
import type { CoreEnv, JsonValue } from '../core/index.js';
import { isJsonObject } from '../core/index.js';
import { checkSagaHistory, type SagaCheckResult, type SagaEffect, type SagaHistory } from '../saga/check.js';
import { decodeSagaRecord, foldSagaLog } from '../saga/log.js';
import { resolvePlan } from '../saga/orchestrator.js';
import type { ServiceLogic } from '../saga/service.js';
import { ORDER_SAGA, ORDER_SAGA_NO_PIVOT } from '../saga/sim/order-saga.js';
import type { InvokeMessage, ResultMessage, SagaPlan, SagaRecord } from '../saga/types.js';
import { OpLogStore } from '../storage/op-log.js';
import { SagaOrchestrator, StepRejected, type SagaDefinition, type StepContext } from './runner.js';
import { readServiceLedger, SagaHttpService } from './service-http.js';

export const ORDER_SERVICES = ['order', 'payment', 'inventory', 'shipping'] as const;
export type OrderServiceName = (typeof ORDER_SERVICES)[number];
export type OrderServiceUrls = { readonly [S in OrderServiceName]: string };

/** The step of each plan that each service carries out, in order. */
const STEP_SERVICE: readonly OrderServiceName[] = ['order', 'payment', 'inventory', 'shipping'];

/** Payments above this are declined. */
export const PAYMENT_LIMIT = 1_000;

/**
 * The business rules, decided from the order itself so the demo's outcomes are predictable:
 * a payment over PAYMENT_LIMIT is declined, the item "unobtainium" is out of stock, the address
 * "nowhere" is refused by shipping; with `flaky`, any call fails transiently at that rate.
 */
export function orderServiceLogic(name: OrderServiceName, flaky = 0): (env: CoreEnv) => ServiceLogic {
  return () => ({
    action(invoke: InvokeMessage, random) {
      if (flaky > 0 && random() < flaky) return { ok: false, error: `${name}: temporarily unavailable`, retriable: true };
      const order = isJsonObject(invoke.input) ? invoke.input : {};
      if (name === 'payment' && typeof order.amount === 'number' && order.amount > PAYMENT_LIMIT) return { ok: false, error: `payment declined: ${order.amount} is over the limit of ${PAYMENT_LIMIT}`, retriable: false };
      if (name === 'inventory' && order.item === 'unobtainium') return { ok: false, error: 'out of stock: unobtainium', retriable: false };
      if (name === 'shipping' && order.address === 'nowhere') return { ok: false, error: 'address refused: nowhere', retriable: false };
      const ref = `${name}-${invoke.sagaId}`;
      const output: JsonValue = name === 'payment' ? { payment: ref, charged: typeof order.amount === 'number' ? order.amount : 0 } : { [name]: ref };
      return { ok: true, output };
    },
    compensation: (_invoke, random) => (flaky > 0 && random() < flaky ? { ok: false, error: `${name}: temporarily unavailable` } : { ok: true }),
  });
}

export interface OrderServicesOptions {
  /** The demo's data directory: ledgers go in DIR/services/order, DIR/services/payment, ... */
  readonly dir: string;
  readonly host?: string;
  /** Fixed ports per service; default ephemeral. */
  readonly ports?: Partial<{ readonly [S in OrderServiceName]: number }>;
  readonly flaky?: number;
  readonly delayMs?: number;
}

export interface OrderServices {
  readonly urls: OrderServiceUrls;
  close(): Promise<void>;
}

/** Starts the four services, each its own HTTP server with its own ledger. */
export async function startOrderServices(options: OrderServicesOptions): Promise<OrderServices> {
  const started: SagaHttpService[] = [];
  try {
    for (const name of ORDER_SERVICES) {
      const port = options.ports?.[name];
      started.push(
        await SagaHttpService.start({
          name,
          dir: join(options.dir, 'services', name),
          logic: orderServiceLogic(name, options.flaky ?? 0),
          ...(options.host === undefined ? {} : { host: options.host }),
          ...(port === undefined ? {} : { port }),
          ...(options.delayMs === undefined ? {} : { delayMs: options.delayMs }),
        }),
      );
    }
  } catch (err) {
    for (const s of started) await s.close();
    throw err;
  }
  const urls = Object.fromEntries(started.map((s) => [s.name, s.url])) as OrderServiceUrls;
  return { urls, close: async () => void (await Promise.all(started.map((s) => s.close()))) };
}

/** Calls a service: one invocation over HTTP; a definite refusal throws StepRejected, anything else retriable. */
async function callService(url: string, body: InvokeMessage, signal: AbortSignal): Promise<JsonValue> {
  const res = await fetch(`${url}/invoke`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${url}: HTTP ${res.status} ${text.slice(0, 200)}`);
  const result = JSON.parse(text) as ResultMessage;
  if (result.ok) return result.output;
  if (!result.retriable) throw new StepRejected(result.error);
  throw new Error(result.error);
}

function definition(plan: SagaPlan, urls: OrderServiceUrls): SagaDefinition {
  const call = (step: number, phase: 'action' | 'compensation') => async (input: JsonValue, ctx: StepContext) => {
    const service = STEP_SERVICE[step] as OrderServiceName;
    const body: InvokeMessage = { type: 'invoke', sagaId: ctx.sagaId, saga: plan.name, step, stepName: ctx.step, phase, key: ctx.idempotencyKey, actionKey: ctx.actionKey, attempt: ctx.attempt, input, outputs: ctx.outputs };
    return callService(urls[service], body, ctx.signal);
  };
  const resolved = resolvePlan(plan);
  return {
    name: plan.name,
    ...(plan.pivot === undefined ? {} : { pivot: plan.pivot }),
    steps: resolved.steps.map((s, i) => ({
      name: s.name,
      retry: { maxAttempts: 3, baseDelayMs: 50, maxDelayMs: 1_000 },
      timeoutMs: 2_000,
      action: call(i, 'action'),
      ...(i < resolved.pivot ? { compensation: call(i, 'compensation') } : {}),
    })),
  };
}

/** The order saga (reserving stock is the pivot; shipping is then retried until it succeeds) and the same without a pivot. */
export const ORDER_PLANS: readonly SagaPlan[] = [ORDER_SAGA, ORDER_SAGA_NO_PIVOT];

export function orderSagaDefinitions(urls: OrderServiceUrls): SagaDefinition[] {
  return ORDER_PLANS.map((p) => definition(p, urls));
}

export interface OrderOrchestratorOptions {
  /** The demo's data directory: the saga log goes in DIR/orchestrator. */
  readonly dir: string;
  readonly urls: OrderServiceUrls;
  readonly tickIntervalMs?: number;
}

export function openOrderOrchestrator(options: OrderOrchestratorOptions): Promise<SagaOrchestrator> {
  return SagaOrchestrator.open({ dir: join(options.dir, 'orchestrator'), definitions: orderSagaDefinitions(options.urls), tickIntervalMs: options.tickIntervalMs ?? 5 });
}

/** The demo's orders: two that commit, a declined payment, an item out of stock, a refused address (no pivot). */
export const DEMO_ORDERS: readonly { readonly sagaId: string; readonly saga: string; readonly input: JsonValue; readonly expect: 'committed' | 'compensated' }[] = [
  { sagaId: 'order-1', saga: 'order', input: { item: 'book', amount: 25, address: '1 Main St' }, expect: 'committed' },
  { sagaId: 'order-2', saga: 'order', input: { item: 'lamp', amount: 80, address: '2 High St' }, expect: 'committed' },
  { sagaId: 'order-3', saga: 'order', input: { item: 'car', amount: 25_000, address: '3 Low Rd' }, expect: 'compensated' },
  { sagaId: 'order-4', saga: 'order', input: { item: 'unobtainium', amount: 40, address: '4 Far Way' }, expect: 'compensated' },
  { sagaId: 'order-5', saga: 'order-no-pivot', input: { item: 'chair', amount: 60, address: 'nowhere' }, expect: 'compensated' },
  { sagaId: 'order-6', saga: 'order-no-pivot', input: { item: 'desk', amount: 300, address: '6 Elm St' }, expect: 'committed' },
];

/** Reads a saga log offline (the orchestrator must be stopped). */
export async function readSagaLog(dir: string): Promise<readonly SagaRecord[]> {
  const store = await OpLogStore.open<SagaRecord>(dir, { decodeOp: decodeSagaRecord });
  try {
    return [...store.recovered];
  } finally {
    await store.close();
  }
}

/**
 * The checker's history of a demo's data directory, read offline after every process stopped:
 * how each saga ended from the orchestrator's log (DIR/orchestrator), and every effect each
 * service made durable from its ledger (DIR/services/NAME), timed by the services' clock.
 */
export async function readOrderHistory(dir: string): Promise<SagaHistory> {
  const plans = new Map(ORDER_PLANS.map((p) => [p.name, resolvePlan(p)]));
  const sagas = foldSagaLog(await readSagaLog(join(dir, 'orchestrator'))).map((e) => {
    const plan = plans.get(e.saga);
    return { sagaId: e.sagaId, steps: plan?.steps.map((s) => s.name) ?? [], pivot: plan?.pivot ?? 0, outcome: e.status === 'committed' || e.status === 'compensated' ? e.status : ('unfinished' as const) };
  });
  const effects: SagaEffect[] = [];
  for (const name of ORDER_SERVICES) {
    for (const r of await readServiceLedger(join(dir, 'services', name))) {
      if ((r.kind === 'action' && r.ok) || (r.kind === 'compensation' && r.applied)) effects.push({ atMs: r.atMs, sagaId: r.sagaId, step: r.step, phase: r.kind, key: r.key });
    }
  }
  return { sagas, effects };
}

export async function checkOrderDemo(dir: string): Promise<SagaCheckResult> {
  return checkSagaHistory(await readOrderHistory(dir));
}
