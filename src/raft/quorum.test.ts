import { describe, expect, it } from 'vitest';
import { makeMembership } from './membership.js';
import { quorumHas, quorumValue, voteResult } from './quorum.js';

const five = makeMembership(['a', 'b', 'c', 'd', 'e'], ['l']);
const four = makeMembership(['a', 'b', 'c', 'd']);

describe('quorumValue', () => {
  it('is the value a majority has reached', () => {
    const match: Record<string, number> = { a: 9, b: 3, c: 7, d: 1, e: 5, l: 100 };
    expect(quorumValue(five, (v) => match[v] ?? 0)).toBe(5);
  });

  it('needs three of four voters', () => {
    const match: Record<string, number> = { a: 10, b: 10, c: 2, d: 1 };
    expect(quorumValue(four, (v) => match[v] ?? 0)).toBe(2);
  });

  it('ignores learners, however far they are', () => {
    expect(quorumValue(makeMembership(['a'], ['l']), (v) => (v === 'l' ? 50 : 4))).toBe(4);
  });

  it('keeps -Infinity for voters with no value', () => {
    const sent: Record<string, number> = { a: 30, b: -Infinity, c: -Infinity };
    expect(quorumValue(makeMembership(['a', 'b', 'c']), (v) => sent[v] ?? -Infinity)).toBe(-Infinity);
    expect(quorumValue(makeMembership(['a', 'b', 'c']), (v) => (v === 'c' ? 20 : (sent[v] ?? 0)))).toBe(20);
  });

  it('is undefined without voters', () => {
    expect(quorumValue(makeMembership([]), () => 1)).toBeUndefined();
  });
});

describe('quorumHas', () => {
  it('counts voters only, and needs a strict majority', () => {
    expect(quorumHas(five, (v) => ['a', 'b', 'c'].includes(v))).toBe(true);
    expect(quorumHas(five, (v) => ['a', 'b', 'l'].includes(v))).toBe(false);
    expect(quorumHas(four, (v) => ['a', 'b'].includes(v))).toBe(false);
  });

  it('lets a single voter be a quorum alone', () => {
    expect(quorumHas(makeMembership(['a'], ['b']), (v) => v === 'a')).toBe(true);
    expect(quorumHas(makeMembership(['a', 'b']), (v) => v === 'a')).toBe(false);
  });
});

describe('voteResult', () => {
  const votes = (entries: [string, boolean][]): Map<string, boolean> => new Map(entries);

  it('is won at a quorum of grants', () => {
    expect(voteResult(five, votes([['a', true], ['b', true]]))).toBe('pending');
    expect(voteResult(five, votes([['a', true], ['b', true], ['c', true]]))).toBe('won');
  });

  it('is lost once a quorum can no longer grant', () => {
    expect(voteResult(five, votes([['a', true], ['b', false], ['c', false]]))).toBe('pending');
    expect(voteResult(five, votes([['a', true], ['b', false], ['c', false], ['d', false]]))).toBe('lost');
    expect(voteResult(four, votes([['a', true], ['b', false], ['c', false]]))).toBe('lost');
  });

  it('ignores votes from non-voters', () => {
    expect(voteResult(makeMembership(['a', 'b', 'c']), votes([['a', true], ['l', true], ['x', true]]))).toBe('pending');
  });
});
