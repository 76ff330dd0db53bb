// The Multi-Paxos core one call at a time: what an acceptor writes before it answers and what it
// reports, what a new leader proposes after phase 1 (the highest-ballot value per slot, no-ops in
// the holes), slots chosen in any order and applied in slot order, followers learning from
// decided ranges and asking for what they lack, reads confirmed by a quorum round, stepping down.
import { describe, expect, it } from 'vitest';
import type { CoreEnv, JsonValue } from '../../core/index.js';
import { KvStore, type KvQuery, type KvRequest, type KvResult } from '../../kv/store.js';
import { recorder, seeded } from '../test/fx.js';
import { MultiPaxosCore } from './core.js';
import { resolvePaxosOptions } from './spec.js';
import type { PaxosMessage, PaxosOptions, PaxosPersistOp, PaxosRequest, PaxosResponse, PaxosValue } from './types.js';

const MEMBERS = ['1', '2', '3'];
type Core = MultiPaxosCore<KvRequest, KvQuery, KvResult>;

function core(id: string, durable: readonly PaxosPersistOp[] = [], options: Partial<PaxosOptions> = {}, members = MEMBERS): Core {
  const env: CoreEnv = { id, members, now: () => 0, random: seeded(Number(id) || 7) };
  return new MultiPaxosCore(env, durable, resolvePaxosOptions(options), new KvStore());
}

function rec() {
  return recorder<PaxosMessage, PaxosPersistOp, PaxosResponse>();
}

function deliver(c: Core, from: string, msg: PaxosMessage) {
  const r = rec();
  c.handleMessage(from, msg, r.fx);
  return r;
}

let nextRequest = 0;
function request(c: Core, req: PaxosRequest) {
  const r = rec();
  c.handleRequest(`r${++nextRequest}`, req, r.fx);
  return r;
}

function tick(c: Core, times = 1) {
  const r = rec();
  for (let i = 0; i < times; i++) c.handleTick(r.fx);
  return r;
}

const b = (round: number, node: string) => ({ round, node });
const put = (key: string, value: JsonValue, seq = 1, clientId = 'c'): PaxosValue => ({ kind: 'command', clientId, seq, op: { op: 'put', key, value } });
const NOOP: PaxosValue = { kind: 'noop' };
const sentTo = (r: ReturnType<typeof rec>, to: string) => r.sends.filter((s) => s.to === to).map((s) => s.msg);

/** A leader of ballot 1.1 over members 1..3 (phase 1 with node 2), its sends drained. */
function leader(options: Partial<PaxosOptions> = {}): Core {
  const l = core('1', [], options);
  request(l, { type: 'campaign' });
  deliver(l, '2', { type: 'promise', ballot: b(1, '1'), snapshotSlot: 0, known: 0, accepted: [] });
  expect(l.status().role).toBe('leader');
  return l;
}

describe('Multi-Paxos acceptor', () => {
  it('promises a higher ballot for every slot, writing it before the promise leaves; rejects lower ballots', () => {
    const a = core('2');
    const r = deliver(a, '1', { type: 'prepare', ballot: b(1, '1'), fromSlot: 0 });
    expect(r.persists).toEqual([{ kind: 'promise', ballot: b(1, '1') }]);
    expect(r.order).toEqual(['persist', 'send']);
    expect(r.sends).toEqual([{ to: '1', msg: { type: 'promise', ballot: b(1, '1'), snapshotSlot: 0, known: 0, accepted: [] } }]);
    deliver(a, '3', { type: 'prepare', ballot: b(1, '3'), fromSlot: 0 });
    for (const msg of [
      { type: 'prepare', ballot: b(1, '1'), fromSlot: 0 },
      { type: 'accept', ballot: b(1, '1'), entries: [{ slot: 1, value: NOOP }], decided: [] },
      { type: 'heartbeat', ballot: b(1, '1'), round: 1, decided: [] },
    ] as PaxosMessage[]) {
      const low = deliver(a, '1', msg);
      expect(low.persists).toEqual([]);
      expect(low.sends).toEqual([{ to: '1', msg: { type: 'reject', ballot: b(1, '1'), promised: b(1, '3') } }]);
    }
  });

  it('accepts in its promised ballot and reports acceptances above the asker\'s slot in later promises', () => {
    const a = core('2');
    const acc = deliver(a, '3', { type: 'accept', ballot: b(1, '3'), entries: [{ slot: 1, value: put('k', 1) }, { slot: 2, value: put('k', 2, 2) }], decided: [] });
    expect(acc.persists).toEqual([{ kind: 'accept', ballot: b(1, '3'), entries: [{ slot: 1, value: put('k', 1) }, { slot: 2, value: put('k', 2, 2) }] }]);
    expect(acc.sends[0]?.msg).toEqual({ type: 'accepted', ballot: b(1, '3'), slots: [1, 2], known: 0, snapshotSlot: 0, need: [] });
    const p = deliver(a, '1', { type: 'prepare', ballot: b(2, '1'), fromSlot: 1 });
    expect(p.sends[0]?.msg).toEqual({ type: 'promise', ballot: b(2, '1'), snapshotSlot: 0, known: 0, accepted: [{ slot: 2, ballot: b(1, '3'), value: put('k', 2, 2) }] });
  });

  it('restarts with its promise and acceptances from its durable ops', () => {
    const ops: PaxosPersistOp[] = [
      { kind: 'accept', ballot: b(1, '3'), entries: [{ slot: 1, value: put('k', 1) }] },
      { kind: 'promise', ballot: b(4, '1') },
    ];
    const a = core('2', ops);
    expect(a.status().promised).toEqual(b(4, '1'));
    expect(a.acceptedAt(1)).toEqual({ ballot: b(1, '3'), value: put('k', 1) });
    expect(deliver(a, '3', { type: 'prepare', ballot: b(3, '3'), fromSlot: 0 }).sends[0]?.msg).toMatchObject({ type: 'reject', promised: b(4, '1') });
    // its own next ballot is above every promise it made
    expect(request(a, { type: 'campaign' }).persists).toEqual([{ kind: 'promise', ballot: b(5, '2') }]);
  });
});

describe('Multi-Paxos phase 1', () => {
  it('a campaign writes its ballot (its own promise) before any prepare leaves', () => {
    const c = core('1');
    const r = request(c, { type: 'campaign' });
    expect(r.persists).toEqual([{ kind: 'promise', ballot: b(1, '1') }]);
    expect(r.order[0]).toBe('persist');
    expect(r.sends.map((s) => [s.to, s.msg])).toEqual([
      ['2', { type: 'prepare', ballot: b(1, '1'), fromSlot: 0 }],
      ['3', { type: 'prepare', ballot: b(1, '1'), fromSlot: 0 }],
    ]);
  });

  it('a new leader proposes the highest-ballot value of each slot again and fills holes with no-ops', () => {
    // node 1 itself accepted Z at slot 1 in ballot 1.3; node 2 reports X there in 1.2 and Y at slot 3
    const c = core('1', [{ kind: 'accept', ballot: b(1, '3'), entries: [{ slot: 1, value: put('z', 'Z') }] }]);
    request(c, { type: 'campaign' });
    const r = deliver(c, '2', {
      type: 'promise',
      ballot: b(2, '1'),
      snapshotSlot: 0,
      known: 0,
      accepted: [
        { slot: 1, ballot: b(1, '2'), value: put('x', 'X') },
        { slot: 3, ballot: b(1, '2'), value: put('y', 'Y') },
      ],
    });
    expect(c.status()).toMatchObject({ role: 'leader', ballot: b(2, '1'), nextSlot: 4, ready: false });
    expect(r.persists).toEqual([{ kind: 'accept', ballot: b(2, '1'), entries: [{ slot: 1, value: put('z', 'Z') }, { slot: 2, value: NOOP }, { slot: 3, value: put('y', 'Y') }] }]);
    expect(sentTo(r, '3').find((m) => m.type === 'accept')).toEqual({ type: 'accept', ballot: b(2, '1'), entries: [{ slot: 1, value: put('z', 'Z') }, { slot: 2, value: NOOP }, { slot: 3, value: put('y', 'Y') }], decided: [] });
    expect(c.noopsFilled).toBe(1);
    expect(c.adopted).toBe(2);
    // a new command takes the next free slot
    const cmd = request(c, { type: 'command', clientId: 'c', seq: 1, op: { op: 'put', key: 'n', value: 1 } });
    expect(cmd.persists).toEqual([{ kind: 'accept', ballot: b(2, '1'), entries: [{ slot: 4, value: put('n', 1) }] }]);
  });

  it('slots below an acceptor\'s snapshot count as chosen: the new leader fetches the snapshot instead of proposing there', () => {
    const c = core('1');
    request(c, { type: 'campaign' });
    const r = deliver(c, '2', { type: 'promise', ballot: b(1, '1'), snapshotSlot: 7, known: 9, accepted: [{ slot: 9, ballot: b(0 + 1, '2'), value: put('a', 1) }] });
    expect(r.persists).toEqual([{ kind: 'accept', ballot: b(1, '1'), entries: [{ slot: 8, value: NOOP }, { slot: 9, value: put('a', 1) }] }]);
    expect(sentTo(r, '2')).toContainEqual({ type: 'snapshotReq' });
    expect(c.status().nextSlot).toBe(10);
  });

  it('a rejection naming a higher ballot sends a candidate back to follower, to wait a random election timeout', () => {
    const c = core('1');
    request(c, { type: 'campaign' });
    const r = deliver(c, '2', { type: 'reject', ballot: b(1, '1'), promised: b(3, '2') });
    expect(c.status().role).toBe('follower');
    expect(r.sends).toEqual([]);
    // the next campaign goes above the rejecting promise
    expect(request(c, { type: 'campaign' }).persists).toEqual([{ kind: 'promise', ballot: b(4, '1') }]);
  });

  it('with backoff "none" a rejected candidate campaigns again at once', () => {
    const c = core('1', [], { backoff: 'none' });
    request(c, { type: 'campaign' });
    const r = deliver(c, '2', { type: 'reject', ballot: b(1, '1'), promised: b(3, '2') });
    expect(c.status().role).toBe('candidate');
    expect(r.persists).toEqual([{ kind: 'promise', ballot: b(4, '1') }]);
  });
});

describe('Multi-Paxos phase 2, learning and applying', () => {
  it('chooses a slot at |Q2| acceptances, learns slots out of order and applies them in slot order', () => {
    const l = leader();
    const first = request(l, { type: 'command', clientId: 'c', seq: 1, op: { op: 'put', key: 'a', value: 1 } });
    const second = request(l, { type: 'command', clientId: 'c', seq: 2, op: { op: 'put', key: 'b', value: 2 } });
    expect(sentTo(first, '2')[0]).toMatchObject({ type: 'accept', entries: [{ slot: 1 }] });
    expect(sentTo(second, '3')[0]).toMatchObject({ type: 'accept', entries: [{ slot: 2 }] });
    const out = deliver(l, '3', { type: 'accepted', ballot: b(1, '1'), slots: [2], known: 0, snapshotSlot: 0, need: [] });
    expect(l.chosenAt(2)).toEqual(put('b', 2, 2));
    expect(l.status()).toMatchObject({ known: 0, applied: 0 });
    expect(out.replies).toEqual([]);
    const both = deliver(l, '2', { type: 'accepted', ballot: b(1, '1'), slots: [1], known: 0, snapshotSlot: 0, need: [] });
    expect(l.status()).toMatchObject({ known: 2, applied: 2 });
    expect(both.replies.map((x) => x.response)).toEqual([
      { ok: true, result: { revision: 1, version: 1 }, index: 1 },
      { ok: true, result: { revision: 2, version: 1 }, index: 2 },
    ]);
  });

  it('a retried command (same session) is applied once and answered with its first result', () => {
    const l = leader();
    const cmd = { type: 'command', clientId: 'c', seq: 1, op: { op: 'incr', key: 'n' } } as const;
    request(l, cmd);
    request(l, cmd);
    const r = deliver(l, '2', { type: 'accepted', ballot: b(1, '1'), slots: [1, 2], known: 0, snapshotSlot: 0, need: [] });
    expect(r.replies.map((x) => x.response)).toMatchObject([
      { ok: true, result: { revision: 1, value: 1 }, index: 1 },
      { ok: true, result: { revision: 1, value: 1 }, index: 2 },
    ]);
    expect(l.queryLocal({ op: 'get', key: 'n' } as KvQuery)).toMatchObject({ value: 1 });
  });

  it('a follower learns slots from decided ranges when it accepted them in that ballot, and asks for the others', () => {
    const f = core('2');
    deliver(f, '1', { type: 'accept', ballot: b(1, '1'), entries: [{ slot: 1, value: put('a', 1) }], decided: [] });
    const hb = deliver(f, '1', { type: 'heartbeat', ballot: b(1, '1'), round: 1, decided: [{ from: 1, to: 2, ballot: b(1, '1') }] });
    expect(f.status()).toMatchObject({ known: 1, applied: 1, leader: '1' });
    expect(hb.sends[0]?.msg).toEqual({ type: 'heartbeatResp', ballot: b(1, '1'), round: 1, known: 1, snapshotSlot: 0, need: [2] });
    deliver(f, '1', { type: 'values', entries: [{ slot: 2, ballot: b(1, '1'), value: put('b', 2, 2) }] });
    expect(f.status()).toMatchObject({ known: 2, applied: 2 });
    expect(f.queryLocal({ op: 'get', key: 'b' } as KvQuery)).toMatchObject({ value: 2 });
  });

  it('the leader answers a follower\'s need with the values, and sends a snapshot to one behind what it holds', () => {
    const l = leader({ snapshotThresholdSlots: 2, snapshotCatchUpSlots: 0 });
    for (let i = 1; i <= 3; i++) request(l, { type: 'command', clientId: 'c', seq: i, op: { op: 'put', key: `k${i}`, value: i } });
    deliver(l, '2', { type: 'accepted', ballot: b(1, '1'), slots: [1, 2], known: 0, snapshotSlot: 0, need: [] });
    deliver(l, '2', { type: 'accepted', ballot: b(1, '1'), slots: [3], known: 0, snapshotSlot: 0, need: [] });
    expect(l.status()).toMatchObject({ applied: 3, snapshotSlot: 2 });
    const r = deliver(l, '3', { type: 'heartbeatResp', ballot: b(1, '1'), round: 1, known: 0, snapshotSlot: 0, need: [3] });
    expect(sentTo(r, '3')).toContainEqual({ type: 'values', entries: [{ slot: 3, ballot: b(1, '1'), value: put('k3', 3, 3) }] });
    const snap = sentTo(r, '3').find((m) => m.type === 'snapshot');
    expect(snap).toMatchObject({ type: 'snapshot', slot: 2 });
    // the follower installs it, writes it, and then knows slot 3 by its values
    const f = core('3');
    const inst = deliver(f, '1', snap as PaxosMessage);
    expect(inst.persists[0]).toMatchObject({ kind: 'snapshot', slot: 2 });
    deliver(f, '1', { type: 'values', entries: [{ slot: 3, ballot: b(1, '1'), value: put('k3', 3, 3) }] });
    expect(f.status()).toMatchObject({ applied: 3, snapshotSlot: 2 });
    expect(f.machineSnapshot()).toEqual(l.machineSnapshot());
  });

  it('a leader that hears of a higher ballot steps down and answers every waiting request leadership-lost', () => {
    const l = leader();
    request(l, { type: 'command', clientId: 'c', seq: 1, op: { op: 'put', key: 'a', value: 1 } });
    const r = deliver(l, '3', { type: 'prepare', ballot: b(2, '3'), fromSlot: 0 });
    expect(l.status().role).toBe('follower');
    expect(r.replies.map((x) => x.response)).toEqual([{ ok: false, error: 'leadership-lost', leaderHint: null }]);
    // and its promise reports the value it had accepted for slot 1
    expect(sentTo(r, '3')[0]).toMatchObject({ type: 'promise', accepted: [{ slot: 1, ballot: b(1, '1') }] });
  });

  it('non-leaders refuse commands and reads with not-leader and a hint', () => {
    const f = core('2');
    deliver(f, '1', { type: 'heartbeat', ballot: b(1, '1'), round: 1, decided: [] });
    expect(request(f, { type: 'command', clientId: 'c', seq: 1, op: { op: 'get', key: 'a' } }).replies[0]?.response).toEqual({ ok: false, error: 'not-leader', leaderHint: '1' });
    expect(request(f, { type: 'read', op: { op: 'get', key: 'a' } }).replies[0]?.response).toEqual({ ok: false, error: 'not-leader', leaderHint: '1' });
  });
});

describe('Multi-Paxos reads', () => {
  it('a read waits for a quorum round started after it arrived, and for every slot assigned before it', () => {
    const l = leader();
    request(l, { type: 'command', clientId: 'c', seq: 1, op: { op: 'put', key: 'a', value: 1 } });
    deliver(l, '2', { type: 'accepted', ballot: b(1, '1'), slots: [1], known: 0, snapshotSlot: 0, need: [] });
    // round 1 (the election's heartbeats) is in flight: the read waits for the next one
    const read = request(l, { type: 'read', op: { op: 'get', key: 'a' } });
    expect(read.sends).toEqual([]);
    // round 1 confirmed: it began before the read arrived, so it cannot serve it; round 2 starts at once
    const next = deliver(l, '2', { type: 'heartbeatResp', ballot: b(1, '1'), round: 1, known: 1, snapshotSlot: 0, need: [] });
    expect(next.replies).toEqual([]);
    expect(sentTo(next, '3').find((m) => m.type === 'heartbeat')).toMatchObject({ round: 2 });
    const served = deliver(l, '3', { type: 'heartbeatResp', ballot: b(1, '1'), round: 2, known: 1, snapshotSlot: 0, need: [] });
    expect(served.replies[0]?.response).toMatchObject({ ok: true, result: { value: 1 }, index: 1 });
  });

  it('a read of a deposed leader is never answered from its state', () => {
    const l = leader();
    request(l, { type: 'read', op: { op: 'get', key: 'a' } });
    // the quorum moved on: node 2 promised a higher ballot, so it rejects the round
    const r = deliver(l, '2', { type: 'reject', ballot: b(1, '1'), promised: b(2, '3') });
    expect(r.replies.map((x) => x.response)).toEqual([{ ok: false, error: 'not-leader', leaderHint: null }]);
  });

  it('an unconfirmed read times out', () => {
    const l = leader({ checkQuorum: false });
    const read = request(l, { type: 'read', op: { op: 'get', key: 'a' } });
    expect(read.replies).toEqual([]);
    const later = tick(l, 2 * 20 + 1);
    expect(later.replies.map((x) => x.response)).toEqual([{ ok: false, error: 'timeout', leaderHint: null }]);
  });
});

describe('Multi-Paxos timers', () => {
  it('a follower that hears no leader campaigns within the maximum election timeout; heartbeats keep it quiet', () => {
    const quiet = core('2');
    for (let i = 0; i < 60; i++) {
      tick(quiet);
      if (i % 5 === 0) deliver(quiet, '1', { type: 'heartbeat', ballot: b(1, '1'), round: i, decided: [] });
    }
    expect(quiet.status().role).toBe('follower');
    const alone = core('2');
    let ticks = 0;
    let prepares = 0;
    while (alone.status().role === 'follower' && ticks < 100) {
      prepares += tick(alone).sends.filter((s) => s.msg.type === 'prepare').length;
      ticks++;
    }
    expect(ticks).toBeGreaterThanOrEqual(10);
    expect(ticks).toBeLessThanOrEqual(20);
    expect(prepares).toBe(2);
  });

  it('a leader that no quorum answers steps down (check-quorum)', () => {
    const l = leader();
    tick(l, 25);
    expect(l.status().role).toBe('follower');
  });

  it('a single node leads alone and serves at once', () => {
    const solo = core('1', [], {}, ['1']);
    tick(solo, 21);
    expect(solo.status()).toMatchObject({ role: 'leader', ready: true });
    const w = request(solo, { type: 'command', clientId: 'c', seq: 1, op: { op: 'put', key: 'a', value: 1 } });
    expect(w.replies[0]?.response).toMatchObject({ ok: true, index: 1 });
    expect(request(solo, { type: 'read', op: { op: 'get', key: 'a' } }).replies[0]?.response).toMatchObject({ ok: true, result: { value: 1 } });
  });
});
