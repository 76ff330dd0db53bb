// The Raft host adapter: maps RaftPersistOp to log records and snapshot checkpoints, recovers
// the compact durable ops for spec.create(), and group-commits persist() calls. A host awaits
// persist() before sending anything that depends on those ops.
import { codecRegistry, jsonCodec, type PayloadCodec } from './codec.js';
import { describeCause, failStorage, isStorageError, type StorageWarning } from './errors.js';
import { RaftStateBuilder, lastIndexOf, raftStateToOps, type FoldWork, type RaftDurableState } from '../raft/durable-state.js';
import { checkRaftOp } from './raft-op-check.js';
import type { HardState, JsonValue, LogEntry, RaftPersistOp } from './raft-types.js';
import type { RecoveredRecord } from './recovery.js';
import { openWal, type WalItem, type WalOptions, type WalStats, type WriteAheadLog } from './wal.js';

/** Record tags (low nibble of the record type; the codec id is the high nibble). */
const TAG_HARD_STATE = 2;
const TAG_ENTRIES = 3;

export interface RaftStorageOptions extends WalOptions {
  /** Codec for new records and snapshots. Default: JSON. */
  readonly codec?: PayloadCodec;
  /** Further codecs able to read records written before a codec switch. */
  readonly readCodecs?: readonly PayloadCodec[];
  /** Counts the work of folding the recovered records (log entries copied), e.g. for tests that bound it. */
  readonly recoveryWork?: FoldWork;
}

export class RaftStorage {
  private lastIndex: number | null;
  /** The last hard state handed to the log (written or queued), to spot commit-only changes. */
  private lastHardState: HardState | null;

  private constructor(
    private readonly wal: WriteAheadLog,
    private readonly codec: PayloadCodec,
    /** The synced ops of the earlier life, compacted: [snapshot?, hardState?, entries?]. */
    readonly durableOps: readonly RaftPersistOp[],
    readonly state: RaftDurableState,
    /** What recovery repaired (torn tail, leftovers); also passed to `onWarning`. */
    readonly warnings: readonly StorageWarning[],
  ) {
    this.lastIndex = lastIndexOf(state);
    this.lastHardState = state.hardState;
  }

  /** Locks `dir` (creating it if needed), recovers it, and returns the storage ready for persist(). */
  static async open(dir: string, options: RaftStorageOptions = {}): Promise<RaftStorage> {
    const codec = options.codec ?? jsonCodec;
    const codecs = codecRegistry([jsonCodec, ...(options.readCodecs ?? []), codec]);
    const opened = await openWal(dir, options);
    try {
      const state = foldRecovered(opened.snapshot, opened.records, codecs, dir, options.recoveryWork);
      return new RaftStorage(opened.wal, codec, raftStateToOps(state), state, opened.warnings);
    } catch (error) {
      await opened.wal.close();
      throw error;
    }
  }

  /**
   * Makes `ops` durable, in order, and resolves once they are fsynced (together with whatever
   * else was persisted concurrently). Rejects malformed ops (STORAGE_INVALID_OP) before writing
   * any of them.
   */
  persist(ops: readonly RaftPersistOp[]): Promise<void> {
    let items: WalItem[];
    try {
      items = this.toItems(ops);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.wal.append(items);
  }

  get stats(): Readonly<WalStats> {
    return this.wal.stats;
  }

  /** Waits for in-flight persists, then releases the data directory. */
  close(): Promise<void> {
    return this.wal.close();
  }

  private toItems(ops: readonly RaftPersistOp[]): WalItem[] {
    let lastIndex = this.lastIndex;
    for (const op of ops) lastIndex = checkRaftOp(op, lastIndex);
    const coalesced = coalesceRaftOps(ops, this.lastHardState);
    const items = coalesced.ops.flatMap((op) => this.toItem(op));
    this.lastIndex = lastIndex;
    this.lastHardState = coalesced.lastHardState;
    return items;
  }

  private toItem(op: RaftPersistOp): WalItem[] {
    const recordType = (tag: number): number => (this.codec.id << 4) | tag;
    switch (op.kind) {
      case 'hardState':
        return [{ kind: 'record', type: recordType(TAG_HARD_STATE), payload: this.codec.encode(op.state) }];
      case 'entries':
        return op.entries.length === 0 ? [] : [{ kind: 'record', type: recordType(TAG_ENTRIES), payload: this.codec.encode(op.entries) }];
      case 'snapshot': {
        // encoded part by part while the log writes it: a snapshot holds the whole state machine,
        // and one buffer of it (plus the string it came from) would double the node's memory.
        // The core never changes a snapshot's data once it has handed it over.
        const codec = this.codec;
        const body = { meta: op.meta, data: op.data, hardState: op.hardState, entriesAfter: op.entriesAfter };
        const parts = function* (): Generator<Uint8Array, void, undefined> {
          yield Uint8Array.of(codec.id);
          yield* codec.encodeParts(body);
        };
        return [{ kind: 'checkpoint', snapshot: parts() }];
      }
    }
  }
}

// ---- coalescing -----------------------------------------------------------------------------

/**
 * An op list that folds to the same state with fewer records: entries that continue the
 * previous entries op are merged into it, and hard states that change only the commit index
 * (volatile state in Raft) are moved to the end, where only the last is kept. Hard states that
 * change the term or vote stay where they are, so a log never holds a term above the stored one.
 * A host that hands the log many calls' ops at once writes one entries record instead of one per
 * call. `previous` is the last hard state already handed to the log.
 */
export function coalesceRaftOps(ops: readonly RaftPersistOp[], previous: HardState | null): { ops: RaftPersistOp[]; lastHardState: HardState | null } {
  const out: RaftPersistOp[] = [];
  let entries: LogEntry[] | null = null;
  let commitOnly: HardState | null = null;
  let last = previous;
  const flushEntries = (): void => {
    if (entries !== null) out.push({ kind: 'entries', entries });
    entries = null;
  };
  for (const op of ops) {
    if (op.kind === 'entries') {
      if (op.entries.length === 0) continue;
      const first = op.entries[0] as LogEntry;
      const tail: LogEntry | undefined = entries?.[entries.length - 1];
      if (entries !== null && tail !== undefined && first.index === tail.index + 1) entries.push(...op.entries);
      else {
        flushEntries();
        entries = [...op.entries];
      }
    } else if (op.kind === 'hardState') {
      if (last !== null && last.term === op.state.term && last.vote === op.state.vote) commitOnly = op.state;
      else {
        flushEntries();
        out.push(op);
        commitOnly = null; // this one carries a commit index at least as high
      }
      last = op.state;
    } else {
      flushEntries();
      if (commitOnly !== null) out.push({ kind: 'hardState', state: commitOnly });
      commitOnly = null;
      out.push(op);
      last = op.hardState;
    }
  }
  flushEntries();
  if (commitOnly !== null) out.push({ kind: 'hardState', state: commitOnly });
  return { ops: out, lastHardState: last };
}

// ---- recovery -------------------------------------------------------------------------------

/**
 * Decodes the snapshot and the records after it and folds them, in time linear in the entries
 * they hold. Each op must fit the log as persist() would have accepted it: a checksummed record
 * that does not (entries out of order, or leaving a gap) was not written by this adapter.
 */
function foldRecovered(
  snapshot: Uint8Array | null,
  records: readonly RecoveredRecord[],
  codecs: ReadonlyMap<number, PayloadCodec>,
  dir: string,
  work: FoldWork | undefined,
): RaftDurableState {
  const builder = new RaftStateBuilder(undefined, work);
  let lastIndex: number | null = null;
  if (snapshot !== null) {
    const op = decodeSnapshot(snapshot, codecs, dir);
    lastIndex = checkRecovered(op, lastIndex, `latest snapshot in ${dir}`);
    builder.apply(op);
  }
  // No closure or string per record here: this loop runs once per record of the log.
  for (const record of records) {
    const op = decodeRecord(record, codecs);
    lastIndex = checkRecovered(op, lastIndex, record);
    builder.apply(op);
  }
  return builder.state();
}

/** checkRaftOp for an op read back: what persist() would have refused cannot have been written by it. */
function checkRecovered(op: RaftPersistOp, lastIndex: number | null, where: Place): number | null {
  try {
    return checkRaftOp(op, lastIndex);
  } catch (error) {
    if (isStorageError(error, 'STORAGE_INVALID_OP')) failStorage('WAL_CORRUPT', `${placeOf(where)}: ${error.message}`);
    throw error;
  }
}

/** Where an op was read: a record, or a description; spelled out only for an error message. */
type Place = RecoveredRecord | string;

function placeOf(where: Place): string {
  return typeof where === 'string' ? where : `${where.file} at byte offset ${where.offsetBytes}`;
}

// ---- decoding -------------------------------------------------------------------------------

/** Decodes with the codec of id `id`; every failure becomes a StorageError naming the place. */
function decodeWith(codecs: ReadonlyMap<number, PayloadCodec>, id: number, bytes: Uint8Array, where: Place): unknown {
  const codec = codecs.get(id);
  if (codec === undefined) return failStorage('WAL_UNSUPPORTED', `${placeOf(where)}: written with codec id ${id}, which is not configured`);
  try {
    return codec.decode(bytes);
  } catch (error) {
    // a codec names no place; a codec other than ours may throw anything
    if (isStorageError(error)) return failStorage(error.code, `${placeOf(where)}: ${error.message}`, error);
    return failStorage('WAL_UNSUPPORTED', `${placeOf(where)}: codec ${codec.name} cannot decode it: ${describeCause(error)}`, error);
  }
}

function decodeRecord(record: RecoveredRecord, codecs: ReadonlyMap<number, PayloadCodec>): RaftPersistOp {
  const value = decodeWith(codecs, record.type >> 4, record.payload, record);
  const tag = record.type & 0xf;
  if (tag === TAG_HARD_STATE && isHardState(value)) return { kind: 'hardState', state: value };
  if (tag === TAG_ENTRIES && isEntryList(value)) return { kind: 'entries', entries: value };
  return failStorage('WAL_UNSUPPORTED', `${placeOf(record)}: record type ${record.type} does not hold a Raft op this build understands`);
}

function decodeSnapshot(payload: Uint8Array, codecs: ReadonlyMap<number, PayloadCodec>, dir: string): RaftPersistOp {
  const where = `latest snapshot in ${dir}`;
  const value = decodeWith(codecs, payload[0] ?? 0, payload.subarray(1), where);
  if (!isRecord(value) || !isRecord(value.meta) || !isHardState(value.hardState) || !isEntryList(value.entriesAfter)) {
    return failStorage('WAL_UNSUPPORTED', `${where}: does not hold a Raft snapshot this build understands`);
  }
  const meta = value.meta;
  if (typeof meta.index !== 'number' || typeof meta.term !== 'number' || meta.config === undefined) {
    return failStorage('WAL_UNSUPPORTED', `${where}: snapshot metadata is malformed`);
  }
  // The codec decoded JSON values and the shape was checked above, so these casts only restore types.
  const snapshotMeta = { index: meta.index, term: meta.term, config: meta.config as JsonValue };
  const data = (value.data ?? null) as JsonValue;
  return { kind: 'snapshot', meta: snapshotMeta, data, hardState: value.hardState, entriesAfter: value.entriesAfter };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isHardState(value: unknown): value is HardState {
  return isRecord(value) && typeof value.term === 'number' && typeof value.commit === 'number' && (value.vote === null || typeof value.vote === 'string');
}

function isEntryList(value: unknown): value is LogEntry[] {
  return Array.isArray(value) && value.every((e) => isRecord(e) && typeof e.index === 'number' && typeof e.term === 'number' && typeof e.kind === 'string');
}
