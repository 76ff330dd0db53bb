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
import { OrderSagaCluster, SERVICE_NAMES, type FailureRates } from './order-saga.js';

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
