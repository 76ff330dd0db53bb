// The sending half of a leader's replication: what it sends each tracked node by the state of its
// progress (one probe, pipelined appends, or snapshot chunks), heartbeats, and how a follower's
// answer moves its progress and what is resent. Deterministic and sans-I/O: the leader passes in
// its log and a narrow port (its term, commit index and tick, and a send); it decides the commit.
import type { NodeId, OutputOptions } from '../core/index.js';
import { assertInvariant } from '../core/index.js';
import type { RaftLog } from './log.js';
import type { Progress } from './progress.js';
import { nextAfterRejection } from './replication.js';
import { nextChunk } from './snapshots.js';
import type { ProgressTracker } from './tracker.js';
import type { LogEntry, RaftMessage, RaftOptions, SnapshotMeta } from './types.js';

type Msg<T extends RaftMessage['type']> = Extract<RaftMessage, { type: T }>;

/** Outputs that need not wait for the leader's unsynced writes (see OutputOptions). */
const EARLY: OutputOptions = { awaitPersist: false };

/** What the replicator needs of the leader: its state now, and a way to send. */
export interface ReplicationPort {
  term(): number;
  commit(): number;
  nowTick(): number;
  /**
   * Whether appends and heartbeats may leave before the leader's own writes are synced: once its
   * term is durable they depend on nothing unsynced (thesis §10.2.1).
   */
  sendEarly(): boolean;
  /** The leader's latest snapshot as sent to followers (its JSON text), or undefined if it has none. */
  snapshot(): { readonly meta: SnapshotMeta; readonly text: string } | undefined;
  send(peer: NodeId, msg: RaftMessage, options?: OutputOptions): void;
}

export type ReplicationLimits = Pick<RaftOptions, 'maxInflightAppends' | 'maxEntriesPerAppend' | 'maxBytesPerAppend' | 'snapshotChunkChars' | 'retransmitTicks'>;

export class LeaderReplicator {
  constructor(
    private readonly self: NodeId,
    private readonly tracker: ProgressTracker,
    private readonly log: RaftLog,
    private readonly limits: ReplicationLimits,
    private readonly port: ReplicationPort,
  ) {}

  /** Sends every tracked node what its pipeline has room for. */
  broadcastAppends(): void {
    for (const [peer, pr] of this.tracker.entries()) this.sendAppends(peer, pr);
  }

  /** Fills the follower's pipeline: one probe at a time, or up to maxInflightAppends appends. */
  sendAppends(peer: NodeId, pr: Progress): void {
    if (pr.state === 'probe') {
      if (!pr.probeSent) this.sendAppend(peer, pr);
      return;
    }
    const maxInflight = this.limits.maxInflightAppends;
    for (let i = 0; i < maxInflight && pr.state === 'replicate'; i++) {
      if (pr.inflight.length >= maxInflight || pr.next > this.log.lastIndex) return;
      this.sendAppend(peer, pr);
    }
  }

  /** Sends one append from `pr.next` (or the next snapshot chunk, starting a snapshot if the log no longer holds what it needs). */
  private sendAppend(peer: NodeId, pr: Progress): void {
    if (pr.state === 'snapshot') {
      this.sendSnapshotChunk(peer, pr);
      return;
    }
    assertInvariant(pr.next <= this.log.lastIndex + 1, () => `leader ${this.self}: next index ${pr.next} for ${peer} beyond the log end ${this.log.lastIndex}`);
    const prevIndex = pr.next - 1;
    const prevTerm = this.log.termAt(prevIndex);
    if (prevTerm === undefined) {
      this.startSnapshot(peer, pr);
      return;
    }
    const entries = pr.next <= this.log.lastIndex ? this.log.sliceBounded(pr.next, this.limits.maxEntriesPerAppend, this.limits.maxBytesPerAppend) : [];
    // The leader counts itself towards a quorum only as far as a probe proved, so an append may
    // leave before its entries are synced here.
    const msg: RaftMessage = { type: 'append', term: this.port.term(), prevIndex, prevTerm, entries, commit: this.port.commit() };
    this.port.send(peer, msg, this.port.sendEarly() ? EARLY : undefined);
    const nowTick = this.port.nowTick();
    if (pr.state === 'replicate') {
      if (entries.length > 0) pr.sentAppend((entries[entries.length - 1] as LogEntry).index, nowTick);
    } else {
      pr.sentProbe(nowTick);
    }
  }

  private startSnapshot(peer: NodeId, pr: Progress): void {
    const snapshot = this.port.snapshot();
    assertInvariant(snapshot !== undefined, () => `leader ${this.self}: ${peer} needs entries before ${this.log.firstIndex} but there is no snapshot`);
    pr.becomeSnapshot({ meta: snapshot.meta, text: snapshot.text, offset: 0 });
    this.sendSnapshotChunk(peer, pr);
  }

  private sendSnapshotChunk(peer: NodeId, pr: Progress): void {
    const snap = pr.snapshot;
    if (snap === undefined) return;
    const { offset, chunk, done } = nextChunk(snap, this.limits.snapshotChunkChars);
    this.port.send(peer, { type: 'snapshot', term: this.port.term(), meta: snap.meta, offset, chunk, done });
    pr.lastSendTick = this.port.nowTick();
  }

  /**
   * An answer to an append: a current rejection probes again from the follower's hint (and sends
   * the probe); an acknowledgement frees the pipeline. True when the follower's match moved. On
   * success the caller continues with sendAppends once it has reacted (committing may end leadership).
   */
  appendAnswered(peer: NodeId, pr: Progress, msg: Msg<'appendResp'>): boolean {
    pr.recentActive = true;
    if (msg.success) return pr.appendAcked(msg.matchIndex, this.port.nowTick());
    if (pr.isCurrentRejection(msg.rejectedIndex)) {
      pr.becomeProbe(nextAfterRejection(this.log, pr.match, msg));
      this.sendAppend(peer, pr);
    }
    return false;
  }

  /**
   * An answer to a snapshot chunk: the last one says the follower installed it (or no longer needs
   * it), any other asks for the next chunk, which is sent. True when the follower's match moved. When
   * `msg.done`, the caller continues with sendAppends once it has reacted.
   */
  snapshotAnswered(peer: NodeId, pr: Progress, msg: Msg<'snapshotResp'>): boolean {
    pr.recentActive = true;
    const nowTick = this.port.nowTick();
    if (msg.done) return pr.snapshotInstalled(msg.matchIndex, nowTick);
    if (pr.snapshotAcked(msg.snapshotIndex, msg.nextOffset, nowTick)) this.sendSnapshotChunk(peer, pr);
    return false;
  }

  /** A follower acknowledged a heartbeat: it is there, so a probe may go again, and it is sent what it lacks. */
  heartbeatAnswered(peer: NodeId, pr: Progress): void {
    if (pr.state === 'probe') pr.probeSent = false;
    if (pr.match < this.log.lastIndex) this.sendAppends(peer, pr);
  }

  /** Sends heartbeat `round` to every tracked node, each told the commit index only as far as it matches. */
  sendHeartbeats(round: number): void {
    // Once the term is durable a heartbeat depends on nothing unsynced, so it need not queue
    // behind the leader's writes (a snapshot being written can hold them for a second); its
    // answer then proves nothing about the leader's disk.
    const options = this.port.sendEarly() ? EARLY : undefined;
    const term = this.port.term();
    for (const [peer, pr] of this.tracker.entries()) {
      const commit = Math.min(pr.match, this.port.commit());
      this.tracker.heartbeatSent(peer, commit, round);
      this.port.send(peer, { type: 'heartbeat', term, commit, round }, options);
    }
  }

  /** Resends to the followers whose appends or snapshot chunks went unanswered for a while (lost messages). */
  retransmitStalled(): void {
    const nowTick = this.port.nowTick();
    for (const [peer, pr] of this.tracker.entries()) {
      const stalled = pr.stalled(nowTick, this.limits.retransmitTicks);
      if (stalled === 'append') {
        pr.becomeProbe(pr.match + 1);
        this.sendAppend(peer, pr);
      } else if (stalled === 'snapshot') {
        this.sendSnapshotChunk(peer, pr);
      }
    }
  }
}
