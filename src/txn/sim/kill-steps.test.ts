import { describe, expect, it } from 'vitest';
import { COORDINATOR } from './cluster.js';
import { countSteps, killAtEveryStep, killOnce } from './kill-steps.js';

/** Bounded here (one seed each); scripts/txn-chaos.ts runs many. */
describe.each(['2pc', '3pc', 'paxos-commit'] as const)('%s: kill at every step', (protocol) => {
  it('crashing the coordinator, each participant (and for Paxos Commit an acceptor) after every step of a transfer, every run settles and the checker passes', () => {
    const r = killAtEveryStep({ protocol, seed: 1 });
    expect(r.failures).toEqual([]);
    const targets = protocol === 'paxos-commit' ? 4 : 3;
    expect(r.runs).toBe(targets * r.steps);
    expect(r.steps).toBeGreaterThanOrEqual(protocol === '2pc' ? 15 : 25);
    // the crash point decides the outcome: early crashes abort, late ones commit
    expect(r.committed).toBeGreaterThan(0);
    expect(r.aborted).toBeGreaterThan(0);
  });
});

describe('kill at every step, the harness', () => {
  it('counts the same steps on every run of a seed, and a crash it did not survive would be reported', () => {
    expect(countSteps({ protocol: '2pc', seed: 3 })).toBe(countSteps({ protocol: '2pc', seed: 3 }));
    // the coordinator crashing before its first step's effect is durable still settles
    expect(killOnce({ protocol: '2pc', seed: 3 }, COORDINATOR, 1).failure).toBeUndefined();
    // a 2PC coordinator that never comes back blocks the prepared participants: the harness says so
    const steps = countSteps({ protocol: '2pc', seed: 3 });
    const stuck = Array.from({ length: steps }, (_, i) => killOnce({ protocol: '2pc', seed: 3, neverRestart: true, settleMs: 3_000 }, COORDINATOR, i + 1).failure);
    expect(stuck.some((f) => /did not settle: 2 in doubt, 2 locks held/.test(f ?? ''))).toBe(true);
    // while 3PC's participants finish without it at every step
    const threePcSteps = countSteps({ protocol: '3pc', seed: 3 });
    const threePc = Array.from({ length: threePcSteps }, (_, i) => killOnce({ protocol: '3pc', seed: 3, neverRestart: true, settleMs: 3_000 }, COORDINATOR, i + 1));
    expect(threePc.every((r) => r.outcome !== undefined && r.maxInDoubtMs < 3_000)).toBe(true);
  });
});
