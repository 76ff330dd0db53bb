// Commit protocols under chaos, and their registration for `synod sim run --protocol NAME` and
// `synod chaos --protocol NAME` (2pc, paxos-commit): clients submit transfers between accounts
// on two participants under the random nemesis (partitions, crashes with restart, pauses, clock
// faults, loss, duplication, reordering); after healing every transaction must be decided, the
// commit checker must find atomicity and validity, and the balances must add up to their start.
import { isInvariantError, type Message } from '../../core/index.js';
import { runChaosPhases, type ChaosResult, type Violation } from '../../sim/chaos.js';
import { DEFAULT_RANDOM_NEMESIS, type RandomNemesisOptions } from '../../sim/nemesis.js';
import { eraseSimulation, type SimProtocol } from '../../sim/sim-protocol.js';
import { summarizeCommitCheck, type CommitCheckResult } from '../check.js';
import { PaxosCommitCluster, TwoPcCluster, type CommitCluster } from './cluster.js';

export const TWO_PC_CHAOS = { participants: 4, durationMs: 4_000, settleMs: 15_000, clients: 4 } as const;
export const PAXOS_COMMIT_CHAOS = { participants: 3, acceptors: 3, durationMs: 4_000, settleMs: 15_000, clients: 4 } as const;

export interface CommitChaosOptions {
  readonly seed: number;
  readonly participants?: number;
  readonly durationMs?: number;
  readonly nemesis?: Omit<RandomNemesisOptions, 'untilMs'>;
}

export interface CommitChaosResult extends ChaosResult {
  readonly commit: CommitCheckResult;
  readonly money: { readonly expected: number; readonly final: number | undefined };
}

export function runTwoPcChaos(o: CommitChaosOptions): CommitChaosResult {
  return runCommitChaos(new TwoPcCluster({ seed: o.seed, participants: o.participants ?? TWO_PC_CHAOS.participants }), o);
}

export function runPaxosCommitChaos(o: CommitChaosOptions & { readonly acceptors?: number }): CommitChaosResult {
  return runCommitChaos(new PaxosCommitCluster({ seed: o.seed, participants: o.participants ?? PAXOS_COMMIT_CHAOS.participants, acceptors: o.acceptors ?? PAXOS_COMMIT_CHAOS.acceptors }), o);
}

/** The phases on any commit system: safety under faults, heal, settle, a fresh transfer, the checks. */
export function runCommitChaos<M extends Message, P>(cluster: CommitCluster<M, P>, o: CommitChaosOptions): CommitChaosResult {
  const found: Violation[] = [];
  let commit: CommitCheckResult | undefined;
  const result = runChaosPhases(
    {
      cluster,
      startLoad: (untilMs) => cluster.startLoad(untilMs, TWO_PC_CHAOS.clients),
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
    { seed: o.seed, durationMs: o.durationMs ?? TWO_PC_CHAOS.durationMs, nemesis: o.nemesis ?? DEFAULT_RANDOM_NEMESIS, settleMs: TWO_PC_CHAOS.settleMs },
  );
  return { ...result, commit: commit ?? cluster.checkCommit(), money: { expected: cluster.expectedMoney(), final: cluster.totalMoney() } };
}

export const twoPcSimProtocol: SimProtocol = {
  name: '2pc',
  description: 'two-phase commit (src/txn): node 1 coordinates with presumed abort, the others are participants holding accounts with wait-die locks and cooperative termination; clients submit transfers; prints the outcomes, the commit checker\'s verdict and blocking times, and the money total',
  minNodes: 3,
  build(o) {
    const cluster = new TwoPcCluster({ seed: o.seed, participants: o.nodes - 1, ...(o.link === undefined ? {} : { link: o.link }), trace: o.trace === false ? false : { ...(o.trace.sink === undefined ? {} : { sink: o.trace.sink }) } });
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
  chaos: {
    explanation:
      'clients submit transfers between accounts on two participants under the random nemesis (partitions, crashes with restart losing unsynced writes, pauses, clock faults, loss, duplication, reordering); after healing every transaction must be decided and its locks released, the commit checker must find atomicity (every decider agrees) and validity (commit only after every yes), the balances must add up to their start, and a fresh transfer must commit',
    defaults: { nodes: TWO_PC_CHAOS.participants + 1, durationMs: TWO_PC_CHAOS.durationMs },
    run: (o) => runTwoPcChaos({ seed: o.seed, participants: o.nodes - 1, durationMs: o.durationMs }),
  },
};

export const paxosCommitSimProtocol: SimProtocol = {
  name: 'paxos-commit',
  description: 'Paxos Commit (src/txn/paxos-commit): node 1 leads, then the participants (RMs, each proposing its own vote at ballot 0), then 3 acceptors; a leader or an RM in doubt finishes the instances at a higher ballot; clients submit transfers; prints the outcomes, the commit checker\'s verdict and blocking times, and the money total',
  minNodes: 6,
  build(o) {
    const cluster = new PaxosCommitCluster({ seed: o.seed, participants: o.nodes - 4, acceptors: 3, ...(o.link === undefined ? {} : { link: o.link }), trace: o.trace === false ? false : { ...(o.trace.sink === undefined ? {} : { sink: o.trace.sink }) } });
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
  chaos: {
    explanation:
      'Paxos Commit with 3 acceptors: clients submit transfers under the random nemesis (partitions, crashes with restart losing unsynced writes, pauses, clock faults, loss, duplication, reordering); after healing every transaction must be decided and its locks released, the commit checker must find atomicity and validity, the balances must add up to their start, and a fresh transfer must commit',
    defaults: { nodes: 1 + PAXOS_COMMIT_CHAOS.participants + PAXOS_COMMIT_CHAOS.acceptors, durationMs: PAXOS_COMMIT_CHAOS.durationMs },
    run: (o) => runPaxosCommitChaos({ seed: o.seed, participants: o.nodes - 1 - PAXOS_COMMIT_CHAOS.acceptors, durationMs: o.durationMs }),
  },
};
