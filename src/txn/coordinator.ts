// The 2PC coordinator with presumed abort: it sends PREPARE, collects votes (a missing vote
// after a timeout is a no), forces a commit record before sending COMMIT, and answers any
// question about a transaction it has no record of with ABORT. After a crash it replays its
// commit records and resends them until every participant acknowledges.
import { assertInvariant } from '../core/index.js';
import type { CoreEnv, Effects, NodeId, ProtocolCore } from '../core/index.js';
import { EVENT_KEY, formatCommitEvent } from './events.js';
import { MAX_ID_LENGTH, MAX_PARTICIPANTS, MAX_WRITES, parseTwoPcMessage, type CoordinatorOp, type Outcome, type TwoPcMessage, type TxnId, type Write } from './messages.js';

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

/** Timestamps are life × this + sequence, so they grow across restarts (wait-die compares them). */
export const TS_PER_LIFE = 1_000_000;

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

export class CoordinatorCore implements ProtocolCore<TwoPcMessage, TxnRequest, TxnResponse, CoordinatorOp> {
  private life = 0;
  private seq = 0;
  private readonly active = new Map<TxnId, Active>();
  private endsSinceSnapshot = 0;
  private malformed = 0;

  constructor(
    private readonly env: CoreEnv,
    durable: readonly CoordinatorOp[],
    private readonly o: CoordinatorOptions,
  ) {
    for (const op of durable) this.replay(op);
    this.life++;
  }

  start(fx: CoordinatorFx): void {
    fx.persist({ kind: 'life', life: this.life });
    const now = this.env.now();
    for (const a of this.active.values()) a.nextRetryMs = now;
    this.annotateState(fx);
  }

  /** Transactions open now (tests). */
  openCount(): number {
    return this.active.size;
  }

  get malformedCount(): number {
    return this.malformed;
  }

  handleRequest(requestId: string, request: TxnRequest, fx: CoordinatorFx): void {
    const byParticipant = groupWrites(request);
    if (byParticipant === undefined) {
      fx.reply(requestId, { error: 'bad-request' });
      return;
    }
    if (this.active.size >= this.o.maxActive || this.seq + 1 >= TS_PER_LIFE) {
      fx.reply(requestId, { error: 'busy' });
      return;
    }
    const seq = ++this.seq;
    const txn = `t${this.life}.${seq}`;
    const participants = [...byParticipant.keys()];
    const now = this.env.now();
    const a: Active = { txn, ts: this.life * TS_PER_LIFE + seq, participants, phase: 'voting', yes: new Set(), acked: new Set(), deadlineMs: now + this.o.voteTimeoutMs, nextRetryMs: now, requestId };
    this.active.set(txn, a);
    fx.annotate(EVENT_KEY, formatCommitEvent('begin', 'coordinator', txn, participants));
    for (const [p, writes] of byParticipant) fx.send(p, { type: 'prepare', txn, ts: a.ts, participants, writes });
    this.annotateState(fx);
  }

  handleMessage(from: NodeId, raw: TwoPcMessage, fx: CoordinatorFx): void {
    const msg = parseTwoPcMessage(raw);
    if (msg === undefined) {
      this.malformed++;
      fx.annotate('malformed', this.malformed);
      return;
    }
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
        this.life = Math.max(this.life, op.life);
        return;
      case 'commit':
        this.active.set(op.txn, { txn: op.txn, ts: 0, participants: op.participants, phase: 'committing', yes: new Set(op.participants), acked: new Set(), deadlineMs: 0, nextRetryMs: 0, requestId: undefined });
        return;
      case 'end':
        this.active.delete(op.txn);
        return;
      case 'state':
        this.life = Math.max(this.life, op.life);
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

/** The request's writes per participant, or undefined when the request is malformed. */
export function groupWrites(request: TxnRequest): Map<NodeId, Write[]> | undefined {
  const writes: unknown = (request as { writes?: unknown } | null)?.writes;
  if (!Array.isArray(writes) || writes.length === 0 || writes.length > MAX_WRITES) return undefined;
  const out = new Map<NodeId, Write[]>();
  for (const w of writes as unknown[]) {
    if (typeof w !== 'object' || w === null) return undefined;
    const { participant, key, delta } = w as Record<string, unknown>;
    if (typeof participant !== 'string' || participant === '' || participant.length > MAX_ID_LENGTH) return undefined;
    if (typeof key !== 'string' || key === '' || key.length > MAX_ID_LENGTH || typeof delta !== 'number' || !Number.isSafeInteger(delta)) return undefined;
    let list = out.get(participant);
    if (list === undefined) out.set(participant, (list = []));
    list.push({ key, delta });
  }
  return out.size > MAX_PARTICIPANTS ? undefined : out;
}
