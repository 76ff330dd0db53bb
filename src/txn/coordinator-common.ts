// What the coordinators of 2PC, 3PC and Paxos Commit (its leader) do alike: name transactions so
// that names and timestamps never repeat across restarts, keep the open ones in a table, and
// check a client's request before announcing it to the participants.
import type { CoreEnv, Effects, Message, NodeId } from '../core/index.js';
import type { TxnRequest, TxnResponse } from './coordinator.js';
import { EVENT_KEY, formatCommitEvent } from './events.js';
import { MAX_ID_LENGTH, MAX_PARTICIPANTS, MAX_WRITES, type TxnId, type Write } from './messages.js';

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
  protected begin(requestId: string, request: TxnRequest, fx: CommonFx<M>, entry: (txn: TxnId, ts: number, participants: readonly NodeId[]) => A, announce: (a: A, writes: Write[]) => M): A | undefined {
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
