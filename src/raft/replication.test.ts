import { describe, expect, it } from 'vitest';
import { InvariantError } from '../core/index.js';
import { RaftLog } from './log.js';
import { nextAfterRejection, planAppend, rejectionHint } from './replication.js';
import type { LogEntry, RaftMessage } from './types.js';

const e = (index: number, term: number, data: string = `v${index}`): LogEntry => ({ index, term, kind: 'command', data: { clientId: null, seq: 0, op: data } });

/** A log holding entries of the given terms at indexes 1, 2, ... */
function logOf(...terms: number[]): RaftLog {
  const log = new RaftLog();
  log.append(terms.map((t, k) => e(k + 1, t)));
  return log;
}

function append(prevIndex: number, prevTerm: number, entries: LogEntry[], commit = 0): Extract<RaftMessage, { type: 'append' }> {
  return { type: 'append', term: 5, prevIndex, prevTerm, entries, commit };
}

function rejection(rejectedIndex: number, conflictTerm: number | null, conflictIndex: number): Extract<RaftMessage, { type: 'appendResp' }> {
  return { type: 'appendResp', term: 5, success: false, matchIndex: 0, rejectedIndex, conflictTerm, conflictIndex };
}

describe('planAppend', () => {
  it('appends what follows a matching entry', () => {
    expect(planAppend(logOf(1, 1), 0, append(2, 1, [e(3, 2), e(4, 2)]), 'f', 'l')).toEqual({ kind: 'accept', matchIndex: 4, truncateFrom: null, append: [e(3, 2), e(4, 2)] });
  });

  it('skips entries it already holds, and appends only the rest', () => {
    const log = logOf(1, 1, 2);
    expect(planAppend(log, 0, append(1, 1, [e(2, 1), e(3, 2), e(4, 2)]), 'f', 'l')).toEqual({ kind: 'accept', matchIndex: 4, truncateFrom: null, append: [e(4, 2)] });
    expect(planAppend(log, 0, append(1, 1, [e(2, 1)]), 'f', 'l')).toEqual({ kind: 'accept', matchIndex: 2, truncateFrom: null, append: [] });
  });

  it('truncates from the first conflicting entry', () => {
    expect(planAppend(logOf(1, 1, 2, 2), 1, append(1, 1, [e(2, 1), e(3, 3)]), 'f', 'l')).toEqual({ kind: 'accept', matchIndex: 3, truncateFrom: 3, append: [e(3, 3)] });
  });

  it('rejects with the term at the previous index and where that term starts', () => {
    expect(planAppend(logOf(1, 2, 2, 2), 0, append(4, 3, [e(5, 3)]), 'f', 'l')).toEqual({ kind: 'reject', rejectedIndex: 4, conflictTerm: 2, conflictIndex: 2 });
  });

  it('rejects with where its log ends when it is shorter', () => {
    expect(planAppend(logOf(1, 1), 0, append(5, 3, []), 'f', 'l')).toEqual({ kind: 'reject', rejectedIndex: 5, conflictTerm: null, conflictIndex: 3 });
  });

  it('skips what it has committed, answering with its commit index when nothing is left', () => {
    const log = logOf(1, 1, 2);
    expect(planAppend(log, 3, append(1, 1, [e(2, 1), e(3, 2)]), 'f', 'l')).toEqual({ kind: 'accept', matchIndex: 3, truncateFrom: null, append: [] });
    expect(planAppend(log, 2, append(0, 0, [e(1, 1), e(2, 1), e(3, 2), e(4, 3)]), 'f', 'l')).toEqual({ kind: 'accept', matchIndex: 4, truncateFrom: null, append: [e(4, 3)] });
  });

  it('fails an invariant when the leader contradicts a committed entry', () => {
    expect(() => planAppend(logOf(1, 1, 2), 3, append(1, 1, [e(2, 2)]), 'f', 'l')).toThrow(InvariantError);
    expect(() => planAppend(logOf(1, 1, 2), 3, append(3, 1, []), 'f', 'l')).toThrow(/leader l disagrees at committed index 3/);
  });

  it('fails an invariant when an entry of the same index and term differs (log matching)', () => {
    expect(() => planAppend(logOf(1, 1), 0, append(1, 1, [e(2, 1, 'other')]), 'f', 'l')).toThrow(/log matching violated at f: index 2/);
  });

  it('fails an invariant on entries that are not contiguous', () => {
    expect(() => planAppend(logOf(1), 0, append(1, 1, [e(3, 1)]), 'f', 'l')).toThrow(/not contiguous after 1/);
  });
});

describe('rejection hints', () => {
  it('names the conflicting term and its first index, or the end of a shorter log', () => {
    const log = logOf(1, 1, 3, 3, 3);
    expect(rejectionHint(log, 5, 3)).toEqual({ conflictTerm: 3, conflictIndex: 3 });
    expect(rejectionHint(log, 9, undefined)).toEqual({ conflictTerm: null, conflictIndex: 6 });
  });

  it('lets the leader skip a whole term it does not have', () => {
    // leader: terms 1 1 2 2 2; the follower holds term 3 from index 3 to 5
    expect(nextAfterRejection(logOf(1, 1, 2, 2, 2), 0, rejection(5, 3, 3))).toBe(3);
  });

  it('lets the leader resume after its last entry of a term both have', () => {
    // leader: terms 1 1 2 4 4; follower: 1 1 2 2 2 2 rejects prevIndex 6 with term 2 from 3
    expect(nextAfterRejection(logOf(1, 1, 2, 4, 4), 0, rejection(6, 2, 3))).toBe(4);
  });

  it('stays above the match and at or below the rejected index', () => {
    expect(nextAfterRejection(logOf(1, 1, 1, 1), 2, rejection(4, null, 1))).toBe(3);
    expect(nextAfterRejection(logOf(1, 1, 1, 1), 0, rejection(2, null, 9))).toBe(2);
  });
});
