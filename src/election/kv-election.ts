// Leader election on a LeaseKv (Synod or etcd), after etcd's concurrency.Election: a campaign is
// a lock whose key holds the leader's value; the leader is the candidate with the lowest create
// revision (its fencing token); observers watch the name's prefix and follow that.
import type { AcquireOptions, Election, Leader, Leadership, LockGrant } from '../lock/api.js';
import { isLockError, LockError } from '../lock/errors.js';
import { checkName, KvQueue, type QueueRule } from '../lock/kv-queue.js';
import { MAX_CONTENDERS, type KvEntry, type LeaseKv } from '../lock/lease-kv.js';
import { keepGrantAlive, type GrantKeeper } from '../lock/using.js';

export interface KvElectionOptions {
  /** Where the election's keys live (default "synod-election/"). */
  readonly keyPrefix?: string;
}

const LAST_AHEAD: QueueRule = { kind: 'watchOne', blocker: (ahead) => ahead[ahead.length - 1] };
const REREAD_BACKOFF_MS = 100;
const REREAD_BACKOFF_MAX_MS = 2000;

function sameLeader(a: Leader<number> | null, b: Leader<number> | null): boolean {
  return a === null || b === null ? a === b : a.token === b.token && a.value === b.value;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}

export class KvElection implements Election<number> {
  private readonly queue: KvQueue;
  /** The terms this client won and keeps alive, by key. */
  private readonly terms = new Map<string, GrantKeeper<LockGrant<number>>>();
  private readonly closing = new AbortController();

  constructor(kv: LeaseKv, options: KvElectionOptions = {}) {
    this.queue = new KvQueue(kv, options.keyPrefix ?? 'synod-election/');
  }

  get backend(): string {
    return this.queue.backend;
  }

  /**
   * Waits (FIFO among candidates) until this candidate is the leader, then keeps its lease alive
   * until `resign` (or `close`); the leadership's signal aborts when the lease may have been lost.
   */
  async campaign(name: string, value: string, options: AcquireOptions): Promise<Leadership<number>> {
    this.checkValue(value);
    const grant = (await this.queue.enter(name, value, options, LAST_AHEAD, 'wait')) as LockGrant<number>;
    const keeper = keepGrantAlive(grant, (g) => this.queue.extend(g), { everyMs: options.ttlMs / 3, backend: this.backend });
    const key = this.queue.keyOf(grant);
    this.terms.set(key, keeper);
    // a term lost is forgotten (a resign of it then only revokes what may be left)
    keeper.signal.addEventListener('abort', () => this.terms.delete(key), { once: true });
    return Object.freeze({ ...grant, value, signal: AbortSignal.any([keeper.signal, this.closing.signal]) });
  }

  /** Puts a new value in the leader's key if it is still this term's (same create revision); LEASE_LOST otherwise. */
  async proclaim(leadership: Leadership<number>, value: string): Promise<Leadership<number>> {
    this.checkValue(value);
    const key = this.queue.keyOf(leadership);
    const keeper = this.terms.get(key);
    if (leadership.signal.aborted) throw new LockError('LEASE_LOST', `the leadership of ${JSON.stringify(leadership.name)} may have been lost`, this.backend, { cause: leadership.signal.reason });
    let done;
    try {
      done = await this.queue.kv.txn({
        compare: [{ key, target: 'createRevision', cmp: '=', value: leadership.token }],
        success: [{ op: 'put', key, value, lease: leadership.holder }],
        failure: [],
      });
    } catch (err) {
      // the lease is gone: the put named a lease that does not exist
      if (isLockError(err, 'LEASE_LOST')) throw new LockError('LEASE_LOST', `${JSON.stringify(leadership.name)}: this term's lease is gone`, this.backend, { cause: err });
      throw err;
    }
    if (!done.succeeded) throw new LockError('LEASE_LOST', `${JSON.stringify(leadership.name)}: this term's key is gone`, this.backend);
    return Object.freeze({ ...leadership, value, leaseExpiresAt: keeper?.grant.leaseExpiresAt ?? leadership.leaseExpiresAt });
  }

  /** Steps down: stops keeping the lease alive and revokes it (the next candidate takes over). A term already lost is no error. */
  async resign(leadership: Leadership<number>): Promise<void> {
    const key = this.queue.keyOf(leadership);
    const keeper = this.terms.get(key);
    this.terms.delete(key);
    await keeper?.stop();
    try {
      await this.queue.release(leadership);
    } catch (err) {
      if (!isLockError(err, 'LEASE_LOST')) throw err;
    }
  }

  async leader(name: string): Promise<Leader<number> | null> {
    checkName(name, this.backend);
    const line = await this.queue.kv.range(this.queue.namePrefix(name));
    const first = line.entries[0];
    return first === undefined ? null : { name, value: first.value, token: first.createRevision };
  }

  /**
   * The current leader first (null: none), then every change of leader or of its value, until
   * `signal` aborts or the client is closed. Follows a watch of the name's prefix; when the watch
   * fails it reads the line again and goes on (a change in between may be skipped, never reordered).
   */
  async *observe(name: string, options: { readonly signal?: AbortSignal } = {}): AsyncGenerator<Leader<number> | null, void, undefined> {
    checkName(name, this.backend);
    const prefix = this.queue.namePrefix(name);
    const signal = options.signal === undefined ? this.closing.signal : AbortSignal.any([this.closing.signal, options.signal]);
    let last: Leader<number> | null | undefined;
    let backoffMs = REREAD_BACKOFF_MS;
    const leaderOf = (line: ReadonlyMap<string, KvEntry>): Leader<number> | null => {
      let first: KvEntry | undefined;
      for (const entry of line.values()) if (first === undefined || entry.createRevision < first.createRevision) first = entry;
      return first === undefined ? null : { name, value: first.value, token: first.createRevision };
    };
    // each turn reads the line and follows its watch until the watch fails; bounded by the signal
    while (!signal.aborted) {
      const read = await this.queue.kv.range(prefix);
      const line = new Map(read.entries.map((e) => [e.key, e]));
      const now = leaderOf(line);
      if (last === undefined || !sameLeader(last, now)) yield (last = now);
      try {
        for await (const changes of this.queue.kv.watchPrefix(prefix, read.revision + 1, signal)) {
          backoffMs = REREAD_BACKOFF_MS;
          for (const c of changes) {
            if (c.type === 'put') line.set(c.key, { key: c.key, value: c.value, createRevision: c.createRevision, lease: '' });
            else line.delete(c.key);
          }
          // more than a range may read: read it again (which refuses past the bound)
          if (line.size > MAX_CONTENDERS) break;
          const next = leaderOf(line);
          if (!sameLeader(last, next)) yield (last = next);
        }
      } catch (err) {
        if (signal.aborted) return;
        if (!(err instanceof LockError)) throw err;
      }
      await sleep(backoffMs, signal);
      backoffMs = Math.min(2 * backoffMs, REREAD_BACKOFF_MAX_MS);
    }
  }

  /** Stops keeping this client's terms alive (they expire after their TTL; their signals abort now) and closes the adapter. */
  async close(): Promise<void> {
    this.closing.abort(new LockError('LEASE_LOST', 'the election client was closed: its terms are no longer kept alive', this.backend));
    await Promise.all([...this.terms.values()].map((k) => k.stop()));
    this.terms.clear();
    await this.queue.close();
  }

  private checkValue(value: unknown): asserts value is string {
    if (typeof value !== 'string') throw new LockError('BAD_REQUEST', `a leader's value is a string, not ${typeof value}`, this.backend);
  }
}
