// Durable state of a Multi-Paxos node (src/paxos/multi) on the project's write-ahead log: every
// promise and acceptance the core persists is one checksummed WAL record, group-committed and
// synced before the node host lets any message or reply of that call leave (fsync before
// replying). A snapshot op supersedes every earlier op (the spec says so: supersedesEarlier), so
// it is written as a WAL checkpoint, not a record: once it is durable the log before it is
// dropped, and a store larger than a record may be still gets written (a checkpoint goes to its
// own file, in parts). Between snapshots, every `compactEveryOps` ops the log is folded into a
// checkpoint that replays to the same acceptor state (compactPaxosOps). Records and checkpoints
// have OpLogStore's format (src/storage/op-log.ts).
import { join } from 'node:path';
import type { JsonValue } from '../core/index.js';
import { compareBallots, ZERO_BALLOT, type Ballot } from '../paxos/ballot.js';
import { decodePaxosPersistOp, MAX_LIST } from '../paxos/multi/messages.js';
import type { PaxosPersistOp, PaxosValue, SlotValue } from '../paxos/multi/types.js';
import { codecRegistry, jsonCodec, type PayloadCodec } from '../storage/codec.js';
import { describeCause, failStorage, isStorageError } from '../storage/errors.js';
import { openWal, type WalItem, type WalStats, type WriteAheadLog } from '../storage/wal.js';
import type { WarningSink } from '../storage/index.js';

/** Ops between folded checkpoints when no snapshot comes (snapshots off, or a quiet node). */
export const PAXOS_COMPACT_EVERY_OPS = 10_000;
/**
 * Entries per accept record at most: a leader's phase-1 recovery accepts every slot it recovered in
 * one op, which could outgrow a WAL record (64 MiB) with large values; consecutive accepts of one
 * ballot replay as one.
 */
export const MAX_ENTRIES_PER_RECORD = 32;
/** Record tag (low nibble of the record type), as OpLogStore's. */
const TAG_OP = 2;

export interface PaxosStoreOptions {
  /** See WalOptions.writeInline. */
  readonly writeInline?: () => boolean;
  /** Repairs made at open (a torn tail cut off). */
  readonly onWarning?: WarningSink;
  readonly compactEveryOps?: number;
  /** Codec of new records; default JSON. */
  readonly codec?: PayloadCodec;
}

/** The node's Paxos log: recovered ops at open, then persist() of what the core writes. */
export class PaxosStore {
  /** What the last checkpoint holds plus every op since (what the next fold folds). */
  private history: PaxosPersistOp[];
  private opsSinceCheckpoint: number;

  private constructor(
    private readonly wal: WriteAheadLog,
    private readonly codec: PayloadCodec,
    private readonly compactEveryOps: number,
    readonly recovered: readonly PaxosPersistOp[],
    recoveredRecords: number,
  ) {
    this.history = [...recovered];
    this.opsSinceCheckpoint = recoveredRecords;
  }

  /** Opens (creating, and locking) DIR and recovers it. */
  static async open(dir: string, options: PaxosStoreOptions = {}): Promise<PaxosStore> {
    const codec = options.codec ?? jsonCodec;
    const codecs = codecRegistry([jsonCodec, codec]);
    const opened = await openWal(dir, { ...(options.writeInline === undefined ? {} : { writeInline: options.writeInline }), ...(options.onWarning === undefined ? {} : { onWarning: options.onWarning }) });
    try {
      const ops: PaxosPersistOp[] = [];
      if (opened.snapshot !== null) {
        const where = `latest checkpoint in ${dir}`;
        const value = decodeWith(codecs, opened.snapshot[0] ?? 0, opened.snapshot.subarray(1), where);
        if (!Array.isArray(value)) failStorage('WAL_UNSUPPORTED', `${where}: does not hold a list of ops`);
        for (const item of value as unknown[]) ops.push(checked(item, where));
      }
      for (const record of opened.records) {
        const where = `${record.file} at byte offset ${record.offsetBytes}`;
        if ((record.type & 0xf) !== TAG_OP) failStorage('WAL_UNSUPPORTED', `${where}: record type ${record.type} is not an op of a Paxos log`);
        ops.push(checked(decodeWith(codecs, record.type >> 4, record.payload, where), where));
      }
      return new PaxosStore(opened.wal, codec, options.compactEveryOps ?? PAXOS_COMPACT_EVERY_OPS, ops, opened.records.length);
    } catch (error) {
      await opened.wal.close();
      throw error;
    }
  }

  /** Makes `ops` durable in order; resolves once they are synced (group-committed with concurrent calls). */
  persist(ops: readonly PaxosPersistOp[]): Promise<void> {
    if (ops.length === 0) return Promise.resolve();
    const items: WalItem[] = [];
    // the latest snapshot of the batch supersedes every op before it, in the batch and on disk
    let from = 0;
    for (let i = ops.length - 1; i >= 0; i--) {
      const op = ops[i] as PaxosPersistOp;
      if (op.kind !== 'snapshot') continue;
      items.push(this.checkpoint([op]));
      this.history = [op];
      this.opsSinceCheckpoint = 0;
      from = i + 1;
      break;
    }
    const type = (this.codec.id << 4) | TAG_OP;
    for (let i = from; i < ops.length; i++) {
      for (const op of split(ops[i] as PaxosPersistOp)) {
        items.push({ kind: 'record', type, payload: this.codec.encode(op) });
        this.history.push(op);
        this.opsSinceCheckpoint++;
      }
    }
    if (this.opsSinceCheckpoint >= this.compactEveryOps) {
      // queued behind the records: once it is durable they are redundant
      const folded = compactPaxosOps(this.history);
      items.push(this.checkpoint(folded));
      this.history = folded;
      this.opsSinceCheckpoint = 0;
    }
    return this.wal.append(items);
  }

  get stats(): Readonly<WalStats> {
    return this.wal.stats;
  }

  close(): Promise<void> {
    return this.wal.close();
  }

  private checkpoint(ops: readonly PaxosPersistOp[]): WalItem {
    return { kind: 'checkpoint', snapshot: [Uint8Array.of(this.codec.id), ...this.codec.encodeParts(ops)] };
  }
}

/** Opens the node's Paxos log in DATA_DIR/paxos. */
export function openPaxosStore(dataDir: string, options: PaxosStoreOptions = {}): Promise<PaxosStore> {
  return PaxosStore.open(join(dataDir, 'paxos'), options);
}

/** An accept of many entries as accepts of at most MAX_ENTRIES_PER_RECORD (same ballot: they replay as one). */
function split(op: PaxosPersistOp): PaxosPersistOp[] {
  if (op.kind !== 'accept' || op.entries.length <= MAX_ENTRIES_PER_RECORD) return [op];
  const out: PaxosPersistOp[] = [];
  for (let i = 0; i < op.entries.length; i += MAX_ENTRIES_PER_RECORD) out.push({ kind: 'accept', ballot: op.ballot, entries: op.entries.slice(i, i + MAX_ENTRIES_PER_RECORD) });
  return out;
}

/**
 * Folds a node's durable ops into ops that replay to the same state (the acceptor's promise,
 * snapshot and acceptances; the state machine in the snapshot), never more ops than it was given.
 * Replay rules, as MultiAcceptor.replay has them: a promise or an accept raises the promise; an
 * accept sets each slot above the snapshot to (its ballot, value); a snapshot replaces everything.
 */
export function compactPaxosOps(ops: readonly PaxosPersistOp[]): PaxosPersistOp[] {
  let promised: Ballot = ZERO_BALLOT;
  let snapshot: { slot: number; data: JsonValue } | undefined;
  const accepted = new Map<number, { ballot: Ballot; value: PaxosValue }>();
  for (const op of ops) {
    switch (op.kind) {
      case 'promise':
        if (compareBallots(op.ballot, promised) > 0) promised = op.ballot;
        break;
      case 'accept':
        if (compareBallots(op.ballot, promised) > 0) promised = op.ballot;
        for (const e of op.entries) if (e.slot > (snapshot?.slot ?? 0)) accepted.set(e.slot, { ballot: op.ballot, value: e.value });
        break;
      case 'snapshot':
        // replay takes the snapshot's promise as it is (the core writes its current, highest one)
        promised = op.promised;
        snapshot = { slot: op.slot, data: op.data };
        accepted.clear();
        for (const e of op.accepted) if (e.slot > op.slot) accepted.set(e.slot, { ballot: e.ballot, value: e.value });
        break;
    }
  }
  // acceptances by ballot, each group in slot order, in ops no longer than a record takes
  const byBallot = new Map<string, { ballot: Ballot; entries: SlotValue[] }>();
  for (const slot of [...accepted.keys()].sort((a, b) => a - b)) {
    const a = accepted.get(slot) as { ballot: Ballot; value: PaxosValue };
    const key = `${a.ballot.round}\u0000${a.ballot.node}`;
    let group = byBallot.get(key);
    if (group === undefined) byBallot.set(key, (group = { ballot: a.ballot, entries: [] }));
    group.entries.push({ slot, value: a.value });
  }
  const groups = [...byBallot.values()].sort((a, b) => compareBallots(a.ballot, b.ballot));
  const out: PaxosPersistOp[] = [];
  const highestAccepted = groups.at(-1)?.ballot ?? ZERO_BALLOT;
  if (snapshot !== undefined) out.push({ kind: 'snapshot', slot: snapshot.slot, data: snapshot.data, promised, accepted: [] });
  else if (compareBallots(promised, highestAccepted) > 0) out.push({ kind: 'promise', ballot: promised });
  const perOp = Math.min(MAX_ENTRIES_PER_RECORD, MAX_LIST);
  for (const g of groups) {
    for (let i = 0; i < g.entries.length; i += perOp) out.push({ kind: 'accept', ballot: g.ballot, entries: g.entries.slice(i, i + perOp) });
  }
  // a fold that saves nothing (every op still needed) keeps the ops as they are
  return out.length <= ops.length ? out : [...ops];
}

function checked(value: unknown, where: string): PaxosPersistOp {
  const result = decodePaxosPersistOp(value);
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
