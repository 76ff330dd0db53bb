// A leader's linearizable reads waiting to be served (ReadIndex, thesis §6.4): each records the
// commit index when it arrived and waits until a quorum acknowledges a heartbeat round sent after
// it (or a lease or a lone voter confirms leadership at once) and the read index is applied; and
// the lease. Pure bookkeeping: the core sends the rounds, counts the acknowledgements and answers.
import type { RaftOptions } from './types.js';

/** A read that arrived before the leader committed an entry of its term: its read index is not known yet. */
export interface DeferredRead<Q> {
  readonly requestId: string;
  readonly op: Q;
  readonly startedTick: number;
}

export interface PendingRead<Q> extends DeferredRead<Q> {
  readonly readIndex: number;
  /**
   * The heartbeat round whose acknowledgement by a quorum confirms leadership; 0 when confirmed
   * another way; AWAITING_ROUND until the next round starts.
   */
  round: number;
  confirmed: boolean;
}

/** A read that arrived while a read round was in flight waits for the next round. */
export const AWAITING_ROUND = Number.POSITIVE_INFINITY;

export class ReadQueue<Q> {
  private reads: PendingRead<Q>[] = [];
  private deferred: DeferredRead<Q>[] = [];
  /**
   * The heartbeat round the latest reads wait on, until a quorum acknowledges it (0: none). Reads
   * arriving meanwhile wait for the next round, started when this one is acknowledged or at the
   * next heartbeat, whichever comes first: one round in flight serves any number of reads (as
   * etcd batches ReadIndex requests) instead of one round, and one message per peer, per read.
   */
  private inFlightRound = 0;

  /** Reads held, deferred or pending (for the bound on pending reads). */
  get size(): number {
    return this.reads.length + this.deferred.length;
  }

  /** Holds a read until the leader has committed an entry of its term (see takeDeferred). */
  defer(requestId: string, op: Q, startedTick: number): void {
    this.deferred.push({ requestId, op, startedTick });
  }

  /** The deferred reads, oldest first, which the caller now starts with `add`. */
  takeDeferred(): DeferredRead<Q>[] {
    const taken = this.deferred;
    this.deferred = [];
    return taken;
  }

  /**
   * Queues a read at `readIndex`. `confirmed`: leadership is already known (a valid lease, or this
   * node alone is a quorum). True when the caller must start a heartbeat round for it now (and then
   * call assignRound); otherwise it is confirmed or waits for the round after the one in flight.
   */
  add(requestId: string, op: Q, startedTick: number, readIndex: number, confirmed: boolean): boolean {
    this.reads.push({ requestId, op, startedTick, readIndex, round: confirmed ? 0 : AWAITING_ROUND, confirmed });
    return !confirmed && this.inFlightRound === 0;
  }

  /** A heartbeat round started: every read waiting for one gets it, as it started after each arrived. */
  assignRound(round: number): void {
    let assigned = false;
    for (const read of this.reads) {
      if (read.round !== AWAITING_ROUND) continue;
      read.round = round;
      assigned = true;
    }
    if (assigned) this.inFlightRound = round;
  }

  /**
   * Confirms the reads whose round a quorum acknowledged. True when the round in flight is done and
   * reads wait for another one: the caller starts it (and calls assignRound).
   */
  confirm(quorumAcked: (round: number) => boolean): boolean {
    let awaiting = false;
    for (const read of this.reads) {
      if (read.round === AWAITING_ROUND) awaiting = true;
      else if (!read.confirmed && quorumAcked(read.round)) read.confirmed = true;
    }
    if (this.inFlightRound === 0 || !quorumAcked(this.inFlightRound)) return false;
    this.inFlightRound = 0;
    return awaiting;
  }

  /**
   * Removes and returns, in arrival order, the reads that can be answered: confirmed, with the read
   * index applied. The index is committed (a quorum stored it), so nothing local is waited for.
   */
  takeServable(applied: number): PendingRead<Q>[] {
    if (this.reads.length === 0) return [];
    const servable: PendingRead<Q>[] = [];
    const remaining: PendingRead<Q>[] = [];
    for (const read of this.reads) (read.confirmed && applied >= read.readIndex ? servable : remaining).push(read);
    this.reads = remaining;
    return servable;
  }

  /** Removes the reads that started more than `limitTicks` before `nowTick`; their request ids, pending ones first. */
  expire(nowTick: number, limitTicks: number): string[] {
    const expired = (r: DeferredRead<Q>): boolean => nowTick - r.startedTick > limitTicks;
    const ids = [...this.reads.filter(expired), ...this.deferred.filter(expired)].map((r) => r.requestId);
    this.reads = this.reads.filter((r) => !expired(r));
    this.deferred = this.deferred.filter((r) => !expired(r));
    return ids;
  }

  /** Leadership is lost: forgets every read; their request ids, pending ones first. */
  clear(): string[] {
    const ids = [...this.reads, ...this.deferred].map((r) => r.requestId);
    this.reads = [];
    this.deferred = [];
    this.inFlightRound = 0;
    return ids;
  }
}

/**
 * A leader's lease for reads (thesis §6.4.1): followers ignore campaigns for electionTimeoutMin
 * ticks after hearing from the leader, so a leader whose heartbeat sent at time s was acknowledged
 * by a quorum leads at least until s + (min - 1) ticks, shrunk by the assumed clock drift. Times
 * are the leader's local clock.
 */
export class LeaderLease {
  private untilMs = -Infinity;
  private readonly durationMs: number;

  constructor(opts: Pick<RaftOptions, 'electionTimeoutMinTicks' | 'tickMs' | 'maxClockDrift'>) {
    this.durationMs = (opts.electionTimeoutMinTicks - 1) * opts.tickMs * (1 - opts.maxClockDrift);
  }

  /** A quorum acknowledged heartbeats sent at `sentAtMs` or later: the lease runs from then (it never shortens). */
  extend(sentAtMs: number): void {
    this.untilMs = Math.max(this.untilMs, sentAtMs + this.durationMs);
  }

  holdsAt(nowMs: number): boolean {
    return nowMs < this.untilMs;
  }

  /** Leadership starts, ends or is being handed over: no lease until a quorum acknowledges again. */
  end(): void {
    this.untilMs = -Infinity;
  }
}
