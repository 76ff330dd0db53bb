// Chaos runs of the Multi-Paxos KV: a cluster under a seeded random nemesis (partitions, crashes
// and restarts, pauses, clock faults, loss, duplication, reordering, slow nodes) with concurrent
// KV clients, the same phases, workload and checker as Raft's chaos (src/sim/chaos.ts); then
// everything is healed and the cluster must settle and serve. Every Paxos monitor runs throughout,
// and the recorded history must be linearizable. One seed replays one run exactly.
import { isInvariantError, type ProtocolSpec } from '../../core/index.js';
import type { KvQuery, KvRequest, KvResult } from '../../kv/store.js';
import { CHAOS_NEMESIS, DEFAULT_CHAOS, finalWrites, kvLinearizabilityCheck, resolveKvChaosLoad, type KvChaosLoadOptions } from '../../raft/chaos.js';
import { startWorkload } from '../../raft/workload.js';
import { runChaosPhases, type ChaosResult, type ChaosSubject } from '../../sim/chaos.js';
import { eraseSimulation, type SimProtocol } from '../../sim/sim-protocol.js';
import { isPaxosError } from '../errors.js';
import type { PaxosSpec } from '../multi/spec.js';
import type { PaxosMessage, PaxosOptions, PaxosPersistOp, PaxosRequest, PaxosResponse } from '../multi/types.js';
import type { QuorumSizes } from '../quorums.js';
import { forgetfulAcceptors, neverAdopt, unwrapBroken } from './broken.js';
import { PaxosCluster, type PaxosClusterOptions, type PaxosKvClient } from './cluster.js';

export interface PaxosChaosOptions extends KvChaosLoadOptions {
  readonly paxos?: Partial<Omit<PaxosOptions, 'observer'>>;
  readonly trace?: PaxosClusterOptions['trace'];
  /** A deliberately broken variant (negative controls): the monitors must catch it. */
  readonly wrapSpec?: (spec: PaxosSpec<KvRequest, KvQuery, KvResult>) => ProtocolSpec<PaxosMessage, PaxosRequest, PaxosResponse, PaxosPersistOp>;
  readonly unwrapCore?: PaxosClusterOptions['unwrapCore'];
  /** An extra observer of the cores, besides the monitors (to look into one seed). */
  readonly observer?: PaxosClusterOptions['observer'];
}

/** The same load as Raft's chaos runs, so the two are compared under the same nemesis and clients. */
export const DEFAULT_PAXOS_CHAOS = DEFAULT_CHAOS;

/** Chaos clusters snapshot often and send small batches, so compaction, snapshot transfer and catch-up are exercised too. */
export const CHAOS_PAXOS: Partial<PaxosOptions> = { snapshotThresholdSlots: 40, snapshotCatchUpSlots: 8, maxEntriesPerAccept: 16, maxValuesPerMessage: 16 };

/**
 * Flexible Paxos as registered: phase 2 needs only 2 acceptances, phase 1 all but one promise
 * (|Q1| + |Q2| = N + 1 > N); with 5 nodes, 4 and 2.
 */
export function flexibleQuorums(nodes: number): QuorumSizes {
  return { phase1: nodes - 1, phase2: 2 };
}

export function runPaxosChaos(options: PaxosChaosOptions): ChaosResult {
  const o = resolveKvChaosLoad(options);
  const cluster = new PaxosCluster({
    seed: o.seed,
    nodes: o.nodes,
    paxos: { ...CHAOS_PAXOS, ...options.paxos },
    link: options.link,
    fsyncMs: options.fsyncMs ?? 1,
    trace: options.trace,
    client: { requestTimeoutMs: 250, opTimeoutMs: 2000 },
    ...(options.wrapSpec === undefined ? {} : { wrapSpec: options.wrapSpec }),
    ...(options.unwrapCore === undefined ? {} : { unwrapCore: options.unwrapCore }),
    ...(options.observer === undefined ? {} : { observer: options.observer }),
  });
  const subject: ChaosSubject<PaxosMessage, PaxosRequest, PaxosResponse, PaxosPersistOp> = {
    cluster,
    startLoad: (untilMs) => {
      startWorkload(cluster, { clients: o.clients, keys: o.keys, thinkMs: o.thinkMs, untilMs, prefix: 'c' });
    },
    settle: (timeoutMs) => cluster.settle(timeoutMs) !== undefined,
    afterSettle: (report) => finalWrites<PaxosKvClient>(cluster, o.clients, report),
    finalChecks: () => {},
    check: () => kvLinearizabilityCheck(cluster, o.checkerMaxStates),
    violations: () => cluster.violations(),
    violationCount: () => cluster.monitor.violationCount,
    elections: () => cluster.monitor.elections,
    isInvariantError: (err): err is Error & { readonly code: string } => isPaxosError(err) || isInvariantError(err),
  };
  return runChaosPhases(subject, { seed: o.seed, durationMs: o.durationMs, nemesis: { ...CHAOS_NEMESIS, ...options.nemesis }, settleMs: o.settleMs });
}

/** The first lines of a Multi-Paxos summary: each node's role, ballot and slots, the leader and the leaderships so far. */
function describePaxos(cluster: PaxosCluster): string[] {
  const lines = cluster.nodes().map((n) => `node ${n.id}: ${n.up ? `${n.role}, ballot ${n.ballot === null ? '-' : `${n.ballot.round}.${n.ballot.node}`}, promised ${n.promised.round}.${n.promised.node}, known ${n.known}, applied ${n.applied}, snapshot ${n.snapshotSlot}` : 'down'}`);
  lines.push(`leader: ${cluster.leader() ?? 'none'}; phase 1 completions: ${cluster.monitor.elections}; quorums: |Q1| ${cluster.quorums.phase1}, |Q2| ${cluster.quorums.phase2}`);
  const v = cluster.violations();
  lines.push(v.length === 0 ? 'monitors: no violation' : `monitors: ${cluster.monitor.violationCount} violation(s), first: ${v[0]?.kind} at ${v[0]?.atMs} ms: ${v[0]?.message}`);
  return lines;
}

interface Variant {
  readonly name: string;
  readonly description: string;
  readonly explanation: string;
  readonly quorumsFor?: (nodes: number) => QuorumSizes;
  readonly wrap?: Pick<PaxosChaosOptions, 'wrapSpec' | 'unwrapCore'>;
}

function paxosSimProtocolOf(v: Variant): SimProtocol {
  const paxosFor = (nodes: number): Partial<PaxosOptions> => (v.quorumsFor === undefined ? {} : { quorums: v.quorumsFor(nodes) });
  return {
    name: v.name,
    description: v.description,
    minNodes: v.quorumsFor === undefined ? 1 : 2,
    build(o) {
      const cluster = new PaxosCluster({ seed: o.seed, nodes: o.nodes, paxos: paxosFor(o.nodes), link: o.link, fsyncMs: 1, trace: o.trace === false ? false : { sink: o.trace.sink }, ...v.wrap });
      startWorkload(cluster, { clients: 3, keys: 3, thinkMs: 20, untilMs: o.durationMs, prefix: 'c' });
      return {
        sim: eraseSimulation(cluster.sim),
        summarize: () => [...describePaxos(cluster), `linearizability of the KV history: ${cluster.checkLinearizability(2_000_000).verdict}`],
      };
    },
    chaos: {
      explanation: v.explanation,
      defaults: { nodes: DEFAULT_PAXOS_CHAOS.nodes, durationMs: DEFAULT_PAXOS_CHAOS.durationMs },
      run: (o) => runPaxosChaos({ ...o, paxos: paxosFor(o.nodes), ...v.wrap }),
    },
  };
}

const CHAOS_EXPLANATION = `Each seed runs a Multi-Paxos + KV cluster under a random nemesis (partitions, crashes and
restarts, pauses, clock faults, loss, duplication, reordering, slow nodes) with concurrent KV
clients, heals it, lets it settle, and checks that at most one value is chosen per slot, that
learners learn only chosen values, that acceptors keep their promises (across restarts too), that
replicas apply identical prefixes, that no acknowledged write was lost, convergence, and the
linearizability of the KV history. A seed replays exactly.`;

export const paxosSimProtocol: SimProtocol = paxosSimProtocolOf({
  name: 'paxos',
  description: "Multi-Paxos + KV: a cluster with three KV clients; reports each node's ballot and slots, monitor findings and the linearizability of the history",
  explanation: CHAOS_EXPLANATION,
});

export const paxosFlexibleSimProtocol: SimProtocol = paxosSimProtocolOf({
  name: 'paxos-flexible',
  description: 'Multi-Paxos + KV with Flexible Paxos quorums: |Q2| = 2 acceptances choose a value, |Q1| = N - 1 promises elect a leader',
  explanation: `${CHAOS_EXPLANATION}\nQuorums are Flexible Paxos's: 2 acceptances choose a value, N - 1 promises elect a leader (4 of 5).`,
  quorumsFor: flexibleQuorums,
});

/** Deliberately broken: acceptors forget their promises across a restart. Violations are expected (negative control). */
export const paxosForgetfulSimProtocol: SimProtocol = paxosSimProtocolOf({
  name: 'paxos-forgetful',
  description: 'Multi-Paxos + KV, deliberately broken: a restarted acceptor forgets its promises (expect promise-forgotten)',
  explanation: `${CHAOS_EXPLANATION}\nDeliberately broken: a restarted acceptor drops its promises (it keeps its acceptances). The
monitors must report promise-forgotten on the seeds where an acceptor restarts with a promise
newer than any acceptance (e.g. seeds 10, 11, 13).`,
  wrap: { wrapSpec: forgetfulAcceptors },
});

/** Deliberately broken: a new leader ignores the acceptances phase 1 reports. Violations are expected (negative control). */
export const paxosNeverAdoptSimProtocol: SimProtocol = paxosSimProtocolOf({
  name: 'paxos-never-adopt',
  description: 'Multi-Paxos + KV, deliberately broken: a new leader never adopts accepted values (expect chosen-twice)',
  explanation: `${CHAOS_EXPLANATION}\nDeliberately broken: phase 1 ignores what acceptors report having accepted, so a new leader
proposes its own values (or no-ops) over values that may be chosen. The monitors must report
chosen-twice, divergent replicas and lost writes, and the checker a non-linearizable history.`,
  wrap: { wrapSpec: neverAdopt, unwrapCore: unwrapBroken },
});

export const PAXOS_SIM_PROTOCOLS: readonly SimProtocol[] = [paxosSimProtocol, paxosFlexibleSimProtocol, paxosForgetfulSimProtocol, paxosNeverAdoptSimProtocol];
