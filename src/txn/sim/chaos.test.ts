import { describe, expect, it } from 'vitest';
import { runTwoPcChaos, twoPcSimProtocol } from './chaos.js';

/** Bounded here; `node --import tsx scripts/txn-chaos.ts` runs the long version. */
const SEEDS = 25;

describe('2PC under chaos', () => {
  it(`keeps atomicity, validity and the money total, and settles after healing, seeds 1..${SEEDS}`, () => {
    const failures: string[] = [];
    let committed = 0;
    for (let seed = 1; seed <= SEEDS; seed++) {
      const r = runTwoPcChaos({ seed });
      if (!r.ok) failures.push(`seed ${seed}: ${r.violations.map((v) => `${v.kind}: ${v.message}`).join('; ')}`);
      expect(r.money.final).toBe(r.money.expected);
      committed += r.commit.committed;
    }
    expect(failures).toEqual([]);
    expect(committed).toBeGreaterThan(SEEDS * 50);
  });

  it('replays a seed exactly', () => {
    expect(runTwoPcChaos({ seed: 4 }).traceSha256).toBe(runTwoPcChaos({ seed: 4 }).traceSha256);
    const run = (): string[] => {
      const built = twoPcSimProtocol.build({ seed: 3, nodes: 4, durationMs: 2000, trace: false });
      built.sim.runFor(2000);
      return built.summarize();
    };
    expect(run()).toEqual(run());
    expect(run()[1]).toMatch(/atomicity and validity hold/);
  });
});
