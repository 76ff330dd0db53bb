import { describe, expect, it } from 'vitest';
import { RandomSource } from '../../sim/rng.js';
import { claimGroups, measureClaim, PAPER_CLAIMS, simulateWars, type ClaimMeasurement, type PaperClaim } from './index.js';

// The reproduction goals of docs/pbs.md, measured as scripts/pbs.ts measures them but on fewer
// trials. The seed was fixed before the first run and the trial counts only bound the noise: the
// expectations below are the documented outcomes, including the goal that does not reproduce.
const SEED = 2012;
/**
 * Enough that sampling noise (one standard error of each t-visibility: LNKD-SSD about 0.02 ms,
 * YMMR about 18 and 4 ms) stays well inside the distance between the expected value and the 10% bound.
 */
const TRIALS_BY_PROFILE: Record<string, number> = { 'LNKD-SSD': 500_000, 'LNKD-DISK': 500_000, YMMR: 2_000_000 };
const TOLERANCE = 0.1;

function measureGoals(): Map<string, ClaimMeasurement> {
  const goals = PAPER_CLAIMS.filter((c) => c.goal);
  const measured = new Map<string, ClaimMeasurement>();
  const source = new RandomSource(SEED);
  for (const group of claimGroups(goals)) {
    const stream = source.stream(group.key);
    const trials = TRIALS_BY_PROFILE[group.profile.name] as number;
    const results = simulateWars({ profile: group.profile, replicas: group.replicas, quorums: group.quorums, trials }, () => stream.float());
    for (const c of goals.filter((g) => g.profile === group.profile && g.replicas === group.replicas)) {
      const result = results.find((r) => r.readQuorum === c.quorum.readQuorum && r.writeQuorum === c.quorum.writeQuorum);
      measured.set(c.id, measureClaim(c, result as NonNullable<typeof result>));
    }
  }
  return measured;
}

const relative = (value: number | undefined, c: PaperClaim): number => ((value as number) - c.paperValue) / c.paperValue;

describe('PBS goals (N = 3, paper Table 4 and Section 5.6)', () => {
  const measured = measureGoals();
  const get = (id: string): ClaimMeasurement => measured.get(id) as ClaimMeasurement;

  it('covers the five goals', () => {
    expect([...measured.keys()].sort()).toEqual(['disk-p0', 'disk-tvis', 'ssd-tvis', 'ymmr-r2-tvis', 'ymmr-tvis']);
  });

  it('LNKD-DISK, R = W = 1: P(consistent) right after commit is 43.9% (within 10%)', () => {
    const m = get('disk-p0');
    expect(Math.abs(m.relativeError as number)).toBeLessThan(TOLERANCE);
  });

  it('LNKD-SSD, R = W = 1: 99.9% t-visibility is 1.85 ms (within 10%)', () => {
    const m = get('ssd-tvis');
    expect(Math.abs(m.relativeError as number)).toBeLessThan(TOLERANCE);
    expect(Math.abs(relative(m.paperStyle?.medianMs, m.claim))).toBeLessThan(TOLERANCE);
  });

  it('YMMR, R = W = 1: 99.9% t-visibility is 1364 ms (within 10%)', () => {
    const m = get('ymmr-tvis');
    expect(Math.abs(m.relativeError as number)).toBeLessThan(TOLERANCE);
    expect(Math.abs(relative(m.paperStyle?.medianMs, m.claim))).toBeLessThan(TOLERANCE);
  });

  it('YMMR, R = 2, W = 1: 99.9% t-visibility is 202 ms (within 10%; the paper\'s own sweep would have said less)', () => {
    const m = get('ymmr-r2-tvis');
    expect(Math.abs(m.relativeError as number)).toBeLessThan(TOLERANCE);
    // documented: a 50,000-trials-per-point first-crossing sweep reports about 175 ms here
    expect(m.paperStyle?.medianMs).toBeLessThan(m.claim.paperValue);
  });

  it('LNKD-DISK, R = W = 1: 45.5 ms does NOT reproduce as the sample quantile, only as the paper\'s first-crossing sweep', () => {
    const m = get('disk-tvis');
    // documented in docs/pbs.md: the sample quantile is about 53 ms (+16%). Its 95% interval at this
    // trial count is about -/+ 2 ms wide, so the test asks only what holds with a wide margin: the
    // paper's 45.5 ms lies below the interval (4M trials in the docs put the whole interval past +10%)
    expect(m.relativeError).toBeGreaterThan(0);
    expect(m.interval?.low).toBeGreaterThan(m.claim.paperValue);
    // what the paper's sweep (0.1-ms grid, 50,000 fresh trials per point, first point at 99.9%) reports
    expect(Math.abs(relative(m.paperStyle?.medianMs, m.claim))).toBeLessThan(TOLERANCE);
  });
});
