// A Paxos Commit participant (resource manager): it locks and checks like a 2PC participant,
// forces "prepared", then proposes its own vote at ballot 0 to every acceptor instead of sending
// it to a coordinator. It learns the outcome from the leader, or, in doubt for too long, becomes
// a proposer itself: a higher ballot finishes every instance of the transaction (those with no
// vote accepted end "aborted"), so a crashed leader blocks nobody.
import { assertInvariant } from '../../core/index.js';
import type { CoreEnv, Effects, NodeId, ProtocolCore } from '../../core/index.js';
import type { Outcome, TxnId } from '../messages.js';
import { ParticipantCommon } from '../participant-common.js';
import { OutcomeLearner, Recovery, ballotOf, BALLOT_SPAN } from './learner.js';
import { parsePaxosCommitMessage, type PaxosCommitMessage, type RmOp, type Vote } from './messages.js';

export interface RmOptions {
  readonly accounts: readonly string[];
  readonly initialBalance: number;
  readonly acceptors: readonly NodeId[];
  /** Every node that may propose (leader and RMs), in a stable order: a proposer's index in it names its ballots. */
  readonly proposers: readonly NodeId[];
  readonly lockWaitMs: number;
  /** Prepared this long without an outcome: the RM proposes at a higher ballot. */
  readonly decisionTimeoutMs: number;
  readonly retryMs: number;
  readonly maxWaiting: number;
  readonly maxRemembered: number;
}

type RmFx = Effects<PaxosCommitMessage, RmOp, never>;
type Prepared = Extract<RmOp, { kind: 'prepared' }>;

interface OpenTxn {
  readonly record: Prepared;
  phase: 'waiting' | 'prepared';
  sinceMs: number;
  nextTryMs: number;
  recovery: Recovery | undefined;
}

export class RmCore extends ParticipantCommon<PaxosCommitMessage, Prepared, OpenTxn> implements ProtocolCore<PaxosCommitMessage, never, never, RmOp> {
  private readonly learner: OutcomeLearner;
  private round = 0;

  constructor(
    env: CoreEnv,
    durable: readonly RmOp[],
    private readonly o: RmOptions,
  ) {
    super(env, `rm ${env.id}`, o, false);
    this.learner = new OutcomeLearner(o.acceptors, o.maxRemembered);
    for (const op of durable) {
      if (op.kind === 'round') this.round = Math.max(this.round, op.round);
      else if (op.kind === 'prepared') this.replayPrepared(op, { record: op, phase: 'prepared', sinceMs: 0, nextTryMs: 0, recovery: undefined });
      else if (op.kind === 'decided') this.replayDecided(op);
    }
    const now = env.now();
    for (const t of this.open.values()) t.sinceMs = t.nextTryMs = now;
  }

  start(fx: RmFx): void {
    this.annotateState(fx);
  }

  handleMessage(from: NodeId, raw: PaxosCommitMessage, fx: RmFx): void {
    const msg = this.parsed(parsePaxosCommitMessage(raw), fx);
    if (msg === undefined) return;
    switch (msg.type) {
      case 'begin':
        return this.onBegin(msg, fx);
      case 'p2b': {
        const outcome = this.learner.onAccepted(from, msg.txn, msg.participants, msg.rm, msg.ballot, msg.value);
        if (outcome !== undefined) this.decide(msg.txn, outcome, fx);
        return;
      }
      case 'p1b':
        this.open.get(msg.txn)?.recovery?.onPromise(from, msg.ballot, msg.accepted, (to, m) => fx.send(to, m));
        return;
      case 'nack':
        // someone promised higher: the next try goes above it
        this.round = Math.max(this.round, Math.floor(msg.promised / BALLOT_SPAN));
        return;
      case 'outcome':
        // only the leader announces outcomes
        if (from === this.o.proposers[0]) this.decide(msg.txn, msg.outcome, fx);
        return;
      default:
        return;
    }
  }

  handleTick(fx: RmFx): void {
    const now = this.env.now();
    for (const t of [...this.open.values()]) {
      if (t.phase === 'waiting') {
        if (now - t.sinceMs >= this.o.lockWaitMs) this.voteNo(t.record, fx);
        continue;
      }
      if (now - t.sinceMs < this.o.decisionTimeoutMs || now < t.nextTryMs) continue;
      // in doubt: finish every instance at a higher ballot (forced before it is used)
      t.nextTryMs = now + this.o.retryMs;
      this.round++;
      fx.persist({ kind: 'round', round: this.round });
      const index = this.o.proposers.indexOf(this.env.id) + 1;
      assertInvariant(index > 0 && index < BALLOT_SPAN, () => `rm ${this.env.id} is not among the proposers`);
      t.recovery = new Recovery(t.record.txn, t.record.ts, t.record.participants, ballotOf(this.round, index), this.o.acceptors);
      t.recovery.start((to, m) => fx.send(to, m));
    }
    this.annotateState(fx);
  }

  private onBegin(msg: Extract<PaxosCommitMessage, { type: 'begin' }>, fx: RmFx): void {
    const record: Prepared = { kind: 'prepared', txn: msg.txn, ts: msg.ts, participants: msg.participants, writes: msg.writes };
    // a repeated begin: the vote is proposed again while undecided, else it is already chosen
    const prior = this.priorVote(msg.txn);
    if (prior === 'yes') this.propose(record, 'prepared', fx);
    if (prior !== undefined) return;
    this.admit(record, false, (now) => ({ record, phase: 'waiting', sinceMs: now, nextTryMs: now, recovery: undefined }), fx);
  }

  protected enterPrepared(t: OpenTxn): void {
    t.phase = 'prepared';
    t.sinceMs = t.nextTryMs = this.env.now();
  }

  protected sayYes(record: Prepared, fx: RmFx): void {
    this.propose(record, 'prepared', fx);
  }

  protected sayNo(record: Prepared, fx: RmFx): void {
    this.propose(record, 'aborted', fx);
  }

  /** An RM's log has no snapshot op: nothing follows a recorded outcome. */
  protected afterDecision(): void {}

  /** Ballot 0 of this RM's own instance. */
  private propose(record: Prepared, value: Vote, fx: RmFx): void {
    for (const a of this.o.acceptors) fx.send(a, { type: 'p2a', txn: record.txn, ts: record.ts, participants: record.participants, rm: this.env.id, ballot: 0, value });
  }

  private decide(txn: TxnId, outcome: Outcome, fx: RmFx): void {
    this.learner.forget(txn);
    const t = this.open.get(txn);
    if (t === undefined) {
      // learned before its begin arrived (or after it voted aborted): remember, so a late begin is refused
      if (!this.outcomes.has(txn)) this.record(txn, outcome, 0, fx);
      return;
    }
    if (t.phase === 'waiting' && outcome === 'commit') return; // cannot be: its instance never chose "prepared"
    // an abort while waiting releases nothing (a waiting transaction holds no lock)
    this.settle(t, outcome, fx);
  }
}
