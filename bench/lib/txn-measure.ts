// The measuring functions of `npm run bench -- txn`: one commit protocol (2PC, 3PC, Paxos
// Commit) in the simulator under a scripted nemesis that is the same for all three (the same
// node ids crashed at the same virtual times), with closed-loop clients doing transfers. Reports
// virtual-time throughput, client latency, abort rate, messages per transaction and the commit
// checker's in-doubt times. Deterministic per seed; no wall-clock time is measured here.
import type { Message, NodeId } from '../../src/core/index.js';
import { COORDINATOR, newCommitCluster, type CommitCluster, type CommitProtocolName } from '../../src/txn/sim/cluster.js';

export type TxnNemesis = 'none' | 'coordinator-crashes' | 'participant-crashes';
export const TXN_NEMESES: readonly TxnNemesis[] = ['none', 'coordinator-crashes', 'participant-crashes'];

export interface TxnBenchPlan {
  readonly protocol: CommitProtocolName;
  readonly nemesis: TxnNemesis;
  readonly seed: number;
  /** Virtual ms of client load (faults during it). */
  readonly durationMs: number;
  readonly participants: number;
  readonly clients: number;
  /** A client's pause between its answer and its next transfer. */
  readonly thinkMs: number;
  /** Every this many ms a node crashes … */
  readonly faultEveryMs: number;
  /** … and stays down this long. */
  readonly downMs: number;
}

export const TXN_BENCH_DEFAULTS: Omit<TxnBenchPlan, 'protocol' | 'nemesis' | 'seed'> = {
  durationMs: 30_000,
  participants: 3,
  clients: 4,
  thinkMs: 10,
  faultEveryMs: 3_000,
  downMs: 1_500,
};

export interface TxnBenchRun {
  readonly plan: TxnBenchPlan;
  /** Transfers the clients were told committed, per virtual second of load. */
  readonly committedPerSecond: number;
  readonly transfers: { readonly committed: number; readonly aborted: number; readonly unknown: number; readonly refused: number };
  /** Client-observed latency of committed transfers (virtual ms). */
  readonly commitLatencyMs: { readonly p50: number; readonly p99: number; readonly max: number };
  /** Messages sent per transaction begun. */
  readonly messagesPerTxn: number;
  /** Per participant and transaction, from its yes vote to its decision (the checker's blocking intervals). */
  readonly inDoubtMs: { readonly mean: number; readonly p99: number; readonly max: number; readonly count: number };
  /** The in-doubt stretches a fault caused (at least BLOCKED_MS): how many, and their mean. */
  readonly blocked: { readonly count: number; readonly meanMs: number };
  /** Participant-ms spent in doubt per virtual second of the run. */
  readonly inDoubtMsPerSecond: number;
  /** The checker's verdict on the whole history, and the money total. */
  readonly checkerOk: boolean;
  readonly moneyOk: boolean;
  /** Every participant decided everything after the faults ended. */
  readonly settled: boolean;
  readonly transactions: number;
}

/** An in-doubt stretch this long is counted as blocked by a fault (fault-free ones take tens of ms). */
export const BLOCKED_MS = 200;

/** How long the run may take to decide everything after the load ends (virtual ms). */
const SETTLE_MS = 30_000;

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/**
 * The scripted nemesis: crash a node every `faultEveryMs` (plus a jitter of up to a fifth of it,
 * so crashes do not fall in step with the clients) for `downMs` — the coordinator, or the
 * participants in turn. The times come from the seed alone: the same for every protocol.
 */
function scheduleNemesis(cluster: CommitCluster<Message, unknown>, plan: TxnBenchPlan): void {
  if (plan.nemesis === 'none') return;
  const jitter = cluster.sim.random.stream('bench-nemesis');
  let i = 0;
  for (let slot = plan.faultEveryMs; slot + plan.faultEveryMs / 5 + plan.downMs <= plan.durationMs; slot += plan.faultEveryMs, i++) {
    const at = slot + jitter.int(0, Math.floor(plan.faultEveryMs / 5));
    const target: NodeId = plan.nemesis === 'coordinator-crashes' ? COORDINATOR : (cluster.participants[i % cluster.participants.length] as NodeId);
    cluster.sim.at(at, () => cluster.crash(target));
    cluster.sim.at(at + plan.downMs, () => cluster.restart(target));
  }
}

/** One run of one protocol under one nemesis. */
export function measureTxn(plan: TxnBenchPlan): TxnBenchRun {
  const cluster = newCommitCluster(plan.protocol, { seed: plan.seed, participants: plan.participants, trace: false });
  const rng = cluster.sim.random.stream('bench-workload');
  const latencies: number[] = [];
  scheduleNemesis(cluster, plan);
  for (let c = 0; c < plan.clients; c++) {
    const next = (): void => {
      if (cluster.nowMs >= plan.durationMs) return;
      const [a, b] = rng.shuffled(cluster.participants) as [NodeId, NodeId];
      const startedMs = cluster.nowMs;
      cluster.transfer(`c${c}`, { node: a, key: rng.pick(cluster.accounts) }, { node: b, key: rng.pick(cluster.accounts) }, rng.int(1, 20), (res) => {
        if (res !== undefined && !('error' in res) && res.outcome === 'commit') latencies.push(cluster.nowMs - startedMs);
        cluster.sim.after(plan.thinkMs, next);
      });
    };
    cluster.sim.after(rng.int(0, plan.thinkMs), next);
  }
  cluster.runFor(plan.durationMs);
  const settled = cluster.runUntil(() => cluster.inFlight === 0 && cluster.quiescent(), SETTLE_MS);
  const check = cluster.checkCommit();
  const durations = check.blocking.map((b) => b.durationMs).sort((x, y) => x - y);
  const sortedLatency = [...latencies].sort((x, y) => x - y);
  const o = cluster.outcomes;
  return {
    plan,
    committedPerSecond: o.committed / (plan.durationMs / 1000),
    transfers: { ...o },
    commitLatencyMs: { p50: percentile(sortedLatency, 50), p99: percentile(sortedLatency, 99), max: sortedLatency.at(-1) ?? 0 },
    messagesPerTxn: check.transactions === 0 ? 0 : cluster.sim.stats.total.sent / check.transactions,
    inDoubtMs: { mean: durations.length === 0 ? 0 : check.totalBlockingMs / durations.length, p99: percentile(durations, 99), max: check.maxBlockingMs, count: durations.length },
    blocked: meanOver(durations.filter((d) => d >= BLOCKED_MS)),
    inDoubtMsPerSecond: check.totalBlockingMs / (cluster.nowMs / 1000),
    checkerOk: check.ok,
    moneyOk: cluster.totalMoney() === cluster.expectedMoney(),
    settled,
    transactions: check.transactions,
  };
}

function meanOver(values: readonly number[]): { count: number; meanMs: number } {
  return { count: values.length, meanMs: values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length };
}

/** The runs of `seeds` seeds merged: sums and means over seeds, maxima over all. */
export function measureTxnSeeds(base: Omit<TxnBenchPlan, 'seed'>, seeds: readonly number[]): TxnBenchRun {
  const runs = seeds.map((seed) => measureTxn({ ...base, seed }));
  const mean = (f: (r: TxnBenchRun) => number): number => runs.reduce((s, r) => s + f(r), 0) / runs.length;
  const sum = (f: (r: TxnBenchRun) => number): number => runs.reduce((s, r) => s + f(r), 0);
  const inDoubtCount = sum((r) => r.inDoubtMs.count);
  return {
    plan: { ...base, seed: seeds[0] ?? 0 },
    committedPerSecond: mean((r) => r.committedPerSecond),
    transfers: { committed: sum((r) => r.transfers.committed), aborted: sum((r) => r.transfers.aborted), unknown: sum((r) => r.transfers.unknown), refused: sum((r) => r.transfers.refused) },
    commitLatencyMs: { p50: mean((r) => r.commitLatencyMs.p50), p99: mean((r) => r.commitLatencyMs.p99), max: Math.max(...runs.map((r) => r.commitLatencyMs.max)) },
    messagesPerTxn: sum((r) => r.messagesPerTxn * r.transactions) / Math.max(1, sum((r) => r.transactions)),
    inDoubtMs: { mean: inDoubtCount === 0 ? 0 : sum((r) => r.inDoubtMs.mean * r.inDoubtMs.count) / inDoubtCount, p99: mean((r) => r.inDoubtMs.p99), max: Math.max(...runs.map((r) => r.inDoubtMs.max)), count: inDoubtCount },
    blocked: { count: sum((r) => r.blocked.count), meanMs: sum((r) => r.blocked.count) === 0 ? 0 : sum((r) => r.blocked.meanMs * r.blocked.count) / sum((r) => r.blocked.count) },
    inDoubtMsPerSecond: mean((r) => r.inDoubtMsPerSecond),
    checkerOk: runs.every((r) => r.checkerOk),
    moneyOk: runs.every((r) => r.moneyOk),
    settled: runs.every((r) => r.settled),
    transactions: sum((r) => r.transactions),
  };
}
