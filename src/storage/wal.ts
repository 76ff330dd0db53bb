// The segmented write-ahead log with group commit: appends queue while an fsync is in flight and
// go out together in the next write+fsync, so throughput grows with concurrency while each append
// still resolves only once durable. Checkpoints share the queue, so call order is commit order; a
// prepared checkpoint's snapshot is written beside the queue first, so appends go on meanwhile.
import { constants } from 'node:fs';
import { mkdir, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { StorageError, describeCause, failStorage, io, type StorageWarning, type WarningSink } from './errors.js';
import { closeHandle, nodeSyncHooks, removeIfPresent, writeFully, writeFullySync, type SyncHooks } from './fsutil.js';
import {
  MAX_FILE_BYTES,
  MAX_RECORD_TYPE,
  MIN_USER_RECORD_TYPE,
  RECORD_TYPE_CHECKPOINT,
  SEGMENT_HEADER_BYTES,
  SNAPSHOT_HEADER_BYTES,
  TEMP_SUFFIX,
  encodeCheckpointMarker,
  encodeRecord,
  encodeSegmentHeader,
  encodeSnapshotHeader,
  snapshotChecksum,
  segmentFileName,
  snapshotFileName,
} from './format.js';
import { DirLock } from './lock.js';
import { recoverDir, segmentFloor, type RecoveredLog, type RecoveredRecord } from './recovery.js';

export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;
export const DEFAULT_MAX_RECORD_BYTES = 64 * 1024 * 1024;
/** Small enough for tests that force many rollovers, large enough to hold a header and a record. */
const MIN_SEGMENT_BYTES = 64;
/** A segment holding one largest record must stay readable with readFile. */
const MAX_RECORD_OPTION_BYTES = 1024 * 1024 * 1024;

/** What one append carries: records of the caller's types (2..255) and snapshot checkpoints. */
export type WalItem =
  | { readonly kind: 'record'; readonly type: number; readonly payload: Uint8Array }
  /**
   * A full checkpoint: once durable, every earlier record and snapshot is redundant. A large
   * snapshot may come in parts, written one after the other as the iterable yields them (lazily,
   * when it is a generator), so the whole never needs to sit in memory and the event loop runs
   * between parts. The values behind a lazy iterable must not change until the append resolves.
   */
  | { readonly kind: 'checkpoint'; readonly snapshot: Uint8Array | Iterable<Uint8Array> }
  /**
   * A checkpoint whose snapshot was written ahead (prepareSnapshot) while appends went on: it
   * covers the records up to `coversThroughSeq` (a sequence number an earlier append resolved
   * with), and every record after that stays, before its marker or after it.
   */
  | { readonly kind: 'prepared-checkpoint'; readonly snapshot: PreparedSnapshot; readonly coversThroughSeq: number };

/** A snapshot file written and synced under a temporary name, not yet in force (WriteAheadLog.prepareSnapshot). */
export interface PreparedSnapshot {
  readonly tempPath: string;
  readonly sizeBytes: number;
  readonly crc: number;
}

export interface WalOptions {
  /** A segment rolls over before it would grow past this (a single larger record gets its own). */
  readonly segmentBytes?: number;
  /** Largest record payload append() accepts (a guard on the write side only). */
  readonly maxRecordBytes?: number;
  /** Receives repairs made at open and cleanup failures; they are also returned by openWal. */
  readonly onWarning?: WarningSink;
  /** Replaces fdatasync / directory fsync, e.g. to count or fail them in tests. */
  readonly sync?: Partial<SyncHooks>;
  /**
   * Open segments with O_DSYNC, so that each group commit's single write is durable when it
   * returns: one trip to the I/O thread pool per commit instead of two (write, then fdatasync),
   * about 60 us less per commit here. Default true; false writes, then calls `sync.syncFile`.
   */
  readonly writeThrough?: boolean;
  /**
   * Asked before each group commit's write of records (not snapshots): true writes on the calling
   * thread, blocking it until the write is durable. That saves two thread hops per commit, which
   * cost a sleeping node more than the write does (about 0.2 ms on this machine's virtual CPUs).
   * Worth it for a node with nothing else to do while its log syncs, e.g. a Raft follower, or a
   * leader with a single client waiting; a busy leader, which serves clients meanwhile, should
   * answer false. Default: always false. Needs writeThrough.
   */
  readonly writeInline?: () => boolean;
}

export interface WalStats {
  /** append() calls accepted. */
  appends: number;
  /** Group commits: each is one write per touched segment plus one fsync of the tail. */
  batches: number;
  records: number;
  checkpoints: number;
  fileSyncs: number;
  dirSyncs: number;
  bytesWritten: number;
  segmentsCreated: number;
  /** Writes of records made on the calling thread (WalOptions.writeInline), not in the I/O thread pool. */
  inlineWrites: number;
}

export interface OpenedWal {
  readonly wal: WriteAheadLog;
  /** The payload of the latest durable checkpoint, if any. */
  readonly snapshot: Uint8Array | null;
  /** Records after that checkpoint, oldest first. */
  readonly records: readonly RecoveredRecord[];
  /** Everything recovery repaired (also passed to `onWarning`). */
  readonly warnings: readonly StorageWarning[];
}

type Prepared =
  | { readonly kind: 'record'; readonly frame: Buffer }
  | { readonly kind: 'checkpoint'; readonly parts: Iterable<Uint8Array> }
  | { readonly kind: 'prepared-checkpoint'; readonly snapshot: PreparedSnapshot; readonly coversThroughSeq: number };

interface Pending {
  readonly items: readonly Prepared[];
  /** With the sequence number of the last record the append wrote (or that a checkpoint in its commit covers). */
  resolve(lastSeq: number): void;
  reject(error: unknown): void;
}

interface Tail {
  readonly seq: number;
  readonly path: string;
  readonly handle: FileHandle;
  sizeBytes: number;
  /** Bytes written since the last fsync. */
  dirty: boolean;
}

interface Config {
  readonly dir: string;
  readonly segmentBytes: number;
  readonly maxRecordBytes: number;
  readonly warn: WarningSink;
  readonly sync: SyncHooks;
  readonly writeThrough: boolean;
  readonly writeInline: () => boolean;
}

/** Opens (creating if needed) and recovers a log directory; takes its lock until close(). */
export async function openWal(dir: string, options: WalOptions = {}): Promise<OpenedWal> {
  const warnings: StorageWarning[] = [];
  const stats = emptyStats();
  const config = resolveConfig(dir, options, stats, (w) => {
    warnings.push(w);
    options.onWarning?.(w);
  });
  await createDir(config);
  const lock = await DirLock.acquire(dir, config.warn);
  try {
    const recovered = await recoverDir(config);
    const wal = await WriteAheadLog.start(config, lock, recovered, stats);
    return { wal, snapshot: recovered.snapshot?.payload ?? null, records: recovered.records, warnings };
  } catch (error) {
    await lock.release();
    throw error;
  }
}

export class WriteAheadLog {
  private queue: Pending[] = [];
  private draining: Promise<void> | null = null;
  private failure: StorageError | null = null;
  private closed = false;
  private preparedCount = 0;

  private constructor(
    private readonly config: Config,
    private readonly lock: DirLock,
    private tail: Tail,
    private segmentSeqs: number[],
    private nextSeq: number,
    private snapshotSeq: number | null,
    /** The last record the latest checkpoint covers (0: none). */
    private coveredThroughSeq: number,
    private readonly counters: WalStats,
  ) {}

  /** @internal Used by openWal once recovery is done. */
  static async start(config: Config, lock: DirLock, recovered: RecoveredLog, stats: WalStats): Promise<WriteAheadLog> {
    const seqs = [...recovered.segmentSeqs];
    const last = seqs[seqs.length - 1];
    const tail = last === undefined ? await createSegment(config, recovered.nextSeq, stats) : await openTail(config, last, recovered.tailBytes);
    if (last === undefined) seqs.push(tail.seq);
    return new WriteAheadLog(config, lock, tail, seqs, recovered.nextSeq, recovered.snapshot?.seq ?? null, recovered.snapshot?.coversThroughSeq ?? 0, stats);
  }

  /**
   * Queues `items` and resolves once they (and everything appended before them) are written and
   * fsynced. Rejects with STORAGE_IO if the write or sync fails; the log is then failed for good
   * (the page cache can no longer be trusted after a failed fsync) and must be reopened.
   */
  append(items: readonly WalItem[]): Promise<void> {
    return this.appendTracked(items).then(() => undefined);
  }

  /**
   * As append, resolving with the sequence number of the last record it wrote (or, for records a
   * checkpoint later in the same commit superseded, the last record that checkpoint covers): what
   * a prepared checkpoint built from state up to this append covers.
   */
  appendTracked(items: readonly WalItem[]): Promise<number> {
    if (this.closed) return Promise.reject(new StorageError('STORAGE_CLOSED', `log ${this.config.dir} is closed`));
    if (this.failure !== null) return Promise.reject(this.failedError());
    let prepared: Prepared[];
    try {
      prepared = items.map((item) => this.prepare(item));
    } catch (error) {
      return Promise.reject(error);
    }
    this.counters.appends++;
    return new Promise<number>((resolve, reject) => {
      this.queue.push({ items: prepared, resolve, reject });
      this.draining ??= this.drain();
    });
  }

  /**
   * Writes and syncs a snapshot under a temporary name, outside the commit queue: appends go on
   * meanwhile. Append it as a 'prepared-checkpoint' to put it in force; one never appended is
   * removed at the next open. The values behind a lazy `parts` must not change until this resolves.
   */
  async prepareSnapshot(parts: Iterable<Uint8Array>): Promise<PreparedSnapshot> {
    if (this.closed) throw new StorageError('STORAGE_CLOSED', `log ${this.config.dir} is closed`);
    if (this.failure !== null) throw this.failedError();
    const tempPath = join(this.config.dir, `prepared-${++this.preparedCount}${TEMP_SUFFIX}`);
    const { sizeBytes, crc } = await this.writeSnapshotFile(tempPath, parts);
    return { tempPath, sizeBytes, crc };
  }

  get stats(): Readonly<WalStats> {
    return { ...this.counters };
  }

  /** Waits for queued appends, closes the tail and releases the directory lock. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.draining !== null) await this.draining;
    try {
      await closeHandle(this.tail.handle, this.tail.path);
    } finally {
      await this.lock.release();
    }
  }

  // ---- group commit -------------------------------------------------------------------------

  private prepare(item: WalItem): Prepared {
    if (item.kind === 'prepared-checkpoint') {
      const covers = item.coversThroughSeq;
      // it can cover only records already written, and no less than the checkpoint in force
      if (!Number.isSafeInteger(covers) || covers < this.coveredThroughSeq || covers >= this.nextSeq) {
        failStorage('STORAGE_INVALID_OP', `a prepared checkpoint covers through a written record: ${this.coveredThroughSeq}..${this.nextSeq - 1}, got ${covers}`);
      }
      return { kind: 'prepared-checkpoint', snapshot: item.snapshot, coversThroughSeq: covers };
    }
    if (item.kind === 'checkpoint') {
      if (item.snapshot instanceof Uint8Array) checkSnapshotSize(item.snapshot.length);
      return { kind: 'checkpoint', parts: item.snapshot instanceof Uint8Array ? [item.snapshot] : item.snapshot };
    }
    if (!Number.isInteger(item.type) || item.type < MIN_USER_RECORD_TYPE || item.type > MAX_RECORD_TYPE) {
      failStorage('STORAGE_INVALID_OP', `record type must be an integer in ${MIN_USER_RECORD_TYPE}..${MAX_RECORD_TYPE}, got ${item.type}`);
    }
    if (item.payload.length > this.config.maxRecordBytes) {
      failStorage('STORAGE_INVALID_OP', `record of ${item.payload.length} bytes exceeds maxRecordBytes ${this.config.maxRecordBytes}`);
    }
    return { kind: 'record', frame: encodeRecord(item.type, item.payload) };
  }

  /** Commits batches until the queue is empty; appends arriving meanwhile join the next batch. */
  private async drain(): Promise<void> {
    // Yield once so appends issued in the same tick as the first one share its batch.
    await Promise.resolve();
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      try {
        const lastSeqs = await this.commit(batch);
        this.counters.batches++;
        batch.forEach((p, i) => p.resolve(lastSeqs[i] as number));
      } catch (error) {
        this.fail(error, batch);
      }
    }
    this.draining = null;
  }

  /** Writes one batch; returns, per append, the sequence number of its last record. */
  private async commit(batch: readonly Pending[]): Promise<number[]> {
    const items = batch.flatMap((p, owner) => p.items.map((item) => ({ item, owner })));
    // A full checkpoint supersedes everything before it, so earlier items of the batch need no
    // write: they count as covered by it (its marker will be the next sequence number).
    const cut = items.findLastIndex(({ item }) => item.kind === 'checkpoint');
    const lastSeqs = batch.map(() => this.nextSeq - 1);
    let frames: Buffer[] = [];
    let finished: { markerSeq: number; firstNeededSeq: number } | null = null;
    for (const { item, owner } of cut < 0 ? items : items.slice(cut)) {
      if (item.kind === 'checkpoint') {
        const written = await this.beginCheckpoint(item.parts);
        finished = { markerSeq: written.markerSeq, firstNeededSeq: written.markerSeq };
        frames.push(encodeRecord(RECORD_TYPE_CHECKPOINT, encodeCheckpointMarker({ snapshotBytes: written.sizeBytes, snapshotCrc: written.crc })));
      } else if (item.kind === 'prepared-checkpoint') {
        if (item.coversThroughSeq < (finished === null ? this.coveredThroughSeq : finished.firstNeededSeq - 1)) {
          // a checkpoint committed after it was prepared covers more, and dropped records it lacks: it is useless
          await io(`remove ${item.snapshot.tempPath}`, () => removeIfPresent(item.snapshot.tempPath, unlink));
          continue;
        }
        // the records before it are written first: the marker starts a segment of its own
        await this.writeFrames(frames);
        frames = [];
        const markerSeq = await this.installPrepared(item.snapshot);
        finished = { markerSeq, firstNeededSeq: item.coversThroughSeq + 1 };
        frames.push(encodeRecord(RECORD_TYPE_CHECKPOINT, encodeCheckpointMarker({ snapshotBytes: item.snapshot.sizeBytes, snapshotCrc: item.snapshot.crc, coversThroughSeq: item.coversThroughSeq })));
      } else {
        frames.push(item.frame);
      }
      lastSeqs[owner] = this.nextSeq + frames.length - 1;
    }
    await this.writeFrames(frames);
    await this.syncTail();
    if (finished !== null) await this.finishCheckpoint(finished.markerSeq, finished.firstNeededSeq);
    return lastSeqs;
  }

  private fail(error: unknown, batch: readonly Pending[]): void {
    const cause = error instanceof StorageError ? error : new StorageError('STORAGE_IO', describeCause(error), { cause: error });
    this.failure = cause;
    for (const p of batch) p.reject(cause);
    const waiting = this.queue;
    this.queue = [];
    for (const p of waiting) p.reject(this.failedError());
  }

  private failedError(): StorageError {
    return new StorageError('STORAGE_FAILED', `log ${this.config.dir} failed earlier (${this.failure?.message ?? 'unknown'}); reopen it`, { cause: this.failure });
  }

  // ---- segments -----------------------------------------------------------------------------

  /** Appends frames to the tail, rolling over to a new segment when one would overflow. */
  private async writeFrames(frames: readonly Buffer[]): Promise<void> {
    let run: Buffer[] = [];
    let runBytes = 0;
    for (const frame of frames) {
      const usedBytes = this.tail.sizeBytes + runBytes;
      if (usedBytes + frame.length > this.config.segmentBytes && usedBytes > SEGMENT_HEADER_BYTES) {
        await this.writeRun(run, runBytes);
        run = [];
        runBytes = 0;
        await this.rollover();
      }
      run.push(frame);
      runBytes += frame.length;
      this.nextSeq++;
      this.counters.records++;
    }
    await this.writeRun(run, runBytes);
  }

  private async writeRun(run: readonly Buffer[], runBytes: number): Promise<void> {
    if (runBytes === 0) return;
    const tail = this.tail;
    const bytes = Buffer.concat(run, runBytes);
    if (this.config.writeInline()) {
      await io(`write ${tail.path}`, async () => writeFullySync(tail.handle, bytes, tail.sizeBytes));
      this.counters.inlineWrites++;
    } else await io(`write ${tail.path}`, () => writeFully(tail.handle, bytes, tail.sizeBytes));
    tail.sizeBytes += runBytes;
    tail.dirty = !this.config.writeThrough; // with O_DSYNC the write itself was durable
    this.counters.bytesWritten += runBytes;
  }

  private async syncTail(): Promise<void> {
    const tail = this.tail;
    if (!tail.dirty) return;
    await io(`sync ${tail.path}`, () => this.config.sync.syncFile(tail.handle, tail.path));
    tail.dirty = false;
  }

  /**
   * Starts a new segment at `nextSeq`. The old one is synced first, so only the last segment
   * can ever hold a torn write; recovery relies on that.
   */
  private async rollover(): Promise<void> {
    await this.syncTail();
    const old = this.tail;
    this.tail = await createSegment(this.config, this.nextSeq, this.counters);
    this.segmentSeqs.push(this.tail.seq);
    await closeHandle(old.handle, old.path);
  }

  // ---- checkpoints --------------------------------------------------------------------------

  /**
   * Makes the snapshot file durable under its final name, then moves to a fresh segment so the
   * marker is that segment's first record and every older segment can be deleted whole.
   * Returns the marker's sequence number.
   */
  private async beginCheckpoint(parts: Iterable<Uint8Array>): Promise<{ markerSeq: number; sizeBytes: number; crc: number }> {
    if (this.tail.sizeBytes > SEGMENT_HEADER_BYTES) await this.rollover();
    const markerSeq = this.nextSeq;
    const path = join(this.config.dir, snapshotFileName(markerSeq));
    const tempPath = path + TEMP_SUFFIX;
    const { sizeBytes, crc } = await this.writeSnapshotFile(tempPath, parts);
    await this.putInPlace(tempPath, path);
    return { markerSeq, sizeBytes, crc };
  }

  /** A prepared snapshot takes the name of the marker about to be written, at the start of a fresh segment. */
  private async installPrepared(snapshot: PreparedSnapshot): Promise<number> {
    // rollover syncs the records before it first; an empty tail has none
    if (this.tail.sizeBytes > SEGMENT_HEADER_BYTES) await this.rollover();
    const markerSeq = this.nextSeq;
    await this.putInPlace(snapshot.tempPath, join(this.config.dir, snapshotFileName(markerSeq)));
    return markerSeq;
  }

  /** Writes and syncs a snapshot file: the payload first, part by part as it is produced; the header (length, checksum) last. */
  private async writeSnapshotFile(tempPath: string, parts: Iterable<Uint8Array>): Promise<{ sizeBytes: number; crc: number }> {
    const handle = await io(`create ${tempPath}`, () => open(tempPath, 'w'));
    let sizeBytes = 0;
    let crc = 0;
    try {
      for (const part of parts) {
        checkSnapshotSize(sizeBytes + part.length);
        crc = snapshotChecksum(part, crc);
        await io(`write ${tempPath}`, () => writeFully(handle, part, SNAPSHOT_HEADER_BYTES + sizeBytes));
        sizeBytes += part.length;
      }
      const header = encodeSnapshotHeader(sizeBytes, crc);
      await io(`write ${tempPath}`, () => writeFully(handle, header, 0));
      await io(`sync ${tempPath}`, () => this.config.sync.syncFile(handle, tempPath));
    } finally {
      await closeHandle(handle, tempPath);
    }
    this.counters.bytesWritten += SNAPSHOT_HEADER_BYTES + sizeBytes;
    return { sizeBytes, crc };
  }

  /** Renames a synced snapshot to its final name and makes the name durable. */
  private async putInPlace(tempPath: string, path: string): Promise<void> {
    await io(`rename ${tempPath}`, () => rename(tempPath, path));
    await io(`sync directory ${this.config.dir}`, () => this.config.sync.syncDir(this.config.dir));
    this.counters.checkpoints++;
  }

  /** Once the marker is durable, segments holding only covered records and the previous snapshot are garbage. */
  private async finishCheckpoint(markerSeq: number, firstNeededSeq: number): Promise<void> {
    const floor = segmentFloor(this.segmentSeqs, firstNeededSeq);
    const doomed = this.segmentSeqs.filter((seq) => seq < floor).map(segmentFileName);
    if (this.snapshotSeq !== null && this.snapshotSeq !== markerSeq) doomed.push(snapshotFileName(this.snapshotSeq));
    this.segmentSeqs = this.segmentSeqs.filter((seq) => seq >= floor);
    this.snapshotSeq = markerSeq;
    this.coveredThroughSeq = firstNeededSeq - 1;
    try {
      for (const name of doomed) await removeIfPresent(join(this.config.dir, name), unlink);
      await this.config.sync.syncDir(this.config.dir);
    } catch (error) {
      // The checkpoint itself is durable; leftovers are found and removed at the next open.
      this.config.warn({ code: 'CLEANUP_FAILED', message: `removing superseded files in ${this.config.dir} failed: ${describeCause(error)}` });
    }
  }
}

// ---- helpers ------------------------------------------------------------------------------

function checkSnapshotSize(sizeBytes: number): void {
  if (sizeBytes > MAX_FILE_BYTES - SNAPSHOT_HEADER_BYTES) {
    failStorage('STORAGE_INVALID_OP', `snapshot of ${sizeBytes} bytes or more is too large; recovery reads at most ${MAX_FILE_BYTES - SNAPSHOT_HEADER_BYTES}`);
  }
}

function emptyStats(): WalStats {
  return { appends: 0, batches: 0, records: 0, checkpoints: 0, fileSyncs: 0, dirSyncs: 0, bytesWritten: 0, segmentsCreated: 0, inlineWrites: 0 };
}

function resolveConfig(dir: string, options: WalOptions, stats: WalStats, warn: WarningSink): Config {
  const segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
  const maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  if (!Number.isSafeInteger(segmentBytes) || segmentBytes < MIN_SEGMENT_BYTES || segmentBytes > MAX_RECORD_OPTION_BYTES) {
    failStorage('STORAGE_INVALID_OPTION', `segmentBytes must be an integer in ${MIN_SEGMENT_BYTES}..${MAX_RECORD_OPTION_BYTES}, got ${segmentBytes}`);
  }
  if (!Number.isSafeInteger(maxRecordBytes) || maxRecordBytes < 1 || maxRecordBytes > MAX_RECORD_OPTION_BYTES) {
    failStorage('STORAGE_INVALID_OPTION', `maxRecordBytes must be an integer in 1..${MAX_RECORD_OPTION_BYTES}, got ${maxRecordBytes}`);
  }
  const base = { ...nodeSyncHooks, ...options.sync };
  // Counting wraps whatever hooks are in use, so stats reflect real sync calls.
  const sync: SyncHooks = {
    syncFile: (handle, path) => {
      stats.fileSyncs++;
      return base.syncFile(handle, path);
    },
    syncDir: (dirPath) => {
      stats.dirSyncs++;
      return base.syncDir(dirPath);
    },
  };
  const writeThrough = options.writeThrough ?? true;
  const writeInline = options.writeInline;
  return { dir, segmentBytes, maxRecordBytes, warn, sync, writeThrough, writeInline: writeThrough && writeInline !== undefined ? writeInline : () => false };
}

/** Creates the data directory; a new directory's own entry is made durable in its parent. */
async function createDir(config: Config): Promise<void> {
  const created = await io(`create directory ${config.dir}`, () => mkdir(config.dir, { recursive: true }));
  if (created !== undefined) await io(`sync directory ${dirname(config.dir)}`, () => config.sync.syncDir(dirname(config.dir)));
}

/** A new segment: header written and synced, then its directory entry synced. */
async function createSegment(config: Config, firstSeq: number, stats: WalStats): Promise<Tail> {
  const path = join(config.dir, segmentFileName(firstSeq));
  const handle = await io(`create ${path}`, () => open(path, config.writeThrough ? constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_DSYNC : 'wx'));
  try {
    await io(`write ${path}`, () => writeFully(handle, encodeSegmentHeader(firstSeq), 0));
    await io(`sync ${path}`, () => config.sync.syncFile(handle, path));
    await io(`sync directory ${config.dir}`, () => config.sync.syncDir(config.dir));
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw error;
  }
  stats.segmentsCreated++;
  stats.bytesWritten += SEGMENT_HEADER_BYTES;
  return { seq: firstSeq, path, handle, sizeBytes: SEGMENT_HEADER_BYTES, dirty: false };
}

async function openTail(config: Config, seq: number, sizeBytes: number): Promise<Tail> {
  const path = join(config.dir, segmentFileName(seq));
  const handle = await io(`open ${path}`, () => open(path, config.writeThrough ? constants.O_RDWR | constants.O_DSYNC : 'r+'));
  return { seq, path, handle, sizeBytes, dirty: false };
}
