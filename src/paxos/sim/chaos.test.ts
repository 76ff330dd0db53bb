// A bounded chaos sweep of the Multi-Paxos KV: a few hundred seeds of short runs across cluster
// sizes and options (Flexible Paxos quorums, slow disks), every one of which must end without a
// monitor violation and with a linearizable history; the registered protocols run the same; a
// seed replays exactly; and the deliberately broken variants are caught by the same runs.
// `node --import tsx scripts/paxos-chaos.ts` runs thousands of seeds.
import { describe, expect, it } from 'vitest';
import type { ChaosResult } from '../../sim/chaos.js';
import { simProtocol } from '../../primitives/index.js';
import { forgetfulAcceptors, neverAdopt, unwrapBroken } from './broken.js';
import { runPaxosChaos, type PaxosChaosOptions } from './chaos.js';

interface Sweep {
  readonly name: string;
  readonly firstSeed: number;
  readonly seeds: number;
  readonly options: Omit<PaxosChaosOptions, 'seed'>;
}

const SWEEPS: readonly Sweep[] = [
  { name: '5 nodes, defaults', firstSeed: 1, seeds: 120, options: { nodes: 5, durationMs: 3000 } },
  { name: '3 nodes', firstSeed: 1001, seeds: 80, options: { nodes: 3, durationMs: 3000 } },
  { name: 'Flexible Paxos, |Q1| 4 and |Q2| 2 of 5', firstSeed: 2001, seeds: 50, options: { nodes: 5, durationMs: 3000, paxos: { quorums: { phase1: 4, phase2: 2 } } } },
  { name: '7 nodes', firstSeed: 3001, seeds: 15, options: { nodes: 7, durationMs: 3000 } },
  { name: 'slow disks', firstSeed: 4001, seeds: 30, options: { nodes: 3, durationMs: 3000, fsyncMs: 6 } },
];

function describeFailures(results: readonly ChaosResult[]): string {
  return results
    .filter((r) => !r.ok)
    .slice(0, 5)
    .map((r) => `seed ${r.seed}: ${r.violations.slice(0, 2).map((v) => `${v.kind}: ${v.message}`).join(' | ')}`)
    .join('\n');
}

describe('Multi-Paxos chaos', () => {
  for (const sweep of SWEEPS) {
    it(`${sweep.name}: ${sweep.seeds} seeds from ${sweep.firstSeed}`, () => {
      const results: ChaosResult[] = [];
      for (let seed = sweep.firstSeed; seed < sweep.firstSeed + sweep.seeds; seed++) results.push(runPaxosChaos({ ...sweep.options, seed }));
      expect(results.filter((r) => !r.ok).map((r) => r.seed), describeFailures(results)).toEqual([]);
      expect(results.every((r) => r.linearizability === 'linearizable')).toBe(true);
      // the faults bite: leaders change (phase 1 runs again and again)
      expect(results.reduce((n, r) => n + r.elections, 0)).toBeGreaterThan(sweep.seeds * 2);
    });
  }

  it('the registered protocols run it (synod chaos --protocol paxos / paxos-flexible), and a seed replays exactly', () => {
    for (const name of ['paxos', 'paxos-flexible']) {
      const protocol = simProtocol(name);
      expect(protocol?.chaos, name).toBeDefined();
      const r = protocol?.chaos?.run({ seed: 7, nodes: 5, durationMs: 2000 });
      expect(r?.ok, name).toBe(true);
      expect(r?.linearizability).toBe('linearizable');
    }
    const a = runPaxosChaos({ seed: 77, nodes: 5, durationMs: 2000, trace: { keepLines: false } });
    const b = runPaxosChaos({ seed: 77, nodes: 5, durationMs: 2000, trace: { keepLines: false } });
    expect(a.traceSha256).toBeDefined();
    expect(b.traceSha256).toBe(a.traceSha256);
    expect(b.ops).toEqual(a.ops);
  });
});

describe('regressions', () => {
  it('long-chaos seed 1948: an acceptance that node 5\'s crash lost before it was synced does not make slot 163 chosen', () => {
    const r = runPaxosChaos({ seed: 1948 });
    expect(r.violations).toEqual([]);
    expect(r.linearizability).toBe('linearizable');
  });
});

describe('negative controls: the same chaos runs catch broken variants', () => {
  it('acceptors that forget their promises on restart are caught (promise-forgotten) on some of seeds 1..20', () => {
    const caught: number[] = [];
    for (let seed = 1; seed <= 20; seed++) {
      const r = runPaxosChaos({ seed, durationMs: 3000, wrapSpec: forgetfulAcceptors });
      if (r.violations.some((v) => v.kind === 'promise-forgotten')) caught.push(seed);
    }
    // seeds 10, 11 and 13 when this was written
    expect(caught.length).toBeGreaterThan(0);
  });

  it('leaders that never adopt accepted values are caught (two values chosen) on most of seeds 1..10', () => {
    let caught = 0;
    for (let seed = 1; seed <= 10; seed++) {
      const r = runPaxosChaos({ seed, durationMs: 3000, wrapSpec: neverAdopt, unwrapCore: unwrapBroken });
      if (r.violations.some((v) => v.kind === 'chosen-twice')) caught++;
    }
    expect(caught).toBeGreaterThan(3);
  });
});
