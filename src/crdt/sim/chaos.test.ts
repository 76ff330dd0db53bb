import { describe, expect, it } from 'vitest';
import { crdtCounterSimProtocol, runCounterChaos } from './chaos.js';

/** Bounded here; `synod chaos --protocol crdt-counter --seeds 2000` runs the long version. */
const SEEDS = 20;

describe('PN-counter by delta-interval anti-entropy, under chaos', () => {
  it(`converges and counts every acknowledged operation after healing, seeds 1..${SEEDS} (and with a 2-delta buffer, forcing full states)`, () => {
    const failures: string[] = [];
    for (let seed = 1; seed <= SEEDS; seed++) {
      for (const maxBufferedDeltas of [64, 2]) {
        const result = runCounterChaos({ seed, maxBufferedDeltas });
        if (!result.ok) failures.push(`seed ${seed} buffer ${maxBufferedDeltas}: ${result.violations.map((v) => `${v.kind}: ${v.message}`).join('; ')}`);
        expect(result.ops.ok).toBeGreaterThan(50);
      }
    }
    expect(failures).toEqual([]);
  });

  it('replays a seed exactly', () => {
    expect(runCounterChaos({ seed: 5 }).traceSha256).toBe(runCounterChaos({ seed: 5 }).traceSha256);
    const run = (): string[] => {
      const built = crdtCounterSimProtocol.build({ seed: 3, nodes: 4, durationMs: 2000, trace: false });
      built.sim.runFor(2000);
      return built.summarize();
    };
    expect(run()).toEqual(run());
    expect(run()[1]).toMatch(/converged/);
  });
});
