// NTP and Cristian estimates checked against hand-worked exchanges, including asymmetric
// paths, plus the property that the stated error bound always holds.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { computeNtpSample, estimateCristianTime } from './sync-math.js';

describe('computeNtpSample', () => {
  it('recovers the offset exactly on a symmetric path', () => {
    // Server runs 100 ms ahead; 10 ms each way; the server holds the request 5 ms.
    // t1 = 1000 (client), t2 = 1010 + 100, t3 = t2 + 5, t4 = 1000 + 10 + 5 + 10.
    expect(computeNtpSample({ t1Ms: 1000, t2Ms: 1110, t3Ms: 1115, t4Ms: 1025 })).toEqual({ offsetMs: 100, delayMs: 20, errorBoundMs: 10 });
  });

  it('gives a negative offset for a client that runs ahead', () => {
    // Client runs 250 ms ahead; 5 ms each way; 1 ms at the server (true send time 5000).
    expect(computeNtpSample({ t1Ms: 5250, t2Ms: 5005, t3Ms: 5006, t4Ms: 5261 })).toEqual({ offsetMs: -250, delayMs: 10, errorBoundMs: 5 });
  });

  it('is off by half the asymmetry on an asymmetric path, within the bound', () => {
    // True offset +100; 30 ms out, 10 ms back: estimate (130 + 90) / 2 = 110, error 10 ≤ 40 / 2.
    const sample = computeNtpSample({ t1Ms: 1000, t2Ms: 1130, t3Ms: 1130, t4Ms: 1040 });
    expect(sample).toEqual({ offsetMs: 110, delayMs: 40, errorBoundMs: 20 });
    expect(Math.abs(sample.offsetMs - 100)).toBe((30 - 10) / 2);
  });

  it('rejects inconsistent or non-finite timestamps', () => {
    const invalid = { code: 'SYNC_INVALID_SAMPLE' };
    expect(() => computeNtpSample({ t1Ms: 0, t2Ms: 10, t3Ms: 9, t4Ms: 20 })).toThrow(expect.objectContaining(invalid));
    expect(() => computeNtpSample({ t1Ms: 0, t2Ms: 10, t3Ms: 20, t4Ms: 5 })).toThrow(expect.objectContaining(invalid));
    expect(() => computeNtpSample({ t1Ms: 0, t2Ms: Number.NaN, t3Ms: 1, t4Ms: 5 })).toThrow(expect.objectContaining(invalid));
  });

  it('always contains the true offset within ± delay / 2, off by exactly half the asymmetry', () => {
    const ms = (max: number) => fc.integer({ min: 0, max });
    fc.assert(
      fc.property(fc.integer({ min: -100_000, max: 100_000 }), ms(1e9), ms(500), ms(500), ms(50), (trueOffsetMs, t1Ms, outMs, backMs, holdMs) => {
        const t2Ms = t1Ms + outMs + trueOffsetMs;
        const t3Ms = t2Ms + holdMs;
        const t4Ms = t3Ms - trueOffsetMs + backMs;
        const sample = computeNtpSample({ t1Ms, t2Ms, t3Ms, t4Ms });
        expect(sample.delayMs).toBe(outMs + backMs);
        expect(Math.abs(sample.offsetMs - trueOffsetMs)).toBeCloseTo(Math.abs(outMs - backMs) / 2, 9);
        expect(Math.abs(sample.offsetMs - trueOffsetMs)).toBeLessThanOrEqual(sample.errorBoundMs);
      }),
    );
  });
});

describe('estimateCristianTime', () => {
  it('adds half the round trip to the server time', () => {
    expect(estimateCristianTime(10_000, 30)).toEqual({ estimateMs: 10_015, errorBoundMs: 15 });
  });

  it('stays within ± rtt / 2 when the path is asymmetric', () => {
    // Request took 5 ms, reply 25 ms: the server time on arrival is truly 10_000 + 25.
    const { estimateMs, errorBoundMs } = estimateCristianTime(10_000, 30);
    expect(Math.abs(estimateMs - 10_025)).toBe(10);
    expect(Math.abs(estimateMs - 10_025)).toBeLessThanOrEqual(errorBoundMs);
  });

  it('rejects a negative or non-finite round trip', () => {
    expect(() => estimateCristianTime(0, -1)).toThrow(expect.objectContaining({ code: 'SYNC_INVALID_SAMPLE' }));
    expect(() => estimateCristianTime(Number.POSITIVE_INFINITY, 1)).toThrow(expect.objectContaining({ code: 'SYNC_INVALID_SAMPLE' }));
  });
});
