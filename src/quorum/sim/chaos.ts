// Chaos over the leaderless store, and its registration for `synod sim run --protocol quorum` and
// `synod chaos --protocol quorum`: clients read and write under partitions, crashes with restart
// (unsynced data lost), pauses, clock drift, loss, duplication and reordering; then every fault
// is healed, hints and anti-entropy get time to settle, and the dkv checkers judge the replicas:
// durability, convergence, unique dots. Every client must then get a write through.
import { isInvariantError } from '../../core/index.js';
import { checkReplicas } from '../../check/dkv/index.js';
import { runChaosPhases, type ChaosResult, type Violation } from '../../sim/chaos.js';
import { DEFAULT_RANDOM_NEMESIS } from '../../sim/nemesis.js';
import { eraseSimulation, type SimProtocol } from '../../sim/sim-protocol.js';
import type { QuorumConfig } from '../config.js';
import { QUORUM_BUCKET, QuorumCluster, type QuorumLoad } from './cluster.js';
import { RingChanges } from './ring-changes.js';

export const QUORUM_CHAOS = { nodes: 5, durationMs: 4000, settleMs: 30_000 } as const;

export const QUORUM_CHAOS_LOAD: QuorumLoad = { clients: 4, keys: 8, thinkMs: 10 };

export interface QuorumChaosOptions {
  readonly seed: number;
  readonly nodes?: number;
  readonly durationMs?: number;
  readonly config?: Partial<QuorumConfig>;
  readonly load?: Partial<QuorumLoad>;
  /** How long the healed store gets to converge (virtual ms). */
  readonly settleMs?: number;
  /** A node joins during the run (started outside the ring, added by ring-join), then the first member leaves: no acknowledged write may be lost in the moves. */
  readonly ringChanges?: boolean;
  /** Called with the cluster once the run and its checks are over (more checkers, measurements). */
  readonly onFinished?: (cluster: QuorumCluster) => void;
  readonly trace?: false | { readonly keepLines?: boolean };
}

export function runQuorumChaos(options: QuorumChaosOptions): ChaosResult {
  const nodes = options.nodes ?? QUORUM_CHAOS.nodes;
  const durationMs = options.durationMs ?? QUORUM_CHAOS.durationMs;
  const cluster = new QuorumCluster({ seed: options.seed, nodes, ...(options.config === undefined ? {} : { config: options.config }), trace: options.trace ?? {} });
  const load = { ...QUORUM_CHAOS_LOAD, ...options.load };
  const found: Violation[] = [];
  const changes = options.ringChanges === true ? new RingChanges(cluster, { joiner: String(nodes + 1), leaver: cluster.nodeIds[0] as string, addAtMs: Math.floor(durationMs * 0.1) }, cluster.sim.random.stream('operator')) : undefined;
  changes?.start();
  const result = runChaosPhases(
    {
      cluster,
      startLoad: (untilMs) => cluster.startLoad(untilMs, load),
      settle: (timeoutMs) => {
        cluster.healEverything();
        const settled = cluster.runUntil(() => cluster.settled() && (changes?.done() ?? true), timeoutMs);
        if (!settled) found.push({ kind: 'liveness', atMs: cluster.nowMs, message: `replicas did not converge (or hints did not drain${changes === undefined ? '' : ', or the ring changes did not commit'}) within ${timeoutMs} ms of healing` });
        return settled;
      },
      afterSettle: (report) => finalWrites(cluster, report),
      finalChecks: () => {
        const result = checkReplicas({ ops: cluster.ops, replicas: cluster.replicaStates(), homesOf: (k) => cluster.homesOf(k) });
        for (const v of result.violations) found.push({ kind: v.check, atMs: cluster.nowMs, message: `${v.key}: ${v.message}` });
      },
      check: () => ({ verdict: 'skipped' }),
      violations: () => found,
      violationCount: () => found.length,
      elections: () => 0,
      isInvariantError: (err): err is Error & { readonly code: string } => isInvariantError(err),
    },
    { seed: options.seed, durationMs, nemesis: DEFAULT_RANDOM_NEMESIS, settleMs: options.settleMs ?? QUORUM_CHAOS.settleMs },
  );
  options.onFinished?.(cluster);
  return result;
}

/** After healing, a write through each node must succeed: the store serves again. */
function finalWrites(cluster: QuorumCluster, report: (v: Violation) => void): void {
  for (const id of cluster.nodeIds) {
    let answer = 'no answer';
    cluster.send(id, { op: 'put', bucket: QUORUM_BUCKET, key: `final-${id}`, value: 'after-heal' }, 'final', (res) => {
      answer = res === undefined ? 'timed out' : res.ok ? 'ok' : `${res.code}: ${res.message}`;
    });
    cluster.runUntil(() => answer !== 'no answer', 5000);
    if (answer !== 'ok') report({ kind: 'liveness', atMs: cluster.nowMs, message: `a write through node ${id} after healing failed: ${answer}` });
  }
}

function buildQuorumSim(o: Parameters<SimProtocol['build']>[0], config?: Partial<QuorumConfig>): ReturnType<SimProtocol['build']> {
  const cluster = new QuorumCluster({ seed: o.seed, nodes: o.nodes, ...(config === undefined ? {} : { config }), ...(o.link === undefined ? {} : { link: o.link }), trace: o.trace === false ? false : { ...(o.trace.sink === undefined ? {} : { sink: o.trace.sink }) } });
  // clients stop at 70% of the run, so that the rest shows hints and anti-entropy settling
  cluster.startLoad(Math.floor(o.durationMs * 0.7), QUORUM_CHAOS_LOAD);
  return {
    sim: eraseSimulation(cluster.sim),
    summarize: () => {
      const settled = cluster.settled();
      const result = checkReplicas({ ops: cluster.ops, replicas: cluster.replicaStates(), homesOf: (k) => cluster.homesOf(k) });
      const count = (kind: string, outcome: string): number => cluster.ops.filter((op) => op.kind === kind && op.outcome === outcome).length;
      const siblings = Math.max(0, ...cluster.replicaStates().map((r) => r.siblings.length));
      return [
        `writes: ${count('write', 'ok')} ok, ${count('write', 'fail')} failed, ${count('write', 'unknown')} unknown; reads: ${count('read', 'ok')} ok, ${count('read', 'fail')} failed, ${count('read', 'unknown')} unknown`,
        `most siblings on one key: ${siblings}; replicas ${settled ? 'converged' : 'not converged yet'} at ${cluster.nowMs} ms`,
        `checks: ${result.ackedWrites} acknowledged writes; durability violations ${result.counts.durability}, convergence ${result.counts.convergence}, unique dots ${result.counts.uniqueDots}`,
        ...result.violations.slice(0, 5).map((v) => `  ${v.check} ${v.key}: ${v.message}`),
      ];
    },
  };
}

export const quorumSimProtocol: SimProtocol = {
  name: 'quorum',
  description: 'the leaderless (Dynamo-style) store: N=3, R=W=2 on Q=16 partitions, clients reading and writing 8 keys through any node with causal contexts; prints the operations, siblings and the durability and convergence checks after healing',
  minNodes: 1,
  build: (o) => buildQuorumSim(o),
  chaos: {
    explanation:
      'clients read and write 8 keys (R=W=2 of N=3) through any node under the random nemesis (partitions, crashes with restart losing unsynced writes, pauses, clock faults, loss, duplication, reordering); after healing, hinted handoff and anti-entropy must make every key\'s home replicas identical, with every acknowledged write present or superseded by a write whose client had seen it, no dot naming two versions, and a write through every node succeeding',
    defaults: { nodes: QUORUM_CHAOS.nodes, durationMs: QUORUM_CHAOS.durationMs },
    run: (o) => runQuorumChaos({ seed: o.seed, nodes: o.nodes, durationMs: o.durationMs }),
  },
};

/** The same store deciding who is up by SWIM gossip instead of all-to-all heartbeats (`liveness: 'swim'`). */
export const QUORUM_SWIM_CONFIG: Partial<QuorumConfig> = { liveness: 'swim' };

export const quorumSwimSimProtocol: SimProtocol = {
  name: 'quorum-swim',
  description: `${quorumSimProtocol.description}; liveness by SWIM gossip (liveness: 'swim') instead of heartbeats`,
  minNodes: 1,
  build: (o) => buildQuorumSim(o, QUORUM_SWIM_CONFIG),
  chaos: {
    explanation: `${quorumSimProtocol.chaos?.explanation ?? ''}; each node tells who is up by SWIM with Lifeguard on the same network (the ring epoch in its gossip metadata), not by heartbeats`,
    defaults: { nodes: QUORUM_CHAOS.nodes, durationMs: QUORUM_CHAOS.durationMs },
    run: (o) => runQuorumChaos({ seed: o.seed, nodes: o.nodes, durationMs: o.durationMs, config: QUORUM_SWIM_CONFIG }),
  },
};
