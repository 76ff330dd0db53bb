// A durable store for cores whose persisted ops are a plain log: every op is one checksummed WAL
// record, recovery hands the ops back oldest first, and an optional `compact` folds them into
// fewer ops that are written as a checkpoint once the log grows long. Any core that is not Raft
// (a lease table, a coordinator's decisions, a CRDT's deltas) gets durability without its own format.
import { assertInvariant } from '../core/index.js';
import { codecRegistry, jsonCodec, type PayloadCodec } from './codec.js';
import { describeCause, failStorage, isStorageError } from './errors.js';
import { openWal, type WalOptions, type WalStats, type WriteAheadLog } from './wal.js';

/** Record tag (low nibble of the record type; the codec id is the high nibble, as RaftStorage does). */
const TAG_OP = 2;

export interface OpLogOptions<P> extends WalOptions {
  /** Codec for new records. Default: JSON. */
  readonly codec?: PayloadCodec;
  /** Checks one decoded op: the op typed, or why it is not an op of this store. */
  readonly decodeOp: (value: unknown) => { readonly op: P } | { readonly problem: string };
  /**
   * Folds the whole log into equivalent fewer ops (e.g. the latest value per key). With it, a
   * checkpoint of the folded ops is written after every `compactEveryOps` ops, and recovery
   * starts from it; without it the log only grows.
   */
  readonly compact?: (ops: readonly P[]) => P[];
  readonly compactEveryOps?: number;
}

const DEFAULT_COMPACT_EVERY_OPS = 10_000;

export class OpLogStore<P> {
  private opsSinceCheckpoint: number;
  /** Every op since open (recovered included), kept only when compaction is on. */
  private readonly history: P[];

  private constructor(
    private readonly wal: WriteAheadLog,
    private readonly codec: PayloadCodec,
    private readonly options: OpLogOptions<P>,
    readonly recovered: readonly P[],
    recoveredRecords: number,
  ) {
    this.opsSinceCheckpoint = recoveredRecords;
    this.history = options.compact === undefined ? [] : [...recovered];
  }

  /** Locks `dir` (creating it), recovers it, and returns the store ready for persist(). */
  static async open<P>(dir: string, options: OpLogOptions<P>): Promise<OpLogStore<P>> {
    const codec = options.codec ?? jsonCodec;
    const codecs = codecRegistry([jsonCodec, codec]);
    const opened = await openWal(dir, options);
    try {
      const ops: P[] = [];
      if (opened.snapshot !== null) {
        const value = decodeWith(codecs, opened.snapshot[0] ?? 0, opened.snapshot.subarray(1), `latest checkpoint in ${dir}`);
        if (!Array.isArray(value)) failStorage('WAL_UNSUPPORTED', `latest checkpoint in ${dir}: does not hold a list of ops`);
        for (const item of value as unknown[]) ops.push(checked(options.decodeOp(item), `latest checkpoint in ${dir}`));
      }
      for (const record of opened.records) {
        const where = `${record.file} at byte offset ${record.offsetBytes}`;
        if ((record.type & 0xf) !== TAG_OP) failStorage('WAL_UNSUPPORTED', `${where}: record type ${record.type} is not an op of this store`);
        ops.push(checked(options.decodeOp(decodeWith(codecs, record.type >> 4, record.payload, where)), where));
      }
      return new OpLogStore(opened.wal, codec, options, ops, opened.records.length);
    } catch (error) {
      await opened.wal.close();
      throw error;
    }
  }

  /** Makes `ops` durable in order; resolves once they are synced (group-committed with concurrent calls). */
  async persist(ops: readonly P[]): Promise<void> {
    if (ops.length === 0) return;
    const type = (this.codec.id << 4) | TAG_OP;
    const written = this.wal.append(ops.map((op) => ({ kind: 'record' as const, type, payload: this.codec.encode(op) })));
    this.opsSinceCheckpoint += ops.length;
    const compact = this.options.compact;
    if (compact === undefined) return written;
    this.history.push(...ops);
    if (this.opsSinceCheckpoint < (this.options.compactEveryOps ?? DEFAULT_COMPACT_EVERY_OPS)) return written;
    // the checkpoint is queued after the records: once it is durable they are redundant
    const folded = compact(this.history);
    assertInvariant(folded.length <= this.history.length, () => `compact grew the log from ${this.history.length} to ${folded.length} ops`);
    this.history.splice(0, this.history.length, ...folded);
    this.opsSinceCheckpoint = 0;
    const codec = this.codec;
    const checkpoint = this.wal.append([{ kind: 'checkpoint', snapshot: [Uint8Array.of(codec.id), ...codec.encodeParts(folded)] }]);
    await written;
    await checkpoint;
  }

  get stats(): Readonly<WalStats> {
    return this.wal.stats;
  }

  close(): Promise<void> {
    return this.wal.close();
  }
}

function checked<P>(result: { readonly op: P } | { readonly problem: string }, where: string): P {
  if ('problem' in result) return failStorage('WAL_UNSUPPORTED', `${where}: ${result.problem}`);
  return result.op;
}

function decodeWith(codecs: ReadonlyMap<number, PayloadCodec>, id: number, bytes: Uint8Array, where: string): unknown {
  const codec = codecs.get(id);
  if (codec === undefined) return failStorage('WAL_UNSUPPORTED', `${where}: written with codec id ${id}, which is not configured`);
  try {
    return codec.decode(bytes);
  } catch (error) {
    if (isStorageError(error)) return failStorage(error.code, `${where}: ${error.message}`, error);
    return failStorage('WAL_UNSUPPORTED', `${where}: codec ${codec.name} cannot decode it: ${describeCause(error)}`, error);
  }
}
