// SynodClient: typed calls to the KV's HTTP API (get, range, put, delete, cas, incr, txn,
// compaction, reads at past revisions, watch) with endpoint failover. Every write carries a
// client session (clientId + seq): a write retried on another node after a timeout, a dropped
// connection or a leader change is applied at most once, and answered with its first result.
import { randomBytes } from 'node:crypto';
import type { JsonValue } from '../core/index.js';
import type { Compare, KvItem, TxnOp } from '../kv/index.js';
import { errorOfAnswer, SynodError } from './errors.js';
import { RequestFailure, Transport, type Answer, type ClientTls } from './transport.js';
import { Watch, type WatchOptions, type WatchSelector } from './watch.js';
import { encodeSegment } from '../supervisor/node-client.js';

export interface SynodClientOptions {
  /** The nodes' client URLs (http:// or https://); any of them will do, writes are forwarded to the leader. */
  readonly endpoints: readonly string[];
  readonly tls?: ClientTls;
  /** Sent with every request, e.g. `{ authorization: 'Bearer …' }` or Basic credentials. */
  readonly headers?: Readonly<Record<string, string>>;
  /** One attempt on one node waits this long for an answer. Default 10 s. */
  readonly requestTimeoutMs?: number;
  /** A call keeps retrying (on other nodes, while a retry cannot apply a write twice) for this long. Default 10 s. */
  readonly retryForMs?: number;
  /** The client's session name; writes use `${clientId}-N`. Default: random. */
  readonly clientId?: string;
}

export interface ReadOptions {
  /** Read as of this past revision (0 or absent: now). Below the compaction point: COMPACTED. */
  readonly revision?: number;
  /** Answer from the node asked, without a round to the leader (may be stale). */
  readonly serializable?: boolean;
}

export interface GetResult {
  readonly revision: number;
  /** null when the key does not exist (then version and revisions are 0). */
  readonly value: JsonValue;
  readonly version: number;
  readonly createRevision: number;
  readonly modRevision: number;
  readonly lease?: number;
}

export interface RangeOptions extends ReadOptions {
  readonly prefix?: string;
  readonly start?: string;
  readonly end?: string;
  /** At most this many items (default 1000). */
  readonly limit?: number;
}

export interface RangeResult {
  readonly revision: number;
  readonly items: readonly KvItem[];
  /** More keys matched than `limit`. */
  readonly more: boolean;
}

export interface PutResult {
  readonly revision: number;
  readonly version: number;
}

export interface DeleteResult {
  readonly revision: number;
  readonly deleted: boolean;
}

/** A range delete: every key under `prefix` ("" for all), or in [start, end). The cluster's own keys are never touched. */
export type DeleteRangeSelector = { readonly prefix: string } | { readonly start: string; readonly end: string };

export interface DeleteRangeResult {
  readonly revision: number;
  readonly deleted: number;
  /** With `prevKv: true`: the deleted items, in key order. */
  readonly prevKvs?: readonly KvItem[];
}

export interface CasResult {
  readonly revision: number;
  readonly swapped: boolean;
  readonly version: number;
}

export interface IncrResult {
  readonly revision: number;
  readonly value: number;
  readonly version: number;
}

/** A transaction: if every compare holds, the success operations run, else the failure ones; all at one revision. */
export interface TxnInput {
  readonly compare?: readonly Compare[];
  readonly success?: readonly TxnOp[];
  readonly failure?: readonly TxnOp[];
}

/** One operation's result inside a txn: what it would answer alone (see docs/kv.md). */
export type TxnOpResult = { readonly revision: number } & Readonly<Record<string, JsonValue>>;

export interface TxnResult {
  /** The revision the txn ended at (unchanged if it changed nothing). */
  readonly revision: number;
  /** Whether the compares held (the success branch ran). */
  readonly succeeded: boolean;
  readonly results: readonly TxnOpResult[];
}

export interface CompactResult {
  readonly revision: number;
  readonly compactRevision: number;
}

export interface LeaseGrantResult {
  readonly revision: number;
  readonly id: number;
  readonly ttlMs: number;
}

export interface LeaseTimeResult {
  readonly revision: number;
  readonly id: number;
  readonly ttlMs: number;
  /** Time left by the leader's clock when it answered. */
  readonly remainingMs: number;
  readonly keys?: readonly string[];
}

/** A lease result, which may carry `error` (lease-not-found, lease-expired, lease-exists) with HTTP 200. */
type LeaseAnswer = Record<string, unknown> & { error?: string };

const LEASE_ERROR_CODES: Readonly<Record<string, string>> = { 'lease-not-found': 'LEASE_NOT_FOUND', 'lease-expired': 'LEASE_NOT_FOUND', 'lease-exists': 'LEASE_EXISTS' };

/** The result as the route documents it (docs/kv.md, "Leases over HTTP"), or a SynodError for the lease error it carries. */
function leaseOk<T>(answer: unknown): T {
  const result = answer as LeaseAnswer;
  if (result.error === undefined) return answer as T;
  throw new SynodError(LEASE_ERROR_CODES[result.error] ?? 'LEASE_ERROR', `lease: ${result.error}`, 200, false, result);
}

function leaseId(id: number): number {
  if (!Number.isSafeInteger(id) || id < 1) throw new SynodError('BAD_LEASE_ID', `a lease id is a whole number >= 1, not ${String(id)}`);
  return id;
}

/**
 * Renews a lease on a timer until stopped; `signal` aborts (with the reason) once the lease may
 * have expired. Its only state is the deadline known from the last successful renewal.
 */
export class LeaseKeeper {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /**
   * This process's monotonic time after which the lease may be gone, from the last success.
   * Before the first success nothing is known, so a first renewal that fails aborts at once
   * (unless the caller said when the lease was granted, with its TTL).
   */
  private deadlineMs: number;

  constructor(
    private readonly client: SynodClient,
    readonly id: number,
    private everyMs: number | undefined,
    grantedTtlMs?: number,
  ) {
    this.deadlineMs = grantedTtlMs === undefined ? performance.now() : performance.now() + grantedTtlMs;
    void this.renew();
  }

  /** Aborts when the lease may have expired; `signal.reason` is a SynodError saying why. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Stops renewing (the lease then runs out on its own unless revoked). */
  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
  }

  private lose(reason: SynodError): void {
    if (!this.controller.signal.aborted) this.controller.abort(reason);
    this.stop();
  }

  private async renew(): Promise<void> {
    if (this.stopped) return;
    const sentMs = performance.now();
    try {
      const answer = await this.client.leaseKeepAliveOnce(this.id);
      // the leader measured from its own clock after receiving the request: count from sending
      this.deadlineMs = sentMs + answer.remainingMs;
      this.everyMs ??= Math.max(10, Math.floor(answer.ttlMs / 3));
    } catch (err) {
      const error = err instanceof SynodError ? err : new SynodError('UNREACHABLE', String(err));
      if (error.code === 'LEASE_NOT_FOUND') return this.lose(error);
    }
    if (performance.now() >= this.deadlineMs) return this.lose(new SynodError('LEASE_MAY_HAVE_EXPIRED', `lease ${this.id}: no renewal succeeded before its time ran out`));
    if (this.stopped) return;
    const waitMs = Math.min(this.everyMs ?? 500, Math.max(0, this.deadlineMs - performance.now()));
    this.timer = setTimeout(() => void this.renew(), waitMs);
    this.timer.unref();
  }
}

const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
const DEFAULT_RETRY_FOR_MS = 10_000;

/** A client session: one write at a time, with a growing sequence number. */
interface Session {
  readonly id: string;
  seq: number;
}

export class SynodClient {
  private readonly endpoints: readonly string[];
  private readonly transport: Transport;
  /** The endpoint that answered last: tried first. */
  private preferred = 0;
  private readonly clientId: string;
  /** Sessions not in use. A write takes one, so concurrent writes never share a session (the server keeps one seq per session). */
  private readonly idleSessions: Session[] = [];
  private sessionCount = 0;
  private readonly requestTimeoutMs: number;
  private readonly retryForMs: number;

  constructor(options: SynodClientOptions) {
    if (options.endpoints.length === 0) throw new SynodError('BAD_ENDPOINT', 'no endpoints given');
    for (const endpoint of options.endpoints) {
      let url: URL;
      try {
        url = new URL(endpoint);
      } catch {
        throw new SynodError('BAD_ENDPOINT', `bad endpoint ${JSON.stringify(endpoint)} (expected e.g. https://127.0.0.1:7001)`);
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new SynodError('BAD_ENDPOINT', `bad endpoint ${JSON.stringify(endpoint)}: only http:// and https://`);
    }
    this.endpoints = [...options.endpoints];
    this.transport = new Transport({ ...(options.tls === undefined ? {} : { tls: options.tls }), ...(options.headers === undefined ? {} : { headers: options.headers }) });
    this.clientId = options.clientId ?? `client-${randomBytes(9).toString('base64url')}`;
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.retryForMs = options.retryForMs ?? DEFAULT_RETRY_FOR_MS;
  }

  // ================================================================ reads

  /** A key's value and versions (linearizable unless `serializable`), now or at a past revision. */
  async get(key: string, options: ReadOptions = {}): Promise<GetResult> {
    const q = readQuery(options);
    return (await this.read(`/v1/kv/${keySegment(key)}${q}`)) as GetResult;
  }

  /** Keys in [start, end) and/or under a prefix, in key order. */
  async range(options: RangeOptions = {}): Promise<RangeResult> {
    const q = new URLSearchParams();
    for (const name of ['prefix', 'start', 'end'] as const) if (options[name] !== undefined) q.set(name, options[name]);
    if (options.limit !== undefined) q.set('limit', String(options.limit));
    addRead(q, options);
    return (await this.read(`/v1/kv${queryText(q)}`)) as RangeResult;
  }

  // ================================================================ writes

  /** Writes `value` at `key` (null deletes). Leases: see the lease part of this client (`put` with a lease is added there). */
  async put(key: string, value: JsonValue): Promise<PutResult> {
    return (await this.write('PUT', `/v1/kv/${keySegment(key)}`, { value })) as PutResult;
  }

  async delete(key: string): Promise<DeleteResult> {
    return (await this.write('DELETE', `/v1/kv/${keySegment(key)}`, {})) as DeleteResult;
  }

  /** Deletes every key under a prefix or in [start, end), at one revision. */
  async deleteRange(selector: DeleteRangeSelector, options: { readonly prevKv?: boolean } = {}): Promise<DeleteRangeResult> {
    const q = new URLSearchParams('prefix' in selector ? { prefix: selector.prefix } : { start: selector.start, end: selector.end });
    return (await this.write('DELETE', `/v1/kv${queryText(q)}`, options.prevKv === true ? { prevKv: true } : {})) as DeleteRangeResult;
  }

  /** Sets `to` if the value is `from` (null: only if absent). */
  async cas(key: string, from: JsonValue, to: JsonValue): Promise<CasResult> {
    return (await this.write('POST', `/v1/kv/${keySegment(key)}/cas`, { from, to })) as CasResult;
  }

  /** Sets `value` if the key's version is `version` (0: only if absent). */
  async casVersion(key: string, version: number, value: JsonValue): Promise<CasResult> {
    return (await this.write('POST', `/v1/kv/${keySegment(key)}/cas`, { version, value })) as CasResult;
  }

  /** Adds `by` (default 1) to a number; an absent key counts as 0. NOT_A_NUMBER when it holds something else. */
  async incr(key: string, by = 1): Promise<IncrResult> {
    const result = (await this.write('POST', `/v1/kv/${keySegment(key)}/incr`, { by })) as IncrResult & { error?: string };
    if (result.error === 'not-a-number') throw new SynodError('NOT_A_NUMBER', `key ${JSON.stringify(key)} does not hold a number`);
    return result;
  }

  /** Runs a transaction (compares, then the success or the failure operations), atomically at one revision. */
  async txn(txn: TxnInput): Promise<TxnResult> {
    const body: Record<string, unknown> = {};
    if (txn.compare !== undefined) body['compare'] = txn.compare;
    if (txn.success !== undefined) body['success'] = txn.success;
    if (txn.failure !== undefined) body['failure'] = txn.failure;
    return (await this.write('POST', '/v1/txn', body)) as TxnResult;
  }

  /** Forgets the history before `revision` (reads and watches below it get COMPACTED). Root only when authentication is on. */
  async compact(revision: number): Promise<CompactResult> {
    return (await this.write('POST', '/v1/compact', { revision })) as CompactResult;
  }

  // ================================================================ leases

  /** Grants a lease of `ttlMs` (at least the cluster's minimum, 1.5 × its election timeout). */
  async leaseGrant(ttlMs: number, options: { readonly id?: number } = {}): Promise<LeaseGrantResult> {
    return leaseOk<LeaseGrantResult>(await this.write('POST', '/v1/leases', { ttlMs, ...(options.id === undefined ? {} : { id: options.id }) }));
  }

  /** Writes `value` at `key` attached to lease `lease`: the key is deleted with the lease. LEASE_NOT_FOUND when it is gone. */
  async putWithLease(key: string, value: JsonValue, lease: number): Promise<PutResult> {
    return leaseOk<PutResult>(await this.write('PUT', `/v1/kv/${keySegment(key)}`, { value, lease }));
  }

  /** Renews a lease once; the answer gives the time left by the leader's clock. LEASE_NOT_FOUND when it is gone. */
  async leaseKeepAliveOnce(id: number): Promise<LeaseTimeResult> {
    return leaseOk<LeaseTimeResult>(await this.read(`/v1/leases/${leaseId(id)}/keep-alive`, 'POST'));
  }

  /** The lease's granted TTL and time left (and its keys with `keys`). */
  async leaseTimeToLive(id: number, options: { readonly keys?: boolean } = {}): Promise<LeaseTimeResult> {
    return leaseOk<LeaseTimeResult>(await this.read(`/v1/leases/${leaseId(id)}${options.keys === true ? '?keys=true' : ''}`));
  }

  /** Revokes a lease: it and every key attached are deleted at one revision. */
  async leaseRevoke(id: number): Promise<{ readonly revision: number }> {
    return leaseOk<{ revision: number }>(await this.write('DELETE', `/v1/leases/${leaseId(id)}`, {}));
  }

  /** Leases with their granted TTL, in id order. */
  async leaseList(options: { readonly after?: number; readonly limit?: number } = {}): Promise<{ readonly revision: number; readonly leases: readonly { id: number; ttlMs: number }[]; readonly more: boolean }> {
    const q = new URLSearchParams();
    if (options.after !== undefined) q.set('after', String(options.after));
    if (options.limit !== undefined) q.set('limit', String(options.limit));
    return (await this.read(`/v1/leases${queryText(q)}`)) as { revision: number; leases: { id: number; ttlMs: number }[]; more: boolean };
  }

  /**
   * Keeps lease `id` alive by renewing it every `everyMs` (default a third of its TTL) until
   * `stop()`. `signal` aborts when the lease may have expired: a renewal answered that it is gone,
   * or no renewal succeeded before the time left at the last success ran out (measured on this
   * process's monotonic clock from when that renewal was sent). Whoever holds what the lease
   * guards must stop acting on it when the signal fires. `grantedTtlMs` (the TTL of a grant
   * just made) lets a first renewal that fails be retried within that time.
   */
  keepAlive(id: number, options: { readonly everyMs?: number; readonly grantedTtlMs?: number } = {}): LeaseKeeper {
    return new LeaseKeeper(this, leaseId(id), options.everyMs, options.grantedTtlMs);
  }

  // ================================================================ watch

  /**
   * Watches a key, a range or a prefix. Iterate the result (`for await (const m of watch)`): each
   * message holds one revision's events, in order, or a progress note. It resumes on another node
   * after a failure from the revision after the last one yielded, with no gap and no duplicate.
   */
  watch(selector: WatchSelector, options: WatchOptions = {}): Watch {
    return new Watch({ transport: this.transport, endpoints: this.endpoints, firstEndpoint: this.preferred, connectTimeoutMs: this.requestTimeoutMs }, selector, options);
  }

  /** Closes idle connections (watches and calls under way finish). */
  close(): void {
    this.transport.close();
  }

  // ================================================================ plumbing

  private read(path: string, method = 'GET'): Promise<unknown> {
    // a read has no effect (a keep-alive only moves the leader's deadline): it may always be sent again, to any node
    return this.call(method, path, undefined);
  }

  private async write(method: string, path: string, body: Record<string, unknown>): Promise<unknown> {
    const session = this.idleSessions.pop() ?? { id: `${this.clientId}-${this.sessionCount++}`, seq: 0 };
    session.seq++;
    try {
      // with the session, a retry applies at most once: retry whatever the first attempt did
      return await this.call(method, path, { ...body, clientId: session.id, seq: session.seq });
    } finally {
      // the next write of this session takes a higher seq, so a copy of this one still in flight can never apply after it
      this.idleSessions.push(session);
    }
  }

  /**
   * Sends a request, moving to the next endpoint after a failure that may be passing (no answer,
   * or a 5xx: no leader, leader changed, timeout) for up to retryForMs. Only reads and writes with
   * a session come here, so a retry never applies anything twice. Resolves with the answer's
   * `result`; throws SynodError otherwise (at once for a 4xx: the request itself is refused).
   */
  private async call(method: string, path: string, body: unknown): Promise<unknown> {
    const deadline = performance.now() + this.retryForMs;
    let at = this.preferred;
    let last: SynodError | undefined;
    // each turn is one attempt on one node; bounded by the deadline
    for (let attempt = 0; ; attempt++) {
      const endpoint = this.endpoints[at % this.endpoints.length] as string;
      let answer: Answer | undefined;
      try {
        answer = await this.transport.request(endpoint, method, path, body, this.requestTimeoutMs);
      } catch (err) {
        const failure = err as RequestFailure;
        last = new SynodError(failure.sent ? 'NO_ANSWER' : 'UNREACHABLE', `${endpoint}: ${failure.message}`, 0, !failure.sent, {}, endpoint);
      }
      if (answer !== undefined) {
        if (answer.status >= 200 && answer.status < 300) {
          this.preferred = at % this.endpoints.length;
          const result = (answer.body as { result?: unknown } | null)?.result;
          if (result === undefined) throw new SynodError('BAD_ANSWER', `${endpoint} answered without a result`, answer.status, false, {}, endpoint);
          return result;
        }
        last = errorOfAnswer(answer.status, answer.body, endpoint);
        if (answer.status < 500) throw last;
      }
      if (performance.now() >= deadline) break;
      at++;
      await new Promise((r) => setTimeout(r, Math.min(50 * 2 ** Math.min(attempt, 5), 1000)));
    }
    throw last as SynodError;
  }
}

function keySegment(key: string): string {
  if (key.length === 0) throw new SynodError('BAD_KEY', 'a key must not be empty');
  return encodeSegment(key);
}

function addRead(q: URLSearchParams, options: ReadOptions): void {
  if (options.revision !== undefined && options.revision !== 0) q.set('revision', String(options.revision));
  if (options.serializable === true) q.set('consistency', 'serializable');
}

function readQuery(options: ReadOptions): string {
  const q = new URLSearchParams();
  addRead(q, options);
  return queryText(q);
}

/** A query string with spaces as %20 ("+" would also mean a space to the API, and keys may hold "+"). */
function queryText(q: URLSearchParams): string {
  const text = q.toString().replaceAll('+', '%20');
  return text === '' ? '' : `?${text}`;
}


