import { describe, expect, it } from 'vitest';
import { runQuorumChaos } from './sim/chaos.js';
import { quorumSimProtocol, QUORUM_SWIM_CONFIG } from './sim/chaos.js';

/** Bounded here; `synod chaos --protocol quorum --seeds 2000` runs the long version. */
const SEEDS = 30;

describe('quorum store chaos', () => {
  it(`keeps every acknowledged write and converges after healing, seeds 1..${SEEDS}`, () => {
    const failures: string[] = [];
    let acked = 0;
    for (let seed = 1; seed <= SEEDS; seed++) {
      const result = runQuorumChaos({ seed });
      acked += result.ops.ok;
      if (!result.ok) failures.push(`seed ${seed}: ${result.violations.map((v) => `${v.kind}: ${v.message}`).join('; ').slice(0, 400)}`);
    }
    expect(failures).toEqual([]);
    expect(acked).toBeGreaterThan(SEEDS * 100);
  });

  it('finds what a store without anti-entropy, hints or read repair leaves behind', () => {
    const broken = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((seed) => runQuorumChaos({ seed, settleMs: 3_000, config: { antiEntropyIntervalMs: 0, hintedHandoff: false, readRepair: false } }));
    expect(broken.filter((r) => !r.ok).length).toBeGreaterThan(0);
    expect(broken.flatMap((r) => r.violations.map((v) => v.kind))).toContain('convergence');
  });

  it('replays a seed exactly', () => {
    const a = runQuorumChaos({ seed: 7 });
    const b = runQuorumChaos({ seed: 7 });
    expect(a.traceSha256).toBeDefined();
    expect(b.traceSha256).toBe(a.traceSha256);
    const run = (): string[] => {
      const lines: string[] = [];
      const built = quorumSimProtocol.build({ seed: 3, nodes: 5, durationMs: 2000, trace: { sink: (l) => lines.push(l) } });
      built.sim.runFor(2000);
      return [...built.summarize(), String(lines.length)];
    };
    expect(run()).toEqual(run());
  });
});

describe('quorum store chaos with SWIM liveness', () => {
  it('keeps every acknowledged write and converges after healing, seeds 1..10', () => {
    const failures: string[] = [];
    for (let seed = 1; seed <= 10; seed++) {
      const result = runQuorumChaos({ seed, config: QUORUM_SWIM_CONFIG });
      if (!result.ok) failures.push(`seed ${seed}: ${result.violations.map((v) => `${v.kind}: ${v.message}`).join('; ').slice(0, 400)}`);
    }
    expect(failures).toEqual([]);
  });

  it('moves partitions when a node joins and another leaves, the ring epoch spread by gossip metadata, seeds 1..4', () => {
    const failures: string[] = [];
    for (let seed = 1; seed <= 4; seed++) {
      const result = runQuorumChaos({ seed, config: QUORUM_SWIM_CONFIG, ringChanges: true });
      if (!result.ok) failures.push(`seed ${seed}: ${result.violations.map((v) => `${v.kind}: ${v.message}`).join('; ').slice(0, 400)}`);
    }
    expect(failures).toEqual([]);
  });
});
