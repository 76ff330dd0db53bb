// CRDT documents on SWIM gossip under chaos, and its registration for `synod sim run|chaos
// --protocol swim-crdt`: clients change counters, sets, registers and flags at random live members
// while members crash for good, join and leave and the random nemesis does its worst; after
// healing, the membership must settle and then every live member's document must converge to one
// that accounts for every change (src/check/crdt-doc.ts).
import { checkDocConvergence, type DocChangeRecord, type DocReplica } from '../../check/crdt-doc.js';
import { isInvariantError, type NodeId } from '../../core/index.js';
import { CRDT_DOC, type DocChange } from '../../crdt/doc.js';
import { runChaosPhases, type ChaosResult, type Violation } from '../../sim/chaos.js';
import { DEFAULT_RANDOM_NEMESIS } from '../../sim/nemesis.js';
import type { RandomStream } from '../../sim/rng.js';
import { eraseSimulation, type SimProtocol } from '../../sim/sim-protocol.js';
import type { LinkConfig } from '../../sim/network.js';
import { GossipCluster, membershipBoundMs } from './cluster.js';
import { startMembershipChurn } from './chaos.js';

export const GOSSIP_CRDT_CHAOS = { nodes: 8, durationMs: 6_000, crdtSyncIntervalMs: 1_000 } as const;
const CHANGE_EVERY_MS = 20;

/** The documents' part of a run: the changes asked for, and their outcomes. */
export class DocWorkload {
  readonly changes: DocChangeRecord[] = [];
  inFlight = 0;
  private elements = 0;

  constructor(
    private readonly cluster: GossipCluster,
    private readonly rng: RandomStream,
  ) {}

  start(untilMs: number): void {
    if (this.cluster.nowMs >= untilMs) return;
    const live = this.cluster.liveIds();
    if (live.length > 0) this.changeAt(this.rng.pick(live));
    this.cluster.sim.after(CHANGE_EVERY_MS, () => this.start(untilMs));
  }

  private changeAt(id: NodeId): void {
    const change = this.nextChange(id);
    const index = this.cluster.sim.invoke(`doc@${id}`, `${change.kind}-${change.action}`, change as unknown as Record<string, string | number>);
    this.inFlight++;
    this.cluster.request(
      id,
      { op: 'crdt-change', change },
      (res) => {
        this.inFlight--;
        const outcome = res === undefined ? 'unknown' : res.ok ? 'ok' : 'fail';
        const wasPresent = res?.ok === true && res.op === 'crdt-change' ? res.wasPresent : undefined;
        this.changes.push({ node: id, change, outcome, ...(wasPresent === undefined ? {} : { wasPresent }) });
        this.cluster.sim.complete(index, outcome, null);
      },
      1_000,
    );
  }

  private nextChange(id: NodeId): DocChange {
    const roll = this.rng.float();
    if (roll < 0.35) return { kind: 'counter', name: this.rng.pick(['hits', 'stock']), action: this.rng.chance(0.7) ? 'incr' : 'decr', amount: this.rng.int(1, 5) };
    if (roll < 0.75) {
      // remove what this member holds now (so that the remove sees the element's only add), else add a new element
      const present = this.cluster.crdtNode(id)?.read('tags').find((e) => e.kind === 'set')?.value as string[] | undefined;
      if (present !== undefined && present.length > 0 && this.rng.chance(0.3)) return { kind: 'set', name: 'tags', action: 'remove', element: this.rng.pick(present) };
      return { kind: 'set', name: 'tags', action: 'add', element: `e${++this.elements}` };
    }
    if (roll < 0.9) return { kind: 'register', name: 'mode', action: 'set', value: `v${this.rng.int(1, 20)}` };
    return { kind: 'flag', name: 'open', action: this.rng.chance(0.5) ? 'enable' : 'disable' };
  }
}

/** The live members' documents as the checker reads them. */
export function liveReplicas(cluster: GossipCluster): DocReplica[] {
  const out: DocReplica[] = [];
  for (const id of cluster.liveIds()) {
    const node = cluster.crdtNode(id);
    if (node !== undefined) out.push({ node: id, entries: node.read(), canonical: CRDT_DOC.canonical(node.doc()) });
  }
  return out;
}

function docsConverged(cluster: GossipCluster): boolean {
  const texts = new Set(liveReplicas(cluster).map((r) => r.canonical));
  return texts.size <= 1;
}

/** After the membership settles, how long the documents may take: enough push-pull rounds for a full state to reach everyone (epidemic, log2 N) and then some. */
export function docBoundMs(members: number, syncIntervalMs: number): number {
  return syncIntervalMs * (2 * Math.ceil(Math.log2(Math.max(2, members))) + 4);
}

/** `crdtSyncIntervalMs` 0 turns the full exchange off (rumours alone: what the tests show is not enough). */
export function runGossipCrdtChaos(o: { seed: number; nodes?: number; durationMs?: number; link?: Partial<LinkConfig>; crdtSyncIntervalMs?: number }): ChaosResult {
  const nodes = o.nodes ?? GOSSIP_CRDT_CHAOS.nodes;
  const syncMs = o.crdtSyncIntervalMs ?? GOSSIP_CRDT_CHAOS.crdtSyncIntervalMs;
  const cluster = new GossipCluster({ seed: o.seed, nodes, crdt: { crdtSyncIntervalMs: syncMs }, ...(o.link === undefined ? {} : { link: o.link }) });
  const churn = cluster.sim.random.stream('churn');
  const docs = new DocWorkload(cluster, cluster.sim.random.stream('workload'));
  const found: Violation[] = [];
  const settleMs = membershipBoundMs(cluster.config, nodes + 1) + docBoundMs(nodes + 1, GOSSIP_CRDT_CHAOS.crdtSyncIntervalMs);
  return runChaosPhases(
    {
      cluster,
      startLoad: (untilMs) => {
        startMembershipChurn(cluster, untilMs, churn);
        docs.start(untilMs);
      },
      settle: (timeoutMs) => {
        cluster.healEverything();
        const tookMs = cluster.runUntilSettled(timeoutMs);
        if (tookMs === undefined) {
          for (const p of cluster.membershipProblems(5)) found.push({ kind: p.kind, atMs: cluster.nowMs, message: `not settled ${timeoutMs} ms after healing: ${p.message}` });
          return false;
        }
        const boundMs = docBoundMs(cluster.liveIds().length, GOSSIP_CRDT_CHAOS.crdtSyncIntervalMs);
        const converged = cluster.runUntil(() => docs.inFlight === 0 && docsConverged(cluster), boundMs);
        if (!converged) found.push({ kind: 'divergent', atMs: cluster.nowMs, message: `documents differ ${boundMs} ms after the membership settled` });
        else cluster.note(`membership settled ${tookMs} ms after healing; documents converged by ${cluster.nowMs} ms`);
        return converged;
      },
      afterSettle: () => undefined,
      finalChecks: () => {
        for (const id of cluster.nodeIds) cluster.node(id)?.membership.checkInvariants();
        const gone = new Set([...cluster.crashedForGood, ...cluster.departed]);
        for (const p of checkDocConvergence(liveReplicas(cluster), docs.changes, { goneNodes: gone, limit: 5 })) found.push({ kind: p.kind, atMs: cluster.nowMs, message: p.message });
      },
      check: () => ({ verdict: 'skipped' }),
      violations: () => found,
      violationCount: () => found.length,
      elections: () => 0,
      isInvariantError: (err): err is Error & { readonly code: string } => isInvariantError(err),
    },
    { seed: o.seed, durationMs: o.durationMs ?? GOSSIP_CRDT_CHAOS.durationMs, nemesis: DEFAULT_RANDOM_NEMESIS, settleMs },
  );
}

export const gossipCrdtSimProtocol: SimProtocol = {
  name: 'swim-crdt',
  description: 'SWIM with Lifeguard on every node, each also keeping a document of CRDTs (counters, sets, registers, flags) spread as delta rumours with a full exchange every second; clients change it at random members; prints each node\'s document and whether they agree',
  minNodes: 2,
  build(o) {
    const cluster = new GossipCluster({ seed: o.seed, nodes: o.nodes, crdt: { crdtSyncIntervalMs: GOSSIP_CRDT_CHAOS.crdtSyncIntervalMs }, ...(o.link === undefined ? {} : { link: o.link }), trace: o.trace === false ? false : { ...(o.trace.sink === undefined ? {} : { sink: o.trace.sink }) } });
    const docs = new DocWorkload(cluster, cluster.sim.random.stream('workload'));
    docs.start(Math.floor(o.durationMs * 0.6));
    return {
      sim: eraseSimulation(cluster.sim),
      summarize: () => [
        ...cluster.nodeIds.map((id) => `${id}: ${JSON.stringify(cluster.crdtNode(id)?.read() ?? 'down')}`),
        docsConverged(cluster) ? `documents agree at ${cluster.nowMs} ms` : `documents differ at ${cluster.nowMs} ms`,
      ],
    };
  },
  chaos: {
    explanation:
      'SWIM members keeping a CRDT document on gossip, under the random nemesis (partitions, crashes with restart, pauses, slow nodes, clock faults, loss, duplication, reordering) while members crash for good, join and leave, and clients change counters, sets, registers and flags at random live members every 20 ms; after healing the membership must settle within its bound, then every live document must converge within enough push-pull rounds to reach everyone, with counters within the acknowledged bounds, every acknowledged add present unless removed, effective removes holding, and nothing never written',
    defaults: { nodes: GOSSIP_CRDT_CHAOS.nodes, durationMs: GOSSIP_CRDT_CHAOS.durationMs },
    run: (o) => runGossipCrdtChaos({ seed: o.seed, nodes: o.nodes, durationMs: o.durationMs }),
  },
};
