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

  /**
   * An append was acknowledged up to `matchIndex`: frees the appends it covers, and leaves probe
   * (the follower's position is found) or a snapshot the follower now has. True when match moved.
   */
  appendAcked(matchIndex: number, nowTick: number): boolean {
    const moved = this.updateMatch(matchIndex, nowTick);
    if (this.state === 'replicate') this.freeInflightsTo(matchIndex);
    else if (this.state === 'probe') this.becomeReplicate();
    else if (this.snapshot !== undefined && this.match >= this.snapshot.meta.index) this.becomeProbe(this.match + 1);
    return moved;
  }

  /** The follower installed a snapshot (or no longer needed it) and matches up to `matchIndex`. True when match moved. */
  snapshotInstalled(matchIndex: number, nowTick: number): boolean {
    const moved = this.updateMatch(matchIndex, nowTick);
    if (this.state === 'snapshot' && this.snapshot !== undefined && this.match >= this.snapshot.meta.index) this.becomeProbe(this.match + 1);
    return moved;
  }

  /** The follower expects `nextOffset` of the snapshot at `snapshotIndex`. True when that is the one being sent: send on. */
  snapshotAcked(snapshotIndex: number, nextOffset: number, nowTick: number): boolean {
    if (this.state !== 'snapshot' || this.snapshot === undefined || this.snapshot.meta.index !== snapshotIndex) return false;
    this.snapshot.offset = Math.min(nextOffset, this.snapshot.text.length);
    this.lastProgressTick = nowTick;
    return true;
  }

  /** Whether a rejection of the append after `rejectedIndex` answers the append being tried (others are stale). */
  isCurrentRejection(rejectedIndex: number): boolean {
    if (this.state === 'snapshot') return false;
    if (this.state === 'replicate') return rejectedIndex > this.match;
    return rejectedIndex === this.next - 1;
  }

  /**
   * What to resend after `retransmitTicks` without an answer (lost messages): appends in flight
   * are tried again from a probe, a snapshot chunk is sent again.
   */
  stalled(nowTick: number, retransmitTicks: number): 'append' | 'snapshot' | null {
    if (this.state === 'replicate' && this.inflight.length > 0 && nowTick - this.lastProgressTick >= retransmitTicks) return 'append';
    if (this.state === 'snapshot' && nowTick - this.lastSendTick >= retransmitTicks) return 'snapshot';
    return null;
  }

  /** Records a probe append sent (one at a time until it is answered). */
  sentProbe(nowTick: number): void {
    this.probeSent = true;
    this.lastSendTick = nowTick;
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
