// One-way message latencies for the WARS model: the Pareto body and exponential tail the PBS paper
// fits to production traces, their weighted mixtures, and constants for hand-checkable cases.
// Samplers take the caller's uniform source, so a seeded stream gives the same latencies on every
// run; the closed forms (mean, CDF, quantile) let tests check the samplers against the math.
import { assertInvariant } from '../../core/assert.js';
import { failPbs } from './errors.js';

/** A source of uniform numbers in [0, 1): a seeded stream in scripts and tests, never Math.random in a core. */
export type Uniform = () => number;

/** Pareto type I: P(X > x) = (scaleMs / x)^shape for x >= scaleMs (the paper's x_m and alpha). */
export interface ParetoDistribution {
  readonly kind: 'pareto';
  readonly scaleMs: number;
  readonly shape: number;
}

/** Exponential with rate lambda per ms: mean 1 / lambda ms. */
export interface ExponentialDistribution {
  readonly kind: 'exponential';
  readonly ratePerMs: number;
}

/** Always the same latency: for hand-checkable cases and for the zero-delay legs of a test. */
export interface ConstantDistribution {
  readonly kind: 'constant';
  readonly valueMs: number;
}

export type SimpleDistribution = ParetoDistribution | ExponentialDistribution | ConstantDistribution;

/** A weighted mixture: each sample comes from component i with probability weight i. */
export interface MixtureDistribution {
  readonly kind: 'mixture';
  readonly components: readonly { readonly weight: number; readonly distribution: SimpleDistribution }[];
}

export type LatencyDistribution = SimpleDistribution | MixtureDistribution;

/** More pieces than any fit needs; the paper's fits have two. */
export const MAX_MIXTURE_COMPONENTS = 16;
/** Weights must sum to 1 within this (the paper prints them to 4 digits, e.g. 91.22% + 8.78%). */
const WEIGHT_SUM_TOLERANCE = 1e-9;
/** Bisection steps for a mixture's quantile: each halves the bracket, 200 is far past double precision. */
const QUANTILE_BISECTION_STEPS = 200;

export function pareto(scaleMs: number, shape: number): ParetoDistribution {
  return checkDistribution({ kind: 'pareto', scaleMs, shape });
}

export function exponential(ratePerMs: number): ExponentialDistribution {
  return checkDistribution({ kind: 'exponential', ratePerMs });
}

export function constant(valueMs: number): ConstantDistribution {
  return checkDistribution({ kind: 'constant', valueMs });
}

/** A mixture from [weight, distribution] pairs; the weights must be positive and sum to 1. */
export function mixture(parts: readonly (readonly [number, SimpleDistribution])[]): MixtureDistribution {
  return checkDistribution({ kind: 'mixture', components: parts.map(([weight, distribution]) => ({ weight, distribution })) });
}

/** Checks every parameter (a distribution may arrive as a literal or parsed JSON); throws PBS_INVALID_DISTRIBUTION. */
export function checkDistribution<D extends LatencyDistribution>(d: D): D {
  const bad = (message: string): never => failPbs('PBS_INVALID_DISTRIBUTION', message);
  const positive = (x: unknown): boolean => typeof x === 'number' && Number.isFinite(x) && x > 0;
  const simple = (s: SimpleDistribution, where: string): void => {
    switch (s.kind) {
      case 'pareto':
        if (!positive(s.scaleMs)) bad(`${where}Pareto scaleMs (x_m) must be a finite number > 0, got ${String(s.scaleMs)}`);
        if (!positive(s.shape)) bad(`${where}Pareto shape (alpha) must be a finite number > 0, got ${String(s.shape)}`);
        return;
      case 'exponential':
        if (!positive(s.ratePerMs)) bad(`${where}exponential ratePerMs (lambda) must be a finite number > 0, got ${String(s.ratePerMs)}`);
        return;
      case 'constant':
        if (!(typeof s.valueMs === 'number' && Number.isFinite(s.valueMs) && s.valueMs >= 0)) bad(`${where}constant valueMs must be a finite number >= 0, got ${String(s.valueMs)}`);
        return;
      default:
        bad(`${where}unknown distribution kind ${JSON.stringify((s as { kind?: unknown }).kind ?? null)}`);
    }
  };
  if (d.kind !== 'mixture') {
    simple(d, '');
    return d;
  }
  if (!Array.isArray(d.components) || d.components.length === 0 || d.components.length > MAX_MIXTURE_COMPONENTS) {
    bad(`a mixture has 1 to ${MAX_MIXTURE_COMPONENTS} components`);
  }
  let sum = 0;
  d.components.forEach((c, i) => {
    if (!positive(c.weight) || c.weight > 1) bad(`mixture component ${i}: weight must be in (0, 1], got ${String(c.weight)}`);
    // one level only: a nested mixture is just a longer flat one
    if ((c.distribution as LatencyDistribution).kind === 'mixture') bad(`mixture component ${i}: nested mixtures are not supported; flatten them`);
    simple(c.distribution, `mixture component ${i}: `);
    sum += c.weight;
  });
  if (Math.abs(sum - 1) > WEIGHT_SUM_TOLERANCE) bad(`mixture weights must sum to 1, got ${sum}`);
  return d;
}

/** One uniform draw, checked: a source outside [0, 1) is a bug in the caller, not a latency. */
export function draw(uniform: Uniform): number {
  const u = uniform();
  // the test before the call keeps the hot loop free of a closure per draw
  if (!(u >= 0 && u < 1)) assertInvariant(false, () => `a uniform source returned ${u}, outside [0, 1)`);
  return u;
}

/**
 * A sampler for one piece, specialised once so the hot loop neither switches on the kind nor
 * divides: inverse CDFs with 1 - u in (0, 1], so u = 0 gives x_m (or 0) rather than a division by 0.
 */
function simpleSamplerOf(d: SimpleDistribution): (uniform: Uniform) => number {
  switch (d.kind) {
    case 'pareto': {
      const { scaleMs } = d;
      const inverseShape = 1 / d.shape;
      // x_m / (1 - u)^(1/alpha), as exp and log1p: faster than pow and exact near u = 0
      return (uniform) => scaleMs * Math.exp(-Math.log1p(-draw(uniform)) * inverseShape);
    }
    case 'exponential': {
      const meanMs = 1 / d.ratePerMs;
      return (uniform) => -Math.log1p(-draw(uniform)) * meanMs;
    }
    case 'constant': {
      const { valueMs } = d;
      return () => valueMs;
    }
  }
}

/**
 * A sampler for `d`, checked once here so the hot loop does not re-check. A mixture spends one
 * uniform to pick its component and then the component's own (none for a constant); the order of
 * draws is part of the contract, so a seed gives the same latencies in every version.
 */
export function samplerOf(d: LatencyDistribution): (uniform: Uniform) => number {
  checkDistribution(d);
  if (d.kind !== 'mixture') return simpleSamplerOf(d);
  let running = 0;
  const cumulative = Float64Array.from(d.components, (c) => (running += c.weight));
  const parts = d.components.map((c) => simpleSamplerOf(c.distribution));
  const last = parts.length - 1;
  return (uniform) => {
    const u = draw(uniform);
    let i = 0;
    // the last component takes what rounding leaves above the final cumulative weight
    while (i < last && u >= (cumulative[i] as number)) i++;
    return (parts[i] as (uniform: Uniform) => number)(uniform);
  };
}

/** One latency from `d`, in ms. For many samples, build a sampler once with samplerOf. */
export function sampleMs(d: LatencyDistribution, uniform: Uniform): number {
  return samplerOf(d)(uniform);
}

/** The mean in ms; Infinity for a Pareto of shape <= 1 (or a mixture holding one). */
export function meanMs(d: LatencyDistribution): number {
  checkDistribution(d);
  const simpleMean = (s: SimpleDistribution): number => {
    switch (s.kind) {
      case 'pareto':
        return s.shape <= 1 ? Infinity : (s.shape * s.scaleMs) / (s.shape - 1);
      case 'exponential':
        return 1 / s.ratePerMs;
      case 'constant':
        return s.valueMs;
    }
  };
  return d.kind === 'mixture' ? d.components.reduce((sum, c) => sum + c.weight * simpleMean(c.distribution), 0) : simpleMean(d);
}

/** P(X <= xMs). */
export function cdf(d: LatencyDistribution, xMs: number): number {
  checkDistribution(d);
  const simpleCdf = (s: SimpleDistribution): number => {
    switch (s.kind) {
      case 'pareto':
        return xMs < s.scaleMs ? 0 : 1 - Math.pow(s.scaleMs / xMs, s.shape);
      case 'exponential':
        return xMs <= 0 ? 0 : -Math.expm1(-s.ratePerMs * xMs);
      case 'constant':
        return xMs < s.valueMs ? 0 : 1;
    }
  };
  return d.kind === 'mixture' ? d.components.reduce((sum, c) => sum + c.weight * simpleCdf(c.distribution), 0) : simpleCdf(d);
}

/** The smallest x with P(X <= x) >= p, in ms, for p in [0, 1). Closed form for the pieces, bisection for a mixture. */
export function quantileMs(d: LatencyDistribution, p: number): number {
  checkDistribution(d);
  if (!(Number.isFinite(p) && p >= 0 && p < 1)) failPbs('PBS_INVALID_OPTION', `a quantile takes p in [0, 1), got ${String(p)}`);
  const simpleQuantile = (s: SimpleDistribution): number => {
    switch (s.kind) {
      case 'pareto':
        return s.scaleMs / Math.pow(1 - p, 1 / s.shape);
      case 'exponential':
        return -Math.log1p(-p) / s.ratePerMs;
      case 'constant':
        return s.valueMs;
    }
  };
  if (d.kind !== 'mixture') return simpleQuantile(d);
  // the mixture's quantile lies between the smallest and largest of its components' quantiles at p
  const bounds = d.components.map((c) => simpleQuantile(c.distribution));
  let lo = Math.min(...bounds);
  let hi = Math.max(...bounds);
  if (cdf(d, lo) >= p) return lo;
  for (let step = 0; step < QUANTILE_BISECTION_STEPS && hi - lo > 0; step++) {
    const mid = (lo + hi) / 2;
    if (mid === lo || mid === hi) break;
    if (cdf(d, mid) >= p) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** A short human description, e.g. "91.22% Pareto(x_m=0.235 ms, alpha=10) + 8.78% Exp(lambda=1.66/ms)". */
export function describeDistribution(d: LatencyDistribution): string {
  const simple = (s: SimpleDistribution): string => {
    switch (s.kind) {
      case 'pareto':
        return `Pareto(x_m=${s.scaleMs} ms, alpha=${s.shape})`;
      case 'exponential':
        return `Exp(lambda=${s.ratePerMs}/ms)`;
      case 'constant':
        return `${s.valueMs} ms`;
    }
  };
  if (d.kind !== 'mixture') return simple(d);
  return d.components.map((c) => `${Number((c.weight * 100).toFixed(4))}% ${simple(c.distribution)}`).join(' + ');
}
