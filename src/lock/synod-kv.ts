// The recipes' store interface (lease-kv.ts) over Synod's Raft KV through SynodClient: leases,
// txns with create-revision compares, ranges of a prefix and watches, with SynodError codes
// turned into LockError codes.
import { randomInt } from 'node:crypto';
import { SynodClient, SynodError, type Compare, type JsonValue, type KvItem, type SynodClientOptions, type TxnOp, type TxnOpResult, type TxnResult, type WatchMessage } from '../client/index.js';
import { LockError } from './errors.js';
import { byCreateRevision, MAX_CONTENDERS, readAtLeast, type DeleteWait, type KvChange, type KvEntry, type KvOp, type KvRange, type KvTxn, type KvTxnResult, type LeaseId, type LeaseKv } from './lease-kv.js';

const BACKEND = 'synod';

/** A SynodError as the LockError a caller of the lock API sees. */
export function lockErrorOfSynod(err: unknown, what: string): LockError {
  if (err instanceof LockError) return err;
  if (!(err instanceof SynodError)) return new LockError('BACKEND_ERROR', `${what}: ${String(err)}`, BACKEND, { cause: err });
  const message = `${what}: ${err.message}`;
  if (err.code === 'LEASE_NOT_FOUND') return new LockError('LEASE_LOST', message, BACKEND, { cause: err });
  // no node answered, or none could serve it (no leader, timeout) for the client's whole retry time
  if (err.status === 0 || err.status >= 500) return new LockError('BACKEND_UNREACHABLE', message, BACKEND, { cause: err });
  if (err.code === 'BAD_REQUEST' || err.code === 'BAD_KEY' || err.code === 'BAD_LEASE_ID') return new LockError('BAD_REQUEST', message, BACKEND, { cause: err });
  return new LockError('BACKEND_ERROR', message, BACKEND, { cause: err });
}

function entryOf(item: KvItem): KvEntry {
  return { key: item.key, value: typeof item.value === 'string' ? item.value : JSON.stringify(item.value), createRevision: item.createRevision, lease: String(item.lease ?? 0) };
}

function leaseNumber(id: LeaseId): number {
  const n = Number(id);
  if (!Number.isSafeInteger(n) || n < 1) throw new LockError('BAD_REQUEST', `not a Synod lease id: ${JSON.stringify(id)}`, BACKEND);
  return n;
}

/** The entries of a range answer, checked and ordered; QUEUE_FULL past MAX_CONTENDERS. */
function entriesOf(items: unknown, more: unknown, prefix: string): KvEntry[] {
  if (!Array.isArray(items)) throw new LockError('BACKEND_ERROR', `range of ${JSON.stringify(prefix)}: the answer has no items`, BACKEND);
  if (more === true) throw new LockError('QUEUE_FULL', `more than ${MAX_CONTENDERS} holders and waiters under ${JSON.stringify(prefix)}`, BACKEND);
  return (items as KvItem[]).map(entryOf).sort(byCreateRevision);
}

function txnOp(op: KvOp): TxnOp {
  switch (op.op) {
    case 'put':
      // lease "0": a key without a lease (a STONITH record must outlive its holder's lease)
      return op.lease === '0' ? { op: 'put', key: op.key, value: op.value } : { op: 'put', key: op.key, value: op.value, lease: leaseNumber(op.lease) };
    case 'delete':
      return { op: 'delete', key: op.key };
    case 'range':
      return { op: 'range', prefix: op.prefix, limit: MAX_CONTENDERS };
  }
}

/** The txn as Synod's API takes it, each branch starting with `first`. */
function synodTxn(txn: KvTxn, first: readonly TxnOp[]): { compare: Compare[]; success: TxnOp[]; failure: TxnOp[] } {
  return {
    compare: txn.compare.map((c) => ({ key: c.key, target: c.target, cmp: c.cmp, value: c.value })),
    success: [...first, ...txn.success.map(txnOp)],
    failure: [...first, ...txn.failure.map(txnOp)],
  };
}

/** The answer to `txn` sent with `skipped` operations before each branch's own. */
function txnResultOf(txn: KvTxn, answer: TxnResult, skipped: number): KvTxnResult {
  const ops = answer.succeeded ? txn.success : txn.failure;
  const ranges: KvEntry[][] = [];
  ops.forEach((op, i) => {
    const result = answer.results[skipped + i] as TxnOpResult | undefined;
    if (op.op === 'range') ranges.push(entriesOf(result?.['items'], result?.['more'], op.prefix));
  });
  return { succeeded: answer.succeeded, revision: answer.revision, ranges };
}

/**
 * Lease ids this client draws for grantWithTxn: from 2^40 up, far above the log indexes the
 * server gives leases granted without an id, over 2^47 values (crypto.randomInt's range).
 */
const LEASE_ID_FLOOR = 2 ** 40;
const LEASE_ID_SPAN = 2 ** 47;
const GRANT_ATTEMPTS = 3;
/** Once-watches one waitDelete opens before it lets its caller re-read (only a node sending other events than asked for needs more than one). */
const WAIT_DELETE_TURNS = 8;

export interface SynodLeaseKvOptions {
  /** Close the client in `close()` (default: only when this adapter created it, with `connect`). */
  readonly closeClient?: boolean;
  /** Draws the id of a lease granted with a txn (default: at random from 2^40 up); tests make them collide. */
  readonly drawLeaseId?: () => number;
}

export class SynodLeaseKv implements LeaseKv {
  readonly backend = BACKEND;
  private readonly closeClient: boolean;
  private readonly drawLeaseId: () => number;

  constructor(
    readonly client: SynodClient,
    options: SynodLeaseKvOptions = {},
  ) {
    this.closeClient = options.closeClient ?? false;
    this.drawLeaseId = options.drawLeaseId ?? ((): number => LEASE_ID_FLOOR + randomInt(0, LEASE_ID_SPAN));
  }

  /** An adapter with its own client (closed with it). */
  static connect(options: SynodClientOptions): SynodLeaseKv {
    return new SynodLeaseKv(new SynodClient(options), { closeClient: true });
  }

  async leaseGrant(ttlMs: number): Promise<{ id: LeaseId; ttlMs: number }> {
    try {
      const granted = await this.client.leaseGrant(ttlMs);
      return { id: String(granted.id), ttlMs: granted.ttlMs };
    } catch (err) {
      throw lockErrorOfSynod(err, `lease grant of ${ttlMs} ms`);
    }
  }

  async leaseKeepAlive(id: LeaseId): Promise<{ ttlMs: number; remainingMs: number }> {
    try {
      const answer = await this.client.leaseKeepAliveOnce(leaseNumber(id));
      return { ttlMs: answer.ttlMs, remainingMs: answer.remainingMs };
    } catch (err) {
      throw lockErrorOfSynod(err, `keep-alive of lease ${id}`);
    }
  }

  async leaseRevoke(id: LeaseId): Promise<void> {
    try {
      await this.client.leaseRevoke(leaseNumber(id));
    } catch (err) {
      throw lockErrorOfSynod(err, `revoke of lease ${id}`);
    }
  }

  async txn(txn: KvTxn): Promise<KvTxnResult> {
    let answer: TxnResult;
    try {
      answer = await this.client.txn(synodTxn(txn, []));
    } catch (err) {
      throw lockErrorOfSynod(err, 'txn');
    }
    return txnResultOf(txn, answer, 0);
  }

  /** One write: a txn whose branches both start by granting a lease with an id drawn here (another one if it is taken). */
  async grantWithTxn(ttlMs: number, txnOf: (id: LeaseId) => KvTxn): Promise<{ lease: { id: LeaseId; ttlMs: number }; result: KvTxnResult }> {
    // bounded: a drawn id is taken with odds of about (leases in use) / 2^47 per attempt
    for (let attempt = 1; ; attempt++) {
      const id = this.drawLeaseId();
      const txn = txnOf(String(id));
      const grant: TxnOp = { op: 'leaseGrant', ttlMs, id };
      let answer: TxnResult;
      try {
        answer = await this.client.txn(synodTxn(txn, [grant]));
      } catch (err) {
        if (err instanceof SynodError && err.code === 'LEASE_EXISTS' && attempt < GRANT_ATTEMPTS) continue;
        // no answer came, so the write may have applied: the lease is revoked rather than left to block the line for its TTL
        if (!(err instanceof SynodError) || err.status === 0 || err.status >= 500) await this.client.leaseRevoke(id).catch(() => undefined);
        throw lockErrorOfSynod(err, `lease grant of ${ttlMs} ms with a txn`);
      }
      const granted = answer.results[0] as TxnOpResult | undefined;
      const grantedTtlMs = granted?.['ttlMs'];
      if (granted?.['id'] !== id || typeof grantedTtlMs !== 'number') throw new LockError('BACKEND_ERROR', `lease grant of ${ttlMs} ms with a txn: the answer does not hold the grant of lease ${id}`, BACKEND);
      return { lease: { id: String(id), ttlMs: grantedTtlMs }, result: txnResultOf(txn, answer, 1) };
    }
  }

  async range(prefix: string, atLeastRevision?: number): Promise<KvRange> {
    try {
      const answer = await readAtLeast((serializable) => this.client.range({ prefix, limit: MAX_CONTENDERS, serializable }), (a) => a.revision, atLeastRevision);
      return { revision: answer.revision, entries: entriesOf(answer.items, answer.more, prefix) };
    } catch (err) {
      throw lockErrorOfSynod(err, `range of ${JSON.stringify(prefix)}`);
    }
  }

  /**
   * A once-watch per turn: the node ends it after its events message, so its connection is reused
   * for the next wait instead of being opened and cut for each hand-over (docs/PERFORMANCE.md).
   */
  async waitDelete(key: string, fromRevision: number, signal: AbortSignal, linePrefix?: string): Promise<DeleteWait> {
    let from = fromRevision;
    // noPut on one key: the first events message is that key's delete, so one turn is the rule; a
    // message without it (a node that sent other events) costs another turn, from past it
    for (let turn = 0; turn < WAIT_DELETE_TURNS; turn++) {
      if (signal.aborted) return { kind: 'aborted' };
      // the node attaches the line as of its state when it sends the delete: the waiter's re-read, without a request
      const watch = this.client.watch({ key }, { startRevision: from, noPut: true, once: true, signal, ...(linePrefix === undefined ? {} : { rangePrefix: linePrefix }) });
      let seen: number | undefined;
      let deleted: WatchMessage | undefined;
      try {
        for await (const message of watch) {
          if (message.type !== 'events') continue;
          if (message.events.some((e) => e.type === 'delete' && e.kv.key === key)) {
            deleted = message;
            break;
          }
          seen = message.revision;
        }
      } catch {
        // compacted past `from`, or no node served the watch for its reconnect time: re-read
        return signal.aborted ? { kind: 'aborted' } : { kind: 'unknown' };
      } finally {
        watch.close();
      }
      if (deleted !== undefined) {
        // QUEUE_FULL past the limit, as a read of the line would be
        const range = deleted.type === 'events' ? deleted.range : undefined;
        if (linePrefix === undefined || range === undefined) return { kind: 'deleted', revision: deleted.revision };
        return { kind: 'deleted', revision: deleted.revision, line: { revision: range.revision, entries: entriesOf(range.items, range.more, linePrefix) } };
      }
      // a once-watch finishes without an events message only when aborted
      if (signal.aborted || seen === undefined) return signal.aborted ? { kind: 'aborted' } : { kind: 'unknown' };
      from = seen + 1;
    }
    // the caller re-reads the line: never 'deleted' without having seen the delete
    return { kind: 'unknown' };
  }

  async *watchPrefix(prefix: string, fromRevision: number, signal: AbortSignal): AsyncGenerator<readonly KvChange[], void, undefined> {
    const watch = this.client.watch({ prefix }, { startRevision: fromRevision, signal });
    try {
      for await (const message of watch) {
        if (message.type !== 'events') continue;
        yield message.events.map((e) => ({
          type: e.type,
          key: e.kv.key,
          value: e.type === 'put' ? valueText(e.kv.value) : '',
          createRevision: e.type === 'put' ? e.kv.createRevision : 0,
          revision: message.revision,
        }));
      }
    } catch (err) {
      if (!signal.aborted) throw lockErrorOfSynod(err, `watch of ${JSON.stringify(prefix)}`);
    } finally {
      watch.close();
    }
  }

  async close(): Promise<void> {
    if (this.closeClient) this.client.close();
  }
}

function valueText(value: JsonValue): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}
