// The order saga under chaos, and its registration for `synod sim run --protocol saga` and
// `synod chaos --protocol saga`: sagas start all through the safety phase while a random nemesis
// crashes, pauses, partitions and slows every node (orchestrator and services); after healing,
// every saga must end, and the saga checker judges the orchestrator's log and the services' effects.
import { isInvariantError } from '../../core/index.js';
import { runChaosPhases, type ChaosResult, type Violation } from '../../sim/chaos.js';
import { DEFAULT_RANDOM_NEMESIS, type RandomNemesisOptions } from '../../sim/nemesis.js';
import { eraseSimulation, type SimProtocol } from '../../sim/sim-protocol.js';
import type { SagaCheckResult } from '../check.js';
import { isSagaError } from '../types.js';
import { armOrderSagaKill, KILL_MOMENTS, KILL_TARGETS, OrderSagaCluster, runOrderSagaKill, SERVICE_NAMES, type FailureRates, type KillPlan, type KillRunResult } from './order-saga.js';

export const SAGA_CHAOS = { nodes: 1 + SERVICE_NAMES.length, durationMs: 3_000, settleMs: 60_000, everyMs: 40 } as const;

/** Faults come often and crashes weigh more than usual: restarts are what the saga log is for. */
export const SAGA_NEMESIS: Omit<RandomNemesisOptions, 'untilMs'> = {
  ...DEFAULT_RANDOM_NEMESIS,
  meanIntervalMs: 300,
  minFaultMs: 50,
  maxFaultMs: 800,
  mix: { ...DEFAULT_RANDOM_NEMESIS.mix, crash: 5 },
};

export interface SagaChaosOptions {
  readonly seed: number;
  readonly durationMs?: number;
  readonly failures?: FailureRates;
  readonly dedupe?: boolean;
  readonly tombstones?: boolean;
  /** Gets the checker's full result (counts of committed and compensated sagas, effects). */
  readonly onCheck?: (result: SagaCheckResult) => void;
}

/** One chaos run of the order saga; a seed replays exactly. */
export function runSagaChaos(options: SagaChaosOptions): ChaosResult {
  const cluster = new OrderSagaCluster({ seed: options.seed, trace: {}, ...(options.failures === undefined ? {} : { failures: options.failures }), ...(options.dedupe === undefined ? {} : { dedupe: options.dedupe }), ...(options.tombstones === undefined ? {} : { tombstones: options.tombstones }) });
  const found: Violation[] = [];
  return runChaosPhases(
    {
      cluster,
      startLoad: (untilMs) => cluster.startLoad(untilMs, SAGA_CHAOS.everyMs),
      settle: (timeoutMs) => {
        cluster.healEverything();
        const settled = cluster.runUntil(() => cluster.quiescent(), timeoutMs);
        cluster.runFor(50);
        if (!settled) found.push({ kind: 'liveness', atMs: cluster.nowMs, message: `sagas still unfinished ${timeoutMs} ms after healing: ${cluster.orchestrator()?.activeCount ?? 'orchestrator down'}` });
        return settled;
      },
      afterSettle: () => undefined,
      finalChecks: () => {
        const result = cluster.check();
        options.onCheck?.(result);
        for (const v of result.violations) found.push({ kind: `saga:${v.code}`, atMs: cluster.nowMs, message: `${v.sagaId}: ${v.message}` });
      },
      check: () => ({ verdict: 'skipped' }),
      violations: () => found,
      violationCount: () => found.length,
      elections: () => 0,
      isInvariantError: (err): err is Error & { readonly code: string } => isInvariantError(err) || isSagaError(err),
    },
    { seed: options.seed, durationMs: options.durationMs ?? SAGA_CHAOS.durationMs, nemesis: SAGA_NEMESIS, settleMs: SAGA_CHAOS.settleMs },
  );
}

export const sagaSimProtocol: SimProtocol = {
  name: 'saga',
  description: 'the order saga: an orchestrator (node 1, saga log) and order, payment, inventory and shipping services (nodes 2-5, durable dedupe by idempotency key); payments declined, stock out and transient failures at seeded rates; prints how the sagas ended and the saga checker\'s verdict',
  minNodes: SAGA_CHAOS.nodes,
  build(o) {
    const cluster = new OrderSagaCluster({ seed: o.seed, ...(o.link === undefined ? {} : { link: o.link }), trace: o.trace === false ? false : { ...(o.trace.sink === undefined ? {} : { sink: o.trace.sink }) } });
    cluster.startLoad(Math.floor(o.durationMs * 0.6), SAGA_CHAOS.everyMs);
    return {
      sim: eraseSimulation(cluster.sim),
      summarize: () => {
        const r = cluster.check({ requireFinished: false });
        return [
          `sagas: committed ${r.committed}, compensated ${r.compensated}, unfinished ${r.unfinished}; effects ${r.effects}`,
          r.ok ? 'saga checker: ok' : `saga checker: ${r.violations.length} violation(s), first: ${r.violations[0]?.code} ${r.violations[0]?.message}`,
        ];
      },
    };
  },
  chaos: {
    explanation: `Each seed starts order sagas (create order, charge payment, reserve stock as the pivot,
ship; a third of them without a pivot) through the safety phase under a random nemesis that
hits the orchestrator and every service (crashes weigh most, also partitions, pauses, clock
faults, loss, duplication, reordering, slowness); heals; every saga must then end. The saga
checker judges the orchestrator's durable log and the effects the services made durable:
all committed or all compensated in reverse order, nothing undone that never ran, no key
taking effect twice. A seed replays exactly.`,
    defaults: { nodes: SAGA_CHAOS.nodes, durationMs: SAGA_CHAOS.durationMs },
    run: (o) => runSagaChaos({ seed: o.seed, durationMs: o.durationMs }),
  },
};

// ------------------------------------------------------------------ kill at every step, by seed

/** Boundaries tried per target: the orchestrator writes about 8-16 records per saga, a service handles 1-3 invocations. */
export const KILL_MAX_BOUNDARY = { orchestrator: 24, service: 8 } as const;

/**
 * The kill plan of one seed. Consecutive seeds walk every target, then every moment, then a
 * boundary index, then 1 to 3 sagas at once. The boundary index is taken modulo the number of
 * boundaries the target passes in the same seed's run without a crash (a dry run), so every
 * seed's plan crashes its target; 1,000 consecutive seeds try every target at every moment at
 * each of its first boundaries (up to 24 for the orchestrator, 8 for a service).
 */
export function killPlanForSeed(seed: number): { readonly kill: KillPlan; readonly sagas: number } {
  const i = Math.abs(Math.trunc(seed));
  const target = KILL_TARGETS[i % KILL_TARGETS.length] as KillPlan['target'];
  const j = Math.floor(i / KILL_TARGETS.length);
  const when = KILL_MOMENTS[j % KILL_MOMENTS.length] as KillPlan['when'];
  const k = Math.floor(j / KILL_MOMENTS.length);
  const max = target === 'orchestrator' ? KILL_MAX_BOUNDARY.orchestrator : KILL_MAX_BOUNDARY.service;
  const sagas = 1 + (Math.floor(k / max) % 3);
  const dry = runOrderSagaKill({ seed, kill: { target, boundary: Number.MAX_SAFE_INTEGER, when }, sagas });
  return { kill: { target, boundary: dry.boundaries === 0 ? 0 : (k % max) % dry.boundaries, when }, sagas };
}

/** The violations of one kill run, as the chaos command reports them. */
export function killRunViolations(r: KillRunResult): Violation[] {
  const found: Violation[] = [];
  if (r.invariant !== undefined) found.push({ kind: 'invariant', atMs: r.virtualMs, message: r.invariant });
  if (!r.settled && r.invariant === undefined) found.push({ kind: 'liveness', atMs: r.virtualMs, message: 'sagas still unfinished at the end of the run' });
  for (const v of r.check.violations) found.push({ kind: `saga:${v.code}`, atMs: r.virtualMs, message: `${v.sagaId}: ${v.message}` });
  return found;
}

/** One seed of the systematic kill: the plan `killPlanForSeed(seed)` with the seed's own randomness. */
export function runSagaKillChaos(seed: number, settleMs: number = SAGA_CHAOS.settleMs, onRun?: (r: KillRunResult) => void): ChaosResult {
  const { kill, sagas } = killPlanForSeed(seed);
  const r = runOrderSagaKill({ seed, kill, sagas, settleMs, hashTrace: true });
  onRun?.(r);
  const violations = killRunViolations(r);
  return { seed, ok: violations.length === 0 && r.check.ok, violations, linearizability: 'skipped', ops: r.ops, elections: 0, messages: r.messages, virtualMs: r.virtualMs, traceSha256: r.traceSha256 };
}

export const sagaKillSimProtocol: SimProtocol = {
  name: 'saga-kill',
  description: 'the order saga with one process killed at a chosen step: the seed picks the target (orchestrator or a service), the moment (before or after a step boundary is durable, mid-step, or again while it recovers) and the boundary; prints the kill plan, how the sagas ended and the checker\'s verdict',
  minNodes: SAGA_CHAOS.nodes,
  build(o) {
    const { kill, sagas } = killPlanForSeed(o.seed);
    const cluster = new OrderSagaCluster({ seed: o.seed, ...(o.link === undefined ? {} : { link: o.link }), trace: o.trace === false ? false : { ...(o.trace.sink === undefined ? {} : { sink: o.trace.sink }) } });
    const armed = armOrderSagaKill(cluster, kill, sagas);
    return {
      sim: eraseSimulation(cluster.sim),
      summarize: () => {
        const r = cluster.check({ requireFinished: false });
        return [
          `kill: ${kill.target} at boundary ${kill.boundary} (${kill.when}), ${sagas} saga(s); crashed ${armed.crashes()} time(s)${armed.down() ? ', still down' : ''}`,
          `sagas: committed ${r.committed}, compensated ${r.compensated}, unfinished ${r.unfinished}; effects ${r.effects}`,
          r.ok ? 'saga checker: ok' : `saga checker: ${r.violations.length} violation(s), first: ${r.violations[0]?.code} ${r.violations[0]?.message}`,
        ];
      },
    };
  },
  chaos: {
    explanation: `Kill at every step (--duration-ms bounds how long a run may take to settle). Seed s runs the order saga with 1 to 3 sagas and kills one process
once: the seed walks the targets (the orchestrator, order, payment, inventory, shipping), the
moments (just before a boundary is durable; just after it is durable and its messages left;
mid-step: the orchestrator while a service runs its step, a service while an invocation is on
its way to it; and recovery: after a boundary and again at the first boundary once it restarted)
and the boundaries (the orchestrator's first 24 saga-log records, each service's first 8
invocations). The process stays down 20-400 ms, restarts from its durable log, and every saga
must end; the saga checker judges the log and the services' effects. 1,000 consecutive seeds
cover every plan. A seed replays exactly.`,
    defaults: { nodes: SAGA_CHAOS.nodes, durationMs: SAGA_CHAOS.settleMs },
    run: (o) => runSagaKillChaos(o.seed, o.durationMs),
  },
};
