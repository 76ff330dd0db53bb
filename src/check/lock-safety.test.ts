// Hand-made lock histories for the mutex checker (three views) and the fenced-resource checker:
// Kleppmann's two failures must be found where they are, and clean histories must pass.
import { describe, expect, it } from 'vitest';
import { checkFencedResource, checkGrants, checkLockSafety, checkMutex, checkQueueGrants, holdIntervals, type LockEvent, type LockEventKind, type ResourceWrite } from './lock-safety.js';

const ev = (atMs: number, by: 'service' | 'client', kind: LockEventKind, holder: string, grant: string, token: number | null = null, lock = 'L'): LockEvent => ({ atMs, by, kind, holder, grant, token, lock });
const write = (atMs: number, holder: string, grant: string, token: number | null, accepted: boolean, resource = 'R'): ResourceWrite => ({ atMs, holder, grant, token, accepted, resource });

/** Kleppmann's first figure: A is paused past its lease; B is granted; A wakes and writes. */
const pauseEvents: LockEvent[] = [
  ev(0, 'service', 'acquired', 'A', 'g1', 1),
  ev(2, 'client', 'acquired', 'A', 'g1', 1),
  ev(280, 'client', 'validity-passed', 'A', 'g1', 1), // A's clock passed its validity while A was paused
  ev(300, 'service', 'lost', 'A', 'g1', 1), // the lease expired
  ev(310, 'service', 'acquired', 'B', 'g2', 2),
  ev(312, 'client', 'acquired', 'B', 'g2', 2),
  ev(330, 'client', 'released', 'B', 'g2', 2),
  ev(332, 'service', 'released', 'B', 'g2', 2),
  ev(500, 'client', 'released', 'A', 'g1', 1), // A woke at 480, wrote, and released
];

describe('mutex checker', () => {
  it('passes one holder after another in every view', () => {
    const events = [
      ev(0, 'service', 'acquired', 'A', 'g1', 1), ev(1, 'client', 'acquired', 'A', 'g1', 1), ev(10, 'client', 'released', 'A', 'g1', 1), ev(11, 'service', 'released', 'A', 'g1', 1),
      // B is granted at the very millisecond A's grant ends: touching is not overlapping
      ev(11, 'service', 'acquired', 'B', 'g2', 2), ev(12, 'client', 'acquired', 'B', 'g2', 2), ev(20, 'client', 'released', 'B', 'g2', 2), ev(21, 'service', 'released', 'B', 'g2', 2),
    ];
    for (const view of ['service', 'client', 'client-valid'] as const) expect(checkMutex(events, view).ok).toBe(true);
    expect(checkGrants(events).ok).toBe(true);
  });

  it('finds the paused holder\'s belief overlapping the next grant, but neither the service nor a legitimate belief', () => {
    expect(checkMutex(pauseEvents, 'service').ok).toBe(true);
    expect(checkMutex(pauseEvents, 'client-valid').ok).toBe(true);
    const client = checkMutex(pauseEvents, 'client');
    expect(client.ok).toBe(false);
    expect(client.overlapCount).toBe(1);
    expect(client.overlaps[0]).toMatchObject({ lock: 'L', fromMs: 312, toMs: 330, first: { holder: 'A', grant: 'g1' }, second: { holder: 'B', grant: 'g2' } });
    expect(client.overlaps[0]?.message).toContain('held twice from 312 ms');
  });

  it('finds two legitimate believers at once (Redlock with a clock jump), though the service view is clean', () => {
    const events = [
      ev(0, 'service', 'acquired', 'A', 'v1'), ev(5, 'client', 'acquired', 'A', 'v1'),
      ev(100, 'service', 'lost', 'A', 'v1'), // a jump on one node of A's majority
      ev(120, 'service', 'acquired', 'B', 'v2'), ev(125, 'client', 'acquired', 'B', 'v2'),
      ev(900, 'client', 'validity-passed', 'A', 'v1'), ev(1020, 'client', 'validity-passed', 'B', 'v2'),
    ];
    expect(checkMutex(events, 'service').ok).toBe(true);
    const valid = checkMutex(events, 'client-valid');
    expect(valid.ok).toBe(false);
    expect(valid.overlaps[0]).toMatchObject({ fromMs: 125, toMs: 900 });
  });

  it('flags two grants the service held at once, a grant still held at the end included', () => {
    const events = [ev(0, 'service', 'acquired', 'A', 'g1', 1), ev(50, 'service', 'acquired', 'B', 'g2', 2), ev(60, 'service', 'released', 'B', 'g2', 2)];
    const r = checkMutex(events, 'service');
    expect(r.ok).toBe(false);
    expect(r.overlaps[0]).toMatchObject({ fromMs: 50, toMs: 60, first: { toMs: null } });
  });

  it('keeps locks apart, orders events by time, and counts every overlap past the reported ones', () => {
    const events = [ev(5, 'service', 'acquired', 'B', 'h', null, 'other'), ev(0, 'service', 'acquired', 'A', 'g', null, 'L')];
    expect(checkMutex(events, 'service').ok).toBe(true);
    const many: LockEvent[] = [];
    for (let i = 0; i < 30; i++) many.push(ev(i, 'service', 'acquired', `P${i}`, `g${i}`));
    const r = checkMutex(many, 'service', { maxReported: 5 });
    expect(r.overlaps).toHaveLength(5);
    expect(r.overlapCount).toBe((30 * 29) / 2);
  });

  it('reports a grant acquired twice in one view as a problem', () => {
    const r = checkMutex([ev(0, 'client', 'acquired', 'A', 'g'), ev(1, 'client', 'released', 'A', 'g'), ev(2, 'client', 'acquired', 'A', 'g')], 'client');
    expect(r.ok).toBe(false);
    expect(r.problems[0]).toContain('acquired again');
  });

  it('builds intervals per view: a validity end shortens only the legitimate belief', () => {
    const client = holdIntervals(pauseEvents, 'client').intervals.find((i) => i.grant === 'g1');
    const valid = holdIntervals(pauseEvents, 'client-valid').intervals.find((i) => i.grant === 'g1');
    expect(client).toMatchObject({ fromMs: 2, toMs: 500, endedBy: 'released' });
    expect(valid).toMatchObject({ fromMs: 2, toMs: 280, endedBy: 'validity-passed' });
  });
});

describe('grant consistency', () => {
  it('flags a client that believes in a grant the service never made, or with another token', () => {
    const ahead = checkGrants([ev(10, 'client', 'acquired', 'A', 'g1', 1), ev(20, 'service', 'acquired', 'A', 'g1', 1)]);
    expect(ahead.problems.map((p) => p.kind)).toEqual(['client-ahead-of-service']);
    const mismatch = checkGrants([ev(0, 'service', 'acquired', 'A', 'g1', 4), ev(1, 'client', 'acquired', 'A', 'g1', 5)]);
    expect(mismatch.problems.map((p) => p.kind)).toEqual(['token-mismatch']);
  });

  it('flags service tokens that do not rise', () => {
    const r = checkGrants([ev(0, 'service', 'acquired', 'A', 'g1', 7), ev(10, 'service', 'released', 'A', 'g1', 7), ev(11, 'service', 'acquired', 'B', 'g2', 7)]);
    expect(r.problems.map((p) => p.kind)).toEqual(['token-order']);
  });
});

describe('fenced-resource checker', () => {
  it('passes rising tokens and a stale write the resource refused', () => {
    const r = checkFencedResource([write(20, 'A', 'g1', 1, true), write(320, 'B', 'g2', 2, true), write(480, 'A', 'g1', 1, false), write(490, 'B', 'g2', 2, true)]);
    expect(r).toMatchObject({ ok: true, accepted: 3, refused: 1, violationCount: 0 });
  });

  it('flags a stale token accepted after a newer one (an unfenced resource)', () => {
    const r = checkFencedResource([write(320, 'B', 'g2', 2, true), write(480, 'A', 'g1', 1, true)]);
    expect(r.ok).toBe(false);
    expect(r.violations[0]).toMatchObject({ kind: 'superseded-write-accepted', atMs: 480 });
    expect(r.violations[0]?.message).toContain("A's write (grant g1, token 1) at 480 ms after B's write (grant g2, token 2)");
  });

  it('ranks writes without tokens by the service\'s grant order', () => {
    const writes = [write(300, 'B', 'v2', null, true), write(400, 'A', 'v1', null, true)];
    expect(checkFencedResource(writes, { grantOrder: ['v1', 'v2'] }).violations.map((v) => v.kind)).toEqual(['superseded-write-accepted']);
    expect(checkFencedResource(writes, { grantOrder: ['v2', 'v1'] }).ok).toBe(true);
    expect(checkFencedResource(writes, { grantOrder: ['v2'] }).violations.map((v) => v.kind)).toEqual(['unranked-write']);
  });

  it('flags two grants whose writes were accepted with one token', () => {
    const r = checkFencedResource([write(0, 'A', 'g1', 3, true), write(10, 'B', 'g2', 3, true)]);
    expect(r.violations.map((v) => v.kind)).toEqual(['token-reused']);
  });

  it('keeps resources apart', () => {
    expect(checkFencedResource([write(0, 'A', 'g2', 2, true, 'x'), write(1, 'B', 'g1', 1, true, 'y')]).ok).toBe(true);
  });
});

describe('checkLockSafety', () => {
  it('puts the views together: Kleppmann\'s pause breaks an unfenced resource only', () => {
    const unfenced = checkLockSafety(pauseEvents, [write(320, 'B', 'g2', 2, true), write(481, 'A', 'g1', 1, true)]);
    expect([unfenced.service.ok, unfenced.client.ok, unfenced.clientValid.ok, unfenced.grants.ok, unfenced.resource.ok]).toEqual([true, false, true, true, false]);
    const fenced = checkLockSafety(pauseEvents, [write(320, 'B', 'g2', 2, true), write(481, 'A', 'g1', 1, false)]);
    expect(fenced.resource.ok).toBe(true);
  });
});

describe('checkQueueGrants', () => {
  // revisions of etcd's lock service: a/1 created at 2, a/2 at 3; a/2's lease expires at 4; a/1 unlocked at 5
  const changes = [
    { revision: 2, key: 'a/1', type: 'put' as const },
    { revision: 3, key: 'a/2', type: 'put' as const },
    { revision: 4, key: 'a/2', type: 'delete' as const },
    { revision: 5, key: 'a/1', type: 'delete' as const },
  ];
  it('accepts grants of a live key with nobody ahead', () => {
    expect(checkQueueGrants(changes, [{ key: 'a/1', revision: 2, holder: 'c1', atMs: 0 }]).ok).toBe(true);
  });
  it("finds a grant whose key was already deleted (etcd 3.4's lock after the lease expired), and one while a predecessor was live", () => {
    const result = checkQueueGrants(changes, [
      { key: 'a/2', revision: 5, holder: 'c2', atMs: 10 },
      { key: 'a/2', revision: 3, holder: 'c2', atMs: 5 },
    ]);
    expect(result.ok).toBe(false);
    expect(result.byKind).toEqual({ 'granted-after-own-key-deleted': 1, 'granted-before-own-key-created': 0, 'granted-while-predecessor-live': 1 });
  });
});
