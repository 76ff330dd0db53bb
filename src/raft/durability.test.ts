import { describe, expect, it } from 'vitest';
import { DurableWriter, HardStateTracker, HeartbeatRounds, LeaderDurability } from './durability.js';
import type { HardState, LogEntry, RaftPersistOp, SnapshotMeta } from './types.js';

describe('HardStateTracker', () => {
  it('knows what differs from the hard state last written', () => {
    const t = new HardStateTracker();
    expect(t.differs({ term: 0, vote: null, commit: 0 })).toBe(false);
    t.restored({ term: 2, vote: 'a', commit: 5 });
    expect(t.differs({ term: 2, vote: 'a', commit: 5 })).toBe(false);
    expect(t.differs({ term: 2, vote: 'a', commit: 6 })).toBe(true);
    t.written({ term: 2, vote: 'a', commit: 6 });
    expect(t.differs({ term: 2, vote: 'a', commit: 6 })).toBe(false);
  });

  it('at the end of a call, writes a new term or vote always, a new commit index only along with other writes', () => {
    const t = new HardStateTracker();
    t.restored({ term: 1, vote: null, commit: 3 });
    t.beginCall();
    expect(t.dueAtEndOfCall({ term: 2, vote: null, commit: 3 })).toBe(true);
    expect(t.dueAtEndOfCall({ term: 1, vote: 'b', commit: 3 })).toBe(true);
    expect(t.dueAtEndOfCall({ term: 1, vote: null, commit: 4 })).toBe(false);
    t.noteWrite();
    expect(t.dueAtEndOfCall({ term: 1, vote: null, commit: 4 })).toBe(true);
    t.beginCall();
    expect(t.dueAtEndOfCall({ term: 1, vote: null, commit: 4 })).toBe(false);
    // a hard state written in this call (say within a snapshot) counts as a write too
    t.written({ term: 1, vote: null, commit: 4 });
    expect(t.dueAtEndOfCall({ term: 1, vote: null, commit: 5 })).toBe(true);
  });
});

describe('DurableWriter', () => {
  const entry = (index: number, term: number): LogEntry => ({ index, term, kind: 'noop', data: null });

  /** A writer over a hard state the test changes, and the ops it wrote, described briefly. */
  function writer(): { state: { current: HardState }; w: DurableWriter; written: () => string[] } {
    const state = { current: { term: 1, vote: null, commit: 0 } as HardState };
    const ops: RaftPersistOp[] = [];
    const w = new DurableWriter(() => state.current, (op) => ops.push(op));
    const describeOp = (op: RaftPersistOp): string =>
      op.kind === 'hardState' ? `hard ${op.state.term}/${op.state.vote ?? '-'}/${op.state.commit}` : op.kind === 'entries' ? `entries ${op.entries.map((e) => e.index).join(',')}` : `snapshot ${op.meta.index} with ${op.hardState.term}/${op.hardState.commit} + ${op.entriesAfter.length}`;
    return { state, w, written: () => ops.splice(0).map(describeOp) };
  }

  it('writes a changed term or vote before the entries that follow it, and nothing twice', () => {
    const { state, w, written } = writer();
    w.restored({ term: 1, vote: null, commit: 0 });
    w.beginCall();
    state.current = { term: 2, vote: 'a', commit: 0 };
    w.writeEntries([entry(1, 2)]);
    w.writeEntries([entry(2, 2)]);
    w.writeEntries([]);
    w.endCall();
    expect(written()).toEqual(['hard 2/a/0', 'entries 1', 'entries 2']);
  });

  it('at the end of a call writes a new vote, but a new commit index only along with other writes', () => {
    const { state, w, written } = writer();
    w.restored({ term: 1, vote: null, commit: 0 });
    w.beginCall();
    state.current = { term: 1, vote: null, commit: 3 };
    w.endCall();
    expect(written()).toEqual([]);
    w.beginCall();
    w.writeEntries([entry(4, 1)]);
    w.endCall();
    expect(written()).toEqual(['hard 1/-/3', 'entries 4']);
    w.beginCall();
    state.current = { term: 1, vote: 'b', commit: 3 };
    w.endCall();
    expect(written()).toEqual(['hard 1/b/3']);
  });

  it('writes a snapshot with the hard state of the moment, which then counts as written', () => {
    const { state, w, written } = writer();
    const meta: SnapshotMeta = { index: 5, term: 1, config: { voters: ['a'], learners: [] } };
    w.beginCall();
    state.current = { term: 3, vote: 'a', commit: 5 };
    w.writeSnapshot(meta, { machine: null, sessions: [] }, [entry(6, 3)]);
    w.endCall();
    w.writeEntries([entry(7, 3)]);
    expect(written()).toEqual(['snapshot 5 with 3/5 + 1', 'entries 7']);
  });
});

describe('HeartbeatRounds', () => {
  it('numbers rounds from 1, remembers the latest few, and starts over', () => {
    const r = new HeartbeatRounds(2);
    expect(r.start({ sentAtMs: 10, lastIndex: 1, waitedForSync: true })).toBe(1);
    expect(r.start({ sentAtMs: 20, lastIndex: 2, waitedForSync: false })).toBe(2);
    expect(r.start({ sentAtMs: 30, lastIndex: 3, waitedForSync: false })).toBe(3);
    expect(r.get(1)).toBeUndefined();
    expect(r.get(2)?.sentAtMs).toBe(20);
    expect(r.get(3)?.lastIndex).toBe(3);
    r.reset();
    expect(r.get(3)).toBeUndefined();
    expect(r.start({ sentAtMs: 40, lastIndex: 4, waitedForSync: true })).toBe(1);
  });
});

describe('LeaderDurability', () => {
  it('trusts the whole log when other voters granted their votes, only the snapshot otherwise', () => {
    const d = new LeaderDurability();
    d.startTerm(true, 9, 4);
    expect([d.durableIndex, d.termDurable]).toEqual([9, true]);
    d.startTerm(false, 9, 4);
    expect([d.durableIndex, d.termDurable]).toEqual([4, false]);
  });

  it('learns from synced answers, never going back and never past the log', () => {
    const d = new LeaderDurability();
    d.startTerm(false, 5, 0);
    expect(d.synced(3, 5)).toBe(true);
    expect([d.durableIndex, d.termDurable]).toEqual([3, true]);
    expect(d.synced(2, 5)).toBe(false);
    expect(d.durableIndex).toBe(3);
    expect(d.synced(8, 6)).toBe(true);
    expect(d.durableIndex).toBe(6);
  });

  it('keeps one probe in flight, while part of the log is not known durable', () => {
    const d = new LeaderDurability();
    d.startTerm(false, 5, 0);
    expect(d.needsProbe(5)).toBe(true);
    d.probeSent(7);
    expect(d.probeRound).toBe(7);
    expect(d.needsProbe(5)).toBe(false);
    d.probeReturned(6); // an older probe
    expect(d.needsProbe(5)).toBe(false);
    d.probeReturned(7);
    expect(d.needsProbe(5)).toBe(true);
    d.probeSent(8);
    d.allowProbe();
    expect(d.probeRound).toBeNull();
    d.synced(5, 5);
    expect(d.needsProbe(5)).toBe(false);
  });
});
