// The PN-counter replicated by delta-interval anti-entropy, in the simulator, and its registration
// for `synod sim run --protocol crdt-counter` and `synod chaos --protocol crdt-counter`: clients
// increment and decrement at random nodes under partitions, crashes with restart (unsynced writes
// lost), pauses, clock faults, loss, duplication and reordering; after healing every replica must
// hold the same state (convergence), and its value must count every acknowledged operation, plus
// some of those whose answer never came (bounds).
import { isInvariantError } from '../../core/index.js';
import { SimCluster } from '../../sim/cluster.js';
import { runChaosPhases, type ChaosResult, type Violation } from '../../sim/chaos.js';
import { DEFAULT_RANDOM_NEMESIS } from '../../sim/nemesis.js';
import type { RandomStream } from '../../sim/rng.js';
import { eraseSimulation, type SimProtocol } from '../../sim/sim-protocol.js';
import { Simulation } from '../../sim/simulation.js';
import type { LinkConfig } from '../../sim/network.js';
import { PN_COUNTER } from '../counters.js';
import { CounterNode, counterSpec, type CounterMessage, type CounterPersistOp, type CounterRequest, type CounterResponse } from './counter-node.js';

export const COUNTER_CHAOS = { nodes: 5, durationMs: 4_000, settleMs: 20_000 } as const;
const GOSSIP_INTERVAL_MS = 50;

export class CounterCluster extends SimCluster<CounterMessage, CounterRequest, CounterResponse, CounterPersistOp> {
  /** Sum of the acknowledged operations' signed amounts, and of the unanswered ones by sign. */
  ackedSum = 0;
  unknownUp = 0;
  unknownDown = 0;
  inFlight = 0;
  private readonly rng: RandomStream;

  constructor(o: { seed: number; nodes: number; maxBufferedDeltas?: number; link?: Partial<LinkConfig>; trace?: false | { readonly sink?: (line: string) => void } }) {
    const sim = new Simulation({ seed: o.seed, protocol: counterSpec({ gossipIntervalMs: GOSSIP_INTERVAL_MS, maxBufferedDeltas: o.maxBufferedDeltas ?? 64 }), nodes: o.nodes, fsyncMs: 1, ...(o.link === undefined ? {} : { link: o.link }), trace: o.trace ?? {} });
    super(sim);
    this.rng = sim.random.stream('workload');
  }

  node(id: string): CounterNode | undefined {
    const core = this.sim.core(id);
    return core instanceof CounterNode ? core : undefined;
  }

  startLoad(untilMs: number, clients: number): void {
    for (let c = 0; c < clients; c++) this.client(`c${c}`, untilMs);
  }

  private client(name: string, untilMs: number): void {
    if (this.nowMs >= untilMs) return;
    const up = this.rng.chance(0.6);
    const amount = this.rng.int(1, 5);
    const index = this.sim.invoke(name, up ? 'increment' : 'decrement', { amount });
    this.inFlight++;
    this.sim.request(this.rng.pick(this.nodeIds), { op: up ? 'increment' : 'decrement', amount }, { timeoutMs: 1_000, process: name }, (res) => {
      this.inFlight--;
      if (res?.ok === true) this.ackedSum += up ? amount : -amount;
      else if (up) this.unknownUp += amount;
      else this.unknownDown += amount;
      this.sim.complete(index, res === undefined ? 'unknown' : res.ok ? 'ok' : 'fail', res?.ok === true ? { value: res.value } : null);
      this.sim.after(10, () => this.client(name, untilMs));
    });
  }

  /** Every node up holds the same state. */
  converged(): boolean {
    const texts = new Set<string>();
    for (const id of this.nodeIds) {
      const node = this.node(id);
      if (node === undefined) return false;
      texts.add(PN_COUNTER.canonical(node.replicator.state()));
    }
    return texts.size === 1;
  }

  /** What is wrong with the final value (undefined when within the bounds). */
  valueProblem(): string | undefined {
    const value = this.node(this.nodeIds[0] as string)?.value();
    if (value === undefined) return 'no node is up';
    const low = this.ackedSum - this.unknownDown;
    const high = this.ackedSum + this.unknownUp;
    return value < low || value > high ? `value ${value} is outside [${low}, ${high}] (acknowledged sum ${this.ackedSum})` : undefined;
  }
}

export function runCounterChaos(o: { seed: number; nodes?: number; durationMs?: number; maxBufferedDeltas?: number }): ChaosResult {
  const cluster = new CounterCluster({ seed: o.seed, nodes: o.nodes ?? COUNTER_CHAOS.nodes, ...(o.maxBufferedDeltas === undefined ? {} : { maxBufferedDeltas: o.maxBufferedDeltas }) });
  const found: Violation[] = [];
  return runChaosPhases(
    {
      cluster,
      startLoad: (untilMs) => cluster.startLoad(untilMs, 4),
      settle: (timeoutMs) => {
        cluster.healEverything();
        const settled = cluster.runUntil(() => cluster.inFlight === 0 && cluster.converged(), timeoutMs);
        if (!settled) found.push({ kind: 'convergence', atMs: cluster.nowMs, message: `replicas did not converge within ${timeoutMs} ms of healing` });
        return settled;
      },
      afterSettle: () => undefined,
      finalChecks: () => {
        const problem = cluster.valueProblem();
        if (problem !== undefined) found.push({ kind: 'counter', atMs: cluster.nowMs, message: problem });
      },
      check: () => ({ verdict: 'skipped' }),
      violations: () => found,
      violationCount: () => found.length,
      elections: () => 0,
      isInvariantError: (err): err is Error & { readonly code: string } => isInvariantError(err),
    },
    { seed: o.seed, durationMs: o.durationMs ?? COUNTER_CHAOS.durationMs, nemesis: DEFAULT_RANDOM_NEMESIS, settleMs: COUNTER_CHAOS.settleMs },
  );
}

export const crdtCounterSimProtocol: SimProtocol = {
  name: 'crdt-counter',
  description: 'a PN-counter (src/crdt) on every node, replicated by delta-interval anti-entropy every 50 ms; clients increment and decrement at random nodes; prints each node\'s value and whether they converged',
  minNodes: 2,
  build(o) {
    const cluster = new CounterCluster({ seed: o.seed, nodes: o.nodes, ...(o.link === undefined ? {} : { link: o.link }), trace: o.trace === false ? false : { ...(o.trace.sink === undefined ? {} : { sink: o.trace.sink }) } });
    cluster.startLoad(Math.floor(o.durationMs * 0.7), 3);
    return {
      sim: eraseSimulation(cluster.sim),
      summarize: () => [
        `values: ${cluster.nodeIds.map((id) => `${id}=${cluster.node(id)?.value() ?? 'down'}`).join(' ')}; acknowledged sum ${cluster.ackedSum}`,
        `replicas ${cluster.converged() ? 'converged' : 'not converged yet'} at ${cluster.nowMs} ms`,
      ],
    };
  },
  chaos: {
    explanation:
      'clients increment and decrement a PN-counter at random nodes under the random nemesis (partitions, crashes with restart losing unsynced writes, pauses, clock faults, loss, duplication, reordering); after healing, delta-interval anti-entropy must bring every replica to the same state, whose value counts every acknowledged operation (and no more than the unanswered ones could add)',
    defaults: { nodes: COUNTER_CHAOS.nodes, durationMs: COUNTER_CHAOS.durationMs },
    run: (o) => runCounterChaos({ seed: o.seed, nodes: o.nodes, durationMs: o.durationMs }),
  },
};
