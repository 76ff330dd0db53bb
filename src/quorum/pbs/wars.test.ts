import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RandomSource } from '../../sim/rng.js';
import {
  binomialCdf,
  constant,
  exponential,
  firstCrossingDistribution,
  judgeTrial,
  LNKD_DISK,
  LNKD_SSD,
  MAX_REPLICAS,
  MAX_TRIALS,
  PAPER_PROFILES,
  pareto,
  PbsError,
  probabilityMissingWrite,
  probabilityWithinKVersions,
  simulateWars,
  WAN,
  WarsResult,
  YMMR,
  type Quorum,
  type WarsOptions,
  type WarsProfile,
} from './index.js';

const code = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (err) {
    if (err instanceof PbsError) return err.code;
    throw err;
  }
  return undefined;
};

const uniformOf = (seed: number, name: string): (() => number) => {
  const stream = new RandomSource(seed).stream(name);
  return () => stream.float();
};

const q = (readQuorum: number, writeQuorum: number): Quorum => ({ readQuorum, writeQuorum });

function run(profile: WarsProfile, replicas: number, quorums: readonly Quorum[], trials: number, seed = 1): WarsResult[] {
  return simulateWars({ profile, replicas, quorums, trials }, uniformOf(seed, profile.name));
}

describe('one WARS trial', () => {
  // W_i + A_i = 2, 6, 10; R_j + S_j = 1.5, 1.2, 1.1 (replica 2 answers first, then 1, then 0)
  const trial = { writeMs: [1, 5, 9], ackMs: [1, 1, 1], readMs: [1, 1, 1], responseMs: [0.5, 0.2, 0.1] };

  it('commits at the W-th acknowledgement and reads from the first R responders', () => {
    expect(judgeTrial(trial, q(1, 1))).toEqual({ commitMs: 2, readLatencyMs: 1.1, criticalTMs: 9 - 2 - 1 });
    // the second responder (replica 1) had the write at 5 <= 2 + t + 1 from t = 2 on
    expect(judgeTrial(trial, q(2, 1))).toEqual({ commitMs: 2, readLatencyMs: 1.2, criticalTMs: 5 - 2 - 1 });
    expect(judgeTrial(trial, q(1, 2))).toEqual({ commitMs: 6, readLatencyMs: 1.1, criticalTMs: 9 - 6 - 1 });
    // R + W > N: a responder acknowledged the write before commit, so the read is fresh at once
    expect(judgeTrial(trial, q(2, 2)).criticalTMs).toBeLessThanOrEqual(0);
    expect(judgeTrial(trial, q(1, 3)).criticalTMs).toBeLessThanOrEqual(0);
  });

  it('breaks ties in read round trip by replica index', () => {
    const tie = { writeMs: [9, 1, 1], ackMs: [0, 0, 0], readMs: [0, 0, 0], responseMs: [1, 1, 1] };
    expect(judgeTrial(tie, q(1, 1)).criticalTMs).toBe(9 - 1);
  });

  it('rejects quorums outside 1..N and ragged legs', () => {
    expect(code(() => judgeTrial(trial, q(0, 1)))).toBe('PBS_INVALID_OPTION');
    expect(code(() => judgeTrial(trial, q(1, 4)))).toBe('PBS_INVALID_OPTION');
    expect(code(() => judgeTrial(trial, q(1.5, 1)))).toBe('PBS_INVALID_OPTION');
    expect(code(() => judgeTrial({ ...trial, ackMs: [1, 1] }, q(1, 1)))).toBe('PBS_INVALID_OPTION');
    expect(code(() => judgeTrial({ ...trial, readMs: [1, Number.NaN, 1] }, q(1, 1)))).toBe('PBS_INVALID_OPTION');
    expect(code(() => judgeTrial({ ...trial, writeMs: [1, -5, 9] }, q(1, 1)))).toBe('PBS_INVALID_OPTION');
  });
});

describe('WARS Monte Carlo', () => {
  it('never reads stale with strict quorums (R + W > N), at any t', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 0, max: 1000 }), fc.constantFrom(...PAPER_PROFILES), fc.integer({ min: 0, max: 2 ** 31 }), (n, pick, profile, seed) => {
        const strict: Quorum[] = [];
        for (let r = 1; r <= n; r++) for (let w = 1; w <= n; w++) if (r + w > n) strict.push(q(r, w));
        const quorum = strict[pick % strict.length] as Quorum;
        const [result] = simulateWars({ profile, replicas: n, quorums: [quorum], trials: 300 }, uniformOf(seed, 'strict'));
        expect(result?.strict).toBe(true);
        for (const t of [0, 0.5, 10, 5000]) expect(result?.probabilityConsistent(t)).toBe(1);
        expect(result?.tVisibilityMs(0.999999)).toBe(0);
      }),
      { numRuns: 60 },
    );
  });

  it('grows monotonically in t toward 1 for partial quorums', () => {
    const ts = [0, 0.1, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000];
    for (const profile of PAPER_PROFILES) {
      for (const result of run(profile, 3, [q(1, 1), q(1, 2), q(2, 1)], 20_000)) {
        const curve = result.curve(ts).map((p) => p.probability);
        for (let i = 1; i < curve.length; i++) expect(curve[i]).toBeGreaterThanOrEqual(curve[i - 1] as number);
        expect(curve.at(-1)).toBeGreaterThan(0.99);
      }
    }
    // partial quorums are really partial: LNKD-DISK with R = W = 1 is stale right after commit about half the time
    const [disk] = run(LNKD_DISK, 3, [q(1, 1)], 20_000);
    expect(disk?.probabilityConsistent(0)).toBeLessThan(0.6);
  });

  it('matches the closed form for exponential writes and instant acks and read requests', () => {
    // A = R = 0: commit at min W_i, the read request lands at commit + t; S picks a uniform first
    // responder. By memorylessness a non-minimal W_j exceeds the minimum by Exp(lambda), so
    // P(stale | t) = (N - 1) / N x exp(-lambda t)
    const lambda = 0.5;
    for (const n of [2, 3, 5]) {
      const profile: WarsProfile = { name: 'exp', write: exponential(lambda), ack: constant(0), read: constant(0), response: exponential(1) };
      const trials = 100_000;
      const [result] = run(profile, n, [q(1, 1)], trials, 3);
      for (const t of [0, 1, 3, 6]) {
        const expected = 1 - ((n - 1) / n) * Math.exp(-lambda * t);
        const se = Math.sqrt((expected * (1 - expected)) / trials);
        expect(Math.abs((result?.probabilityConsistent(t) as number) - expected), `N=${n} t=${t}`).toBeLessThan(5 * se + 1e-12);
      }
      // and t-visibility inverts it: exp(-lambda t) = (1 - p) N / (N - 1)
      const exact = -Math.log((0.01 * n) / (n - 1)) / lambda;
      const interval = result?.tVisibilityIntervalMs(0.99);
      expect(interval?.lowMs).toBeLessThanOrEqual(exact * 1.02);
      expect(interval?.highMs).toBeGreaterThanOrEqual(exact * 0.98);
    }
  });

  it('is deterministic: the same seed gives the same curve, t-visibility and latencies', () => {
    const a = run(YMMR, 3, [q(1, 1), q(2, 1)], 20_000, 99);
    const b = run(YMMR, 3, [q(1, 1), q(2, 1)], 20_000, 99);
    for (let i = 0; i < a.length; i++) {
      expect(a[i]?.tVisibilityMs(0.99)).toBe(b[i]?.tVisibilityMs(0.99));
      expect(a[i]?.curve([0, 1, 10, 100])).toEqual(b[i]?.curve([0, 1, 10, 100]));
      expect(a[i]?.readLatencyPercentileMs(0.999)).toBe(b[i]?.readLatencyPercentileMs(0.999));
      expect(a[i]?.writeLatencyPercentileMs(0.5)).toBe(b[i]?.writeLatencyPercentileMs(0.5));
    }
    expect(run(YMMR, 3, [q(1, 1)], 20_000, 100)[0]?.tVisibilityMs(0.99)).not.toBe(a[0]?.tVisibilityMs(0.99));
  });

  it('judges every quorum on the same trials, so a larger R is never less consistent', () => {
    const [r1, r2, r3] = run(LNKD_DISK, 3, [q(1, 1), q(2, 1), q(3, 1)], 20_000);
    for (const t of [0, 1, 5, 20]) {
      expect(r2?.probabilityConsistent(t)).toBeGreaterThanOrEqual(r1?.probabilityConsistent(t) as number);
      expect(r3?.probabilityConsistent(t)).toBe(1);
    }
    expect(r3?.readLatencyPercentileMs(0.5)).toBeGreaterThan(r1?.readLatencyPercentileMs(0.5) as number);
  });

  it('puts WAN replicas 75 ms away: with R = W = 1 a read right after commit is fresh only when it hits the write\'s datacenter', () => {
    const [wan] = run(WAN, 3, [q(1, 1)], 30_000);
    // the paper: "33% chance immediately after commit"
    expect(wan?.probabilityConsistent(0)).toBeGreaterThan(0.31);
    expect(wan?.probabilityConsistent(0)).toBeLessThan(0.36);
    expect(wan?.writeLatencyPercentileMs(0.5)).toBeLessThan(75);
  });

  it('rejects bad options with PBS_INVALID_OPTION or PBS_INVALID_DISTRIBUTION', () => {
    const ok: WarsOptions = { profile: LNKD_SSD, replicas: 3, quorums: [q(1, 1)], trials: 10 };
    const uniform = uniformOf(1, 'bad');
    const bad = (patch: Partial<WarsOptions>): string | undefined => code(() => simulateWars({ ...ok, ...patch }, uniform));
    expect(bad({})).toBeUndefined();
    expect(bad({ replicas: 0 })).toBe('PBS_INVALID_OPTION');
    expect(bad({ replicas: MAX_REPLICAS + 1 })).toBe('PBS_INVALID_OPTION');
    expect(bad({ replicas: 2.5 })).toBe('PBS_INVALID_OPTION');
    expect(bad({ quorums: [q(0, 1)] })).toBe('PBS_INVALID_OPTION');
    expect(bad({ quorums: [q(4, 1)] })).toBe('PBS_INVALID_OPTION');
    expect(bad({ quorums: [q(1, 4)] })).toBe('PBS_INVALID_OPTION');
    expect(bad({ quorums: [] })).toBe('PBS_INVALID_OPTION');
    expect(bad({ trials: 0 })).toBe('PBS_INVALID_OPTION');
    expect(bad({ trials: -5 })).toBe('PBS_INVALID_OPTION');
    expect(bad({ trials: 1.5 })).toBe('PBS_INVALID_OPTION');
    expect(bad({ trials: MAX_TRIALS + 1 })).toBe('PBS_INVALID_OPTION');
    expect(bad({ profile: { ...LNKD_SSD, write: { kind: 'pareto', scaleMs: 0.235, shape: 0 } } })).toBe('PBS_INVALID_DISTRIBUTION');
    expect(bad({ profile: { ...LNKD_SSD, ack: { kind: 'exponential', ratePerMs: Number.NaN } } })).toBe('PBS_INVALID_DISTRIBUTION');
    expect(bad({ profile: { ...WAN, remoteDelayMs: -75 } })).toBe('PBS_INVALID_OPTION');
    const [result] = simulateWars(ok, uniform);
    expect(code(() => result?.tVisibilityMs(1))).toBe('PBS_INVALID_OPTION');
    expect(code(() => result?.tVisibilityMs(0))).toBe('PBS_INVALID_OPTION');
    expect(code(() => result?.tVisibilityMs(Number.NaN))).toBe('PBS_INVALID_OPTION');
    expect(code(() => result?.probabilityConsistent(-1))).toBe('PBS_INVALID_OPTION');
    expect(code(() => result?.probabilityConsistent(Infinity))).toBe('PBS_INVALID_OPTION');
    expect(code(() => result?.readLatencyPercentileMs(0))).toBe('PBS_INVALID_OPTION');
  });
});

describe('t-visibility from a known sample', () => {
  // 1000 trials with critical t = 0, 0.01, ..., 9.99 ms: P(consistent | t) = (floor(100 t) + 1) / 1000
  const known = (): WarsResult => {
    const critical = Float64Array.from({ length: 1000 }, (_, i) => i / 100);
    return new WarsResult('known', 3, 1, 1, critical.slice().reverse(), new Float64Array(1000), new Float64Array(1000));
  };

  it('is the smallest t whose share of consistent trials reaches the target', () => {
    const result = known();
    expect(result.probabilityConsistent(0)).toBe(0.001);
    expect(result.probabilityConsistent(4.995)).toBe(0.5);
    expect(result.tVisibilityMs(0.5)).toBe(4.99);
    expect(result.tVisibilityMs(0.999)).toBe(9.98);
    expect(result.tVisibilityMs(0.0005)).toBe(0);
    expect(result.staleReads(9.99)).toBe(0);
  });

  it('the paper-style first-crossing sweep finds the same t with huge batches, and an earlier one with small batches', () => {
    const result = known();
    const grid = { startMs: 0, stepMs: 0.01, pointCount: 1000 };
    // a target between two steps of the sample's curve, so the sweep's verdict is not a coin toss at the step
    const exact = firstCrossingDistribution(result, { grid, trialsPerPoint: 10_000_000, target: 0.9005 });
    expect(result.tVisibilityMs(0.9005)).toBe(9);
    expect(exact).toMatchObject({ p5Ms: 9, medianMs: 9, p95Ms: 9 });
    const noisy = firstCrossingDistribution(result, { grid, trialsPerPoint: 200, target: 0.9005 });
    expect(noisy.medianMs).toBeLessThan(9);
    expect(noisy.p5Ms).toBeLessThanOrEqual(noisy.medianMs as number);
    expect(noisy.p95Ms).toBeGreaterThanOrEqual(noisy.medianMs as number);
    expect(code(() => firstCrossingDistribution(result, { grid: { ...grid, stepMs: 0 }, trialsPerPoint: 10, target: 0.9 }))).toBe('PBS_INVALID_OPTION');
    expect(code(() => firstCrossingDistribution(result, { grid, trialsPerPoint: 0, target: 0.9 }))).toBe('PBS_INVALID_OPTION');
  });

  it('binomialCdf sums the pmf', () => {
    const direct = (k: number, n: number, p: number): number => {
      let sum = 0;
      let choose = 1;
      for (let x = 0; x <= k; x++) {
        sum += choose * p ** x * (1 - p) ** (n - x);
        choose = (choose * (n - x)) / (x + 1);
      }
      return sum;
    };
    for (const [k, n, p] of [[0, 10, 0.1], [3, 10, 0.3], [5, 20, 0.5], [15, 20, 0.5], [50, 50_000, 0.001], [40, 50_000, 0.001], [70, 50_000, 0.001]] as const) {
      expect(binomialCdf(k, n, p)).toBeCloseTo(direct(k, n, p), 10);
    }
    expect(binomialCdf(10, 10, 0.5)).toBe(1);
    expect(binomialCdf(-1, 10, 0.5)).toBe(0);
    expect(binomialCdf(3, 10, 0)).toBe(1);
    expect(binomialCdf(3, 10, 1)).toBe(0);
  });
});

describe('k-staleness in closed form', () => {
  it('reproduces the paper\'s examples', () => {
    // section 2.1: N = 3, R = W = 1 misses with probability 2/3; N = 100, R = W = 30 with 1.88e-6
    expect(probabilityMissingWrite(3, 1, 1)).toBeCloseTo(2 / 3, 12);
    expect(probabilityMissingWrite(100, 30, 30) / 1.88e-6).toBeCloseTo(1, 2);
    expect(probabilityWithinKVersions(3, 1, 1, 1)).toBeCloseTo(1 / 3, 12);
    expect(probabilityWithinKVersions(3, 1, 1, 2)).toBeCloseTo(1 - 4 / 9, 12);
    expect(probabilityWithinKVersions(3, 2, 2, 1)).toBe(1);
  });

  it('rejects bad options', () => {
    expect(code(() => probabilityWithinKVersions(3, 1, 1, 0))).toBe('PBS_INVALID_OPTION');
    expect(code(() => probabilityMissingWrite(0, 1, 1))).toBe('PBS_INVALID_OPTION');
    expect(code(() => probabilityMissingWrite(3, 4, 1))).toBe('PBS_INVALID_OPTION');
  });
});

describe('profiles', () => {
  it('are the paper\'s four', () => {
    expect(PAPER_PROFILES.map((p) => p.name)).toEqual(['LNKD-SSD', 'LNKD-DISK', 'YMMR', 'WAN']);
    expect(LNKD_DISK.read).toBe(LNKD_SSD.read);
    expect(WAN.write).toBe(LNKD_DISK.write);
    expect(WAN.remoteDelayMs).toBe(75);
    expect(code(() => pareto(3, -3.35))).toBe('PBS_INVALID_DISTRIBUTION');
  });
});
