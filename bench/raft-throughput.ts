// `npm run bench -- raft-throughput`: committed commands per wall-clock second in the simulator,
// 5 nodes, 64 clients each keeping one put in flight (closed loop), default links (1-5 ms),
// tracing off. Measures the Raft core and the simulator together, with no real I/O.
import { RaftCluster } from '../src/raft/index.js';

export async function run(args: string[]): Promise<void> {
  const virtualMs = Number(args[0] ?? 10_000);
  for (const clients of [1, 64]) {
    const cluster = new RaftCluster({ seed: 7, nodes: 5, logCheckEveryMs: 0 });
    if (cluster.waitForLeader(10_000) === undefined) throw new Error('no leader');
    let committed = 0;
    let next = 0;
    const loop = (c: number): void => {
      if (cluster.nowMs > virtualMs) return;
      const i = next++;
      cluster.client(`c${c}`).submit({ op: 'put', key: `k${i % 1000}`, value: i }, {
        onDone: (h) => {
          if (h.outcome === 'ok') committed++;
          loop(c);
        },
      });
    };
    for (let c = 0; c < clients; c++) loop(c);
    const started = performance.now();
    cluster.runFor(virtualMs);
    const wallMs = performance.now() - started;
    process.stdout.write(`raft 5 nodes, ${String(clients).padStart(2)} clients: ${committed} commands committed in ${(virtualMs / 1000).toFixed(0)} s virtual, ${wallMs.toFixed(0)} ms wall = ${Math.round(committed / (wallMs / 1000)).toLocaleString('en')} commits per wall-clock second (${Math.round(committed / (virtualMs / 1000)).toLocaleString('en')} per virtual second)\n`);
  }
}
