// A leader's record of the nodes it replicates to, kept apart from the protocol as etcd's raft
// keeps its tracker: one Progress per node (the configuration's other members, and removed nodes
// still being told of their removal), kept in step with the configuration, and the quorum
// questions a leader asks of them. Pure bookkeeping: the leader sends, decides and steps down.
import type { NodeId } from '../core/index.js';
import { DepartingPeers } from './config-change.js';
import { peersOf } from './membership.js';
import { Progress } from './progress.js';
import { quorumHas, quorumValue } from './quorum.js';
import type { Membership } from './types.js';

/** Where the configuration being synced to stands, and what a newly tracked or removed node gets. */
export interface SyncPoint {
  /** The index of the entry that set the configuration. */
  readonly configIndex: number;
  /** The index a newly tracked node is sent first (the leader's log end + 1). */
  readonly nextIndex: number;
  readonly nowTick: number;
  /** Until when a removed node is kept informed if it never acknowledges its removal. */
  readonly departDeadlineTick: number;
}

export class ProgressTracker {
  private readonly progress = new Map<NodeId, Progress>();
  /** Nodes the latest configuration removed, kept informed until they know it (thesis §4.2.3). */
  private readonly departing = new DepartingPeers();

  /** `self`: the leader, which tracks no progress of its own but counts in every quorum. */
  constructor(private readonly self: NodeId) {}

  get(peer: NodeId): Progress | undefined {
    return this.progress.get(peer);
  }

  /** Every tracked node with its progress, in the order they were first tracked. */
  entries(): IterableIterator<[NodeId, Progress]> {
    return this.progress.entries();
  }

  /** Leadership begins or ends: nobody is tracked. */
  clear(): void {
    this.progress.clear();
    this.departing.clear();
  }

  /**
   * Tracks every member of `config` other than the leader, and keeps tracking the nodes it no
   * longer holds as departing (until they know their removal is committed, or their deadline).
   */
  sync(config: Membership, at: SyncPoint): void {
    const peers = peersOf(config, this.self);
    for (const peer of peers) {
      // a removed node added back may be a new data directory: what it matched before means nothing
      // now, and a stale match would make the leader ignore its rejections for ever
      if (this.departing.delete(peer)) this.progress.delete(peer);
      if (!this.progress.has(peer)) this.progress.set(peer, new Progress(at.nextIndex, at.nowTick));
    }
    for (const peer of this.progress.keys()) {
      if (peers.includes(peer) || this.departing.has(peer)) continue;
      this.departing.add(peer, at.configIndex, at.departDeadlineTick);
    }
  }

  /** A heartbeat of `round` tells `peer` the commit index `commit` (which may tell it of its removal). */
  heartbeatSent(peer: NodeId, commit: number, round: number): void {
    this.departing.heartbeatSent(peer, commit, round);
  }

  /** `peer` acknowledged heartbeat `round`: if it now knows its removal is committed, it is forgotten. True then. */
  forgetIfDeparted(peer: NodeId, round: number): boolean {
    if (!this.departing.acknowledged(peer, round)) return false;
    this.forget(peer);
    return true;
  }

  /** Forgets the departing nodes whose deadline has come. */
  dropOverdue(nowTick: number): void {
    for (const peer of this.departing.overdue(nowTick)) this.forget(peer);
  }

  private forget(peer: NodeId): void {
    this.departing.delete(peer);
    this.progress.delete(peer);
  }

  /**
   * The highest index a quorum of `config`'s voters holds: the leader counts its own log only as
   * far as `selfDurableIndex` (what it knows synced), the others as far as they matched.
   */
  committable(config: Membership, selfDurableIndex: number): number {
    return quorumValue(config, (v) => (v === this.self ? selfDurableIndex : (this.progress.get(v)?.match ?? 0))) ?? 0;
  }

  /** Whether a quorum of voters (the leader included) was heard from since the last resetActivity. */
  quorumActive(config: Membership): boolean {
    return quorumHas(config, (v) => v === this.self || this.progress.get(v)?.recentActive === true);
  }

  /** A check-quorum round starts: nobody has been heard from in it yet. */
  resetActivity(): void {
    for (const pr of this.progress.values()) pr.recentActive = false;
  }

  /** Whether a quorum of voters (the leader included) acknowledged heartbeat `round` or a later one. */
  quorumAcked(config: Membership, round: number): boolean {
    return quorumHas(config, (v) => v === this.self || (this.progress.get(v)?.ackedRound ?? 0) >= round);
  }

  /**
   * The latest send time (ms, by `sentAtMs` of a round, -Infinity when unknown) such that a quorum
   * of voters acknowledged a heartbeat sent then or later; the leader counts as acknowledging at `nowMs`.
   */
  quorumAckedSentAtMs(config: Membership, nowMs: number, sentAtMs: (round: number) => number): number {
    return quorumValue(config, (v) => (v === this.self ? nowMs : sentAtMs(this.progress.get(v)?.ackedRound ?? 0))) ?? -Infinity;
  }
}
