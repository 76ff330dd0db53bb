// The protocols `synod sim run` knows: how to build each one's simulation with its client
// workload, and what to say about a run besides the simulator's own counters.
import { createClockSyncSpec, createHlcGossipSpec, parsePackedHlc } from '../clock/index.js';
import { echoSpec, runEchoWorkload, Simulation, type LinkConfig, type Message } from '../sim/index.js';

export interface SimRunOptions {
  readonly seed: number;
  readonly nodes: number;
  readonly durationMs: number;
  readonly trace: false | { readonly sink?: (line: string) => void };
  readonly link?: Partial<LinkConfig>;
}

/** A built simulation, with its type parameters erased for the generic command. */
export interface BuiltSimulation {
  readonly sim: Simulation<Message, unknown, unknown, unknown>;
  /** Lines describing the outcome, after the run. */
  summarize(): string[];
}

export interface SimProtocol {
  readonly name: string;
  readonly description: string;
  readonly minNodes: number;
  build(options: SimRunOptions): BuiltSimulation;
}

function erase<M extends Message, Req, Res, P>(sim: Simulation<M, Req, Res, P>): Simulation<Message, unknown, unknown, unknown> {
  return sim as unknown as Simulation<Message, unknown, unknown, unknown>;
}

const echo: SimProtocol = {
  name: 'echo',
  description: 'broadcast with acknowledgements: clients broadcast values through random nodes',
  minNodes: 1,
  build(o) {
    const sim = new Simulation({ seed: o.seed, protocol: echoSpec(), nodes: o.nodes, fsyncMs: 1, link: o.link, trace: o.trace });
    runEchoWorkload(sim, { clients: 3, untilMs: o.durationMs, thinkMs: 20, timeoutMs: 500 });
    return {
      sim: erase(sim),
      summarize: () => sim.nodeIds.map((id) => `node ${id}: ${sim.isUp(id) ? `${String(sim.annotations(id).get('delivered'))} values delivered` : 'down'}`),
    };
  },
};

/** Node 1 keeps true time; the others start skewed by up to ±1 s and drift by up to ±200 ppm. */
function skewClocks(sim: Simulation<Message, unknown, unknown, unknown>): void {
  const rng = sim.random.stream('clock-setup');
  for (const id of sim.nodeIds) if (id !== '1') sim.setClock(id, rng.int(-1000, 1000), rng.int(-200, 200));
}

const clockSync: SimProtocol = {
  name: 'clock-sync',
  description: 'NTP-style synchronisation of skewed, drifting clocks against node 1; reports the achieved error',
  minNodes: 2,
  build(o) {
    const sim = erase(new Simulation({ seed: o.seed, protocol: createClockSyncSpec(), nodes: o.nodes, link: o.link ?? { latency: { kind: 'uniform', minMs: 1, maxMs: 20 } }, trace: o.trace }));
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

const hlcGossip: SimProtocol = {
  name: 'hlc-gossip',
  description: 'hybrid logical clocks gossiped between skewed, drifting nodes; reports how far HLC runs ahead of physical time',
  minNodes: 2,
  build(o) {
    const sim = erase(new Simulation({ seed: o.seed, protocol: createHlcGossipSpec({ maxOffsetMs: 2500 }), nodes: o.nodes, link: o.link, trace: o.trace }));
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

const registry = new Map<string, SimProtocol>([echo, clockSync, hlcGossip].map((p) => [p.name, p]));

export function registerSimProtocol(protocol: SimProtocol): void {
  registry.set(protocol.name, protocol);
}

export function simProtocol(name: string): SimProtocol | undefined {
  return registry.get(name);
}

export function simProtocolNames(): string[] {
  return [...registry.keys()];
}
