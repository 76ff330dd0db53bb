// How the PBS paper read t-visibility off its simulator, modelled exactly: sweep t over a grid, at
// each point estimate P(consistent | t) from a fresh batch of trials (50,000 for Table 4), and report
// the first point whose estimate reaches the target. Near the target the estimates are noisy and
// independent, so the first crossing tends to come early; this module gives the distribution of
// that reported t, so the bias can be measured instead of guessed.
import { checkIntegerOption, checkOpenProbability, failPbs } from './errors.js';
import type { WarsResult } from './wars.js';

/** Grid points startMs, startMs + stepMs, ... (pointCount of them). */
export interface SweepGrid {
  readonly startMs: number;
  readonly stepMs: number;
  readonly pointCount: number;
}

export interface FirstCrossingOptions {
  readonly grid: SweepGrid;
  /** Fresh trials behind each grid point's estimate. */
  readonly trialsPerPoint: number;
  readonly target: number;
}

export interface FirstCrossingDistribution {
  /** Quantiles of the reported t, in ms (undefined when the sweep reaches them only with less probability than asked). */
  readonly p5Ms: number | undefined;
  readonly medianMs: number | undefined;
  readonly p95Ms: number | undefined;
  /** Mean of the reported t over the sweeps that cross within the grid. */
  readonly meanMs: number | undefined;
  /** Probability that no grid point's estimate reaches the target. */
  readonly neverProbability: number;
}

export const MAX_GRID_POINTS = 1_000_000;
export const MAX_TRIALS_PER_POINT = 100_000_000;

/** The grid's i-th point, rounded to 1e-9 ms so 0.1-ms steps do not drift (0.30000000000000004). */
export function gridPointMs(grid: SweepGrid, i: number): number {
  return Math.round((grid.startMs + i * grid.stepMs) * 1e9) / 1e9;
}

/**
 * The distribution of the t that a first-crossing sweep reports, taking P(consistent | t) from
 * `result` as the truth. At grid point i the stale count of a fresh batch of n trials is
 * Binomial(n, q_i), q_i = 1 - P(consistent | t_i); the sweep stops at the first point where
 * 1 - count / n >= target. Batches are independent, so P(stop at i) = c_i x prod_{j<i} (1 - c_j),
 * with c_i = P(Binomial(n, q_i) <= k) — computed exactly, no sampling.
 */
export function firstCrossingDistribution(result: WarsResult, options: FirstCrossingOptions): FirstCrossingDistribution {
  const { grid, trialsPerPoint: n, target } = options;
  checkOpenProbability('target', target);
  checkIntegerOption('trialsPerPoint', n, 1, MAX_TRIALS_PER_POINT);
  checkIntegerOption('grid pointCount', grid.pointCount, 1, MAX_GRID_POINTS);
  if (!(Number.isFinite(grid.startMs) && grid.startMs >= 0)) failPbs('PBS_INVALID_OPTION', `grid startMs must be a finite number >= 0, got ${String(grid.startMs)}`);
  if (!(Number.isFinite(grid.stepMs) && grid.stepMs > 0)) failPbs('PBS_INVALID_OPTION', `grid stepMs must be a finite number > 0, got ${String(grid.stepMs)}`);
  // the largest stale count that still reads as reaching the target, compared as the paper's script did
  let maxStale = Math.floor(n * (1 - target));
  while (maxStale + 1 <= n && 1 - (maxStale + 1) / n >= target) maxStale++;
  while (maxStale >= 0 && 1 - maxStale / n < target) maxStale--;
  let survive = 1;
  let crossedMass = 0;
  let weightedMs = 0;
  const quantiles: (number | undefined)[] = [undefined, undefined, undefined];
  const levels = [0.05, 0.5, 0.95];
  for (let i = 0; i < grid.pointCount; i++) {
    const tMs = gridPointMs(grid, i);
    const stale = 1 - result.probabilityConsistent(tMs);
    const stop = maxStale < 0 ? 0 : binomialCdf(maxStale, n, stale);
    const here = survive * stop;
    crossedMass += here;
    weightedMs += here * tMs;
    survive *= 1 - stop;
    levels.forEach((level, j) => {
      if (quantiles[j] === undefined && crossedMass >= level) quantiles[j] = tMs;
    });
    // nothing left to distribute: later points cannot change any number reported
    if (survive === 0) break;
  }
  return {
    p5Ms: quantiles[0],
    medianMs: quantiles[1],
    p95Ms: quantiles[2],
    meanMs: crossedMass > 0 ? weightedMs / crossedMass : undefined,
    neverProbability: survive,
  };
}

/** Terms further than this many standard deviations from the mean are below e^-800: nothing to add. */
const BINOMIAL_WINDOW_SDS = 40;

/**
 * P(X <= k) for X ~ Binomial(n, p). Walks the pmf outward from its mode, relative to the mode's
 * term (so nothing overflows and no log-gamma is needed), over mean -/+ 40 standard deviations:
 * at most 40 sqrt(n) + 4 terms, whatever k is.
 */
export function binomialCdf(k: number, n: number, p: number): number {
  if (k < 0) return 0;
  if (k >= n || p <= 0) return 1;
  if (p >= 1) return 0;
  const sd = Math.sqrt(n * p * (1 - p));
  const lo = Math.max(0, Math.floor(n * p - BINOMIAL_WINDOW_SDS * sd - 1));
  const hi = Math.min(n, Math.ceil(n * p + BINOMIAL_WINDOW_SDS * sd + 1));
  if (k < lo) return 0;
  if (k >= hi) return 1;
  const odds = p / (1 - p);
  const mode = Math.min(n, Math.max(0, Math.floor((n + 1) * p)));
  let total = 1;
  let below = mode <= k ? 1 : 0;
  let term = 1;
  // pmf(x + 1) / pmf(x) = (n - x) / (x + 1) x p / (1 - p)
  for (let x = mode; x < hi; x++) {
    term *= ((n - x) / (x + 1)) * odds;
    total += term;
    if (x + 1 <= k) below += term;
  }
  term = 1;
  for (let x = mode; x > lo; x--) {
    term *= x / (n - x + 1) / odds;
    total += term;
    if (x - 1 <= k) below += term;
  }
  return Math.min(1, below / total);
}
