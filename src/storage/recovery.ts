// Recovery at open: reads every segment in sequence order, verifies headers, checksums and
// sequence continuity, repairs a torn tail of the last segment, loads the snapshot named by the
// latest checkpoint marker, and finishes any cleanup a crash interrupted.
import { open, readFile, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { failStorage, io, type WarningSink } from './errors.js';
import { closeHandle, removeIfPresent, writeFully, type SyncHooks } from './fsutil.js';
import {
  MIN_USER_RECORD_TYPE,
  RECORD_TYPE_CHECKPOINT,
  SEGMENT_HEADER_BYTES,
  VERSION_HINT,
  checkSegmentHeader,
  classifyFile,
  decodeCheckpointMarker,
  decodeSnapshotFile,
  encodeSegmentHeader,
  findIntactRecordAfter,
  payloadOf,
  scanRecords,
  segmentFileName,
  snapshotFileName,
  type CheckpointMarker,
  type DataFile,
} from './format.js';

/** A record recovered from the log, with where it was found (for error messages upstream). */
export class RecoveredRecord {
  constructor(
    readonly type: number,
    readonly seq: number,
    readonly file: string,
    readonly offsetBytes: number,
    private readonly segment: Buffer,
    readonly payloadBytes: number,
  ) {}

  /**
   * A view into the segment as read at open, made on each read: a log holds hundreds of
   * thousands of records, and holding a view per record until all were read made the garbage
   * collector copy each one over and over.
   */
  get payload(): Buffer {
    return payloadOf(this.segment, this);
  }
}

export interface RecoveredLog {
  /** Payload of the snapshot named by the latest checkpoint marker, that marker's seq, and the last record it covers. */
  readonly snapshot: { readonly seq: number; readonly payload: Buffer; readonly coversThroughSeq: number } | null;
  /** Records the latest checkpoint does not cover (all records if there is none), oldest first. */
  readonly records: RecoveredRecord[];
  /** Remaining segments, oldest first; the last one is where appends continue. */
  readonly segmentSeqs: number[];
  /** Size of the last segment after any repair. */
  readonly tailBytes: number;
  readonly nextSeq: number;
}

interface SegmentScan {
  readonly seq: number;
  readonly path: string;
  readonly records: RecoveredRecord[];
  readonly validBytes: number;
  /** The file must be cut to `validBytes` (torn tail) or re-headed (torn header). */
  readonly repair: 'none' | 'truncate' | 'rewrite-header';
}

interface RecoveryContext {
  readonly dir: string;
  readonly warn: WarningSink;
  readonly sync: SyncHooks;
}

export async function recoverDir(ctx: RecoveryContext): Promise<RecoveredLog> {
  const files = await listDataFiles(ctx);
  const segments = numbered(files, 'segment');
  const snapshots = numbered(files, 'snapshot');
  let removedAny = await removeTempFiles(ctx, files);

  const state: RecoveryState = { records: [], checkpoint: null, nextSeq: 1 };
  let tail: SegmentScan | null = null;
  for (const [i, segment] of segments.entries()) {
    const scan = await scanSegment(ctx, segment.seq, i === segments.length - 1);
    checkContinuity(scan, i === 0 ? null : state.nextSeq);
    collectRecords(scan, state);
    tail = scan;
  }
  checkLogStart(ctx, segments[0], state.checkpoint);
  const snapshot = state.checkpoint === null ? null : { ...(await loadSnapshot(ctx, state.checkpoint.seq, state.checkpoint.marker)), coversThroughSeq: state.checkpoint.coversThroughSeq };
  if (tail !== null) await repairTail(ctx, tail);
  // the first record still needed: the first the snapshot does not cover
  const keepFromSeq = state.checkpoint === null ? 0 : state.checkpoint.coversThroughSeq + 1;
  removedAny = (await removeSuperseded(ctx, segments, snapshots, keepFromSeq, state.checkpoint?.seq ?? 0)) || removedAny;
  if (removedAny) await io(`sync directory ${ctx.dir}`, () => ctx.sync.syncDir(ctx.dir));
  const floor = segmentFloor(segments.map((s) => s.seq), keepFromSeq);
  const segmentSeqs = segments.filter((s) => s.seq >= floor).map((s) => s.seq);
  return { snapshot, records: state.records, segmentSeqs, tailBytes: tail?.validBytes ?? 0, nextSeq: state.nextSeq };
}

interface NumberedFile {
  readonly seq: number;
  readonly name: string;
}

/** Segments or snapshots in sequence order. */
function numbered(files: readonly DataFile[], kind: 'segment' | 'snapshot'): NumberedFile[] {
  const out: NumberedFile[] = [];
  for (const f of files) if (f.kind === kind) out.push({ seq: f.seq, name: f.name });
  return out.sort((a, b) => a.seq - b.seq);
}

async function listDataFiles(ctx: RecoveryContext): Promise<DataFile[]> {
  const names = await io(`list ${ctx.dir}`, () => readdir(ctx.dir));
  return names.map(classifyFile).filter((f): f is DataFile => f !== null);
}

/** Temp files are snapshots (or segments) that never got renamed into place: never acknowledged. */
async function removeTempFiles(ctx: RecoveryContext, files: readonly DataFile[]): Promise<boolean> {
  const temps = files.filter((f) => f.kind === 'temp');
  for (const temp of temps) {
    const path = join(ctx.dir, temp.name);
    await io(`remove ${path}`, () => removeIfPresent(path, unlink));
    ctx.warn({ code: 'TEMP_FILE_REMOVED', message: `removed leftover temporary file ${path} (an interrupted snapshot write)`, file: path });
  }
  return temps.length > 0;
}

/** Why a damaged tail whose bytes were too costly to search is refused, not cut off. */
const UNDECIDED =
  'the bytes after it hold so many would-be records that searching them for an intact one was given up, ' +
  'so this cannot be told apart from damage before acknowledged records and is not cut off as a torn append';

/** Scans one segment. Damage in a segment that is not the last is corruption, always. */
async function scanSegment(ctx: RecoveryContext, seq: number, isLast: boolean): Promise<SegmentScan> {
  const path = join(ctx.dir, segmentFileName(seq));
  const buf = await io(`read ${path}`, () => readFile(path));
  const header = checkSegmentHeader(buf, seq);
  if (header !== 'ok') return scanBadHeader(ctx, { seq, path, buf, isLast, header });
  const scan = scanRecords(buf, SEGMENT_HEADER_BYTES, (type, offsetBytes, payloadBytes, k) => new RecoveredRecord(type, seq + k, path, offsetBytes, buf, payloadBytes));
  if (scan.damage === undefined) return { seq, path, records: scan.records, validBytes: scan.endBytes, repair: 'none' };
  const { offsetBytes, reason } = scan.damage;
  const where = `${path} at byte offset ${offsetBytes}`;
  if (!isLast) failStorage('WAL_CORRUPT', `${where}: ${reason} in a segment that is not the last one`);
  const intact = findIntactRecordAfter(buf, offsetBytes);
  if (intact === 'undecided') failStorage('WAL_CORRUPT', `${where}: ${reason}; ${UNDECIDED}`);
  if (intact !== null) failStorage('WAL_CORRUPT', `${where}: ${reason}, but an intact record follows at byte offset ${intact}, so this is not a torn append`);
  // What we know: nothing intact follows, which is how a crash in the middle of a write leaves a
  // record. Such an append never resolved here (appends resolve only once durable). That it was
  // never acknowledged at all is more than we know: a disk that loses or reorders writes it
  // reported synced, or damages the final record at rest, looks the same.
  ctx.warn({
    code: 'WAL_TAIL_TRUNCATED',
    message:
      `${where}: ${reason} with no intact record after it, as a crash in the middle of a write leaves a torn record; ` +
      `truncated the last ${buf.length - offsetBytes} bytes there. That append never resolved on this node (appends resolve only ` +
      'once durable), unless the disk lost or reordered writes it had reported synced, or damaged the final record at rest',
    file: path,
    offsetBytes,
  });
  return { seq, path, records: scan.records, validBytes: offsetBytes, repair: 'truncate' };
}

/**
 * A bad header on the last segment with nothing intact after it is a segment whose creation was
 * torn by a crash (it held no acknowledged record yet); anywhere else it is corruption.
 */
function scanBadHeader(
  ctx: RecoveryContext,
  s: { seq: number; path: string; buf: Buffer; isLast: boolean; header: string },
): SegmentScan {
  if (s.header === 'bad-version') failStorage('WAL_UNSUPPORTED', `${s.path}: segment format version ${s.buf.readUInt32LE(8)} is not supported ${VERSION_HINT}`);
  const intact = findIntactRecordAfter(s.buf, SEGMENT_HEADER_BYTES - 1);
  if (!s.isLast || intact !== null) {
    failStorage('WAL_CORRUPT', `${s.path} at byte offset 0: segment header is ${s.header}${intact === 'undecided' ? `; ${UNDECIDED}` : ''}`);
  }
  ctx.warn({ code: 'WAL_TAIL_TRUNCATED', message: `${s.path} at byte offset 0: torn segment header (${s.header}); rewriting it`, file: s.path, offsetBytes: 0 });
  return { seq: s.seq, path: s.path, records: [], validBytes: SEGMENT_HEADER_BYTES, repair: 'rewrite-header' };
}

/** A log that does not start at sequence 1 must have lost its head to a checkpoint, not to a deletion. */
function checkLogStart(ctx: RecoveryContext, first: NumberedFile | undefined, checkpoint: RecoveryState['checkpoint']): void {
  if (first === undefined || first.seq === 1 || (checkpoint !== null && first.seq <= checkpoint.coversThroughSeq + 1)) return;
  failStorage(
    'WAL_CORRUPT',
    `${join(ctx.dir, first.name)} at byte offset 0: the log starts at sequence ${first.seq} but no checkpoint covers the records before it (segments are missing)`,
  );
}

/** Segments must continue exactly where the previous one ended; anything else means lost files. */
function checkContinuity(scan: SegmentScan, expectedSeq: number | null): void {
  if (expectedSeq === null || scan.seq === expectedSeq) return;
  const what = scan.seq > expectedSeq ? `records ${expectedSeq}..${scan.seq - 1} are missing` : `it overlaps the previous segment, which ends before ${expectedSeq}`;
  failStorage('WAL_CORRUPT', `${scan.path} at byte offset 0: segment starts at sequence ${scan.seq}, but ${what}`);
}

interface RecoveryState {
  records: RecoveredRecord[];
  checkpoint: { readonly seq: number; readonly marker: CheckpointMarker; readonly coversThroughSeq: number } | null;
  nextSeq: number;
}

function collectRecords(scan: SegmentScan, state: RecoveryState): void {
  for (const record of scan.records) {
    // where the record lies is spelled out only for an error: a string (or a closure) per
    // record showed in the time to open a long log
    if (record.type === RECORD_TYPE_CHECKPOINT) {
      const where = `${scan.path} at byte offset ${record.offsetBytes}`;
      const marker = decodeCheckpointMarker(record.payload, where);
      const covers = marker.coversThroughSeq ?? record.seq - 1;
      // a snapshot covers records before its marker only, and at least what the checkpoint before it covered
      if (covers >= record.seq || (state.checkpoint !== null && covers < state.checkpoint.coversThroughSeq)) {
        failStorage('WAL_CORRUPT', `${where}: checkpoint marker at sequence ${record.seq} covers through sequence ${covers}, outside ${state.checkpoint?.coversThroughSeq ?? 0}..${record.seq - 1}`);
      }
      state.checkpoint = { seq: record.seq, marker, coversThroughSeq: covers };
      // records after what the snapshot covers stay, even those written before its marker
      state.records = state.records.filter((r) => r.seq > covers);
    } else if (record.type >= MIN_USER_RECORD_TYPE) {
      state.records.push(record);
    } else {
      failStorage('WAL_UNSUPPORTED', `${scan.path} at byte offset ${record.offsetBytes}: reserved record type ${record.type}`);
    }
  }
  state.nextSeq = scan.seq + scan.records.length;
}

async function loadSnapshot(ctx: RecoveryContext, seq: number, marker: CheckpointMarker): Promise<{ seq: number; payload: Buffer }> {
  const path = join(ctx.dir, snapshotFileName(seq));
  let file: Buffer;
  try {
    file = await readFile(path);
  } catch (cause) {
    return failStorage('SNAPSHOT_CORRUPT', `snapshot ${path}, named by the checkpoint marker at sequence ${seq}, cannot be read: ${String(cause)}`, cause);
  }
  return { seq, payload: decodeSnapshotFile(file, marker, path) };
}

async function repairTail(ctx: RecoveryContext, tail: SegmentScan): Promise<void> {
  if (tail.repair === 'none') return;
  const handle = await io(`open ${tail.path}`, () => open(tail.path, 'r+'));
  try {
    if (tail.repair === 'rewrite-header') {
      await io(`truncate ${tail.path}`, () => handle.truncate(0));
      await io(`write ${tail.path}`, () => writeFully(handle, encodeSegmentHeader(tail.seq), 0));
    } else {
      await io(`truncate ${tail.path}`, () => handle.truncate(tail.validBytes));
    }
    await io(`sync ${tail.path}`, () => ctx.sync.syncFile(handle, tail.path));
  } finally {
    await closeHandle(handle, tail.path);
  }
}

/**
 * The first segment still needed, by the sequence numbers segments start at (in order): the one
 * holding record `firstNeededSeq`, the latest checkpoint's first uncovered record. The log uses
 * it too, to delete what a checkpoint made redundant.
 */
export function segmentFloor(segmentStarts: readonly number[], firstNeededSeq: number): number {
  let floor = segmentStarts[0] ?? 0;
  for (const start of segmentStarts) if (start <= firstNeededSeq) floor = start;
  return floor;
}

/**
 * Deletes what the latest checkpoint made redundant but a crash left behind: older segments and
 * snapshots, and snapshots newer than the checkpoint (written, but their marker never became
 * durable). Oldest segments go first so an interrupted cleanup still leaves a contiguous log.
 */
async function removeSuperseded(
  ctx: RecoveryContext,
  segments: readonly NumberedFile[],
  snapshots: readonly NumberedFile[],
  firstNeededSeq: number,
  checkpointSeq: number,
): Promise<boolean> {
  const floor = segmentFloor(segments.map((s) => s.seq), firstNeededSeq);
  let removed = false;
  for (const s of segments) {
    if (s.seq >= floor) continue;
    removed = true;
    await removeNoting(ctx, s.name, 'SUPERSEDED_FILE_REMOVED', 'segment superseded by a checkpoint');
  }
  for (const s of snapshots) {
    if (s.seq === checkpointSeq) continue;
    removed = true;
    if (s.seq < checkpointSeq) await removeNoting(ctx, s.name, 'SUPERSEDED_FILE_REMOVED', 'snapshot superseded by a later checkpoint');
    else await removeNoting(ctx, s.name, 'ORPHAN_SNAPSHOT_REMOVED', 'snapshot whose checkpoint marker never became durable');
  }
  return removed;
}

async function removeNoting(ctx: RecoveryContext, name: string, code: 'SUPERSEDED_FILE_REMOVED' | 'ORPHAN_SNAPSHOT_REMOVED', why: string): Promise<void> {
  const path = join(ctx.dir, name);
  await io(`remove ${path}`, () => removeIfPresent(path, unlink));
  ctx.warn({ code, message: `removed ${path}: ${why}`, file: path });
}
