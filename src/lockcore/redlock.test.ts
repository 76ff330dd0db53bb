import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  attemptDecided,
  clockDriftMs,
  instanceTimeoutMs,
  judgeAttempt,
  quorumSize,
  retryDelayMs,
  tallyOutcomes,
  validityMs,
  type InstanceOutcome,
} from './redlock.js';

const outcome = fc.constantFrom<InstanceOutcome>('granted', 'refused', 'failed');
const outcomes = fc.array(outcome, { minLength: 1, maxLength: 15 });

describe('quorumSize', () => {
  it('is floor(N/2)+1: 3 of 5, 2 of 3, 3 of 4, 1 of 1', () => {
    expect([1, 2, 3, 4, 5, 7].map(quorumSize)).toEqual([1, 2, 2, 3, 3, 4]);
  });

  it('any two majorities intersect, and one fewer is not a majority', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1000 }), (n) => {
        const q = quorumSize(n);
        expect(q).toBeLessThanOrEqual(n);
        expect(2 * q).toBeGreaterThan(n); // two sets of q instances out of n share one
        expect(2 * (q - 1)).toBeLessThanOrEqual(n); // two disjoint sets of q-1 fit: q-1 decides nothing
      }),
    );
  });

  it('refuses an empty or fractional fleet', () => {
    for (const bad of [0, -1, 2.5, Number.NaN]) expect(() => quorumSize(bad)).toThrow(RangeError);
  });
});

describe('attemptDecided', () => {
  it('deciding at the first moment it holds, with the rest counted as failed, gives the verdict all the answers give', () => {
    const timing = { ttlMs: 10_000, startedAtMs: 0, finishedAtMs: 5, driftMs: 102 };
    fc.assert(
      fc.property(outcomes, fc.integer({ min: 0, max: 2 ** 31 - 1 }), (all, seed) => {
        // the answers arrive in some order; before each, the rest are still unanswered
        const order = all.map((_, i) => i).sort((a, b) => ((a * 7919 + seed) % 101) - ((b * 7919 + seed) % 101) || a - b);
        const seen: InstanceOutcome[] = all.map(() => 'failed');
        for (const i of order) {
          seen[i] = all[i] as InstanceOutcome;
          if (attemptDecided(tallyOutcomes(seen))) {
            expect(judgeAttempt(seen, timing).kind).toBe(judgeAttempt(all, timing).kind);
            return;
          }
        }
        // never decided early: every answer was waited for
        expect(seen).toEqual(all);
      }),
    );
  });

  it('holds at a majority of grants or of refusals, not before', () => {
    const t = (granted: number, refused: number, total: number) => tallyOutcomes([...Array<InstanceOutcome>(granted).fill('granted'), ...Array<InstanceOutcome>(refused).fill('refused'), ...Array<InstanceOutcome>(total - granted - refused).fill('failed')]);
    expect(attemptDecided(t(3, 0, 5))).toBe(true);
    expect(attemptDecided(t(0, 3, 5))).toBe(true);
    expect(attemptDecided(t(2, 2, 5))).toBe(false);
    expect(attemptDecided(t(1, 2, 4))).toBe(false); // no majority is left, but it waits: a refusal of 2 of 4 is not a majority
  });
});

describe('validity', () => {
  it('subtracts the elapsed time and the drift (TTL*1% + 2 ms) from the TTL', () => {
    expect(clockDriftMs(10_000)).toBe(102);
    expect(clockDriftMs(1000)).toBe(12);
    expect(clockDriftMs(150)).toBe(4); // 1.5 rounds up: the allowance errs on the safe side
    expect(validityMs(10_000, 1234, clockDriftMs(10_000))).toBe(10_000 - 1234 - 102);
    // the same through judgeAttempt, with a clock that is just numbers
    const verdict = judgeAttempt(['granted', 'granted', 'granted', 'failed', 'refused'], { ttlMs: 10_000, startedAtMs: 50_000, finishedAtMs: 51_234 });
    expect(verdict).toMatchObject({ kind: 'granted', validityMs: 8664, leaseExpiresAtMs: 50_000 + 10_000 - 102 });
  });

  it('validity + elapsed + drift = TTL, and the lease ends at finish + validity, never after start + TTL', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 600_000 }), fc.integer({ min: 0, max: 1_000_000 }), fc.integer({ min: 0, max: 1e12 }), (ttl, elapsed, start) => {
        const drift = clockDriftMs(ttl);
        expect(validityMs(ttl, elapsed, drift) + elapsed + drift).toBe(ttl);
        const verdict = judgeAttempt(['granted'], { ttlMs: ttl, startedAtMs: start, finishedAtMs: start + elapsed });
        if (verdict.kind === 'granted') {
          expect(verdict.leaseExpiresAtMs).toBe(start + elapsed + verdict.validityMs);
          expect(verdict.leaseExpiresAtMs).toBeLessThan(start + ttl);
        } else {
          expect(verdict.kind).toBe('expired');
          expect(elapsed + drift).toBeGreaterThanOrEqual(ttl);
        }
      }),
    );
  });

  it('taking longer never turns an expired attempt into a granted one', () => {
    fc.assert(
      fc.property(outcomes, fc.integer({ min: 1, max: 100_000 }), fc.integer({ min: 0, max: 200_000 }), fc.integer({ min: 0, max: 200_000 }), (os, ttl, a, b) => {
        const [short, long] = a <= b ? [a, b] : [b, a];
        const fast = judgeAttempt(os, { ttlMs: ttl, startedAtMs: 0, finishedAtMs: short });
        const slow = judgeAttempt(os, { ttlMs: ttl, startedAtMs: 0, finishedAtMs: long });
        if (slow.kind === 'granted') expect(fast.kind).toBe('granted');
        if (fast.kind !== 'granted' && fast.kind !== 'expired') expect(slow.kind).toBe(fast.kind);
      }),
    );
  });
});

describe('judgeAttempt', () => {
  it('grants exactly when a majority granted with validity left; otherwise says why', () => {
    fc.assert(
      fc.property(outcomes, fc.integer({ min: 1, max: 100_000 }), fc.integer({ min: 0, max: 100_000 }), (os, ttl, elapsed) => {
        const tally = tallyOutcomes(os);
        const q = quorumSize(os.length);
        const verdict = judgeAttempt(os, { ttlMs: ttl, startedAtMs: 0, finishedAtMs: elapsed });
        expect(tally.granted + tally.refused + tally.failed).toBe(os.length);
        const valid = validityMs(ttl, elapsed, clockDriftMs(ttl)) > 0;
        if (tally.granted >= q) expect(verdict.kind).toBe(valid ? 'granted' : 'expired');
        else if (tally.reachable === 0) expect(verdict.kind).toBe('unreachable');
        else if (tally.reachable < q) expect(verdict.kind).toBe('no-quorum');
        else expect(verdict.kind).toBe('contended');
      }),
    );
  });

  it('one of five down still grants; three down cannot reach a majority', () => {
    const timing = { ttlMs: 1000, startedAtMs: 0, finishedAtMs: 5 };
    expect(judgeAttempt(['granted', 'granted', 'granted', 'granted', 'failed'], timing).kind).toBe('granted');
    expect(judgeAttempt(['granted', 'granted', 'failed', 'failed', 'failed'], timing).kind).toBe('no-quorum');
    expect(judgeAttempt(['granted', 'refused', 'refused', 'failed', 'granted'], timing).kind).toBe('contended');
    expect(judgeAttempt(['failed', 'failed', 'failed', 'failed', 'failed'], timing).kind).toBe('unreachable');
  });
});

describe('retryDelayMs and instanceTimeoutMs', () => {
  it('the retry delay is base plus a jitter below jitterMs, chosen by the random number passed in', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 0, max: 10_000 }), (r, base, jitter) => {
        const d = retryDelayMs(r, base, jitter);
        expect(Number.isSafeInteger(d)).toBe(true);
        expect(d).toBeGreaterThanOrEqual(base);
        expect(d).toBeLessThanOrEqual(base + Math.max(0, jitter - 1));
      }),
    );
    expect(retryDelayMs(0, 50, 100)).toBe(50);
    expect(retryDelayMs(0.5, 50, 100)).toBe(100);
  });

  it('the per-instance timeout is a small share of the TTL within its bounds', () => {
    expect(instanceTimeoutMs(10_000)).toBe(500);
    expect(instanceTimeoutMs(100)).toBe(50);
    expect(instanceTimeoutMs(600_000)).toBe(1000);
  });
});
