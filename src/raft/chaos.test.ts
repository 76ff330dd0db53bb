// A bounded chaos sweep: a few hundred seeds of short runs across cluster sizes and options,
// every one of which must end without a monitor violation and with a linearizable history.
// `synod chaos` runs the same function over as many seeds as one likes.
import { describe, expect, it } from 'vitest';
import { runChaos, type ChaosOptions, type ChaosResult } from './chaos.js';

interface Sweep {
  readonly name: string;
  readonly firstSeed: number;
  readonly seeds: number;
  readonly options: Omit<ChaosOptions, 'seed'>;
}

const SWEEPS: readonly Sweep[] = [
  { name: '5 nodes, defaults', firstSeed: 1, seeds: 160, options: { nodes: 5, durationMs: 3000 } },
  { name: '3 nodes', firstSeed: 1001, seeds: 120, options: { nodes: 3, durationMs: 3000 } },
  { name: '7 nodes', firstSeed: 2001, seeds: 30, options: { nodes: 7, durationMs: 3000 } },
  { name: 'no pre-vote, no check-quorum', firstSeed: 3001, seeds: 60, options: { nodes: 5, durationMs: 3000, raft: { preVote: false, checkQuorum: false } } },
  // Lease reads are only as safe as the clocks; this sweep keeps clocks honest.
  { name: 'lease reads, no clock faults', firstSeed: 4001, seeds: 60, options: { nodes: 5, durationMs: 3000, raft: { readMode: 'lease' }, nemesis: { mix: { partition: 3, crash: 2, pause: 2, clock: 0, loss: 1, duplicate: 1, reorder: 1, slow: 1 } } } },
  { name: 'slow disks', firstSeed: 5001, seeds: 40, options: { nodes: 3, durationMs: 3000, fsyncMs: 6 } },
];

function describeFailures(results: readonly ChaosResult[]): string {
  return results
    .filter((r) => !r.ok)
    .slice(0, 5)
    .map((r) => `seed ${r.seed}: ${r.violations.slice(0, 2).map((v) => `${v.kind}: ${v.message}`).join(' | ')}`)
    .join('\n');
}

describe('chaos', () => {
  for (const sweep of SWEEPS) {
    it(`${sweep.name}: ${sweep.seeds} seeds from ${sweep.firstSeed}`, () => {
      const results: ChaosResult[] = [];
      for (let seed = sweep.firstSeed; seed < sweep.firstSeed + sweep.seeds; seed++) results.push(runChaos({ ...sweep.options, seed }));
      expect(results.filter((r) => !r.ok).map((r) => r.seed), describeFailures(results)).toEqual([]);
      // the faults must really bite: leaders change and some operations end without an answer
      expect(results.reduce((n, r) => n + r.elections, 0)).toBeGreaterThan(sweep.seeds * 2);
      expect(results.every((r) => r.linearizability === 'linearizable')).toBe(true);
    });
  }

  it('a seed replays exactly', () => {
    const a = runChaos({ seed: 77, nodes: 5, durationMs: 2000, trace: { keepLines: false } });
    const b = runChaos({ seed: 77, nodes: 5, durationMs: 2000, trace: { keepLines: false } });
    expect(a.traceSha256).toBeDefined();
    expect(b.traceSha256).toBe(a.traceSha256);
    expect(b.ops).toEqual(a.ops);
  });
});
