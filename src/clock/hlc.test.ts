// Hybrid logical clock: the update rules case by case, the offset and overflow guards, the
// packed form, and properties over arbitrary interleavings and non-monotonic physical clocks.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ClockError, isClockError } from './errors.js';
import {
  HLC_MAX_LOGICAL,
  HLC_MAX_PHYSICAL_MS,
  HybridLogicalClock,
  compareHlcTimestamps,
  formatPackedHlc,
  packHlc,
  parsePackedHlc,
  unpackHlc,
  type HlcTimestamp,
} from './hlc.js';

/** An HLC over a physical clock the test sets by assigning `clock.physicalMs`. */
function createTestClock(maxOffsetMs: number, physicalMs = 0) {
  const physical = { physicalMs };
  const hlc = new HybridLogicalClock({ now: () => physical.physicalMs, maxOffsetMs });
  return { hlc, physical };
}

const ts = (physicalMs: number, logical: number): HlcTimestamp => ({ physicalMs, logical });

describe('HybridLogicalClock local events', () => {
  it('follows physical time while it advances, counting only within one millisecond', () => {
    const { hlc, physical } = createTestClock(100, 1000);
    expect(hlc.now()).toEqual(ts(1000, 0));
    expect(hlc.send()).toEqual(ts(1000, 1));
    physical.physicalMs = 1005.9;
    expect(hlc.now()).toEqual(ts(1005, 0));
  });

  it('keeps l and counts up when physical time goes backwards', () => {
    const { hlc, physical } = createTestClock(100, 1000);
    hlc.now();
    physical.physicalMs = 400;
    expect(hlc.now()).toEqual(ts(1000, 1));
    expect(hlc.now()).toEqual(ts(1000, 2));
  });

  it('treats negative readings as 0 and rejects non-finite or over-48-bit ones', () => {
    const { hlc, physical } = createTestClock(100, -50);
    expect(hlc.now()).toEqual(ts(0, 1));
    physical.physicalMs = Number.NaN;
    expect(() => hlc.now()).toThrow(expect.objectContaining({ code: 'HLC_PHYSICAL_OUT_OF_RANGE' }));
    physical.physicalMs = 2 ** 48;
    expect(() => hlc.now()).toThrow(expect.objectContaining({ code: 'HLC_PHYSICAL_OUT_OF_RANGE' }));
    expect(hlc.current).toEqual(ts(0, 1));
  });

  it('throws on logical overflow instead of wrapping, and recovers once physical time moves', () => {
    const { hlc, physical } = createTestClock(100, 7);
    for (let i = 0; i <= HLC_MAX_LOGICAL; i++) hlc.now();
    expect(hlc.current).toEqual(ts(7, HLC_MAX_LOGICAL));
    expect(() => hlc.now()).toThrow(expect.objectContaining({ code: 'HLC_LOGICAL_OVERFLOW' }));
    expect(hlc.current).toEqual(ts(7, HLC_MAX_LOGICAL));
    physical.physicalMs = 8;
    expect(hlc.now()).toEqual(ts(8, 0));
  });

  it('can resume from a persisted timestamp', () => {
    const hlc = new HybridLogicalClock({ now: () => 10, maxOffsetMs: 0, initial: ts(50, 3) });
    expect(hlc.now()).toEqual(ts(50, 4));
    expect(() => new HybridLogicalClock({ now: () => 0, maxOffsetMs: 0, initial: ts(1, 70000) })).toThrow(ClockError);
    expect(() => new HybridLogicalClock({ now: () => 0, maxOffsetMs: -1 })).toThrow(expect.objectContaining({ code: 'CLOCK_INVALID_OPTION' }));
  });
});

describe('HybridLogicalClock receive', () => {
  it('applies each branch of the merge rule', () => {
    const { hlc, physical } = createTestClock(100, 1000);
    hlc.now(); // (1000, 0)
    expect(hlc.receive(ts(1050, 4))).toEqual(ts(1050, 5)); // remote l wins
    expect(hlc.receive(ts(1050, 9))).toEqual(ts(1050, 10)); // tie: max(c) + 1
    expect(hlc.receive(ts(1020, 30))).toEqual(ts(1050, 11)); // local l wins
    physical.physicalMs = 1200;
    expect(hlc.receive(ts(1100, 2))).toEqual(ts(1200, 0)); // physical time wins
  });

  it('accepts a remote exactly maxOffsetMs ahead and rejects one beyond, leaving state unchanged', () => {
    const { hlc } = createTestClock(100, 1000);
    hlc.now();
    expect(() => hlc.receive(ts(1101, 0))).toThrow(expect.objectContaining({ code: 'HLC_OFFSET_EXCEEDED' }));
    expect(hlc.current).toEqual(ts(1000, 0));
    expect(hlc.receive(ts(1100, 0))).toEqual(ts(1100, 1));
  });

  it('rejects a remote whose counter is already exhausted at the winning l', () => {
    const { hlc } = createTestClock(100, 1000);
    expect(() => hlc.receive(ts(1000, HLC_MAX_LOGICAL))).toThrow(expect.objectContaining({ code: 'HLC_LOGICAL_OVERFLOW' }));
    expect(hlc.current).toEqual(ts(0, 0));
  });

  it('rejects malformed remote timestamps', () => {
    const { hlc } = createTestClock(100, 1000);
    for (const bad of [ts(-1, 0), ts(1, -1), ts(1.5, 0), ts(1, HLC_MAX_LOGICAL + 1), ts(HLC_MAX_PHYSICAL_MS + 1, 0)]) {
      expect(() => hlc.receive(bad)).toThrow(expect.objectContaining({ code: 'HLC_INVALID_TIMESTAMP' }));
    }
  });
});

const anyTimestamp = fc.record({ physicalMs: fc.integer({ min: 0, max: HLC_MAX_PHYSICAL_MS }), logical: fc.integer({ min: 0, max: HLC_MAX_LOGICAL }) });

describe('packed HLC', () => {
  it('packs l into the high 48 bits and c into the low 16', () => {
    expect(packHlc(ts(1, 2))).toBe(0x10002n);
    expect(packHlc(ts(HLC_MAX_PHYSICAL_MS, HLC_MAX_LOGICAL))).toBe(2n ** 64n - 1n);
    expect(unpackHlc(0x10002n)).toEqual(ts(1, 2));
    expect(parsePackedHlc(formatPackedHlc(ts(1_700_000_000_000, 42)))).toEqual(ts(1_700_000_000_000, 42));
  });

  it('rejects values outside 64 bits and malformed strings', () => {
    expect(() => unpackHlc(-1n)).toThrow(expect.objectContaining({ code: 'HLC_INVALID_TIMESTAMP' }));
    expect(() => unpackHlc(2n ** 64n)).toThrow(expect.objectContaining({ code: 'HLC_INVALID_TIMESTAMP' }));
    for (const bad of ['', '-1', '1e3', '0x10', ' 1']) {
      expect(() => parsePackedHlc(bad)).toThrow(expect.objectContaining({ code: 'HLC_INVALID_TIMESTAMP' }));
    }
  });

  it('round-trips and orders exactly like (l, c)', () => {
    fc.assert(
      fc.property(anyTimestamp, anyTimestamp, (a, b) => {
        expect(unpackHlc(packHlc(a))).toEqual(a);
        const packedOrder = packHlc(a) < packHlc(b) ? -1 : packHlc(a) > packHlc(b) ? 1 : 0;
        expect(packedOrder).toBe(compareHlcTimestamps(a, b));
      }),
    );
  });
});

type Op =
  | { readonly kind: 'now' | 'send'; readonly physicalMs: number }
  | { readonly kind: 'receive'; readonly physicalMs: number; readonly remote: HlcTimestamp };

const PHYSICAL_RANGE_MS = 10_000;

/** Remotes cluster around the physical range and include exhausted counters, to hit every guard. */
const remoteTimestamp = fc.record({
  physicalMs: fc.integer({ min: 0, max: PHYSICAL_RANGE_MS + 3000 }),
  logical: fc.oneof(fc.nat({ max: 3 }), fc.constant(HLC_MAX_LOGICAL), fc.nat({ max: HLC_MAX_LOGICAL })),
});
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constantFrom('now' as const, 'send' as const), physicalMs: fc.integer({ min: -100, max: PHYSICAL_RANGE_MS }) }),
  fc.record({ kind: fc.constant('receive' as const), physicalMs: fc.integer({ min: -100, max: PHYSICAL_RANGE_MS }), remote: remoteTimestamp }),
);

/**
 * Replays ops on one clock and checks after each: issued timestamps strictly increase, a receive
 * is after its remote, a refusal leaves state unchanged and is justified, and l never runs more
 * than maxOffsetMs ahead of the largest physical reading so far.
 */
function checkClockRun(ops: readonly Op[], maxOffsetMs: number, onStep?: (l: number, physicalMs: number) => void): void {
  const { hlc, physical } = createTestClock(maxOffsetMs);
  let maxPhysicalMs = 0;
  for (const step of ops) {
    physical.physicalMs = step.physicalMs;
    const pt = Math.max(0, step.physicalMs);
    maxPhysicalMs = Math.max(maxPhysicalMs, pt);
    const before = hlc.current;
    try {
      const issued = step.kind === 'receive' ? hlc.receive(step.remote) : hlc.now();
      expect(compareHlcTimestamps(issued, before)).toBe(1);
      expect(hlc.current).toEqual(issued);
      if (step.kind === 'receive') expect(compareHlcTimestamps(issued, step.remote)).toBe(1);
    } catch (error) {
      if (!isClockError(error)) throw error;
      expect(hlc.current).toEqual(before);
      if (error.code === 'HLC_OFFSET_EXCEEDED' && step.kind === 'receive') expect(step.remote.physicalMs - pt).toBeGreaterThan(maxOffsetMs);
      else expect(error.code).toBe('HLC_LOGICAL_OVERFLOW');
    }
    expect(hlc.current.physicalMs - maxPhysicalMs).toBeLessThanOrEqual(maxOffsetMs);
    onStep?.(hlc.current.physicalMs, pt);
  }
}

describe('HLC properties', () => {
  it('is strictly monotonic, after every accepted remote, and bounded, under non-monotonic physical time', () => {
    fc.assert(fc.property(fc.array(op, { maxLength: 60 }), fc.integer({ min: 0, max: 2000 }), (ops, maxOffsetMs) => checkClockRun(ops, maxOffsetMs)));
  });

  it('keeps l − physical ≤ maxOffsetMs when physical time is monotonic', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), fc.integer({ min: 0, max: 2000 }), (ops, maxOffsetMs) => {
        const readings = ops.map((step) => step.physicalMs).sort((x, y) => x - y);
        const monotonicOps = ops.map((step, i) => ({ ...step, physicalMs: readings[i] ?? 0 }));
        checkClockRun(monotonicOps, maxOffsetMs, (l, pt) => expect(l - pt).toBeLessThanOrEqual(maxOffsetMs));
      }),
    );
  });

  // True time only moves forward here, so l never outruns any reading by more than the 600 ms
  // skew spread and no receive is refused; refusals are covered by the single-clock runs above.
  it('orders every receive after its send across nodes with skewed clocks', () => {
    const nodeCount = 3;
    const step = fc.record({
      node: fc.nat({ max: nodeCount - 1 }),
      action: fc.constantFrom('local' as const, 'send' as const, 'deliver' as const),
      pick: fc.nat(),
      advanceMs: fc.nat({ max: 20 }),
    });
    const skewMs = fc.array(fc.integer({ min: -300, max: 300 }), { minLength: nodeCount, maxLength: nodeCount });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 80 }), skewMs, (steps, skews) => {
        const trueTime = { ms: 1000 };
        const clocks = skews.map((skew) => new HybridLogicalClock({ now: () => trueTime.ms + skew, maxOffsetMs: 1000 }));
        const inFlight: { to: number; stamp: HlcTimestamp }[] = [];
        for (const { node, action, pick, advanceMs } of steps) {
          trueTime.ms += advanceMs;
          const clock = clocks[node]!;
          const before = clock.current;
          if (action === 'deliver' && inFlight.length > 0) {
            const [message] = inFlight.splice(pick % inFlight.length, 1);
            const target = clocks[message!.to]!;
            const targetBefore = target.current;
            const received = target.receive(message!.stamp);
            expect(compareHlcTimestamps(received, message!.stamp)).toBe(1);
            expect(compareHlcTimestamps(received, targetBefore)).toBe(1);
          } else if (action === 'send') {
            inFlight.push({ to: pick % nodeCount, stamp: clock.send() });
            expect(compareHlcTimestamps(clock.current, before)).toBe(1);
          } else {
            expect(compareHlcTimestamps(clock.now(), before)).toBe(1);
          }
        }
      }),
    );
  });
});
