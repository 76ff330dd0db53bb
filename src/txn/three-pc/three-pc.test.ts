import { describe, expect, it } from 'vitest';
import type { CoreEnv, Effects } from '../../core/index.js';
import type { TxnResponse } from '../coordinator.js';
import { ThreePcCoordinatorCore } from './coordinator.js';
import type { ThreePcCoordinatorOp, ThreePcMessage, ThreePcParticipantOp } from './messages.js';
import { ThreePcParticipantCore } from './participant.js';
import { THREE_PC_DEFAULTS } from './spec.js';

class Fx<P, Res> implements Effects<ThreePcMessage, P, Res> {
  sent: { to: string; msg: ThreePcMessage }[] = [];
  persisted: P[] = [];
  replies: { id: string; res: Res }[] = [];
  notes = new Map<string, unknown>();
  send(to: string, msg: ThreePcMessage): void {
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
  /** What was sent to whom, as "to:type". */
  kinds(): string[] {
    return this.sent.map((s) => `${s.to}:${s.msg.type}`);
  }
  clear(): void {
    this.sent = [];
  }
}

function env(id: string, clock: { now: number }): CoreEnv {
  return { id, members: ['1', '2', '3', '4'], now: () => clock.now, random: () => 0.5 };
}

const prepare = (txn: string, ts = 1): ThreePcMessage => ({ type: 'prepare', txn, ts, participants: ['2', '3', '4'], writes: [{ key: 'a', delta: -10 }] });
type PFx = Fx<ThreePcParticipantOp, never>;

/** A participant (id) that voted yes on t1.1, with its effects. */
function votedYes(id: string, clock: { now: number }): { p: ThreePcParticipantCore; fx: PFx } {
  const p = new ThreePcParticipantCore(env(id, clock), [], THREE_PC_DEFAULTS);
  const fx = new Fx<ThreePcParticipantOp, never>();
  p.handleMessage('1', prepare('t1.1'), fx);
  return { p, fx };
}

/** Ticks the participant at `ms`. */
function tickAt(p: ThreePcParticipantCore, fx: PFx, clock: { now: number }, ms: number): void {
  clock.now = ms;
  p.handleTick(fx);
}

const lastRound = (fx: PFx): number => {
  const r = [...fx.sent].reverse().find((s) => s.msg.type === 'state-request');
  return r?.msg.type === 'state-request' ? r.msg.round : -1;
};

describe('3PC participant', () => {
  it('forces "prepared" before its yes and "precommitted" before acknowledging PRE-COMMIT, then commits', () => {
    const clock = { now: 0 };
    const { p, fx } = votedYes('2', clock);
    expect(fx.persisted[0]).toMatchObject({ kind: 'prepared', txn: 't1.1' });
    expect(fx.sent.at(-1)).toEqual({ to: '1', msg: { type: 'vote', txn: 't1.1', yes: true } });
    p.handleMessage('1', { type: 'precommit', txn: 't1.1' }, fx);
    expect(fx.persisted.at(-1)).toEqual({ kind: 'precommitted', txn: 't1.1' });
    expect(fx.sent.at(-1)).toEqual({ to: '1', msg: { type: 'precommit-ack', txn: 't1.1' } });
    expect(p.stateOf('t1.1')).toBe('precommitted');
    p.handleMessage('1', { type: 'decision', txn: 't1.1', outcome: 'commit' }, fx);
    expect(p.balance('a')).toBe(90);
    expect(p.lockCount()).toBe(0);
    expect(fx.sent.at(-1)).toEqual({ to: '1', msg: { type: 'ack', txn: 't1.1' } });
  });

  it('the rank-0 backup asks everyone after the decision timeout; all uncertain: abort, told to all', () => {
    const clock = { now: 0 };
    const { p, fx } = votedYes('2', clock);
    fx.clear();
    tickAt(p, fx, clock, THREE_PC_DEFAULTS.decisionTimeoutMs - 1);
    expect(fx.sent).toEqual([]);
    tickAt(p, fx, clock, THREE_PC_DEFAULTS.decisionTimeoutMs);
    expect(fx.kinds().sort()).toEqual(['1:state-request', '3:state-request', '4:state-request']);
    const round = lastRound(fx);
    p.handleMessage('3', { type: 'state', txn: 't1.1', state: 'uncertain', recovered: false, round }, fx);
    // the coordinator and 4 are silent: taken as crashed when the wait runs out
    tickAt(p, fx, clock, THREE_PC_DEFAULTS.decisionTimeoutMs + THREE_PC_DEFAULTS.termWaitMs);
    expect(p.stateOf('t1.1')).toBe('aborted');
    expect(p.lockCount()).toBe(0);
    expect(fx.sent.filter((s) => s.msg.type === 'decision').map((s) => s.to).sort()).toEqual(['1', '3', '4']);
  });

  it('a backup that sees one pre-committed participant pre-commits the uncertain, then commits', () => {
    const clock = { now: 0 };
    const { p, fx } = votedYes('2', clock);
    tickAt(p, fx, clock, THREE_PC_DEFAULTS.decisionTimeoutMs);
    const round = lastRound(fx);
    fx.clear();
    p.handleMessage('3', { type: 'state', txn: 't1.1', state: 'precommitted', recovered: false, round }, fx);
    p.handleMessage('4', { type: 'state', txn: 't1.1', state: 'uncertain', recovered: false, round }, fx);
    tickAt(p, fx, clock, THREE_PC_DEFAULTS.decisionTimeoutMs + THREE_PC_DEFAULTS.termWaitMs);
    expect(fx.persisted.at(-1)).toEqual({ kind: 'precommitted', txn: 't1.1' });
    expect(fx.kinds()).toEqual(['4:precommit']);
    p.handleMessage('4', { type: 'precommit-ack', txn: 't1.1' }, fx);
    expect(p.stateOf('t1.1')).toBe('committed');
    expect(p.balance('a')).toBe(90);
  });

  it('waits for a coordinator that answers it is still deciding', () => {
    const clock = { now: 0 };
    const { p, fx } = votedYes('2', clock);
    tickAt(p, fx, clock, THREE_PC_DEFAULTS.decisionTimeoutMs);
    const round = lastRound(fx);
    p.handleMessage('1', { type: 'state', txn: 't1.1', state: 'active', recovered: false, round }, fx);
    p.handleMessage('3', { type: 'state', txn: 't1.1', state: 'uncertain', recovered: false, round }, fx);
    p.handleMessage('4', { type: 'state', txn: 't1.1', state: 'uncertain', recovered: false, round }, fx);
    expect(p.stateOf('t1.1')).toBe('uncertain');
  });

  it('a higher-ranked participant waits a rank slot longer, and defers to a lower-ranked backup', () => {
    const clock = { now: 0 };
    const { p, fx } = votedYes('3', clock); // rank 1
    fx.clear();
    tickAt(p, fx, clock, THREE_PC_DEFAULTS.decisionTimeoutMs);
    expect(fx.sent).toEqual([]);
    // the rank-0 backup (2) asks: 3 answers and waits again
    p.handleMessage('2', { type: 'state-request', txn: 't1.1', ts: 1, rank: 0, round: 7 }, fx);
    expect(fx.sent).toEqual([{ to: '2', msg: { type: 'state', txn: 't1.1', state: 'uncertain', recovered: false, round: 7 } }]);
    tickAt(p, fx, clock, THREE_PC_DEFAULTS.decisionTimeoutMs + THREE_PC_DEFAULTS.rankSlotMs);
    expect(fx.sent.filter((s) => s.msg.type === 'state-request')).toEqual([]);
  });

  it('one that has not voted answers a state request by aborting, and refuses the late prepare', () => {
    const clock = { now: 0 };
    const p = new ThreePcParticipantCore(env('4', clock), [], THREE_PC_DEFAULTS);
    const fx = new Fx<ThreePcParticipantOp, never>();
    p.handleMessage('2', { type: 'state-request', txn: 't1.1', ts: 1, rank: 0, round: 1 }, fx);
    expect(fx.sent).toEqual([{ to: '2', msg: { type: 'state', txn: 't1.1', state: 'aborted', recovered: false, round: 1 } }]);
    p.handleMessage('1', prepare('t1.1'), fx);
    expect(fx.sent.at(-1)?.msg).toEqual({ type: 'vote', txn: 't1.1', yes: false });
  });

  it('restarted while uncertain, it cannot decide on restarted peers\' word alone, but can with everyone\'s answer', () => {
    const clock = { now: 0 };
    const { fx } = votedYes('2', clock);
    const again = new ThreePcParticipantCore(env('2', clock), fx.persisted, THREE_PC_DEFAULTS);
    expect(again.inDoubt()).toEqual(['t1.1']);
    expect(again.lockCount()).toBe(1);
    const fx2 = new Fx<ThreePcParticipantOp, never>();
    tickAt(again, fx2, clock, 0); // rank 0: asks at once
    let round = lastRound(fx2);
    again.handleMessage('3', { type: 'state', txn: 't1.1', state: 'uncertain', recovered: true, round }, fx2);
    tickAt(again, fx2, clock, THREE_PC_DEFAULTS.termWaitMs);
    expect(again.stateOf('t1.1')).toBe('uncertain'); // 4 and the coordinator silent: blocked
    tickAt(again, fx2, clock, THREE_PC_DEFAULTS.termWaitMs + THREE_PC_DEFAULTS.retryMs);
    round = lastRound(fx2);
    again.handleMessage('3', { type: 'state', txn: 't1.1', state: 'uncertain', recovered: true, round }, fx2);
    again.handleMessage('4', { type: 'state', txn: 't1.1', state: 'uncertain', recovered: true, round }, fx2);
    again.handleMessage('1', { type: 'state', txn: 't1.1', state: 'in-doubt', recovered: false, round }, fx2);
    expect(again.stateOf('t1.1')).toBe('aborted');
  });

  it('drops and counts malformed messages without throwing; a forged PRE-COMMIT or commit changes nothing', () => {
    const clock = { now: 0 };
    const p = new ThreePcParticipantCore(env('2', clock), [], THREE_PC_DEFAULTS);
    const fx = new Fx<ThreePcParticipantOp, never>();
    const junk: unknown[] = [null, 'x', { type: 'precommit' }, { type: 'state', txn: 't', state: 'maybe', recovered: false, round: 1 }, { type: 'state-request', txn: 't', ts: 1, rank: -2, round: 1 }, { type: 'prepare', txn: 't', ts: 1, participants: [], writes: [] }];
    for (const j of junk) p.handleMessage('9', j as ThreePcMessage, fx);
    expect(p.malformedCount).toBe(junk.length);
    p.handleMessage('9', { type: 'precommit', txn: 't9.9' }, fx);
    p.handleMessage('9', { type: 'decision', txn: 't9.9', outcome: 'commit' }, fx);
    expect(fx.sent).toEqual([]);
    expect(p.totalBalance()).toBe(400);
  });
});

describe('3PC coordinator', () => {
  const request = { writes: [{ participant: '2', key: 'a', delta: -5 }, { participant: '3', key: 'a', delta: 5 }] };

  it('forces "precommit" before PRE-COMMIT, commits when every participant acknowledged', () => {
    const clock = { now: 0 };
    const c = new ThreePcCoordinatorCore(env('1', clock), [], THREE_PC_DEFAULTS);
    const fx = new Fx<ThreePcCoordinatorOp, TxnResponse>();
    c.start(fx);
    c.handleRequest('r1', request, fx);
    c.handleMessage('2', { type: 'vote', txn: 't1.1', yes: true }, fx);
    c.handleMessage('3', { type: 'vote', txn: 't1.1', yes: true }, fx);
    expect(fx.persisted.at(-1)).toMatchObject({ kind: 'precommit', txn: 't1.1' });
    expect(fx.sent.slice(-2).map((s) => s.msg.type)).toEqual(['precommit', 'precommit']);
    c.handleMessage('2', { type: 'precommit-ack', txn: 't1.1' }, fx);
    expect(fx.replies).toEqual([]);
    c.handleMessage('3', { type: 'precommit-ack', txn: 't1.1' }, fx);
    expect(fx.persisted.at(-1)).toMatchObject({ kind: 'commit', txn: 't1.1' });
    expect(fx.replies).toEqual([{ id: 'r1', res: { txn: 't1.1', outcome: 'commit' } }]);
  });

  it('takes a participant silent past the acknowledgement timeout as crashed, and commits', () => {
    const clock = { now: 0 };
    const c = new ThreePcCoordinatorCore(env('1', clock), [], THREE_PC_DEFAULTS);
    const fx = new Fx<ThreePcCoordinatorOp, TxnResponse>();
    c.handleRequest('r1', request, fx);
    c.handleMessage('2', { type: 'vote', txn: 't1.1', yes: true }, fx);
    c.handleMessage('3', { type: 'vote', txn: 't1.1', yes: true }, fx);
    c.handleMessage('2', { type: 'precommit-ack', txn: 't1.1' }, fx);
    clock.now = THREE_PC_DEFAULTS.ackTimeoutMs;
    c.handleTick(fx);
    expect(fx.replies[0]?.res).toEqual({ txn: 't1.1', outcome: 'commit' });
  });

  it('restarted after PRE-COMMIT it is in doubt: it answers "in-doubt", asks, and adopts the outcome someone knows', () => {
    const clock = { now: 0 };
    const fx = new Fx<ThreePcCoordinatorOp, TxnResponse>();
    const first = new ThreePcCoordinatorCore(env('1', clock), [], THREE_PC_DEFAULTS);
    first.handleRequest('r1', request, fx);
    first.handleMessage('2', { type: 'vote', txn: 't1.1', yes: true }, fx);
    first.handleMessage('3', { type: 'vote', txn: 't1.1', yes: true }, fx);
    const again = new ThreePcCoordinatorCore(env('1', clock), fx.persisted, THREE_PC_DEFAULTS);
    const fx2 = new Fx<ThreePcCoordinatorOp, TxnResponse>();
    again.start(fx2);
    expect(again.inDoubtCount()).toBe(1);
    again.handleMessage('2', { type: 'state-request', txn: 't1.1', ts: 1, rank: 0, round: 3 }, fx2);
    expect(fx2.sent.at(-1)?.msg).toEqual({ type: 'state', txn: 't1.1', state: 'in-doubt', recovered: false, round: 3 });
    again.handleTick(fx2);
    expect(fx2.kinds().slice(-2)).toEqual(['2:state-request', '3:state-request']);
    again.handleMessage('2', { type: 'state', txn: 't1.1', state: 'aborted', recovered: false, round: 1 }, fx2);
    expect(again.openCount()).toBe(0);
    expect(fx2.persisted.at(-1)).toEqual({ kind: 'end', txn: 't1.1' });
    // with no record at all it answers "aborted": nobody can have committed without its forced PRE-COMMIT
    again.handleMessage('2', { type: 'state-request', txn: 't1.77', ts: 1, rank: 0, round: 4 }, fx2);
    expect(fx2.sent.at(-1)?.msg).toMatchObject({ state: 'aborted' });
  });
});
