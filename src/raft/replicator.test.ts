import { describe, expect, it } from 'vitest';
import type { NodeId, OutputOptions } from '../core/index.js';
import { InvariantError } from '../core/index.js';
import { RaftLog } from './log.js';
import { makeMembership } from './membership.js';
import type { Progress } from './progress.js';
import { LeaderReplicator, type ReplicationLimits, type ReplicationPort } from './replicator.js';
import { ProgressTracker } from './tracker.js';
import type { LogEntry, RaftMessage, SnapshotMeta } from './types.js';

const e = (index: number, term: number): LogEntry => ({ index, term, kind: 'command', data: { clientId: null, seq: 0, op: `v${index}` } });

const LIMITS: ReplicationLimits = { maxInflightAppends: 2, maxEntriesPerAppend: 2, maxBytesPerAppend: 1 << 20, snapshotChunkChars: 4, retransmitTicks: 3 };
const META: SnapshotMeta = { index: 4, term: 1, config: { voters: ['a', 'b'], learners: [] } };

/** Leader `a` of voters a, b in term 2, with a log of entries 1-6 (terms 1, 1, 1, 1, 2, 2); b is first sent `nextIndex`. */
class Harness implements ReplicationPort {
  readonly log = new RaftLog();
  readonly tracker = new ProgressTracker('a');
  readonly replicator = new LeaderReplicator('a', this.tracker, this.log, LIMITS, this);
  sent: { to: NodeId; msg: RaftMessage; early: boolean }[] = [];
  commitIndex = 0;
  tick = 0;
  termSynced = true;
  latest: { readonly meta: SnapshotMeta; readonly text: string } | undefined = { meta: META, text: 'abcdefghij' };

  constructor(nextIndex = 1) {
    this.log.append([1, 1, 1, 1, 2, 2].map((t, k) => e(k + 1, t)));
    this.tracker.sync(makeMembership(['a', 'b']), { configIndex: 0, nextIndex, nowTick: 0, departDeadlineTick: 100 });
  }
  term(): number {
    return 2;
  }
  commit(): number {
    return this.commitIndex;
  }
  nowTick(): number {
    return this.tick;
  }
  sendEarly(): boolean {
    return this.termSynced;
  }
  snapshot(): { readonly meta: SnapshotMeta; readonly text: string } | undefined {
    return this.latest;
  }
  send(to: NodeId, msg: RaftMessage, options?: OutputOptions): void {
    this.sent.push({ to, msg, early: options?.awaitPersist === false });
  }
  get b(): Progress {
    return this.tracker.get('b') as Progress;
  }
  /** What was sent since the last call, as short descriptions. */
  take(): string[] {
    const out = this.sent.map(({ to, msg }) => `${to} ${show(msg)}`);
    this.sent = [];
    return out;
  }
}

function show(msg: RaftMessage): string {
  switch (msg.type) {
    case 'append':
      return `append ${msg.prevIndex}/${msg.prevTerm} [${msg.entries.map((x) => x.index).join(',')}] commit ${msg.commit}`;
    case 'snapshot':
      return `snapshot ${msg.meta.index} @${msg.offset} ${msg.chunk}${msg.done ? ' done' : ''}`;
    case 'heartbeat':
      return `heartbeat ${msg.round} commit ${msg.commit}`;
    default:
      return msg.type;
  }
}

const ack = (matchIndex: number): Extract<RaftMessage, { type: 'appendResp' }> => ({ type: 'appendResp', term: 2, success: true, matchIndex, rejectedIndex: 0, conflictTerm: null, conflictIndex: 0 });
const reject = (rejectedIndex: number, conflictTerm: number | null, conflictIndex: number): Extract<RaftMessage, { type: 'appendResp' }> => ({ type: 'appendResp', term: 2, success: false, matchIndex: 0, rejectedIndex, conflictTerm, conflictIndex });
const snapResp = (done: boolean, matchIndex: number, nextOffset: number): Extract<RaftMessage, { type: 'snapshotResp' }> => ({ type: 'snapshotResp', term: 2, snapshotIndex: 4, done, matchIndex, nextOffset });

describe('LeaderReplicator: appends', () => {
  it('probes one append at a time, then pipelines up to the in-flight limit and stops at the log end', () => {
    const h = new Harness();
    h.commitIndex = 3;
    h.replicator.broadcastAppends();
    h.replicator.broadcastAppends(); // the probe is unanswered: nothing more
    expect(h.take()).toEqual(['b append 0/0 [1,2] commit 3']);
    expect(h.replicator.appendAnswered('b', h.b, ack(2))).toBe(true);
    h.replicator.sendAppends('b', h.b);
    expect(h.take()).toEqual(['b append 2/1 [3,4] commit 3', 'b append 4/1 [5,6] commit 3']);
    expect(h.b.inflight).toEqual([4, 6]);
    expect(h.replicator.appendAnswered('b', h.b, ack(6))).toBe(true);
    h.replicator.sendAppends('b', h.b); // caught up: nothing to send
    expect(h.take()).toEqual([]);
    expect(h.replicator.appendAnswered('b', h.b, ack(5))).toBe(false); // a late answer moves nothing
  });

  it('lets appends leave before the leader syncs only once its term is durable', () => {
    const h = new Harness();
    h.termSynced = false;
    h.replicator.broadcastAppends();
    h.termSynced = true;
    h.replicator.appendAnswered('b', h.b, ack(0));
    h.replicator.sendAppends('b', h.b);
    expect(h.sent.map((s) => s.early)).toEqual([false, true, true]);
  });

  it('answers a current rejection with a probe from the follower hint, and ignores a stale one', () => {
    const h = new Harness(7);
    h.replicator.sendAppends('b', h.b);
    expect(h.take()).toEqual(['b append 6/2 [] commit 0']);
    // the follower holds term 1 up to 5: the leader's last term-1 entry is 4
    expect(h.replicator.appendAnswered('b', h.b, reject(6, 1, 5))).toBe(false);
    expect(h.take()).toEqual(['b append 4/1 [5,6] commit 0']);
    expect(h.b.match).toBe(0);
    expect(h.replicator.appendAnswered('b', h.b, reject(6, 1, 5))).toBe(false); // answers an older probe
    expect(h.take()).toEqual([]);
    expect(h.b.recentActive).toBe(true);
  });
});

describe('LeaderReplicator: snapshots', () => {
  it('sends a follower that needs compacted entries the snapshot chunk by chunk, then appends after it', () => {
    const h = new Harness();
    h.log.compactTo(4);
    h.replicator.broadcastAppends();
    expect(h.take()).toEqual(['b snapshot 4 @0 abcd']);
    expect(h.b.state).toBe('snapshot');
    expect(h.replicator.snapshotAnswered('b', h.b, snapResp(false, 0, 4))).toBe(false);
    expect(h.replicator.snapshotAnswered('b', h.b, snapResp(false, 0, 8))).toBe(false);
    expect(h.take()).toEqual(['b snapshot 4 @4 efgh', 'b snapshot 4 @8 ij done']);
    expect(h.replicator.snapshotAnswered('b', h.b, snapResp(true, 4, 0))).toBe(true);
    h.replicator.sendAppends('b', h.b);
    expect(h.take()).toEqual(['b append 4/1 [5,6] commit 0']);
  });

  it('refuses to replicate entries it no longer has without a snapshot', () => {
    const h = new Harness();
    h.log.compactTo(4);
    h.latest = undefined;
    expect(() => h.replicator.broadcastAppends()).toThrow(InvariantError);
  });
});

describe('LeaderReplicator: heartbeats and retransmission', () => {
  it('tells each follower the commit index only as far as it matches, and notes it for departing nodes', () => {
    const h = new Harness();
    h.tracker.sync(makeMembership(['a', 'b'], ['c']), { configIndex: 7, nextIndex: 7, nowTick: 0, departDeadlineTick: 100 });
    h.tracker.get('c')?.updateMatch(6, 0);
    h.tracker.sync(makeMembership(['a', 'b']), { configIndex: 8, nextIndex: 9, nowTick: 0, departDeadlineTick: 100 });
    h.b.updateMatch(2, 0);
    h.commitIndex = 6;
    h.replicator.sendHeartbeats(1);
    expect(h.take()).toEqual(['b heartbeat 1 commit 2', 'c heartbeat 1 commit 6']);
    expect(h.tracker.forgetIfDeparted('c', 1)).toBe(false); // commit 6 does not cover its removal at 8
  });

  it('after a heartbeat answer, probes again and sends a follower what it lacks', () => {
    const h = new Harness();
    h.replicator.broadcastAppends();
    h.take();
    h.replicator.heartbeatAnswered('b', h.b);
    expect(h.take()).toEqual(['b append 0/0 [1,2] commit 0']);
    h.b.updateMatch(6, 0);
    h.b.probeSent = false;
    h.replicator.heartbeatAnswered('b', h.b); // up to date: nothing
    expect(h.take()).toEqual([]);
  });

  it('resends appends and snapshot chunks unanswered for retransmitTicks', () => {
    const h = new Harness();
    h.replicator.appendAnswered('b', h.b, ack(0));
    h.replicator.sendAppends('b', h.b);
    h.take();
    h.tick = 2;
    h.replicator.retransmitStalled();
    expect(h.take()).toEqual([]);
    h.tick = 3;
    h.replicator.retransmitStalled();
    expect(h.take()).toEqual(['b append 0/0 [1,2] commit 0']);
    expect(h.b.state).toBe('probe');

    const s = new Harness();
    s.log.compactTo(4);
    s.replicator.broadcastAppends();
    s.take();
    s.tick = 3;
    s.replicator.retransmitStalled();
    expect(s.take()).toEqual(['b snapshot 4 @0 abcd']);
  });
});
