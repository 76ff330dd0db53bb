// SWIM with Lifeguard under chaos, and its registration for `synod sim run --protocol swim` and
// `synod chaos --protocol swim`: members crash for good, join, leave and change their metadata
// while the random nemesis partitions, crashes, pauses, slows, skews clocks and drops messages;
// once every fault heals, the membership checker must find the views settled within its bound.
import { isInvariantError, type NodeId } from '../../core/index.js';
import { runChaosPhases, type ChaosResult, type Violation } from '../../sim/chaos.js';
import { DEFAULT_RANDOM_NEMESIS } from '../../sim/nemesis.js';
import type { RandomStream } from '../../sim/rng.js';
import { eraseSimulation, type SimProtocol } from '../../sim/sim-protocol.js';
import { GossipCluster, membershipBoundMs } from './cluster.js';

export const GOSSIP_CHAOS = { nodes: 10, durationMs: 6_000 } as const;
const META_INTERVAL_MS = 250;
/** A member that leaves exits this long after its leave was asked for. */
const EXIT_AFTER_LEAVE_MS = 500;
/** Never take the cluster below this many live members. */
const MIN_LIVE = 3;

/** The membership changes of a run: one member crashes for good, one joins, one leaves; metadata changes all along. */
export function startMembershipChurn(cluster: GossipCluster, untilMs: number, rng: RandomStream): void {
  const at = (share: number, fn: () => void): void => cluster.sim.at(cluster.nowMs + Math.floor(untilMs * share), fn);
  const someLive = (): NodeId | undefined => {
    const live = cluster.liveIds();
    return live.length > MIN_LIVE ? rng.pick(live) : undefined;
  };
  at(0.1 + rng.float() * 0.5, () => {
    const id = someLive();
    if (id === undefined) return;
    cluster.note(`churn: ${id} crashes for good`);
    cluster.crashForGood(id);
  });
  at(0.1 + rng.float() * 0.7, () => {
    const id = `j${cluster.nodeIds.length + 1}`;
    const seeds = rng.shuffled(cluster.liveIds()).slice(0, 2);
    cluster.note(`churn: ${id} joins through ${seeds.join(', ')}`);
    cluster.addMember(id, seeds);
  });
  at(0.2 + rng.float() * 0.6, () => {
    const id = someLive();
    if (id === undefined) return;
    cluster.note(`churn: ${id} leaves`);
    cluster.leave(id);
    cluster.sim.after(EXIT_AFTER_LEAVE_MS, () => cluster.crashForGood(id));
  });
  changeMetadata(cluster, untilMs, rng, 0);
}

function changeMetadata(cluster: GossipCluster, untilMs: number, rng: RandomStream, count: number): void {
  if (cluster.nowMs >= untilMs) return;
  const live = cluster.liveIds();
  if (live.length > 0) {
    const id = rng.pick(live);
    const meta = `{"role":"r${count % 4}"}`;
    const index = cluster.sim.invoke('meta', 'set-meta', { node: id, meta });
    cluster.request(id, { op: 'set-meta', meta }, (res) => cluster.sim.complete(index, res === undefined ? 'unknown' : res.ok ? 'ok' : 'fail', res?.ok === true && res.op === 'set-meta' ? { incarnation: res.incarnation } : null));
  }
  cluster.sim.after(META_INTERVAL_MS, () => changeMetadata(cluster, untilMs, rng, count + 1));
}

export function runGossipChaos(o: { seed: number; nodes?: number; durationMs?: number; lifeguard?: boolean }): ChaosResult {
  const nodes = o.nodes ?? GOSSIP_CHAOS.nodes;
  const cluster = new GossipCluster({ seed: o.seed, nodes, ...(o.lifeguard === undefined ? {} : { config: { lifeguard: o.lifeguard } }) });
  const rng = cluster.sim.random.stream('churn');
  const found: Violation[] = [];
  // one member joins during the run
  const settleMs = membershipBoundMs(cluster.config, nodes + 1);
  return runChaosPhases(
    {
      cluster,
      startLoad: (untilMs) => startMembershipChurn(cluster, untilMs, rng),
      settle: (timeoutMs) => {
        cluster.healEverything();
        const tookMs = cluster.runUntilSettled(timeoutMs);
        if (tookMs === undefined) for (const p of cluster.membershipProblems(5)) found.push({ kind: p.kind, atMs: cluster.nowMs, message: `not settled ${timeoutMs} ms after healing: ${p.message}` });
        else cluster.note(`membership settled ${tookMs} ms after healing`);
        return tookMs !== undefined;
      },
      afterSettle: () => undefined,
      finalChecks: () => {
        for (const id of cluster.nodeIds) cluster.node(id)?.membership.checkInvariants();
      },
      check: () => ({ verdict: 'skipped' }),
      violations: () => found,
      violationCount: () => found.length,
      elections: () => 0,
      isInvariantError: (err): err is Error & { readonly code: string } => isInvariantError(err),
    },
    { seed: o.seed, durationMs: o.durationMs ?? GOSSIP_CHAOS.durationMs, nemesis: DEFAULT_RANDOM_NEMESIS, settleMs },
  );
}

export const gossipSimProtocol: SimProtocol = {
  name: 'swim',
  description: 'SWIM membership with Lifeguard (src/gossip) on every node, LOCAL timings five times faster; a new member joins a third into the run and one crashes for good halfway; prints each node\'s view of the membership',
  minNodes: 2,
  build(o) {
    const cluster = new GossipCluster({ seed: o.seed, nodes: o.nodes, ...(o.link === undefined ? {} : { link: o.link }), trace: o.trace === false ? false : { ...(o.trace.sink === undefined ? {} : { sink: o.trace.sink }) } });
    const joiner = `${o.nodes + 1}`;
    cluster.sim.at(Math.floor(o.durationMs / 3), () => cluster.addMember(joiner, ['1']));
    if (o.nodes >= 3) cluster.sim.at(Math.floor(o.durationMs / 2), () => cluster.crashForGood(String(o.nodes)));
    return {
      sim: eraseSimulation(cluster.sim),
      summarize: () => {
        const problems = cluster.membershipProblems(3);
        return [...cluster.viewLines(), problems.length === 0 ? `views agree at ${cluster.nowMs} ms` : `views differ at ${cluster.nowMs} ms: ${problems.map((p) => p.message).join('; ')}`];
      },
    };
  },
  chaos: {
    explanation:
      'SWIM members with Lifeguard under the random nemesis (partitions, crashes with restart, pauses, slow nodes, clock faults, loss, duplication, reordering) while one member crashes for good, one joins and one leaves, and metadata changes every 250 ms; after healing, within two probe passes at the worst health plus the longest suspicion plus a push-pull interval, every live member must hold every live member alive at its own incarnation and every member gone as dead or left',
    defaults: { nodes: GOSSIP_CHAOS.nodes, durationMs: GOSSIP_CHAOS.durationMs },
    run: (o) => runGossipChaos({ seed: o.seed, nodes: o.nodes, durationMs: o.durationMs }),
  },
};
