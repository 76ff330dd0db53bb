// Tests of the Raft adapter: every op kind survives a restart, entry overwrites, snapshot
// installs compact the log directory, malformed ops are refused, and durableOps stays compact.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { jsonCodec } from './codec.js';
import { RaftStorage } from './raft-storage.js';
import { foldRaftOps, type FoldWork } from '../raft/durable-state.js';
import { openWal } from './wal.js';
import type { HardState, LogEntry, RaftPersistOp } from './raft-types.js';
import { collectWarnings, fileBytes, listNames, truncate, useTempDirs } from './test/helpers.js';

const newDir = useTempDirs();

const entry = (index: number, term: number, data: LogEntry['data'] = `cmd-${index}`): LogEntry => ({ index, term, kind: 'command', data });
const entries = (from: number, to: number, term: number): LogEntry[] => Array.from({ length: to - from + 1 }, (_, i) => entry(from + i, term));
const hs = (term: number, vote: string | null, commit: number): HardState => ({ term, vote, commit });

async function restart(dir: string): Promise<RaftStorage> {
  return RaftStorage.open(dir);
}

async function durableAfterRestart(dir: string): Promise<readonly RaftPersistOp[]> {
  const storage = await restart(dir);
  await storage.close();
  return storage.durableOps;
}

describe('RaftStorage', () => {
  it('starts empty', async () => {
    const storage = await RaftStorage.open(await newDir());
    expect(storage.durableOps).toEqual([]);
    await storage.close();
  });

  it('round-trips every op kind across a restart', async () => {
    const dir = await newDir();
    const storage = await RaftStorage.open(dir);
    const snapshotOp: RaftPersistOp = {
      kind: 'snapshot',
      meta: { index: 10, term: 2, config: { voters: ['1', '2', '3'] } },
      data: { kv: { a: 1, b: [true, null, 'x'] } },
      hardState: hs(2, '1', 10),
      entriesAfter: entries(11, 12, 2),
    };
    await storage.persist([{ kind: 'hardState', state: hs(1, '2', 0) }, { kind: 'entries', entries: entries(1, 10, 1) }]);
    await storage.persist([snapshotOp]);
    await storage.persist([
      { kind: 'entries', entries: [{ index: 13, term: 3, kind: 'config', data: { add: '4' } }, { index: 14, term: 3, kind: 'noop', data: null }] },
      { kind: 'hardState', state: hs(3, null, 12) },
    ]);
    await storage.close();
    expect(await durableAfterRestart(dir)).toEqual([
      { ...snapshotOp, entriesAfter: [] },
      { kind: 'hardState', state: hs(3, null, 12) },
      { kind: 'entries', entries: [...entries(11, 12, 2), { index: 13, term: 3, kind: 'config', data: { add: '4' } }, { index: 14, term: 3, kind: 'noop', data: null }] },
    ]);
  });

  it('applies overwrite semantics: an entry at i replaces i and everything after', async () => {
    const dir = await newDir();
    const storage = await RaftStorage.open(dir);
    await storage.persist([{ kind: 'entries', entries: entries(1, 5, 1) }]);
    await storage.persist([{ kind: 'entries', entries: entries(3, 4, 2) }]);
    await storage.persist([{ kind: 'entries', entries: entries(5, 6, 2) }]);
    await storage.persist([{ kind: 'entries', entries: [] }]);
    await storage.close();
    expect(await durableAfterRestart(dir)).toEqual([{ kind: 'entries', entries: [...entries(1, 2, 1), ...entries(3, 6, 2)] }]);
  });

  it('refuses entries that would leave a gap, without writing any op of the call', async () => {
    const dir = await newDir();
    const storage = await RaftStorage.open(dir);
    await storage.persist([{ kind: 'entries', entries: entries(1, 2, 1) }]);
    await expect(storage.persist([{ kind: 'hardState', state: hs(5, null, 0) }, { kind: 'entries', entries: entries(4, 4, 1) }])).rejects.toMatchObject({
      code: 'STORAGE_INVALID_OP',
    });
    await expect(storage.persist([{ kind: 'entries', entries: [entry(3, 1), entry(5, 1)] }])).rejects.toMatchObject({ code: 'STORAGE_INVALID_OP' });
    await storage.persist([{ kind: 'entries', entries: entries(3, 3, 1) }]);
    await storage.close();
    expect(await durableAfterRestart(dir)).toEqual([{ kind: 'entries', entries: entries(1, 3, 1) }]);
  });

  it('installs a snapshot: old segments go, recovery starts from it', async () => {
    const dir = await newDir();
    const options = { segmentBytes: 1024 };
    const storage = await RaftStorage.open(dir, options);
    for (let i = 1; i <= 60; i++) await storage.persist([{ kind: 'entries', entries: [entry(i, 1)] }, { kind: 'hardState', state: hs(1, '1', i - 1) }]);
    const before = await listNames(dir, '.wal');
    expect(before.length).toBeGreaterThan(3);
    await storage.persist([{ kind: 'snapshot', meta: { index: 55, term: 1, config: null }, data: 'state@55', hardState: hs(1, '1', 55), entriesAfter: entries(56, 60, 1) }]);
    await storage.persist([{ kind: 'entries', entries: [entry(61, 1)] }]);
    await storage.close();
    const after = await listNames(dir, '.wal');
    expect(after).toHaveLength(1);
    expect(before).not.toContain(after[0]);
    expect(await listNames(dir, '.snap')).toEqual([after[0]?.replace('.wal', '.snap')]);
    const reopened = await RaftStorage.open(dir, options);
    await reopened.close();
    expect(reopened.durableOps).toEqual([
      { kind: 'snapshot', meta: { index: 55, term: 1, config: null }, data: 'state@55', hardState: hs(1, '1', 55), entriesAfter: [] },
      { kind: 'hardState', state: hs(1, '1', 55) },
      { kind: 'entries', entries: entries(56, 61, 1) },
    ]);
  });

  it('recovers acknowledged ops after a torn tail and reports the repair', async () => {
    const dir = await newDir();
    const storage = await RaftStorage.open(dir);
    await storage.persist([{ kind: 'hardState', state: hs(1, '1', 0) }, { kind: 'entries', entries: entries(1, 3, 1) }]);
    await storage.persist([{ kind: 'entries', entries: entries(4, 4, 1) }]);
    await storage.close();
    const [segment] = await listNames(dir, '.wal');
    const path = join(dir, segment as string);
    await truncate(path, (await fileBytes(path)) - 3);
    const w = collectWarnings();
    const reopened = await RaftStorage.open(dir, { onWarning: w.onWarning });
    await reopened.close();
    expect(reopened.warnings.map((x) => x.code)).toEqual(['WAL_TAIL_TRUNCATED']);
    expect(w.warnings).toEqual(reopened.warnings);
    expect(reopened.durableOps).toEqual([{ kind: 'hardState', state: hs(1, '1', 0) }, { kind: 'entries', entries: entries(1, 3, 1) }]);
  });

  it('group-commits concurrent persists and keeps their order', async () => {
    const dir = await newDir();
    const storage = await RaftStorage.open(dir);
    const ops: RaftPersistOp[] = [];
    const calls: Promise<void>[] = [];
    for (let i = 1; i <= 50; i++) {
      const call: RaftPersistOp[] = [{ kind: 'entries', entries: [entry(i, 1)] }, { kind: 'hardState', state: hs(1, null, i) }];
      ops.push(...call);
      calls.push(storage.persist(call));
    }
    await Promise.all(calls);
    expect(storage.stats.batches).toBeLessThan(5);
    await storage.close();
    expect(foldRaftOps(await durableAfterRestart(dir))).toEqual(foldRaftOps(ops));
  });

  it('coalesces one persist of many calls: contiguous entries become one record, commit-only hard states one at the end', async () => {
    const dir = await newDir();
    const storage = await RaftStorage.open(dir);
    await storage.persist([{ kind: 'hardState', state: hs(2, '1', 0) }]);
    const before = storage.stats.records;
    const ops: RaftPersistOp[] = [];
    for (let i = 1; i <= 10; i++) ops.push({ kind: 'hardState', state: hs(2, '1', i - 1) }, { kind: 'entries', entries: entries(i, i, 2) });
    ops.push({ kind: 'hardState', state: hs(3, null, 9) }, { kind: 'entries', entries: entries(11, 12, 3) }, { kind: 'hardState', state: hs(3, null, 11) });
    await storage.persist(ops);
    // entries 1-10, the term change, entries 11-12, the last commit
    expect(storage.stats.records - before).toBe(4);
    await storage.close();
    const reopened = await RaftStorage.open(dir);
    await reopened.close();
    expect(reopened.state.hardState).toEqual(hs(3, null, 11));
    expect(reopened.state.log.map((e) => [e.index, e.term])).toEqual([...entries(1, 10, 2), ...entries(11, 12, 3)].map((e) => [e.index, e.term]));
  });

  it('rejects records written with a codec it is not given', async () => {
    const dir = await newDir();
    const custom = { ...jsonCodec, id: 2, name: 'json-again' };
    const storage = await RaftStorage.open(dir, { codec: custom });
    await storage.persist([{ kind: 'hardState', state: hs(1, null, 0) }]);
    await storage.close();
    await expect(RaftStorage.open(dir)).rejects.toMatchObject({ code: 'WAL_UNSUPPORTED', message: /codec id 2/ });
    const withCodec = await RaftStorage.open(dir, { readCodecs: [custom] });
    await withCodec.close();
    expect(withCodec.durableOps).toEqual([{ kind: 'hardState', state: hs(1, null, 0) }]);
  });

  it('folds the records it recovers in linear work: 20,000 one-entry records cost fewer than 3 x 20,000 entry copies', async () => {
    // Opening used to copy the whole log per entries record (n²/2 copies: 30,000 records took
    // 55 s). Counted, not timed, so that a loaded machine cannot make this flaky.
    const dir = await newDir();
    const entryCount = 20_000;
    const { wal } = await openWal(dir);
    const recordType = (jsonCodec.id << 4) | 3; // an entries record
    await wal.append(Array.from({ length: entryCount }, (_, i) => ({ kind: 'record', type: recordType, payload: jsonCodec.encode([entry(i + 1, 1)]) })));
    await wal.close();
    const work: FoldWork = { entriesCopied: 0 };
    const storage = await RaftStorage.open(dir, { recoveryWork: work });
    await storage.close();
    expect(storage.state.log).toHaveLength(entryCount);
    expect(storage.state.log[entryCount - 1]).toEqual(entry(entryCount, 1));
    expect(work.entriesCopied).toBeGreaterThanOrEqual(entryCount); // the fold that was counted is the one that ran
    expect(work.entriesCopied).toBeLessThan(3 * entryCount);
  });

  it('refuses checksummed records that do not continue the log, naming the file and offset', async () => {
    const dir = await newDir();
    const { wal } = await openWal(dir);
    const recordType = (jsonCodec.id << 4) | 3;
    await wal.append([
      { kind: 'record', type: recordType, payload: jsonCodec.encode(entries(1, 3, 1)) },
      { kind: 'record', type: recordType, payload: jsonCodec.encode(entries(5, 5, 1)) }, // leaves out 4
    ]);
    await wal.close();
    await expect(RaftStorage.open(dir)).rejects.toMatchObject({ code: 'WAL_CORRUPT', message: /00000000000000000001\.wal at byte offset \d+: entries start at index 5, leaving a gap/ });
  });
});
