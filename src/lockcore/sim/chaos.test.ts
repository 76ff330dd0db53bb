// Chaos over locks, bounded: the Synod lock with fenced storage gives no violation; without
// fencing, and with Redlock, seeds recorded in docs/locks.md fail and replay exactly.
import { describe, expect, it } from 'vitest';
import { LOCK_VARIANTS, lockChaosLayout, runLockChaos, type LockVariant } from './chaos.js';

const variant = (name: string): LockVariant => LOCK_VARIANTS.find((v) => v.name === name) as LockVariant;
/** Seeds per run of `npm test` (scripts/lock-chaos.ts runs 10,000 and more). */
const SEEDS = 150;

describe('lock chaos', () => {
  it(`the Synod lock with fenced storage: no violation over ${SEEDS} seeds, and writes refused along the way`, () => {
    let refused = 0;
    let ok = 0;
    for (let seed = 1; seed <= SEEDS; seed++) {
      const r = runLockChaos({ seed, variant: variant('lock') });
      expect(r.violations, `seed ${seed}`).toEqual([]);
      expect(r.ok).toBe(true);
      refused += r.lock.refusedWrites;
      ok += r.ops.ok;
    }
    // the nemesis does reach the window between a lease check and a write, and fencing turns it away
    expect(refused).toBeGreaterThan(0);
    expect(ok).toBeGreaterThan(SEEDS * 5);
  }, 120_000);

  it('without fencing a paused holder\'s write lands after its successor\'s (seed 5), and replays exactly', () => {
    const run = () => runLockChaos({ seed: 5, variant: variant('lock-unfenced') });
    const a = run();
    expect(a.ok).toBe(false);
    expect(a.violations.map((v) => v.kind)).toContain('resource-superseded-write-accepted');
    expect(run().traceSha256).toBe(a.traceSha256);
  });

  it('Redlock: a clock jump on one Redis node gives two holders by their own clocks (seed 115)', () => {
    const r = runLockChaos({ seed: 115, variant: variant('redlock'), nodes: 8 });
    expect(r.violations.map((v) => v.kind)).toContain('mutex-client');
  });

  it('lays out nodes by count, and refuses too few', () => {
    expect(lockChaosLayout('synod', 5)).toEqual({ kvNodes: 1, clients: 3 });
    expect(lockChaosLayout('synod', 7)).toEqual({ kvNodes: 3, clients: 3 });
    expect(lockChaosLayout('synod', 9)).toEqual({ kvNodes: 5, clients: 3 });
    expect(lockChaosLayout('redlock', 8)).toEqual({ redisNodes: 5, clients: 2 });
    expect(() => lockChaosLayout('redlock', 6)).toThrow(/at least 7 nodes/);
  });
});
