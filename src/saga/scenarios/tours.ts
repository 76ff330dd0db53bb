// The guided tours of the order saga (order, payment, inventory, shipping) in the simulator: a
// happy order, a declined payment, stock running out and a refused shipment (compensations run
// backwards), and the orchestrator crashing mid-saga and resuming from its log. The unit tests
// play them to the end; the visualizer plays the same scripts step by step in virtual time.
import { driveScenarioProgram, runScenarioProgram, ScenarioError, type ScenarioProgram } from '../../sim/scenario.js';
import type { LinkConfig } from '../../sim/network.js';
import { resolvePlan } from '../orchestrator.js';
import { NO_FAILURES, ORCHESTRATOR_NODE, ORDER_SAGA, ORDER_SAGA_NO_PIVOT, OrderSagaCluster, SERVICE_NODES, type FailureRates, type OrderSagaHost, type ServiceName } from '../sim/order-saga.js';
import type { SagaStatus } from '../types.js';

/** Slower links than the tests' default, so that each step can be watched going out and back. */
export const SAGA_TOUR_LINK: Partial<LinkConfig> = { latency: { kind: 'uniform', minMs: 15, maxMs: 35 } };
/** How often a waiting step of a tour looks again when the visualizer drives it (virtual ms). */
export const SAGA_TOUR_POLL_MS = 1;
/** The saga every tour starts. */
export const TOUR_SAGA_ID = 'order-1';

export interface SagaTourOutcome {
  /** The saga's status at the end ("missing": the orchestrator is down or never heard of it). */
  readonly status: SagaStatus | 'missing';
  /** Step names whose action took effect at its service, in the order they did. */
  readonly actions: readonly string[];
  /** Step names whose compensation took effect, in the order they did. */
  readonly compensations: readonly string[];
  /** The saga checker's verdict (every saga all-committed or all-compensated, effects at most once, ...). */
  readonly checkOk: boolean;
}

export interface SagaTour {
  readonly name: string;
  readonly title: string;
  readonly caption: string;
  readonly seed: number;
  readonly plan: 'order' | 'order-no-pivot';
  readonly failures: FailureRates;
  /** Crash the orchestrator once this service applied its action (the result still in flight), for `downMs`. */
  readonly crashOrchestrator?: { readonly after: ServiceName; readonly downMs: number };
  readonly endMs: number;
  readonly expected: SagaTourOutcome;
}

const FOUR = ['create-order', 'charge-payment', 'reserve-inventory', 'ship'];

export const SAGA_TOURS: readonly SagaTour[] = [
  {
    name: 'saga-happy',
    title: 'saga: a happy order',
    caption: 'An order saga with nothing failing: create the order, charge the payment, reserve the stock (the pivot), ship. Every step succeeds; the saga commits.',
    seed: 1,
    plan: 'order',
    failures: NO_FAILURES,
    endMs: 1_500,
    expected: { status: 'committed', actions: FOUR, compensations: [], checkOk: true },
  },
  {
    name: 'saga-payment-declined',
    title: 'saga: payment declined',
    caption: 'The payment service declines the charge (a definite failure): the saga gives up and compensates what ran before it, backwards — the order is cancelled.',
    seed: 1,
    plan: 'order',
    failures: { ...NO_FAILURES, decline: 1 },
    endMs: 1_500,
    expected: { status: 'compensated', actions: ['create-order'], compensations: ['create-order'], checkOk: true },
  },
  {
    name: 'saga-out-of-stock',
    title: 'saga: out of stock',
    caption: 'Order created, payment charged, then the stock has run out (the pivot fails): the compensations run backwards — refund the payment, then cancel the order.',
    seed: 1,
    plan: 'order',
    failures: { ...NO_FAILURES, outOfStock: 1 },
    endMs: 1_500,
    expected: { status: 'compensated', actions: ['create-order', 'charge-payment'], compensations: ['charge-payment', 'create-order'], checkOk: true },
  },
  {
    name: 'saga-shipping-refused',
    title: 'saga: shipping refused (no pivot)',
    caption: 'The same steps without a pivot: three steps succeed, then shipping refuses the address, so all three are compensated in reverse order — release the stock, refund, cancel the order.',
    seed: 1,
    plan: 'order-no-pivot',
    failures: { ...NO_FAILURES, badAddress: 1 },
    endMs: 1_500,
    expected: { status: 'compensated', actions: ['create-order', 'charge-payment', 'reserve-inventory'], compensations: ['reserve-inventory', 'charge-payment', 'create-order'], checkOk: true },
  },
  {
    name: 'saga-orchestrator-crash',
    title: 'saga: orchestrator crash mid-saga',
    caption: 'The orchestrator crashes while the payment it asked for is being answered, and stays down 600 ms. Restarted, it reads its saga log and resumes: it asks again with the same idempotency key, payment answers without charging twice, and the saga commits.',
    seed: 1,
    plan: 'order',
    failures: NO_FAILURES,
    crashOrchestrator: { after: 'payment', downMs: 600 },
    endMs: 2_000,
    expected: { status: 'committed', actions: FOUR, compensations: [], checkOk: true },
  },
];

export function sagaTourByName(name: string): SagaTour | undefined {
  return SAGA_TOURS.find((t) => t.name === name);
}

/** The cluster a tour plays on (`seed` overrides the tour's; `host` wraps the cores for the visualizer). */
export function sagaTourCluster(tour: SagaTour, seed = tour.seed, host?: OrderSagaHost): OrderSagaCluster {
  return new OrderSagaCluster({ seed, failures: tour.failures, link: SAGA_TOUR_LINK, trace: false, ...(host === undefined ? {} : { host }) });
}

/** Whether `service` applied its action for the tour's saga (made it durable in its ledger). */
function actionApplied(cluster: OrderSagaCluster, service: ServiceName): boolean {
  return cluster.sagaHistory().effects.some((e) => e.sagaId === TOUR_SAGA_ID && e.phase === 'action' && e.step === ORDER_SAGA.steps.findIndex((s) => s.service === SERVICE_NODES[service]));
}

/** The tour's script on `cluster`. */
export function* sagaTourProgram(cluster: OrderSagaCluster, tour: SagaTour): ScenarioProgram {
  const plan = tour.plan === 'order' ? ORDER_SAGA : ORDER_SAGA_NO_PIVOT;
  yield { kind: 'step', where: 'step 1', text: `a client starts saga ${TOUR_SAGA_ID} (${plan.name}: ${plan.steps.map((s) => s.name).join(' → ')})` };
  cluster.startSaga(TOUR_SAGA_ID, plan.name, { order: TOUR_SAGA_ID, amount: 42 });
  const crash = tour.crashOrchestrator;
  if (crash !== undefined) {
    yield { kind: 'step', where: 'step 2', text: `wait until ${crash.after} applied its action (its answer still on the way)` };
    if (!(yield { kind: 'until', until: () => actionApplied(cluster, crash.after), withinMs: 2_000 })) throw new ScenarioError(`step 2: ${crash.after} never applied its action`);
    yield { kind: 'step', where: 'step 3', text: `crash the orchestrator (node ${ORCHESTRATOR_NODE}) for ${crash.downMs} ms` };
    cluster.crash(ORCHESTRATOR_NODE);
    yield { kind: 'for', ms: crash.downMs };
    yield { kind: 'step', where: 'step 4', text: 'restart the orchestrator: it replays its saga log and resumes the saga' };
    cluster.restart(ORCHESTRATOR_NODE);
  }
  const last = crash === undefined ? 'step 2' : 'step 5';
  yield { kind: 'step', where: last, text: `wait until the saga ends (${tour.expected.status})` };
  const ended = (): boolean => {
    const v = cluster.orchestrator()?.show(TOUR_SAGA_ID);
    return v !== undefined && (v.status === 'committed' || v.status === 'compensated');
  };
  if (!(yield { kind: 'until', until: ended, withinMs: 5_000 })) throw new ScenarioError(`${last}: the saga did not end`);
  const status = cluster.orchestrator()?.show(TOUR_SAGA_ID)?.status;
  if (status !== tour.expected.status) throw new ScenarioError(`${last}: the saga ended ${String(status)}, expected ${tour.expected.status}`);
}

/** What the cluster shows now, judged as the tour's outcome. */
export function sagaTourOutcome(cluster: OrderSagaCluster, planName: string = ORDER_SAGA.name): SagaTourOutcome {
  const history = cluster.sagaHistory();
  const names = resolvePlan(planName === ORDER_SAGA.name ? ORDER_SAGA : ORDER_SAGA_NO_PIVOT).steps.map((s) => s.name);
  const ofTour = history.effects.filter((e) => e.sagaId === TOUR_SAGA_ID).sort((a, b) => a.atMs - b.atMs);
  return {
    status: cluster.orchestrator()?.show(TOUR_SAGA_ID)?.status ?? 'missing',
    actions: ofTour.filter((e) => e.phase === 'action').map((e) => names[e.step] ?? String(e.step)),
    compensations: ofTour.filter((e) => e.phase === 'compensation').map((e) => names[e.step] ?? String(e.step)),
    checkOk: cluster.check().ok,
  };
}

export interface SagaTourResult {
  readonly failure: string | undefined;
  readonly outcome: SagaTourOutcome;
  readonly cluster: OrderSagaCluster;
}

/**
 * Plays a tour to its end: 'run' lets the simulator answer each wait at once; 'drive' plays it as
 * the visualizer does (polling every SAGA_TOUR_POLL_MS in virtual time); both then run to `endMs`.
 */
export function runSagaTour(tour: SagaTour, options: { readonly driver?: 'run' | 'drive'; readonly seed?: number } = {}): SagaTourResult {
  const cluster = sagaTourCluster(tour, options.seed ?? tour.seed);
  const program = sagaTourProgram(cluster, tour);
  let failure: string | undefined;
  if (options.driver === 'drive') {
    let ended = false;
    driveScenarioProgram(cluster.sim, program, {
      pollMs: SAGA_TOUR_POLL_MS,
      onEnd: (f) => {
        failure = f;
        ended = true;
      },
    });
    cluster.runUntil(() => ended, 10 * tour.endMs);
    if (!ended) failure = `the tour did not end within ${10 * tour.endMs} ms`;
  } else {
    failure = runScenarioProgram(cluster.sim, program);
  }
  if (cluster.nowMs < tour.endMs) cluster.runFor(tour.endMs - cluster.nowMs);
  return { failure, outcome: sagaTourOutcome(cluster, tour.plan), cluster };
}
