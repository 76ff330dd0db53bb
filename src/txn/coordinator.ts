// The 2PC coordinator with presumed abort: it sends PREPARE, collects votes (a missing vote
// after a timeout is a no), forces a commit record before sending COMMIT, and answers any
// question about a transaction it has no record of with ABORT. After a crash it replays its
// commit records and resends them until every participant acknowledges.
import { assertInvariant } from '../core/index.js';
import type { CoreEnv, Effects, NodeId, ProtocolCore } from '../core/index.js';
import { VotingCoordinator, type VotingActive } from './coordinator-common.js';
import { EVENT_KEY, formatCommitEvent } from './events.js';
import { parseTwoPcMessage, type CoordinatorOp, type Outcome, type TwoPcMessage, type TxnId } from './messages.js';

export { groupWrites, TS_PER_LIFE } from './coordinator-common.js';

/** A client's transaction: balance changes, each on a named participant. */
export interface TxnRequest {
  readonly writes: readonly { readonly participant: NodeId; readonly key: string; readonly delta: number }[];
}

export type TxnResponse = { readonly txn: TxnId; readonly outcome: Outcome } | { readonly error: 'busy' | 'bad-request' | 'not-coordinator' };

export interface CoordinatorOptions {
  /** Votes not all in after this long (local clock): the transaction aborts. */
  readonly voteTimeoutMs: number;
  /** How often a commit is resent to participants that have not acknowledged it. */
  readonly retryMs: number;
  /** At most this many transactions open at once (voting or awaiting acknowledgements). */
  readonly maxActive: number;
  /** A state op after this many ended commits keeps the log's replay bounded. */
  readonly snapshotEvery: number;
}

type CoordinatorFx = Effects<TwoPcMessage, CoordinatorOp, TxnResponse>;

type Active = VotingActive<never>;

export class CoordinatorCore extends VotingCoordinator<TwoPcMessage, never> implements ProtocolCore<TwoPcMessage, TxnRequest, TxnResponse, CoordinatorOp> {
  constructor(env: CoreEnv, durable: readonly CoordinatorOp[], o: CoordinatorOptions) {
    super(env, o);
    for (const op of durable) this.replay(op);
    this.newLife();
  }

  handleMessage(from: NodeId, raw: TwoPcMessage, fx: CoordinatorFx): void {
    const msg = this.parsed(parseTwoPcMessage(raw), fx);
    if (msg === undefined) return;
    const a = this.active.get(msg.txn);
    switch (msg.type) {
      case 'vote':
        return this.onVote(from, msg, a, fx, (x) => this.abort(x, fx), (x) => this.commit(x, fx));
      case 'ack':
        if (a !== undefined) this.commitAcked(a, from, () => this.end(a, fx));
        return;
      case 'decision-request':
        // still voting: the vote timeout settles it soon
        if (a === undefined) fx.send(from, { type: 'decision', txn: msg.txn, outcome: 'abort' });
        else if (a.phase === 'committing') fx.send(from, { type: 'decision', txn: msg.txn, outcome: 'commit' });
        return;
      default:
        return; // participant-bound messages
    }
  }

  handleTick(fx: CoordinatorFx): void {
    const now = this.env.now();
    for (const a of [...this.active.values()]) {
      if (a.phase === 'voting') {
        if (now >= a.deadlineMs) this.abort(a, fx);
      } else this.resendCommit(a, now, fx);
    }
  }

  private commit(a: Active, fx: CoordinatorFx): void {
    a.phase = 'committing';
    a.nextRetryMs = this.env.now() + this.timing.retryMs;
    // forced before COMMIT leaves (the host holds every message until it is durable)
    fx.persist({ kind: 'commit', txn: a.txn, participants: a.participants });
    fx.annotate(EVENT_KEY, formatCommitEvent('commit', 'coordinator', a.txn));
    this.tell(a, 'commit', fx);
    if (a.requestId !== undefined) fx.reply(a.requestId, { txn: a.txn, outcome: 'commit' });
    a.requestId = undefined;
  }

  /** Presumed abort: nothing is forced, the participants are told once, and the record dropped. */
  private abort(a: Active, fx: CoordinatorFx): void {
    assertInvariant(a.phase === 'voting', () => `coordinator ${this.env.id}: abort of ${a.txn} after its commit`);
    this.active.delete(a.txn);
    fx.annotate(EVENT_KEY, formatCommitEvent('abort', 'coordinator', a.txn));
    this.tell(a, 'abort', fx);
    if (a.requestId !== undefined) fx.reply(a.requestId, { txn: a.txn, outcome: 'abort' });
    this.annotateState(fx);
  }

  private end(a: Active, fx: CoordinatorFx): void {
    this.active.delete(a.txn);
    this.logEnd(a.txn, fx, () => fx.persist({ kind: 'state', life: this.life, open: [...this.active.values()].filter((x) => x.phase === 'committing').map((x) => [x.txn, x.participants] as const) }));
    this.annotateState(fx);
  }

  private replay(op: CoordinatorOp): void {
    switch (op.kind) {
      case 'life':
        return this.replayLife(op.life);
      case 'commit':
        return this.replayRecord(op.txn, 0, op.participants, 'committing');
      case 'end':
        this.active.delete(op.txn);
        return;
      case 'state':
        this.replayState(op.life);
        for (const [txn, participants] of op.open) this.replay({ kind: 'commit', txn, participants });
        return;
    }
  }
}
