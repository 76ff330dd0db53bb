// The recipes' store interface (lease-kv.ts) over etcd v3 through the etcd3 client's gRPC stubs:
// leases (TTLs in whole seconds), txns with create-revision compares, ranges sorted by create
// revision, and watches; etcd3's errors turned into LockError codes.
import type { Etcd3, IKeyValue, IOptions, IRequestOp, IWatchResponse, Watcher } from 'etcd3';
import { LockError } from './errors.js';
import { byCreateRevision, MAX_CONTENDERS, readAtLeast, type DeleteWait, type KvChange, type KvEntry, type KvOp, type KvRange, type KvTxn, type KvTxnResult, type LeaseId, type LeaseKv } from './lease-kv.js';

const BACKEND = 'etcd';
const DEFAULT_REQUEST_TIMEOUT_MS = 5000;
/** Watch answers waiting for a slow consumer, at most; past it the watch fails and the consumer re-reads. */
const MAX_QUEUED_WATCH_ANSWERS = 1000;
const CANCEL_WAIT_MS = 1000;

const UNREACHABLE_ERRORS = new Set(['GRPCUnavailableError', 'GRPCDeadlineExceededError', 'GRPCCancelledError', 'ClientClosedError', 'BrokenCircuitError', 'TaskCancelledError', 'GRPCConnectFailedError']);

/** An etcd3 client error as the LockError a caller of the lock API sees. */
export function lockErrorOfEtcd(err: unknown, what: string): LockError {
  if (err instanceof LockError) return err;
  const error = err instanceof Error ? err : new Error(String(err));
  const kind = error.constructor.name;
  const message = `${what}: ${error.message}`;
  if (error.message.includes('requested lease not found') || kind === 'EtcdLeaseInvalidError') return new LockError('LEASE_LOST', message, BACKEND, { cause: err });
  if (UNREACHABLE_ERRORS.has(kind) || /ECONNREFUSED|No connection established|deadline/i.test(error.message)) return new LockError('BACKEND_UNREACHABLE', message, BACKEND, { cause: err });
  if (kind === 'GRPCInvalidArgumentError') return new LockError('BAD_REQUEST', message, BACKEND, { cause: err });
  return new LockError('BACKEND_ERROR', message, BACKEND, { cause: err });
}

const bytes = (text: string): Buffer => Buffer.from(text, 'utf8');

/** etcd's range_end for every key under `prefix`: the prefix with its last byte + 1. */
function prefixEnd(prefix: string): Buffer {
  const end = bytes(prefix);
  // the recipes' prefixes end with "/", so the last byte is never 0xff
  end[end.length - 1] = (end[end.length - 1] as number) + 1;
  return end;
}

function revisionOf(text: string | undefined): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) throw new LockError('BACKEND_ERROR', `etcd answered a revision that is not a whole number: ${String(text)}`, BACKEND);
  return n;
}

function entryOf(kv: IKeyValue): KvEntry {
  return { key: kv.key.toString('utf8'), value: kv.value.toString('utf8'), createRevision: revisionOf(kv.create_revision), lease: kv.lease === '' ? '0' : kv.lease };
}

function rangeOp(prefix: string): IRequestOp {
  return { request_range: { key: bytes(prefix), range_end: prefixEnd(prefix), sort_order: 'Ascend', sort_target: 'Create', limit: MAX_CONTENDERS } };
}

function requestOp(op: KvOp): IRequestOp {
  switch (op.op) {
    case 'put':
      return { request_put: { key: bytes(op.key), value: bytes(op.value), lease: op.lease } };
    case 'delete':
      return { request_delete_range: { key: bytes(op.key) } };
    case 'range':
      return rangeOp(op.prefix);
  }
}

const COMPARE_RESULT = { '=': 'Equal', '!=': 'NotEqual', '<': 'Less', '>': 'Greater' } as const;

function entriesOf(kvs: readonly IKeyValue[], more: boolean, prefix: string): KvEntry[] {
  if (more) throw new LockError('QUEUE_FULL', `more than ${MAX_CONTENDERS} holders and waiters under ${JSON.stringify(prefix)}`, BACKEND);
  return kvs.map(entryOf).sort(byCreateRevision);
}

export interface EtcdLeaseKvOptions {
  /** One attempt of a call waits this long for etcd's answer (ms). Default 5000. */
  readonly requestTimeoutMs?: number;
  /** Close the client in `close()` (default: only when this adapter created it, with `connect`). */
  readonly closeClient?: boolean;
}

export class EtcdLeaseKv implements LeaseKv {
  readonly backend = BACKEND;
  private readonly requestTimeoutMs: number;
  private readonly closeClient: boolean;

  constructor(
    readonly client: Etcd3,
    options: EtcdLeaseKvOptions = {},
  ) {
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.closeClient = options.closeClient ?? false;
  }

  /** An adapter with its own etcd3 client (closed with it); loads etcd3 only when called. */
  static async connect(options: IOptions, adapter: Omit<EtcdLeaseKvOptions, 'closeClient'> = {}): Promise<EtcdLeaseKv> {
    const { Etcd3: Client } = await import('etcd3');
    return new EtcdLeaseKv(new Client(options), { ...adapter, closeClient: true });
  }

  private callOptions(): { deadline: number } {
    return { deadline: Date.now() + this.requestTimeoutMs };
  }

  async leaseGrant(ttlMs: number): Promise<{ id: LeaseId; ttlMs: number }> {
    try {
      // etcd's TTLs are whole seconds (and at least its minimum, which it applies silently)
      const answer = await this.client.leaseClient.leaseGrant({ TTL: Math.max(1, Math.ceil(ttlMs / 1000)) }, this.callOptions());
      if (answer.error !== undefined && answer.error !== '') throw new LockError('BACKEND_ERROR', `lease grant of ${ttlMs} ms: ${answer.error}`, BACKEND);
      return { id: answer.ID, ttlMs: revisionOf(answer.TTL) * 1000 };
    } catch (err) {
      throw lockErrorOfEtcd(err, `lease grant of ${ttlMs} ms`);
    }
  }

  async leaseKeepAlive(id: LeaseId): Promise<{ ttlMs: number; remainingMs: number }> {
    let timer: NodeJS.Timeout | undefined;
    let stream: Awaited<ReturnType<Etcd3['leaseClient']['leaseKeepAlive']>> | undefined;
    try {
      // etcd has no unary keep-alive: one request on a stream of its own, then end it (as etcd3's keepaliveOnce)
      const answer = await new Promise<{ TTL: string }>((resolve, reject) => {
        timer = setTimeout(() => reject(new LockError('BACKEND_UNREACHABLE', `keep-alive of lease ${id}: no answer within ${this.requestTimeoutMs} ms`, BACKEND)), this.requestTimeoutMs);
        this.client.leaseClient.leaseKeepAlive().then((opened) => {
          stream = opened;
          opened.on('data', resolve);
          opened.on('error', reject);
          opened.write({ ID: id });
        }, reject);
      });
      const ttlMs = revisionOf(answer.TTL) * 1000;
      if (ttlMs <= 0) throw new LockError('LEASE_LOST', `keep-alive of lease ${id}: etcd says it is gone (expired or revoked)`, BACKEND);
      return { ttlMs, remainingMs: ttlMs };
    } catch (err) {
      throw lockErrorOfEtcd(err, `keep-alive of lease ${id}`);
    } finally {
      clearTimeout(timer);
      try {
        stream?.end();
      } catch {
        // the stream failed already
      }
    }
  }

  async leaseRevoke(id: LeaseId): Promise<void> {
    try {
      await this.client.leaseClient.leaseRevoke({ ID: id }, this.callOptions());
    } catch (err) {
      throw lockErrorOfEtcd(err, `revoke of lease ${id}`);
    }
  }

  async txn(txn: KvTxn): Promise<KvTxnResult> {
    let answer;
    try {
      answer = await this.client.kv.txn(
        {
          compare: txn.compare.map((c) => ({
            key: bytes(c.key),
            result: COMPARE_RESULT[c.cmp],
            ...(c.target === 'createRevision' ? { target: 'Create' as const, create_revision: c.value } : { target: 'Version' as const, version: c.value }),
          })),
          success: txn.success.map(requestOp),
          failure: txn.failure.map(requestOp),
        },
        this.callOptions(),
      );
    } catch (err) {
      throw lockErrorOfEtcd(err, 'txn');
    }
    const ops = answer.succeeded ? txn.success : txn.failure;
    const ranges: KvEntry[][] = [];
    ops.forEach((op, i) => {
      if (op.op !== 'range') return;
      const range = answer.responses[i]?.response_range;
      if (range === undefined) throw new LockError('BACKEND_ERROR', `txn: etcd's answer has no range result at ${i}`, BACKEND);
      ranges.push(entriesOf(range.kvs, range.more, op.prefix));
    });
    return { succeeded: answer.succeeded, revision: revisionOf(answer.header.revision), ranges };
  }

  async range(prefix: string, atLeastRevision?: number): Promise<KvRange> {
    try {
      const request = rangeOp(prefix).request_range as NonNullable<IRequestOp['request_range']>;
      const answer = await readAtLeast((serializable) => this.client.kv.range({ ...request, serializable }, this.callOptions()), (a) => revisionOf(a.header.revision), atLeastRevision);
      return { revision: revisionOf(answer.header.revision), entries: entriesOf(answer.kvs, answer.more, prefix) };
    } catch (err) {
      throw lockErrorOfEtcd(err, `range of ${JSON.stringify(prefix)}`);
    }
  }

  async waitDelete(key: string, fromRevision: number, signal: AbortSignal): Promise<DeleteWait> {
    if (signal.aborted) return { kind: 'aborted' };
    const watcher = this.client.watch().key(key).startRevision(String(fromRevision)).only('delete').watcher();
    try {
      return await new Promise<DeleteWait>((resolve) => {
        watcher.on('delete', (kv: { mod_revision: string }) => resolve({ kind: 'deleted', revision: revisionOf(kv.mod_revision) }));
        // cancelled by etcd (compacted past fromRevision, say): re-read
        watcher.on('error', () => resolve({ kind: 'unknown' }));
        signal.addEventListener('abort', () => resolve({ kind: 'aborted' }), { once: true });
      });
    } finally {
      await cancelQuietly(watcher);
    }
  }

  async *watchPrefix(prefix: string, fromRevision: number, signal: AbortSignal): AsyncGenerator<readonly KvChange[], void, undefined> {
    if (signal.aborted) return;
    const watcher = this.client.watch().prefix(prefix).startRevision(String(fromRevision)).watcher();
    const queue: IWatchResponse[] = [];
    let failure: LockError | undefined;
    let wake: (() => void) | undefined;
    const poke = (): void => {
      wake?.();
      wake = undefined;
    };
    watcher.on('data', (answer: IWatchResponse) => {
      if (queue.length >= MAX_QUEUED_WATCH_ANSWERS) failure ??= new LockError('BACKEND_ERROR', `watch of ${JSON.stringify(prefix)}: the reader fell ${MAX_QUEUED_WATCH_ANSWERS} answers behind`, BACKEND);
      else if (answer.events.length > 0) queue.push(answer);
      poke();
    });
    watcher.on('error', (err: Error) => {
      failure ??= lockErrorOfEtcd(err, `watch of ${JSON.stringify(prefix)}`);
      poke();
    });
    const onAbort = (): void => poke();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      // one turn per watch answer, until the signal aborts or the watch fails
      for (;;) {
        if (signal.aborted) return;
        if (failure !== undefined) throw failure;
        const answer = queue.shift();
        if (answer === undefined) {
          await new Promise<void>((resolve) => (wake = resolve));
          continue;
        }
        // an answer may hold several revisions: yield each one's changes together
        let batch: KvChange[] = [];
        for (const event of answer.events) {
          const revision = revisionOf(event.kv.mod_revision);
          if (batch.length > 0 && (batch[0] as KvChange).revision !== revision) {
            yield batch;
            batch = [];
          }
          const put = event.type === 'Put';
          batch.push({ type: put ? 'put' : 'delete', key: event.kv.key.toString('utf8'), value: put ? event.kv.value.toString('utf8') : '', createRevision: put ? revisionOf(event.kv.create_revision) : 0, revision });
        }
        if (batch.length > 0) yield batch;
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      await cancelQuietly(watcher);
    }
  }

  async close(): Promise<void> {
    if (this.closeClient) this.client.close();
  }
}

/** Cancels a watch, waiting at most a second for etcd to confirm (a watch on a lost connection is gone anyway). */
async function cancelQuietly(watcher: Watcher): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([watcher.cancel(), new Promise<void>((resolve) => (timer = setTimeout(resolve, CANCEL_WAIT_MS)))]);
  } catch {
    // the connection is gone: so is the watch
  } finally {
    clearTimeout(timer);
  }
}
