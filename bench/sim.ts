// `npm run bench -- sim`: message deliveries per wall-clock second in the simulator, for 5 and
// 100 nodes. A relay core forwards every message it receives to a peer, so nearly all the time
// measured is the simulator's own (queue, network model, dispatch); tracing is off.
import type { CoreEnv, Effects, ProtocolSpec } from '../src/sim/index.js';
import { Simulation } from '../src/sim/index.js';

type Token = { readonly type: 'token'; readonly hops: number };
type RelayFx = Effects<Token, never, never>;

function relaySpec(tokensPerNode: number): ProtocolSpec<Token, never, never, never> {
  return {
    name: 'relay',
    tickIntervalMs: 0,
    create(env: CoreEnv) {
      const peers = env.members.filter((m) => m !== env.id);
      return {
        start(fx: RelayFx) {
          for (let i = 0; i < tokensPerNode; i++) fx.send(peers[i % peers.length] as string, { type: 'token', hops: 0 });
        },
        handleMessage(_from: string, msg: Token, fx: RelayFx) {
          fx.send(peers[Math.floor(env.random() * peers.length)] as string, { type: 'token', hops: msg.hops + 1 });
        },
        handleTick() {},
        handleRequest() {},
      };
    },
  };
}

function measure(nodes: number, virtualMs: number): { deliveries: number; wallMs: number; perSecond: number } {
  const sim = new Simulation({ seed: 42, protocol: relaySpec(20), nodes, trace: false, link: { latency: { kind: 'uniform', minMs: 1, maxMs: 10 } } });
  const t0 = performance.now();
  sim.runFor(virtualMs);
  const wallMs = performance.now() - t0;
  const deliveries = sim.stats.total.delivered;
  return { deliveries, wallMs, perSecond: deliveries / (wallMs / 1000) };
}

export async function run(args: string[]): Promise<void> {
  const virtualMs = Number(args[0] ?? 20_000);
  measure(5, 2000); // warm-up: let the JIT settle
  for (const nodes of [5, 100]) {
    const r = measure(nodes, nodes === 5 ? virtualMs * 20 : virtualMs);
    process.stdout.write(`sim ${String(nodes).padStart(3)} nodes: ${r.deliveries.toLocaleString('en')} deliveries in ${r.wallMs.toFixed(0)} ms = ${Math.round(r.perSecond).toLocaleString('en')} deliveries/s\n`);
  }
}
