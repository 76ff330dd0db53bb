// Tests of the leader-local Lessor: leases expire only on a leader (primary), a promotion extends
// every lease, keep-alives renew and never shorten, expired leases come earliest first in bounded
// lists and are reported again only after a retry delay; and, against a KvStore, that it follows
// grants, revokes and restores as the store applies them.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Lessor } from './lessor.js';
import { KvStore } from './store.js';

describe('Lessor', () => {
  it('expires nothing until promoted; a promotion gives every lease its TTL plus the extension', () => {
    const l = new Lessor();
    l.follow({ type: 'grant', id: 1, ttlMs: 100 }, 0);
    l.follow({ type: 'grant', id: 2, ttlMs: 300 }, 0);
    expect(l.expired(1e9, 10)).toEqual([]);
    expect(l.remainingMs(1, 0)).toBeNull();
    expect(l.keepAlive(1, 0)).toEqual({ ok: false, error: 'not-primary' });
    l.promote(1000, 50);
    expect(l.isPrimary).toBe(true);
    expect(l.remainingMs(1, 1000)).toBe(150);
    expect(l.expiresAtMs(2)).toBe(1350);
    expect(l.expired(1149, 10)).toEqual([]);
    expect(l.expired(1150, 10)).toEqual([1]);
    expect(l.expired(1400, 10)).toEqual([2]);
  });

  it('renews on keep-alive, never sooner than before, and refuses to renew an expired lease', () => {
    const l = new Lessor();
    l.promote(0, 0);
    l.follow({ type: 'grant', id: 7, ttlMs: 100 }, 10);
    expect(l.keepAlive(7, 50)).toEqual({ ok: true, ttlMs: 100, expiresAtMs: 150 });
    expect(l.expired(149, 5)).toEqual([]);
    expect(l.keepAlive(9, 50)).toEqual({ ok: false, error: 'lease-not-found' });
    // after a promotion with a long extension, a keep-alive does not cut it short
    l.promote(200, 1000);
    expect(l.keepAlive(7, 210)).toEqual({ ok: true, ttlMs: 100, expiresAtMs: 1300 });
    expect(l.keepAlive(7, 1300)).toEqual({ ok: false, error: 'expired' });
    expect(l.expired(1300, 5)).toEqual([7]);
  });

  it('lists expired leases earliest first (ties by id), at most max, and reports one again only after the retry delay', () => {
    const l = new Lessor();
    l.promote(0, 0);
    for (const [id, ttlMs] of [[5, 30], [3, 10], [4, 10], [1, 20], [2, 40]] as const) l.follow({ type: 'grant', id, ttlMs }, 0);
    expect(l.expired(35, 2, 100)).toEqual([3, 4]);
    expect(l.expired(35, 10, 100)).toEqual([1, 5]);
    expect(l.expired(50, 10, 100)).toEqual([2]);
    // the revoke of 3 was lost: 3 comes back after the retry delay, the revoked ones do not
    for (const id of [4, 1, 5]) l.follow({ type: 'revoke', id }, 60);
    expect(l.expired(134, 10, 100)).toEqual([]);
    expect(l.expired(135, 10, 100)).toEqual([3]);
    expect(l.expired(150, 10, 100)).toEqual([2]);
  });

  it('stops expiring on demotion and keeps its heap bounded under many keep-alives', () => {
    const l = new Lessor();
    l.promote(0, 0);
    l.follow({ type: 'grant', id: 1, ttlMs: 10 }, 0);
    for (let t = 1; t < 5_000; t++) l.keepAlive(1, t);
    expect(l.keepAlive(1, 5_000).ok).toBe(true);
    expect((l as unknown as { heap: unknown[] }).heap.length).toBeLessThanOrEqual(2 * l.size + 1025);
    l.demote();
    expect(l.expired(1e12, 10)).toEqual([]);
    expect(l.remainingMs(1, 0)).toBeNull();
  });

  it('follows a store: grants, revokes (the lease\'s keys with it) and restores', () => {
    let now = 0;
    const lessor = new Lessor();
    const store = new KvStore({ onLeaseChange: (c) => lessor.follow(c, now) });
    lessor.promote(0, 0);
    store.apply({ op: 'leaseGrant', ttlMs: 100 }, 5);
    store.apply({ op: 'put', key: 'k', value: 1, lease: 5 }, 6);
    now = 20;
    store.apply({ op: 'leaseGrant', ttlMs: 100, id: 9 }, 7);
    expect(lessor.size).toBe(2);
    now = 110;
    const due = lessor.expired(now, 10);
    expect(due).toEqual([5]);
    for (const id of due) store.apply({ op: 'leaseRevoke', id }, 8);
    expect(store.size).toBe(0);
    expect(lessor.size).toBe(1);
    // a new leader restores a snapshot: every lease gets its TTL plus the extension it promoted with
    const follower = new Lessor();
    follower.promote(1000, 300);
    const restored = new KvStore({ onLeaseChange: (c) => follower.follow(c, 1000) });
    restored.restore(store.snapshot());
    expect(follower.remainingMs(9, 1000)).toBe(400);
  });

  it('never reports a lease before its expiry, whatever the order of grants, keep-alives, promotions and checks', () => {
    type Step = { kind: 'grant'; id: number; ttl: number } | { kind: 'keep'; id: number } | { kind: 'promote'; extend: number } | { kind: 'check' } | { kind: 'wait'; ms: number };
    const step: fc.Arbitrary<Step> = fc.oneof(
      fc.record({ kind: fc.constant('grant' as const), id: fc.integer({ min: 1, max: 5 }), ttl: fc.integer({ min: 1, max: 50 }) }),
      fc.record({ kind: fc.constant('keep' as const), id: fc.integer({ min: 1, max: 5 }) }),
      fc.record({ kind: fc.constant('promote' as const), extend: fc.integer({ min: 0, max: 20 }) }),
      fc.constant({ kind: 'check' as const }),
      fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 30 }) }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 80 }), (steps) => {
        const l = new Lessor();
        let now = 0;
        /** The earliest a lease may be reported: TTL after its last acknowledged keep-alive (or grant). */
        const notBefore = new Map<number, number>();
        for (const s of steps) {
          if (s.kind === 'wait') now += s.ms;
          else if (s.kind === 'grant' && !notBefore.has(s.id)) {
            l.follow({ type: 'grant', id: s.id, ttlMs: s.ttl }, now);
            notBefore.set(s.id, now + s.ttl);
          } else if (s.kind === 'keep') {
            const r = l.keepAlive(s.id, now);
            if (r.ok) notBefore.set(s.id, Math.max(notBefore.get(s.id) ?? 0, now + (r.ttlMs)));
          } else if (s.kind === 'promote') l.promote(now, s.extend);
          else if (s.kind === 'check') {
            for (const id of l.expired(now, 2)) {
              expect(now).toBeGreaterThanOrEqual(notBefore.get(id) as number);
              l.follow({ type: 'revoke', id }, now);
              notBefore.delete(id);
            }
          }
        }
      }),
    );
  });
});
