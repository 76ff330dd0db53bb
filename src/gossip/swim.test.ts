import { describe, expect, it } from 'vitest';
import type { CoreEnv, Effects } from '../core/index.js';
import { LAN_GOSSIP_CONFIG, resolveGossipConfig } from './config.js';
import type { GossipMessage, GossipPersistOp, GossipRequest, GossipResponse } from './messages.js';
import { MAX_INCARNATION, messageProblem } from './messages.js';
import { SwimNode } from './swim.js';

/** One node driven by hand: a settable clock, a seeded random stream, and every output recorded. */
function harness(o: { id?: string; members?: string[]; durable?: GossipPersistOp[]; config?: Parameters<typeof resolveGossipConfig>[0] } = {}) {
  let nowMs = 0;
  let x = 12345;
  const env: CoreEnv = {
    id: o.id ?? 'a',
    members: o.members ?? ['a', 'b', 'c'],
    now: () => nowMs,
    random: () => {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      return x / 2 ** 31;
    },
  };
  const out: { kind: string; to?: string; msg?: GossipMessage; op?: GossipPersistOp; requestId?: string; response?: GossipResponse; key?: string; value?: unknown }[] = [];
  const fx: Effects<GossipMessage, GossipPersistOp, GossipResponse> = {
    send: (to, msg) => void out.push({ kind: 'send', to, msg }),
    persist: (op) => void out.push({ kind: 'persist', op }),
    reply: (requestId, response) => void out.push({ kind: 'reply', requestId, response }),
    annotate: (key, value) => void out.push({ kind: 'annotate', key, value }),
  };
  const node = new SwimNode(env, resolveGossipConfig(o.config ?? {}, LAN_GOSSIP_CONFIG), o.durable ?? []);
  node.start(fx);
  const take = () => out.splice(0, out.length);
  const tickFor = (ms: number): void => {
    for (let t = 0; t < ms; t += node.config.tickIntervalMs) {
      nowMs += node.config.tickIntervalMs;
      node.handleTick(fx);
    }
  };
  const request = (req: unknown): GossipResponse | undefined => {
    node.handleRequest('r', req as GossipRequest, fx);
    return out.filter((e) => e.kind === 'reply').pop()?.response;
  };
  return { node, fx, out, take, tickFor, request };
}

describe('SWIM node: its own incarnation', () => {
  it('starts at 0, persisting it, and asks every seed for its state', () => {
    const h = harness();
    const started = h.take();
    expect(started.filter((e) => e.kind === 'persist').map((e) => e.op)).toEqual([{ op: 'self', incarnation: 0, meta: '' }]);
    expect(started.filter((e) => e.kind === 'send').map((e) => [e.to, e.msg?.type])).toEqual([['b', 'sync'], ['c', 'sync']]);
  });

  it('restarts above every incarnation it persisted, with its metadata', () => {
    const h = harness({ durable: [{ op: 'self', incarnation: 2, meta: 'x' }, { op: 'self', incarnation: 4, meta: 'y' }] });
    expect(h.node.incarnation).toBe(5);
    expect(h.take().find((e) => e.kind === 'persist')?.op).toEqual({ op: 'self', incarnation: 5, meta: 'y' });
  });

  it('refutes a suspicion about itself: persists incarnation + 1, raises its health score, and says alive', () => {
    const h = harness();
    h.take();
    h.node.handleMessage('b', { type: 'ping', seq: 9, target: 'a', updates: [{ node: 'a', state: 'suspect', incarnation: 0, from: 'c' }] }, h.fx);
    const out = h.take();
    expect(out.find((e) => e.kind === 'persist')?.op).toEqual({ op: 'self', incarnation: 1, meta: '' });
    const ack = out.find((e) => e.kind === 'send')?.msg;
    expect(ack?.type).toBe('ack');
    expect(ack?.type === 'ack' && ack.updates[0]).toEqual({ node: 'a', state: 'alive', incarnation: 1, meta: '' });
    expect(h.node.health).toBe(1);
    expect(h.node.stats.refutations).toBe(1);
    // a stale suspicion (below its incarnation) is not refuted again
    h.node.handleMessage('b', { type: 'gossip', updates: [{ node: 'a', state: 'dead', incarnation: 0 }] }, h.fx);
    expect(h.take().some((e) => e.kind === 'persist')).toBe(false);
  });

  it('learns and passes on membership, and tells a suspect it is suspected when probing it (buddy system)', () => {
    const h = harness({ members: ['a', 'b'] });
    h.node.handleMessage('b', { type: 'sync-reply', members: [{ node: 'b', state: 'alive', incarnation: 0, meta: '' }, { node: 'c', state: 'alive', incarnation: 2, meta: 'm' }] }, h.fx);
    expect(h.node.member('c')).toMatchObject({ state: 'alive', incarnation: 2, meta: 'm' });
    expect(h.node.events().map((e) => `${e.kind} ${e.member}`)).toEqual(['join a', 'join b', 'join c']);
    h.node.handleMessage('b', { type: 'gossip', updates: [{ node: 'c', state: 'suspect', incarnation: 2, from: 'b' }] }, h.fx);
    h.take();
    // probe until c is the target: the ping to a suspect carries the suspicion first
    let pingToC: GossipMessage | undefined;
    for (let i = 0; i < 10 && pingToC === undefined; i++) {
      h.tickFor(1_000);
      pingToC = h.take().find((e) => e.kind === 'send' && e.to === 'c' && e.msg?.type === 'ping')?.msg;
    }
    expect(pingToC?.type === 'ping' && pingToC.updates[0]).toEqual({ node: 'c', state: 'suspect', incarnation: 2, from: 'b' });
  });

  it('suspects a member that answers neither the ping nor the ping-reqs, and declares it dead after the suspicion timeout', () => {
    const h = harness({ members: ['a', 'b'] });
    h.node.handleMessage('b', { type: 'sync-reply', members: [{ node: 'b', state: 'alive', incarnation: 0, meta: '' }] }, h.fx);
    // b never answers: one member, so the suspicion expects no confirmation (K = 0) and lasts the minimum, 4 s
    h.tickFor(2_500);
    expect(h.node.member('b')?.state).toBe('suspect');
    expect(h.node.stats.suspicionsStarted).toBe(1);
    h.tickFor(5_000);
    expect(h.node.member('b')?.state).toBe('dead');
    expect(h.node.events().filter((e) => e.member === 'b').map((e) => e.kind)).toEqual(['join', 'update', 'fail']);
  });
});

describe('SWIM node: requests', () => {
  it('answers members, set-meta, leave and join, and refuses bad requests with an error answer', () => {
    const h = harness();
    expect(h.request({ op: 'members' })).toEqual({ ok: true, op: 'members', members: [{ id: 'a', state: 'alive', incarnation: 0, meta: '' }] });
    expect(h.request({ op: 'set-meta', meta: '{"zone":"b"}' })).toEqual({ ok: true, op: 'set-meta', incarnation: 1 });
    expect(h.node.member('a')?.meta).toBe('{"zone":"b"}');
    expect(h.request({ op: 'set-meta', meta: 'é'.repeat(300) })).toMatchObject({ ok: false, code: 'GOSSIP_BAD_REQUEST' });
    for (const bad of [null, 'members', { op: 'nope' }, { op: 'join' }, { op: 'join', seeds: [] }, { op: 'join', seeds: [7] }, { op: 'join', seeds: ['a'] }, { op: 'set-meta', meta: 3 }]) {
      expect(h.request(bad)).toMatchObject({ ok: false, code: 'GOSSIP_BAD_REQUEST' });
    }
    expect(h.request({ op: 'leave' })).toEqual({ ok: true, op: 'leave' });
    expect(h.node.member('a')?.state).toBe('left');
    expect(h.request({ op: 'set-meta', meta: 'x' })).toMatchObject({ ok: false, code: 'GOSSIP_LEFT' });
    // a leaving node lets the leave stand
    h.node.handleMessage('b', { type: 'gossip', updates: [{ node: 'a', state: 'suspect', incarnation: 1 }] }, h.fx);
    expect(h.node.incarnation).toBe(1);
    // joining again comes back above the leave
    h.node.handleRequest('j', { op: 'join', seeds: ['b'] }, h.fx);
    expect(h.node.member('a')).toMatchObject({ state: 'alive', incarnation: 2 });
    h.take();
    h.tickFor(10_000);
    expect(h.out.find((e) => e.kind === 'reply')?.response).toMatchObject({ ok: false, code: 'GOSSIP_JOIN_FAILED' });
    h.node.handleRequest('j2', { op: 'join', seeds: ['b'] }, h.fx);
    h.node.handleMessage('b', { type: 'sync-reply', members: [] }, h.fx);
    expect(h.out.filter((e) => e.kind === 'reply').pop()).toMatchObject({ requestId: 'j2', response: { ok: true, op: 'join', via: 'b' } });
  });
});

describe('SWIM node: hostile peers', () => {
  const HOSTILE: unknown[] = [
    null,
    'ping',
    42,
    [],
    { type: 'mystery' },
    { type: 'ping', seq: -1, target: 'a', updates: [] },
    { type: 'ping', seq: 1, target: '', updates: [] },
    { type: 'ping', seq: 1, target: 'a', updates: 'all' },
    { type: 'ping', seq: 1, target: 'a', updates: [null] },
    { type: 'ack', seq: 1.5, updates: [] },
    { type: 'ack', seq: 1, updates: [{ node: 'b', state: 'zombie', incarnation: 1 }] },
    { type: 'gossip', updates: [{ node: 'b', state: 'alive', incarnation: -1 }] },
    { type: 'gossip', updates: [{ node: 'b', state: 'alive', incarnation: 2 ** 60 }] },
    { type: 'gossip', updates: [{ node: 'x'.repeat(500), state: 'alive', incarnation: 1 }] },
    { type: 'gossip', updates: [{ node: 'b', state: 'alive', incarnation: 1, meta: { toString: 1 } }] },
    { type: 'gossip', updates: [{ node: 'b', state: 'suspect', incarnation: 1, from: 7 }] },
    { type: 'gossip', updates: Array.from({ length: 65 }, (_, i) => ({ node: `n${i}`, state: 'alive', incarnation: 0 })) },
    { type: 'ping-req', seq: 1, target: 'c', updates: [] },
    { type: 'sync', members: [] },
    { type: 'sync-reply', members: {} },
  ];

  it('drops malformed messages with a note and keeps serving', () => {
    for (const msg of HOSTILE) expect(messageProblem(msg)).toBeDefined();
    const h = harness();
    for (const msg of HOSTILE) expect(() => h.node.handleMessage('b', msg as GossipMessage, h.fx)).not.toThrow();
    expect(h.node.stats.badMessages).toBe(HOSTILE.length);
    expect(h.out.filter((e) => e.kind === 'annotate' && e.key === 'lastBadMessage')).toHaveLength(HOSTILE.length);
    expect(h.node.members().map((m) => m.id)).toEqual(['a']);
    expect(h.request({ op: 'members' })).toMatchObject({ ok: true });
  });

  it('survives a peer pushing its incarnation to the maximum: refutes while it can, then answers requests with an error', () => {
    const h = harness();
    h.node.handleMessage('b', { type: 'gossip', updates: [{ node: 'a', state: 'suspect', incarnation: MAX_INCARNATION }] }, h.fx);
    expect(h.node.incarnation).toBe(0);
    h.node.handleMessage('b', { type: 'gossip', updates: [{ node: 'a', state: 'suspect', incarnation: MAX_INCARNATION - 1 }] }, h.fx);
    expect(h.node.incarnation).toBe(MAX_INCARNATION);
    expect(h.request({ op: 'set-meta', meta: 'x' })).toMatchObject({ ok: false, code: 'GOSSIP_EXHAUSTED' });
    expect(h.request({ op: 'members' })).toMatchObject({ ok: true });
  });

  it('ignores metadata over its limit, a ping meant for another name, and a member list over maxMembers', () => {
    const h = harness({ config: { maxMembers: 4 } });
    h.node.handleMessage('b', { type: 'gossip', updates: [{ node: 'b', state: 'alive', incarnation: 1, meta: 'x'.repeat(600) }] }, h.fx);
    expect(h.node.member('b')).toBeUndefined();
    h.take();
    h.node.handleMessage('b', { type: 'ping', seq: 1, target: 'z', updates: [] }, h.fx);
    expect(h.take().some((e) => e.kind === 'send')).toBe(false);
    h.node.handleMessage('b', { type: 'sync', join: true, members: Array.from({ length: 5 }, (_, i) => ({ node: `n${i}`, state: 'alive', incarnation: 0 })) }, h.fx);
    expect(h.node.members()).toHaveLength(1);
    // within the bound, live members beyond it are refused while dead ones make room
    h.node.handleMessage('b', { type: 'sync', join: true, members: [{ node: 'd1', state: 'dead', incarnation: 0 }, { node: 'n1', state: 'alive', incarnation: 0 }, { node: 'n2', state: 'alive', incarnation: 0 }] }, h.fx);
    h.node.handleMessage('b', { type: 'gossip', updates: [{ node: 'd1', state: 'dead', incarnation: 0 }, { node: 'n3', state: 'alive', incarnation: 0 }, { node: 'n4', state: 'alive', incarnation: 0 }] }, h.fx);
    expect(h.node.members().map((m) => m.id).sort()).toEqual(['a', 'n1', 'n2', 'n3']);
    expect(h.node.stats.updatesRefused).toBe(2);
  });
});
