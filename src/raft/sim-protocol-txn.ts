// Raft + KV with transactions and watchers as a registered primitive: `synod sim run --protocol
// kv-txn` runs the kv-txn load (txns, watchers pulling from single nodes) and summarizes it;
// `synod chaos --protocol kv-txn` runs chaos/checks: linearizability with txns, revisions, watches.
import { eraseSimulation, type SimProtocol } from '../sim/sim-protocol.js';
import { checkHistory, checkWatches, kvModel } from '../check/index.js';
import { DEFAULT_TXN_CHAOS, committedChanges, mostApplied, runTxnChaos, unwrapWatchServing, watchServingSpec } from './chaos-txn.js';
import { RaftCluster } from './cluster.js';
import { describeRaftMonitors, describeRaftNodes } from './sim-protocol.js';
import { startTxnWorkload, startWatchers } from './workload-txn.js';

/** The history check in a summary may give up after this many states: the verdict is then unknown. */
const SUMMARY_CHECK_MAX_STATES = 2_000_000;

export const kvTxnSimProtocol: SimProtocol = {
  name: 'kv-txn',
  description: 'Raft + KV with txns: four clients issuing txns, puts, cas and reads, and three watchers pulling the change log from single nodes; reports progress, monitors, linearizability and the watch check',
  minNodes: 1,
  build(o) {
    const cluster = new RaftCluster({
      seed: o.seed,
      nodes: o.nodes,
      link: o.link,
      fsyncMs: 1,
      trace: o.trace === false ? false : { sink: o.trace.sink },
      wrapSpec: (spec) => watchServingSpec(spec),
      unwrapCore: unwrapWatchServing,
    });
    startTxnWorkload(cluster, { clients: 4, thinkMs: 20, untilMs: o.durationMs, prefix: 'c' });
    const watchers = startWatchers(cluster, { watchers: 3, startBeforeMs: Math.floor(o.durationMs / 2), stallMs: 400, pullTimeoutMs: 150 });
    return {
      sim: eraseSimulation(cluster.sim),
      summarize: () => {
        const lines = [...describeRaftNodes(cluster), describeRaftMonitors(cluster)];
        lines.push(`linearizability of the KV history (txns included): ${checkHistory(cluster.history(), kvModel, { maxStates: SUMMARY_CHECK_MAX_STATES }).verdict}`);
        watchers.stop();
        // the node that applied most holds every change any watcher can have seen
        const node = mostApplied(cluster);
        const committed = node === undefined ? 'no node is up' : committedChanges(cluster, node);
        if (typeof committed === 'string') lines.push(`watchers: not checked (${committed})`);
        else {
          const result = checkWatches(committed, watchers.records());
          const first = result.discrepancies[0];
          lines.push(`watchers: ${result.watchers}, ${result.events} events, ${watchers.reconnects()} reconnects; ${first === undefined ? 'every stream is the committed history' : first.message}`);
        }
        return lines;
      },
    };
  },
  chaos: {
    explanation: `Each seed runs a Raft + KV cluster under the random nemesis (partitions, crashes and
restarts, pauses, clock offsets and drift, loss, duplication, reordering, slow nodes, membership
changes) with clients issuing txns (compares, puts and deletes over several keys, reads, ranges,
nested txns), puts, gets, cas, casVersion, incr and reads of past revisions, and watchers pulling
the change log from single nodes (resuming on another node when theirs fails them). It heals,
settles, and checks the Raft monitors, linearizability with the txn-aware kv model, the revisions
in results against the committed change log, and every watcher's stream (no gap, no duplicate,
order, whole revisions, prevKv). A seed replays exactly.`,
    defaults: { nodes: DEFAULT_TXN_CHAOS.nodes, durationMs: DEFAULT_TXN_CHAOS.durationMs },
    run: (o) => runTxnChaos(o),
  },
};
