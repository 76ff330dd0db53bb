import { describe, expect, it } from 'vitest';
import { runScenarioProgram } from '../../sim/scenario.js';
import { COORDINATOR, PaxosCommitCluster, ThreePcCluster, TwoPcCluster, type CommitCluster } from '../sim/cluster.js';
import { ThreePcParticipantCore } from '../three-pc/participant.js';
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

describe('the blocking scenario under 3PC (crash faults only)', () => {
  it('all uncertain: the rank-0 backup runs the termination protocol and aborts while the coordinator is down', () => {
    const cluster = new ThreePcCluster({ seed: 7, participants: 3 });
    const seen = emptyBlockingObservation();
    expect(runScenarioProgram(cluster.sim, blockingScenario(cluster, { outageMs: 5_000 }, seen))).toBeUndefined();
    expect(seen.inDoubtBeforeRestart).toBe(0);
    expect(seen.locksBeforeRestart).toBe(0);
    const check = cluster.checkCommit();
    expect(check.ok).toBe(true);
    expect(check.aborted).toBe(1);
    expect(check.blocking.every((b) => b.toMs !== undefined && b.toMs < seen.restartedAtMs)).toBe(true);
    expect(check.maxBlockingMs).toBeLessThan(1_000);
    expect(cluster.terminations()).toBe(1);
    expect(cluster.totalMoney()).toBe(cluster.expectedMoney());
  });

  it('crashed after PRE-COMMIT reached a participant: the backup pre-commits the rest and commits, without the coordinator', () => {
    const cluster = new ThreePcCluster({ seed: 7, participants: 3 });
    const seen = emptyBlockingObservation();
    const precommitted = (): boolean => cluster.participants.some((id) => {
      const core = cluster.sim.core(id);
      return core instanceof ThreePcParticipantCore && core.inDoubt().some((txn) => core.stateOf(txn) === 'precommitted');
    });
    expect(runScenarioProgram(cluster.sim, blockingScenario(cluster, { outageMs: 5_000, crashWhen: precommitted }, seen))).toBeUndefined();
    expect(seen.inDoubtBeforeRestart).toBe(0);
    const check = cluster.checkCommit();
    expect(check.ok).toBe(true);
    expect(check.committed).toBe(1);
    expect(check.blocking.every((b) => b.toMs !== undefined && b.toMs < seen.restartedAtMs)).toBe(true);
    expect(cluster.totalMoney()).toBe(cluster.expectedMoney());
  });
});

describe('the same crash, the same seed, three protocols', () => {
  /** Runs the scenario; returns what the participants went through. */
  function run<M extends { type: string }, P>(cluster: CommitCluster<M, P>): { seen: ReturnType<typeof emptyBlockingObservation>; maxInDoubtMs: number; outcome: string; decidedWhileDown: boolean } {
    const seen = emptyBlockingObservation();
    expect(runScenarioProgram(cluster.sim, blockingScenario(cluster, { outageMs: 5_000 }, seen))).toBeUndefined();
    const check = cluster.checkCommit();
    expect(check.ok).toBe(true);
    expect(check.transactions).toBe(1);
    return {
      seen,
      maxInDoubtMs: check.maxBlockingMs,
      outcome: check.committed === 1 ? 'commit' : 'abort',
      decidedWhileDown: check.blocking.every((b) => b.toMs !== undefined && b.toMs < seen.restartedAtMs),
    };
  }

  it('2PC blocks for the whole outage holding its locks; 3PC aborts and Paxos Commit commits within a second, coordinator still down', () => {
    const twoPc = run(new TwoPcCluster({ seed: 11, participants: 3 }));
    const threePc = run(new ThreePcCluster({ seed: 11, participants: 3 }));
    const paxos = run(new PaxosCommitCluster({ seed: 11, participants: 3 }));
    expect([twoPc.seen.inDoubtBeforeRestart, threePc.seen.inDoubtBeforeRestart, paxos.seen.inDoubtBeforeRestart]).toEqual([2, 0, 0]);
    expect([twoPc.seen.locksBeforeRestart, threePc.seen.locksBeforeRestart, paxos.seen.locksBeforeRestart]).toEqual([2, 0, 0]);
    expect([twoPc.decidedWhileDown, threePc.decidedWhileDown, paxos.decidedWhileDown]).toEqual([false, true, true]);
    // 2PC: presumed abort after recovery; 3PC: every participant uncertain, so abort; Paxos Commit:
    // every instance chose "prepared", so commit
    expect([twoPc.outcome, threePc.outcome, paxos.outcome]).toEqual(['abort', 'abort', 'commit']);
    // in-doubt time in virtual time (deterministic): 2PC's covers the outage, the others' do not
    expect(twoPc.maxInDoubtMs).toBeGreaterThanOrEqual(5_000);
    expect(threePc.maxInDoubtMs).toBeLessThan(twoPc.maxInDoubtMs / 5);
    expect(paxos.maxInDoubtMs).toBeLessThan(twoPc.maxInDoubtMs / 5);
  });
});
