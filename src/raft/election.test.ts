import { describe, expect, it } from 'vitest';
import { grantsPreVote, grantsVote } from './election.js';

const voter = { term: 4, isLeader: false, leaderContactTicks: 10, electionTimeoutMinTicks: 10 };

describe('grantsPreVote', () => {
  it('grants a campaign for a later term by an up-to-date log, once no leader was heard for a minimum timeout', () => {
    expect(grantsPreVote(voter, 5, true)).toBe(true);
  });

  it('refuses while a leader was heard recently, from a leader, for a term not ahead, or to a stale log', () => {
    expect(grantsPreVote({ ...voter, leaderContactTicks: 9 }, 5, true)).toBe(false);
    expect(grantsPreVote({ ...voter, isLeader: true }, 5, true)).toBe(false);
    expect(grantsPreVote(voter, 4, true)).toBe(false);
    expect(grantsPreVote(voter, 5, false)).toBe(false);
  });
});

describe('grantsVote', () => {
  it('votes once per term, again for the same candidate', () => {
    expect(grantsVote(null, null, 'b', true)).toBe(true);
    expect(grantsVote('b', null, 'b', true)).toBe(true);
    expect(grantsVote('c', null, 'b', true)).toBe(false);
  });

  it('does not vote while following a leader of the term, nor for a stale log', () => {
    expect(grantsVote(null, 'c', 'b', true)).toBe(false);
    expect(grantsVote(null, null, 'b', false)).toBe(false);
  });
});
