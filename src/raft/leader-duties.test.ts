// Tests of the leader-duty runner with a scripted state machine: the machine's clock starts only
// once the leader applied its term's first entry and stops with leadership; due commands are asked
// for every leaderDutyTicks ticks, never more than the bound in flight and never when proposals
// are refused; leader-local reads are answered only by a started leader whose leadership a quorum
// confirmed recently; a machine without duties is untouched.
import { describe, expect, it } from 'vitest';
import type { Decoded, JsonValue, LeaderDuties, StateMachine } from '../core/index.js';
import { LeaderDutyRunner, type DutyOptions, type DutyPort } from './leader-duties.js';

const OPTS: DutyOptions = { tickMs: 10, electionTimeoutMinTicks: 10, electionTimeoutMaxTicks: 20, leaderDutyTicks: 3, maxLeaderDutyProposals: 4 };

class ScriptedDuties implements LeaderDuties<string, JsonValue> {
  readonly calls: string[] = [];
  due: JsonValue[] = [];
  leaderStarted(nowMs: number, extendMs: number): void {
    this.calls.push(`started ${nowMs} +${extendMs}`);
  }
  leaderStopped(): void {
    this.calls.push('stopped');
  }
  leaderDue(nowMs: number, max: number): readonly JsonValue[] {
    this.calls.push(`due ${nowMs} max ${max}`);
    const out = this.due.slice(0, max);
    this.due = this.due.slice(max);
    return out;
  }
  decodeLeaderRead(raw: JsonValue): Decoded<string> {
    return typeof raw === 'string' ? { ok: true, value: raw } : { ok: false, problem: 'a string' };
  }
  leaderRead(read: string, nowMs: number): JsonValue {
    this.calls.push(`read ${read} ${nowMs}`);
    return `answer ${read}`;
  }
}

function machine(duties?: ScriptedDuties): StateMachine<JsonValue, JsonValue, JsonValue> {
  return {
    decodeCommand: (raw) => ({ ok: true, value: raw }),
    decodeQuery: (raw) => (raw === 'bad' ? { ok: false, problem: 'bad query' } : { ok: true, value: raw }),
    apply: () => null,
    query: (q) => ({ queried: q }),
    snapshot: () => null,
    restore: () => {},
    ...(duties === undefined ? {} : { leaderDuties: duties }),
  };
}

function setup(duties: ScriptedDuties | null = new ScriptedDuties()): { runner: LeaderDutyRunner<JsonValue, JsonValue, JsonValue>; duties: ScriptedDuties | null; port: DutyPort & { nowMs: number; open: boolean; proposed: JsonValue[]; sentAtMs: number } } {
  let next = 100;
  const port = {
    nowMs: 1000,
    open: true,
    proposed: [] as JsonValue[],
    sentAtMs: 1000,
    now: () => port.nowMs,
    confirmedSentAtMs: () => port.sentAtMs,
    mayPropose: () => port.open,
    propose: (ops: readonly JsonValue[]) => {
      port.proposed.push(...ops);
      return ops.map(() => next++);
    },
  };
  return { runner: new LeaderDutyRunner(machine(duties ?? undefined), OPTS, port), duties, port };
}

describe('LeaderDutyRunner', () => {
  it('starts the machine once the leader applied its term\'s first entry, with the maximum election timeout as extension', () => {
    const { runner, duties, port } = setup();
    runner.applied(50); // a follower applying: nothing
    runner.lead(60);
    runner.applied(59);
    expect(runner.isStarted).toBe(false);
    port.nowMs = 1234;
    runner.applied(60);
    runner.applied(61);
    expect(runner.isStarted).toBe(true);
    expect(duties?.calls).toEqual(['started 1234 +200']);
    runner.stop();
    runner.stop();
    expect(duties?.calls).toEqual(['started 1234 +200', 'stopped']);
    // a leader that never started stops without telling the machine
    runner.lead(70);
    runner.stop();
    expect(duties?.calls).toHaveLength(2);
  });

  it('asks for due commands every leaderDutyTicks ticks while started, within the bound in flight', () => {
    const { runner, duties, port } = setup();
    const d = duties as ScriptedDuties;
    runner.tick();
    runner.tick();
    runner.tick();
    expect(d.calls).toEqual([]); // not leading: nothing asked
    runner.lead(10);
    runner.applied(10);
    d.due = [1, 2, 3, 4, 5, 6].map((id) => ({ op: 'leaseRevoke', id }));
    runner.tick();
    runner.tick();
    expect(port.proposed).toEqual([]);
    runner.tick();
    expect(port.proposed).toHaveLength(4);
    expect(runner.proposalsInFlight).toBe(4);
    for (let i = 0; i < 3; i++) runner.tick();
    expect(port.proposed).toHaveLength(4); // the bound is reached: the machine is not even asked
    runner.applied(101); // indexes 100 and 101 applied
    expect(runner.proposalsInFlight).toBe(2);
    for (let i = 0; i < 3; i++) runner.tick();
    expect(port.proposed).toHaveLength(6);
    expect(d.calls.filter((c) => c.startsWith('due'))).toEqual(['due 1000 max 4', 'due 1000 max 2']);
  });

  it('does not ask the machine while proposals are refused (it would take what it returns as under way)', () => {
    const { runner, duties, port } = setup();
    runner.lead(1);
    runner.applied(1);
    port.open = false;
    for (let i = 0; i < 9; i++) runner.tick();
    expect(duties?.calls.filter((c) => c.startsWith('due'))).toEqual([]);
    port.open = true;
    for (let i = 0; i < 3; i++) runner.tick();
    expect(duties?.calls.filter((c) => c.startsWith('due'))).toHaveLength(1);
  });

  it('forgets proposals in flight when leadership ends', () => {
    const { runner, duties, port } = setup();
    runner.lead(1);
    runner.applied(1);
    (duties as ScriptedDuties).due = [{ op: 'x' }];
    for (let i = 0; i < 3; i++) runner.tick();
    expect(runner.proposalsInFlight).toBe(1);
    runner.stop();
    expect(runner.proposalsInFlight).toBe(0);
    expect(port.proposed).toHaveLength(1);
  });

  it('answers queries from the machine and leader-local reads only on a started leader confirmed within the window', () => {
    const { runner, duties, port } = setup();
    const query = runner.decodeRead('q', false);
    expect(query).toEqual({ ok: true, value: { leader: false, op: 'q' } });
    expect(runner.decodeRead('bad', false)).toEqual({ ok: false, problem: 'bad query' });
    expect(runner.decodeRead(7, true)).toEqual({ ok: false, problem: 'a string' });
    const read = runner.decodeRead('ka', true);
    if (!query.ok || !read.ok) throw new Error('decode failed');
    expect(runner.answer(query.value, 5)).toEqual({ ok: true, result: { queried: 'q' }, index: 5 });
    expect(runner.answer(read.value, 5)).toMatchObject({ ok: false, error: 'not-leader' });
    runner.lead(3);
    runner.applied(3);
    port.nowMs = 1100;
    expect(runner.answer(read.value, 5)).toEqual({ ok: true, result: 'answer ka', index: 5 });
    // the latest round a quorum acknowledged was sent more than the minimum election timeout ago
    port.nowMs = 1101;
    expect(runner.answer(read.value, 5)).toMatchObject({ ok: false, error: 'timeout' });
    port.sentAtMs = -Infinity;
    expect(runner.answer(read.value, 5)).toMatchObject({ ok: false, error: 'timeout', message: expect.stringContaining('too long ago') });
    expect(duties?.calls.filter((c) => c.startsWith('read'))).toEqual(['read ka 1100']);
  });

  it('leaves a machine without duties alone', () => {
    const { runner, port } = setup(null);
    runner.lead(1);
    runner.applied(1);
    for (let i = 0; i < 10; i++) runner.tick();
    runner.stop();
    expect(runner.isStarted).toBe(false);
    expect(port.proposed).toEqual([]);
    expect(runner.decodeRead('x', true)).toEqual({ ok: false, problem: 'this state machine has no leader-local reads' });
  });
});
