// Commit protocols under chaos, and their registration for `synod sim run --protocol NAME` and
// `synod chaos --protocol NAME` (2pc, 3pc, 3pc-partition, paxos-commit): clients submit transfers
// between accounts on two participants under a random nemesis (the full one for 2PC and Paxos
// Commit; crashes only for 3PC, partitions only to break it); after healing every transaction
// must be decided, the commit checker must find atomicity and validity, and the money add up.
import { isInvariantError, type Message } from '../../core/index.js';
import { runChaosPhases, type ChaosResult, type Violation } from '../../sim/chaos.js';
import { DEFAULT_RANDOM_NEMESIS, type RandomNemesisOptions } from '../../sim/nemesis.js';
import { eraseSimulation, type SimProtocol, type SimRunOptions } from '../../sim/sim-protocol.js';
import { summarizeCommitCheck, type CommitCheckResult } from '../check.js';
import { PaxosCommitCluster, ThreePcCluster, TwoPcCluster, type CommitCluster, type CommitClusterOptions } from './cluster.js';

/** Shared by every commit protocol's chaos run. */
export const COMMIT_CHAOS = { durationMs: 4_000, settleMs: 15_000, clients: 4 } as const;
export const TWO_PC_CHAOS = { ...COMMIT_CHAOS, participants: 4 } as const;
export const PAXOS_COMMIT_CHAOS = { ...COMMIT_CHAOS, participants: 3, acceptors: 3 } as const;
export const THREE_PC_CHAOS = { ...COMMIT_CHAOS, participants: 4 } as const;

const NO_FAULTS: RandomNemesisOptions['mix'] = { partition: 0, crash: 0, pause: 0, clock: 0, loss: 0, duplicate: 0, reorder: 0, slow: 0 };

/** 3PC's fault model: crashes (with restarts) and nothing else, so delays stay bounded. */
export const CRASH_ONLY_NEMESIS: Omit<RandomNemesisOptions, 'untilMs'> = { ...DEFAULT_RANDOM_NEMESIS, mix: { ...NO_FAULTS, crash: 1 } };
/** Network partitions and nothing else: what breaks 3PC. */
export const PARTITION_ONLY_NEMESIS: Omit<RandomNemesisOptions, 'untilMs'> = { ...DEFAULT_RANDOM_NEMESIS, mix: { ...NO_FAULTS, partition: 1 } };

export interface CommitChaosOptions {
  readonly seed: number;
  readonly participants?: number;
  readonly durationMs?: number;
  readonly nemesis?: Omit<RandomNemesisOptions, 'untilMs'>;
}

export interface CommitChaosResult extends ChaosResult {
  readonly commit: CommitCheckResult;
  readonly money: { readonly expected: number; readonly final: number | undefined };
  /** Transfers the clients saw end each way. */
  readonly transfers: { readonly committed: number; readonly aborted: number; readonly unknown: number; readonly refused: number };
}

/**
 * How `nodes` split for Paxos Commit: the leader, the participants (at least 2), and 3 acceptors
 * from 6 nodes on (F = 1), 1 below (F = 0: the acceptor is a single point of blocking, as a 2PC
 * coordinator's log is), so that `synod sim run`'s default 5 nodes still run it.
 */
export function paxosCommitLayout(nodes: number): { readonly participants: number; readonly acceptors: number } {
  const acceptors = nodes >= 6 ? 3 : 1;
  const participants = nodes - 1 - acceptors;
  if (participants < 2) throw new RangeError(`paxos-commit needs at least 4 nodes (the leader, 2 participants, an acceptor), got ${nodes}`);
  return { participants, acceptors };
}

export function runTwoPcChaos(o: CommitChaosOptions): CommitChaosResult {
  return runCommitChaos(new TwoPcCluster({ seed: o.seed, participants: o.participants ?? TWO_PC_CHAOS.participants }), o);
}

export function runPaxosCommitChaos(o: CommitChaosOptions & { readonly acceptors?: number }): CommitChaosResult {
  return runCommitChaos(new PaxosCommitCluster({ seed: o.seed, participants: o.participants ?? PAXOS_COMMIT_CHAOS.participants, acceptors: o.acceptors ?? PAXOS_COMMIT_CHAOS.acceptors }), o);
}

/** 3PC under its own fault model by default (crashes only); pass a nemesis to break it. */
export function runThreePcChaos(o: CommitChaosOptions): CommitChaosResult {
  return runCommitChaos(new ThreePcCluster({ seed: o.seed, participants: o.participants ?? THREE_PC_CHAOS.participants }), { ...o, nemesis: o.nemesis ?? CRASH_ONLY_NEMESIS });
}

/** The phases on any commit system: safety under faults, heal, settle, a fresh transfer, the checks. */
export function runCommitChaos<M extends Message, P>(cluster: CommitCluster<M, P>, o: CommitChaosOptions): CommitChaosResult {
  const found: Violation[] = [];
  let commit: CommitCheckResult | undefined;
  const result = runChaosPhases(
    {
      cluster,
      startLoad: (untilMs) => cluster.startLoad(untilMs, COMMIT_CHAOS.clients),
      settle: (timeoutMs) => {
        cluster.healEverything();
        const settled = cluster.runUntil(() => cluster.quiescent(), timeoutMs);
        if (!settled) {
          const d = cluster.inDoubtNow();
          found.push({ kind: 'liveness', atMs: cluster.nowMs, message: `not settled within ${timeoutMs} ms of healing: ${d.transactions} in doubt, ${d.locks} locks held` });
        }
        return settled;
      },
      afterSettle: (report) => {
        // a fresh transfer must commit: from the richest account, so no balance stops it
        let best = { node: cluster.participants[0] as string, key: cluster.accounts[0] as string, balance: -1 };
        for (const node of cluster.participants) for (const key of cluster.accounts) {
          const balance = cluster.participant(node)?.balance(key) ?? -1;
          if (balance > best.balance) best = { node, key, balance };
        }
        const to = { node: cluster.participants.find((p) => p !== best.node) as string, key: cluster.accounts[0] as string };
        let answer: string | undefined;
        cluster.transfer('after-heal', best, to, 1, (res) => (answer = res === undefined ? 'no answer' : 'error' in res ? res.error : res.outcome));
        cluster.runUntil(() => answer !== undefined && cluster.quiescent(), 5_000);
        if (answer !== 'commit') report({ kind: 'liveness', atMs: cluster.nowMs, message: `a transfer after healing ended ${answer ?? 'without an answer'}` });
      },
      finalChecks: () => {
        commit = cluster.checkCommit();
        for (const v of commit.violations) found.push({ kind: v.kind, atMs: v.atMs, message: v.message });
        const total = cluster.totalMoney();
        if (total !== cluster.expectedMoney()) found.push({ kind: 'money', atMs: cluster.nowMs, message: `the balances add up to ${String(total)}, not ${cluster.expectedMoney()}` });
      },
      check: () => ({ verdict: 'skipped' }),
      violations: () => found,
      violationCount: () => found.length,
      elections: () => 0,
      isInvariantError: (err): err is Error & { readonly code: string } => isInvariantError(err),
    },
    { seed: o.seed, durationMs: o.durationMs ?? COMMIT_CHAOS.durationMs, nemesis: o.nemesis ?? DEFAULT_RANDOM_NEMESIS, settleMs: COMMIT_CHAOS.settleMs },
  );
  return { ...result, commit: commit ?? cluster.checkCommit(), money: { expected: cluster.expectedMoney(), final: cluster.totalMoney() }, transfers: { ...cluster.outcomes } };
}

/** The cluster options `synod sim run` passes on. */
export function simRunClusterOptions(o: SimRunOptions): CommitClusterOptions {
  return { seed: o.seed, ...(o.link === undefined ? {} : { link: o.link }), trace: o.trace === false ? false : { ...(o.trace.sink === undefined ? {} : { sink: o.trace.sink }) } };
}

/** A commit protocol as a registered sim protocol: the run, its summary, and its chaos. */
export function commitSimProtocol<M extends Message, P>(d: {
  readonly name: string;
  readonly description: string;
  readonly minNodes: number;
  readonly cluster: (o: SimRunOptions) => CommitCluster<M, P>;
  readonly chaosExplanation: string;
  readonly chaosDefaults: { readonly nodes: number; readonly durationMs: number };
  readonly runChaos: (o: { readonly seed: number; readonly nodes: number; readonly durationMs: number }) => CommitChaosResult;
}): SimProtocol {
  return {
    name: d.name,
    description: d.description,
    minNodes: d.minNodes,
    build(o) {
      const cluster = d.cluster(o);
      cluster.startLoad(Math.floor(o.durationMs * 0.7), 3);
      return {
        sim: eraseSimulation(cluster.sim),
        summarize: () => {
          const c = cluster.outcomes;
          return [
            `transfers: ${c.committed} committed, ${c.aborted} aborted, ${c.unknown} unknown, ${c.refused} refused`,
            summarizeCommitCheck(cluster.checkCommit()),
            `money: ${String(cluster.totalMoney())} (started with ${cluster.expectedMoney()})`,
          ];
        },
      };
    },
    chaos: { explanation: d.chaosExplanation, defaults: d.chaosDefaults, run: (o) => d.runChaos(o) },
  };
}

const CHAOS_CHECKS = 'after healing every transaction must be decided and its locks released, the commit checker must find atomicity (every decider agrees) and validity (commit only after every yes), the balances must add up to their start, and a fresh transfer must commit';

export const twoPcSimProtocol: SimProtocol = commitSimProtocol({
  name: '2pc',
  description: 'two-phase commit (src/txn): node 1 coordinates with presumed abort, the others are participants holding accounts with wait-die locks and cooperative termination; clients submit transfers; prints the outcomes, the commit checker\'s verdict and blocking times, and the money total',
  minNodes: 3,
  cluster: (o) => new TwoPcCluster({ ...simRunClusterOptions(o), participants: o.nodes - 1 }),
  chaosExplanation: `clients submit transfers between accounts on two participants under the random nemesis (partitions, crashes with restart losing unsynced writes, pauses, clock faults, loss, duplication, reordering); ${CHAOS_CHECKS}`,
  chaosDefaults: { nodes: TWO_PC_CHAOS.participants + 1, durationMs: TWO_PC_CHAOS.durationMs },
  runChaos: (o) => runTwoPcChaos({ seed: o.seed, participants: o.nodes - 1, durationMs: o.durationMs }),
});

export const paxosCommitSimProtocol: SimProtocol = commitSimProtocol({
  name: 'paxos-commit',
  description: 'Paxos Commit (src/txn/paxos-commit): node 1 leads, then the participants (RMs, each proposing its own vote at ballot 0), then the acceptors (3 from 6 nodes on, else 1); an RM in doubt finishes the instances at a higher ballot; clients submit transfers; prints the outcomes, the commit checker\'s verdict and blocking times, and the money total',
  minNodes: 4,
  cluster: (o) => new PaxosCommitCluster({ ...simRunClusterOptions(o), ...paxosCommitLayout(o.nodes) }),
  chaosExplanation: `Paxos Commit (the leader, the participants, then 3 acceptors from 6 nodes on, else 1): clients submit transfers under the random nemesis (partitions, crashes with restart losing unsynced writes, pauses, clock faults, loss, duplication, reordering); ${CHAOS_CHECKS}`,
  chaosDefaults: { nodes: 1 + PAXOS_COMMIT_CHAOS.participants + PAXOS_COMMIT_CHAOS.acceptors, durationMs: PAXOS_COMMIT_CHAOS.durationMs },
  runChaos: (o) => runPaxosCommitChaos({ seed: o.seed, ...paxosCommitLayout(o.nodes), durationMs: o.durationMs }),
});



const threePcDescription = (faults: string): string =>
  `three-phase commit (src/txn/three-pc): node 1 coordinates (PREPARE, PRE-COMMIT, COMMIT), the others are participants holding accounts with wait-die locks that, when the coordinator goes silent, run Skeen's termination protocol as backups by rank; clients submit transfers; ${faults}; prints the outcomes, the commit checker's verdict and blocking times, and the money total`;

export const threePcSimProtocol: SimProtocol = commitSimProtocol({
  name: '3pc',
  description: threePcDescription('chaos uses crashes only, its fault model'),
  minNodes: 3,
  cluster: (o) => new ThreePcCluster({ ...simRunClusterOptions(o), participants: o.nodes - 1 }),
  chaosExplanation: `3PC under its own fault model: crashes with restart (losing unsynced writes) and nothing else, so delays stay bounded (no partitions, loss, pauses or clock faults); ${CHAOS_CHECKS}`,
  chaosDefaults: { nodes: THREE_PC_CHAOS.participants + 1, durationMs: THREE_PC_CHAOS.durationMs },
  runChaos: (o) => runThreePcChaos({ seed: o.seed, participants: o.nodes - 1, durationMs: o.durationMs }),
});

export const threePcPartitionSimProtocol: SimProtocol = commitSimProtocol({
  name: '3pc-partition',
  description: threePcDescription('chaos uses network partitions only, which break it'),
  minNodes: 3,
  cluster: (o) => new ThreePcCluster({ ...simRunClusterOptions(o), participants: o.nodes - 1 }),
  chaosExplanation: `3PC outside its fault model: network partitions only (no crashes); a backup on each side of a cut decides on the states it can see, so one side commits and the other aborts — expect atomicity violations (seed 5 shows one); ${CHAOS_CHECKS}`,
  chaosDefaults: { nodes: THREE_PC_CHAOS.participants + 1, durationMs: THREE_PC_CHAOS.durationMs },
  runChaos: (o) => runThreePcChaos({ seed: o.seed, participants: o.nodes - 1, durationMs: o.durationMs, nemesis: PARTITION_ONLY_NEMESIS }),
});
