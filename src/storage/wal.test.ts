// Tests of the generic write-ahead log: round trips, segment rollover, torn-tail repair,
// corruption refusal, checkpoints (and crashes around them), the directory lock and failures.
import { describe, expect, it } from 'vitest';
import { constants } from 'node:fs';
import { copyFile, readFile, readdir, readlink, unlink, writeFile as writeFileRaw } from 'node:fs/promises';
import { join } from 'node:path';
import { isStorageError, StorageError } from './errors.js';
import { openWal, type WalItem, type WalOptions } from './wal.js';
import { RECORD_HEADER_BYTES, RECORD_TYPE_CHECKPOINT, SEGMENT_HEADER_BYTES, encodeCheckpointMarker, encodeRecord } from './format.js';
import { appendFile, bytes, collectWarnings, fileBytes, flipBit, listNames, text, truncate, useTempDirs } from './test/helpers.js';

const newDir = useTempDirs();
const rec = (s: string, type = 2): WalItem => ({ kind: 'record', type, payload: bytes(s) });
const cp = (s: string): WalItem => ({ kind: 'checkpoint', snapshot: bytes(s) });

async function writeAll(dir: string, payloads: readonly string[], options: WalOptions = {}): Promise<void> {
  const { wal } = await openWal(dir, options);
  for (const p of payloads) await wal.append([rec(p)]);
  await wal.close();
}

async function reopen(dir: string, options: WalOptions = {}) {
  const w = collectWarnings();
  const opened = await openWal(dir, { ...options, onWarning: w.onWarning });
  const records = opened.records.map((r) => text(r.payload));
  const snapshot = opened.snapshot === null ? null : text(opened.snapshot);
  await opened.wal.close();
  return { records, snapshot, warnings: w.warnings, returned: opened.warnings };
}

async function expectCorrupt(dir: string, pattern: RegExp): Promise<StorageError> {
  const error: unknown = await openWal(dir).then(
    async ({ wal }) => {
      await wal.close();
      return null;
    },
    (e: unknown) => e,
  );
  expect(isStorageError(error, 'WAL_CORRUPT')).toBe(true);
  expect((error as StorageError).message).toMatch(pattern);
  return error as StorageError;
}

const firstSegment = (dir: string): string => join(dir, '00000000000000000001.wal');

describe('WriteAheadLog basics', () => {
  it('round-trips records with sequence numbers', async () => {
    const dir = await newDir();
    const { wal, records, snapshot } = await openWal(dir);
    expect(records).toEqual([]);
    expect(snapshot).toBeNull();
    await wal.append([rec('a'), rec('b', 7)]);
    await wal.append([rec('c', 255)]);
    await wal.close();
    const again = await openWal(dir);
    expect(again.records.map((r) => [r.seq, r.type, text(r.payload)])).toEqual([
      [1, 2, 'a'],
      [2, 7, 'b'],
      [3, 255, 'c'],
    ]);
    await again.wal.append([rec('d')]);
    await again.wal.close();
    expect((await reopen(dir)).records).toEqual(['a', 'b', 'c', 'd']);
  });

  it('rejects reserved record types, oversized records and use after close', async () => {
    const dir = await newDir();
    const { wal } = await openWal(dir, { maxRecordBytes: 8 });
    await expect(wal.append([rec('x', 1)])).rejects.toMatchObject({ code: 'STORAGE_INVALID_OP' });
    await expect(wal.append([rec('x', 256)])).rejects.toMatchObject({ code: 'STORAGE_INVALID_OP' });
    await expect(wal.append([rec('123456789')])).rejects.toMatchObject({ code: 'STORAGE_INVALID_OP' });
    await wal.close();
    await expect(wal.append([rec('x')])).rejects.toMatchObject({ code: 'STORAGE_CLOSED' });
    await expect(openWal(dir, { segmentBytes: 10 })).rejects.toMatchObject({ code: 'STORAGE_INVALID_OPTION' });
  });

  it('rolls over to new segments named by their first sequence number', async () => {
    const dir = await newDir();
    const payloads = Array.from({ length: 40 }, (_, i) => `record-${i}`);
    await writeAll(dir, payloads, { segmentBytes: 128 });
    const segments = await listNames(dir, '.wal');
    expect(segments.length).toBeGreaterThan(5);
    expect(segments[0]).toBe('00000000000000000001.wal');
    for (const name of segments) expect(await fileBytes(join(dir, name))).toBeLessThanOrEqual(128);
    expect((await reopen(dir, { segmentBytes: 128 })).records).toEqual(payloads);
  });

  it('writes on the calling thread when writeInline says so, switching per commit, across rollovers', async () => {
    const dir = await newDir();
    let inline = true;
    let asked = 0;
    let saidYes = 0;
    const payloads = Array.from({ length: 30 }, (_, i) => `inline-${i}-${'y'.repeat(i)}`);
    const { wal } = await openWal(dir, {
      segmentBytes: 200,
      writeInline: () => {
        asked++;
        if (inline) saidYes++;
        return inline;
      },
    });
    for (const [i, p] of payloads.entries()) {
      inline = i % 3 !== 0;
      await wal.append([rec(p)]);
    }
    const inlineWrites = wal.stats.inlineWrites;
    await wal.close();
    expect(asked).toBeGreaterThanOrEqual(payloads.length);
    // every write it was told to make inline, and only those, counted as such
    expect(saidYes).toBeGreaterThan(0);
    expect(inlineWrites).toBe(saidYes);
    expect((await reopen(dir)).records).toEqual(payloads);
  });

  it('gives a record larger than a segment a segment of its own', async () => {
    const dir = await newDir();
    const big = 'x'.repeat(500);
    await writeAll(dir, ['a', big, 'b'], { segmentBytes: 100 });
    expect((await reopen(dir)).records).toEqual(['a', big, 'b']);
  });
});

describe('recovery of a torn tail', () => {
  it('cuts a record truncated mid-way and keeps every earlier one', async () => {
    const dir = await newDir();
    await writeAll(dir, ['one', 'two', 'three']);
    const size = await fileBytes(firstSegment(dir));
    await truncate(firstSegment(dir), size - 2);
    const { records, warnings, returned } = await reopen(dir);
    expect(records).toEqual(['one', 'two']);
    expect(warnings.map((w) => w.code)).toEqual(['WAL_TAIL_TRUNCATED']);
    expect(returned).toEqual(warnings);
    expect(warnings[0]?.file).toBe(firstSegment(dir));
    expect(warnings[0]?.offsetBytes).toBe(size - (RECORD_HEADER_BYTES + 5));
    // The message names file and offset and claims only what is known: a crash mid-write tears
    // an append before it resolves, but a disk that loses synced writes looks the same.
    const message = warnings[0]?.message ?? '';
    expect(message).toContain(`${firstSegment(dir)} at byte offset ${size - (RECORD_HEADER_BYTES + 5)}`);
    expect(message).toMatch(/torn record; truncated the last 12 bytes there/);
    expect(message).toMatch(/never resolved on this node/);
    expect(message).toMatch(/unless the disk lost or reordered writes/);
    expect(message).not.toMatch(/never acknowledged/);
    // The repair is durable and appends continue after it.
    const { wal } = await openWal(dir);
    await wal.append([rec('four')]);
    await wal.close();
    expect(await reopen(dir)).toMatchObject({ records: ['one', 'two', 'four'], warnings: [] });
  });

  it('cuts a header cut short', async () => {
    const dir = await newDir();
    await writeAll(dir, ['one', 'two']);
    await truncate(firstSegment(dir), (await fileBytes(firstSegment(dir))) - (RECORD_HEADER_BYTES + 3) + 4);
    expect(await reopen(dir)).toMatchObject({ records: ['one'], warnings: [{ code: 'WAL_TAIL_TRUNCATED' }] });
  });

  it('cuts garbage appended after the last record', async () => {
    const dir = await newDir();
    await writeAll(dir, ['one', 'two']);
    await appendFile(firstSegment(dir), Buffer.from('\x07\x00\x00\x00garbage-garbage'));
    expect(await reopen(dir)).toMatchObject({ records: ['one', 'two'], warnings: [{ code: 'WAL_TAIL_TRUNCATED' }] });
  });

  it('cuts a zero-filled tail (size extended, data never written)', async () => {
    const dir = await newDir();
    await writeAll(dir, ['one']);
    await appendFile(firstSegment(dir), Buffer.alloc(4096));
    expect(await reopen(dir)).toMatchObject({ records: ['one'], warnings: [{ code: 'WAL_TAIL_TRUNCATED' }] });
  });

  it('treats a checksum failure in the final record as torn', async () => {
    const dir = await newDir();
    await writeAll(dir, ['one', 'two']);
    await flipBit(firstSegment(dir), (await fileBytes(firstSegment(dir))) - 1);
    expect(await reopen(dir)).toMatchObject({ records: ['one'], warnings: [{ code: 'WAL_TAIL_TRUNCATED' }] });
  });

  it('repairs a torn header of a freshly created last segment', async () => {
    const dir = await newDir();
    await writeAll(dir, ['aaaaaaaaaa', 'bbbbbbbbbb', 'cccccccccc'], { segmentBytes: 64 });
    const segments = await listNames(dir, '.wal');
    const last = join(dir, segments[segments.length - 1] as string);
    await writeFileRaw(last, Buffer.alloc(10));
    const { records, warnings } = await reopen(dir);
    expect(records).toEqual(['aaaaaaaaaa', 'bbbbbbbbbb']);
    expect(warnings.map((w) => w.code)).toEqual(['WAL_TAIL_TRUNCATED']);
    expect(await fileBytes(last)).toBe(SEGMENT_HEADER_BYTES);
  });
});

describe('corruption is refused', () => {
  it('refuses, after a bounded search, a damaged tail followed by bytes that read as a million would-be records', async () => {
    // Every fourth offset of the 4 MiB appended reads as a 256 KiB record: searching them all for
    // an intact one would checksum 256 GiB. Open gives up within its bound and refuses.
    const dir = await newDir();
    await writeAll(dir, ['one', 'two']);
    const garbage = Buffer.alloc(4 << 20);
    for (let i = 0; i < garbage.length; i += 4) garbage.writeUInt32LE(0x0004_0001, i);
    await appendFile(firstSegment(dir), garbage);
    const error = await expectCorrupt(dir, /searching them for an intact one was given up/);
    expect(error.message).toContain(`${firstSegment(dir)} at byte offset ${SEGMENT_HEADER_BYTES + 2 * (RECORD_HEADER_BYTES + 3)}`);
    expect(await fileBytes(firstSegment(dir))).toBe(SEGMENT_HEADER_BYTES + 2 * (RECORD_HEADER_BYTES + 3) + garbage.length); // nothing cut
  });

  it('refuses a flipped bit in an earlier record, naming the file and offset', async () => {
    const dir = await newDir();
    await writeAll(dir, ['one', 'two', 'three']);
    const secondRecordOffset = SEGMENT_HEADER_BYTES + RECORD_HEADER_BYTES + 3;
    await flipBit(firstSegment(dir), secondRecordOffset + RECORD_HEADER_BYTES + 1, 3);
    const error = await expectCorrupt(dir, new RegExp(`00000000000000000001\\.wal at byte offset ${secondRecordOffset}: checksum mismatch`));
    expect(error.message).toContain(firstSegment(dir));
    // Nothing was truncated by the refused open.
    expect(await fileBytes(firstSegment(dir))).toBe(SEGMENT_HEADER_BYTES + 3 * RECORD_HEADER_BYTES + 3 + 3 + 5);
  });

  it('refuses a corrupted length field in an earlier record', async () => {
    const dir = await newDir();
    await writeAll(dir, ['one', 'two', 'three']);
    await flipBit(firstSegment(dir), SEGMENT_HEADER_BYTES + 2, 7);
    await expectCorrupt(dir, /byte offset 24: length/);
  });

  it('refuses damage at the end of a segment that is not the last', async () => {
    const dir = await newDir();
    await writeAll(dir, ['aaaaaaaaaa', 'bbbbbbbbbb', 'cccccccccc'], { segmentBytes: 64 });
    await truncate(firstSegment(dir), (await fileBytes(firstSegment(dir))) - 1);
    await expectCorrupt(dir, /00000000000000000001\.wal at byte offset \d+: .* not the last/);
  });

  it('refuses a missing segment in the middle', async () => {
    const dir = await newDir();
    await writeAll(dir, ['aaaaaaaaaa', 'bbbbbbbbbb', 'cccccccccc', 'dddddddddd', 'eeeeeeeeee'], { segmentBytes: 64 });
    const segments = await listNames(dir, '.wal');
    expect(segments).toHaveLength(3);
    await unlink(join(dir, segments[1] as string));
    await expectCorrupt(dir, /segment starts at sequence 5, but records 3\.\.4 are missing/);
  });

  it('refuses a log whose first segment is gone', async () => {
    const dir = await newDir();
    await writeAll(dir, ['aaaaaaaaaa', 'bbbbbbbbbb', 'cccccccccc'], { segmentBytes: 64 });
    await unlink(firstSegment(dir));
    await expectCorrupt(dir, /segments are missing/);
  });
});

describe('format versions', () => {
  it('refuses a segment of another format version, naming the file and both versions', async () => {
    const dir = await newDir();
    const { wal } = await openWal(dir);
    await wal.append([rec('a')]);
    await wal.close();
    const segment = (await listNames(dir, '.wal'))[0] as string;
    const bytes = await readFile(join(dir, segment));
    bytes.writeUInt32LE(1, 8); // the version field of the segment header
    await writeFileRaw(join(dir, segment), bytes);
    await expect(openWal(dir)).rejects.toMatchObject({ code: 'WAL_UNSUPPORTED', message: new RegExp(`${segment}: segment format version 1 is not supported \\(this build reads version 2 only`) });
  });
});

describe('checkpoints', () => {
  it('writes a snapshot given in parts as one file, checksummed as a whole', async () => {
    const dir = await newDir();
    const { wal } = await openWal(dir);
    await wal.append([rec('a1'), { kind: 'checkpoint', snapshot: [bytes('sn'), bytes(''), bytes('ap-'), bytes('3')] }, rec('b1')]);
    await wal.close();
    expect(await reopen(dir)).toMatchObject({ snapshot: 'snap-3', records: ['b1'], warnings: [] });
    const snap = (await listNames(dir, '.snap'))[0] as string;
    await flipBit(join(dir, snap), (await fileBytes(join(dir, snap))) - 1); // in the last part
    await expect(openWal(dir)).rejects.toMatchObject({ code: 'SNAPSHOT_CORRUPT' });
  });

  it('pulls a lazy snapshot part by part while writing it; if producing a part fails, no snapshot appears', async () => {
    const dir = await newDir();
    const { wal } = await openWal(dir);
    const pulled: string[] = [];
    const lazy = function* (fail: boolean): Generator<Uint8Array> {
      for (const piece of ['la', 'zy', '-snap']) {
        pulled.push(piece);
        yield bytes(piece);
        if (fail) throw new Error('encoder broke');
      }
    };
    const append = wal.append([rec('a1'), { kind: 'checkpoint', snapshot: lazy(false) }, rec('b1')]);
    expect(pulled).toEqual([]); // nothing is encoded before the log gets to it
    await append;
    await expect(wal.append([{ kind: 'checkpoint', snapshot: lazy(true) }])).rejects.toMatchObject({ message: /encoder broke/ });
    await wal.close();
    expect(await reopen(dir)).toMatchObject({ snapshot: 'lazy-snap', records: ['b1'] });
  });

  it('removes superseded segments and snapshots; recovery starts from the latest', async () => {
    const dir = await newDir();
    const { wal } = await openWal(dir, { segmentBytes: 64 });
    for (const p of ['a1', 'a2', 'a3', 'a4', 'a5']) await wal.append([rec(p)]);
    await wal.append([cp('snap-1'), rec('b1')]);
    expect(await listNames(dir, '.snap')).toHaveLength(1);
    const afterFirst = await listNames(dir, '.wal');
    await wal.append([rec('b2'), cp('snap-2'), rec('c1')]);
    await wal.append([rec('c2')]);
    await wal.close();
    const snaps = await listNames(dir, '.snap');
    expect(snaps).toHaveLength(1);
    const segments = await listNames(dir, '.wal');
    expect(segments[0]).toBe(snaps[0]?.replace('.snap', '.wal'));
    expect(segments.some((s) => afterFirst.includes(s))).toBe(false);
    expect(await reopen(dir)).toMatchObject({ snapshot: 'snap-2', records: ['c1', 'c2'], warnings: [] });
  });

  it('ignores and removes a leftover temp file and an orphan snapshot from a crashed checkpoint', async () => {
    const dir = await newDir();
    const { wal } = await openWal(dir);
    await wal.append([cp('good'), rec('x')]);
    await wal.close();
    await writeFileRaw(join(dir, '00000000000000000009.snap.tmp'), 'half a snapsh');
    await writeFileRaw(join(dir, '00000000000000000009.snap'), 'a snapshot whose marker was never written');
    const { snapshot, records, warnings } = await reopen(dir);
    expect({ snapshot, records }).toEqual({ snapshot: 'good', records: ['x'] });
    expect(warnings.map((w) => w.code).sort()).toEqual(['ORPHAN_SNAPSHOT_REMOVED', 'TEMP_FILE_REMOVED']);
    expect(await listNames(dir, '.tmp')).toEqual([]);
    expect(await listNames(dir, '.snap')).toEqual(['00000000000000000001.snap']);
  });

  it('puts a prepared snapshot in force: records after what it covers stay, before its marker or after it', async () => {
    const dir = await newDir();
    const { wal } = await openWal(dir, { segmentBytes: 64 });
    for (const p of ['a1', 'a2', 'a3']) await wal.append([rec(p)]);
    const covers = await wal.appendTracked([rec('a4')]);
    expect(covers).toBe(4);
    // the snapshot is written beside the log while appends go on
    const preparing = wal.prepareSnapshot([bytes('fold-'), bytes('a1..a4')]);
    await wal.append([rec('b1')]);
    const snapshot = await preparing;
    expect(await listNames(dir, '.tmp')).toHaveLength(1);
    await wal.append([rec('b2'), { kind: 'prepared-checkpoint', snapshot, coversThroughSeq: covers }, rec('c1')]);
    await wal.append([rec('c2')]);
    expect(wal.stats.checkpoints).toBe(1);
    await wal.close();
    expect(await listNames(dir, '.tmp')).toEqual([]);
    expect(await reopen(dir)).toMatchObject({ snapshot: 'fold-a1..a4', records: ['b1', 'b2', 'c1', 'c2'], warnings: [] });
    // the segments holding only a1..a4 are gone; the one holding b1 stays
    const again = await openWal(dir);
    expect(again.records.map((r) => r.seq)).toEqual([5, 6, 8, 9]);
    await again.wal.close();
  });

  it('a prepared checkpoint refuses to cover unwritten records or less than the checkpoint in force, and one overtaken is dropped', async () => {
    const dir = await newDir();
    const { wal } = await openWal(dir);
    await wal.append([rec('a1'), rec('a2')]);
    const early = await wal.prepareSnapshot([bytes('early')]);
    await expect(wal.append([{ kind: 'prepared-checkpoint', snapshot: early, coversThroughSeq: 3 }])).rejects.toMatchObject({ code: 'STORAGE_INVALID_OP' });
    // a full checkpoint in the same commit covers a2 too: the prepared one (through a1) lacks it and is dropped
    await wal.append([cp('full'), { kind: 'prepared-checkpoint', snapshot: early, coversThroughSeq: 1 }, rec('b1')]);
    expect(await listNames(dir, '.tmp')).toEqual([]);
    const later = await wal.prepareSnapshot([bytes('later')]);
    await expect(wal.append([{ kind: 'prepared-checkpoint', snapshot: later, coversThroughSeq: 1 }])).rejects.toMatchObject({ code: 'STORAGE_INVALID_OP' });
    await wal.close();
    expect(await reopen(dir)).toMatchObject({ snapshot: 'full', records: ['b1'] });
  });

  it('a prepared snapshot whose marker never came is removed at open, and every record is still there', async () => {
    const dir = await newDir();
    const { wal } = await openWal(dir);
    await wal.append([rec('a1'), rec('a2')]);
    await wal.prepareSnapshot([bytes('never used')]);
    await wal.append([rec('b1')]);
    await wal.close();
    const { snapshot, records, warnings } = await reopen(dir);
    expect({ snapshot, records }).toEqual({ snapshot: null, records: ['a1', 'a2', 'b1'] });
    expect(warnings.map((w) => w.code)).toEqual(['TEMP_FILE_REMOVED']);
  });

  it('refuses a checkpoint marker that covers records at or past itself, or less than the one before it', async () => {
    const marker = (covers: number): Buffer => encodeRecord(RECORD_TYPE_CHECKPOINT, encodeCheckpointMarker({ snapshotBytes: 0, snapshotCrc: 0, coversThroughSeq: covers }));
    const dir = await newDir();
    await writeAll(dir, ['a1']);
    await appendFile(firstSegment(dir), marker(2)); // the marker is record 2
    await expectCorrupt(dir, /checkpoint marker at sequence 2 covers through sequence 2, outside 0\.\.1/);
    const other = await newDir();
    await writeAll(other, ['a1', 'a2']);
    await appendFile(firstSegment(other), Buffer.concat([marker(2), marker(1)])); // records 3 and 4
    await expectCorrupt(other, /checkpoint marker at sequence 4 covers through sequence 1, outside 2\.\.3/);
  });

  it('keeps the old state when a crash interrupts the snapshot write', async () => {
    const dir = await newDir();
    await writeAll(dir, ['a', 'b']);
    const failing: WalOptions = {
      sync: {
        syncFile: async (handle, path) => {
          if (path.endsWith('.tmp')) throw new Error('simulated power loss');
          await handle.datasync();
        },
      },
    };
    const { wal } = await openWal(dir, failing);
    const attempt = wal.append([cp('new-snapshot'), rec('c')]);
    const queued = wal.append([rec('d')]);
    await expect(attempt).rejects.toMatchObject({ code: 'STORAGE_IO', message: /simulated power loss/ });
    // Issued in the same tick, so it shared the failed batch.
    await expect(queued).rejects.toMatchObject({ code: 'STORAGE_IO' });
    await expect(wal.append([rec('e')])).rejects.toMatchObject({ code: 'STORAGE_FAILED' });
    await wal.close();
    const { snapshot, records, warnings } = await reopen(dir);
    expect({ snapshot, records }).toEqual({ snapshot: null, records: ['a', 'b'] });
    expect(warnings.map((w) => w.code)).toEqual(['TEMP_FILE_REMOVED']);
  });

  it('finishes cleanup that a crash interrupted after the marker was durable', async () => {
    const dir = await newDir();
    const backup = await newDir();
    const first = await openWal(dir, { segmentBytes: 64 });
    for (const p of ['aaaaaaaaaa', 'bbbbbbbbbb', 'cccccccccc', 'dddddddddd', 'eeeeeeeeee']) await first.wal.append([rec(p)]);
    await first.wal.close();
    const oldSegments = await listNames(dir, '.wal');
    expect(oldSegments).toHaveLength(3);
    for (const name of oldSegments) await copyFile(join(dir, name), join(backup, name));
    const second = await openWal(dir, { segmentBytes: 64 });
    await second.wal.append([cp('s'), rec('b')]);
    await second.wal.close();
    expect(await listNames(dir, '.wal')).toHaveLength(1);
    // Cleanup deletes oldest first; put back the two newest old segments, as if it stopped midway.
    for (const name of oldSegments.slice(1)) await copyFile(join(backup, name), join(dir, name));
    const { snapshot, records, warnings } = await reopen(dir);
    expect({ snapshot, records }).toEqual({ snapshot: 's', records: ['b'] });
    expect(warnings.map((w) => w.code)).toEqual(['SUPERSEDED_FILE_REMOVED', 'SUPERSEDED_FILE_REMOVED']);
    expect(await listNames(dir, '.wal')).toHaveLength(1);
  });

  it('refuses to open when the snapshot named by the latest marker is damaged', async () => {
    const dir = await newDir();
    const { wal } = await openWal(dir);
    await wal.append([cp('important state')]);
    await wal.close();
    const [snap] = await listNames(dir, '.snap');
    await flipBit(join(dir, snap as string), 30);
    await expect(openWal(dir)).rejects.toMatchObject({ code: 'SNAPSHOT_CORRUPT' });
  });
});

describe('directory lock', () => {
  it('refuses a second open of the same directory until the first closes', async () => {
    const dir = await newDir();
    const first = await openWal(dir);
    await expect(openWal(dir)).rejects.toMatchObject({ code: 'STORAGE_LOCKED', message: new RegExp(`process ${process.pid}`) });
    await first.wal.close();
    const second = await openWal(dir);
    await second.wal.close();
  });

  it('refuses a lock held by another live process', async () => {
    const dir = await newDir();
    await writeFileRaw(join(dir, 'LOCK'), `${process.ppid}\n`);
    await expect(openWal(dir)).rejects.toMatchObject({ code: 'STORAGE_LOCKED' });
  });

  it('takes over a lock naming our own pid that this process does not hold (a crashed earlier run)', async () => {
    const dir = await newDir();
    await writeFileRaw(join(dir, 'LOCK'), `${process.pid}\n`);
    const w = collectWarnings();
    const { wal } = await openWal(dir, { onWarning: w.onWarning });
    expect(w.warnings.map((x) => x.code)).toEqual(['STALE_LOCK_REMOVED']);
    await wal.close();
  });

  it('takes over a stale lock whose process is gone', async () => {
    const dir = await newDir();
    await writeFileRaw(join(dir, 'LOCK'), '2147483646\n');
    const w = collectWarnings();
    const { wal } = await openWal(dir, { onWarning: w.onWarning });
    expect(w.warnings.map((x) => x.code)).toEqual(['STALE_LOCK_REMOVED']);
    expect((await readFile(join(dir, 'LOCK'), 'utf8')).trim()).toBe(String(process.pid));
    await wal.close();
    await expect(readFile(join(dir, 'LOCK'))).rejects.toThrow();
  });
});

describe('group commit', () => {
  it('opens segments write-through (O_DSYNC) by default: no separate fdatasync per commit', async () => {
    const dir = await newDir();
    const { wal } = await openWal(dir);
    const before = wal.stats.fileSyncs;
    for (let i = 0; i < 5; i++) await wal.append([rec(`r${i}`)]);
    expect(wal.stats.fileSyncs - before).toBe(0);
    expect(wal.stats.batches).toBe(5);
    // the kernel's view of the open segment: its flags include O_DSYNC
    const fds = await readdir('/proc/self/fd');
    const segmentFds = [];
    for (const fd of fds) {
      const target = await readlink(`/proc/self/fd/${fd}`).catch(() => '');
      if (target.startsWith(dir) && target.endsWith('.wal')) segmentFds.push(fd);
    }
    expect(segmentFds).toHaveLength(1);
    const flags = parseInt(/flags:\s+(\d+)/.exec(await readFile(`/proc/self/fdinfo/${segmentFds[0] as string}`, 'utf8'))?.[1] ?? '0', 8);
    expect(flags & constants.O_DSYNC).toBe(constants.O_DSYNC);
    await wal.close();
    expect((await reopen(dir)).records).toEqual(['r0', 'r1', 'r2', 'r3', 'r4']);
  });

  it('syncs once per append when appends are sequential', async () => {
    const dir = await newDir();
    const { wal } = await openWal(dir, { writeThrough: false });
    const before = wal.stats.fileSyncs;
    for (let i = 0; i < 20; i++) await wal.append([rec(`r${i}`)]);
    expect(wal.stats.fileSyncs - before).toBe(20);
    expect(wal.stats.batches).toBe(20);
    await wal.close();
  });

  it('batches concurrent appends into few write+fsync rounds', async () => {
    const dir = await newDir();
    let syncs = 0;
    const { wal } = await openWal(dir, {
      writeThrough: false,
      sync: {
        syncFile: async (handle) => {
          syncs++;
          // A slow disk makes appenders pile up behind each sync, as under real load.
          await new Promise((resolve) => setTimeout(resolve, 2));
          await handle.datasync();
        },
      },
    });
    const before = syncs;
    const appenders = 64;
    const perAppender = 10;
    await Promise.all(
      Array.from({ length: appenders }, async (_, a) => {
        for (let i = 0; i < perAppender; i++) await wal.append([rec(`${a}:${i}`)]);
      }),
    );
    const total = appenders * perAppender;
    expect(wal.stats.appends).toBe(total);
    expect(syncs - before).toBeLessThanOrEqual(perAppender * 2);
    expect(wal.stats.batches).toBe(syncs - before);
    await wal.close();
    const { records } = await reopen(dir);
    expect(records).toHaveLength(total);
    // Each appender's records are in its own order.
    for (let a = 0; a < appenders; a++) {
      const mine = records.filter((r) => r.startsWith(`${a}:`));
      expect(mine).toEqual(Array.from({ length: perAppender }, (_, i) => `${a}:${i}`));
    }
  });

  it('resolves an append only after its fsync completed', async () => {
    const dir = await newDir();
    let synced = 0;
    const { wal } = await openWal(dir, {
      writeThrough: false,
      sync: {
        syncFile: async (handle) => {
          await new Promise((resolve) => setTimeout(resolve, 5));
          await handle.datasync();
          synced++;
        },
      },
    });
    const before = synced;
    await wal.append([rec('x')]);
    expect(synced).toBe(before + 1);
    await wal.close();
  });
});

describe('group commit throughput (real fdatasync)', () => {
  async function appendsPerSecond(concurrency: number, durationMs: number): Promise<{ perSecond: number; perSync: number }> {
    const { wal } = await openWal(await newDir());
    const payload = new Uint8Array(128);
    const start = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() - start < durationMs) await wal.append([{ kind: 'record', type: 2, payload }]);
      }),
    );
    const elapsedMs = performance.now() - start;
    const { appends, batches } = wal.stats;
    await wal.close();
    return { perSecond: (appends / elapsedMs) * 1000, perSync: appends / batches };
  }

  it('grows with the number of concurrent appenders', async () => {
    const one = await appendsPerSecond(1, 300);
    const many = await appendsPerSecond(64, 300);
    console.log(`appends/s with fsync: 1 appender ${Math.round(one.perSecond)}, 64 appenders ${Math.round(many.perSecond)} (${many.perSync.toFixed(1)} appends per fsync)`);
    expect(one.perSync).toBe(1);
    expect(many.perSync).toBeGreaterThan(8);
    expect(many.perSecond).toBeGreaterThan(one.perSecond);
  });
});
