// The guided tours of atomic commitment: the blocking scenario (blocking.ts) on one seed under
// each protocol, as named, captioned scripts with the outcome each must reach. The unit tests play
// them to the end and the visualizer plays the same scripts step by step in virtual time
// (driveScenarioProgram), so both reach the same outcomes.
import { driveScenarioProgram, runScenarioProgram, type ScenarioProgram } from '../../sim/scenario.js';
import type { LinkConfig } from '../../sim/network.js';
import { newCommitCluster, type CommitCluster, type CommitClusterHost, type CommitProtocolName } from '../sim/cluster.js';
import { ThreePcParticipantCore } from '../three-pc/participant.js';
import { blockingScenario, emptyBlockingObservation, type BlockingObservation } from './blocking.js';

/** Slower links than the tests' default, so that the phases can be watched (and a poll sees "prepared" before the decision). */
export const COMMIT_TOUR_LINK: Partial<LinkConfig> = { latency: { kind: 'uniform', minMs: 15, maxMs: 35 } };
/** How often a waiting step of a tour looks again when the visualizer drives it (virtual ms). */
export const COMMIT_TOUR_POLL_MS = 1;

/** What a tour ends with, as the page shows it and the tests check it. */
export interface CommitTourOutcome {
  /** The transfer's outcome as the participants decided it ("undecided": not everyone has). */
  readonly outcome: 'commit' | 'abort' | 'undecided';
  /** Participants in doubt, and locks held, just before the coordinator restarted. */
  readonly inDoubtBeforeRestart: number;
  readonly locksBeforeRestart: number;
  /** Every participant decided while the coordinator was still down. */
  readonly decidedWhileDown: boolean;
  /** The longest a participant stayed prepared without a decision (virtual ms). */
  readonly maxInDoubtMs: number;
  /** Atomicity and validity held (the commit checker). */
  readonly checkOk: boolean;
  /** No money created or destroyed. */
  readonly moneyKept: boolean;
}

export interface CommitTour {
  readonly name: string;
  readonly title: string;
  readonly caption: string;
  readonly protocol: CommitProtocolName;
  readonly participants: number;
  readonly seed: number;
  /** How long the coordinator stays down. */
  readonly outageMs: number;
  /** When to crash it: once every voter prepared (default), or once a participant is pre-committed (3PC). */
  readonly crashWhen?: 'prepared' | 'precommitted';
  /** The second participant never hears of the transaction (only the first votes). */
  readonly secondNeverHears?: boolean;
  /** Where the story ends on the scrubber (virtual ms). */
  readonly endMs: number;
  /** The outcome the tour must reach (maxInDoubtMs: at least `inDoubtAtLeastMs`, or below `inDoubtBelowMs`). */
  readonly expected: Omit<CommitTourOutcome, 'maxInDoubtMs' | 'checkOk' | 'moneyKept'> & { readonly inDoubtAtLeastMs?: number; readonly inDoubtBelowMs?: number };
}

const SEED = 11;
const OUTAGE_MS = 5_000;
const END_MS = 6_500;
const SAME_CRASH = 'The coordinator (node 1) crashes after every participant voted yes and before its decision, and stays down 5 s.';

export const COMMIT_TOURS: readonly CommitTour[] = [
  {
    name: 'blocking-2pc',
    title: 'blocking: 2PC',
    caption: `${SAME_CRASH} 2PC: the participants are prepared and cannot decide alone; they sit in doubt holding their locks until it recovers (presumed abort).`,
    protocol: '2pc',
    participants: 3,
    seed: SEED,
    outageMs: OUTAGE_MS,
    endMs: END_MS,
    expected: { outcome: 'abort', inDoubtBeforeRestart: 2, locksBeforeRestart: 2, decidedWhileDown: false, inDoubtAtLeastMs: OUTAGE_MS },
  },
  {
    name: 'blocking-2pc-never-heard',
    title: 'blocking: 2PC, one never heard',
    caption: 'The same crash, but the second participant never got the transaction: cooperative termination finds one that never voted, so the prepared one aborts without the coordinator.',
    protocol: '2pc',
    participants: 3,
    seed: SEED,
    outageMs: OUTAGE_MS,
    secondNeverHears: true,
    endMs: END_MS,
    expected: { outcome: 'abort', inDoubtBeforeRestart: 0, locksBeforeRestart: 0, decidedWhileDown: true, inDoubtBelowMs: 1_000 },
  },
  {
    name: 'blocking-3pc',
    title: 'blocking: 3PC',
    caption: `${SAME_CRASH} 3PC: every participant is uncertain (none pre-committed), so the backup coordinator's termination protocol aborts while the coordinator is down.`,
    protocol: '3pc',
    participants: 3,
    seed: SEED,
    outageMs: OUTAGE_MS,
    endMs: END_MS,
    expected: { outcome: 'abort', inDoubtBeforeRestart: 0, locksBeforeRestart: 0, decidedWhileDown: true, inDoubtBelowMs: 1_000 },
  },
  {
    name: 'blocking-3pc-precommitted',
    title: 'blocking: 3PC after PRE-COMMIT',
    caption: 'The coordinator crashes once PRE-COMMIT reached a participant: the backup pre-commits the rest and commits, without the coordinator.',
    protocol: '3pc',
    participants: 3,
    seed: SEED,
    outageMs: OUTAGE_MS,
    crashWhen: 'precommitted',
    endMs: END_MS,
    expected: { outcome: 'commit', inDoubtBeforeRestart: 0, locksBeforeRestart: 0, decidedWhileDown: true, inDoubtBelowMs: 1_000 },
  },
  {
    name: 'blocking-paxos-commit',
    title: 'blocking: Paxos Commit',
    caption: `${SAME_CRASH} Paxos Commit: each vote is chosen by three acceptors; a participant in doubt finishes the instances at a higher ballot and commits, the coordinator still down.`,
    protocol: 'paxos-commit',
    participants: 3,
    seed: SEED,
    outageMs: OUTAGE_MS,
    endMs: END_MS,
    expected: { outcome: 'commit', inDoubtBeforeRestart: 0, locksBeforeRestart: 0, decidedWhileDown: true, inDoubtBelowMs: 1_000 },
  },
];

export function commitTourByName(name: string): CommitTour | undefined {
  return COMMIT_TOURS.find((t) => t.name === name);
}

/** The cluster a tour plays on (`seed` overrides the tour's; `host` wraps the cores for the visualizer). */
export function commitTourCluster(tour: CommitTour, seed = tour.seed, host?: CommitClusterHost): CommitCluster<never, unknown> {
  return newCommitCluster(tour.protocol, { seed, participants: tour.participants, link: COMMIT_TOUR_LINK, trace: false, ...(host === undefined ? {} : { host }) }) as unknown as CommitCluster<never, unknown>;
}

/** Whether some participant is pre-committed (3PC) now. */
export function somePrecommitted(cluster: CommitCluster<never, unknown>): boolean {
  return cluster.participants.some((id) => {
    const core = cluster.core(id);
    return core instanceof ThreePcParticipantCore && core.inDoubt().some((txn) => core.stateOf(txn) === 'precommitted');
  });
}

/** The tour's script on `cluster`; `seen` is filled in as it runs. */
export function commitTourProgram(cluster: CommitCluster<never, unknown>, tour: CommitTour, seen: BlockingObservation): ScenarioProgram {
  return blockingScenario(
    cluster,
    {
      outageMs: tour.outageMs,
      ...(tour.secondNeverHears === true ? { secondNeverHears: true } : {}),
      ...(tour.crashWhen === 'precommitted' ? { crashWhen: () => somePrecommitted(cluster) } : {}),
    },
    seen,
  );
}

/** What the cluster shows now, judged as the tour's outcome. */
export function commitTourOutcome(cluster: CommitCluster<never, unknown>, seen: BlockingObservation): CommitTourOutcome {
  const check = cluster.checkCommit();
  const decided = check.transactions > 0 && check.undecided === 0 && check.inDoubtAtEnd === 0;
  return {
    outcome: !decided ? 'undecided' : check.committed > 0 ? 'commit' : 'abort',
    inDoubtBeforeRestart: seen.inDoubtBeforeRestart,
    locksBeforeRestart: seen.locksBeforeRestart,
    decidedWhileDown: check.blocking.every((b) => b.toMs !== undefined && b.toMs < seen.restartedAtMs),
    maxInDoubtMs: check.maxBlockingMs,
    checkOk: check.ok,
    moneyKept: cluster.totalMoney() === cluster.expectedMoney(),
  };
}

/** How an outcome differs from the tour's expected one (empty: it matches). */
export function commitTourMismatches(tour: CommitTour, o: CommitTourOutcome): string[] {
  const e = tour.expected;
  const problems: string[] = [];
  for (const k of ['outcome', 'inDoubtBeforeRestart', 'locksBeforeRestart', 'decidedWhileDown'] as const) if (o[k] !== e[k]) problems.push(`${k}: expected ${String(e[k])}, got ${String(o[k])}`);
  if (e.inDoubtAtLeastMs !== undefined && o.maxInDoubtMs < e.inDoubtAtLeastMs) problems.push(`in doubt ${o.maxInDoubtMs} ms, expected at least ${e.inDoubtAtLeastMs} ms`);
  if (e.inDoubtBelowMs !== undefined && o.maxInDoubtMs >= e.inDoubtBelowMs) problems.push(`in doubt ${o.maxInDoubtMs} ms, expected below ${e.inDoubtBelowMs} ms`);
  if (!o.checkOk) problems.push('the commit checker found a violation');
  if (!o.moneyKept) problems.push('money was created or destroyed');
  return problems;
}

export interface CommitTourResult {
  readonly failure: string | undefined;
  readonly outcome: CommitTourOutcome;
  readonly mismatches: readonly string[];
  readonly cluster: CommitCluster<never, unknown>;
}

/**
 * Plays a tour to its end: 'run' lets the simulator answer each wait at once; 'drive' plays it as
 * the visualizer does (polling every COMMIT_TOUR_POLL_MS in virtual time), then runs to `endMs`.
 */
export function runCommitTour(tour: CommitTour, options: { readonly driver?: 'run' | 'drive'; readonly seed?: number } = {}): CommitTourResult {
  const cluster = commitTourCluster(tour, options.seed ?? tour.seed);
  const seen = emptyBlockingObservation();
  const program = commitTourProgram(cluster, tour, seen);
  let failure: string | undefined;
  if (options.driver === 'drive') {
    let ended = false;
    driveScenarioProgram(cluster.sim, program, {
      pollMs: COMMIT_TOUR_POLL_MS,
      onEnd: (f) => {
        failure = f;
        ended = true;
      },
    });
    cluster.runUntil(() => ended, 10 * tour.endMs);
    if (!ended) failure = `the tour did not end within ${10 * tour.endMs} ms`;
  } else {
    failure = runScenarioProgram(cluster.sim, program);
  }
  if (cluster.nowMs < tour.endMs) cluster.runFor(tour.endMs - cluster.nowMs);
  const outcome = commitTourOutcome(cluster, seen);
  return { failure, outcome, mismatches: commitTourMismatches(tour, outcome), cluster };
}
