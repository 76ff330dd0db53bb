// The KV store with its Lessor, as a Raft node runs it: the replicated store, plus the leader's
// duties (StateMachine.leaderDuties) over lease expiry: the Lessor's clock starts when the node
// leads, expired leases are proposed as revokes, and keep-alives are answered by the leader alone.
import { assertInvariant, type Decoded, type JsonValue, type LeaderDuties } from '../core/index.js';
import { Lessor, type KeepAliveResult, type LeaseChange } from './lessor.js';
import { decodeKvRequest, type KvResult } from './requests.js';
import { KvStore, type KvStoreOptions } from './store.js';

/** A read only the leader answers, with its clock: renew a lease, or its time left (with the replicated TTL and keys). */
export type KvLeaderRead = { readonly op: 'leaseKeepAlive'; readonly id: number } | { readonly op: 'leaseTimeToLive'; readonly id: number; readonly keys?: boolean };

/**
 * What a leader's Lessor promised or did, for monitors (the simulator's lease checker) and
 * metrics; `nowMs` is the node's clock. A grant counts only when applied on a started leader:
 * its TTL runs from then.
 */
export type LeaseEvent =
  | { readonly type: 'started'; readonly nowMs: number; readonly extendMs: number }
  | { readonly type: 'stopped' }
  | { readonly type: 'granted'; readonly id: number; readonly ttlMs: number; readonly nowMs: number; readonly expiresAtMs: number }
  | { readonly type: 'keptAlive'; readonly id: number; readonly ttlMs: number; readonly nowMs: number; readonly expiresAtMs: number }
  | { readonly type: 'due'; readonly ids: readonly number[]; readonly nowMs: number };

export interface LeasedKvStoreOptions extends KvStoreOptions {
  /** The node's clock (CoreEnv.now): monotonic, in ms. Read only to start a lease's time on a leader. */
  readonly clock: () => number;
  /** A reported lease whose revoke has not applied is reported again after this long (Lessor's retryAfterMs). */
  readonly revokeRetryMs?: number;
  readonly onLeaseEvent?: (event: LeaseEvent) => void;
}

export class LeasedKvStore extends KvStore {
  /** Not replicated: expiry times by this node's clock, kept only while it leads. */
  readonly lessor: Lessor;
  readonly leaderDuties: LeaderDuties<KvLeaderRead, KvResult>;

  constructor(options: LeasedKvStoreOptions) {
    const lessor = new Lessor();
    const clock = options.clock;
    const notify = options.onLeaseEvent;
    super({
      ...options,
      onLeaseChange: (change: LeaseChange) => {
        // the clock is read only on a leader: a follower keeps no time for leases
        const nowMs = lessor.isPrimary ? clock() : 0;
        lessor.follow(change, nowMs);
        if (change.type === 'grant' && lessor.isPrimary && notify !== undefined) {
          notify({ type: 'granted', id: change.id, ttlMs: change.ttlMs, nowMs, expiresAtMs: lessor.expiresAtMs(change.id) as number });
        }
        options.onLeaseChange?.(change);
      },
    });
    this.lessor = lessor;
    this.leaderDuties = new KvLeaderDuties(this, lessor, options.revokeRetryMs, notify);
  }
}

class KvLeaderDuties implements LeaderDuties<KvLeaderRead, KvResult> {
  constructor(
    private readonly store: KvStore,
    private readonly lessor: Lessor,
    private readonly revokeRetryMs: number | undefined,
    private readonly notify: ((event: LeaseEvent) => void) | undefined,
  ) {}

  leaderStarted(nowMs: number, extendMs: number): void {
    this.lessor.promote(nowMs, extendMs);
    this.notify?.({ type: 'started', nowMs, extendMs });
  }

  leaderStopped(): void {
    this.lessor.demote();
    this.notify?.({ type: 'stopped' });
  }

  leaderDue(nowMs: number, max: number): readonly JsonValue[] {
    const ids = this.lessor.expired(nowMs, max, this.revokeRetryMs);
    if (ids.length === 0) return ids;
    this.notify?.({ type: 'due', ids, nowMs });
    return ids.map((id) => ({ op: 'leaseRevoke', id }));
  }

  decodeLeaderRead(raw: JsonValue): Decoded<KvLeaderRead> {
    const op = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? raw['op'] : undefined;
    if (op === 'leaseKeepAlive') {
      const id = (raw as { [key: string]: JsonValue })['id'];
      if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 1) return { ok: false, problem: 'leaseKeepAlive needs an integer "id" >= 1' };
      return { ok: true, value: { op, id } };
    }
    if (op !== 'leaseTimeToLive') return { ok: false, problem: 'a leader read is leaseKeepAlive {id} or leaseTimeToLive {id, keys?}' };
    const decoded = decodeKvRequest(raw);
    if (!decoded.ok) return decoded;
    assertInvariant(decoded.value.op === 'leaseTimeToLive', () => `kv: a leaseTimeToLive decoded as ${decoded.value.op}`);
    return { ok: true, value: decoded.value };
  }

  leaderRead(read: KvLeaderRead, nowMs: number): KvResult {
    const revision = this.store.revision;
    if (read.op === 'leaseTimeToLive') {
      const found = this.store.query(read);
      const remainingMs = this.lessor.remainingMs(read.id, nowMs);
      if (!('ttlMs' in found) || remainingMs === null) return found;
      return 'keys' in found ? { revision, id: found.id, ttlMs: found.ttlMs, remainingMs, keys: found.keys as string[] } : { revision, id: found.id, ttlMs: found.ttlMs, remainingMs };
    }
    const renewed: KeepAliveResult = this.lessor.keepAlive(read.id, nowMs);
    if (renewed.ok) {
      this.notify?.({ type: 'keptAlive', id: read.id, ttlMs: renewed.ttlMs, nowMs, expiresAtMs: renewed.expiresAtMs });
      return { revision, id: read.id, ttlMs: renewed.ttlMs, remainingMs: renewed.expiresAtMs - nowMs };
    }
    // only a started leader is asked (LeaderDuties.leaderRead): its Lessor is primary
    assertInvariant(renewed.error !== 'not-primary', () => `kv: a keep-alive of lease ${read.id} reached a Lessor that is not primary`);
    return { revision, error: renewed.error === 'expired' ? 'lease-expired' : 'lease-not-found', id: read.id };
  }
}
