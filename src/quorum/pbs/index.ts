// Public surface of src/quorum/pbs: Probabilistically Bounded Staleness (Bailis et al., VLDB 2012).
// The WARS Monte-Carlo model of a Dynamo-style partial quorum, the paper's production latency fits,
// k-staleness in closed form, and a model of how the paper read t-visibility off its sweeps.
export {
  cdf,
  checkDistribution,
  constant,
  describeDistribution,
  exponential,
  MAX_MIXTURE_COMPONENTS,
  meanMs,
  mixture,
  pareto,
  quantileMs,
  sampleMs,
  samplerOf,
  type ConstantDistribution,
  type ExponentialDistribution,
  type LatencyDistribution,
  type MixtureDistribution,
  type ParetoDistribution,
  type SimpleDistribution,
  type Uniform,
} from './distributions.js';
export { failPbs, PbsError, type PbsErrorCode } from './errors.js';
export { MAX_VERSIONS, probabilityMissingWrite, probabilityWithinKVersions } from './k-staleness.js';
export { binomialCdf, firstCrossingDistribution, gridPointMs, MAX_GRID_POINTS, MAX_TRIALS_PER_POINT, type FirstCrossingDistribution, type FirstCrossingOptions, type SweepGrid } from './paper-estimator.js';
export {
  claimGroups,
  describeClaim,
  groupKey,
  measureClaim,
  PAPER_CLAIMS,
  PAPER_SWEEP_N_TRIALS_PER_POINT,
  PAPER_TRIALS_PER_POINT,
  paperGridFor,
  type ClaimGroup,
  type ClaimMeasurement,
  type ClaimMetric,
  type PaperClaim,
} from './paper-results.js';
export { checkProfile, LNKD_DISK, LNKD_SSD, MAX_REMOTE_DELAY_MS, PAPER_PROFILES, profileByName, WAN, YMMR, type WarsProfile } from './profiles.js';
export {
  checkWarsOptions,
  judgeTrial,
  MAX_QUORUMS,
  MAX_REPLICAS,
  MAX_TRIALS,
  PROGRESS_EVERY_TRIALS,
  simulateWars,
  WarsResult,
  type Quorum,
  type TrialOutcome,
  type WarsOptions,
  type WarsTrial,
} from './wars.js';
