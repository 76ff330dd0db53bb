import { describe, expect, it } from 'vitest';
import { checkDocConvergence } from '../../check/crdt-doc.js';
import { gossipCrdtSimProtocol, runGossipCrdtChaos } from './crdt-chaos.js';

/** Bounded here; `synod chaos --protocol swim-crdt --seeds 2000` runs the long version. */
const SEEDS = 8;

describe('CRDT documents on SWIM gossip under chaos', () => {
  it(`settle and converge to documents that account for every change, seeds 1..${SEEDS}`, () => {
    const failures: string[] = [];
    for (let seed = 1; seed <= SEEDS; seed++) {
      const result = runGossipCrdtChaos({ seed });
      if (!result.ok) failures.push(`seed ${seed}: ${result.violations.map((v) => `${v.kind}: ${v.message}`).join('; ')}`);
      expect(result.ops.ok).toBeGreaterThan(100);
    }
    expect(failures).toEqual([]);
  });

  it('finds documents that never converge when the full exchange is off (rumours alone die out across partitions)', () => {
    const failing = [5, 6].filter((seed) => !runGossipCrdtChaos({ seed, crdtSyncIntervalMs: 0 }).ok);
    expect(failing.length).toBeGreaterThan(0);
  });

  it('replays a seed exactly, and sim run prints agreeing documents', () => {
    expect(runGossipCrdtChaos({ seed: 4 }).traceSha256).toBe(runGossipCrdtChaos({ seed: 4 }).traceSha256);
    const built = gossipCrdtSimProtocol.build({ seed: 2, nodes: 5, durationMs: 8_000, trace: false });
    built.sim.runFor(8_000);
    const lines = built.summarize();
    expect(lines[5]).toMatch(/^documents agree/);
    expect(lines[0]).toMatch(/"name":"tags"/);
  });
});

describe('the document convergence checker', () => {
  const doc = (entries: Parameters<typeof checkDocConvergence>[0][number]['entries'], canonical = 'x') => ({ node: '1', entries, canonical });
  it('judges counters by bounds, sets by adds and effective removes, registers by values written', () => {
    const changes = [
      { node: '1', change: { kind: 'counter' as const, name: 'c', action: 'incr' as const, amount: 3 }, outcome: 'ok' as const },
      { node: '2', change: { kind: 'counter' as const, name: 'c', action: 'incr' as const, amount: 2 }, outcome: 'unknown' as const },
      { node: '1', change: { kind: 'set' as const, name: 's', action: 'add' as const, element: 'a' }, outcome: 'ok' as const, wasPresent: false },
      { node: '1', change: { kind: 'set' as const, name: 's', action: 'add' as const, element: 'b' }, outcome: 'ok' as const, wasPresent: false },
      { node: '2', change: { kind: 'set' as const, name: 's', action: 'remove' as const, element: 'b' }, outcome: 'ok' as const, wasPresent: true },
      { node: '1', change: { kind: 'register' as const, name: 'r', action: 'set' as const, value: 'v1' }, outcome: 'ok' as const },
    ];
    const good = [{ kind: 'counter' as const, name: 'c', value: 4 }, { kind: 'register' as const, name: 'r', value: ['v1'] }, { kind: 'set' as const, name: 's', value: ['a'] }];
    expect(checkDocConvergence([doc(good)], changes)).toEqual([]);
    const bad = [{ kind: 'counter' as const, name: 'c', value: 6 }, { kind: 'register' as const, name: 'r', value: ['v9'] }, { kind: 'set' as const, name: 's', value: ['b', 'z'] }];
    expect(checkDocConvergence([doc(bad)], changes).map((p) => p.kind).sort()).toEqual(['counter-out-of-bounds', 'lost-add', 'phantom-element', 'phantom-value', 'resurrected']);
    expect(checkDocConvergence([doc(good), { ...doc(good, 'y'), node: '2' }], changes).map((p) => p.kind)).toEqual(['divergent']);
    // what a node gone for good acknowledged may be lost
    expect(checkDocConvergence([doc([{ kind: 'counter', name: 'c', value: 0 }, ...good.slice(1)])], changes, { goneNodes: new Set(['1']) }).map((p) => p.kind)).toEqual([]);
  });
});
