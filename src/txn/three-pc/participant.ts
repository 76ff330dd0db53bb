// A 3PC participant: locks, checks and votes like a 2PC participant (wait-die, "prepared" forced
// before a yes), forces "precommitted" before acknowledging PRE-COMMIT, and when the coordinator
// goes silent runs Skeen's termination protocol as a backup coordinator: it gathers every
// participant's state and decides — commit (after pre-committing the uncertain) if anyone is
// pre-committed, abort if everyone is uncertain. Backups take turns by rank (index among the
// participants), so under crashes with bounded delays one decides at a time; a network partition
// breaks that assumption, and then two backups can decide differently (docs/transactions.md).
import type { CoreEnv, Effects, NodeId, ProtocolCore } from '../../core/index.js';
import type { Outcome, TxnId } from '../messages.js';
import { ParticipantCommon } from '../participant-common.js';
import { parseThreePcMessage, type ThreePcMessage, type ThreePcParticipantOp, type ThreePcPrepared, type ThreePcState } from './messages.js';

export interface ThreePcParticipantOptions {
  readonly accounts: readonly string[];
  readonly initialBalance: number;
  /** A transaction still waiting for locks after this long (local clock) votes no. */
  readonly lockWaitMs: number;
  /** Uncertain or pre-committed this long with no word from the coordinator: start the termination protocol. */
  readonly decisionTimeoutMs: number;
  /** Each rank waits this much longer than the one before it, so a lower-ranked backup goes first. */
  readonly rankSlotMs: number;
  /** How long a backup waits for states (and for PRE-COMMIT acknowledgements) before taking the silent as crashed. */
  readonly termWaitMs: number;
  /** How soon a backup that could not decide (only restarted participants answered) tries again. */
  readonly retryMs: number;
  readonly maxWaiting: number;
  readonly maxRemembered: number;
  readonly snapshotEvery: number;
}

type Fx = Effects<ThreePcMessage, ThreePcParticipantOp, never>;

/** A termination round this participant runs as the backup coordinator. */
interface Round {
  readonly id: number;
  phase: 'collect' | 'precommit';
  readonly states: Map<NodeId, { readonly state: ThreePcState; readonly recovered: boolean }>;
  /** precommit phase: the uncertain it sent PRE-COMMIT to and has no acknowledgement from. */
  readonly pending: Set<NodeId>;
  deadlineMs: number;
}

interface OpenTxn {
  readonly record: ThreePcPrepared;
  phase: 'waiting' | 'uncertain' | 'precommitted';
  /** Restarted since it voted: its own uncertainty proves nothing (it may have missed a PRE-COMMIT). */
  recovered: boolean;
  sinceMs: number;
  nextTermMs: number;
  round: Round | undefined;
}

export class ThreePcParticipantCore extends ParticipantCommon<ThreePcMessage, ThreePcPrepared, OpenTxn> implements ProtocolCore<ThreePcMessage, never, never, ThreePcParticipantOp> {
  private decisionsSinceSnapshot = 0;
  private rounds = 0;
  /** Termination rounds this participant decided as a backup (tests, bench). */
  terminations = 0;

  constructor(
    env: CoreEnv,
    durable: readonly ThreePcParticipantOp[],
    private readonly o: ThreePcParticipantOptions,
  ) {
    super(env, `3pc participant ${env.id}`, o, true);
    for (const op of durable) this.replay(op);
    const now = env.now();
    for (const t of this.open.values()) {
      t.recovered = true;
      t.sinceMs = now;
      t.nextTermMs = now + this.rankOf(t) * this.o.rankSlotMs;
    }
  }

  start(fx: Fx): void {
    this.annotateState(fx);
  }

  // ---------------------------------------------------------------- readings

  /** Its state of `txn`, as it would answer a backup (tests). */
  stateOf(txn: TxnId): ThreePcState | 'waiting' | 'unknown' {
    const d = this.outcomes.get(txn);
    if (d !== undefined) return d.outcome === 'commit' ? 'committed' : 'aborted';
    return this.open.get(txn)?.phase ?? 'unknown';
  }

  // ---------------------------------------------------------------- inputs

  handleMessage(from: NodeId, raw: ThreePcMessage, fx: Fx): void {
    const msg = this.parsed(parseThreePcMessage(raw), fx);
    if (msg === undefined) return;
    const t = this.open.get(msg.txn);
    switch (msg.type) {
      case 'prepare':
        return this.onPrepare(from, msg, fx);
      case 'precommit':
        return this.onPrecommit(from, msg.txn, fx);
      case 'decision':
        if (t !== undefined && !(t.phase === 'waiting' && msg.outcome === 'commit')) this.decide(t, msg.outcome, fx);
        else if (t === undefined && !this.outcomes.has(msg.txn) && msg.outcome === 'abort') this.record(msg.txn, 'abort', 0, fx);
        if (this.outcomes.has(msg.txn)) fx.send(from, { type: 'ack', txn: msg.txn });
        return;
      case 'state-request':
        return this.onStateRequest(from, msg, fx);
      case 'state':
        if (t?.round !== undefined && t.round.phase === 'collect' && msg.round === t.round.id && this.othersOf(t).includes(from)) {
          t.round.states.set(from, { state: msg.state, recovered: msg.recovered });
          if (this.othersOf(t).every((n) => t.round?.states.has(n) === true)) this.evaluate(t, fx);
        } else if (t !== undefined && t.round === undefined && (msg.state === 'committed' || msg.state === 'aborted') && this.othersOf(t).includes(from)) {
          // a late answer that knows the outcome is still the outcome
          this.decide(t, msg.state === 'committed' ? 'commit' : 'abort', fx);
        }
        return;
      case 'precommit-ack':
        if (t?.round?.phase === 'precommit' && t.round.pending.delete(from) && t.round.pending.size === 0) this.finishRound(t, 'commit', fx);
        return;
      default:
        return; // coordinator-bound messages
    }
  }

  handleTick(fx: Fx): void {
    const now = this.env.now();
    for (const t of [...this.open.values()]) {
      if (t.phase === 'waiting') {
        if (now - t.sinceMs >= this.o.lockWaitMs) this.voteNo(t.record, fx);
        continue;
      }
      if (t.round !== undefined) {
        if (now >= t.round.deadlineMs) {
          // the silent are taken as crashed
          if (t.round.phase === 'collect') this.evaluate(t, fx);
          else this.finishRound(t, 'commit', fx);
        }
        continue;
      }
      if (now >= t.nextTermMs) this.startRound(t, fx);
    }
    this.annotateState(fx);
  }

  // ---------------------------------------------------------------- commit protocol

  private onPrepare(from: NodeId, msg: Extract<ThreePcMessage, { type: 'prepare' }>, fx: Fx): void {
    // a repeated prepare gets the same vote again (none yet while it waits for locks)
    const prior = this.priorVote(msg.txn);
    if (prior === 'waiting') return;
    if (prior !== undefined) return fx.send(from, { type: 'vote', txn: msg.txn, yes: prior !== 'abort' });
    const record: ThreePcPrepared = { kind: 'prepared', txn: msg.txn, ts: msg.ts, coordinator: from, participants: msg.participants, writes: msg.writes };
    // a coordinator that names itself a participant would answer its own termination round
    this.admit(record, msg.participants.includes(from), (now) => ({ record, phase: 'waiting', recovered: false, sinceMs: now, nextTermMs: now, round: undefined }), fx);
  }

  protected enterPrepared(t: OpenTxn): void {
    t.phase = 'uncertain';
    this.rearm(t);
  }

  protected sayYes(record: ThreePcPrepared, fx: Fx): void {
    fx.send(record.coordinator, { type: 'vote', txn: record.txn, yes: true });
  }

  protected sayNo(record: ThreePcPrepared, fx: Fx): void {
    fx.send(record.coordinator, { type: 'vote', txn: record.txn, yes: false });
  }

  private onPrecommit(from: NodeId, txn: TxnId, fx: Fx): void {
    const t = this.open.get(txn);
    if (t === undefined) {
      if (this.outcomes.get(txn)?.outcome === 'commit') fx.send(from, { type: 'precommit-ack', txn });
      return;
    }
    // only after every yes: one that has not voted cannot be asked to pre-commit (a forged message)
    if (t.phase === 'waiting' || (from !== t.record.coordinator && !t.record.participants.includes(from))) return;
    if (t.phase === 'uncertain') {
      t.phase = 'precommitted';
      fx.persist({ kind: 'precommitted', txn });
    }
    this.rearm(t);
    fx.send(from, { type: 'precommit-ack', txn });
  }

  /** The coordinator spoke: wait for it again before suspecting it. */
  private rearm(t: OpenTxn): void {
    t.sinceMs = this.env.now();
    t.nextTermMs = t.sinceMs + this.o.decisionTimeoutMs + this.rankOf(t) * this.o.rankSlotMs;
  }

  private decide(t: OpenTxn, outcome: Outcome, fx: Fx): void {
    if (t.phase === 'waiting') this.abortWaiting(t, outcome, fx);
    else this.settle(t, outcome, fx);
  }

  // ---------------------------------------------------------------- termination protocol

  private rankOf(t: OpenTxn): number {
    return Math.max(0, t.record.participants.indexOf(this.env.id));
  }

  /** Everyone a backup asks: the other participants and the coordinator. */
  private othersOf(t: OpenTxn): NodeId[] {
    return [...t.record.participants.filter((p) => p !== this.env.id), t.record.coordinator];
  }

  private startRound(t: OpenTxn, fx: Fx): void {
    const id = ++this.rounds;
    t.round = { id, phase: 'collect', states: new Map(), pending: new Set(), deadlineMs: this.env.now() + this.o.termWaitMs };
    const rank = this.rankOf(t);
    for (const n of this.othersOf(t)) fx.send(n, { type: 'state-request', txn: t.record.txn, ts: t.record.ts, rank, round: id });
  }

  /** Skeen's decision rule, on the states gathered (the silent taken as crashed). */
  private evaluate(t: OpenTxn, fx: Fx): void {
    const round = t.round;
    if (round === undefined) return;
    const states = [...round.states.values()].map((s) => s.state);
    if (states.includes('committed')) return this.finishRound(t, 'commit', fx);
    if (states.includes('aborted')) return this.finishRound(t, 'abort', fx);
    const now = this.env.now();
    if (round.states.get(t.record.coordinator)?.state === 'active') {
      // the coordinator is alive and deciding: wait for it
      t.round = undefined;
      this.rearm(t);
      return;
    }
    // An uncertain participant that never crashed proves no commit happened: the coordinator (or a
    // backup) commits only after every participant alive acknowledged PRE-COMMIT; and it heard
    // every abort. Without one, and without everyone's answer (the coordinator's too: it may have
    // committed with every participant crashed), a crashed node may have decided: try again later.
    const peers = t.record.participants.filter((p) => p !== this.env.id);
    const trusted = !t.recovered || peers.some((p) => round.states.get(p)?.recovered === false) || this.othersOf(t).every((n) => round.states.has(n));
    if (!trusted) {
      t.round = undefined;
      t.nextTermMs = now + this.o.retryMs;
      return;
    }
    if (t.phase !== 'precommitted' && !states.includes('precommitted')) return this.finishRound(t, 'abort', fx);
    // someone pre-committed: pre-commit the uncertain, then commit
    if (t.phase === 'uncertain') {
      t.phase = 'precommitted';
      fx.persist({ kind: 'precommitted', txn: t.record.txn });
    }
    round.phase = 'precommit';
    round.deadlineMs = now + this.o.termWaitMs;
    for (const [n, s] of round.states) {
      if (s.state !== 'uncertain' || n === t.record.coordinator) continue;
      round.pending.add(n);
      fx.send(n, { type: 'precommit', txn: t.record.txn });
    }
    if (round.pending.size === 0) this.finishRound(t, 'commit', fx);
  }

  private finishRound(t: OpenTxn, outcome: Outcome, fx: Fx): void {
    t.round = undefined;
    this.terminations++;
    fx.annotate('termination', `${t.record.txn} ${outcome}`);
    this.decide(t, outcome, fx);
    for (const n of this.othersOf(t)) fx.send(n, { type: 'decision', txn: t.record.txn, outcome });
  }

  private onStateRequest(from: NodeId, msg: Extract<ThreePcMessage, { type: 'state-request' }>, fx: Fx): void {
    const reply = (state: ThreePcState, recovered: boolean): void => fx.send(from, { type: 'state', txn: msg.txn, state, recovered, round: msg.round });
    const known = this.outcomes.get(msg.txn);
    if (known !== undefined) return reply(known.outcome === 'commit' ? 'committed' : 'aborted', false);
    const t = this.open.get(msg.txn);
    if (t === undefined) {
      // never heard of it: it cannot have voted, so it may abort (and refuse the prepare if it comes)
      if (msg.ts <= this.outcomes.forgottenBelowTs) return;
      this.record(msg.txn, 'abort', msg.ts, fx);
      return reply('aborted', false);
    }
    if (t.phase === 'waiting') {
      this.voteNo(t.record, fx);
      return reply('aborted', false);
    }
    // a lower-ranked backup is at work: let it finish before trying again
    if (msg.rank >= 0 && msg.rank < this.rankOf(t) && t.record.participants[msg.rank] === from) {
      t.round = undefined;
      this.rearm(t);
    }
    reply(t.phase, t.recovered);
  }

  // ---------------------------------------------------------------- state and log

  protected afterDecision(fx: Fx): void {
    if (++this.decisionsSinceSnapshot < this.o.snapshotEvery) return;
    this.decisionsSinceSnapshot = 0;
    fx.persist({
      kind: 'snapshot',
      balances: this.accounts.entries(),
      open: this.votedYes().map((x) => ({ record: x.record, precommitted: x.phase === 'precommitted' })),
      decided: this.outcomes.entries(),
      forgottenBelowTs: this.outcomes.forgottenBelowTs,
    });
  }

  private replay(op: ThreePcParticipantOp): void {
    switch (op.kind) {
      case 'snapshot':
        this.accounts.reset(op.balances);
        this.open.clear();
        this.outcomes.restore(op.decided, op.forgottenBelowTs);
        for (const x of op.open) {
          this.replay(x.record);
          if (x.precommitted) this.replay({ kind: 'precommitted', txn: x.record.txn });
        }
        return;
      case 'prepared':
        return this.replayPrepared(op, { record: op, phase: 'uncertain', recovered: true, sinceMs: 0, nextTermMs: 0, round: undefined });
      case 'precommitted': {
        const t = this.open.get(op.txn);
        if (t !== undefined) t.phase = 'precommitted';
        return;
      }
      case 'decided':
        return this.replayDecided(op);
    }
  }
}
