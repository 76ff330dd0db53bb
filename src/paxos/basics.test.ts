// Ballots order by round then node; quorum sizes are checked (Flexible Paxos: |Q1| + |Q2| > N,
// with a typed error otherwise); options out of range are refused with typed errors.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ballotText, compareBallots, isBallot, nextBallot, ZERO_BALLOT } from './ballot.js';
import { isPaxosError, PaxosError } from './errors.js';
import { resolvePaxosOptions } from './multi/spec.js';
import { majority, resolveQuorums } from './quorums.js';
import { resolveSynodOptions } from './single/spec.js';
import { PaxosCluster } from './sim/cluster.js';

describe('ballots', () => {
  it('order by round, then by node, so two proposers never share one', () => {
    expect(compareBallots({ round: 2, node: '1' }, { round: 1, node: '9' })).toBeGreaterThan(0);
    expect(compareBallots({ round: 1, node: '1' }, { round: 1, node: '2' })).toBeLessThan(0);
    expect(compareBallots({ round: 3, node: '2' }, { round: 3, node: '2' })).toBe(0);
    expect(compareBallots(ZERO_BALLOT, { round: 1, node: 'a' })).toBeLessThan(0);
    expect(ballotText({ round: 4, node: '3' })).toBe('4.3');
    expect(nextBallot('5', 7)).toEqual({ round: 8, node: '5' });
  });

  it('compare as a total order (property)', () => {
    const ballot = fc.record({ round: fc.nat(5), node: fc.constantFrom('1', '2', '3') });
    fc.assert(
      fc.property(ballot, ballot, ballot, (a, b, c) => {
        expect(Math.sign(compareBallots(a, b)) + Math.sign(compareBallots(b, a))).toBe(0);
        if (compareBallots(a, b) <= 0 && compareBallots(b, c) <= 0) expect(compareBallots(a, c)).toBeLessThanOrEqual(0);
        expect(compareBallots(a, b) === 0).toBe(a.round === b.round && a.node === b.node);
      }),
    );
  });

  it('checks ballots from outside', () => {
    expect(isBallot({ round: 1, node: '2' })).toBe(true);
    expect(isBallot(ZERO_BALLOT)).toBe(true);
    for (const bad of [null, 3, { round: -1, node: '1' }, { round: 1.5, node: '1' }, { round: 1, node: '' }, { round: 0, node: 'x' }, { round: 1, node: 'x'.repeat(200) }, { round: 2 ** 60, node: '1' }]) expect(isBallot(bad)).toBe(false);
  });
});

describe('quorums', () => {
  it('default to majorities', () => {
    expect(resolveQuorums(5)).toEqual({ phase1: 3, phase2: 3 });
    expect(resolveQuorums(4)).toEqual({ phase1: 3, phase2: 3 });
    expect(resolveQuorums(1)).toEqual({ phase1: 1, phase2: 1 });
    expect(majority(7)).toBe(4);
  });

  it('accept any phase-1 and phase-2 sizes that intersect (Flexible Paxos)', () => {
    expect(resolveQuorums(5, { phase1: 4, phase2: 2 })).toEqual({ phase1: 4, phase2: 2 });
    expect(resolveQuorums(5, { phase1: 5, phase2: 1 })).toEqual({ phase1: 5, phase2: 1 });
    expect(resolveQuorums(6, { phase2: 4 })).toEqual({ phase1: 4, phase2: 4 });
  });

  it('refuse sizes that need not intersect, or lie outside 1..N, with BAD_QUORUM', () => {
    for (const [n, q] of [
      [5, { phase1: 3, phase2: 2 }],
      [5, { phase1: 2, phase2: 2 }],
      [4, { phase1: 2, phase2: 2 }],
      [5, { phase1: 6, phase2: 3 }],
      [5, { phase1: 0, phase2: 5 }],
      [3, { phase1: 2.5, phase2: 2 }],
    ] as const) {
      let err: unknown;
      try {
        resolveQuorums(n, q);
      } catch (e) {
        err = e;
      }
      expect(isPaxosError(err) && err.code === 'BAD_QUORUM', JSON.stringify([n, q])).toBe(true);
    }
    expect(() => resolveQuorums(0)).toThrow(PaxosError);
  });

  it('the intersection rule holds exactly (property): sizes are accepted if and only if |Q1| + |Q2| > N', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 9 }), (n, q1, q2) => {
        const valid = q1 <= n && q2 <= n && q1 + q2 > n;
        let accepted = true;
        try {
          resolveQuorums(n, { phase1: q1, phase2: q2 });
        } catch (e) {
          accepted = false;
          expect(isPaxosError(e) && e.code === 'BAD_QUORUM').toBe(true);
        }
        expect(accepted).toBe(valid);
      }),
    );
  });

  it('a cluster with quorums that do not intersect is refused before it runs', () => {
    expect(() => new PaxosCluster({ seed: 1, nodes: 5, paxos: { quorums: { phase1: 2, phase2: 3 } } })).toThrow(/must intersect/);
  });
});

describe('options', () => {
  it('refuse out-of-range and contradictory options with BAD_OPTION', () => {
    for (const bad of [{ tickMs: 0 }, { heartbeatTicks: 0 }, { electionTimeoutMinTicks: 5, electionTimeoutMaxTicks: 4 }, { electionTimeoutMinTicks: 1, heartbeatTicks: 1 }, { snapshotThresholdSlots: -1 }, { backoff: 'sometimes' as never }]) {
      expect(() => resolvePaxosOptions(bad), JSON.stringify(bad)).toThrow(PaxosError);
    }
    for (const bad of [{ tickMs: -1 }, { phaseTimeoutTicks: 0 }, { backoff: 'x' as never }, { askTicks: 1.5 }]) expect(() => resolveSynodOptions(bad), JSON.stringify(bad)).toThrow(PaxosError);
    expect(resolvePaxosOptions({ tickMs: undefined }).tickMs).toBe(15);
  });
});
