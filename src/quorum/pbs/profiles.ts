// The latency fits of the PBS paper (Bailis et al., VLDB 2012, Table 3 "Distribution fits for
// production latency distributions"), as WARS profiles: one distribution per message leg. Numbers
// are copied from the camera-ready LaTeX source; docs/pbs.md says where each comes from.
import { checkDistribution, exponential, mixture, pareto, type LatencyDistribution } from './distributions.js';
import { failPbs } from './errors.js';

/**
 * The four legs of WARS, each an independent draw per replica: W (write request, coordinator to
 * replica), A (its acknowledgement back), R (read request), S (read response).
 */
export interface WarsProfile {
  readonly name: string;
  readonly write: LatencyDistribution;
  readonly ack: LatencyDistribution;
  readonly read: LatencyDistribution;
  readonly response: LatencyDistribution;
  /**
   * Multi-datacenter (the paper's WAN): every replica sits in its own datacenter; the write and
   * the read each start in one replica's datacenter, chosen uniformly and independently, and every
   * message to or from another replica takes this much longer, each way. Absent: one datacenter.
   */
  readonly remoteDelayMs?: number;
}

/** Longest WAN delay accepted: an hour each way is already no longer a network. */
export const MAX_REMOTE_DELAY_MS = 3_600_000;

/**
 * LinkedIn Voldemort on SSDs: network and CPU bound, so the paper takes reads and writes as equally
 * fast and the one-way legs as symmetric (W = A = R = S).
 */
const LNKD_SSD_LEG: LatencyDistribution = mixture([
  [0.9122, pareto(0.235, 10)],
  [0.0878, exponential(1.66)],
]);

export const LNKD_SSD: WarsProfile = { name: 'LNKD-SSD', write: LNKD_SSD_LEG, ack: LNKD_SSD_LEG, read: LNKD_SSD_LEG, response: LNKD_SSD_LEG };

/**
 * LinkedIn Voldemort on 15k RPM disks: a write does at least one disk read first, so only W is
 * refitted; A = R = S are LNKD-SSD's.
 */
export const LNKD_DISK: WarsProfile = {
  name: 'LNKD-DISK',
  write: mixture([
    [0.38, pareto(1.05, 1.51)],
    [0.62, exponential(0.183)],
  ]),
  ack: LNKD_SSD_LEG,
  read: LNKD_SSD_LEG,
  response: LNKD_SSD_LEG,
};

/**
 * Yammer's Riak (N = 3, R = W = 2 in production): writes wait for fsync, so W has a long
 * exponential tail (mean 357 ms for 6.1% of writes); A = R = S share the read fit.
 */
const YMMR_ARS_LEG: LatencyDistribution = mixture([
  [0.982, pareto(1.5, 3.8)],
  [0.018, exponential(0.0217)],
]);

export const YMMR: WarsProfile = {
  name: 'YMMR',
  write: mixture([
    [0.939, pareto(3, 3.35)],
    [0.061, exponential(0.0028)],
  ]),
  ack: YMMR_ARS_LEG,
  read: YMMR_ARS_LEG,
  response: YMMR_ARS_LEG,
};

/** The paper's WAN: LNKD-DISK legs, plus 75 ms each way to a replica in another datacenter. */
export const WAN: WarsProfile = { ...LNKD_DISK, name: 'WAN', remoteDelayMs: 75 };

export const PAPER_PROFILES: readonly WarsProfile[] = [LNKD_SSD, LNKD_DISK, YMMR, WAN];

export function profileByName(name: string): WarsProfile | undefined {
  return PAPER_PROFILES.find((p) => p.name.toLowerCase() === name.toLowerCase());
}

/** Checks every leg and the WAN delay; throws PBS_INVALID_DISTRIBUTION or PBS_INVALID_OPTION. */
export function checkProfile(profile: WarsProfile): WarsProfile {
  for (const leg of ['write', 'ack', 'read', 'response'] as const) {
    const d = profile[leg] as LatencyDistribution | undefined;
    if (d === undefined || typeof d !== 'object') failPbs('PBS_INVALID_DISTRIBUTION', `profile ${profile.name}: the ${leg} leg has no distribution`);
    checkDistribution(d);
  }
  const remote = profile.remoteDelayMs;
  if (remote !== undefined && !(Number.isFinite(remote) && remote >= 0 && remote <= MAX_REMOTE_DELAY_MS)) {
    failPbs('PBS_INVALID_OPTION', `profile ${profile.name}: remoteDelayMs must be from 0 to ${MAX_REMOTE_DELAY_MS}, got ${String(remote)}`);
  }
  return profile;
}
