// The blocking scenario of atomic commitment, as a guided scenario program for any commit system
// of this folder: a transfer is prepared at every participant (all voted yes), the coordinator
// crashes before deciding, and stays down for a while. Under 2PC the participants stay in doubt
// holding their locks until it recovers (cooperative termination cannot help: every participant
// is prepared); under 3PC a backup runs the termination protocol, and under Paxos Commit a
// participant in doubt finishes the instances itself. The commit checker's blocking time shows
// the difference. Run by tests with runScenarioProgram.
import type { Message, NodeId } from '../../core/index.js';
import { ScenarioError, type ScenarioProgram } from '../../sim/scenario.js';
import { COORDINATOR, type CommitCluster } from '../sim/cluster.js';

export interface BlockingScenarioOptions {
  /** How long the coordinator stays down. */
  readonly outageMs: number;
  /** The transfer's two participants (default the first two). */
  readonly between?: readonly [NodeId, NodeId];
  /**
   * Cut the coordinator's messages to the second participant before the transfer, so only the
   * first one prepares (it never gets the transaction): the crash then leaves one participant
   * prepared and one that never voted.
   */
  readonly secondNeverHears?: boolean;
  /**
   * When to crash the coordinator, once the voters prepared (default: at once). For 3PC, e.g.
   * "once a participant is pre-committed": the crash then falls after PRE-COMMIT.
   */
  readonly crashWhen?: () => boolean;
}

/** What the scenario saw, for the test to judge (with the commit checker's blocking times). */
export interface BlockingObservation {
  /** Participants in doubt, and locks held, just before the coordinator restarted. */
  inDoubtBeforeRestart: number;
  locksBeforeRestart: number;
  /** When the coordinator crashed and restarted (virtual ms). */
  crashedAtMs: number;
  restartedAtMs: number;
}

function fail(where: string, what: string): never {
  throw new ScenarioError(`${where}: ${what}`);
}

/** The scenario on a commit cluster (2PC, 3PC, Paxos Commit); `seen` is filled in as it runs. */
export function* blockingScenario<M extends Message, P>(cluster: CommitCluster<M, P>, o: BlockingScenarioOptions, seen: BlockingObservation): ScenarioProgram {
  const [p, q] = o.between ?? [cluster.participants[0] as NodeId, cluster.participants[1] as NodeId];
  if (o.secondNeverHears === true) {
    yield { kind: 'step', where: 'step 0', text: `cut the coordinator's messages to ${q}` };
    cluster.partitionOneWay([COORDINATOR], [q]);
  }
  yield { kind: 'step', where: 'step 1', text: `transfer 10 from ${p}/a to ${q}/a` };
  let answer: string | undefined;
  cluster.transfer('client', { node: p, key: 'a' }, { node: q, key: 'a' }, 10, (res) => (answer = res === undefined ? 'no answer' : 'error' in res ? res.error : res.outcome));
  const voters = o.secondNeverHears === true ? [p] : [p, q];
  yield { kind: 'step', where: 'step 2', text: `wait until ${voters.join(' and ')} prepared (voted yes)` };
  const prepared = (): boolean => voters.every((id) => (cluster.participant(id)?.inDoubt().length ?? 0) > 0);
  if (!(yield { kind: 'until', until: prepared, withinMs: 2_000 })) fail('step 2', 'the participants did not prepare');
  if (o.crashWhen !== undefined && !(yield { kind: 'until', until: o.crashWhen, withinMs: 2_000 })) fail('step 2', 'the condition to crash the coordinator never held');
  yield { kind: 'step', where: 'step 3', text: 'crash the coordinator before its decision' };
  cluster.crash(COORDINATOR);
  seen.crashedAtMs = cluster.nowMs;
  if (o.secondNeverHears === true) cluster.heal();
  yield { kind: 'step', where: 'step 4', text: `keep the coordinator down for ${o.outageMs} ms` };
  yield { kind: 'for', ms: o.outageMs };
  const d = cluster.inDoubtNow();
  seen.inDoubtBeforeRestart = d.transactions;
  seen.locksBeforeRestart = d.locks;
  yield { kind: 'step', where: 'step 5', text: 'restart the coordinator; every participant must decide' };
  cluster.restart(COORDINATOR);
  seen.restartedAtMs = cluster.nowMs;
  if (!(yield { kind: 'until', until: () => cluster.inDoubtNow().transactions === 0 && cluster.inDoubtNow().locks === 0, withinMs: 5_000 })) fail('step 5', 'participants still in doubt after the coordinator recovered');
  if (answer === 'commit') fail('step 5', 'the client was told commit, though the coordinator crashed before deciding');
}

export function emptyBlockingObservation(): BlockingObservation {
  return { inDoubtBeforeRestart: 0, locksBeforeRestart: 0, crashedAtMs: 0, restartedAtMs: 0 };
}
