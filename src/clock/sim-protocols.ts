// The clock protocols as simulations `synod sim run` runs: clock sync against a reference node,
// and HLC gossip, each between skewed, drifting clocks, summarized by the error they achieve.
import { Simulation } from '../sim/simulation.js';
import { eraseSimulation, type AnySimulation, type SimProtocol } from '../sim/sim-protocol.js';
import { parsePackedHlc } from './hlc.js';
import { createHlcGossipSpec } from './hlc-gossip.js';
import { createClockSyncSpec } from './sync-protocol.js';

/** Node 1 keeps true time; the others start skewed by up to ±1 s and drift by up to ±200 ppm. */
function skewClocks(sim: AnySimulation): void {
  const rng = sim.random.stream('clock-setup');
  for (const id of sim.nodeIds) if (id !== '1') sim.setClock(id, rng.int(-1000, 1000), rng.int(-200, 200));
}

export const clockSyncSimProtocol: SimProtocol = {
  name: 'clock-sync',
  description: 'NTP-style synchronisation of skewed, drifting clocks against node 1; reports the achieved error',
  minNodes: 2,
  build(o) {
    const sim = eraseSimulation(new Simulation({ seed: o.seed, protocol: createClockSyncSpec(), nodes: o.nodes, link: o.link ?? { latency: { kind: 'uniform', minMs: 1, maxMs: 20 } }, trace: o.trace }));
    skewClocks(sim);
    return {
      sim,
      summarize: () => {
        const lines: string[] = [];
        let worst = 0;
        for (const id of sim.nodeIds.filter((n) => n !== '1')) {
          const estimate = sim.annotations(id).get('offsetEstimateMs');
          if (!sim.isUp(id) || typeof estimate !== 'number') {
            lines.push(`node ${id}: no estimate yet`);
            continue;
          }
          const errorMs = sim.localNowMs(id) + estimate - sim.localNowMs('1');
          worst = Math.max(worst, Math.abs(errorMs));
          lines.push(`node ${id}: raw skew ${sim.localNowMs(id) - sim.localNowMs('1')} ms, corrected error ${errorMs.toFixed(1)} ms`);
        }
        lines.push(`worst corrected error: ${worst.toFixed(1)} ms`);
        return lines;
      },
    };
  },
};

export const hlcGossipSimProtocol: SimProtocol = {
  name: 'hlc-gossip',
  description: 'hybrid logical clocks gossiped between skewed, drifting nodes; reports how far HLC runs ahead of physical time',
  minNodes: 2,
  build(o) {
    const sim = eraseSimulation(new Simulation({ seed: o.seed, protocol: createHlcGossipSpec({ maxOffsetMs: 2500 }), nodes: o.nodes, link: o.link, trace: o.trace }));
    skewClocks(sim);
    return {
      sim,
      summarize: () =>
        sim.nodeIds.map((id) => {
          const a = sim.annotations(id);
          const hlc = a.get('hlc');
          const ts = typeof hlc === 'string' ? parsePackedHlc(hlc) : undefined;
          return `node ${id}: hlc ${ts === undefined ? '-' : `${ts.physicalMs}.${ts.logical}`}, ahead of local clock ${String(a.get('hlcAheadMs') ?? '-')} ms, rejected ${String(a.get('hlcRejected') ?? 0)}`;
        }),
    };
  },
};
