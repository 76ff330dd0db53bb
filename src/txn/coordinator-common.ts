// What the coordinators of 2PC, 3PC and Paxos Commit (its leader) do alike: name transactions so
// that names and timestamps never repeat across restarts, keep the open ones in a table, and
// check a client's request before announcing it to the participants. The 2PC and 3PC coordinators
// also share how votes are counted, decisions resent and 'end' records logged (VotingCoordinator).
import type { CoreEnv, Effects, Message, NodeId } from '../core/index.js';
import type { TxnRequest, TxnResponse } from './coordinator.js';
import { EVENT_KEY, formatCommitEvent } from './events.js';
import { MAX_ID_LENGTH, MAX_PARTICIPANTS, MAX_WRITES, type CoordinatorOp, type Outcome, type TwoPcMessage, type TxnId, type Write } from './messages.js';

/** Timestamps are life × this + sequence, so they grow across restarts (wait-die compares them). */
export const TS_PER_LIFE = 1_000_000;

/** What every coordinator keeps of an open transaction. */
export interface ActiveLike {
  readonly txn: TxnId;
  readonly ts: number;
  readonly participants: readonly NodeId[];
}

/** The effects the shared steps use (they persist nothing). */
type CommonFx<M extends Message> = Effects<M, never, TxnResponse>;

/**
 * A coordinator's life and sequence (a transaction's name and timestamp), its open transactions,
 * and its count of malformed messages. A subclass replays its log (`replayLife`), then calls
 * `newLife` once, before it persists the new life in `start`.
 */
export abstract class CoordinatorCommon<M extends Message, A extends ActiveLike> {
  protected life = 0;
  private seq = 0;
  protected readonly active = new Map<TxnId, A>();
  private malformed = 0;

  protected constructor(
    protected readonly env: CoreEnv,
    private readonly maxActive: number,
  ) {}

  /** Transactions open now (tests, harness). */
  openCount(): number {
    return this.active.size;
  }

  get malformedCount(): number {
    return this.malformed;
  }

  protected replayLife(life: number): void {
    this.life = Math.max(this.life, life);
  }

  protected newLife(): void {
    this.life++;
  }

  /** The message, or undefined after counting it as malformed (a peer may be hostile). */
  protected parsed(msg: M | undefined, fx: CommonFx<M>): M | undefined {
    if (msg !== undefined) return msg;
    this.malformed++;
    fx.annotate('malformed', this.malformed);
    return undefined;
  }

  /**
   * A client's transaction: refused when malformed or too many are open (or the life's names ran
   * out); else named, opened as `entry`, and announced to each participant with its writes.
   */
  protected begin<N extends Message>(requestId: string, request: TxnRequest, fx: CommonFx<N>, entry: (txn: TxnId, ts: number, participants: readonly NodeId[]) => A, announce: (a: A, writes: Write[]) => N): A | undefined {
    const byParticipant = groupWrites(request);
    if (byParticipant === undefined) {
      fx.reply(requestId, { error: 'bad-request' });
      return undefined;
    }
    if (this.active.size >= this.maxActive || this.seq + 1 >= TS_PER_LIFE) {
      fx.reply(requestId, { error: 'busy' });
      return undefined;
    }
    const seq = ++this.seq;
    const txn = `t${this.life}.${seq}`;
    const participants = [...byParticipant.keys()];
    const a = entry(txn, this.life * TS_PER_LIFE + seq, participants);
    this.active.set(txn, a);
    fx.annotate(EVENT_KEY, formatCommitEvent('begin', 'coordinator', txn, participants));
    for (const [p, writes] of byParticipant) fx.send(p, announce(a, writes));
    return a;
  }
}

/** What the 2PC and 3PC coordinators keep of an open transaction; `Ph` are a protocol's own phases. */
export interface VotingActive<Ph extends string> extends ActiveLike {
  /** 3PC's 'in-doubt': restarted after PRE-COMMIT with no decision recorded. */
  phase: 'voting' | 'committing' | Ph;
  readonly yes: Set<NodeId>;
  /** Acknowledgements of COMMIT (3PC: of PRE-COMMIT first). */
  acked: Set<NodeId>;
  deadlineMs: number;
  nextRetryMs: number;
  requestId: string | undefined;
}

export interface VotingTiming {
  readonly voteTimeoutMs: number;
  readonly retryMs: number;
  readonly maxActive: number;
  readonly snapshotEvery: number;
}

/** The messages and ops both protocols' unions hold alike: the shared steps send and persist only these. */
type VotingMessage = Extract<TwoPcMessage, { type: 'prepare' | 'decision' }>;
type VotingFx = Effects<VotingMessage, Extract<CoordinatorOp, { kind: 'life' | 'end' }>, TxnResponse>;

/**
 * A coordinator that collects votes on PREPARE and, once it decided commit, resends the decision
 * until every participant acknowledged. What follows the votes (2PC commits, 3PC pre-commits)
 * each protocol passes in as a step of its own.
 */
export abstract class VotingCoordinator<M extends Message, Ph extends string> extends CoordinatorCommon<M, VotingActive<Ph>> {
  private endsSinceSnapshot = 0;

  protected constructor(
    env: CoreEnv,
    protected readonly timing: VotingTiming,
  ) {
    super(env, timing.maxActive);
  }

  start(fx: VotingFx): void {
    fx.persist({ kind: 'life', life: this.life });
    const now = this.env.now();
    for (const a of this.active.values()) a.nextRetryMs = now;
    this.annotateState(fx);
  }

  handleRequest(requestId: string, request: TxnRequest, fx: VotingFx): void {
    const entry = (txn: TxnId, ts: number, participants: readonly NodeId[]): VotingActive<Ph> => {
      const now = this.env.now();
      return { txn, ts, participants, phase: 'voting', yes: new Set(), acked: new Set(), deadlineMs: now + this.timing.voteTimeoutMs, nextRetryMs: now, requestId };
    };
    const a = this.begin<VotingMessage>(requestId, request, fx, entry, (x, writes) => ({ type: 'prepare', txn: x.txn, ts: x.ts, participants: x.participants, writes }));
    if (a !== undefined) this.annotateState(fx);
  }

  /** A vote: a no goes to `no`, the last yes to `allYes`; a yes for a transaction with no record is answered abort. */
  protected onVote(from: NodeId, vote: { readonly txn: TxnId; readonly yes: boolean }, a: VotingActive<Ph> | undefined, fx: VotingFx, no: (a: VotingActive<Ph>) => void, allYes: (a: VotingActive<Ph>) => void): void {
    if (a === undefined) {
      // presumed abort: no record, no commit
      if (vote.yes) fx.send(from, { type: 'decision', txn: vote.txn, outcome: 'abort' });
      return;
    }
    if (a.phase !== 'voting' || !a.participants.includes(from)) return;
    if (!vote.yes) return no(a);
    a.yes.add(from);
    if (a.yes.size === a.participants.length) allYes(a);
  }

  /** A participant's acknowledgement of COMMIT; `allAcked` once every one did. */
  protected commitAcked(a: VotingActive<Ph>, from: NodeId, allAcked: () => void): void {
    if (a.phase !== 'committing' || !a.participants.includes(from)) return;
    a.acked.add(from);
    if (a.acked.size === a.participants.length) allAcked();
  }

  /** Every participant told the outcome. */
  protected tell(a: VotingActive<Ph>, outcome: Outcome, fx: VotingFx): void {
    for (const p of a.participants) fx.send(p, { type: 'decision', txn: a.txn, outcome });
  }

  /** A commit not acknowledged by all is resent every `retryMs` (a participant may have lost it). */
  protected resendCommit(a: VotingActive<Ph>, now: number, fx: VotingFx): void {
    if (now < a.nextRetryMs) return;
    a.nextRetryMs = now + this.timing.retryMs;
    for (const p of a.participants) if (!a.acked.has(p)) fx.send(p, { type: 'decision', txn: a.txn, outcome: 'commit' });
  }

  /** The 'end' record; every `snapshotEvery` of them `snapshot` persists the open ones, so replay stays bounded. */
  protected logEnd(txn: TxnId, fx: VotingFx, snapshot: () => void): void {
    fx.persist({ kind: 'end', txn });
    if (++this.endsSinceSnapshot < this.timing.snapshotEvery) return;
    this.endsSinceSnapshot = 0;
    snapshot();
  }

  /** Replay of a forced record: open again, with every vote in, waiting to be resent. */
  protected replayRecord(txn: TxnId, ts: number, participants: readonly NodeId[], phase: VotingActive<Ph>['phase']): void {
    this.active.set(txn, { txn, ts, participants, phase, yes: new Set(participants), acked: new Set(), deadlineMs: 0, nextRetryMs: 0, requestId: undefined });
  }

  /** Replay of a state op: what it lists replaces every record before it. */
  protected replayState(life: number): void {
    this.replayLife(life);
    this.active.clear();
  }

  protected annotateState(fx: VotingFx): void {
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
