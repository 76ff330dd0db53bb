// A 2PC participant: a small key-value store of account balances with exclusive locks per key.
// It locks a transaction's keys (wait-die against deadlock), checks no balance goes negative,
// forces "prepared" before voting yes, and once in doubt asks the coordinator and its fellow
// participants (cooperative termination) until someone knows the outcome.
import type { CoreEnv, Effects, NodeId, ProtocolCore } from '../core/index.js';
import { ParticipantCommon } from './participant-common.js';
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

export class ParticipantCore extends ParticipantCommon<TwoPcMessage, PreparedRecord, OpenTxn> implements ProtocolCore<TwoPcMessage, never, never, ParticipantOp> {
  private decisionsSinceSnapshot = 0;

  constructor(
    env: CoreEnv,
    durable: readonly ParticipantOp[],
    private readonly o: ParticipantOptions,
  ) {
    super(env, `participant ${env.id}`, o, true);
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

  // ---------------------------------------------------------------- inputs

  handleMessage(from: NodeId, raw: TwoPcMessage, fx: ParticipantFx): void {
    const msg = this.parsed(parseTwoPcMessage(raw), fx);
    if (msg === undefined) return;
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
    // a repeated prepare gets the same vote again (none yet while it waits for locks)
    const prior = this.priorVote(msg.txn);
    if (prior === 'waiting') return;
    if (prior !== undefined) return fx.send(from, { type: 'vote', txn: msg.txn, yes: prior !== 'abort' });
    const record: PreparedRecord = { kind: 'prepared', txn: msg.txn, ts: msg.ts, coordinator: from, participants: msg.participants, writes: msg.writes };
    this.admit(record, false, (now) => ({ record, phase: 'waiting', sinceMs: now, nextAskMs: now }), fx);
  }

  protected enterPrepared(t: OpenTxn): void {
    t.phase = 'prepared';
    t.sinceMs = this.env.now();
    t.nextAskMs = t.sinceMs;
  }

  protected sayYes(record: PreparedRecord, fx: ParticipantFx): void {
    fx.send(record.coordinator, { type: 'vote', txn: record.txn, yes: true });
  }

  protected sayNo(record: PreparedRecord, fx: ParticipantFx): void {
    fx.send(record.coordinator, { type: 'vote', txn: record.txn, yes: false });
  }

  private onDecision(from: NodeId, txn: TxnId, outcome: Outcome, fx: ParticipantFx): void {
    const t = this.open.get(txn);
    if (t === undefined) {
      const known = this.outcomes.get(txn);
      // an abort for a transaction never seen: remember it, so a late prepare is refused
      if (known === undefined && outcome === 'abort') this.record(txn, 'abort', 0, fx);
      if (known === undefined || known.outcome === outcome) fx.send(from, { type: 'ack', txn });
      return;
    }
    if (t.phase === 'waiting' && outcome === 'commit') return; // cannot be: it never voted yes (a forged message)
    this.decide(txn, outcome, fx);
    if (from === t.record.coordinator) fx.send(from, { type: 'ack', txn });
  }

  /** Ends an open transaction with `outcome`. */
  private decide(txn: TxnId, outcome: Outcome, fx: ParticipantFx): void {
    const t = this.open.get(txn);
    if (t === undefined) return;
    if (t.phase === 'waiting') this.abortWaiting(t, outcome, fx);
    else this.settle(t, outcome, fx);
  }

  private onStatusRequest(from: NodeId, txn: TxnId, ts: number, fx: ParticipantFx): void {
    const known = this.outcomes.get(txn);
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
    if (ts <= this.outcomes.forgottenBelowTs) return;
    this.record(txn, 'abort', ts, fx);
    fx.send(from, { type: 'status', txn, state: 'abort' });
  }

  // ---------------------------------------------------------------- state and log

  protected afterDecision(fx: ParticipantFx): void {
    if (++this.decisionsSinceSnapshot < this.o.snapshotEvery) return;
    this.decisionsSinceSnapshot = 0;
    fx.persist({
      kind: 'snapshot',
      balances: this.accounts.entries(),
      prepared: this.votedYes().map((t) => t.record),
      decided: this.outcomes.entries(),
      forgottenBelowTs: this.outcomes.forgottenBelowTs,
    });
  }

  private replay(op: ParticipantOp): void {
    switch (op.kind) {
      case 'snapshot':
        this.accounts.reset(op.balances);
        this.open.clear();
        this.outcomes.restore(op.decided, op.forgottenBelowTs);
        for (const r of op.prepared) this.replay(r);
        return;
      case 'prepared':
        return this.replayPrepared(op, { record: op, phase: 'prepared', sinceMs: 0, nextAskMs: 0 });
      case 'decided':
        return this.replayDecided(op);
    }
  }
}

export type { Write };
