// Kill at every step: one transfer runs on a fault-free cluster to count its steps (a message
// handled, an op written, an fsync), then once more per node and per step, crashing that node
// right after that step and restarting it later. Every run must settle with the commit checker
// satisfied, the money intact, and the client never told an outcome the participants did not reach.
import type { Message, NodeId } from '../../core/index.js';
import type { TraceEvent } from '../../sim/trace.js';
import { COORDINATOR, newCommitCluster, type CommitCluster, type CommitProtocolName } from './cluster.js';

export interface KillStepsOptions {
  readonly protocol: CommitProtocolName;
  readonly seed: number;
  /** Participants in the cluster (the transfer touches the first two). Default 3. */
  readonly participants?: number;
  /** How long the crashed node stays down (virtual ms). Default 1500: every timeout fires meanwhile. */
  readonly downMs?: number;
  /** How long a run may take to settle after the restart. Default 20 000. */
  readonly settleMs?: number;
  /** Crash only these nodes (default: the coordinator, the transfer's two participants, and for Paxos Commit the first acceptor). */
  readonly targets?: readonly NodeId[];
  /** Leave the crashed node down (to show what the harness reports when a run cannot settle). */
  readonly neverRestart?: boolean;
  /** Only these steps (1-based; default all). */
  readonly steps?: readonly number[];
}

export interface KillStepFailure {
  readonly target: NodeId;
  readonly step: number;
  readonly message: string;
}

export interface KillStepsResult {
  readonly protocol: CommitProtocolName;
  readonly seed: number;
  /** Steps of the transfer in the fault-free run. */
  readonly steps: number;
  readonly runs: number;
  readonly failures: readonly KillStepFailure[];
  /** Outcomes over the runs. */
  readonly committed: number;
  readonly aborted: number;
  /** Runs where no participant ever heard of the transaction (the coordinator crashed first). */
  readonly neverStarted: number;
  /** The longest a participant stayed in doubt in any run (virtual ms). */
  readonly maxInDoubtMs: number;
}

/** Upper bound on the steps of one transfer (a run past it is a bug, not a long transfer). */
const MAX_STEPS = 2_000;

const isStep = (e: TraceEvent): boolean => e.ev === 'deliver' || e.ev === 'persist' || e.ev === 'fsync' || e.ev === 'request';

function build(o: KillStepsOptions): { cluster: CommitCluster<Message, unknown>; answer: () => string | undefined } {
  const cluster = newCommitCluster(o.protocol, { seed: o.seed, participants: o.participants ?? 3, trace: false });
  const [p, q] = cluster.participants as [NodeId, NodeId];
  let answer: string | undefined;
  cluster.transfer('client', { node: p, key: 'a' }, { node: q, key: 'a' }, 10, (res) => (answer = res === undefined ? 'no answer' : 'error' in res ? res.error : res.outcome));
  return { cluster, answer: () => answer };
}

/** Steps one transfer takes with no fault. */
export function countSteps(o: KillStepsOptions): number {
  const { cluster, answer } = build(o);
  let steps = 0;
  cluster.sim.subscribe((e) => {
    if (isStep(e)) steps++;
  });
  cluster.runUntil(() => answer() !== undefined && cluster.quiescent(), 10_000);
  if (steps > MAX_STEPS) throw new RangeError(`one transfer took ${steps} steps (more than ${MAX_STEPS})`);
  return steps;
}

export function killAtEveryStep(o: KillStepsOptions): KillStepsResult {
  const steps = countSteps(o);
  const probe = build(o).cluster;
  const targets = o.targets ?? [COORDINATOR, ...probe.participants.slice(0, 2), ...(o.protocol === 'paxos-commit' ? [probe.sim.nodeIds.at(-3) as NodeId] : [])];
  const failures: KillStepFailure[] = [];
  let runs = 0;
  let committed = 0;
  let aborted = 0;
  let neverStarted = 0;
  let maxInDoubtMs = 0;
  for (const target of targets) {
    for (let step = 1; step <= steps; step++) {
      if (o.steps !== undefined && !o.steps.includes(step)) continue;
      runs++;
      const r = killOnce(o, target, step);
      if (r.failure !== undefined) failures.push({ target, step, message: r.failure });
      if (r.outcome === 'commit') committed++;
      else if (r.outcome === 'abort') aborted++;
      else neverStarted++;
      maxInDoubtMs = Math.max(maxInDoubtMs, r.maxInDoubtMs);
    }
  }
  return { protocol: o.protocol, seed: o.seed, steps, runs, failures, committed, aborted, neverStarted, maxInDoubtMs };
}

/** One run: crash `target` right after step `step`, restart it `downMs` later, settle, judge. */
export function killOnce(o: KillStepsOptions, target: NodeId, step: number): { failure: string | undefined; outcome: 'commit' | 'abort' | undefined; maxInDoubtMs: number } {
  const { cluster, answer } = build(o);
  const downMs = o.downMs ?? 1_500;
  let seen = 0;
  let crashedAtMs: number | undefined;
  const stop = cluster.sim.subscribe((e) => {
    if (!isStep(e) || ++seen !== step) return;
    cluster.sim.at(e.t, () => {
      crashedAtMs = cluster.nowMs;
      cluster.crash(target);
      if (o.neverRestart !== true) cluster.sim.after(downMs, () => cluster.restart(target));
    });
  });
  const settled = cluster.runUntil(() => crashedAtMs !== undefined && cluster.nowMs >= crashedAtMs + downMs && cluster.isUp(target) && cluster.inFlight === 0 && cluster.quiescent(), (o.settleMs ?? 20_000) + downMs);
  stop();
  const check = cluster.checkCommit();
  const outcome = check.committed > 0 ? 'commit' : check.aborted > 0 ? 'abort' : undefined;
  const problems: string[] = [];
  if (!settled) {
    const d = cluster.inDoubtNow();
    problems.push(`did not settle: ${d.transactions} in doubt, ${d.locks} locks held, client ${answer() ?? 'waiting'}`);
  }
  if (!check.ok) problems.push(...check.violations.map((v) => `${v.kind}: ${v.message}`));
  if (check.undecided > 0 && check.blocking.length > 0) problems.push(`${check.undecided} transaction(s) voted on but never decided`);
  const money = cluster.totalMoney();
  if (money !== cluster.expectedMoney()) problems.push(`money: ${String(money)}, not ${cluster.expectedMoney()}`);
  const told = answer();
  if ((told === 'commit' || told === 'abort') && outcome !== told) problems.push(`the client was told ${told}, the participants decided ${outcome ?? 'nothing'}`);
  return { failure: problems.length === 0 ? undefined : problems.join('; '), outcome, maxInDoubtMs: check.maxBlockingMs };
}
