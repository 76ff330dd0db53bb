// The order saga in the simulator: an orchestrator node (the saga core with its durable log) and
// four service nodes (order, payment, inventory, shipping; each dedupes by idempotency key in a
// durable ledger), composed in one simulation. Payments are declined, stock runs out and calls
// fail transiently at seeded rates; the harness crashes nodes at chosen step boundaries (or lets
// a random nemesis loose), heals, waits for every saga to end and hands the history to the checker.
import { isInvariantError, type CoreEnv, type JsonValue, type ProtocolCore, type ProtocolSpec } from '../../core/index.js';
import { SimCluster } from '../../sim/cluster.js';
import { composeSpecs, type ComposedMessage, type ComposedOp, type ComposedRequest, type ComposedResponse } from '../../sim/compose.js';
import type { LinkConfig } from '../../sim/network.js';
import type { RandomStream } from '../../sim/rng.js';
import type { TraceEvent } from '../../sim/trace.js';
import { Simulation } from '../../sim/simulation.js';
import { checkSagaHistory, type SagaCheckResult, type SagaEffect, type SagaHistory } from '../check.js';
import { resolvePlan, sagaOrchestratorSpec, SagaOrchestratorCore, type OrchestratorOptions } from '../orchestrator.js';
import { sagaServiceSpec, type ServiceLogic, type ServiceRecord, type StepDecision } from '../service.js';
import { isSagaError, type InvokeMessage, type SagaPlan, type SagaRecord, type SagaResponse } from '../types.js';

export const ORCHESTRATOR_NODE = '1';
export const SERVICE_NODES = { order: '2', payment: '3', inventory: '4', shipping: '5' } as const;
export type ServiceName = keyof typeof SERVICE_NODES;
export const SERVICE_NAMES = Object.keys(SERVICE_NODES) as ServiceName[];

const STEP_RETRY = { maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 400 };
const STEP_TIMEOUT_MS = 150;

/** The lessons' order saga: reserving stock is the pivot, shipping is retried until it succeeds. */
export const ORDER_SAGA: SagaPlan = {
  name: 'order',
  pivot: 'reserve-inventory',
  steps: [
    { name: 'create-order', service: SERVICE_NODES.order, retry: STEP_RETRY, timeoutMs: STEP_TIMEOUT_MS },
    { name: 'charge-payment', service: SERVICE_NODES.payment, retry: STEP_RETRY, timeoutMs: STEP_TIMEOUT_MS },
    { name: 'reserve-inventory', service: SERVICE_NODES.inventory, retry: STEP_RETRY, timeoutMs: STEP_TIMEOUT_MS },
    { name: 'ship', service: SERVICE_NODES.shipping, retry: STEP_RETRY, timeoutMs: STEP_TIMEOUT_MS },
  ],
};

/** The same steps with no pivot: a shipment refused (bad address) compensates all three before it. */
export const ORDER_SAGA_NO_PIVOT: SagaPlan = { name: 'order-no-pivot', steps: ORDER_SAGA.steps };

export interface FailureRates {
  /** Payment declined (definite). */
  readonly decline: number;
  /** Out of stock (definite). */
  readonly outOfStock: number;
  /** Address refused by shipping (definite; only the no-pivot saga may fail there). */
  readonly badAddress: number;
  /** Any call failing transiently (retriable, no effect), actions and compensations alike. */
  readonly transient: number;
}

export const DEFAULT_FAILURE_RATES: FailureRates = { decline: 0.2, outOfStock: 0.15, badAddress: 0.1, transient: 0.1 };
export const NO_FAILURES: FailureRates = { decline: 0, outOfStock: 0, badAddress: 0, transient: 0 };

function serviceLogic(env: CoreEnv, rates: FailureRates): ServiceLogic {
  const name = SERVICE_NAMES.find((n) => SERVICE_NODES[n] === env.id);
  return {
    action(invoke: InvokeMessage, random): StepDecision {
      if (random() < rates.transient) return { ok: false, error: `${name}: temporarily unavailable`, retriable: true };
      if (name === 'payment' && random() < rates.decline) return { ok: false, error: 'payment declined', retriable: false };
      if (name === 'inventory' && random() < rates.outOfStock) return { ok: false, error: 'out of stock', retriable: false };
      if (name === 'shipping' && invoke.saga === ORDER_SAGA_NO_PIVOT.name && random() < rates.badAddress) return { ok: false, error: 'address refused', retriable: false };
      return { ok: true, output: { service: name ?? env.id, ref: invoke.key } };
    },
    compensation: (_invoke, random) => (random() < rates.transient ? { ok: false, error: `${name}: temporarily unavailable` } : { ok: true }),
  };
}

export interface OrderSagaOptions {
  readonly failures?: FailureRates;
  /** Services remember outcomes by key (default true; false shows the checker catching double effects). */
  readonly dedupe?: boolean;
  /** Services refuse an action whose compensation came first (default true; false shows a late action landing after its undo). */
  readonly tombstones?: boolean;
}

export function orderSagaSpec(options: OrderSagaOptions = {}) {
  const rates = options.failures ?? DEFAULT_FAILURE_RATES;
  const orchestrator: OrchestratorOptions = { plans: [ORDER_SAGA, ORDER_SAGA_NO_PIVOT], tickIntervalMs: 10, maxActiveSagas: 1_000 };
  return composeSpecs({
    name: 'saga',
    parts: {
      orchestrator: sagaOrchestratorSpec(orchestrator),
      service: sagaServiceSpec({ logic: (env) => serviceLogic(env, rates), dedupe: options.dedupe ?? true, tombstones: options.tombstones ?? true }),
    },
    placement: (id) => (id === ORCHESTRATOR_NODE ? ['orchestrator'] : ['service']),
    routes: { orchestrator: () => 'service', service: () => 'orchestrator' },
  });
}

export type OrderSagaSpec = ReturnType<typeof orderSagaSpec>;
type Parts = OrderSagaSpec['parts'];
export type OrderSagaMessage = ComposedMessage<Parts>;
export type OrderSagaRequest = ComposedRequest<Parts>;
export type OrderSagaResponse = ComposedResponse<Parts>;
export type OrderSagaOp = ComposedOp<Parts>;

export interface OrderSagaClusterOptions extends OrderSagaOptions {
  readonly seed: number;
  readonly link?: Partial<LinkConfig>;
  readonly trace?: false | { readonly keepLines?: boolean; readonly sink?: (line: string) => void };
  /** A host that wraps the cores (the visualizer's engine): how it wraps the spec and finds a core inside again. */
  readonly host?: OrderSagaHost;
}

type OrderSagaCore = ProtocolCore<OrderSagaMessage, OrderSagaRequest, OrderSagaResponse, OrderSagaOp>;

/** How a host that wraps cores of its own wraps the spec, and finds the composed core inside again. */
export interface OrderSagaHost {
  wrapSpec(spec: OrderSagaSpec): ProtocolSpec<OrderSagaMessage, OrderSagaRequest, OrderSagaResponse, OrderSagaOp>;
  unwrapCore(core: OrderSagaCore | undefined): OrderSagaCore | undefined;
}

/** How a client's start ended. */
interface StartState {
  acked: boolean;
  tries: number;
}

const START_TIMEOUT_MS = 300;
/** A client gives up starting a saga after this many unanswered tries (the saga may then not exist). */
const START_TRIES = 50;

export class OrderSagaCluster extends SimCluster<OrderSagaMessage, OrderSagaRequest, OrderSagaResponse, OrderSagaOp> {
  readonly spec: OrderSagaSpec;
  private readonly effectTimes = new Map<string, number>();
  private readonly starts = new Map<string, StartState>();
  readonly workload: RandomStream;
  private readonly host: OrderSagaHost | undefined;

  constructor(options: OrderSagaClusterOptions) {
    const spec = orderSagaSpec(options);
    const sim = new Simulation({ seed: options.seed, protocol: options.host === undefined ? spec : options.host.wrapSpec(spec), nodes: 1 + SERVICE_NAMES.length, link: options.link, fsyncMs: 2, trace: options.trace ?? false });
    super(sim);
    this.spec = spec;
    this.host = options.host;
    this.workload = sim.random.stream('workload');
    sim.subscribe((e) => {
      if (e.ev === 'annotate' && e.key === 'service/effect' && typeof e.value === 'string') this.effectTimes.set(`${e.node} ${e.value}`, e.t);
    });
  }

  /** The live orchestrator core (undefined while its node is down). */
  orchestrator(): SagaOrchestratorCore | undefined {
    const core = this.sim.core(ORCHESTRATOR_NODE);
    return this.spec.part(this.host === undefined ? core : this.host.unwrapCore(core), 'orchestrator');
  }

  /**
   * A client starts saga `sagaId` (of plan `saga`), asking again, with the same id, until the
   * orchestrator acknowledges (a start is idempotent by id). Recorded in the history.
   */
  startSaga(sagaId: string, saga = ORDER_SAGA.name, input: JsonValue = { order: sagaId, amount: 1 + (this.workload.int(1, 100)) }): void {
    const state: StartState = { acked: false, tries: 0 };
    this.starts.set(sagaId, state);
    const attempt = (): void => {
      if (state.acked || state.tries >= START_TRIES) return;
      state.tries++;
      const process = state.tries === 1 ? sagaId : `${sagaId}'${state.tries - 1}`;
      const index = this.sim.invoke(process, 'start', { sagaId, saga });
      this.sim.request(ORCHESTRATOR_NODE, { part: 'orchestrator', op: { kind: 'start', sagaId, saga, input } }, { timeoutMs: START_TIMEOUT_MS, process }, (res) => {
        const answer = res !== undefined && 'response' in res ? (res.response as SagaResponse) : undefined;
        if (answer?.kind === 'started') {
          state.acked = true;
          this.sim.complete(index, 'ok', { sagaId, existing: answer.existing });
          return;
        }
        this.sim.complete(index, answer === undefined ? 'unknown' : 'fail', answer?.kind === 'error' ? answer.code : null);
        this.sim.after(20, attempt);
      });
    };
    attempt();
  }

  /** Random sagas (both plans) started every `everyMs` on average until `untilMs`. */
  startLoad(untilMs: number, everyMs = 40): void {
    let n = 0;
    const next = (): void => {
      if (this.nowMs >= untilMs) return;
      this.startSaga(`s${n++}`, this.workload.chance(0.7) ? ORDER_SAGA.name : ORDER_SAGA_NO_PIVOT.name);
      this.sim.after(this.workload.int(1, 2 * everyMs), next);
    };
    next();
  }

  /** Every client got its start acknowledged (or gave up) and the orchestrator is up with nothing unfinished. */
  quiescent(): boolean {
    const core = this.orchestrator();
    if (core === undefined || core.activeCount > 0) return false;
    for (const s of this.starts.values()) if (!s.acked && s.tries < START_TRIES) return false;
    return true;
  }

  get startsAcked(): number {
    return [...this.starts.values()].filter((s) => s.acked).length;
  }

  /** Sagas as the orchestrator's durable log tells them, and the effects the services made durable. */
  sagaHistory(): SagaHistory {
    const orchestratorOps = this.sim
      .disk(ORCHESTRATOR_NODE)
      .read('core')
      .filter((r) => !r.torn)
      .map((r) => r.value)
      .flatMap((op) => (op.part === 'orchestrator' ? [op.op as SagaRecord] : []));
    const replay = new SagaOrchestratorCore({ id: 'checker', members: [], now: () => 0, random: () => 0 }, orchestratorOps, { plans: [ORDER_SAGA, ORDER_SAGA_NO_PIVOT] });
    const plans = new Map([ORDER_SAGA, ORDER_SAGA_NO_PIVOT].map((p) => [p.name, resolvePlan(p)]));
    const sagas = replay.list().map((v) => {
      const plan = plans.get(v.saga);
      return {
        sagaId: v.sagaId,
        steps: plan?.steps.map((s) => s.name) ?? [],
        pivot: plan?.pivot ?? 0,
        outcome: v.status === 'committed' || v.status === 'compensated' ? v.status : ('unfinished' as const),
      };
    });
    const effects: SagaEffect[] = [];
    for (const node of Object.values(SERVICE_NODES)) {
      for (const r of this.sim.disk(node).read('core')) {
        if (r.torn || r.value.part !== 'service') continue;
        const rec = r.value.op as ServiceRecord;
        if (!((rec.kind === 'action' && rec.ok) || (rec.kind === 'compensation' && rec.applied))) continue;
        effects.push({ atMs: this.effectTimes.get(`${node} ${rec.kind} ${rec.key}`) ?? Number.NaN, sagaId: rec.sagaId, step: rec.step, phase: rec.kind, key: rec.key });
      }
    }
    return { sagas, effects };
  }

  check(options?: { readonly requireFinished?: boolean }): SagaCheckResult {
    return checkSagaHistory(this.sagaHistory(), options);
  }
}

// ------------------------------------------------------------------ kill at every step boundary

/** Who is crashed: the orchestrator, or one service. */
export type KillTarget = 'orchestrator' | ServiceName;
export const KILL_TARGETS: readonly KillTarget[] = ['orchestrator', ...SERVICE_NAMES];

export interface KillPlan {
  readonly target: KillTarget;
  /**
   * The k-th boundary of the target (0-based). For before/after/recovery: for the orchestrator,
   * its k-th saga-log record; for a service, the k-th invocation it handles. For mid: for the
   * orchestrator, the k-th invocation a service receives (the step is running over there); for a
   * service, the k-th invocation sent to it (on the wire when it dies).
   */
  readonly boundary: number;
  /**
   * before: the record (or the service's decision) is not yet durable, its messages not sent;
   * after: it is durable and its messages have left; mid: in the middle of a step (see
   * `boundary`); recovery: after the boundary, and again at the first boundary once it restarts
   * (a crash while it resumes).
   */
  readonly when: KillMoment;
}

export type KillMoment = 'before' | 'after' | 'mid' | 'recovery';
export const KILL_MOMENTS: readonly KillMoment[] = ['before', 'after', 'mid', 'recovery'];

export interface KillRunResult {
  readonly seed: number;
  readonly kill: KillPlan;
  /** The boundary happened and the target was crashed there. */
  readonly crashed: boolean;
  /** Crashes of the target in the run (2 for a recovery plan that hit both). */
  readonly crashes: number;
  /** Boundaries the target passed in the whole run. */
  readonly boundaries: number;
  readonly check: SagaCheckResult;
  readonly settled: boolean;
  readonly virtualMs: number;
  readonly traceSha256: string | undefined;
  /** A broken invariant of a core (an assertion) that stopped the run, with its code. */
  readonly invariant: string | undefined;
  /** Start requests of the clients: acknowledged, refused, unanswered. */
  readonly ops: { readonly ok: number; readonly fail: number; readonly unknown: number };
  readonly messages: number;
}

export interface KillRunOptions extends OrderSagaOptions {
  readonly seed: number;
  readonly kill: KillPlan;
  /** Sagas started together at time 0 (default 1). */
  readonly sagas?: number;
  readonly settleMs?: number;
  /** Hash the trace (for determinism tests); default false. */
  readonly hashTrace?: boolean;
}

/** The moment's trigger: which trace event counts as the target's next boundary. */
function boundaryOf(kill: KillPlan, target: string): (e: TraceEvent) => boolean {
  const serviceNodes = new Set<string>(Object.values(SERVICE_NODES));
  if (kill.when === 'mid') {
    if (kill.target === 'orchestrator') return (e) => e.ev === 'deliver' && e.type === 'service/invoke' && serviceNodes.has(e.to);
    return (e) => e.ev === 'send' && e.type === 'service/invoke' && e.to === target;
  }
  const key = kill.target === 'orchestrator' ? 'orchestrator/log' : 'service/handled';
  return (e) => e.ev === 'annotate' && e.node === target && e.key === key;
}

/** A kill plan set up on a cluster: the sagas started, the crash waiting for its boundary. */
export interface ArmedKill {
  /** The target is down (crashed, not yet restarted). */
  readonly down: () => boolean;
  readonly crashes: () => number;
  readonly boundaries: () => number;
}

/**
 * Starts `sagas` sagas on `cluster` and arranges the crash: at the target's k-th boundary it is
 * crashed (see KillPlan), stays down for a seeded 20..400 ms (long enough for timeouts and
 * retries to pile up) and restarts from its disk.
 */
export function armOrderSagaKill(cluster: OrderSagaCluster, kill: KillPlan, sagas = 1): ArmedKill {
  const target = kill.target === 'orchestrator' ? ORCHESTRATOR_NODE : SERVICE_NODES[kill.target];
  const isBoundary = boundaryOf(kill, target);
  const downMs = cluster.sim.random.stream('kill').int(20, 400);
  let seen = 0;
  let crashes = 0;
  let down = false;
  /** The recovery plan's second crash: armed at the restart, fired at the next boundary. */
  let armed = false;
  const crashThenRestart = (delayMs: number): void => {
    down = true;
    crashes++;
    // fsync takes 2 ms: at +0 the boundary's write is not durable, at +3 it is and its outputs left
    cluster.sim.after(delayMs, () => {
      cluster.crash(target);
      cluster.sim.after(downMs, () => {
        cluster.restart(target);
        down = false;
      });
    });
  };
  cluster.sim.subscribe((e) => {
    if (kill.when === 'recovery' && e.ev === 'restart' && e.node === target && crashes === 1) armed = true;
    if (!isBoundary(e)) return;
    const k = seen++;
    if (crashes === 0 && k === kill.boundary) crashThenRestart(kill.when === 'before' || kill.when === 'mid' ? 0 : 3);
    else if (armed) {
      armed = false;
      crashThenRestart(0);
    }
  });
  for (let i = 0; i < sagas; i++) cluster.startSaga(`s${i}`, i % 3 === 2 ? ORDER_SAGA_NO_PIVOT.name : ORDER_SAGA.name);
  return { down: () => down, crashes: () => crashes, boundaries: () => seen };
}

/** One systematic run (see armOrderSagaKill): everything must end and pass the checker. */
export function runOrderSagaKill(options: KillRunOptions): KillRunResult {
  const cluster = new OrderSagaCluster({ ...options, trace: options.hashTrace === true ? {} : false });
  const kill = options.kill;
  const armedKill = armOrderSagaKill(cluster, kill, options.sagas ?? 1);
  let settled = false;
  let invariant: string | undefined;
  try {
    settled = cluster.runUntil(() => !armedKill.down() && cluster.quiescent(), options.settleMs ?? 60_000);
    cluster.runFor(50); // let the last writes sync
  } catch (err) {
    if (!isInvariantError(err) && !isSagaError(err)) throw err;
    invariant = `${err.code}: ${err.message}`;
  }
  const ops = { ok: 0, fail: 0, unknown: 0 };
  for (const op of cluster.history().ops) ops[op.outcome]++;
  let check: SagaCheckResult;
  try {
    check = cluster.check();
  } catch (err) {
    if (!isInvariantError(err) && !isSagaError(err)) throw err;
    // the log itself does not replay: no verdict on the sagas, and the run fails
    invariant ??= `${err.code}: ${err.message}`;
    check = { ok: false, violations: [], committed: 0, compensated: 0, unfinished: 0, effects: 0 };
  }
  const crashes = armedKill.crashes();
  return { seed: options.seed, kill, crashed: crashes > 0, crashes, boundaries: armedKill.boundaries(), check, settled, virtualMs: cluster.nowMs, traceSha256: cluster.traceSha256(), invariant, ops, messages: cluster.sim.stats.total.sent };
}

/** Every kill plan for one target up to `maxBoundary`, at each moment of each boundary. */
export function killPlans(target: KillTarget, maxBoundary: number, moments: readonly KillMoment[] = KILL_MOMENTS): KillPlan[] {
  const plans: KillPlan[] = [];
  for (let k = 0; k < maxBoundary; k++) for (const when of moments) plans.push({ target, boundary: k, when });
  return plans;
}


