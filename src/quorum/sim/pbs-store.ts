// PBS measured on the store itself: the real quorum core in the simulator, each message leg drawn
// from a WARS profile (Bailis et al., VLDB 2012, Table 3) — 'store' from W, 'stored' from A,
// 'fetch' from R, 'fetched' from S — a blind write of a fresh key at W, then, t ms after the
// client's acknowledgement, a read at R through a node that is not a replica of the key. The share
// of reads that return the write is P(consistent | t), to set against the WARS model's.
//
// Time runs in units of 1/UNITS_PER_MS ms (the simulator's clock is whole units), so that the
// sub-millisecond legs of the LinkedIn fits keep their shape.
//
// One difference is the store's own, and the point of measuring it: the write's coordinator is one
// of the N replicas (its copy is durable before it replicates), where WARS sends the write to all
// N over the network. So a W=1 write commits with no replica leg at all.
import type { JsonValue } from '../../core/index.js';
import type { LatencyDistribution as SimLatency } from '../../sim/network.js';
import type { LatencyDistribution as PbsLatency, SimpleDistribution } from '../pbs/distributions.js';
import type { WarsProfile } from '../pbs/profiles.js';
import { storeKeyOf } from '../requests.js';
import { QuorumCluster } from './cluster.js';

/** Simulator time units per millisecond: 10 µs resolution. */
export const UNITS_PER_MS = 100;

export interface StoreVisibilityOptions {
  readonly profile: WarsProfile;
  readonly seed: number;
  /** N; the cluster has N + 1 nodes so that reads go through a node holding no copy. */
  readonly replicas: number;
  readonly readQuorum: number;
  readonly writeQuorum: number;
  /** The waits after the write's acknowledgement at which reads are measured. */
  readonly tValuesMs: readonly number[];
  /** Write-then-read pairs per t. */
  readonly trialsPerT: number;
}

export interface StoreVisibilityPoint {
  readonly tMs: number;
  readonly trials: number;
  readonly consistent: number;
  readonly probability: number;
}

/** A PBS distribution as the simulator's, in units of 1/unitsPerMs ms: Pareto(scale, shape), Exponential(rate) as mean 1/rate, mixtures. */
export function toSimLatency(d: PbsLatency, unitsPerMs = 1): SimLatency {
  const simple = (s: SimpleDistribution): SimLatency => {
    switch (s.kind) {
      case 'pareto':
        return { kind: 'pareto', scaleMs: s.scaleMs * unitsPerMs, shape: s.shape };
      case 'exponential':
        return { kind: 'exponential', meanMs: unitsPerMs / s.ratePerMs };
      case 'constant':
        return { kind: 'constant', ms: s.valueMs * unitsPerMs };
    }
  };
  return d.kind === 'mixture' ? { kind: 'mixture', parts: d.components.map((c) => ({ weight: c.weight, dist: simple(c.distribution) })) } : simple(d);
}

/** Runs the trials; every pair on its own key, started 1 ms apart so that they overlap. */
export function measureStoreVisibility(o: StoreVisibilityOptions): StoreVisibilityPoint[] {
  const zero: SimLatency = { kind: 'constant', ms: 0 };
  const cluster = new QuorumCluster({
    seed: o.seed,
    nodes: o.replicas + 1,
    trace: false,
    clientLatencyMs: 0,
    // nothing but the four legs: no timeouts, pings, hints, repairs or anti-entropy to interfere
    config: { replicas: o.replicas, readQuorum: o.readQuorum, writeQuorum: o.writeQuorum, partitionCount: 16, standIns: 0, requestTimeoutMs: 3_600_000, pingIntervalMs: 3_600_000, suspectAfterMs: 3_600_000, antiEntropyIntervalMs: 0, readRepair: false, hintedHandoff: false, hintWindowMs: 3_600_000, tombstoneGraceMs: 7_200_000 },
    link: { latency: zero, latencyByType: { store: toSimLatency(o.profile.write, UNITS_PER_MS), stored: toSimLatency(o.profile.ack, UNITS_PER_MS), fetch: toSimLatency(o.profile.read, UNITS_PER_MS), fetched: toSimLatency(o.profile.response, UNITS_PER_MS) } },
  });
  const points = o.tValuesMs.map((tMs) => ({ tMs, trials: 0, consistent: 0 }));
  let started = 0;
  points.forEach((point, p) => {
    for (let i = 0; i < o.trialsPerT; i++) {
      const key = `t${p}-${i}`;
      const storeKey = storeKeyOf('pbs', key);
      const homes = cluster.homesOf(storeKey);
      const outsider = cluster.nodeIds.find((id) => !homes.includes(id)) as string;
      const value = `v${p}-${i}`;
      cluster.sim.after(started++, () => {
        cluster.send(homes[0] as string, { op: 'put', bucket: 'pbs', key, value, w: o.writeQuorum }, 'writer', (written) => {
          if (written?.ok !== true) return;
          cluster.sim.after(Math.round(point.tMs * UNITS_PER_MS), () => {
            cluster.send(outsider, { op: 'get', bucket: 'pbs', key, r: o.readQuorum }, 'reader', (read) => {
              if (read?.ok !== true || read.op !== 'get') return;
              point.trials++;
              if (read.values.includes(value)) point.consistent++;
            });
          });
        });
      });
    }
  });
  cluster.runUntil(() => points.every((p) => p.trials === o.trialsPerT), 3_600_000 * UNITS_PER_MS);
  return points.map((p) => ({ ...p, probability: p.trials === 0 ? NaN : p.consistent / p.trials }));
}

/** The first t of the grid where P(consistent) reaches `target` (undefined when none does). */
export function firstTReaching(points: readonly StoreVisibilityPoint[], target: number): number | undefined {
  return points.find((p) => p.probability >= target)?.tMs;
}

export function describePoints(points: readonly StoreVisibilityPoint[]): JsonValue {
  return points.map((p) => ({ tMs: p.tMs, trials: p.trials, consistent: p.consistent, probability: p.probability }));
}
