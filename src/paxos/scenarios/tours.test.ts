// The Paxos tours: every tour is a scenario the tests know, told step by step; played at once
// (as the scenario tests do) and driven in virtual time (as the visualizer does), each ends where
// it should, on the same outcome both ways.
import { describe, expect, it } from 'vitest';
import { PAXOS_SCENARIOS } from './multi.js';
import { SYNOD_SCENARIOS } from './synod.js';
import { MULTI_TOURS, narrate, narrationProblems, PAXOS_TOURS, paxosTourByName, runPaxosTour, SYNOD_TOURS, TourBindings, type MultiTourOutcome, type PaxosTour, type SynodTourOutcome } from './tours.js';

function tour(name: string): PaxosTour {
  const t = paxosTourByName(name);
  if (t === undefined) throw new Error(`no tour ${name}`);
  return t;
}

describe('Paxos tours', () => {
  it('every tour plays a scenario the tests play, and tells each of its steps', () => {
    expect(MULTI_TOURS.every((t) => PAXOS_SCENARIOS.some((s) => s.name === t.name))).toBe(true);
    expect(SYNOD_TOURS.every((t) => SYNOD_SCENARIOS.some((s) => s.name === t.name))).toBe(true);
    expect(new Set(PAXOS_TOURS.map((t) => t.name)).size).toBe(PAXOS_TOURS.length);
    expect(PAXOS_TOURS.flatMap(narrationProblems)).toEqual([]);
    // the four the issue asks for, on both cores where they exist
    for (const name of ['synod-normal-round', 'synod-dueling-livelock', 'synod-dueling-backoff', 'synod-adopt-accepted', 'paxos-normal', 'paxos-dueling-candidates', 'paxos-adopt-accepted', 'paxos-leader-change-noops']) expect(paxosTourByName(name), name).toBeDefined();
  });

  it('a line about another kind of step is not shown, and names are filled in once bound', () => {
    const t = tour('paxos-adopt-accepted');
    const bindings = new TourBindings();
    expect(narrate(t, '8', bindings)).toBe('L1 crashes before anyone else learns that slot 3 is chosen.');
    bindings.onEvent({ t: 0, ev: 'note', text: 'L1 = 2' });
    bindings.onEvent({ t: 0, ev: 'note', text: 'step 3: pick 1 node(s) as B' });
    expect(narrate(t, '8', bindings)).toBe('L1 (node 2) crashes before anyone else learns that slot 3 is chosen.');
    expect(narrate(t, '8.1', bindings)).toBeUndefined();
    expect(narrate(t, '99', bindings)).toBeUndefined();
    const shifted: PaxosTour = { ...t, narration: t.narration.slice(1) };
    expect(narrationProblems(shifted).length).toBeGreaterThan(0);
    expect(narrate(shifted, '2', bindings)).toBeUndefined();
  });

  it.each(PAXOS_TOURS.map((t) => [t.name, t] as const))('%s: played at once and driven as the page does, the same outcome', (_name, t) => {
    const run = runPaxosTour(t);
    const drive = runPaxosTour(t, { driver: 'drive' });
    for (const r of [run, drive]) {
      expect(r.failure).toBeUndefined();
      expect(r.mismatches).toEqual([]);
      expect(r.endedAtMs).toBeLessThanOrEqual(t.endMs);
    }
    if (t.core === 'single') expect((drive.outcome as SynodTourOutcome).chosen).toBe((run.outcome as SynodTourOutcome).chosen);
    else {
      const [a, b] = [run.outcome as MultiTourOutcome, drive.outcome as MultiTourOutcome];
      expect([b.noops, b.violations]).toEqual([a.noops, a.violations]);
    }
  });

  it('the classic outcomes: the adopted value stays chosen, holes are no-ops, the livelock chooses nothing', () => {
    const adopt = runPaxosTour(tour('synod-adopt-accepted'), { driver: 'drive' }).outcome as SynodTourOutcome;
    expect(adopt).toMatchObject({ chosen: '"A"', learned: 3, learnersUp: 3 });
    const livelock = runPaxosTour(tour('synod-dueling-livelock'), { driver: 'drive' }).outcome as SynodTourOutcome;
    expect(livelock.chosen).toBeNull();
    expect(livelock.ballots).toBeGreaterThanOrEqual(100);
    const noops = runPaxosTour(tour('paxos-leader-change-noops'), { driver: 'drive' }).outcome as MultiTourOutcome;
    expect(noops.noops).toBe(2);
    expect(noops.leaderAdopted).toBeGreaterThanOrEqual(1);
  });
});
