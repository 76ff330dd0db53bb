// The parts of the simulated lock system: the storage node (fencing, version check, conditional
// decrement, row locks, what survives a crash), the three lock clients taking turns with rising
// tokens, the lease check before the work, and Redis without persistence losing its tokens.
import { describe, expect, it } from 'vitest';
import type { CoreEnv, Effects, NodeId } from '../../core/index.js';
import { DbCore, type DbMessage, type DbOp, type DbReply, type DbRequest, type DbWriteRecord } from './resource.js';
import { LockSystem, type LockBackendName } from './system.js';

/** A database core driven by hand: each request's reply (or none, while it waits for a row lock). */
function db(fencing: boolean, durable: DbOp[] = [], initial?: Record<string, number>) {
  let now = 0;
  const records: DbWriteRecord[] = [];
  const restored: number[] = [];
  const env: CoreEnv = { id: 'db', members: ['db'], now: () => now, random: () => 0 };
  const core = new DbCore(env, durable, { fencing, ...(initial === undefined ? {} : { initial }), rowLockTimeoutMs: 100, observer: { write: (_n, r) => void records.push(r), restored: (_n, s) => void restored.push(s) } });
  const persisted: DbOp[] = [];
  let sent: { to: NodeId; msg: DbMessage }[] = [];
  const fx: Effects<DbMessage, DbOp, never> = { send: (to, msg) => void sent.push({ to, msg }), persist: (op) => void persisted.push(op), reply: () => undefined, annotate: () => undefined };
  let n = 0;
  const call = (from: NodeId, request: DbRequest): DbReply | undefined => {
    sent = [];
    const reqId = `r${n++}`;
    core.handleMessage(from, { type: 'dbRequest', reqId, request }, fx);
    const mine = sent.find((s) => s.to === from && s.msg.type === 'dbReply' && s.msg.reqId === reqId);
    return mine?.msg.type === 'dbReply' ? mine.msg.reply : undefined;
  };
  const tick = (ms: number): { to: NodeId; msg: DbMessage }[] => {
    now += ms;
    sent = [];
    core.handleTick(fx);
    return sent;
  };
  return { core, call, tick, records, restored, persisted };
}

describe('the storage node', () => {
  it('fenced: refuses a token below the highest it accepted, equal and higher ones pass', () => {
    const d = db(true);
    expect(d.call('c1', { op: 'write', key: 'x', value: 1, token: 5, grant: 'g5' })).toMatchObject({ ok: true, value: 1, version: 1 });
    expect(d.call('c1', { op: 'write', key: 'x', value: 2, token: 5, grant: 'g5' })).toMatchObject({ ok: true });
    expect(d.call('c2', { op: 'write', key: 'x', value: 3, token: 4, grant: 'g4' })).toMatchObject({ ok: false, error: 'fenced', highest: 5 });
    expect(d.call('c3', { op: 'write', key: 'x', value: 4, token: 9, grant: 'g9' })).toMatchObject({ ok: true, version: 3 });
    expect(d.records.map((r) => [r.grant, r.accepted])).toEqual([['g5', true], ['g5', true], ['g4', false], ['g9', true]]);
    // another key has its own fence
    expect(d.call('c2', { op: 'write', key: 'y', value: 1, token: 1, grant: 'g1' })).toMatchObject({ ok: true });
  });

  it('unfenced: takes every write, whatever its token', () => {
    const d = db(false);
    d.call('c1', { op: 'write', key: 'x', value: 1, token: 5, grant: 'g5' });
    expect(d.call('c2', { op: 'write', key: 'x', value: 2, token: 4, grant: 'g4' })).toMatchObject({ ok: true });
    expect(d.core.valueOf('x')).toBe(2);
  });

  it('checks versions, decrements only what is positive', () => {
    const d = db(false, [], { stock: 1 });
    expect(d.call('c1', { op: 'casVersion', key: 'stock', version: 2, value: 0 })).toMatchObject({ ok: false, error: 'version-mismatch' });
    expect(d.call('c1', { op: 'decrementIfPositive', key: 'stock' })).toMatchObject({ ok: true, value: 0, version: 2 });
    expect(d.call('c2', { op: 'decrementIfPositive', key: 'stock' })).toMatchObject({ ok: false, error: 'not-positive' });
    expect(d.call('c2', { op: 'casVersion', key: 'stock', version: 2, value: 5 })).toMatchObject({ ok: true, value: 5 });
  });

  it('queues row-lock waiters, hands the lock on at unlock, and takes it back after the timeout', () => {
    const d = db(false, [], { stock: 1 });
    expect(d.call('c1', { op: 'lockRow', key: 'stock', owner: 'a' })).toMatchObject({ ok: true, value: 1 });
    expect(d.call('c2', { op: 'lockRow', key: 'stock', owner: 'b' })).toBeUndefined();
    expect(d.call('c2', { op: 'unlockRow', key: 'stock', owner: 'b' })).toMatchObject({ ok: false, error: 'not-owner' });
    d.call('c1', { op: 'write', key: 'stock', value: 0, token: null, grant: null });
    const handedOn: DbMessage[] = [];
    // unlock answers c1 and hands the lock to b, whose lockRow is answered with the new value
    d.core.handleMessage('c1', { type: 'dbRequest', reqId: 'u', request: { op: 'unlockRow', key: 'stock', owner: 'a' } }, { send: (_to, m) => void handedOn.push(m), persist: () => undefined, reply: () => undefined, annotate: () => undefined });
    expect(handedOn.map((m) => (m.type === 'dbReply' ? m.reply : null))).toEqual([
      { ok: true, value: 0, version: 2 },
      { ok: true, value: 0, version: 2 },
    ]);
    expect(d.tick(50)).toEqual([]);
    d.tick(60);
    expect(d.call('c3', { op: 'lockRow', key: 'stock', owner: 'c' })).toMatchObject({ ok: true });
  });

  it('a restart keeps the synced writes and the fence, and says which write was the last', () => {
    const d = db(true);
    d.call('c1', { op: 'write', key: 'x', value: 1, token: 7, grant: 'g7' });
    d.call('c1', { op: 'write', key: 'x', value: 2, token: 8, grant: 'g8' });
    const again = db(true, d.persisted.slice(0, 1));
    expect(again.restored).toEqual([1]);
    expect(again.core.valueOf('x')).toBe(1);
    expect(again.call('c2', { op: 'write', key: 'x', value: 3, token: 6, grant: 'g6' })).toMatchObject({ ok: false, error: 'fenced', highest: 7 });
  });
});

describe('lock clients', () => {
  it.each(['synod', 'redis', 'redlock'] as LockBackendName[])('%s: three clients take turns; the service never holds two grants; tokens rise', (backend) => {
    const s = new LockSystem({ seed: 3, backend, fencing: true, clients: 3 });
    for (let round = 0; round < 3; round++) {
      for (const c of s.layout.clients) s.submit(c, { f: 'write', key: 'x', value: round * 10 + Number(c.slice(1)) });
      expect(s.runUntil(() => s.idle(), 8000)).toBe(true);
    }
    expect(s.history().ops.map((op) => op.outcome)).toEqual(Array(9).fill('ok'));
    const v = s.verdicts();
    expect([v.service.ok, v.client.ok, v.clientValid.ok, v.grants.ok, v.resource.ok, v.linearizability]).toEqual([true, true, true, true, true, 'linearizable']);
    const tokens = s.events.filter((e) => e.by === 'client' && e.kind === 'acquired').map((e) => e.token);
    if (backend === 'redlock') expect(tokens.every((t) => t === null)).toBe(true);
    else expect(tokens).toEqual([...tokens].sort((a, b) => (a as number) - (b as number)));
  });

  it('a client whose lease would run out during the work stops before writing', () => {
    const s = new LockSystem({ seed: 1, backend: 'redis', fencing: true, ttlMs: 100 });
    let error = '';
    s.submit('c1', { f: 'write', key: 'x', value: 1, workMs: 200 }, (r) => (error = r.error ?? ''));
    s.runUntil(() => s.idle(), 3000);
    expect(error).toMatch(/lease would run out during the work/);
    expect(s.writes).toEqual([]);
  });

  it('Synod: keep-alives keep the lease of a client waiting its turn, so its validity never lapses', () => {
    const s = new LockSystem({ seed: 2, backend: 'synod', fencing: true, ttlMs: 300, clients: 2 });
    s.runUntil(() => s.readyLeader() !== undefined, 3000);
    s.submit('c1', { f: 'write', key: 'x', value: 1, workMs: 200 });
    s.submit('c2', { f: 'write', key: 'x', value: 2, workMs: 200 });
    expect(s.runUntil(() => s.idle(), 6000)).toBe(true);
    expect(s.history().ops.map((op) => op.outcome)).toEqual(['ok', 'ok']);
    expect(s.events.filter((e) => e.kind === 'validity-passed')).toEqual([]);
  });

  it('Redis without persistence: a restart forgets the lock and the INCR counter, so two grants share token 1', () => {
    const s = new LockSystem({ seed: 1, backend: 'redis', fencing: true, redisPersistence: 'none', ttlMs: 1000 });
    s.submit('c1', { f: 'write', key: 'x', value: 1, workMs: 400 });
    s.runUntil(() => s.phaseOf('c1') === 'working', 1000);
    s.crash('r1');
    s.restart('r1');
    s.submit('c2', { f: 'write', key: 'x', value: 2, workMs: 10 });
    s.runUntil(() => s.idle(), 3000);
    const v = s.verdicts();
    // the service saw c1's grant lost in the crash before it granted c2: its own view is clean
    expect(v.service.ok).toBe(true);
    expect(v.clientValid.ok).toBe(false);
    expect(v.resource.violations.map((x) => x.kind)).toEqual(['token-reused']);
  });
});
