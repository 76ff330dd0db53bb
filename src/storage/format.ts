// The on-disk format: file names, segment headers, checksummed record frames and snapshot files.
// Pure functions over buffers (no I/O) so recovery rules can be tested byte by byte. Every
// multi-byte integer is little-endian. docs/storage.md describes the same layout for humans.
import { crc32 } from 'node:zlib';
import { failStorage } from './errors.js';

/**
 * 2: CRC-32 (Node's native zlib.crc32, over 10x faster than the table-driven CRC-32C of
 * version 1, which made checksumming a large snapshot stall the node for a fifth of a second).
 */
export const FORMAT_VERSION = 2;
/** Appended to version errors: there is no converter, so say which builds wrote what. */
export const VERSION_HINT = `(this build reads version ${FORMAT_VERSION} only; version 1 was written by Synod builds before 2026-11-22, and no converter exists)`;
const SEGMENT_MAGIC = Buffer.from('SYNODWAL', 'ascii');
const SNAPSHOT_MAGIC = Buffer.from('SYNODSNP', 'ascii');

/** magic(8) | u32 format version | u32 reserved (0) | u64 sequence number of the first record. */
export const SEGMENT_HEADER_BYTES = 24;
/** u32 payload length | u32 crc32(length bytes, type, payload) | u8 type. */
export const RECORD_HEADER_BYTES = 9;
/** magic(8) | u32 format version | u32 crc32(payload) | u64 payload length. */
export const SNAPSHOT_HEADER_BYTES = 24;
/** Whole files are read back with readFile, which stops at 2 GiB - 1 in Node 20. */
export const MAX_FILE_BYTES = 2 ** 31 - 1;

/** Type 0 is never written, so a zero-filled tail never parses as a record. */
export const RECORD_TYPE_INVALID = 0;
/** Written by the log itself: "a checkpoint (snapshot file) supersedes every earlier record". */
export const RECORD_TYPE_CHECKPOINT = 1;
/** Callers' record types are 2..255. */
export const MIN_USER_RECORD_TYPE = 2;
export const MAX_RECORD_TYPE = 255;

const SEQ_DIGITS = 20;
const SEGMENT_SUFFIX = '.wal';
const SNAPSHOT_SUFFIX = '.snap';
export const TEMP_SUFFIX = '.tmp';
export const LOCK_FILE = 'LOCK';

// ---- file names -----------------------------------------------------------------------------

/** Zero-padded so that lexical order of names is numeric order. */
function padSeq(seq: number): string {
  return String(seq).padStart(SEQ_DIGITS, '0');
}

export function segmentFileName(firstSeq: number): string {
  return padSeq(firstSeq) + SEGMENT_SUFFIX;
}

/** A snapshot is named by the sequence number of the checkpoint marker that refers to it. */
export function snapshotFileName(markerSeq: number): string {
  return padSeq(markerSeq) + SNAPSHOT_SUFFIX;
}

export type DataFile =
  | { readonly kind: 'segment'; readonly seq: number; readonly name: string }
  | { readonly kind: 'snapshot'; readonly seq: number; readonly name: string }
  | { readonly kind: 'temp'; readonly name: string };

/** Classifies a directory entry; null for files the log does not own (they are left alone). */
export function classifyFile(name: string): DataFile | null {
  if (name.endsWith(TEMP_SUFFIX)) return { kind: 'temp', name };
  const match = /^(\d{20})\.(wal|snap)$/.exec(name);
  if (match === null) return null;
  const seq = Number(match[1]);
  if (!Number.isSafeInteger(seq)) return null;
  return { kind: match[2] === 'wal' ? 'segment' : 'snapshot', seq, name };
}

// ---- segment header -------------------------------------------------------------------------

export function encodeSegmentHeader(firstSeq: number): Buffer {
  const header = Buffer.alloc(SEGMENT_HEADER_BYTES);
  SEGMENT_MAGIC.copy(header, 0);
  header.writeUInt32LE(FORMAT_VERSION, 8);
  header.writeBigUInt64LE(BigInt(firstSeq), 16);
  return header;
}

export type SegmentHeaderCheck = 'ok' | 'short' | 'bad-magic' | 'bad-version' | 'bad-seq';

export function checkSegmentHeader(bytes: Uint8Array, expectedFirstSeq: number): SegmentHeaderCheck {
  if (bytes.length < SEGMENT_HEADER_BYTES) return 'short';
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, SEGMENT_HEADER_BYTES);
  if (!buf.subarray(0, 8).equals(SEGMENT_MAGIC)) return 'bad-magic';
  if (buf.readUInt32LE(8) !== FORMAT_VERSION) return 'bad-version';
  if (buf.readBigUInt64LE(16) !== BigInt(expectedFirstSeq)) return 'bad-seq';
  return 'ok';
}

// ---- records --------------------------------------------------------------------------------

/** CRC-32 (IEEE, reflected polynomial 0xEDB88320) of each byte value, for the table-driven steps below. */
const CRC_TABLE = ((): Int32Array => {
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
})();

/**
 * zlib.crc32 of the 4 length bytes at `start`, computed here: a call into zlib and the view it
 * needs cost more than the checksum of 4 bytes, and opening a log pays it once per record.
 */
function lengthChecksum(frame: Uint8Array, start: number): number {
  let c = ~0;
  for (let i = start; i < start + 4; i++) c = (CRC_TABLE[(c ^ (frame[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return ~c >>> 0;
}

function recordChecksum(frame: Uint8Array, start: number, payloadBytes: number): number {
  return crc32(frame.subarray(start + 8, start + RECORD_HEADER_BYTES + payloadBytes), lengthChecksum(frame, start));
}

/** One framed record: header and payload in a single buffer, ready to append. */
export function encodeRecord(type: number, payload: Uint8Array): Buffer {
  const frame = Buffer.alloc(RECORD_HEADER_BYTES + payload.length);
  frame.writeUInt32LE(payload.length, 0);
  frame.writeUInt8(type, 8);
  frame.set(payload, RECORD_HEADER_BYTES);
  frame.writeUInt32LE(recordChecksum(frame, 0, payload.length), 4);
  return frame;
}

/** Where a record lies in its segment buffer; payloadOf makes the view of its payload. */
export interface ScannedRecord {
  readonly type: number;
  readonly offsetBytes: number;
  readonly payloadBytes: number;
}

/** A view into the segment buffer (copy it if the buffer is reused). */
export function payloadOf(buf: Buffer, record: ScannedRecord): Buffer {
  const start = record.offsetBytes + RECORD_HEADER_BYTES;
  return buf.subarray(start, start + record.payloadBytes);
}

export type RecordDamage = 'short header' | 'length past end of file' | 'invalid type' | 'checksum mismatch';

export interface ScanResult<R extends ScannedRecord = ScannedRecord> {
  readonly records: R[];
  /** Offset just past the last good record. */
  readonly endBytes: number;
  /** Set when the scan stopped before the end of the buffer. */
  readonly damage?: { readonly offsetBytes: number; readonly reason: RecordDamage };
}

/**
 * Reads the record starting at `offset`, or says why none can be read there. Reading has no
 * size limit of its own (only the write side has one), so lowering that option never turns a
 * good record into "damage".
 */
export function readRecordAt(buf: Buffer, offset: number): ScannedRecord | RecordDamage {
  const payloadBytes = checkRecordAt(buf, offset);
  return typeof payloadBytes === 'string' ? payloadBytes : { type: buf.readUInt8(offset + 8), offsetBytes: offset, payloadBytes };
}

/** readRecordAt without the record object: the payload length, or the damage. */
function checkRecordAt(buf: Buffer, offset: number): number | RecordDamage {
  if (buf.length - offset < RECORD_HEADER_BYTES) return 'short header';
  const payloadBytes = buf.readUInt32LE(offset);
  if (buf.readUInt8(offset + 8) === RECORD_TYPE_INVALID) return 'invalid type';
  if (offset + RECORD_HEADER_BYTES + payloadBytes > buf.length) return 'length past end of file';
  if (buf.readUInt32LE(offset + 4) !== recordChecksum(buf, offset, payloadBytes)) return 'checksum mismatch';
  return payloadBytes;
}

/**
 * Reads records from `start` until the end of the buffer or the first damaged frame. `make`
 * builds each record (the k-th of the scan) as the caller keeps it: one object per record, not
 * two, which the garbage collector of a 200,000-record open notices.
 */
export function scanRecords(buf: Buffer, start: number): ScanResult;
export function scanRecords<R extends ScannedRecord>(buf: Buffer, start: number, make: (type: number, offsetBytes: number, payloadBytes: number, k: number) => R): ScanResult<R>;
export function scanRecords(
  buf: Buffer,
  start: number,
  make: (type: number, offsetBytes: number, payloadBytes: number, k: number) => ScannedRecord = (type, offsetBytes, payloadBytes) => ({ type, offsetBytes, payloadBytes }),
): ScanResult {
  const records: ScannedRecord[] = [];
  let offset = start;
  while (offset < buf.length) {
    const payloadBytes = checkRecordAt(buf, offset);
    if (typeof payloadBytes === 'string') return { records, endBytes: offset, damage: { offsetBytes: offset, reason: payloadBytes } };
    records.push(make(buf.readUInt8(offset + 8), offset, payloadBytes, records.length));
    offset += RECORD_HEADER_BYTES + payloadBytes;
  }
  return { records, endBytes: offset };
}

/**
 * How many bytes of candidate records findIntactRecordAfter may checksum: this many times the
 * bytes it searches, plus INTACT_SEARCH_ALLOWANCE_BYTES. Every offset whose length field fits
 * in the file is a candidate, so bytes such as 0x01 repeated make each of millions of offsets a
 * record of 16 MiB: unbounded, searching one such 64 MiB segment would checksum some 790 PB.
 */
export const INTACT_SEARCH_CHECKSUM_FACTOR = 16;
export const INTACT_SEARCH_ALLOWANCE_BYTES = 16 * 1024 * 1024;

/**
 * Looks for any intact record starting after `from`. A damaged frame followed by an intact one
 * cannot be a torn append (appends only ever tear at the end), so it must be corruption.
 * Returns its offset, null when there is none, or 'undecided' when the search would checksum
 * more than `maxChecksumBytes` (by default bounded by the bytes searched, see above).
 */
export function findIntactRecordAfter(
  buf: Buffer,
  from: number,
  maxChecksumBytes = INTACT_SEARCH_CHECKSUM_FACTOR * Math.max(0, buf.length - from) + INTACT_SEARCH_ALLOWANCE_BYTES,
): number | null | 'undecided' {
  let checksummedBytes = 0;
  for (let offset = from + 1; offset + RECORD_HEADER_BYTES <= buf.length; offset++) {
    // Cheap filters first so scanning garbage or zeros costs little.
    const payloadBytes = buf.readUInt32LE(offset);
    if (offset + RECORD_HEADER_BYTES + payloadBytes > buf.length) continue;
    if (buf.readUInt8(offset + 8) === RECORD_TYPE_INVALID) continue;
    checksummedBytes += RECORD_HEADER_BYTES + payloadBytes;
    if (checksummedBytes > maxChecksumBytes) return 'undecided';
    if (typeof checkRecordAt(buf, offset) !== 'string') return offset;
  }
  return null;
}

// ---- checkpoint markers ---------------------------------------------------------------------

export interface CheckpointMarker {
  readonly snapshotBytes: number;
  readonly snapshotCrc: number;
  /**
   * The snapshot holds every record up to this sequence number; later records, even ones before
   * the marker, come after it. Absent: every record before the marker (a snapshot written in the
   * commit that writes its marker).
   */
  readonly coversThroughSeq?: number;
}

const MARKER_BYTES = 12;
const MARKER_WITH_COVER_BYTES = 20;

/** u64 snapshot payload length | u32 crc32 of the snapshot payload [| u64 last sequence number it covers]. */
export function encodeCheckpointMarker(marker: CheckpointMarker): Buffer {
  const buf = Buffer.alloc(marker.coversThroughSeq === undefined ? MARKER_BYTES : MARKER_WITH_COVER_BYTES);
  buf.writeBigUInt64LE(BigInt(marker.snapshotBytes), 0);
  buf.writeUInt32LE(marker.snapshotCrc, 8);
  if (marker.coversThroughSeq !== undefined) buf.writeBigUInt64LE(BigInt(marker.coversThroughSeq), 12);
  return buf;
}

export function decodeCheckpointMarker(payload: Uint8Array, where: string): CheckpointMarker {
  if (payload.length !== MARKER_BYTES && payload.length !== MARKER_WITH_COVER_BYTES) failStorage('WAL_UNSUPPORTED', `${where}: checkpoint marker has ${payload.length} bytes, expected ${MARKER_BYTES} or ${MARKER_WITH_COVER_BYTES}`);
  const buf = Buffer.from(payload.buffer, payload.byteOffset, payload.length);
  const marker = { snapshotBytes: Number(buf.readBigUInt64LE(0)), snapshotCrc: buf.readUInt32LE(8) };
  if (payload.length === MARKER_BYTES) return marker;
  const covers = buf.readBigUInt64LE(12);
  if (covers > BigInt(Number.MAX_SAFE_INTEGER)) failStorage('WAL_CORRUPT', `${where}: checkpoint marker covers through sequence ${covers}, past any log`);
  return { ...marker, coversThroughSeq: Number(covers) };
}

// ---- snapshot files -------------------------------------------------------------------------

/** The checksum of a snapshot payload, continued part by part from `previous` (0 to start). */
export function snapshotChecksum(part: Uint8Array, previous: number): number {
  return part.length === 0 ? previous : crc32(part, previous); // zlib.crc32 of some empty views forgets `previous`
}

/** The header of a snapshot file whose payload has `sizeBytes` bytes and checksum `crc`. */
export function encodeSnapshotHeader(sizeBytes: number, crc: number): Buffer {
  const header = Buffer.alloc(SNAPSHOT_HEADER_BYTES);
  SNAPSHOT_MAGIC.copy(header, 0);
  header.writeUInt32LE(FORMAT_VERSION, 8);
  header.writeUInt32LE(crc, 12);
  header.writeBigUInt64LE(BigInt(sizeBytes), 16);
  return header;
}

/** Checks a whole snapshot file against itself and against the marker that names it. */
export function decodeSnapshotFile(file: Buffer, marker: CheckpointMarker, path: string): Buffer {
  const bad = (why: string): never => failStorage('SNAPSHOT_CORRUPT', `snapshot ${path}: ${why}`);
  if (file.length < SNAPSHOT_HEADER_BYTES) return bad(`only ${file.length} bytes, shorter than its header`);
  if (!file.subarray(0, 8).equals(SNAPSHOT_MAGIC)) return bad('bad magic');
  if (file.readUInt32LE(8) !== FORMAT_VERSION) failStorage('WAL_UNSUPPORTED', `snapshot ${path}: format version ${file.readUInt32LE(8)} is not supported ${VERSION_HINT}`);
  const payload = file.subarray(SNAPSHOT_HEADER_BYTES);
  const declaredBytes = Number(file.readBigUInt64LE(16));
  if (declaredBytes !== payload.length || declaredBytes !== marker.snapshotBytes) {
    return bad(`length ${payload.length} (header says ${declaredBytes}, checkpoint marker says ${marker.snapshotBytes})`);
  }
  const crc = crc32(payload);
  if (crc !== file.readUInt32LE(12) || crc !== marker.snapshotCrc) return bad('checksum mismatch');
  return payload;
}
