import { describe, expect, it } from 'vitest';
import { RaftError } from './errors.js';
import { RaftLog } from './log.js';
import { ConfigHistory, makeMembership, membershipToJson } from './membership.js';
import { recover } from './recovery.js';
import type { LogEntry, RaftPersistOp, SnapshotMeta } from './types.js';

const bootstrap = makeMembership(['a', 'b', 'c']);
const initialMeta: SnapshotMeta = { index: 0, term: 0, config: membershipToJson(bootstrap) };
const cmd = (index: number, term: number): LogEntry => ({ index, term, kind: 'command', data: { clientId: null, seq: 0, op: index } });
const cfg = (index: number, term: number, voters: string[]): LogEntry => ({ index, term, kind: 'config', data: membershipToJson(makeMembership(voters)) });

function run(ops: RaftPersistOp[]) {
  const log = new RaftLog();
  const configs = new ConfigHistory(bootstrap);
  return { log, configs, ...recover('a', ops, log, configs, initialMeta) };
}

describe('recover', () => {
  it('starts empty from nothing', () => {
    const r = run([]);
    expect(r.hardState).toEqual({ term: 0, vote: null, commit: 0 });
    expect(r.snapshotMeta).toBe(initialMeta);
    expect(r.snapshotPayload).toBeUndefined();
    expect(r.log.lastIndex).toBe(0);
    expect(r.configs.current).toEqual(bootstrap);
  });

  it('folds hard states and entries, later entries replacing a suffix', () => {
    const r = run([
      { kind: 'hardState', state: { term: 1, vote: 'a', commit: 0 } },
      { kind: 'entries', entries: [cmd(1, 1), cmd(2, 1), cmd(3, 1)] },
      { kind: 'hardState', state: { term: 2, vote: 'b', commit: 1 } },
      { kind: 'entries', entries: [cmd(3, 2)] },
    ]);
    expect(r.hardState).toEqual({ term: 2, vote: 'b', commit: 1 });
    expect(r.log.all().map((e) => [e.index, e.term])).toEqual([[1, 1], [2, 1], [3, 2]]);
  });

  it('starts over at a snapshot, and rebuilds the configurations from it and the entries after', () => {
    const snapshotConfig = makeMembership(['a', 'b']);
    const r = run([
      { kind: 'entries', entries: [cmd(1, 1)] },
      { kind: 'snapshot', meta: { index: 4, term: 2, config: membershipToJson(snapshotConfig) }, data: { machine: 7, sessions: [] }, hardState: { term: 2, vote: null, commit: 4 }, entriesAfter: [cmd(5, 2)] },
      { kind: 'entries', entries: [cfg(6, 2, ['a', 'b', 'd'])] },
    ]);
    expect(r.hardState).toEqual({ term: 2, vote: null, commit: 4 });
    expect(r.snapshotMeta.index).toBe(4);
    expect(r.snapshotPayload).toEqual({ machine: 7, sessions: [] });
    expect(r.log.snapshotIndex).toBe(4);
    expect(r.log.lastIndex).toBe(6);
    expect(r.configs.at(5)).toEqual(snapshotConfig);
    expect(r.configs.current).toEqual(makeMembership(['a', 'b', 'd']));
    expect(r.configs.currentIndex).toBe(6);
  });

  it('refuses entries that leave a gap, and a commit index outside the log', () => {
    expect(() => run([{ kind: 'entries', entries: [cmd(2, 1)] }])).toThrow(/node a: stored entries start at 2, outside \(0, 1\]/);
    expect(() => run([{ kind: 'hardState', state: { term: 1, vote: null, commit: 3 } }])).toThrow(RaftError);
  });

  it('refuses a snapshot that is not a payload', () => {
    expect(() => run([{ kind: 'snapshot', meta: { index: 1, term: 1, config: initialMeta.config }, data: 5, hardState: { term: 1, vote: null, commit: 1 }, entriesAfter: [] }])).toThrow(/BAD_SNAPSHOT|a snapshot must be/);
  });
});
