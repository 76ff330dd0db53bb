// kv-txn chaos, bounded: a few seeds of txn clients and node-local watchers under the random
// nemesis must end with no monitor violation, a linearizable history (txn-aware kv model), right
// revisions and exact watch streams; deliberately broken watchers are caught; a seed replays
// exactly; the CLI runs the protocol. `scripts/kv-txn-chaos.ts` runs thousands of seeds.
import { describe, expect, it } from 'vitest';
import { runSynod } from '../cli/test/run-cli.js';
import { runTxnChaos, type TxnChaosResult } from './chaos-txn.js';
import type { WatchBug } from './workload-txn.js';

function describeFailures(results: readonly TxnChaosResult[]): string {
  return results
    .filter((r) => !r.ok)
    .slice(0, 5)
    .map((r) => `seed ${r.seed}: ${r.violations.slice(0, 2).map((v) => `${v.kind}: ${v.message}`).join(' | ')}`)
    .join('\n');
}

describe('kv-txn chaos', () => {
  for (const sweep of [
    { name: '5 nodes', firstSeed: 1, seeds: 16, nodes: 5 },
    { name: '3 nodes', firstSeed: 1001, seeds: 12, nodes: 3 },
  ]) {
    it(`${sweep.name}: ${sweep.seeds} seeds from ${sweep.firstSeed} end clean`, () => {
      const results: TxnChaosResult[] = [];
      for (let seed = sweep.firstSeed; seed < sweep.firstSeed + sweep.seeds; seed++) results.push(runTxnChaos({ seed, nodes: sweep.nodes }));
      expect(results.filter((r) => !r.ok).map((r) => r.seed), describeFailures(results)).toEqual([]);
      expect(results.every((r) => r.linearizability === 'linearizable')).toBe(true);
      expect(results.every((r) => r.watch.ok && r.revisions.ok)).toBe(true);
      // the load must bite: watchers get events and move between nodes, clients commit txns
      expect(results.reduce((n, r) => n + r.watch.events, 0)).toBeGreaterThan(sweep.seeds * 100);
      expect(results.reduce((n, r) => n + r.watch.reconnects, 0)).toBeGreaterThan(sweep.seeds * 10);
      expect(results.reduce((n, r) => n + r.revision, 0)).toBeGreaterThan(sweep.seeds * 50);
    });
  }

  it.each<[WatchBug, number, RegExp]>([
    ['resume-at-last-event', 1, /watcher watch1 \(prefix "x\/" from revision 3\): duplicate at revision 15/],
    ['skip-on-reconnect', 1, /watcher watch2 \(prefix "" from revision 1\): gap at revision 17/],
    ['cut-pages', 1, /watcher watch1 \(prefix "x\/" from revision 1\): split-revision at revision 14/],
  ])('catches a watcher broken by %s on seed %i', (bug, seed, message) => {
    const result = runTxnChaos({ seed, watchBug: bug });
    expect(result.ok).toBe(false);
    expect(result.watch.ok).toBe(false);
    expect(result.linearizability).toBe('linearizable');
    const watch = result.violations.filter((v) => v.kind === 'watch');
    expect(watch.map((v) => v.message).join('\n')).toMatch(message);
    expect(result.violations.every((v) => v.kind === 'watch')).toBe(true);
  });

  it('catches stale reads (gets answered from whichever node they reach) on seed 21', () => {
    const result = runTxnChaos({ seed: 21, staleGets: true });
    expect(result.ok).toBe(false);
    expect(result.linearizability).toBe('not-linearizable');
    expect(result.violations.map((v) => v.kind)).toEqual(['revisions', 'linearizability']);
    expect(result.violations[0]?.message).toMatch(/^operation 572: revision-order at revision 90: a result at revision 90, though a result at revision 247 completed before it was invoked$/);
  });

  it('a seed replays exactly', () => {
    const a = runTxnChaos({ seed: 77, durationMs: 1500, trace: { keepLines: false } });
    const b = runTxnChaos({ seed: 77, durationMs: 1500, trace: { keepLines: false } });
    expect(a.traceSha256).toBeDefined();
    expect(b.traceSha256).toBe(a.traceSha256);
    expect(b.watch).toEqual(a.watch);
  });

  it('runs from the command line: synod chaos and synod sim run', () => {
    const chaos = runSynod(['chaos', '--protocol', 'kv-txn', '--seeds', '1', '--first-seed', '3', '--duration-ms', '1500']);
    expect(chaos.stderr).toBe('');
    expect(chaos.status).toBe(0);
    expect(chaos.stdout).toMatch(/^kv-txn chaos: 1 seed\(s\) 3\.\.3, 5 nodes, 1500 ms of faults each: no violations/);
    const sim = runSynod(['sim', 'run', '--protocol', 'kv-txn', '--nodes', '3', '--duration-ms', '1500', '--nemesis', 'at 500 ms crash random; at 900 ms restart random']);
    expect(sim.status).toBe(0);
    expect(sim.stdout).toMatch(/linearizability of the KV history \(txns included\): linearizable/);
    expect(sim.stdout).toMatch(/watchers: 3, \d+ events, \d+ reconnects; every stream is the committed history/);
  });
});
