// What a leader knows about one follower's log and how it is sending to it. Probe: one append
// at a time until the follower's position is found. Replicate: appends are pipelined, at most
// maxInflight unacknowledged. Snapshot: the follower is sent a snapshot in chunks, one at a time.
import type { SnapshotMeta } from './types.js';

export type ProgressState = 'probe' | 'replicate' | 'snapshot';

export interface OutgoingSnapshot {
  readonly meta: SnapshotMeta;
  readonly text: string;
  /** The offset the follower expects next. */
  offset: number;
}

export class Progress {
  /** The highest index known to match the leader's log. */
  match = 0;
  /** The next index to send. */
  next: number;
  state: ProgressState = 'probe';
  /** Probe: an append is out and unanswered. */
  probeSent = false;
  /** Replicate: last index of each append in flight, ascending. */
  inflight: number[] = [];
  snapshot: OutgoingSnapshot | undefined;
  /** Tick of the last send that expects an answer, and of the last answer that made progress. */
  lastSendTick = 0;
  lastProgressTick = 0;
  /** Heard from since the last check-quorum round. */
  recentActive = true;
  /** The highest heartbeat round it acknowledged in this term. */
  ackedRound = 0;

  constructor(next: number, nowTick: number) {
    this.next = next;
    this.lastProgressTick = nowTick;
  }

  becomeProbe(next: number): void {
    this.state = 'probe';
    this.next = Math.max(this.match + 1, next);
    this.inflight = [];
    this.probeSent = false;
    this.snapshot = undefined;
  }

  becomeReplicate(): void {
    this.state = 'replicate';
    this.next = this.match + 1;
    this.inflight = [];
    this.probeSent = false;
  }

  becomeSnapshot(snapshot: OutgoingSnapshot): void {
    this.state = 'snapshot';
    this.snapshot = snapshot;
    this.inflight = [];
    this.probeSent = false;
  }

  /** Raises match (never lowers it); true when it moved. */
  updateMatch(index: number, nowTick: number): boolean {
    if (index <= this.match) return false;
    this.match = index;
    this.next = Math.max(this.next, index + 1);
    this.lastProgressTick = nowTick;
    return true;
  }

  /** Forgets in-flight appends that are acknowledged (their last index is at or below `index`). */
  freeInflightsTo(index: number): void {
    let k = 0;
    while (k < this.inflight.length && (this.inflight[k] as number) <= index) k++;
    if (k > 0) this.inflight.splice(0, k);
  }

  /** Records an append sent in replicate state whose last entry is `lastIndex`. */
  sentAppend(lastIndex: number, nowTick: number): void {
    if (this.inflight.length === 0) this.lastProgressTick = nowTick;
    this.inflight.push(lastIndex);
    this.next = lastIndex + 1;
    this.lastSendTick = nowTick;
  }
}
