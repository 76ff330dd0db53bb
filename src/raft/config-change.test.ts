import { describe, expect, it } from 'vitest';
import { canChangeConfig, DepartingPeers, isOverdue, planAddLearner, planPromotion, planRemoveNode } from './config-change.js';
import { makeMembership } from './membership.js';

const config = makeMembership(['a', 'b', 'c'], ['l']);

describe('configuration plans', () => {
  it('adds a learner that is not yet a member', () => {
    expect(planAddLearner(config, 'm')).toEqual({ ok: true, config: makeMembership(['a', 'b', 'c'], ['l', 'm']) });
    expect(planAddLearner(config, 'a')).toEqual({ ok: false, error: 'already-member', message: 'a is already in the configuration (voters a,b,c; learners l)' });
    expect(planAddLearner(config, 'l')).toMatchObject({ ok: false, error: 'already-member' });
  });

  it('removes a voter or a learner, never the last voter', () => {
    expect(planRemoveNode(config, 'b')).toEqual({ ok: true, config: makeMembership(['a', 'c'], ['l']) });
    expect(planRemoveNode(config, 'l')).toEqual({ ok: true, config: makeMembership(['a', 'b', 'c']) });
    expect(planRemoveNode(config, 'x')).toEqual({ ok: false, error: 'not-a-member', message: 'x is not in the configuration' });
    expect(planRemoveNode(makeMembership(['a'], ['l']), 'a')).toEqual({ ok: false, error: 'last-voter', message: 'cannot remove the last voter a' });
    expect(planRemoveNode(makeMembership(['a'], ['l']), 'l')).toMatchObject({ ok: true });
  });

  it('promotes only a learner', () => {
    expect(planPromotion(config, 'l')).toEqual({ ok: true, config: makeMembership(['a', 'b', 'c', 'l']) });
    expect(planPromotion(config, 'a')).toEqual({ ok: false, error: 'not-a-learner', message: 'a is not a learner (voters a,b,c; learners l)' });
  });

  it('allows one change at a time, once the leader committed an entry of its term', () => {
    expect(canChangeConfig(true, 5, 5)).toBe(true);
    expect(canChangeConfig(true, 6, 5)).toBe(false);
    expect(canChangeConfig(false, 1, 5)).toBe(false);
  });

  it('knows when a pending request is overdue', () => {
    expect(isOverdue(undefined, 100)).toBe(false);
    expect(isOverdue({ requestId: 'r', deadlineTick: 10 }, 9)).toBe(false);
    expect(isOverdue({ requestId: 'r', deadlineTick: 10 }, 10)).toBe(true);
  });
});

describe('DepartingPeers', () => {
  it('is done with a removed node once it acknowledged a heartbeat whose commit covers the removal', () => {
    const d = new DepartingPeers();
    d.add('x', 7, 1000);
    d.heartbeatSent('x', 6, 1); // the removal is not committed as far as x can know
    expect(d.acknowledged('x', 1)).toBe(false);
    d.heartbeatSent('x', 7, 2);
    d.heartbeatSent('x', 8, 3); // the first round that notified it counts
    expect(d.acknowledged('x', 1)).toBe(false);
    expect(d.acknowledged('x', 2)).toBe(true);
    expect(d.acknowledged('y', 2)).toBe(false);
  });

  it('lists the overdue in the order they left', () => {
    const d = new DepartingPeers();
    d.add('x', 1, 20);
    d.add('y', 2, 10);
    d.add('z', 3, 30);
    expect(d.overdue(9)).toEqual([]);
    expect(d.overdue(20)).toEqual(['x', 'y']);
  });

  it('forgets a node on request', () => {
    const d = new DepartingPeers();
    d.add('x', 1, 20);
    expect(d.has('x')).toBe(true);
    expect(d.delete('x')).toBe(true);
    expect(d.delete('x')).toBe(false);
    d.add('y', 1, 20);
    d.clear();
    expect(d.has('y')).toBe(false);
  });
});
