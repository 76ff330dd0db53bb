// The consistency spectrum of the leaderless store, measured: one configuration ((R,W), sloppy
// quorum, read repair) run under the chaos nemesis for many seeds, every history judged by the dkv
// checkers; for each model, on how many seeds it held and the first seed where it did not
// (`scripts/consistency-table.ts`, docs/consistency.md). Nothing here asserts a model holds.
import { checkDkvCausal, checkDkvSessions, checkDkvStaleness, checkReplicas, DKV_CAUSAL_KINDS, type DkvCausalKind } from '../../check/dkv/index.js';
import type { Level } from '../requests.js';
import { runQuorumChaos } from './chaos.js';

export interface ConsistencyConfig {
  readonly name: string;
  readonly r: Level;
  readonly w: Level;
  readonly sloppyQuorum: boolean;
  readonly readRepair: boolean;
}

/** The models judged, in table order. */
export const CONSISTENCY_MODELS = ['durability', 'convergence', 'no-stale-reads', 'read-your-writes', 'monotonic-reads', 'monotonic-writes', 'writes-follow-reads', 'causal-per-key'] as const;
export type ConsistencyModel = (typeof CONSISTENCY_MODELS)[number];

export interface ModelTally {
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

/** Per-key causal kinds that count as violations (suspects of writes applied twice are not, and context gaps only without returned values). */
const CAUSAL_KINDS: readonly DkvCausalKind[] = DKV_CAUSAL_KINDS;

export function measureConsistency(config: ConsistencyConfig, firstSeed: number, seeds: number, onSeed?: (seed: number) => void): ConsistencyRow {
  const tallies = Object.fromEntries(CONSISTENCY_MODELS.map((m) => [m, { seedsMet: 0, firstViolatingSeed: null as number | null, violations: 0 }])) as Record<ConsistencyModel, { seedsMet: number; firstViolatingSeed: number | null; violations: number }>;
  let reads = 0;
  let stale = 0;
  let acked = 0;
  for (let seed = firstSeed; seed < firstSeed + seeds; seed++) {
    const counts: Record<ConsistencyModel, number> = { durability: 0, convergence: 0, 'no-stale-reads': 0, 'read-your-writes': 0, 'monotonic-reads': 0, 'monotonic-writes': 0, 'writes-follow-reads': 0, 'causal-per-key': 0 };
    runQuorumChaos({
      seed,
      config: { sloppyQuorum: config.sloppyQuorum, readRepair: config.readRepair },
      load: { r: config.r, w: config.w },
      onFinished: (cluster) => {
        const replicas = checkReplicas({ ops: cluster.ops, replicas: cluster.replicaStates(), homesOf: (k) => cluster.homesOf(k) });
        counts.durability = replicas.counts.durability;
        counts.convergence = replicas.counts.convergence;
        acked += replicas.ackedWrites;
        const staleness = checkDkvStaleness({ ops: cluster.ops });
        counts['no-stale-reads'] = staleness.staleReads;
        reads += staleness.judgedReads;
        stale += staleness.staleReads;
        const sessions = checkDkvSessions({ ops: cluster.ops });
        for (const g of ['read-your-writes', 'monotonic-reads', 'monotonic-writes', 'writes-follow-reads'] as const) counts[g] = sessions.counts[g].session + sessions.counts[g].store;
        const causal = checkDkvCausal({ ops: cluster.ops, crossKeyBudget: 0 });
        counts['causal-per-key'] = CAUSAL_KINDS.reduce((sum, k) => sum + causal.counts[k], 0);
      },
    });
    for (const m of CONSISTENCY_MODELS) {
      const t = tallies[m];
      if (counts[m] === 0) t.seedsMet++;
      else {
        t.violations += counts[m];
        t.firstViolatingSeed ??= seed;
      }
    }
    onSeed?.(seed);
  }
  return { config, seeds, models: tallies, reads, staleShare: reads === 0 ? 0 : stale / reads, ackedWrites: acked };
}

/** The configurations of the table: (R,W) = (1,1), (1,3), (2,2), (3,1), each with and without sloppy quorum and read repair. */
export function tableConfigs(): ConsistencyConfig[] {
  const out: ConsistencyConfig[] = [];
  for (const [r, w] of [[1, 1], [1, 3], [2, 2], [3, 1]] as const) {
    for (const sloppyQuorum of [false, true]) {
      for (const readRepair of [true, false]) out.push({ name: `R=${r} W=${w}${sloppyQuorum ? ', sloppy' : ''}${readRepair ? '' : ', no read repair'}`, r, w, sloppyQuorum, readRepair });
    }
  }
  return out;
}
