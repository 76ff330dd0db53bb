// The echo demonstration core as a simulation `synod sim run` runs: clients broadcast values
// through random nodes, and each node says how many it delivered.
import { echoSpec, runEchoWorkload } from './echo.js';
import { eraseSimulation, type SimProtocol } from './sim-protocol.js';
import { Simulation } from './simulation.js';

export const echoSimProtocol: SimProtocol = {
  name: 'echo',
  description: 'broadcast with acknowledgements: clients broadcast values through random nodes',
  minNodes: 1,
  build(o) {
    const sim = new Simulation({ seed: o.seed, protocol: echoSpec(), nodes: o.nodes, fsyncMs: 1, link: o.link, trace: o.trace });
    runEchoWorkload(sim, { clients: 3, untilMs: o.durationMs, thinkMs: 20, timeoutMs: 500 });
    return {
      sim: eraseSimulation(sim),
      summarize: () => sim.nodeIds.map((id) => `node ${id}: ${sim.isUp(id) ? `${String(sim.annotations(id).get('delivered'))} values delivered` : 'down'}`),
    };
  },
};
