// Tests of the KV store with its Lessor as leader duties: a follower keeps no time and answers
// nothing leader-local; a started leader times every lease from its start (plus the extension) or
// from its grant, proposes revokes of expired leases in bounded batches, renews on keep-alive and
// tells the time left; leader reads are decoded strictly; and the events a monitor sees.
import { describe, expect, it } from 'vitest';
import type { JsonValue } from '../core/index.js';
import { LeasedKvStore, type LeaseEvent } from './leased-store.js';

function store(): { kv: LeasedKvStore; clock: { nowMs: number }; events: LeaseEvent[] } {
  const clock = { nowMs: 0 };
  const events: LeaseEvent[] = [];
  const kv = new LeasedKvStore({ clock: () => clock.nowMs, onLeaseEvent: (e) => events.push(e) });
  return { kv, clock, events };
}

function read(kv: LeasedKvStore, raw: JsonValue, nowMs: number): JsonValue {
  const decoded = kv.leaderDuties.decodeLeaderRead(raw);
  if (!decoded.ok) throw new Error(decoded.problem);
  return kv.leaderDuties.leaderRead(decoded.value, nowMs);
}

describe('LeasedKvStore', () => {
  it('keeps no time on a follower; a started leader extends leases granted before it by the extension', () => {
    const { kv, clock, events } = store();
    kv.apply({ op: 'leaseGrant', ttlMs: 1000 }, 5);
    kv.apply({ op: 'put', key: 'a', value: 1, lease: 5 }, 6);
    expect(kv.leaderDuties.leaderDue(1e9, 10)).toEqual([]);
    expect(events).toEqual([]); // a grant on a follower promises nothing
    clock.nowMs = 2000;
    kv.leaderDuties.leaderStarted(2000, 300);
    expect(kv.lessor.expiresAtMs(5)).toBe(3300);
    expect(kv.leaderDuties.leaderDue(3299, 10)).toEqual([]);
    expect(kv.leaderDuties.leaderDue(3300, 10)).toEqual([{ op: 'leaseRevoke', id: 5 }]);
    // reported once; again only after the retry delay if its revoke never applied
    expect(kv.leaderDuties.leaderDue(3301, 10)).toEqual([]);
    kv.apply({ op: 'leaseRevoke', id: 5 }, 7);
    expect(kv.query({ op: 'get', key: 'a' })).toMatchObject({ value: null });
    expect(events.map((e) => e.type)).toEqual(['started', 'due']);
    kv.leaderDuties.leaderStopped();
    expect(kv.lessor.isPrimary).toBe(false);
  });

  it('times a lease granted on the leader from its grant, renews it on keep-alive and tells the time left', () => {
    const { kv, clock, events } = store();
    kv.leaderDuties.leaderStarted(0, 300);
    clock.nowMs = 100;
    expect(kv.apply({ op: 'leaseGrant', ttlMs: 500 }, 9)).toEqual({ revision: 0, id: 9, ttlMs: 500 });
    expect(events.at(-1)).toEqual({ type: 'granted', id: 9, ttlMs: 500, nowMs: 100, expiresAtMs: 600 });
    kv.apply({ op: 'put', key: 'k', value: 'v', lease: 9 }, 10);
    expect(read(kv, { op: 'leaseKeepAlive', id: 9 }, 400)).toEqual({ revision: 1, id: 9, ttlMs: 500, remainingMs: 500 });
    expect(events.at(-1)).toEqual({ type: 'keptAlive', id: 9, ttlMs: 500, nowMs: 400, expiresAtMs: 900 });
    expect(read(kv, { op: 'leaseTimeToLive', id: 9 }, 500)).toEqual({ revision: 1, id: 9, ttlMs: 500, remainingMs: 400 });
    expect(read(kv, { op: 'leaseTimeToLive', id: 9, keys: true }, 500)).toEqual({ revision: 1, id: 9, ttlMs: 500, remainingMs: 400, keys: ['k'] });
    expect(read(kv, { op: 'leaseTimeToLive', id: 8 }, 500)).toEqual({ revision: 1, error: 'lease-not-found', id: 8 });
    expect(read(kv, { op: 'leaseKeepAlive', id: 8 }, 500)).toEqual({ revision: 1, error: 'lease-not-found', id: 8 });
    // expired: a keep-alive cannot bring it back, its revoke is due
    expect(read(kv, { op: 'leaseKeepAlive', id: 9 }, 900)).toEqual({ revision: 1, error: 'lease-expired', id: 9 });
    expect(read(kv, { op: 'leaseTimeToLive', id: 9 }, 950)).toMatchObject({ remainingMs: 0 });
    expect(kv.leaderDuties.leaderDue(950, 10)).toEqual([{ op: 'leaseRevoke', id: 9 }]);
  });

  it('returns at most `max` due revokes, earliest first', () => {
    const { kv } = store();
    kv.leaderDuties.leaderStarted(0, 0);
    for (let i = 1; i <= 5; i++) kv.apply({ op: 'leaseGrant', ttlMs: 100 * (6 - i) }, i);
    expect(kv.leaderDuties.leaderDue(1000, 2)).toEqual([{ op: 'leaseRevoke', id: 5 }, { op: 'leaseRevoke', id: 4 }]);
    expect(kv.leaderDuties.leaderDue(1000, 10)).toEqual([3, 2, 1].map((id) => ({ op: 'leaseRevoke', id })));
  });

  it('decodes leader reads strictly', () => {
    const { kv } = store();
    const d = kv.leaderDuties;
    expect(d.decodeLeaderRead({ op: 'leaseKeepAlive', id: 3 })).toEqual({ ok: true, value: { op: 'leaseKeepAlive', id: 3 } });
    expect(d.decodeLeaderRead({ op: 'leaseTimeToLive', id: 3, keys: true })).toEqual({ ok: true, value: { op: 'leaseTimeToLive', id: 3, keys: true } });
    for (const bad of [null, 3, [], {}, { op: 'get', key: 'a' }, { op: 'leaseKeepAlive' }, { op: 'leaseKeepAlive', id: 0 }, { op: 'leaseKeepAlive', id: 1.5 }, { op: 'leaseTimeToLive', id: -1 }, { op: 'leaseTimeToLive', id: 1, keys: 'yes' }] as JsonValue[]) {
      expect(d.decodeLeaderRead(bad).ok).toBe(false);
    }
  });

  it('answers replicated operations exactly as a KvStore does (the Lessor changes no result)', () => {
    const { kv } = store();
    kv.leaderDuties.leaderStarted(0, 100);
    expect(kv.apply({ op: 'put', key: 'a', value: 1 }, 1)).toEqual({ revision: 1, version: 1 });
    expect(kv.apply({ op: 'leaseGrant', ttlMs: 50, id: 77 }, 2)).toEqual({ revision: 1, id: 77, ttlMs: 50 });
    expect(kv.apply({ op: 'leaseRevoke', id: 77 }, 3)).toEqual({ revision: 1, deleted: 0 });
    expect(kv.lessor.size).toBe(0);
  });
});
