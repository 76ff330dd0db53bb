// The gossip benchmark's measuring functions at tiny sizes: every result has its parts and they
// make sense (every member got the update, a crash is suspected and then held dead everywhere,
// load is positive, no false positive without faults). No wall-clock timing is asserted.
import { describe, expect, it } from 'vitest';
import { benchCluster, measureAccuracy, runScale } from '../bench/lib/gossip-measure.js';
import { fitLog } from '../bench/gossip.js';

describe('gossip benchmark, measuring functions', () => {
  for (const members of [10, 100]) {
    it(`runs every phase of one cluster of ${members} members`, () => {
      const run = runScale({ members, seed: 1, loadPeriods: 5, updates: 1, crashes: 1, join: true });
      expect(run.members).toBe(members);
      const [update] = run.metadata;
      expect(update).toBeDefined();
      expect(update?.reached).toBe(members - 1);
      expect(update?.coverage).toBe(1);
      expect(update?.allMs).toBeGreaterThan(0);
      expect(update?.allRounds).toBeCloseTo((update?.allMs ?? 0) / 40);
      expect(update?.p50Ms).toBeLessThanOrEqual(update?.allMs ?? 0);
      const [crash] = run.detections;
      expect(crash?.firstSuspicionMs).toBeGreaterThan(0);
      expect(crash?.firstPingMs).toBeLessThanOrEqual(crash?.firstSuspicionMs ?? 0);
      expect(crash?.allDeadMs).toBeGreaterThanOrEqual(crash?.firstSuspicionMs ?? Infinity);
      expect(crash?.deadAt).toBe(members - 1);
      expect(crash?.suspicionMaxMs).toBeGreaterThan(crash?.suspicionMinMs ?? Infinity);
      expect(run.join?.reached).toBe(members - 1);
      expect(run.load?.members).toBe(members);
      expect(run.load?.messagesPerMemberPerPeriod).toBeGreaterThan(0);
      expect(run.load?.bytesPerMemberPerPeriod).toBeGreaterThan(run.load?.messagesPerMemberPerPeriod ?? Infinity);
      expect(Object.keys(run.load?.byTypePerMemberPerPeriod ?? {}).sort()).toEqual(['ack', 'ping']);
    });
  }

  it('a settled cluster has nothing to disagree on from the start', () => {
    const cluster = benchCluster({ seed: 2, nodes: 20 });
    expect(cluster.membershipProblems()).toEqual([]);
    expect(cluster.node('7')?.members()).toHaveLength(20);
  });

  it('counts no false positive without faults, and some suspicions with a stressed member', () => {
    const clean = measureAccuracy({ members: 10, stressed: 1, scenario: { name: 'no faults', lossRate: 0, stress: { kind: 'none' } }, lifeguard: false, seed: 1, durationMs: 5_000 });
    expect(clean).toMatchObject({ suspicions: 0, declarations: 0, healthyDeaths: 0, stressedDeaths: 0, stressed: 0 });
    const stressed = measureAccuracy({ members: 10, stressed: 1, scenario: { name: 'backlog', lossRate: 0.01, stress: { kind: 'backlog', delayMs: 1_200 } }, lifeguard: false, seed: 1, durationMs: 5_000 });
    expect(stressed.stressed).toBe(1);
    expect(stressed.suspicions).toBeGreaterThan(0);
    expect(stressed.healthyDeaths + stressed.stressedDeaths).toBeLessThanOrEqual(stressed.healthyFailEvents + stressed.stressedFailEvents);
  });

  it('fits c · ln N through the origin', () => {
    expect(fitLog([[10, 2 * Math.log(10)], [1000, 2 * Math.log(1000)]])).toBeCloseTo(2);
  });
});
