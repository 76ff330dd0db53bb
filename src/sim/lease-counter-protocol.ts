// The lease-counter demonstration as registered primitives: `lease-counter` (the store fences by
// token) and `lease-counter-unfenced` (it does not), for `synod sim run` and `synod chaos`. A run
// pauses the first client past its lease mid critical section, then lets random load continue.
import { isInvariantError } from '../core/index.js';
import { runChaosPhases, type ChaosResult, type Violation } from './chaos.js';
import { LeaseCounterCluster } from './lease-counter.js';
import { DEFAULT_RANDOM_NEMESIS, type RandomNemesisOptions } from './nemesis.js';
import { eraseSimulation, type SimProtocol } from './sim-protocol.js';

export const LEASE_COUNTER_CHAOS = { nodes: 5, durationMs: 3000, settleMs: 3000, thinkMs: 20, checkerMaxStates: 1_000_000 } as const;

/** Faults come often; pauses weigh more than usual, since they are what a lease cannot survive. */
const CHAOS_NEMESIS: Omit<RandomNemesisOptions, 'untilMs'> = {
  ...DEFAULT_RANDOM_NEMESIS,
  meanIntervalMs: 250,
  minFaultMs: 100,
  maxFaultMs: 1000,
  mix: { ...DEFAULT_RANDOM_NEMESIS.mix, pause: 6 },
};

export interface LeaseCounterChaosOptions {
  readonly seed: number;
  readonly fencing: boolean;
  readonly nodes?: number;
  readonly durationMs?: number;
  readonly trace?: false | { readonly keepLines?: boolean };
}

/** One chaos run: random faults on every node (clients included) under random load, heal, then every client must get an increment through. */
export function runLeaseCounterChaos(options: LeaseCounterChaosOptions): ChaosResult {
  const o = { nodes: options.nodes ?? LEASE_COUNTER_CHAOS.nodes, durationMs: options.durationMs ?? LEASE_COUNTER_CHAOS.durationMs };
  const cluster = new LeaseCounterCluster({ seed: options.seed, nodes: o.nodes, fencing: options.fencing, trace: options.trace ?? {} });
  return runChaosPhases(
    {
      cluster,
      startLoad: (untilMs) => cluster.startLoad(untilMs, LEASE_COUNTER_CHAOS.thinkMs),
      settle: (timeoutMs) => {
        cluster.healEverything();
        return cluster.runUntil(() => cluster.clients.every((c) => !cluster.driver.isBusy(c)), timeoutMs);
      },
      afterSettle: (report) => finalIncrements(cluster, report),
      finalChecks: () => undefined,
      check: () => {
        const check = cluster.checkLinearizability(LEASE_COUNTER_CHAOS.checkerMaxStates);
        return { verdict: check.verdict, explanation: `counter history not linearizable: operation ${check.violation?.stuck ?? '?'} cannot be placed` };
      },
      violations: () => cluster.violations(),
      violationCount: () => cluster.violations().length,
      elections: () => 0,
      isInvariantError: (err): err is Error & { readonly code: string } => isInvariantError(err),
    },
    { seed: options.seed, durationMs: o.durationMs, nemesis: CHAOS_NEMESIS, settleMs: LEASE_COUNTER_CHAOS.settleMs },
  );
}

/** After healing, each client gets an increment through within a few tries: the system is live. */
function finalIncrements(cluster: LeaseCounterCluster, report: (v: Violation) => void): void {
  for (const client of cluster.clients) {
    let last = 'not tried';
    let ok = false;
    for (let attempt = 0; attempt < 5 && !ok; attempt++) {
      cluster.driver.submit(client, { f: 'incr' }, (r) => {
        ok = r.outcome === 'ok';
        last = `${r.outcome}${r.error === undefined ? '' : ` (${r.error})`}`;
      });
      cluster.runUntil(() => !cluster.driver.isBusy(client), 5000);
    }
    if (!ok) report({ kind: 'liveness', atMs: cluster.nowMs, message: `client ${client}: no increment got through after healing; last: ${last}` });
  }
}

function leaseCounterProtocol(fencing: boolean): SimProtocol {
  const name = fencing ? 'lease-counter' : 'lease-counter-unfenced';
  return {
    name,
    description: `${fencing ? '' : 'no fencing: '}a lease server (node 1) and a counter store (node 2) composed in one simulation with client nodes (3..N) doing leased increments; the first client is paused past its lease mid-increment. Reports stale writes, fenced writes and the history's linearizability`,
    minNodes: 4,
    build(o) {
      const cluster = new LeaseCounterCluster({ seed: o.seed, nodes: o.nodes, fencing, link: o.link, trace: o.trace === false ? false : { sink: o.trace.sink } });
      cluster.pauseWhenWorking(cluster.clients[0] as string, cluster.ttlMs * 3);
      cluster.startLoad(o.durationMs);
      return { sim: eraseSimulation(cluster.sim), summarize: () => cluster.summaryLines() };
    },
    chaos: {
      explanation: `Each seed composes a lease server, a counter store${fencing ? ' that fences by token' : ' without fencing'} and client
nodes doing leased read-increment-write, under a random nemesis that hits clients too (pauses
weigh most, also crashes, partitions, clock faults, loss, duplication); heals; every client must
then get an increment through. Checks the stale-write monitor and the linearizability of the
counter history. A seed replays exactly.`,
      defaults: { nodes: LEASE_COUNTER_CHAOS.nodes, durationMs: LEASE_COUNTER_CHAOS.durationMs },
      run: (o) => runLeaseCounterChaos({ seed: o.seed, fencing, nodes: o.nodes, durationMs: o.durationMs }),
    },
  };
}

export const leaseCounterSimProtocol = leaseCounterProtocol(true);
export const leaseCounterUnfencedSimProtocol = leaseCounterProtocol(false);
