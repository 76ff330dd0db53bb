import { describe, expect, it } from 'vitest';
import type { NodeId } from '../core/index.js';
import { AdminRequests, type AdminPort } from './admin.js';
import { describeMembership, makeMembership } from './membership.js';
import type { Progress } from './progress.js';
import { ProgressTracker } from './tracker.js';
import type { Membership, RaftErrorReason, RaftResponse } from './types.js';

/** Leader `a` of voters a, b, c with learner l, log ending at 10, commit 8; records what it is asked to do. */
class Leader implements AdminPort {
  configNow: Membership = makeMembership(['a', 'b', 'c'], ['l']);
  commitIndex = 8;
  tick = 0;
  canChange = true;
  readonly done: string[] = [];
  readonly tracker = new ProgressTracker('a');
  readonly admin = new AdminRequests('a', this.tracker, { promoteTimeoutTicks: 20, electionTimeoutMaxTicks: 10 }, this);

  constructor() {
    this.tracker.sync(this.configNow, { configIndex: 1, nextIndex: 11, nowTick: 0, departDeadlineTick: 100 });
  }
  config(): Membership {
    return this.configNow;
  }
  commit(): number {
    return this.commitIndex;
  }
  nowTick(): number {
    return this.tick;
  }
  lastIndex(): number {
    return 10;
  }
  mayChangeConfig(): boolean {
    return this.canChange;
  }
  proposeConfig(requestId: string, config: Membership): void {
    this.done.push(`${requestId} propose ${describeMembership(config)}`);
  }
  reply(requestId: string, response: RaftResponse): void {
    this.done.push(`${requestId} ${JSON.stringify(response)}`);
  }
  refuse(requestId: string, error: RaftErrorReason, message?: string): void {
    this.done.push(`${requestId} ${error}${message === undefined ? '' : `: ${message}`}`);
  }
  sendTimeoutNow(peer: NodeId): void {
    this.done.push(`timeoutNow ${peer}`);
  }
  sendAppends(peer: NodeId): void {
    this.done.push(`appends ${peer}`);
  }
  endLease(): void {
    this.done.push('lease ended');
  }
  progress(peer: NodeId): Progress {
    return this.tracker.get(peer) as Progress;
  }
  take(): string[] {
    return this.done.splice(0);
  }
}

describe('AdminRequests: membership changes', () => {
  it('proposes the configuration a request plans, and refuses what its plan refuses', () => {
    const l = new Leader();
    l.admin.handle('r1', 'addLearner', 'm');
    l.admin.handle('r2', 'removeNode', 'b');
    l.admin.handle('r3', 'addLearner', 'b');
    l.admin.handle('r4', 'promote', 'b');
    expect(l.take()).toEqual([
      'r1 propose voters a,b,c; learners l,m',
      'r2 propose voters a,c; learners l',
      'r3 already-member: b is already in the configuration (voters a,b,c; learners l)',
      'r4 not-a-learner: b is not a learner (voters a,b,c; learners l)',
    ]);
  });

  it('refuses a change while another is uncommitted or the leader is new', () => {
    const l = new Leader();
    l.canChange = false;
    l.admin.handle('r1', 'removeNode', 'b');
    expect(l.take()).toEqual(['r1 config-change-in-progress: a configuration change is still uncommitted or the leader is new']);
  });

  it('promotes a learner once it has caught up with the commit index and a change may be proposed', () => {
    const l = new Leader();
    l.admin.handle('r1', 'promote', 'l');
    l.admin.handle('r2', 'promote', 'l');
    expect(l.take()).toEqual(['r2 config-change-in-progress: promotion of l is pending']);
    l.progress('l').updateMatch(7, 0);
    l.admin.maybePromote();
    l.progress('l').updateMatch(8, 0);
    l.canChange = false;
    l.admin.maybePromote();
    expect(l.take()).toEqual([]);
    l.canChange = true;
    l.admin.tick();
    l.admin.maybePromote(); // no longer pending
    expect(l.take()).toEqual(['r1 propose voters a,b,c,l']);
  });

  it('fails a promotion that does not catch up in time, or whose learner was removed meanwhile', () => {
    const l = new Leader();
    l.admin.handle('r1', 'promote', 'l');
    l.tick = 19;
    l.admin.tick();
    expect(l.take()).toEqual([]);
    l.tick = 20;
    l.admin.tick();
    expect(l.take()).toEqual(['r1 catch-up-timeout: learner l did not catch up in time']);
    l.admin.handle('r2', 'promote', 'l');
    l.configNow = makeMembership(['a', 'b', 'c']);
    l.admin.maybePromote();
    expect(l.take()).toEqual(['r2 not-a-learner']);
  });
});

describe('AdminRequests: leadership transfer', () => {
  it('answers a transfer to the leader itself at once, and refuses one to a non-voter', () => {
    const l = new Leader();
    l.admin.handle('r1', 'transferLeadership', 'a');
    l.admin.handle('r2', 'transferLeadership', 'l');
    expect(l.take()).toEqual(['r1 {"ok":true,"result":{"leader":"a"},"index":8}', 'r2 not-a-voter: l is not a voter']);
    expect(l.admin.transferTarget).toBeUndefined();
  });

  it('ends the lease, catches the target up, tells it to campaign once its log matches, and holds other requests meanwhile', () => {
    const l = new Leader();
    l.admin.handle('r1', 'transferLeadership', 'b');
    expect(l.take()).toEqual(['lease ended', 'appends b']);
    expect(l.admin.transferTarget).toBe('b');
    l.admin.handle('r2', 'addLearner', 'm');
    l.progress('b').updateMatch(10, 0);
    l.admin.maybeSendTimeoutNow('c', l.progress('c')); // not the target
    l.admin.maybeSendTimeoutNow('b', l.progress('b'));
    expect(l.take()).toEqual(['r2 transfer-in-progress', 'timeoutNow b']);
    // the target's vote request ended this leadership: the transfer succeeded
    l.admin.abandon('b');
    expect(l.take()).toEqual(['r1 {"ok":true,"result":{"leader":"b"},"index":8}']);
    expect(l.admin.transferTarget).toBeUndefined();
  });

  it('fails a transfer at its deadline, when its target stops being a voter, or when leadership is lost otherwise', () => {
    const l = new Leader();
    l.admin.handle('r1', 'transferLeadership', 'b');
    l.tick = 9;
    l.admin.tick();
    l.tick = 10;
    l.admin.tick();
    expect(l.take()).toEqual(['lease ended', 'appends b', 'r1 transfer-timeout: node b did not take over in time']);
    l.admin.handle('r2', 'transferLeadership', 'c');
    l.admin.configChanged(makeMembership(['a', 'c']));
    l.admin.configChanged(makeMembership(['a', 'b']));
    expect(l.take()).toEqual(['lease ended', 'appends c', 'r2 not-a-voter']);
    l.admin.handle('r3', 'promote', 'l');
    l.admin.handle('r4', 'transferLeadership', 'b');
    l.take();
    l.admin.abandon('c');
    expect(l.take()).toEqual(['r3 not-leader', 'r4 leadership-lost']);
    l.admin.abandon('b'); // nothing is pending any more
    expect(l.take()).toEqual([]);
  });
});
