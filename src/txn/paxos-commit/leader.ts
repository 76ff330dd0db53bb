// The Paxos Commit leader (normally the transaction's coordinator): it starts a transaction at
// its RMs, learns each RM's instance from the acceptors, tells the client and the RMs the
// outcome, and when votes are missing after a timeout proposes at a higher ballot, which ends
// the instances without a vote "aborted". It keeps no decision log: the acceptors hold the votes.
import { assertInvariant } from '../../core/index.js';
import type { CoreEnv, Effects, NodeId, ProtocolCore } from '../../core/index.js';
import type { TxnRequest, TxnResponse } from '../coordinator.js';
import { CoordinatorCommon } from '../coordinator-common.js';
import { EVENT_KEY, formatCommitEvent } from '../events.js';
import type { Outcome, TxnId } from '../messages.js';
import { OutcomeLearner, Recovery, ballotOf, BALLOT_SPAN } from './learner.js';
import { parsePaxosCommitMessage, type PaxosCommitMessage, type RmOp } from './messages.js';

export interface LeaderOptions {
  readonly acceptors: readonly NodeId[];
  readonly proposers: readonly NodeId[];
  readonly voteTimeoutMs: number;
  readonly retryMs: number;
  readonly maxActive: number;
  readonly maxRemembered: number;
}

type LeaderFx = Effects<PaxosCommitMessage, RmOp, TxnResponse>;

interface Active {
  readonly txn: TxnId;
  readonly ts: number;
  readonly participants: readonly NodeId[];
  readonly requestId: string;
  nextTryMs: number;
  recovery: Recovery | undefined;
}

export class LeaderCore extends CoordinatorCommon<PaxosCommitMessage, Active> implements ProtocolCore<PaxosCommitMessage, TxnRequest, TxnResponse, RmOp> {
  private round = 0;
  private readonly learner: OutcomeLearner;

  constructor(
    env: CoreEnv,
    durable: readonly RmOp[],
    private readonly o: LeaderOptions,
  ) {
    super(env, o.maxActive);
    for (const op of durable) {
      if (op.kind === 'life') this.replayLife(op.life);
      else if (op.kind === 'round') this.round = Math.max(this.round, op.round);
    }
    this.newLife();
    this.learner = new OutcomeLearner(o.acceptors, o.maxRemembered);
  }

  start(fx: LeaderFx): void {
    fx.persist({ kind: 'life', life: this.life });
    fx.annotate('role', 'coordinator');
  }

  handleRequest(requestId: string, request: TxnRequest, fx: LeaderFx): void {
    const entry = (txn: TxnId, ts: number, participants: readonly NodeId[]): Active => ({ txn, ts, participants, requestId, nextTryMs: this.env.now() + this.o.voteTimeoutMs, recovery: undefined });
    const a = this.begin<PaxosCommitMessage>(requestId, request, fx, entry, (x, writes) => ({ type: 'begin', txn: x.txn, ts: x.ts, participants: x.participants, writes }));
    if (a !== undefined) fx.annotate('open', this.active.size);
  }

  handleMessage(from: NodeId, raw: PaxosCommitMessage, fx: LeaderFx): void {
    const msg = this.parsed(parsePaxosCommitMessage(raw), fx);
    if (msg === undefined) return;
    switch (msg.type) {
      case 'p2b': {
        const outcome = this.learner.onAccepted(from, msg.txn, msg.participants, msg.rm, msg.ballot, msg.value);
        if (outcome !== undefined) this.learned(msg.txn, msg.participants, outcome, fx);
        return;
      }
      case 'p1b':
        this.active.get(msg.txn)?.recovery?.onPromise(from, msg.ballot, msg.accepted, (to, m) => fx.send(to, m));
        return;
      case 'nack':
        this.round = Math.max(this.round, Math.floor(msg.promised / BALLOT_SPAN));
        return;
      default:
        return;
    }
  }

  handleTick(fx: LeaderFx): void {
    const now = this.env.now();
    for (const a of this.active.values()) {
      if (now < a.nextTryMs) continue;
      // votes missing: finish the instances at a higher ballot ("aborted" where none was accepted)
      a.nextTryMs = now + this.o.retryMs;
      this.round++;
      fx.persist({ kind: 'round', round: this.round });
      const index = this.o.proposers.indexOf(this.env.id) + 1;
      assertInvariant(index > 0 && index < BALLOT_SPAN, () => `leader ${this.env.id} is not among the proposers`);
      a.recovery = new Recovery(a.txn, a.ts, a.participants, ballotOf(this.round, index), this.o.acceptors);
      a.recovery.start((to, m) => fx.send(to, m));
    }
  }

  private learned(txn: TxnId, participants: readonly NodeId[], outcome: Outcome, fx: LeaderFx): void {
    this.learner.forget(txn);
    const a = this.active.get(txn);
    fx.annotate(EVENT_KEY, formatCommitEvent(outcome, 'coordinator', txn));
    for (const p of participants) fx.send(p, { type: 'outcome', txn, outcome });
    if (a === undefined) return;
    this.active.delete(txn);
    fx.reply(a.requestId, { txn, outcome });
    fx.annotate('open', this.active.size);
  }
}
