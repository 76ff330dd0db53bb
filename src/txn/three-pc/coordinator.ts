// The 3PC coordinator: PREPARE and votes as in 2PC (a missing vote after a timeout, or a no, is
// an abort, not forced), then a forced "precommit" record before PRE-COMMIT, then COMMIT once
// every participant acknowledged or the acknowledgement timeout declared the silent ones crashed.
// Restarted after PRE-COMMIT without a decision it is in doubt: it asks, it never decides alone.
import { assertInvariant } from '../../core/index.js';
import type { CoreEnv, Effects, NodeId, ProtocolCore } from '../../core/index.js';
import type { TxnRequest, TxnResponse } from '../coordinator.js';
import { VotingCoordinator, type VotingActive } from '../coordinator-common.js';
import { EVENT_KEY, formatCommitEvent } from '../events.js';
import type { Outcome, TxnId } from '../messages.js';
import { parseThreePcMessage, type ThreePcCoordinatorOp, type ThreePcMessage, type ThreePcState } from './messages.js';

export interface ThreePcCoordinatorOptions {
  /** Votes not all in after this long (local clock): abort. */
  readonly voteTimeoutMs: number;
  /** PRE-COMMIT acknowledgements missing after this long: those participants are taken as crashed, and it commits. */
  readonly ackTimeoutMs: number;
  /** How often a commit is resent to participants that have not acknowledged it, and an in-doubt coordinator asks. */
  readonly retryMs: number;
  readonly maxActive: number;
  /** A state op after this many closed records keeps the log's replay bounded. */
  readonly snapshotEvery: number;
}

type Fx = Effects<ThreePcMessage, ThreePcCoordinatorOp, TxnResponse>;

type Active = VotingActive<'precommitting' | 'in-doubt'>;

export class ThreePcCoordinatorCore extends VotingCoordinator<ThreePcMessage, 'precommitting' | 'in-doubt'> implements ProtocolCore<ThreePcMessage, TxnRequest, TxnResponse, ThreePcCoordinatorOp> {
  private round = 0;

  constructor(
    env: CoreEnv,
    durable: readonly ThreePcCoordinatorOp[],
    private readonly o: ThreePcCoordinatorOptions,
  ) {
    super(env, o);
    for (const op of durable) this.replay(op);
    this.newLife();
  }

  /** Transactions it is in doubt about (restarted after PRE-COMMIT). */
  inDoubtCount(): number {
    return [...this.active.values()].filter((a) => a.phase === 'in-doubt').length;
  }

  handleMessage(from: NodeId, raw: ThreePcMessage, fx: Fx): void {
    const msg = this.parsed(parseThreePcMessage(raw), fx);
    if (msg === undefined) return;
    const a = this.active.get(msg.txn);
    switch (msg.type) {
      case 'vote':
        return this.onVote(from, msg, a, fx, (x) => this.decide(x, 'abort', fx), (x) => this.precommit(x, fx));
      case 'precommit-ack':
        if (a === undefined || a.phase !== 'precommitting' || !a.participants.includes(from)) return;
        a.acked.add(from);
        if (a.acked.size === a.participants.length) this.decide(a, 'commit', fx);
        return;
      case 'ack':
        if (a !== undefined) this.commitAcked(a, from, () => this.close(a, fx));
        return;
      case 'state-request':
        fx.send(from, { type: 'state', txn: msg.txn, state: this.stateOf(a), recovered: false, round: msg.round });
        return;
      case 'state':
        // an answer to the in-doubt coordinator's question: an outcome someone knows settles it
        if (a !== undefined && a.phase === 'in-doubt' && a.participants.includes(from) && (msg.state === 'committed' || msg.state === 'aborted')) this.decide(a, msg.state === 'committed' ? 'commit' : 'abort', fx);
        return;
      case 'decision':
        // a backup coordinator finished the transaction (after this one seemed crashed)
        if (a !== undefined && a.participants.includes(from) && (a.phase === 'in-doubt' || a.phase === 'precommitting' || (a.phase === 'voting' && msg.outcome === 'abort'))) this.decide(a, msg.outcome, fx);
        // a participant that announces the commit knows it: as good as its acknowledgement
        if (a !== undefined && msg.outcome === 'commit') this.commitAcked(a, from, () => this.close(a, fx));
        return;
      default:
        return; // participant-bound messages
    }
  }

  handleTick(fx: Fx): void {
    const now = this.env.now();
    for (const a of [...this.active.values()]) {
      switch (a.phase) {
        case 'voting':
          if (now >= a.deadlineMs) this.decide(a, 'abort', fx);
          break;
        case 'precommitting':
          // the silent are taken as crashed: they learn the outcome when they recover
          if (now >= a.deadlineMs) this.decide(a, 'commit', fx);
          break;
        case 'committing':
          this.resendCommit(a, now, fx);
          break;
        case 'in-doubt':
          if (now < a.nextRetryMs) break;
          a.nextRetryMs = now + this.o.retryMs;
          this.round++;
          for (const p of a.participants) fx.send(p, { type: 'state-request', txn: a.txn, ts: a.ts, rank: -1, round: this.round });
          break;
      }
    }
  }

  private stateOf(a: Active | undefined): ThreePcState {
    // no record: never pre-committed (that is forced) or closed; either way nobody can commit it
    if (a === undefined) return 'aborted';
    if (a.phase === 'committing') return 'committed';
    return a.phase === 'in-doubt' ? 'in-doubt' : 'active';
  }

  private precommit(a: Active, fx: Fx): void {
    a.phase = 'precommitting';
    a.deadlineMs = this.env.now() + this.o.ackTimeoutMs;
    // forced before PRE-COMMIT leaves (the host holds every later message until it is durable)
    fx.persist({ kind: 'precommit', txn: a.txn, ts: a.ts, participants: a.participants });
    for (const p of a.participants) fx.send(p, { type: 'precommit', txn: a.txn });
  }

  private decide(a: Active, outcome: Outcome, fx: Fx): void {
    assertInvariant(a.phase !== 'committing', () => `3pc coordinator ${this.env.id}: ${outcome} of ${a.txn} after its commit`);
    fx.annotate(EVENT_KEY, formatCommitEvent(outcome, 'coordinator', a.txn));
    if (a.requestId !== undefined) fx.reply(a.requestId, { txn: a.txn, outcome });
    a.requestId = undefined;
    if (outcome === 'commit') {
      a.phase = 'committing';
      a.acked = new Set();
      a.nextRetryMs = this.env.now() + this.o.retryMs;
      fx.persist({ kind: 'commit', txn: a.txn, ts: a.ts, participants: a.participants });
      return this.tell(a, 'commit', fx);
    }
    const wasRecorded = a.phase !== 'voting';
    this.active.delete(a.txn);
    this.tell(a, 'abort', fx);
    if (wasRecorded) this.logClose(a.txn, fx);
    this.annotateState(fx);
  }

  private close(a: Active, fx: Fx): void {
    this.active.delete(a.txn);
    this.logClose(a.txn, fx);
    this.annotateState(fx);
  }

  private logClose(txn: TxnId, fx: Fx): void {
    this.logEnd(txn, fx, () => {
      const open = [...this.active.values()].filter((x) => x.phase !== 'voting').map((x) => ({ txn: x.txn, ts: x.ts, participants: x.participants, committed: x.phase === 'committing' }));
      fx.persist({ kind: 'state', life: this.life, open });
    });
  }

  private replay(op: ThreePcCoordinatorOp): void {
    switch (op.kind) {
      case 'life':
        return this.replayLife(op.life);
      case 'precommit':
      case 'commit':
        return this.replayRecord(op.txn, op.ts, op.participants, op.kind === 'commit' ? 'committing' : 'in-doubt');
      case 'end':
        this.active.delete(op.txn);
        return;
      case 'state':
        this.replayState(op.life);
        for (const x of op.open) this.replay({ kind: x.committed ? 'commit' : 'precommit', txn: x.txn, ts: x.ts, participants: x.participants });
        return;
    }
  }
}
