import { describe, expect, it } from 'vitest';
import { COMMIT_TOURS, commitTourByName, runCommitTour } from './tours.js';

describe('the commit tours the visualizer plays', () => {
  it.each(COMMIT_TOURS.map((t) => [t.name, t] as const))('%s reaches its outcome, played at once and as the visualizer drives it', (_name, tour) => {
    const run = runCommitTour(tour, { driver: 'run' });
    expect(run.failure).toBeUndefined();
    expect(run.mismatches).toEqual([]);
    const drive = runCommitTour(tour, { driver: 'drive' });
    expect(drive.failure).toBeUndefined();
    expect(drive.mismatches).toEqual([]);
    // the same tour: the same outcome, to the millisecond of in-doubt time (virtual time)
    expect(drive.outcome).toEqual(run.outcome);
  });

  it('the same crash on the same seed: 2PC blocks for the outage holding its locks; 3PC and Paxos Commit decide with the coordinator down', () => {
    const [twoPc, threePc, paxos] = ['blocking-2pc', 'blocking-3pc', 'blocking-paxos-commit'].map((n) => {
      const tour = commitTourByName(n);
      if (tour === undefined) throw new Error(n);
      return runCommitTour(tour, { driver: 'drive' }).outcome;
    });
    expect([twoPc?.inDoubtBeforeRestart, threePc?.inDoubtBeforeRestart, paxos?.inDoubtBeforeRestart]).toEqual([2, 0, 0]);
    expect([twoPc?.locksBeforeRestart, threePc?.locksBeforeRestart, paxos?.locksBeforeRestart]).toEqual([2, 0, 0]);
    expect([twoPc?.decidedWhileDown, threePc?.decidedWhileDown, paxos?.decidedWhileDown]).toEqual([false, true, true]);
    expect([twoPc?.outcome, threePc?.outcome, paxos?.outcome]).toEqual(['abort', 'abort', 'commit']);
    expect(twoPc?.maxInDoubtMs).toBeGreaterThanOrEqual(5_000);
  });

  it('tour names are unique', () => {
    expect(new Set(COMMIT_TOURS.map((t) => t.name)).size).toBe(COMMIT_TOURS.length);
  });
});
