// Raft + KV as a registered primitive: `synod sim run --protocol raft` runs a cluster with KV
// clients (under whatever nemesis the command adds) and summarizes leadership, progress,
// monitors and the linearizability of the history; `synod chaos --protocol raft` runs chaos.
import { eraseSimulation, type SimProtocol } from '../sim/sim-protocol.js';
import { DEFAULT_CHAOS, runChaos } from './chaos.js';
import { RaftCluster } from './cluster.js';
import { startWorkload } from './workload.js';

/** The history check in a summary may give up after this many states: the verdict is then unknown. */
const SUMMARY_CHECK_MAX_STATES = 2_000_000;

/** The first lines of every Raft + KV summary: each node's role and indexes, the leader and the elections so far. */
export function describeRaftNodes(cluster: RaftCluster): string[] {
  const lines = cluster.nodes().map((n) => `node ${n.id}: ${n.up ? `${n.role}, term ${n.term}, commit ${n.commit}, applied ${n.applied}` : 'down'}`);
  lines.push(`leader: ${cluster.leader() ?? 'none'}; elections: ${cluster.monitor.elections}`);
  return lines;
}

/** The monitors' verdict line of a Raft + KV summary (the logs compared once more first). */
export function describeRaftMonitors(cluster: RaftCluster): string {
  cluster.monitor.checkLogs();
  const violations = cluster.violations();
  return violations.length === 0 ? 'monitors: no violation' : `monitors: ${violations.length} violation(s), first: ${violations[0]?.kind} at ${violations[0]?.atMs} ms: ${violations[0]?.message}`;
}

export const raftSimProtocol: SimProtocol = {
  name: 'raft',
  description: 'Raft + KV: a cluster with three KV clients; reports the leader, progress, monitor findings and the linearizability of the history',
  minNodes: 1,
  build(o) {
    const cluster = new RaftCluster({ seed: o.seed, nodes: o.nodes, link: o.link, fsyncMs: 1, trace: o.trace === false ? false : { sink: o.trace.sink } });
    startWorkload(cluster, { clients: 3, keys: 3, thinkMs: 20, untilMs: o.durationMs, prefix: 'c' });
    return {
      sim: eraseSimulation(cluster.sim),
      summarize: () => {
        const lines = [...describeRaftNodes(cluster), describeRaftMonitors(cluster)];
        lines.push(`linearizability of the KV history: ${cluster.checkLinearizability(SUMMARY_CHECK_MAX_STATES).verdict}`);
        return lines;
      },
    };
  },
  chaos: {
    explanation: `Each seed runs a Raft + KV cluster under a random nemesis (partitions, crashes and restarts,
pauses, clock faults, loss, duplication, reordering, slow nodes, membership changes) with
concurrent KV clients, heals it, lets it settle, and checks election safety, log matching,
leader completeness, state-machine safety, that no acknowledged write was lost, convergence,
and the linearizability of the KV history. A seed replays exactly.`,
    defaults: { nodes: DEFAULT_CHAOS.nodes, durationMs: DEFAULT_CHAOS.durationMs },
    run: (o) => runChaos(o),
  },
};
