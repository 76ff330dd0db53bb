// Chaos runs of the Raft KV with leases (`synod chaos --protocol kv-lease`): lease holders that
// grant, put keys with their leases, keep some alive (pausing now and then) and abandon others,
// beside plain KV clients, under the random nemesis with clock drift (rates only: lease expiry
// assumes monotonic clocks) and pauses, plus membership changes. The lease checker judges every
// expiry against the promises the leaders made; the plain clients' history must be linearizable.
import type { History } from '../core/index.js';
import { isInvariantError } from '../core/index.js';
import { checkHistory, kvModel } from '../check/index.js';
import { LeasedKvStore } from '../kv/leased-store.js';
import { runChaosPhases, type ChaosResult, type ChaosSubject, type Violation } from '../sim/chaos.js';
import { DEFAULT_RANDOM_NEMESIS, type RandomNemesisOptions } from '../sim/nemesis.js';
import { eraseSimulation, type SimProtocol } from '../sim/sim-protocol.js';
import { DEFAULT_CHAOS, startMembershipChurn } from './chaos.js';
import { RaftCluster, type ClusterOptions } from './cluster.js';
import { RaftError } from './errors.js';
import { LeaseChecker } from './lease-checker.js';
import { describeRaftNodes } from './sim-protocol.js';
import { resolveRaftOptions } from './spec.js';
import type { RaftMessage, RaftOptions, RaftPersistOp, RaftRequest, RaftResponse } from './types.js';
import { startWorkload } from './workload.js';
import { DEFAULT_LEASE_WORKLOAD, LEASE_KEY_PREFIX, startLeaseWorkload, type LeaseWorkloadStats } from './workload-lease.js';

export interface LeaseChaosOptions {
  readonly seed: number;
  readonly nodes?: number;
  readonly durationMs?: number;
  readonly settleMs?: number;
  /** Lease holders (l1..lN) and plain KV clients (c1..cN). */
  readonly leaseClients?: number;
  readonly kvClients?: number;
  readonly raft?: Partial<Omit<RaftOptions, 'observer'>>;
  readonly nemesis?: Partial<Omit<RandomNemesisOptions, 'untilMs'>>;
  readonly trace?: ClusterOptions['trace'];
  /** Default true, as in the Raft chaos runs. */
  readonly membership?: boolean;
}

export interface LeaseChaosResult extends ChaosResult {
  readonly leases: LeaseWorkloadStats & { readonly expired: number; readonly promisesChecked: number };
}

/** The clock drift of the lease runs: up to 2% either way (clocks step nowhere). */
const LEASE_CLOCK_DRIFT_PPM = 20_000;
/** As the Raft chaos runs, with more clock faults, and clock faults that change rates only. */
const LEASE_NEMESIS: Omit<RandomNemesisOptions, 'untilMs'> = {
  ...DEFAULT_RANDOM_NEMESIS,
  meanIntervalMs: 300,
  minFaultMs: 100,
  maxFaultMs: 1500,
  mix: { ...DEFAULT_RANDOM_NEMESIS.mix, clock: 2, pause: 3 },
  clockStepMaxMs: 0,
  clockDriftMaxPpm: LEASE_CLOCK_DRIFT_PPM,
};
const LEASE_RAFT: Partial<RaftOptions> = { snapshotThresholdEntries: 40, snapshotChunkChars: 256, maxEntriesPerAppend: 16 };

export const DEFAULT_LEASE_CHAOS = { nodes: 5, durationMs: 5000, settleMs: 5000, leaseClients: DEFAULT_LEASE_WORKLOAD.clients, kvClients: 2 } as const;

/**
 * A Raft KV cluster whose every node runs a LeasedKvStore, watched by a lease checker: the
 * stores tell it their promises, the cores their applies and elections. `drift`: the largest clock
 * rate error the run may give a node.
 */
export function createLeaseCluster(options: Omit<ClusterOptions, 'observer' | 'createStore'>, drift: number): { cluster: RaftCluster; checker: LeaseChecker } {
  const checker = new LeaseChecker(resolveRaftOptions(options.raft ?? {}), drift);
  const cluster = new RaftCluster({
    ...options,
    observer: { applied: (_node, entry) => checker.applied(entry), becameLeader: (node, term) => checker.becameLeader(node, term) },
    createStore: (env) => {
      const store = new LeasedKvStore({ clock: () => env.now(), onLeaseEvent: (e) => checker.leaseEvent(env.id, e) });
      checker.store(env.id, store);
      return store;
    },
  });
  checker.attach(cluster);
  return { cluster, checker };
}

export function runLeaseChaos(options: LeaseChaosOptions): LeaseChaosResult {
  const nodes = options.nodes ?? DEFAULT_LEASE_CHAOS.nodes;
  const durationMs = options.durationMs ?? DEFAULT_LEASE_CHAOS.durationMs;
  const kvClients = options.kvClients ?? DEFAULT_LEASE_CHAOS.kvClients;
  const raft = { ...LEASE_RAFT, ...options.raft };
  const timing = resolveRaftOptions(raft);
  const nemesis = { ...LEASE_NEMESIS, ...options.nemesis };
  const { cluster, checker } = createLeaseCluster(
    { seed: options.seed, nodes, raft, fsyncMs: 1, trace: options.trace, client: { requestTimeoutMs: 250, opTimeoutMs: 2000 } },
    (nemesis.clockDriftMaxPpm ?? 1000) / 1e6,
  );
  let stats: LeaseWorkloadStats = { granted: 0, keptAlive: 0, revoked: 0, abandoned: 0, lost: 0, pauses: 0 };
  const leaseClients = options.leaseClients ?? DEFAULT_LEASE_CHAOS.leaseClients;
  const subject: ChaosSubject<RaftMessage, RaftRequest, RaftResponse, RaftPersistOp> = {
    cluster,
    startLoad: (untilMs) => {
      startWorkload(cluster, { clients: kvClients, keys: 3, thinkMs: 15, untilMs, prefix: 'c' });
      stats = startLeaseWorkload(cluster, { ...DEFAULT_LEASE_WORKLOAD, clients: leaseClients, untilMs }).stats;
      if (options.membership !== false) startMembershipChurn(cluster, untilMs);
    },
    settle: (timeoutMs) => cluster.settle(timeoutMs) !== undefined,
    afterSettle: (report) => {
      finalWrites(cluster, kvClients, report);
      // every holder stopped long ago: after the longest TTL, an election's extension and the
      // late bound, no lease may be left
      cluster.runFor(DEFAULT_LEASE_WORKLOAD.maxTtlMs + timing.electionTimeoutMaxTicks * timing.tickMs + checker.lateBoundMs + 500);
      checker.checkAllExpired();
    },
    finalChecks: () => cluster.monitor.checkLogs(),
    check: () => {
      const check = checkHistory(plainHistory(cluster.history()), kvModel, { maxStates: DEFAULT_CHAOS.checkerMaxStates });
      const v = check.violation;
      return { verdict: check.verdict, explanation: `the plain clients' history is not linearizable on key ${JSON.stringify(v?.key ?? '')}: operation ${v?.stuck ?? '?'} cannot be placed` };
    },
    violations: () => [...cluster.violations(), ...checker.violations],
    violationCount: () => cluster.monitor.violationCount + checker.violationCount,
    elections: () => cluster.monitor.elections,
    isInvariantError: (err): err is Error & { readonly code: string } => err instanceof RaftError || isInvariantError(err),
  };
  const result = runChaosPhases(subject, { seed: options.seed, durationMs, nemesis, settleMs: options.settleMs ?? DEFAULT_LEASE_CHAOS.settleMs });
  return { ...result, leases: { ...stats, expired: checker.expiries, promisesChecked: checker.checkedPromises } };
}

/** The plain KV clients' operations of the kv model: lease holders' keys vanish by revoke, which the model does not know. */
function plainHistory(history: History): History {
  const modeled = new Set(['get', 'put', 'delete', 'cas', 'incr']);
  return { format: history.format, ops: history.ops.filter((op) => op.process.startsWith('c') && modeled.has(op.f)) };
}

/** After settling, every plain client must get one write through: the healed cluster is live. */
function finalWrites(cluster: RaftCluster, clients: number, report: (v: Violation) => void): void {
  for (let c = 1; c <= clients; c++) {
    const client = cluster.client(`c${c}`);
    cluster.runUntil(() => !client.busy, 5000);
    const handle = cluster.exec({ op: 'put', key: `final-${c}`, value: c }, client);
    if (handle.outcome !== 'ok') report({ kind: 'liveness', atMs: cluster.nowMs, message: `client c${c}: a write after settling ended ${handle.outcome ?? 'unfinished'} (${handle.error ?? ''})` });
  }
}

export const kvLeaseSimProtocol: SimProtocol = {
  name: 'kv-lease',
  description: 'Raft + KV with leases: lease holders (grant, put with the lease, keep alive or abandon) beside plain KV clients; reports leases granted, kept alive and expired, and the lease checker\'s findings',
  minNodes: 1,
  build(o) {
    // the default nemesis's drift bound; a nemesis that steps clocks breaks the premise of lease expiry
    const { cluster, checker } = createLeaseCluster({ seed: o.seed, nodes: o.nodes, link: o.link, fsyncMs: 1, trace: o.trace === false ? false : { sink: o.trace.sink } }, 0.001);
    startWorkload(cluster, { clients: 2, keys: 3, thinkMs: 20, untilMs: o.durationMs, prefix: 'c' });
    const { stats } = startLeaseWorkload(cluster, { ...DEFAULT_LEASE_WORKLOAD, untilMs: o.durationMs });
    return {
      sim: eraseSimulation(cluster.sim),
      summarize: () => {
        const lines = describeRaftNodes(cluster);
        lines.push(`leases: ${stats.granted} granted, ${stats.keptAlive} keep-alives, ${stats.revoked} revoked by their holders, ${stats.abandoned} abandoned, ${checker.expiries} expired (${checker.checkedPromises} promises checked), ${stats.lost} lost by paused holders; left now: ${checker.leasesLeft() ?? '?'}`);
        cluster.monitor.checkLogs();
        const violations = [...cluster.violations(), ...checker.violations];
        lines.push(violations.length === 0 ? 'monitors and lease checker: no violation' : `${violations.length} violation(s), first: ${violations[0]?.kind} at ${violations[0]?.atMs} ms: ${violations[0]?.message}`);
        lines.push(`linearizability of the plain clients' history: ${checkHistory(plainHistory(cluster.history()), kvModel, { maxStates: DEFAULT_CHAOS.checkerMaxStates }).verdict}`);
        return lines;
      },
    };
  },
  chaos: {
    explanation: `Each seed runs a Raft + KV cluster with lease holders (grant, put keys with the lease, keep it
alive with pauses, revoke or abandon it) and plain KV clients under a random nemesis (partitions,
crashes, pauses of the leader and others, clock drift of up to 2% without steps, loss,
duplication, reordering, slow nodes, membership changes), heals it, lets every lease expire, and
checks the Raft monitors, that no lease was removed before the TTL of a promise a leader made
(on that leader's clock), that no lease outlived its expiry on a healthy leader by more than the
documented bound, that none is left at the end, and the linearizability of the plain clients'
history. A seed replays exactly.`,
    defaults: { nodes: DEFAULT_LEASE_CHAOS.nodes, durationMs: DEFAULT_LEASE_CHAOS.durationMs },
    run: (o) => runLeaseChaos(o),
  },
};

export { LEASE_KEY_PREFIX };
