// What the participants of 2PC, 3PC and Paxos Commit (its RMs) do alike: take a transaction's
// locks under wait-die and record the vote, remember outcomes with bounded memory, and settle
// a transaction once its outcome is known. Each protocol adds how it votes and how it finds out.
import { assertInvariant } from '../core/index.js';
import type { CoreEnv, Effects, Message, NodeId } from '../core/index.js';
import { LockedAccounts } from './accounts.js';
import { EVENT_KEY, formatCommitEvent } from './events.js';
import type { Outcome, TxnId, Write } from './messages.js';

/** What every protocol's "prepared" record holds (forced before a yes vote). */
export interface PreparedLike {
  readonly txn: TxnId;
  readonly ts: number;
  readonly participants: readonly NodeId[];
  readonly writes: readonly Write[];
}

/** The "decided" op, alike in every protocol's log. */
export interface DecidedOp {
  readonly kind: 'decided';
  readonly txn: TxnId;
  readonly ts: number;
  readonly outcome: Outcome;
}

/** An open transaction: 'waiting' for its locks, or any later phase (it voted yes). */
export interface OpenTxnLike<R extends PreparedLike> {
  readonly record: R;
  phase: string;
}

export interface ParticipantCommonOptions {
  readonly accounts: readonly string[];
  readonly initialBalance: number;
  readonly maxWaiting: number;
  readonly maxRemembered: number;
}

/**
 * Outcomes known, oldest first (insertion order), with each transaction's timestamp. Past
 * `max` the oldest are forgotten, and a prepare at or below the highest forgotten timestamp is
 * refused: it may be one whose outcome was forgotten.
 */
export class RememberedOutcomes {
  private readonly decided = new Map<TxnId, { readonly outcome: Outcome; readonly ts: number }>();
  private forgottenBelow = -1;

  constructor(private readonly max: number) {}

  get(txn: TxnId): { readonly outcome: Outcome; readonly ts: number } | undefined {
    return this.decided.get(txn);
  }

  has(txn: TxnId): boolean {
    return this.decided.has(txn);
  }

  get forgottenBelowTs(): number {
    return this.forgottenBelow;
  }

  remember(txn: TxnId, outcome: Outcome, ts: number): void {
    this.decided.delete(txn);
    this.decided.set(txn, { outcome, ts });
    while (this.decided.size > this.max) {
      const [oldest, entry] = this.decided.entries().next().value as [TxnId, { ts: number }];
      this.decided.delete(oldest);
      this.forgottenBelow = Math.max(this.forgottenBelow, entry.ts);
    }
  }

  /** As a snapshot holds them. */
  entries(): (readonly [TxnId, Outcome, number])[] {
    return [...this.decided.entries()].map(([txn, d]) => [txn, d.outcome, d.ts] as const);
  }

  /** Replaces them with a snapshot's (as taken: nothing is forgotten on the way). */
  restore(decided: readonly (readonly [TxnId, Outcome, number])[], forgottenBelowTs: number): void {
    this.decided.clear();
    for (const [txn, outcome, ts] of decided) this.decided.set(txn, { outcome, ts });
    this.forgottenBelow = forgottenBelowTs;
  }
}

/** The effects the shared steps use: the protocol's messages, its prepared and decided ops. */
type CommonFx<M extends Message, R extends PreparedLike> = Effects<M, R | DecidedOp, never>;

/**
 * A participant's accounts, open transactions and remembered outcomes, with the steps every
 * protocol takes on them alike. A subclass says how it votes (`sayYes`, `sayNo`), what entering
 * the prepared phase resets (`enterPrepared`), and what follows a recorded outcome (`afterDecision`).
 */
export abstract class ParticipantCommon<M extends Message, R extends PreparedLike, T extends OpenTxnLike<R>> {
  protected readonly accounts: LockedAccounts;
  protected readonly open = new Map<TxnId, T>();
  protected readonly outcomes: RememberedOutcomes;
  private malformed = 0;

  protected constructor(
    protected readonly env: CoreEnv,
    /** Names this participant in invariant messages ("participant 2"). */
    private readonly where: string,
    private readonly common: ParticipantCommonOptions,
    /** Whether its annotations include the balance total. */
    private readonly annotatesTotal: boolean,
  ) {
    this.accounts = new LockedAccounts(where, common.accounts, common.initialBalance);
    this.outcomes = new RememberedOutcomes(common.maxRemembered);
  }

  // ---------------------------------------------------------------- readings (tests, harness)

  balance(key: string): number | undefined {
    return this.accounts.balance(key);
  }

  totalBalance(): number {
    return this.accounts.total();
  }

  /** Transactions voted yes on and not yet decided. */
  inDoubt(): TxnId[] {
    return this.votedYes().map((t) => t.record.txn);
  }

  lockCount(): number {
    return this.accounts.lockCount;
  }

  get malformedCount(): number {
    return this.malformed;
  }

  handleRequest(): void {}

  // ---------------------------------------------------------------- shared steps

  /** The message, or undefined after counting it as malformed (a peer may be hostile). */
  protected parsed(msg: M | undefined, fx: CommonFx<M, R>): M | undefined {
    if (msg !== undefined) return msg;
    this.malformed++;
    fx.annotate('malformed', this.malformed);
    return undefined;
  }

  /** What it said of `txn` before: its outcome, 'yes' (undecided), 'waiting' (for locks), or undefined (new to it). */
  protected priorVote(txn: TxnId): Outcome | 'yes' | 'waiting' | undefined {
    const known = this.outcomes.get(txn);
    if (known !== undefined) return known.outcome;
    const open = this.open.get(txn);
    if (open === undefined) return undefined;
    return open.phase === 'waiting' ? 'waiting' : 'yes';
  }

  /**
   * A new transaction: refused (a no vote) when it is old, not its own, touches accounts it does
   * not hold, or too many already wait (or `refuse`, the protocol's own reason); else it waits
   * for its locks as `entry` and tries them at once.
   */
  protected admit(record: R, refuse: boolean, entry: (nowMs: number) => T, fx: CommonFx<M, R>): void {
    const waiting = [...this.open.values()].filter((t) => t.phase === 'waiting').length;
    if (refuse || record.ts <= this.outcomes.forgottenBelowTs || !record.participants.includes(this.env.id) || !this.accounts.owns(record.writes) || waiting >= this.common.maxWaiting) {
      this.voteNo(record, fx);
      return;
    }
    this.open.set(record.txn, entry(this.env.now()));
    this.tryLock(record.txn, fx);
  }

  /** Wait-die (accounts.ts): dies on an older holder's lock, waits for a younger one's; locked, it forces "prepared" and votes yes. */
  protected tryLock(txn: TxnId, fx: CommonFx<M, R>): void {
    const t = this.open.get(txn);
    if (t === undefined || t.phase !== 'waiting') return;
    const result = this.accounts.acquire(txn, t.record.ts, t.record.writes);
    if (result === 'wait') return;
    if (result !== 'locked') return this.voteNo(t.record, fx);
    this.enterPrepared(t);
    fx.persist(t.record);
    fx.annotate(EVENT_KEY, formatCommitEvent('yes', 'participant', txn));
    this.sayYes(t.record, fx);
    this.annotateState(fx);
  }

  /** Votes no: the transaction is aborted here, and remembered so a late prepare is refused. */
  protected voteNo(record: R, fx: CommonFx<M, R>): void {
    this.open.delete(record.txn);
    this.record(record.txn, 'abort', record.ts, fx);
    fx.annotate(EVENT_KEY, formatCommitEvent('no', 'participant', record.txn));
    this.sayNo(record, fx);
    this.annotateState(fx);
  }

  /** A transaction still waiting for its locks can only abort: it never voted yes. */
  protected abortWaiting(t: T, outcome: Outcome, fx: CommonFx<M, R>): void {
    const txn = t.record.txn;
    assertInvariant(outcome === 'abort', () => `${this.where}: commit of ${txn}, for which it never voted yes`);
    this.open.delete(txn);
    this.record(txn, 'abort', t.record.ts, fx);
    fx.annotate(EVENT_KEY, formatCommitEvent('abort', 'participant', txn));
    this.annotateState(fx);
  }

  /** Ends an open transaction with `outcome`: applies a commit, releases its locks, records it; the waiting may go on. */
  protected settle(t: T, outcome: Outcome, fx: CommonFx<M, R>): void {
    const txn = t.record.txn;
    this.accounts.finish(txn, t.record.writes, outcome);
    this.open.delete(txn);
    this.record(txn, outcome, t.record.ts, fx);
    fx.annotate(EVENT_KEY, formatCommitEvent(outcome, 'participant', txn));
    for (const w of [...this.open.values()]) if (w.phase === 'waiting') this.tryLock(w.record.txn, fx);
    this.annotateState(fx);
  }

  /** Persists and remembers an outcome. */
  protected record(txn: TxnId, outcome: Outcome, ts: number, fx: CommonFx<M, R>): void {
    fx.persist({ kind: 'decided', txn, ts, outcome });
    this.outcomes.remember(txn, outcome, ts);
    this.afterDecision(fx);
  }

  /** Replays a "prepared" record: the transaction is open, voted yes, its locks held. */
  protected replayPrepared(record: R, entry: T): void {
    this.open.set(record.txn, entry);
    this.accounts.hold(record.txn, record.ts, record.writes);
  }

  /** Replays a "decided" op: an open transaction ends with it. */
  protected replayDecided(op: DecidedOp): void {
    const t = this.open.get(op.txn);
    if (t !== undefined) {
      this.accounts.finish(op.txn, t.record.writes, op.outcome);
      this.open.delete(op.txn);
    }
    this.outcomes.remember(op.txn, op.outcome, op.ts);
  }

  /** Open transactions that voted yes, oldest first. */
  protected votedYes(): T[] {
    return [...this.open.values()].filter((t) => t.phase !== 'waiting');
  }

  protected annotateState(fx: CommonFx<M, R>): void {
    fx.annotate('role', 'participant');
    fx.annotate('inDoubt', this.inDoubt().length);
    fx.annotate('locks', this.accounts.lockCount);
    if (this.annotatesTotal) fx.annotate('total', this.totalBalance());
  }

  /** Locked: the phase after 'waiting', and its timers. */
  protected abstract enterPrepared(t: T): void;
  protected abstract sayYes(record: R, fx: CommonFx<M, R>): void;
  protected abstract sayNo(record: R, fx: CommonFx<M, R>): void;
  /** After an outcome is recorded (a snapshot now and then). */
  protected abstract afterDecision(fx: CommonFx<M, R>): void;
}
