// The client-side checkers on histories of the real store in the simulator: no false alarm where the
// store promises something (strict quorums, no faults), and staleness found where it does not.
import { describe, expect, it } from 'vitest';
import { QuorumCluster } from '../../quorum/sim/cluster.js';
import { checkDkvCausal } from './causal.js';
import { checkDkvSessions } from './sessions.js';
import { checkDkvStaleness } from './staleness.js';

function run(options: { readonly r?: 1; readonly w?: 1; readonly partition?: boolean }): QuorumCluster {
  const cluster = new QuorumCluster({ seed: 11, nodes: 5, trace: false });
  cluster.startLoad(2500, { clients: 4, keys: 8, thinkMs: 10, ...(options.r === undefined ? {} : { r: options.r }), ...(options.w === undefined ? {} : { w: options.w }) });
  cluster.runFor(500);
  if (options.partition === true) cluster.partition([['1', '2'], ['3', '4', '5']]);
  cluster.runFor(1500);
  cluster.heal();
  cluster.runFor(1500);
  return cluster;
}

describe('dkv client-side checkers on the simulated store', () => {
  it('find nothing wrong with strict quorums (R = W = 2 of 3) and no faults', () => {
    const { ops } = run({});
    expect(ops.length).toBeGreaterThan(300);
    const staleness = checkDkvStaleness({ ops });
    expect(staleness.judgedReads).toBeGreaterThan(100);
    expect(staleness.staleReads).toBe(0);
    const sessions = checkDkvSessions({ ops });
    expect(sessions.violations).toEqual([]);
    const causal = checkDkvCausal({ ops });
    // context gaps are left out: a finding about the store's write answers (docs/dkv-checkers.md)
    expect(causal.violations.filter((v) => v.kind !== 'context-gap')).toEqual([]);
    expect(causal.crossKey.anomalies).toBe(0);
  });

  it('measure staleness and session breaks with R = W = 1 across a partition, and still no causal break per key', () => {
    const { ops } = run({ r: 1, w: 1, partition: true });
    const staleness = checkDkvStaleness({ ops });
    expect(staleness.staleReads).toBeGreaterThan(0);
    expect(staleness.lag?.maxMs).toBeGreaterThan(0);
    const sessions = checkDkvSessions({ ops });
    expect(sessions.counts['read-your-writes'].session + sessions.counts['monotonic-reads'].session).toBeGreaterThan(0);
    const causal = checkDkvCausal({ ops });
    expect(causal.violations.filter((v) => v.kind === 'missing-cause' || v.kind === 'thin-air' || v.kind === 'future-read' || v.kind === 'write-context')).toEqual([]);
  });
});
