// The queue every etcd-style recipe stands in: a contender grants itself a lease, puts the key
// `<prefix><name>/<lease id>` with it (the key's create revision is its place in line and its
// fencing token), and waits until a rule over the contenders ahead of it lets it in. One
// implementation over LeaseKv, for Synod and etcd alike.
import type { AcquireOptions, LockGrant } from './api.js';
import { isLockError, LockError } from './errors.js';
import type { KvEntry, KvRange, KvTxn, KvTxnResult, LeaseId, LeaseKv } from './lease-kv.js';
import { keepGrantAlive } from './using.js';

/**
 * When a contender may go in, given the contenders ahead of it (lower create revisions, oldest
 * first). `watchOne`: it waits for the delete of the one entry `blocker` names (none: it is in),
 * then reads again; a release wakes only the contender right behind (lock, read-write lock,
 * election). `count`: it is in when fewer than `permits` are ahead; it watches the name's prefix
 * for deletes and counts them without asking the server again (semaphore).
 */
export type QueueRule = { readonly kind: 'watchOne'; readonly blocker: (ahead: readonly KvEntry[]) => KvEntry | undefined } | { readonly kind: 'count'; readonly permits: number };

/** `rule` lets the contender in now. */
function admits(rule: QueueRule, ahead: readonly KvEntry[]): boolean {
  return rule.kind === 'count' ? ahead.length < rule.permits : rule.blocker(ahead) === undefined;
}

/** Part of a TTL held back for the difference between this process's clock rate and the server's (0.1%). */
const DRIFT_ALLOWANCE = 0.001;
/**
 * A grant that waited starts with at least this share of its TTL left: its lease is renewed on
 * admission unless the grant or the last keep-alive left that much (a wait of under a tenth of
 * the TTL renews nothing).
 */
const FRESH_LEASE_SHARE = 0.9;
/** A watch that could not tell (compaction, no server) is retried after this long, doubling up to the maximum. */
const REREAD_BACKOFF_MS = 100;
const REREAD_BACKOFF_MAX_MS = 2000;
/** The longest delay Node's timers take (2^31 − 1 ms, about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** This process's wall-clock time before which a lease renewed for `ttlMs` by a request sent at `sentAt` cannot have expired. */
export function expiryOf(sentAt: number, ttlMs: number): number {
  return sentAt + ttlMs - Math.ceil(ttlMs * DRIFT_ALLOWANCE);
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

export function checkName(name: unknown, backend: string): asserts name is string {
  if (typeof name !== 'string' || name.length === 0) throw new LockError('BAD_REQUEST', `a lock name is a non-empty string, not ${JSON.stringify(name)}`, backend);
}

export function checkTtl(ttlMs: unknown, backend: string): asserts ttlMs is number {
  if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs <= 0) throw new LockError('BAD_REQUEST', `ttlMs is a number of milliseconds > 0, not ${String(ttlMs)}`, backend);
}

function checkOptions(options: AcquireOptions, backend: string): void {
  checkTtl(options.ttlMs, backend);
  const wait = options.waitMs;
  if (wait !== undefined && (typeof wait !== 'number' || Number.isNaN(wait) || wait < 0)) throw new LockError('BAD_REQUEST', `waitMs is a number of milliseconds >= 0, not ${String(wait)}`, backend);
}

function checkGrant(grant: LockGrant<number>, backend: string): void {
  if (typeof grant?.holder !== 'string' || grant.holder.length === 0 || typeof grant.token !== 'number') throw new LockError('BAD_REQUEST', `not a grant of the ${backend} backend`, backend);
}

export class KvQueue {
  /** Aborts every wait under way when the recipe is closed. */
  private readonly closing = new AbortController();

  constructor(
    readonly kv: LeaseKv,
    /** Where this recipe's keys live, e.g. "synod-lock/". */
    readonly prefix: string,
  ) {}

  get backend(): string {
    return this.kv.backend;
  }

  /** The prefix under which the contenders for `name` put their keys. */
  namePrefix(name: string): string {
    // "/" in a name is escaped, so that "a" and "a/b" never share a prefix
    return `${this.prefix}${encodeURIComponent(name)}/`;
  }

  keyOf(grant: { readonly name: string; readonly holder: string }): string {
    return this.namePrefix(grant.name) + grant.holder;
  }

  /**
   * Joins the queue of `name` with `value` and waits until `rule` lets it in: the grant, or null
   * when `mode` is 'try' and it would have to wait. LOCK_TIMEOUT, LOCK_ABORTED, LEASE_LOST and
   * the backend's errors otherwise; then the contender's lease is revoked (its key with it).
   */
  async enter(name: string, value: string, options: AcquireOptions, rule: QueueRule, mode: 'wait' | 'try'): Promise<LockGrant<number> | null> {
    checkName(name, this.backend);
    checkOptions(options, this.backend);
    this.checkNotAborted(options.signal);
    const ttlMs = Math.ceil(options.ttlMs);
    const sentAt = Date.now();
    const prefix = this.namePrefix(name);
    // put the key if it is not there yet (a retried txn that applied finds it), and read the line
    const joining = (id: LeaseId): KvTxn => {
      const key = prefix + id;
      return { compare: [{ key, target: 'createRevision', cmp: '=', value: 0 }], success: [{ op: 'put', key, value, lease: id }, { op: 'range', prefix }], failure: [{ op: 'range', prefix }] };
    };
    // one write where the backend grants a lease inside a txn (Synod), else a grant and then the txn
    let lease: { readonly id: LeaseId; readonly ttlMs: number };
    let joined: KvTxnResult | undefined;
    if (this.kv.grantWithTxn !== undefined) ({ lease, result: joined } = await this.kv.grantWithTxn(ttlMs, joining));
    else lease = await this.kv.leaseGrant(ttlMs);
    try {
      const key = prefix + lease.id;
      joined ??= await this.kv.txn(joining(lease.id));
      const line = joined.ranges[0] ?? [];
      const mine = line.find((e) => e.key === key);
      if (mine === undefined) throw new LockError('LEASE_LOST', `${JSON.stringify(name)}: the lease ${lease.id} ended before its key was read back`, this.backend);
      const grant: LockGrant<number> = Object.freeze({ name, holder: lease.id, token: mine.createRevision, leaseExpiresAt: expiryOf(sentAt, Math.min(ttlMs, lease.ttlMs)) });
      const ahead = line.filter((e) => e.createRevision < mine.createRevision);
      if (admits(rule, ahead)) {
        // an abort that came while joining still wins: the grant is given up
        this.checkNotAborted(options.signal);
        return grant;
      }
      if (mode === 'try' || options.waitMs === 0) {
        await this.revokeQuietly(lease.id);
        if (mode === 'try') return null;
        throw new LockError('LOCK_TIMEOUT', `${JSON.stringify(name)} is held (waitMs 0)`, this.backend);
      }
      return await this.waitInLine(grant, key, ahead, joined.revision, rule, options);
    } catch (err) {
      await this.revokeQuietly(lease.id);
      throw err;
    }
  }

  /** Waits in line with the lease kept alive; renews it on admission unless it has at least FRESH_LEASE_SHARE of its TTL left. */
  private async waitInLine(grant: LockGrant<number>, key: string, ahead: readonly KvEntry[], revision: number, rule: QueueRule, options: AcquireOptions): Promise<LockGrant<number>> {
    const keeper = keepGrantAlive(grant, (g) => this.extend(g), { everyMs: options.ttlMs / 3, backend: this.backend });
    // past the longest delay a timer takes, a wait is as good as endless
    const timeout = options.waitMs === undefined || options.waitMs > MAX_TIMER_MS ? undefined : AbortSignal.timeout(options.waitMs);
    const signals = [keeper.signal, this.closing.signal, ...(options.signal === undefined ? [] : [options.signal]), ...(timeout === undefined ? [] : [timeout])];
    const signal = AbortSignal.any(signals);
    try {
      await this.waitUntilAdmitted(grant, key, ahead, revision, rule, signal);
    } finally {
      await keeper.stop();
    }
    if (keeper.signal.aborted) throw keeper.signal.reason as LockError;
    if (this.closing.signal.aborted || options.signal?.aborted === true) throw new LockError('LOCK_ABORTED', `the wait for ${JSON.stringify(grant.name)} was aborted${this.closing.signal.aborted ? ' (the client was closed)' : ''}`, this.backend);
    if (timeout?.aborted === true) throw new LockError('LOCK_TIMEOUT', `${JSON.stringify(grant.name)} was still held after waitMs (${options.waitMs} ms)`, this.backend);
    // a lease granted or renewed moments ago is as good as a renewal now: a short wait costs no request
    if (keeper.grant.leaseExpiresAt - Date.now() >= FRESH_LEASE_SHARE * options.ttlMs) return keeper.grant;
    return this.extend(keeper.grant);
  }

  private async waitUntilAdmitted(grant: LockGrant<number>, key: string, firstAhead: readonly KvEntry[], firstRevision: number, rule: QueueRule, signal: AbortSignal): Promise<void> {
    const prefix = this.namePrefix(grant.name);
    let ahead = firstAhead;
    let revision = firstRevision;
    let backoffMs = REREAD_BACKOFF_MS;
    /** The revision of the delete just seen: a re-read of any state from it on will do. */
    let atLeast: number | undefined;
    // each turn waits for a change ahead, then reads the line again; bounded by the deletes ahead
    // and by the signal (the wait's time, the caller's abort, the lease)
    while (!signal.aborted) {
      let changed: boolean;
      /** The line as of the delete or later, where the backend sent it with the delete. */
      let lineWithDelete: KvRange | undefined;
      if (rule.kind === 'watchOne') {
        const blocker = rule.blocker(ahead);
        if (blocker === undefined) return;
        const seen = await this.kv.waitDelete(blocker.key, revision + 1, signal, prefix);
        if (seen.kind === 'aborted') return;
        changed = seen.kind === 'deleted';
        if (seen.kind === 'deleted') lineWithDelete = seen.line;
        // nobody ahead at some committed state stays true (nobody joins ahead of a key), so any
        // state from the delete on tells: the node the watch came from has it, without a quorum round
        atLeast = seen.kind === 'deleted' ? seen.revision : undefined;
      } else {
        if (ahead.length < rule.permits) return;
        const outcome = await this.countDeletes(prefix, key, ahead, revision, rule.permits, signal);
        if (outcome === 'admitted' || outcome === 'aborted') return;
        changed = false;
      }
      if (!changed) {
        await sleep(backoffMs, signal);
        backoffMs = Math.min(2 * backoffMs, REREAD_BACKOFF_MAX_MS);
      } else backoffMs = REREAD_BACKOFF_MS;
      if (signal.aborted) return;
      const line = lineWithDelete ?? (await this.kv.range(prefix, atLeast));
      if (!line.entries.some((e) => e.key === key)) throw new LockError('LEASE_LOST', `${JSON.stringify(grant.name)}: the waiting key ${key} is gone (its lease ended)`, this.backend);
      revision = line.revision;
      ahead = line.entries.filter((e) => e.createRevision < grant.token);
    }
  }

  /** Watches the prefix for deletes of the entries ahead until fewer than `permits` remain. */
  private async countDeletes(prefix: string, key: string, ahead: readonly KvEntry[], revision: number, permits: number, signal: AbortSignal): Promise<'admitted' | 'aborted' | 'reread'> {
    const live = new Set(ahead.map((e) => e.key));
    try {
      for await (const changes of this.kv.watchPrefix(prefix, revision + 1, signal)) {
        for (const change of changes) {
          if (change.type !== 'delete') continue;
          if (change.key === key) throw new LockError('LEASE_LOST', `the waiting key ${key} was deleted (its lease ended)`, this.backend);
          live.delete(change.key);
        }
        if (live.size < permits) return 'admitted';
      }
    } catch (err) {
      if (isLockError(err, 'LEASE_LOST')) throw err;
      // the watch failed (compaction, no server for a while): read the line again
      return signal.aborted ? 'aborted' : 'reread';
    }
    return signal.aborted ? 'aborted' : 'reread';
  }

  /** Renews the grant's lease: the grant with a new leaseExpiresAt. LEASE_LOST when it is gone. */
  async extend(grant: LockGrant<number>, ttlMs?: number): Promise<LockGrant<number>> {
    checkGrant(grant, this.backend);
    if (ttlMs !== undefined) checkTtl(ttlMs, this.backend);
    const sentAt = Date.now();
    const renewed = await this.kv.leaseKeepAlive(grant.holder);
    // a lease renews for the TTL it was granted with: a longer one cannot be had this way
    if (ttlMs !== undefined && ttlMs > renewed.ttlMs) throw new LockError('UNSUPPORTED', `${this.backend} renews a lease for the TTL it was granted with (${renewed.ttlMs} ms), not ${ttlMs} ms: acquire with the TTL you need`, this.backend);
    return Object.freeze({ ...grant, leaseExpiresAt: expiryOf(sentAt, Math.min(renewed.ttlMs, renewed.remainingMs)) });
  }

  /** Revokes the grant's lease, which deletes its key: the next in line goes in. LEASE_LOST when it was gone. */
  async release(grant: LockGrant<number>): Promise<void> {
    checkGrant(grant, this.backend);
    await this.kv.leaseRevoke(grant.holder);
  }

  async revokeQuietly(id: LeaseId): Promise<void> {
    // the lease expires on its own if this fails
    await this.kv.leaseRevoke(id).catch(() => undefined);
  }

  checkNotAborted(signal: AbortSignal | undefined): void {
    if (this.closing.signal.aborted) throw new LockError('LOCK_ABORTED', 'the client was closed', this.backend);
    if (signal?.aborted === true) throw new LockError('LOCK_ABORTED', 'the signal was aborted before the call', this.backend);
  }

  /** Aborts the waits under way and closes the adapter. */
  async close(): Promise<void> {
    this.closing.abort();
    await this.kv.close();
  }
}
