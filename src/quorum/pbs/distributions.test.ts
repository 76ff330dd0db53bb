import { describe, expect, it } from 'vitest';
import { isInvariantError } from '../../core/assert.js';
import { RandomSource } from '../../sim/rng.js';
import { cdf, checkDistribution, constant, describeDistribution, exponential, LNKD_DISK, LNKD_SSD, meanMs, mixture, pareto, PbsError, quantileMs, sampleMs, samplerOf, YMMR, type LatencyDistribution, type SimpleDistribution } from './index.js';

const code = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (err) {
    if (err instanceof PbsError) return err.code;
    if (isInvariantError(err)) return err.code;
    throw err;
  }
  return undefined;
};

const uniformOf = (seed: number, name: string): (() => number) => {
  const stream = new RandomSource(seed).stream(name);
  return () => stream.float();
};

function draws(d: LatencyDistribution, count: number, seed = 7): Float64Array {
  const sample = samplerOf(d);
  const uniform = uniformOf(seed, 'distributions');
  return Float64Array.from({ length: count }, () => sample(uniform));
}

/** E[X^2] in closed form (finite only for Pareto shapes above 2). */
function secondMoment(d: LatencyDistribution): number {
  const simple = (s: SimpleDistribution): number => {
    switch (s.kind) {
      case 'pareto':
        return s.shape > 2 ? (s.shape * s.scaleMs ** 2) / (s.shape - 2) : Infinity;
      case 'exponential':
        return 2 / s.ratePerMs ** 2;
      case 'constant':
        return s.valueMs ** 2;
    }
  };
  return d.kind === 'mixture' ? d.components.reduce((sum, c) => sum + c.weight * simple(c.distribution), 0) : simple(d);
}

/** The paper's fitted legs, plus the pieces on their own. */
const PAPER_LEGS: readonly [string, LatencyDistribution][] = [
  ['LNKD-SSD W=A=R=S', LNKD_SSD.write],
  ['LNKD-DISK W', LNKD_DISK.write],
  ['YMMR W', YMMR.write],
  ['YMMR A=R=S', YMMR.read],
];

describe('latency distributions: parameters', () => {
  it('rejects bad parameters with PBS_INVALID_DISTRIBUTION', () => {
    expect(code(() => pareto(0, 2))).toBe('PBS_INVALID_DISTRIBUTION');
    expect(code(() => pareto(1, 0))).toBe('PBS_INVALID_DISTRIBUTION');
    expect(code(() => pareto(Number.NaN, 2))).toBe('PBS_INVALID_DISTRIBUTION');
    expect(code(() => pareto(1, Infinity))).toBe('PBS_INVALID_DISTRIBUTION');
    expect(code(() => exponential(0))).toBe('PBS_INVALID_DISTRIBUTION');
    expect(code(() => exponential(-1.66))).toBe('PBS_INVALID_DISTRIBUTION');
    expect(code(() => constant(-1))).toBe('PBS_INVALID_DISTRIBUTION');
    expect(code(() => mixture([]))).toBe('PBS_INVALID_DISTRIBUTION');
    expect(code(() => mixture([[0.5, exponential(1)], [0.4, exponential(2)]]))).toBe('PBS_INVALID_DISTRIBUTION');
    expect(code(() => mixture([[0, exponential(1)], [1, exponential(2)]]))).toBe('PBS_INVALID_DISTRIBUTION');
    expect(code(() => mixture([[1.5, exponential(1)], [-0.5, exponential(2)]]))).toBe('PBS_INVALID_DISTRIBUTION');
    // literals and parsed JSON are checked too
    expect(code(() => checkDistribution({ kind: 'mixture', components: [{ weight: 1, distribution: LNKD_SSD.write as never }] }))).toBe('PBS_INVALID_DISTRIBUTION');
    expect(code(() => checkDistribution({ kind: 'weibull' } as never))).toBe('PBS_INVALID_DISTRIBUTION');
    expect(code(() => checkDistribution({ kind: 'pareto', scaleMs: '1', shape: 2 } as never))).toBe('PBS_INVALID_DISTRIBUTION');
  });

  it('accepts the paper fits, whose weights sum to 1', () => {
    for (const [, d] of PAPER_LEGS) expect(checkDistribution(d)).toBe(d);
    expect(describeDistribution(LNKD_SSD.write)).toBe('91.22% Pareto(x_m=0.235 ms, alpha=10) + 8.78% Exp(lambda=1.66/ms)');
  });

  it('rejects a quantile outside [0, 1) with PBS_INVALID_OPTION', () => {
    expect(code(() => quantileMs(exponential(1), 1))).toBe('PBS_INVALID_OPTION');
    expect(code(() => quantileMs(exponential(1), -0.1))).toBe('PBS_INVALID_OPTION');
  });

  it('treats a uniform source outside [0, 1) as a broken invariant', () => {
    expect(code(() => sampleMs(exponential(1), () => 1))).toBe('INVARIANT');
    expect(code(() => sampleMs(pareto(1, 2), () => -0.5))).toBe('INVARIANT');
    expect(code(() => sampleMs(exponential(1), () => Number.NaN))).toBe('INVARIANT');
  });
});

describe('latency distributions: closed forms', () => {
  it('mean, CDF and quantile agree with the textbook formulas', () => {
    expect(meanMs(exponential(0.183))).toBeCloseTo(1 / 0.183, 12);
    expect(meanMs(pareto(0.235, 10))).toBeCloseTo((10 * 0.235) / 9, 12);
    expect(meanMs(pareto(1.05, 0.9))).toBe(Infinity);
    expect(meanMs(LNKD_SSD.write)).toBeCloseTo(0.9122 * ((10 * 0.235) / 9) + 0.0878 / 1.66, 12);
    expect(cdf(pareto(3, 3.35), 2.9)).toBe(0);
    expect(cdf(pareto(3, 3.35), 6)).toBeCloseTo(1 - 0.5 ** 3.35, 12);
    expect(quantileMs(exponential(2), 0.5)).toBeCloseTo(Math.LN2 / 2, 12);
    expect(quantileMs(pareto(1.5, 3.8), 0.99)).toBeCloseTo(1.5 * 100 ** (1 / 3.8), 10);
    expect(quantileMs(constant(4), 0.3)).toBe(4);
    for (const [, d] of PAPER_LEGS) {
      for (const p of [0, 0.1, 0.5, 0.9, 0.99, 0.999]) expect(cdf(d, quantileMs(d, p))).toBeCloseTo(p, 9);
    }
  });
});

describe('latency distributions: sampling', () => {
  const COUNT = 200_000;

  it('matches the closed-form CDF at the quantiles of every paper fit (within 5 standard errors)', () => {
    for (const [name, d] of PAPER_LEGS) {
      const xs = draws(d, COUNT);
      for (const p of [0.05, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999]) {
        const q = quantileMs(d, p);
        const below = xs.reduce((n, x) => n + (x <= q ? 1 : 0), 0) / COUNT;
        expect(Math.abs(below - p), `${name} at p=${p}`).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / COUNT) + 1e-9);
      }
    }
  });

  it('matches the closed-form mean where the variance is finite (within 5 standard errors)', () => {
    // LNKD-DISK's W has a Pareto piece of shape 1.51: infinite variance, no usable sample mean
    const cases: [string, LatencyDistribution][] = [
      ['Exp(1.66)', exponential(1.66)],
      ['Pareto(0.235, 10)', pareto(0.235, 10)],
      ['LNKD-SSD leg', LNKD_SSD.write],
      ['YMMR A=R=S', YMMR.read],
      ['YMMR W', YMMR.write],
    ];
    for (const [name, d] of cases) {
      const xs = draws(d, COUNT, 11);
      const mean = xs.reduce((s, x) => s + x, 0) / COUNT;
      const sdMs = Math.sqrt(secondMoment(d) - meanMs(d) ** 2);
      expect(Math.abs(mean - meanMs(d)), name).toBeLessThan((5 * sdMs) / Math.sqrt(COUNT));
    }
  });

  it('never goes below a Pareto scale or below 0, and a constant is constant', () => {
    expect(Math.min(...draws(pareto(1.05, 1.51), 20_000))).toBeGreaterThanOrEqual(1.05);
    expect(Math.min(...draws(exponential(0.0028), 20_000))).toBeGreaterThanOrEqual(0);
    expect(new Set(draws(constant(2.5), 100))).toEqual(new Set([2.5]));
    // u = 0 is the scale itself, not a division by zero
    expect(sampleMs(pareto(3, 3.35), () => 0)).toBe(3);
    expect(sampleMs(exponential(1), () => 0)).toBe(0);
  });

  it('is deterministic: the same seed draws the same latencies', () => {
    expect(draws(YMMR.write, 1000, 42)).toEqual(draws(YMMR.write, 1000, 42));
    expect(draws(YMMR.write, 1000, 42)).not.toEqual(draws(YMMR.write, 1000, 43));
  });
});
