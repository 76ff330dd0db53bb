import { describe, expect, it } from 'vitest';
import { runScenarioProgram } from '../../sim/scenario.js';
import { COORDINATOR, PaxosCommitCluster, TwoPcCluster } from '../sim/cluster.js';
import { emptyBlockingObservation, blockingScenario } from './blocking.js';

describe('the blocking scenario: the coordinator crashes after every participant voted yes', () => {
  it('under 2PC the participants stay in doubt holding their locks until the coordinator recovers', () => {
    const cluster = new TwoPcCluster({ seed: 7, participants: 3 });
    const seen = emptyBlockingObservation();
    const failure = runScenarioProgram(cluster.sim, blockingScenario(cluster, { outageMs: 5_000 }, seen));
    expect(failure).toBeUndefined();
    // both participants were still prepared, with their locks, after 5 s without the coordinator
    expect(seen.inDoubtBeforeRestart).toBe(2);
    expect(seen.locksBeforeRestart).toBe(2);
    const check = cluster.checkCommit();
    expect(check.ok).toBe(true);
    expect(check.inDoubtAtEnd).toBe(0);
    // the checker's blocking time covers the whole outage, for each of the two participants
    const blocked = check.blocking.filter((b) => b.durationMs >= 5_000);
    expect(blocked.map((b) => b.node).sort()).toEqual(['2', '3']);
    expect(check.maxBlockingMs).toBeGreaterThanOrEqual(seen.restartedAtMs - seen.crashedAtMs);
    // presumed abort: the recovered coordinator has no commit record, so the transfer aborted
    expect(check.aborted).toBe(1);
    expect(cluster.totalMoney()).toBe(cluster.expectedMoney());
    expect(cluster.isUp(COORDINATOR)).toBe(true);
  });

  it('without cooperative termination the answer is the same: every participant is prepared, none can decide', () => {
    const cluster = new TwoPcCluster({ seed: 8, participants: 2, protocol: { cooperative: false } });
    const seen = emptyBlockingObservation();
    expect(runScenarioProgram(cluster.sim, blockingScenario(cluster, { outageMs: 3_000 }, seen))).toBeUndefined();
    expect(seen.inDoubtBeforeRestart).toBe(2);
    expect(cluster.checkCommit().maxBlockingMs).toBeGreaterThanOrEqual(3_000);
  });
});

describe('the same crash under 2PC when one participant never heard of the transaction', () => {
  it('cooperative termination decides abort: the participant that never voted aborts and says so', () => {
    const cluster = new TwoPcCluster({ seed: 9, participants: 3 });
    const seen = emptyBlockingObservation();
    expect(runScenarioProgram(cluster.sim, blockingScenario(cluster, { outageMs: 5_000, secondNeverHears: true }, seen))).toBeUndefined();
    expect(seen.inDoubtBeforeRestart).toBe(0);
    const check = cluster.checkCommit();
    expect(check.ok).toBe(true);
    expect(check.aborted).toBe(1);
    // in doubt only until its decision timeout and one round trip, not for the outage
    expect(check.maxBlockingMs).toBeLessThan(1_000);
  });
});

describe('the blocking scenario under Paxos Commit', () => {
  it('a participant in doubt finishes the instances at a higher ballot: everyone prepared, so it commits without the coordinator', () => {
    const cluster = new PaxosCommitCluster({ seed: 7, participants: 3 });
    const seen = emptyBlockingObservation();
    expect(runScenarioProgram(cluster.sim, blockingScenario(cluster, { outageMs: 5_000 }, seen))).toBeUndefined();
    expect(seen.inDoubtBeforeRestart).toBe(0);
    expect(seen.locksBeforeRestart).toBe(0);
    const check = cluster.checkCommit();
    expect(check.ok).toBe(true);
    expect(check.committed).toBe(1);
    expect(check.maxBlockingMs).toBeLessThan(1_000);
    // decided while the coordinator was still down
    expect(check.blocking.every((b) => b.toMs !== undefined && b.toMs < seen.restartedAtMs)).toBe(true);
    expect(cluster.totalMoney()).toBe(cluster.expectedMoney());
  });

  it('an instance without a vote is ended "aborted" by the recovering participant\'s higher ballot', () => {
    const cluster = new PaxosCommitCluster({ seed: 8, participants: 3 });
    const seen = emptyBlockingObservation();
    expect(runScenarioProgram(cluster.sim, blockingScenario(cluster, { outageMs: 5_000, secondNeverHears: true }, seen))).toBeUndefined();
    const check = cluster.checkCommit();
    expect(check.ok).toBe(true);
    expect(check.aborted).toBe(1);
    expect(check.maxBlockingMs).toBeLessThan(1_000);
  });

  it('still finishes with one of the three acceptors crashed too (F = 1)', () => {
    const cluster = new PaxosCommitCluster({ seed: 10, participants: 3 });
    cluster.crash(cluster.acceptors[0] as string);
    const seen = emptyBlockingObservation();
    expect(runScenarioProgram(cluster.sim, blockingScenario(cluster, { outageMs: 5_000 }, seen))).toBeUndefined();
    const check = cluster.checkCommit();
    expect(check.committed).toBe(1);
    expect(check.maxBlockingMs).toBeLessThan(1_000);
  });
});
