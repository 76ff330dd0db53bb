// A Paxos Commit participant (resource manager): it locks and checks like a 2PC participant,
// forces "prepared", then proposes its own vote at ballot 0 to every acceptor instead of sending
// it to a coordinator. It learns the outcome from the leader, or, in doubt for too long, becomes
// a proposer itself: a higher ballot finishes every instance of the transaction (those with no
// vote accepted end "aborted"), so a crashed leader blocks nobody.
import { assertInvariant } from '../../core/index.js';
import type { CoreEnv, Effects, NodeId, ProtocolCore } from '../../core/index.js';
import { LockedAccounts } from '../accounts.js';
import { EVENT_KEY, formatCommitEvent } from '../events.js';
import type { Outcome, TxnId } from '../messages.js';
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

export class RmCore implements ProtocolCore<PaxosCommitMessage, never, never, RmOp> {
  private readonly accounts: LockedAccounts;
  private readonly open = new Map<TxnId, OpenTxn>();
  private readonly decided = new Map<TxnId, { readonly outcome: Outcome; readonly ts: number }>();
  private readonly learner: OutcomeLearner;
  private forgottenBelowTs = -1;
  private round = 0;
  private malformed = 0;

  constructor(
    private readonly env: CoreEnv,
    durable: readonly RmOp[],
    private readonly o: RmOptions,
  ) {
    this.accounts = new LockedAccounts(`rm ${env.id}`, o.accounts, o.initialBalance);
    this.learner = new OutcomeLearner(o.acceptors, o.maxRemembered);
    for (const op of durable) {
      if (op.kind === 'round') this.round = Math.max(this.round, op.round);
      else if (op.kind === 'prepared') {
        this.open.set(op.txn, { record: op, phase: 'prepared', sinceMs: 0, nextTryMs: 0, recovery: undefined });
        this.accounts.hold(op.txn, op.ts, op.writes);
      } else if (op.kind === 'decided') {
        const t = this.open.get(op.txn);
        if (t !== undefined) this.finish(t, op.outcome);
        this.remember(op.txn, op.outcome, op.ts);
      }
    }
    const now = env.now();
    for (const t of this.open.values()) t.sinceMs = t.nextTryMs = now;
  }

  start(fx: RmFx): void {
    this.annotateState(fx);
  }

  balance(key: string): number | undefined {
    return this.accounts.balance(key);
  }

  totalBalance(): number {
    return this.accounts.total();
  }

  inDoubt(): TxnId[] {
    return [...this.open.values()].filter((t) => t.phase === 'prepared').map((t) => t.record.txn);
  }

  lockCount(): number {
    return this.accounts.lockCount;
  }

  get malformedCount(): number {
    return this.malformed;
  }

  handleRequest(): void {}

  handleMessage(from: NodeId, raw: PaxosCommitMessage, fx: RmFx): void {
    const msg = parsePaxosCommitMessage(raw);
    if (msg === undefined) {
      this.malformed++;
      fx.annotate('malformed', this.malformed);
      return;
    }
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
        if (now - t.sinceMs >= this.o.lockWaitMs) this.voteAborted(t.record, fx);
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
    const known = this.decided.get(msg.txn);
    if (known !== undefined) return;
    const open = this.open.get(msg.txn);
    if (open !== undefined) {
      if (open.phase === 'prepared') this.propose(record, 'prepared', fx);
      return;
    }
    const waiting = [...this.open.values()].filter((t) => t.phase === 'waiting').length;
    if (msg.ts <= this.forgottenBelowTs || !msg.participants.includes(this.env.id) || !this.accounts.owns(msg.writes) || waiting >= this.o.maxWaiting) {
      this.voteAborted(record, fx);
      return;
    }
    const now = this.env.now();
    this.open.set(msg.txn, { record, phase: 'waiting', sinceMs: now, nextTryMs: now, recovery: undefined });
    this.tryLock(msg.txn, fx);
  }

  private tryLock(txn: TxnId, fx: RmFx): void {
    const t = this.open.get(txn);
    if (t === undefined || t.phase !== 'waiting') return;
    const result = this.accounts.acquire(txn, t.record.ts, t.record.writes);
    if (result === 'wait') return;
    if (result !== 'locked') return this.voteAborted(t.record, fx);
    t.phase = 'prepared';
    t.sinceMs = t.nextTryMs = this.env.now();
    fx.persist(t.record);
    fx.annotate(EVENT_KEY, formatCommitEvent('yes', 'participant', txn));
    this.propose(t.record, 'prepared', fx);
    this.annotateState(fx);
  }

  /** Ballot 0 of this RM's own instance. */
  private propose(record: Prepared, value: Vote, fx: RmFx): void {
    for (const a of this.o.acceptors) fx.send(a, { type: 'p2a', txn: record.txn, ts: record.ts, participants: record.participants, rm: this.env.id, ballot: 0, value });
  }

  private voteAborted(record: Prepared, fx: RmFx): void {
    this.open.delete(record.txn);
    fx.persist({ kind: 'decided', txn: record.txn, ts: record.ts, outcome: 'abort' });
    this.remember(record.txn, 'abort', record.ts);
    fx.annotate(EVENT_KEY, formatCommitEvent('no', 'participant', record.txn));
    this.propose(record, 'aborted', fx);
    this.annotateState(fx);
  }

  private decide(txn: TxnId, outcome: Outcome, fx: RmFx): void {
    this.learner.forget(txn);
    const t = this.open.get(txn);
    if (t === undefined) {
      // learned before its begin arrived (or after it voted aborted): remember, so a late begin is refused
      if (!this.decided.has(txn)) {
        fx.persist({ kind: 'decided', txn, ts: 0, outcome });
        this.remember(txn, outcome, 0);
      }
      return;
    }
    if (t.phase === 'waiting' && outcome === 'commit') return; // cannot be: its instance never chose "prepared"
    this.finish(t, outcome);
    fx.persist({ kind: 'decided', txn, ts: t.record.ts, outcome });
    this.remember(txn, outcome, t.record.ts);
    fx.annotate(EVENT_KEY, formatCommitEvent(outcome, 'participant', txn));
    for (const w of [...this.open.values()]) if (w.phase === 'waiting') this.tryLock(w.record.txn, fx);
    this.annotateState(fx);
  }

  private finish(t: OpenTxn, outcome: Outcome): void {
    if (t.phase === 'prepared') this.accounts.finish(t.record.txn, t.record.writes, outcome);
    this.open.delete(t.record.txn);
  }

  private remember(txn: TxnId, outcome: Outcome, ts: number): void {
    this.decided.delete(txn);
    this.decided.set(txn, { outcome, ts });
    while (this.decided.size > this.o.maxRemembered) {
      const [oldest, entry] = this.decided.entries().next().value as [TxnId, { ts: number }];
      this.decided.delete(oldest);
      this.forgottenBelowTs = Math.max(this.forgottenBelowTs, entry.ts);
    }
  }

  private annotateState(fx: RmFx): void {
    fx.annotate('role', 'participant');
    fx.annotate('inDoubt', this.inDoubt().length);
    fx.annotate('locks', this.accounts.lockCount);
  }
}
