// The consistency spectrum of the leaderless store, measured: one configuration ((R,W), sloppy
// quorum, read repair) run under the chaos nemesis for many seeds, every history judged by the dkv
// checkers; for each model, on how many seeds it held and the first seed where it did not
// (`scripts/consistency-table.ts`, docs/consistency.md). Nothing here asserts a model holds.
import { checkDkvCausal, checkDkvSessions, checkDkvStaleness, checkReplicas, DKV_CAUSAL_KINDS, type DkvCausalKind, type DkvOp } from '../../check/dkv/index.js';
import type { Level } from '../requests.js';
import { runQuorumChaos } from './chaos.js';
import { runRaftConsistency, type RaftReadMode } from './consistency-raft.js';

export type ConsistencyConfig =
  | { readonly system: 'quorum'; readonly name: string; readonly r: Level; readonly w: Level; readonly sloppyQuorum: boolean; readonly readRepair: boolean }
  | { readonly system: 'raft'; readonly name: string; readonly reads: RaftReadMode };

/** The models judged, in table order. */
export const CONSISTENCY_MODELS = ['linearizable', 'durability', 'convergence', 'no-stale-reads', 'read-your-writes', 'monotonic-reads', 'monotonic-writes', 'writes-follow-reads', 'causal-per-key'] as const;
export type ConsistencyModel = (typeof CONSISTENCY_MODELS)[number];

export interface ModelTally {
  /** Seeds on which the model was judged (0: not recorded for this system, e.g. replica states for Raft). */
  readonly judged: number;
  readonly seedsMet: number;
  readonly firstViolatingSeed: number | null;
  /** Over all seeds: the operations (reads, for staleness) that broke it. */
  readonly violations: number;
}

export interface ConsistencyRow {
  readonly config: ConsistencyConfig;
  readonly seeds: number;
  readonly models: Readonly<Record<ConsistencyModel, ModelTally>>;
  /** Reads judged and the share that were stale (missed an acknowledged write), over all seeds. */
  readonly reads: number;
  readonly staleShare: number;
  readonly ackedWrites: number;
}

/** Per-key causal kinds counted as violations (suspects, which need value dots to settle, are not). */
const CAUSAL_KINDS: readonly DkvCausalKind[] = DKV_CAUSAL_KINDS;

/** The per-model violation counts of one history (models a system does not record stay undefined: not judged). */
function judgeOps(ops: readonly DkvOp[], counts: Partial<Record<ConsistencyModel, number>>): { reads: number; stale: number } {
  const staleness = checkDkvStaleness({ ops });
  counts['no-stale-reads'] = staleness.staleReads;
  const sessions = checkDkvSessions({ ops });
  for (const g of ['read-your-writes', 'monotonic-reads', 'monotonic-writes', 'writes-follow-reads'] as const) counts[g] = sessions.counts[g].session + sessions.counts[g].store;
  const causal = checkDkvCausal({ ops, crossKeyBudget: 0 });
  counts['causal-per-key'] = CAUSAL_KINDS.reduce((sum, k) => sum + causal.counts[k], 0);
  return { reads: staleness.judgedReads, stale: staleness.staleReads };
}

export function measureConsistency(config: ConsistencyConfig, firstSeed: number, seeds: number, onSeed?: (seed: number) => void): ConsistencyRow {
  const tallies = Object.fromEntries(CONSISTENCY_MODELS.map((m) => [m, { seedsMet: 0, firstViolatingSeed: null as number | null, violations: 0, judged: 0 }])) as Record<ConsistencyModel, { seedsMet: number; firstViolatingSeed: number | null; violations: number; judged: number }>;
  let reads = 0;
  let stale = 0;
  let acked = 0;
  for (let seed = firstSeed; seed < firstSeed + seeds; seed++) {
    const counts: Partial<Record<ConsistencyModel, number>> = {};
    if (config.system === 'quorum') {
      runQuorumChaos({
        seed,
        config: { sloppyQuorum: config.sloppyQuorum, readRepair: config.readRepair },
        load: { r: config.r, w: config.w },
        onFinished: (cluster) => {
          const replicas = checkReplicas({ ops: cluster.ops, replicas: cluster.replicaStates(), homesOf: (k) => cluster.homesOf(k) });
          counts.durability = replicas.counts.durability;
          counts.convergence = replicas.counts.convergence;
          acked += replicas.ackedWrites;
          const r = judgeOps(cluster.ops, counts);
          reads += r.reads;
          stale += r.stale;
        },
      });
    } else {
      const run = runRaftConsistency(seed, config.reads);
      // undecided (checker budget, or follower reads the checker does not see) is not judged
      if (run.linearizable !== 'unknown') counts.linearizable = run.linearizable ? 0 : 1;
      acked += run.ops.filter((op) => op.kind === 'write' && op.outcome === 'ok').length;
      const r = judgeOps(run.ops, counts);
      reads += r.reads;
      stale += r.stale;
    }
    for (const m of CONSISTENCY_MODELS) {
      const count = counts[m];
      if (count === undefined) continue;
      const t = tallies[m];
      t.judged++;
      if (count === 0) t.seedsMet++;
      else {
        t.violations += count;
        t.firstViolatingSeed ??= seed;
      }
    }
    onSeed?.(seed);
  }
  return { config, seeds, models: tallies, reads, staleShare: reads === 0 ? 0 : stale / reads, ackedWrites: acked };
}

/** The configurations of the table: Raft with linearizable and serializable reads; the store at (R,W) = (1,1), (1,3), (2,2), (3,1), each with and without sloppy quorum and read repair. */
export function tableConfigs(): ConsistencyConfig[] {
  const out: ConsistencyConfig[] = [
    { system: 'raft', name: 'Raft, linearizable reads', reads: 'linearizable' },
    { system: 'raft', name: 'Raft, serializable follower reads', reads: 'serializable' },
  ];
  for (const [r, w] of [[1, 1], [1, 3], [2, 2], [3, 1]] as const) {
    for (const sloppyQuorum of [false, true]) {
      for (const readRepair of [true, false]) out.push({ system: 'quorum', name: `R=${r} W=${w}${sloppyQuorum ? ', sloppy' : ''}${readRepair ? '' : ', no read repair'}`, r, w, sloppyQuorum, readRepair });
    }
  }
  return out;
}
