// TrueTime-style intervals: widths growing with drift since sync, after/before at their
// exact edges, and commit-wait durations that are both sufficient and minimal.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TrueTimeClock } from './truetime.js';

function createTestClock(baseErrorMs: number, driftPpm: number, localMs = 1000) {
  const local = { ms: localMs };
  const clock = new TrueTimeClock({ now: () => local.ms, baseErrorMs, driftPpm });
  return { clock, local };
}

describe('TrueTimeClock', () => {
  it('widens the interval by driftPpm per elapsed ms since sync', () => {
    const { clock, local } = createTestClock(5, 200);
    expect(clock.now()).toEqual({ earliestMs: 995, latestMs: 1005 });
    local.ms = 11_000; // 10 s later: 5 + 200e-6 * 10_000 = 7 ms
    expect(clock.now()).toEqual({ earliestMs: 10_993, latestMs: 11_007 });
    clock.recordSync(11_000, 1);
    expect(clock.now()).toEqual({ earliestMs: 10_999, latestMs: 11_001 });
  });

  it('says after/before only when certain', () => {
    const { clock } = createTestClock(5, 0);
    expect(clock.after(994)).toBe(true);
    expect(clock.after(995)).toBe(false);
    expect(clock.before(1006)).toBe(true);
    expect(clock.before(1005)).toBe(false);
  });

  it('computes commit wait, accounting for the error growing while waiting', () => {
    const { clock, local } = createTestClock(5, 0);
    expect(clock.commitWaitMs(990)).toBe(0);
    expect(clock.commitWaitMs(1000)).toBe(6); // earliest 995 must pass 1000
    local.ms += 6;
    expect(clock.after(1000)).toBe(true);

    // 10% drift: the lower edge advances 0.9 ms per ms, so reaching 9 takes 10 ms and passing it 11.
    const drifting = createTestClock(0, 100_000, 0);
    expect(drifting.clock.commitWaitMs(9)).toBe(11);
  });

  it('rejects impossible drift and a clock that reads before its last sync', () => {
    expect(() => createTestClock(1, 1e6)).toThrow(expect.objectContaining({ code: 'CLOCK_INVALID_OPTION' }));
    expect(() => createTestClock(-1, 0)).toThrow(expect.objectContaining({ code: 'CLOCK_INVALID_OPTION' }));
    const { clock, local } = createTestClock(1, 10);
    local.ms = 999;
    expect(() => clock.now()).toThrow(expect.objectContaining({ code: 'TRUETIME_CLOCK_REGRESSED' }));
  });

  it('returns the least whole wait after which the timestamp has certainly passed', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 50 }),
        fc.integer({ min: 0, max: 500_000 }),
        fc.integer({ min: 0, max: 1e7 }),
        fc.integer({ min: -1000, max: 5000 }),
        (baseErrorMs, driftPpm, sinceSyncMs, targetFromNowMs) => {
          const { clock, local } = createTestClock(baseErrorMs, driftPpm, 1e6);
          local.ms += sinceSyncMs;
          const targetMs = local.ms + targetFromNowMs;
          const waitMs = clock.commitWaitMs(targetMs);
          expect(Number.isInteger(waitMs) && waitMs >= 0).toBe(true);
          const startMs = local.ms;
          local.ms = startMs + waitMs;
          expect(clock.after(targetMs)).toBe(true);
          local.ms = startMs + waitMs - 1;
          if (waitMs > 0) expect(clock.after(targetMs)).toBe(false);
        },
      ),
    );
  });
});
