import { describe, expect, it } from 'vitest';
import { checkCommitHistory } from './check.js';
import type { CommitEvent } from './events.js';
import { formatCommitEvent, parseCommitEvent } from './events.js';

const ev = (atMs: number, node: string, kind: CommitEvent['kind'], txn = 't1', participants?: string[]): CommitEvent => ({ atMs, node, txn, kind, role: node === '1' ? 'coordinator' : 'participant', ...(participants === undefined ? {} : { participants }) });

describe('the commit checker', () => {
  it('accepts a clean commit and measures each participant\'s time in doubt', () => {
    const r = checkCommitHistory([ev(0, '1', 'begin', 't1', ['2', '3']), ev(5, '2', 'yes'), ev(7, '3', 'yes'), ev(10, '1', 'commit'), ev(15, '2', 'commit'), ev(30, '3', 'commit')], 100);
    expect(r.ok).toBe(true);
    expect(r.committed).toBe(1);
    expect(r.blocking.map((b) => [b.node, b.durationMs])).toEqual([['2', 10], ['3', 23]]);
    expect(r.maxBlockingMs).toBe(23);
    expect(r.inDoubtAtEnd).toBe(0);
  });

  it('finds an atomicity violation: one participant commits, another aborts', () => {
    const r = checkCommitHistory([ev(0, '1', 'begin', 't1', ['2', '3']), ev(5, '2', 'yes'), ev(7, '3', 'yes'), ev(10, '2', 'commit'), ev(12, '3', 'abort')], 100);
    expect(r.ok).toBe(false);
    expect(r.violations.map((v) => v.kind)).toEqual(['atomicity']);
  });

  it('finds a node that decides both ways', () => {
    const r = checkCommitHistory([ev(5, '2', 'yes'), ev(10, '2', 'abort'), ev(12, '2', 'commit')], 100);
    expect(r.violations.map((v) => v.kind)).toContain('atomicity');
  });

  it('finds a validity violation: commit without every yes vote', () => {
    const r = checkCommitHistory([ev(0, '1', 'begin', 't1', ['2', '3']), ev(5, '2', 'yes'), ev(6, '3', 'no'), ev(10, '1', 'commit')], 100);
    expect(r.violations.map((v) => v.kind)).toEqual(['validity']);
  });

  it('counts a participant still prepared at the end as in doubt until the end', () => {
    const r = checkCommitHistory([ev(0, '1', 'begin', 't1', ['2']), ev(40, '2', 'yes')], 100);
    expect(r.ok).toBe(true);
    expect(r.undecided).toBe(1);
    expect(r.inDoubtAtEnd).toBe(1);
    expect(r.maxBlockingMs).toBe(60);
  });

  it('reads back the events cores annotate, and ignores other values', () => {
    expect(parseCommitEvent(formatCommitEvent('begin', 'coordinator', 't3.4', ['2', '5']), '1', 9)).toEqual({ atMs: 9, node: '1', txn: 't3.4', kind: 'begin', role: 'coordinator', participants: ['2', '5'] });
    expect(parseCommitEvent('hello', '1', 0)).toBeUndefined();
    expect(parseCommitEvent(5, '1', 0)).toBeUndefined();
  });
});
