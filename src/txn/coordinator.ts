// The 2PC coordinator with presumed abort: it sends PREPARE, collects votes (a missing vote
// after a timeout is a no), forces a commit record before sending COMMIT, and answers any
// question about a transaction it has no record of with ABORT. After a crash it replays its
// commit records and resends them until every participant acknowledges.
import { assertInvariant } from '../core/index.js';
import type { CoreEnv, Effects, NodeId, ProtocolCore } from '../core/index.js';
import { CoordinatorCommon } from './coordinator-common.js';
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

interface Active {
  readonly txn: TxnId;
  readonly ts: number;
  readonly participants: readonly NodeId[];
  phase: 'voting' | 'committing';
  readonly yes: Set<NodeId>;
  readonly acked: Set<NodeId>;
  deadlineMs: number;
  nextRetryMs: number;
  requestId: string | undefined;
}

export class CoordinatorCore extends CoordinatorCommon<TwoPcMessage, Active> implements ProtocolCore<TwoPcMessage, TxnRequest, TxnResponse, CoordinatorOp> {
  private endsSinceSnapshot = 0;

  constructor(
    env: CoreEnv,
    durable: readonly CoordinatorOp[],
    private readonly o: CoordinatorOptions,
  ) {
    super(env, o.maxActive);
    for (const op of durable) this.replay(op);
    this.newLife();
  }

  start(fx: CoordinatorFx): void {
    fx.persist({ kind: 'life', life: this.life });
    const now = this.env.now();
    for (const a of this.active.values()) a.nextRetryMs = now;
    this.annotateState(fx);
  }

  handleRequest(requestId: string, request: TxnRequest, fx: CoordinatorFx): void {
    const entry = (txn: TxnId, ts: number, participants: readonly NodeId[]): Active => {
      const now = this.env.now();
      return { txn, ts, participants, phase: 'voting', yes: new Set(), acked: new Set(), deadlineMs: now + this.o.voteTimeoutMs, nextRetryMs: now, requestId };
    };
    const a = this.begin(requestId, request, fx, entry, (x, writes) => ({ type: 'prepare', txn: x.txn, ts: x.ts, participants: x.participants, writes }));
    if (a !== undefined) this.annotateState(fx);
  }

  handleMessage(from: NodeId, raw: TwoPcMessage, fx: CoordinatorFx): void {
    const msg = this.parsed(parseTwoPcMessage(raw), fx);
    if (msg === undefined) return;
    const a = this.active.get(msg.txn);
    switch (msg.type) {
      case 'vote':
        if (a === undefined) {
          // presumed abort: no record, no commit
          if (msg.yes) fx.send(from, { type: 'decision', txn: msg.txn, outcome: 'abort' });
          return;
        }
        if (a.phase !== 'voting' || !a.participants.includes(from)) return;
        if (!msg.yes) return this.abort(a, fx);
        a.yes.add(from);
        if (a.yes.size === a.participants.length) this.commit(a, fx);
        return;
      case 'ack':
        if (a === undefined || a.phase !== 'committing' || !a.participants.includes(from)) return;
        a.acked.add(from);
        if (a.acked.size === a.participants.length) this.end(a, fx);
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
      } else if (now >= a.nextRetryMs) {
        a.nextRetryMs = now + this.o.retryMs;
        for (const p of a.participants) if (!a.acked.has(p)) fx.send(p, { type: 'decision', txn: a.txn, outcome: 'commit' });
      }
    }
  }

  private commit(a: Active, fx: CoordinatorFx): void {
    a.phase = 'committing';
    a.nextRetryMs = this.env.now() + this.o.retryMs;
    // forced before COMMIT leaves (the host holds every message until it is durable)
    fx.persist({ kind: 'commit', txn: a.txn, participants: a.participants });
    fx.annotate(EVENT_KEY, formatCommitEvent('commit', 'coordinator', a.txn));
    for (const p of a.participants) fx.send(p, { type: 'decision', txn: a.txn, outcome: 'commit' });
    if (a.requestId !== undefined) fx.reply(a.requestId, { txn: a.txn, outcome: 'commit' });
    a.requestId = undefined;
  }

  /** Presumed abort: nothing is forced, the participants are told once, and the record dropped. */
  private abort(a: Active, fx: CoordinatorFx): void {
    assertInvariant(a.phase === 'voting', () => `coordinator ${this.env.id}: abort of ${a.txn} after its commit`);
    this.active.delete(a.txn);
    fx.annotate(EVENT_KEY, formatCommitEvent('abort', 'coordinator', a.txn));
    for (const p of a.participants) fx.send(p, { type: 'decision', txn: a.txn, outcome: 'abort' });
    if (a.requestId !== undefined) fx.reply(a.requestId, { txn: a.txn, outcome: 'abort' });
    this.annotateState(fx);
  }

  private end(a: Active, fx: CoordinatorFx): void {
    this.active.delete(a.txn);
    fx.persist({ kind: 'end', txn: a.txn });
    if (++this.endsSinceSnapshot >= this.o.snapshotEvery) {
      this.endsSinceSnapshot = 0;
      fx.persist({ kind: 'state', life: this.life, open: [...this.active.values()].filter((x) => x.phase === 'committing').map((x) => [x.txn, x.participants] as const) });
    }
    this.annotateState(fx);
  }

  private replay(op: CoordinatorOp): void {
    switch (op.kind) {
      case 'life':
        return this.replayLife(op.life);
      case 'commit':
        this.active.set(op.txn, { txn: op.txn, ts: 0, participants: op.participants, phase: 'committing', yes: new Set(op.participants), acked: new Set(), deadlineMs: 0, nextRetryMs: 0, requestId: undefined });
        return;
      case 'end':
        this.active.delete(op.txn);
        return;
      case 'state':
        this.replayLife(op.life);
        this.active.clear();
        for (const [txn, participants] of op.open) this.replay({ kind: 'commit', txn, participants });
        return;
    }
  }

  private annotateState(fx: CoordinatorFx): void {
    fx.annotate('role', 'coordinator');
    fx.annotate('open', this.active.size);
  }
}
