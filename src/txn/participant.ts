// A 2PC participant: a small key-value store of account balances with exclusive locks per key.
// It locks a transaction's keys (wait-die against deadlock), checks no balance goes negative,
// forces "prepared" before voting yes, and once in doubt asks the coordinator and its fellow
// participants (cooperative termination) until someone knows the outcome.
import { assertInvariant } from '../core/index.js';
import type { CoreEnv, Effects, NodeId, ProtocolCore } from '../core/index.js';
import { LockedAccounts } from './accounts.js';
import { EVENT_KEY, formatCommitEvent } from './events.js';
import { parseTwoPcMessage, type Outcome, type ParticipantOp, type PreparedRecord, type TwoPcMessage, type TxnId, type Write } from './messages.js';

export interface ParticipantOptions {
  /** Account names and opening balances held by every participant. */
  readonly accounts: readonly string[];
  readonly initialBalance: number;
  /** A transaction still waiting for locks after this long (local clock) votes no. */
  readonly lockWaitMs: number;
  /** Prepared this long without a decision: the participant is in doubt and starts asking. */
  readonly decisionTimeoutMs: number;
  /** How often an in-doubt participant asks again. */
  readonly retryMs: number;
  /** At most this many transactions wait for locks; more vote no at once. */
  readonly maxWaiting: number;
  /** Outcomes remembered (for duplicates and peers' questions); older ones are forgotten by timestamp. */
  readonly maxRemembered: number;
  /** A snapshot op after this many decisions keeps the log's replay bounded. */
  readonly snapshotEvery: number;
  /** Cooperative termination on (the default); off: an in-doubt participant asks only the coordinator. */
  readonly cooperative: boolean;
}

/** Any op or message of the two roles; a participant ignores the coordinator's. */
export type ParticipantFx = Effects<TwoPcMessage, ParticipantOp, never>;

interface OpenTxn {
  readonly record: PreparedRecord;
  phase: 'waiting' | 'prepared';
  /** When it entered its phase (local clock). */
  sinceMs: number;
  nextAskMs: number;
}

export class ParticipantCore implements ProtocolCore<TwoPcMessage, never, never, ParticipantOp> {
  private readonly accounts: LockedAccounts;
  private readonly open = new Map<TxnId, OpenTxn>();
  /** Outcomes known, oldest first (insertion order), with the transaction's timestamp. */
  private readonly decided = new Map<TxnId, { readonly outcome: Outcome; readonly ts: number }>();
  /** A prepare at or below this timestamp whose outcome was forgotten is refused (it is old). */
  private forgottenBelowTs = -1;
  private decisionsSinceSnapshot = 0;
  private malformed = 0;

  constructor(
    private readonly env: CoreEnv,
    durable: readonly ParticipantOp[],
    private readonly o: ParticipantOptions,
  ) {
    this.accounts = new LockedAccounts(`participant ${env.id}`, o.accounts, o.initialBalance);
    for (const op of durable) this.replay(op);
    // a restarted participant asks at once about what it had prepared
    const now = env.now();
    for (const t of this.open.values()) {
      t.sinceMs = now;
      t.nextAskMs = now;
    }
  }

  start(fx: ParticipantFx): void {
    this.annotateState(fx);
  }

  // ---------------------------------------------------------------- readings (tests, harness)

  balance(key: string): number | undefined {
    return this.accounts.balance(key);
  }

  totalBalance(): number {
    return this.accounts.total();
  }

  /** Transactions prepared and not yet decided. */
  inDoubt(): TxnId[] {
    return [...this.open.values()].filter((t) => t.phase === 'prepared').map((t) => t.record.txn);
  }

  lockCount(): number {
    return this.accounts.lockCount;
  }

  get malformedCount(): number {
    return this.malformed;
  }

  // ---------------------------------------------------------------- inputs

  handleRequest(): void {}

  handleMessage(from: NodeId, raw: TwoPcMessage, fx: ParticipantFx): void {
    const msg = parseTwoPcMessage(raw);
    if (msg === undefined) {
      this.malformed++;
      fx.annotate('malformed', this.malformed);
      return;
    }
    switch (msg.type) {
      case 'prepare':
        return this.onPrepare(from, msg, fx);
      case 'decision':
        return this.onDecision(from, msg.txn, msg.outcome, fx);
      case 'status-request':
        return this.onStatusRequest(from, msg.txn, msg.ts, fx);
      case 'status':
        // a peer's commit counts only where this participant voted yes
        if (msg.state === 'abort' || (msg.state === 'commit' && this.open.get(msg.txn)?.phase === 'prepared')) this.decide(msg.txn, msg.state, fx);
        return;
      default:
        return; // coordinator-bound messages
    }
  }

  handleTick(fx: ParticipantFx): void {
    const now = this.env.now();
    for (const t of [...this.open.values()]) {
      if (t.phase === 'waiting') {
        if (now - t.sinceMs >= this.o.lockWaitMs) this.voteNo(t.record, fx);
        continue;
      }
      if (now - t.sinceMs < this.o.decisionTimeoutMs || now < t.nextAskMs) continue;
      // in doubt: ask the coordinator, and (cooperative termination) every fellow participant
      t.nextAskMs = now + this.o.retryMs;
      fx.send(t.record.coordinator, { type: 'decision-request', txn: t.record.txn });
      if (this.o.cooperative) {
        for (const p of t.record.participants) if (p !== this.env.id) fx.send(p, { type: 'status-request', txn: t.record.txn, ts: t.record.ts });
      }
    }
    this.annotateState(fx);
  }

  // ---------------------------------------------------------------- the protocol

  private onPrepare(from: NodeId, msg: Extract<TwoPcMessage, { type: 'prepare' }>, fx: ParticipantFx): void {
    const known = this.decided.get(msg.txn);
    if (known !== undefined) {
      fx.send(from, { type: 'vote', txn: msg.txn, yes: known.outcome === 'commit' });
      return;
    }
    const open = this.open.get(msg.txn);
    if (open !== undefined) {
      if (open.phase === 'prepared') fx.send(from, { type: 'vote', txn: msg.txn, yes: true });
      return;
    }
    const record: PreparedRecord = { kind: 'prepared', txn: msg.txn, ts: msg.ts, coordinator: from, participants: msg.participants, writes: msg.writes };
    const waiting = [...this.open.values()].filter((t) => t.phase === 'waiting').length;
    const ownsKeys = this.accounts.owns(msg.writes);
    if (msg.ts <= this.forgottenBelowTs || !msg.participants.includes(this.env.id) || !ownsKeys || waiting >= this.o.maxWaiting) {
      this.voteNo(record, fx);
      return;
    }
    const now = this.env.now();
    this.open.set(msg.txn, { record, phase: 'waiting', sinceMs: now, nextAskMs: now });
    this.tryLock(msg.txn, fx);
  }

  /** Wait-die (accounts.ts): dies on an older holder's lock, waits for a younger one's. */
  private tryLock(txn: TxnId, fx: ParticipantFx): void {
    const t = this.open.get(txn);
    if (t === undefined || t.phase !== 'waiting') return;
    const result = this.accounts.acquire(txn, t.record.ts, t.record.writes);
    if (result === 'wait') return;
    if (result !== 'locked') {
      this.voteNo(t.record, fx);
      return;
    }
    t.phase = 'prepared';
    t.sinceMs = this.env.now();
    t.nextAskMs = t.sinceMs;
    fx.persist(t.record);
    fx.annotate(EVENT_KEY, formatCommitEvent('yes', 'participant', txn));
    fx.send(t.record.coordinator, { type: 'vote', txn, yes: true });
    this.annotateState(fx);
  }

  private voteNo(record: PreparedRecord, fx: ParticipantFx): void {
    this.open.delete(record.txn);
    this.remember(record.txn, 'abort', record.ts, fx);
    fx.annotate(EVENT_KEY, formatCommitEvent('no', 'participant', record.txn));
    fx.send(record.coordinator, { type: 'vote', txn: record.txn, yes: false });
    this.annotateState(fx);
  }

  private onDecision(from: NodeId, txn: TxnId, outcome: Outcome, fx: ParticipantFx): void {
    const t = this.open.get(txn);
    if (t === undefined) {
      const known = this.decided.get(txn);
      // an abort for a transaction never seen: remember it, so a late prepare is refused
      if (known === undefined && outcome === 'abort') this.remember(txn, 'abort', 0, fx);
      if (known === undefined || known.outcome === outcome) fx.send(from, { type: 'ack', txn });
      return;
    }
    if (t.phase === 'waiting' && outcome === 'commit') return; // cannot be: it never voted yes (a forged message)
    this.decide(txn, outcome, fx);
    if (from === t.record.coordinator) fx.send(from, { type: 'ack', txn });
  }

  /** Ends an open transaction with `outcome`: applies a commit, releases the locks, records it. */
  private decide(txn: TxnId, outcome: Outcome, fx: ParticipantFx): void {
    const t = this.open.get(txn);
    if (t === undefined) return;
    if (t.phase === 'waiting') {
      assertInvariant(outcome === 'abort', () => `participant ${this.env.id}: commit of ${txn}, for which it never voted yes`);
      this.open.delete(txn);
      this.remember(txn, 'abort', t.record.ts, fx);
      fx.annotate(EVENT_KEY, formatCommitEvent('abort', 'participant', txn));
      this.annotateState(fx);
      return;
    }
    this.apply(t.record, outcome);
    fx.persist({ kind: 'decided', txn, ts: t.record.ts, outcome });
    this.rememberInMemory(txn, outcome, t.record.ts);
    fx.annotate(EVENT_KEY, formatCommitEvent(outcome, 'participant', txn));
    this.afterDecision(fx);
    // freed locks: the waiting may go on
    for (const w of [...this.open.values()]) if (w.phase === 'waiting') this.tryLock(w.record.txn, fx);
    this.annotateState(fx);
  }

  private onStatusRequest(from: NodeId, txn: TxnId, ts: number, fx: ParticipantFx): void {
    const known = this.decided.get(txn);
    if (known !== undefined) {
      fx.send(from, { type: 'status', txn, state: known.outcome });
      return;
    }
    const t = this.open.get(txn);
    if (t?.phase === 'prepared') {
      fx.send(from, { type: 'status', txn, state: 'prepared' });
      return;
    }
    if (t !== undefined) {
      // not voted yet: it may still abort on its own, and does, so the asker can decide
      this.voteNo(t.record, fx);
      fx.send(from, { type: 'status', txn, state: 'abort' });
      return;
    }
    // never seen: forgotten (old) or not arrived; only the latter may be answered with an abort
    if (ts <= this.forgottenBelowTs) return;
    this.remember(txn, 'abort', ts, fx);
    fx.send(from, { type: 'status', txn, state: 'abort' });
  }

  // ---------------------------------------------------------------- state and log

  private apply(record: PreparedRecord, outcome: Outcome): void {
    this.accounts.finish(record.txn, record.writes, outcome);
    this.open.delete(record.txn);
  }

  /** Records an abort decided without a prepared record (a no vote, an unknown transaction). */
  private remember(txn: TxnId, outcome: Outcome, ts: number, fx: ParticipantFx): void {
    fx.persist({ kind: 'decided', txn, ts, outcome });
    this.rememberInMemory(txn, outcome, ts);
    this.afterDecision(fx);
  }

  private rememberInMemory(txn: TxnId, outcome: Outcome, ts: number): void {
    this.decided.delete(txn);
    this.decided.set(txn, { outcome, ts });
    while (this.decided.size > this.o.maxRemembered) {
      const [oldest, entry] = this.decided.entries().next().value as [TxnId, { ts: number }];
      this.decided.delete(oldest);
      this.forgottenBelowTs = Math.max(this.forgottenBelowTs, entry.ts);
    }
  }

  private afterDecision(fx: ParticipantFx): void {
    if (++this.decisionsSinceSnapshot < this.o.snapshotEvery) return;
    this.decisionsSinceSnapshot = 0;
    fx.persist({
      kind: 'snapshot',
      balances: this.accounts.entries(),
      prepared: [...this.open.values()].filter((t) => t.phase === 'prepared').map((t) => t.record),
      decided: [...this.decided.entries()].map(([txn, d]) => [txn, d.outcome, d.ts] as const),
      forgottenBelowTs: this.forgottenBelowTs,
    });
  }

  private replay(op: ParticipantOp): void {
    switch (op.kind) {
      case 'snapshot':
        this.accounts.reset(op.balances);
        this.open.clear();
        this.decided.clear();
        for (const [txn, outcome, ts] of op.decided) this.decided.set(txn, { outcome, ts });
        this.forgottenBelowTs = op.forgottenBelowTs;
        for (const r of op.prepared) this.replay(r);
        return;
      case 'prepared':
        this.open.set(op.txn, { record: op, phase: 'prepared', sinceMs: 0, nextAskMs: 0 });
        this.accounts.hold(op.txn, op.ts, op.writes);
        return;
      case 'decided': {
        const t = this.open.get(op.txn);
        if (t !== undefined) this.apply(t.record, op.outcome);
        this.rememberInMemory(op.txn, op.outcome, op.ts);
        return;
      }
    }
  }

  private annotateState(fx: ParticipantFx): void {
    fx.annotate('role', 'participant');
    fx.annotate('inDoubt', this.inDoubt().length);
    fx.annotate('locks', this.accounts.lockCount);
    fx.annotate('total', this.totalBalance());
  }
}

export type { Write };
