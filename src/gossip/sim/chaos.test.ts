import { describe, expect, it } from 'vitest';
import { gossipSimProtocol, runGossipChaos } from './chaos.js';

/** Bounded here; `synod chaos --protocol swim --seeds 2000` runs the long version. */
const SEEDS = 12;

describe('SWIM with Lifeguard under chaos', () => {
  it(`settles after healing within the checker's bound, seeds 1..${SEEDS}`, () => {
    const failures: string[] = [];
    for (let seed = 1; seed <= SEEDS; seed++) {
      const result = runGossipChaos({ seed });
      if (!result.ok) failures.push(`seed ${seed}: ${result.violations.map((v) => `${v.kind}: ${v.message}`).join('; ')}`);
      expect(result.ops.ok).toBeGreaterThan(0);
    }
    expect(failures).toEqual([]);
  });

  it('replays a seed exactly', () => {
    expect(runGossipChaos({ seed: 5 }).traceSha256).toBe(runGossipChaos({ seed: 5 }).traceSha256);
    const run = (): string[] => {
      const built = gossipSimProtocol.build({ seed: 3, nodes: 6, durationMs: 12_000, trace: false });
      built.sim.runFor(12_000);
      return built.summarize();
    };
    const lines = run();
    expect(run()).toEqual(lines);
    expect(lines).toHaveLength(8);
    expect(lines[5]).toBe('6: down for good');
    expect(lines[7]).toMatch(/^views agree/);
  });
});
