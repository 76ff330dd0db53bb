import { describe, expect, it } from 'vitest';
import { LAN_GOSSIP_CONFIG } from './config.js';
import { Awareness, AWARENESS_DELTA, Suspicion, suspicionBoundsMs, suspicionTimeoutMs } from './lifeguard.js';

describe('Lifeguard: local health multiplier', () => {
  it('ranges over 0..max − 1 and scales probe interval and timeout by score + 1', () => {
    const lhm = new Awareness(8);
    expect(lhm.score).toBe(0);
    expect(lhm.scale(1_000)).toBe(1_000);
    lhm.apply(AWARENESS_DELTA.successfulProbe);
    expect(lhm.score).toBe(0);
    lhm.apply(AWARENESS_DELTA.failedProbe);
    lhm.apply(AWARENESS_DELTA.missedNack);
    lhm.apply(AWARENESS_DELTA.refutedSuspicion);
    expect(lhm.score).toBe(3);
    expect(lhm.scale(500)).toBe(2_000);
    for (let i = 0; i < 20; i++) lhm.apply(AWARENESS_DELTA.failedProbe);
    expect(lhm.score).toBe(7);
    expect(lhm.scale(1_000)).toBe(8_000);
    for (let i = 0; i < 3; i++) lhm.apply(AWARENESS_DELTA.successfulProbe);
    expect(lhm.score).toBe(4);
  });

  it('stays at 0 with a max multiplier of 1 (Lifeguard off)', () => {
    const lhm = new Awareness(1);
    lhm.apply(5);
    expect(lhm.score).toBe(0);
  });
});

describe('Lifeguard: suspicion timeout', () => {
  it('has its shortest at suspicionMult × max(1, log10 N) probe intervals and its longest suspicionMaxTimeoutMult times that', () => {
    // LAN: 4 × 1 × 1 s below ten members, 4 × 2 × 1 s at a hundred
    expect(suspicionBoundsMs(LAN_GOSSIP_CONFIG, 3)).toEqual({ minMs: 4_000, maxMs: 24_000 });
    expect(suspicionBoundsMs(LAN_GOSSIP_CONFIG, 100)).toEqual({ minMs: 8_000, maxMs: 48_000 });
    expect(suspicionBoundsMs(LAN_GOSSIP_CONFIG, 1).minMs).toBe(4_000);
  });

  it('falls from max at 0 confirmations to min at K = indirectChecks, by log(C + 1) / log(K + 1)', () => {
    const k = LAN_GOSSIP_CONFIG.indirectChecks;
    const { minMs, maxMs } = suspicionBoundsMs(LAN_GOSSIP_CONFIG, 10);
    expect(suspicionTimeoutMs(minMs, maxMs, 0, k)).toBe(24_000);
    // 24 − 20 · log 2 / log 4 = 24 − 10 = 14 s
    expect(suspicionTimeoutMs(minMs, maxMs, 1, k)).toBeCloseTo(14_000, 6);
    expect(suspicionTimeoutMs(minMs, maxMs, 2, k)).toBeCloseTo(24_000 - 20_000 * (Math.log(3) / Math.log(4)), 6);
    expect(suspicionTimeoutMs(minMs, maxMs, k, k)).toBe(4_000);
    expect(suspicionTimeoutMs(minMs, maxMs, k + 5, k)).toBe(4_000);
    // no confirmation to expect: the shortest at once
    expect(suspicionTimeoutMs(minMs, maxMs, 0, 0)).toBe(4_000);
  });

  it('counts each other member once, never the suspecter, and no more than K', () => {
    const s = new Suspicion(3, 1_000, 'a', 4_000, 24_000, 2);
    expect(s.deadlineMs()).toBe(25_000);
    expect(s.confirm('a')).toBe(false);
    expect(s.confirm('b')).toBe(true);
    expect(s.confirm('b')).toBe(false);
    expect(s.deadlineMs()).toBeCloseTo(1_000 + 24_000 - 20_000 * (Math.log(2) / Math.log(3)), 6);
    expect(s.confirm('c')).toBe(true);
    expect(s.confirm('d')).toBe(false);
    expect(s.confirmations).toBe(2);
    expect(s.deadlineMs()).toBe(5_000);
  });
});
