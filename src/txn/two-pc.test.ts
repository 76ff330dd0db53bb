import { describe, expect, it } from 'vitest';
import type { CoreEnv, Effects } from '../core/index.js';
import { CoordinatorCore, type TxnResponse } from './coordinator.js';
import type { CoordinatorOp, ParticipantOp, TwoPcMessage } from './messages.js';
import { ParticipantCore } from './participant.js';
import { TWO_PC_DEFAULTS } from './two-pc.js';

class Fx<P, Res> implements Effects<TwoPcMessage, P, Res> {
  sent: { to: string; msg: TwoPcMessage }[] = [];
  persisted: P[] = [];
  replies: { id: string; res: Res }[] = [];
  notes = new Map<string, unknown>();
  send(to: string, msg: TwoPcMessage): void {
    this.sent.push({ to, msg });
  }
  persist(op: P): void {
    this.persisted.push(op);
  }
  reply(id: string, res: Res): void {
    this.replies.push({ id, res });
  }
  annotate(key: string, value: unknown): void {
    this.notes.set(key, value);
  }
}

function env(id: string, clock: { now: number }): CoreEnv {
  return { id, members: ['1', '2', '3'], now: () => clock.now, random: () => 0.5 };
}

const prepare = (txn: string, ts: number, writes: { key: string; delta: number }[]): TwoPcMessage => ({ type: 'prepare', txn, ts, participants: ['2', '3'], writes });

describe('2PC participant', () => {
  it('forces prepared before its yes vote, and votes no when a balance would go negative', () => {
    const clock = { now: 0 };
    const p = new ParticipantCore(env('2', clock), [], TWO_PC_DEFAULTS);
    const fx = new Fx<ParticipantOp, never>();
    p.handleMessage('1', prepare('t1.1', 1, [{ key: 'a', delta: -30 }]), fx);
    expect(fx.persisted[0]).toMatchObject({ kind: 'prepared', txn: 't1.1' });
    expect(fx.sent).toEqual([{ to: '1', msg: { type: 'vote', txn: 't1.1', yes: true } }]);
    p.handleMessage('1', prepare('t1.2', 2, [{ key: 'b', delta: -101 }]), fx);
    expect(fx.sent[1]?.msg).toEqual({ type: 'vote', txn: 't1.2', yes: false });
    expect(p.lockCount()).toBe(1);
  });

  it('wait-die: a younger transaction dies on an older one\'s lock; an older one waits for a younger', () => {
    const clock = { now: 0 };
    const p = new ParticipantCore(env('2', clock), [], TWO_PC_DEFAULTS);
    const fx = new Fx<ParticipantOp, never>();
    p.handleMessage('1', prepare('t1.5', 5, [{ key: 'a', delta: -1 }]), fx);
    p.handleMessage('1', prepare('t1.9', 9, [{ key: 'a', delta: -1 }]), fx); // younger: dies
    expect(fx.sent.at(-1)?.msg).toEqual({ type: 'vote', txn: 't1.9', yes: false });
    p.handleMessage('1', prepare('t1.3', 3, [{ key: 'a', delta: -1 }]), fx); // older: waits
    expect(fx.sent.filter((s) => s.msg.txn === 't1.3')).toEqual([]);
    p.handleMessage('1', { type: 'decision', txn: 't1.5', outcome: 'commit' }, fx);
    expect(fx.sent.filter((s) => s.msg.txn === 't1.3').map((s) => s.msg)).toEqual([{ type: 'vote', txn: 't1.3', yes: true }]);
    expect(p.balance('a')).toBe(99);
  });

  it('a waiting transaction votes no after the lock wait runs out', () => {
    const clock = { now: 0 };
    const p = new ParticipantCore(env('2', clock), [], TWO_PC_DEFAULTS);
    const fx = new Fx<ParticipantOp, never>();
    p.handleMessage('1', prepare('t1.5', 5, [{ key: 'a', delta: -1 }]), fx);
    p.handleMessage('1', prepare('t1.3', 3, [{ key: 'a', delta: -1 }]), fx);
    clock.now = TWO_PC_DEFAULTS.lockWaitMs;
    p.handleTick(fx);
    expect(fx.sent.at(-1)?.msg).toEqual({ type: 'vote', txn: 't1.3', yes: false });
  });

  it('recovers prepared transactions (and their locks) from its log, and asks about them at once', () => {
    const clock = { now: 0 };
    const fx = new Fx<ParticipantOp, never>();
    const first = new ParticipantCore(env('2', clock), [], TWO_PC_DEFAULTS);
    first.handleMessage('1', prepare('t1.1', 1, [{ key: 'a', delta: -30 }]), fx);
    const again = new ParticipantCore(env('2', clock), fx.persisted, TWO_PC_DEFAULTS);
    expect(again.inDoubt()).toEqual(['t1.1']);
    expect(again.lockCount()).toBe(1);
    clock.now = TWO_PC_DEFAULTS.decisionTimeoutMs;
    const fx2 = new Fx<ParticipantOp, never>();
    again.handleTick(fx2);
    expect(fx2.sent.map((s) => `${s.to}:${s.msg.type}`).sort()).toEqual(['1:decision-request', '3:status-request']);
    // cooperative termination: a fellow participant that knows the outcome lets it decide
    again.handleMessage('3', { type: 'status', txn: 't1.1', state: 'commit' }, fx2);
    expect(again.balance('a')).toBe(70);
    expect(again.inDoubt()).toEqual([]);
  });

  it('a participant that has not voted answers a status request by aborting, and refuses the late prepare', () => {
    const clock = { now: 0 };
    const p = new ParticipantCore(env('3', clock), [], TWO_PC_DEFAULTS);
    const fx = new Fx<ParticipantOp, never>();
    p.handleMessage('2', { type: 'status-request', txn: 't1.1', ts: 1 }, fx);
    expect(fx.sent[0]).toEqual({ to: '2', msg: { type: 'status', txn: 't1.1', state: 'abort' } });
    expect(fx.persisted[0]).toMatchObject({ kind: 'decided', txn: 't1.1', outcome: 'abort' });
    p.handleMessage('1', prepare('t1.1', 1, [{ key: 'a', delta: 1 }]), fx);
    expect(fx.sent[1]?.msg).toEqual({ type: 'vote', txn: 't1.1', yes: false });
  });

  it('drops and counts malformed messages without throwing', () => {
    const clock = { now: 0 };
    const p = new ParticipantCore(env('2', clock), [], TWO_PC_DEFAULTS);
    const fx = new Fx<ParticipantOp, never>();
    const junk: unknown[] = [null, 5, { type: 'prepare' }, { type: 'prepare', txn: 'x', ts: -1, participants: ['2'], writes: [] }, { type: 'vote', txn: 'x', yes: 'maybe' }, { type: 'decision', txn: 'x', outcome: 'perhaps' }, { type: 'nope', txn: 'x' }, { type: 'prepare', txn: 'x', ts: 1, participants: ['2'], writes: [{ key: 'a', delta: 0.5 }] }];
    for (const j of junk) p.handleMessage('9', j as TwoPcMessage, fx);
    expect(p.malformedCount).toBe(junk.length);
    expect(fx.sent).toEqual([]);
    // a forged commit for a transaction it never voted yes on changes nothing
    p.handleMessage('9', { type: 'decision', txn: 't9.9', outcome: 'commit' }, fx);
    p.handleMessage('9', { type: 'status', txn: 't9.9', state: 'commit' }, fx);
    expect(p.totalBalance()).toBe(400);
  });
});

describe('2PC coordinator', () => {
  const request = { writes: [{ participant: '2', key: 'a', delta: -5 }, { participant: '3', key: 'a', delta: 5 }] };

  it('forces the commit record before sending COMMIT, and answers unknown transactions with abort (presumed abort)', () => {
    const clock = { now: 0 };
    const c = new CoordinatorCore(env('1', clock), [], TWO_PC_DEFAULTS);
    const fx = new Fx<CoordinatorOp, TxnResponse>();
    c.start(fx);
    c.handleRequest('r1', request, fx);
    const txn = (fx.sent[0]?.msg as { txn: string }).txn;
    c.handleMessage('2', { type: 'vote', txn, yes: true }, fx);
    c.handleMessage('3', { type: 'vote', txn, yes: true }, fx);
    expect(fx.persisted.at(-1)).toEqual({ kind: 'commit', txn, participants: ['2', '3'] });
    expect(fx.replies).toEqual([{ id: 'r1', res: { txn, outcome: 'commit' } }]);
    // after a crash: the commit is resent until acknowledged
    const again = new CoordinatorCore(env('1', clock), fx.persisted, TWO_PC_DEFAULTS);
    const fx2 = new Fx<CoordinatorOp, TxnResponse>();
    again.start(fx2);
    again.handleTick(fx2);
    expect(fx2.sent.map((s) => s.msg)).toEqual([{ type: 'decision', txn, outcome: 'commit' }, { type: 'decision', txn, outcome: 'commit' }]);
    again.handleMessage('2', { type: 'decision-request', txn: 't1.99' }, fx2);
    expect(fx2.sent.at(-1)).toEqual({ to: '2', msg: { type: 'decision', txn: 't1.99', outcome: 'abort' } });
    // a new life names transactions afresh
    again.handleRequest('r2', request, fx2);
    expect((fx2.sent.at(-1)?.msg as { txn: string }).txn).toBe('t2.1');
  });

  it('aborts when a vote is missing after the vote timeout, and refuses malformed requests', () => {
    const clock = { now: 0 };
    const c = new CoordinatorCore(env('1', clock), [], TWO_PC_DEFAULTS);
    const fx = new Fx<CoordinatorOp, TxnResponse>();
    c.start(fx);
    c.handleRequest('r1', request, fx);
    clock.now = TWO_PC_DEFAULTS.voteTimeoutMs;
    c.handleTick(fx);
    expect(fx.replies[0]?.res).toMatchObject({ outcome: 'abort' });
    c.handleRequest('r2', { writes: [{ participant: '', key: 'a', delta: 1 }] }, fx);
    c.handleRequest('r3', null as never, fx);
    expect(fx.replies.slice(1).map((r) => r.res)).toEqual([{ error: 'bad-request' }, { error: 'bad-request' }]);
  });
});
