// Chaos runs: a Raft + KV cluster under a seeded random nemesis (partitions, crashes and
// restarts, pauses, clock faults, loss, duplication, reordering, slowness) with concurrent KV
// clients; then everything is healed and the cluster must settle. Every monitor runs throughout,
// and the recorded history must be linearizable. One seed replays one run exactly.
import type { LinkConfig } from '../sim/network.js';
import { runChaosPhases, type ChaosResult, type ChaosSubject, type Violation } from '../sim/chaos.js';
import { DEFAULT_RANDOM_NEMESIS, type RandomNemesisOptions } from '../sim/nemesis.js';
import { RaftCluster, type ClusterOptions, type KvClient } from './cluster.js';
import { isInvariantError } from '../core/index.js';
import { RaftError } from './errors.js';
import type { RaftMessage, RaftOptions, RaftPersistOp, RaftRequest, RaftResponse } from './types.js';
import { startWorkload } from './workload.js';
import type { KvRequest } from '../kv/store.js';

/** What a chaos run of a replicated KV (Raft's, Multi-Paxos's) takes besides its protocol's own options. */
export interface KvChaosLoadOptions {
  readonly seed: number;
  readonly nodes?: number;
  /** How long faults are injected and clients run (virtual ms). */
  readonly durationMs?: number;
  readonly clients?: number;
  readonly keys?: number;
  /** Pause between a client's operations. */
  readonly thinkMs?: number;
  /** How long the healed cluster gets to elect a leader and catch up. */
  readonly settleMs?: number;
  readonly nemesis?: Partial<Omit<RandomNemesisOptions, 'untilMs'>>;
  readonly link?: Partial<LinkConfig>;
  readonly fsyncMs?: number;
  /** Budget of the linearizability check; an exhausted budget gives verdict unknown (not a violation). */
  readonly checkerMaxStates?: number;
}

export interface ChaosOptions extends KvChaosLoadOptions {
  readonly raft?: Partial<Omit<RaftOptions, 'observer'>>;
  readonly trace?: ClusterOptions['trace'];
  /** Also change the membership (remove a voter, add it back as learner, promote it) and transfer leadership. Default true. */
  readonly membership?: boolean;
}

export type { ChaosResult };

export const DEFAULT_CHAOS = {
  nodes: 5,
  durationMs: 5000,
  clients: 4,
  keys: 3,
  thinkMs: 15,
  settleMs: 5000,
  checkerMaxStates: 2_000_000,
} as const;

/** Faults come faster than the simulator's default so short runs see many of them, overlapping. */
export const CHAOS_NEMESIS: Omit<RandomNemesisOptions, 'untilMs'> = { ...DEFAULT_RANDOM_NEMESIS, meanIntervalMs: 300, minFaultMs: 100, maxFaultMs: 1500 };

/** Chaos clusters snapshot often, so snapshots and their installation are exercised too. */
export const CHAOS_RAFT: Partial<RaftOptions> = { snapshotThresholdEntries: 40, snapshotChunkChars: 256, maxEntriesPerAppend: 16 };

/** The load options with the defaults filled in. */
export function resolveKvChaosLoad(options: KvChaosLoadOptions): Required<Pick<KvChaosLoadOptions, 'seed' | keyof typeof DEFAULT_CHAOS>> {
  return {
    seed: options.seed,
    nodes: options.nodes ?? DEFAULT_CHAOS.nodes,
    durationMs: options.durationMs ?? DEFAULT_CHAOS.durationMs,
    clients: options.clients ?? DEFAULT_CHAOS.clients,
    keys: options.keys ?? DEFAULT_CHAOS.keys,
    thinkMs: options.thinkMs ?? DEFAULT_CHAOS.thinkMs,
    settleMs: options.settleMs ?? DEFAULT_CHAOS.settleMs,
    checkerMaxStates: options.checkerMaxStates ?? DEFAULT_CHAOS.checkerMaxStates,
  };
}

/** A KV cluster's linearizability verdict for a chaos run, with the first stuck operation explained. */
export function kvLinearizabilityCheck(cluster: Pick<RaftCluster, 'checkLinearizability'>, maxStates: number): { verdict: ReturnType<RaftCluster['checkLinearizability']>['verdict']; explanation: string } {
  const check = cluster.checkLinearizability(maxStates);
  const v = check.violation;
  return { verdict: check.verdict, explanation: `history not linearizable on key ${JSON.stringify(v?.key ?? '')}: operation ${v?.stuck ?? '?'} cannot be placed` };
}

export function runChaos(options: ChaosOptions): ChaosResult {
  const o = resolveKvChaosLoad(options);
  const cluster = new RaftCluster({
    seed: o.seed,
    nodes: o.nodes,
    raft: { ...CHAOS_RAFT, ...options.raft },
    link: options.link,
    fsyncMs: options.fsyncMs ?? 1,
    trace: options.trace,
    client: { requestTimeoutMs: 250, opTimeoutMs: 2000 },
  });
  const subject: ChaosSubject<RaftMessage, RaftRequest, RaftResponse, RaftPersistOp> = {
    cluster,
    startLoad: (untilMs) => {
      startWorkload(cluster, { clients: o.clients, keys: o.keys, thinkMs: o.thinkMs, untilMs, prefix: 'c' });
      if (options.membership !== false) startMembershipChurn(cluster, untilMs);
    },
    settle: (timeoutMs) => cluster.settle(timeoutMs) !== undefined,
    afterSettle: (report) => finalWrites<KvClient>(cluster, o.clients, report),
    finalChecks: () => cluster.monitor.checkLogs(),
    check: () => kvLinearizabilityCheck(cluster, o.checkerMaxStates),
    violations: () => cluster.violations(),
    violationCount: () => cluster.monitor.violationCount,
    elections: () => cluster.monitor.elections,
    isInvariantError: (err): err is Error & { readonly code: string } => err instanceof RaftError || isInvariantError(err),
  };
  return runChaosPhases(subject, { seed: o.seed, durationMs: o.durationMs, nemesis: { ...CHAOS_NEMESIS, ...options.nemesis }, settleMs: o.settleMs });
}

/**
 * Every so often one administrative change: remove a random voter (the leader included), or put
 * a removed node back as a learner and promote it, or hand leadership to a random voter.
 */
export function startMembershipChurn(cluster: RaftCluster, untilMs: number): void {
  const rng = cluster.sim.random.stream('chaos-membership');
  const all = cluster.nodeIds;
  const next = (): void => {
    if (cluster.nowMs >= untilMs) return;
    const leader = cluster.leader();
    const config = leader === undefined ? undefined : cluster.core(leader)?.config;
    const again = (): void => cluster.sim.after(rng.int(200, 1200), next);
    if (config === undefined) return again();
    const missing = all.filter((id) => !config.voters.includes(id) && !config.learners.includes(id));
    const learner = config.learners[0];
    const roll = rng.float();
    if (learner !== undefined) return cluster.adminAsync('promote', learner, 3000, again);
    if (missing.length > 0 && roll < 0.7) return cluster.adminAsync('addLearner', rng.pick(missing), 3000, again);
    if (roll < 0.3) return cluster.adminAsync('transferLeadership', rng.pick(config.voters), 3000, again);
    if (config.voters.length >= all.length - 1) return cluster.adminAsync('removeNode', rng.pick(config.voters), 3000, again);
    return again();
  };
  cluster.sim.after(rng.int(200, 1200), next);
}

/** After settling, every client must get one write through: the healed cluster is live. */
/** What finalWrites needs of a KV cluster (Raft's, Multi-Paxos's). */
export interface FinalWritesCluster<C extends { readonly busy: boolean }> {
  readonly nowMs: number;
  client(name: string): C;
  runUntil(predicate: () => boolean, timeoutMs: number): boolean;
  exec(op: KvRequest, client: C): { readonly outcome?: string | undefined; readonly error?: string | undefined };
}

export function finalWrites<C extends { readonly busy: boolean }>(cluster: FinalWritesCluster<C>, clients: number, report: (v: Violation) => void): void {
  for (let c = 1; c <= clients; c++) {
    const client = cluster.client(`c${c}`);
    cluster.runUntil(() => !client.busy, 5000);
    const handle = cluster.exec({ op: 'put', key: `final-${c}`, value: c }, client);
    if (handle.outcome !== 'ok') {
      report({ kind: 'liveness', atMs: cluster.nowMs, message: `client c${c}: a write after settling ended ${handle.outcome ?? 'unfinished'} (${handle.error ?? ''})` });
    }
  }
}
