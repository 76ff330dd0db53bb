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
  /**
   * Instead of `compact`: keeps the folded log up to date op by op, so that a checkpoint costs a
   * copy of the folded ops rather than a fold of the whole log on the caller's thread (a store of
   * a million keys folds in about a second).
   */
  readonly folder?: () => OpFolder<P>;
  /**
   * A checkpoint is written once this many ops, and at least as many as the last checkpoint
   * held, were persisted after it: the log stays under about twice what it folds to, and each
   * op pays a bounded share of the checkpoints however large the folded state grows.
   */
  readonly compactEveryOps?: number;
}

/** The folded form of a log, kept op by op (OpLogOptions.folder). */
export interface OpFolder<P> {
  add(op: P): void;
  /** The folded ops, in a fresh array the store may hold while it writes them; never more ops than were added. */
  ops(): P[];
}

const DEFAULT_COMPACT_EVERY_OPS = 10_000;

export class OpLogStore<P> {
  private opsSinceCheckpoint: number;
  /** Ops the last checkpoint held: the next one waits for at least as many new ones. */
  private checkpointOps = 0;
  /** The fold of the log (from `folder`, or `compact` over the ops since the last fold); none: the log only grows. */
  private readonly folded: OpFolder<P> | undefined;
  /** The checkpoint being written beside the log, if any (one at a time). */
  private checkpointing: Promise<void> | undefined;
  private checkpointFailure: unknown;

  private constructor(
    private readonly wal: WriteAheadLog,
    private readonly codec: PayloadCodec,
    private readonly options: OpLogOptions<P>,
    readonly recovered: readonly P[],
    recoveredRecords: number,
  ) {
    this.opsSinceCheckpoint = recoveredRecords;
    this.checkpointOps = recovered.length - recoveredRecords;
    assertInvariant(options.compact === undefined || options.folder === undefined, () => 'an op log folds with compact or with folder, not both');
    this.folded = options.folder?.() ?? (options.compact === undefined ? undefined : new WholeLogFolder(options.compact));
    if (this.folded !== undefined) for (const op of recovered) this.folded.add(op);
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
    if (this.checkpointFailure !== undefined) throw this.checkpointFailure;
    const type = (this.codec.id << 4) | TAG_OP;
    const written = this.wal.appendTracked(ops.map((op) => ({ kind: 'record' as const, type, payload: this.codec.encode(op) })));
    this.opsSinceCheckpoint += ops.length;
    const folded = this.foldIn(ops);
    if (folded !== undefined) this.startCheckpoint(folded, written);
    await written;
  }

  /** Resolves once no checkpoint is being written (tests; close). */
  async checkpointed(): Promise<void> {
    while (this.checkpointing !== undefined) await this.checkpointing;
  }

  /** Adds the ops to the fold; the folded log when a checkpoint is due, else undefined. */
  private foldIn(ops: readonly P[]): P[] | undefined {
    if (this.folded === undefined) return undefined;
    for (const op of ops) this.folded.add(op);
    const every = this.options.compactEveryOps ?? DEFAULT_COMPACT_EVERY_OPS;
    if (this.checkpointing !== undefined || this.opsSinceCheckpoint < Math.max(every, this.checkpointOps)) return undefined;
    const inputOps = this.checkpointOps + this.opsSinceCheckpoint;
    const folded = this.folded.ops();
    assertInvariant(folded.length <= inputOps, () => `compaction grew the log from ${inputOps} to ${folded.length} ops`);
    this.checkpointOps = folded.length;
    this.opsSinceCheckpoint = 0;
    return folded;
  }

  /**
   * Writes the folded ops as a snapshot beside the log while persists go on, then puts it in
   * force: it covers the records up to the append that completed the fold, and those after it
   * stay (a checkpoint in the commit queue would hold up every persist behind it for as long as
   * the snapshot takes to write: about 0.4 s for 75,000 keys here).
   */
  private startCheckpoint(folded: readonly P[], written: Promise<number>): void {
    const run = async (): Promise<void> => {
      const snapshot = await this.wal.prepareSnapshot(checkpointParts(this.codec, folded));
      const coversThroughSeq = await written;
      await this.wal.append([{ kind: 'prepared-checkpoint', snapshot, coversThroughSeq }]);
    };
    this.checkpointing = run()
      .catch((error: unknown) => {
        // the log can no longer be folded: later persists fail with the cause, as a failed write does
        this.checkpointFailure ??= error;
      })
      .finally(() => {
        this.checkpointing = undefined;
      });
  }

  get stats(): Readonly<WalStats> {
    return this.wal.stats;
  }

  async close(): Promise<void> {
    await this.checkpointed();
    await this.wal.close();
  }
}

/** `compact` as a folder: the ops since the last fold kept as they came, folded all at once when asked. */
class WholeLogFolder<P> implements OpFolder<P> {
  private log: P[] = [];
  constructor(private readonly compact: (ops: readonly P[]) => P[]) {}
  add(op: P): void {
    // one by one, never push(...ops): a spread of some 120,000 arguments overflows the stack
    this.log.push(op);
  }
  ops(): P[] {
    const folded = this.compact(this.log);
    this.log = folded.slice();
    return folded;
  }
}

function* checkpointParts(codec: PayloadCodec, folded: unknown): Generator<Uint8Array, void, undefined> {
  yield Uint8Array.of(codec.id);
  yield* codec.encodeParts(folded);
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
