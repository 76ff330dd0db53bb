// The leader's clock over leases: when each lease expires, keep-alives, and which leases are due
// for a revoke. Not replicated: the host feeds it the store's lease changes and its own clock
// (`nowMs`, monotonic); only a leader (primary) expires leases, through `leaseRevoke` in the log.
import { assertInvariant } from '../core/index.js';
import type { LeaseInfo } from './requests.js';

/** What the store tells its Lessor at apply (KvStoreOptions.onLeaseChange): the same on every node. */
export type LeaseChange =
  | { readonly type: 'grant'; readonly id: number; readonly ttlMs: number }
  | { readonly type: 'revoke'; readonly id: number }
  /** The whole table replaced (restore from a snapshot). */
  | { readonly type: 'reset'; readonly leases: readonly LeaseInfo[] };

export type KeepAliveResult =
  | { readonly ok: true; readonly ttlMs: number; readonly expiresAtMs: number }
  /** not-primary: ask the leader; expired: its revoke is due or under way, a keep-alive cannot bring it back. */
  | { readonly ok: false; readonly error: 'lease-not-found' | 'expired' | 'not-primary' };

/** How long a lease reported by `expired` waits before it is reported again (its revoke may have been lost). */
export const DEFAULT_REVOKE_RETRY_MS = 1000;

interface Entry {
  readonly ttlMs: number;
  /** When it expires by this node's clock; Infinity while this node is not the leader. */
  expiresAtMs: number;
  /** When `expired` next reports it: its expiry, or a retry after a report. */
  dueMs: number;
}

/** A heap entry; stale once the lease's `dueMs` moved on (keep-alive, report) or the lease went. */
interface Due {
  readonly dueMs: number;
  readonly id: number;
}

export class Lessor {
  private readonly leases = new Map<number, Entry>();
  /** Min-heap on (dueMs, id), with stale entries left in place and skipped when popped. */
  private heap: Due[] = [];
  private primary = false;
  private extendMs = 0;

  /** True between promote and demote: only then do leases expire here. */
  get isPrimary(): boolean {
    return this.primary;
  }

  get size(): number {
    return this.leases.size;
  }

  /** Follows a grant, revoke or reset applied by the store; `nowMs` starts a new lease's clock on a leader. */
  follow(change: LeaseChange, nowMs: number): void {
    checkNow(nowMs);
    switch (change.type) {
      case 'grant':
        this.add(change.id, change.ttlMs, nowMs + change.ttlMs);
        break;
      case 'revoke':
        this.leases.delete(change.id);
        break;
      case 'reset':
        this.leases.clear();
        this.heap = [];
        // as on promotion: a restored lease may have been kept alive by a leader this node never heard
        for (const lease of change.leases) this.add(lease.id, lease.ttlMs, nowMs + lease.ttlMs + this.extendMs);
        break;
    }
  }

  /**
   * This node became leader: every lease expires `extendMs` after its full TTL from now, so that
   * one kept alive by the previous leader just before it lost leadership is not expired by this
   * one (etcd's lessor Promote). `extendMs` should cover an election: the election timeout.
   */
  promote(nowMs: number, extendMs: number): void {
    checkNow(nowMs);
    assertInvariant(Number.isFinite(extendMs) && extendMs >= 0, () => `lessor: extendMs must be a number >= 0, not ${extendMs}`);
    this.primary = true;
    this.extendMs = extendMs;
    for (const entry of this.leases.values()) {
      entry.expiresAtMs = nowMs + entry.ttlMs + extendMs;
      entry.dueMs = entry.expiresAtMs;
    }
    this.rebuildHeap();
  }

  /** This node is no longer leader: no lease expires here until the next promote. */
  demote(): void {
    this.primary = false;
    for (const entry of this.leases.values()) {
      entry.expiresAtMs = Infinity;
      entry.dueMs = Infinity;
    }
    this.heap = [];
  }

  /**
   * Renews lease `id`: it now expires no earlier than `ttlMs` after `nowMs` (never sooner than it
   * would have). Answer a client only from a leader that confirmed its leadership after the
   * keep-alive arrived (a read barrier), or a deposed leader could renew what the new one expires.
   */
  keepAlive(id: number, nowMs: number): KeepAliveResult {
    checkNow(nowMs);
    if (!this.primary) return { ok: false, error: 'not-primary' };
    const entry = this.leases.get(id);
    if (entry === undefined) return { ok: false, error: 'lease-not-found' };
    if (entry.expiresAtMs <= nowMs) return { ok: false, error: 'expired' };
    entry.expiresAtMs = Math.max(entry.expiresAtMs, nowMs + entry.ttlMs);
    entry.dueMs = entry.expiresAtMs;
    this.push({ dueMs: entry.dueMs, id });
    return { ok: true, ttlMs: entry.ttlMs, expiresAtMs: entry.expiresAtMs };
  }

  /**
   * At most `max` leases whose expiry has passed, earliest first (ties by id): the leader proposes
   * a `leaseRevoke` for each. A reported lease is reported again after `retryAfterMs` if it is
   * still there (its revoke was lost, say), not at every call. Empty on a follower.
   */
  expired(nowMs: number, max: number, retryAfterMs = DEFAULT_REVOKE_RETRY_MS): number[] {
    checkNow(nowMs);
    assertInvariant(Number.isSafeInteger(max) && max >= 1, () => `lessor: max must be an integer >= 1, not ${max}`);
    assertInvariant(Number.isFinite(retryAfterMs) && retryAfterMs > 0, () => `lessor: retryAfterMs must be > 0, not ${retryAfterMs}`);
    const out: number[] = [];
    const reported: Due[] = [];
    // every pop removes a heap entry: bounded by the heap's size
    while (out.length < max && this.heap.length > 0 && (this.heap[0] as Due).dueMs <= nowMs) {
      const top = this.pop();
      const entry = this.leases.get(top.id);
      if (entry === undefined || entry.dueMs !== top.dueMs) continue;
      out.push(top.id);
      entry.dueMs = nowMs + retryAfterMs;
      reported.push({ dueMs: entry.dueMs, id: top.id });
    }
    for (const due of reported) this.push(due);
    return out;
  }

  /** Milliseconds until lease `id` expires by this node's clock (0 once due); null when unknown here or not the leader. */
  remainingMs(id: number, nowMs: number): number | null {
    checkNow(nowMs);
    const entry = this.leases.get(id);
    if (!this.primary || entry === undefined) return null;
    return Math.max(0, entry.expiresAtMs - nowMs);
  }

  /** When lease `id` expires by this node's clock; null when unknown here or not the leader. */
  expiresAtMs(id: number): number | null {
    const entry = this.leases.get(id);
    return this.primary && entry !== undefined ? entry.expiresAtMs : null;
  }

  private add(id: number, ttlMs: number, leaderExpiryMs: number): void {
    const expiresAtMs = this.primary ? leaderExpiryMs : Infinity;
    this.leases.set(id, { ttlMs, expiresAtMs, dueMs: expiresAtMs });
    if (this.primary) this.push({ dueMs: expiresAtMs, id });
  }

  private push(due: Due): void {
    // stale entries pile up with keep-alives: past twice the live ones, start over from the table
    if (this.heap.length >= 2 * this.leases.size + 1024) this.rebuildHeap();
    const heap = this.heap;
    heap.push(due);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i] as Due, heap[parent] as Due)) break;
      [heap[i], heap[parent]] = [heap[parent] as Due, heap[i] as Due];
      i = parent;
    }
  }

  private pop(): Due {
    const heap = this.heap;
    const top = heap[0] as Due;
    const last = heap.pop() as Due;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && before(heap[l] as Due, heap[m] as Due)) m = l;
        if (r < heap.length && before(heap[r] as Due, heap[m] as Due)) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m] as Due, heap[i] as Due];
        i = m;
      }
    }
    return top;
  }

  private rebuildHeap(): void {
    const entries: Due[] = [];
    if (this.primary) for (const [id, entry] of this.leases) entries.push({ dueMs: entry.dueMs, id });
    entries.sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0));
    // a sorted array is a heap
    this.heap = entries;
  }
}

function before(a: Due, b: Due): boolean {
  return a.dueMs < b.dueMs || (a.dueMs === b.dueMs && a.id < b.id);
}

function checkNow(nowMs: number): void {
  assertInvariant(Number.isFinite(nowMs), () => `lessor: nowMs must be a finite number, not ${nowMs}`);
}
