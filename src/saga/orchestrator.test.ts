// Tests of the sans-I/O saga orchestrator driven by hand: the log records and invocations it
// emits, retries with bounded jittered backoff, compensation in reverse order, the pivot, resuming
// from the log after a restart with the same idempotency keys, and the log's own checks.
import { describe, expect, it } from 'vitest';
import type { CoreEnv, Effects } from '../core/index.js';
import { compactSagaLog, decodeSagaRecord } from './log.js';
import { backoffMs, resolvePlan, SagaOrchestratorCore, type OrchestratorOptions } from './orchestrator.js';
import { idempotencyKey, isSagaError, type InvokeMessage, type ResultMessage, type SagaMessage, type SagaPlan, type SagaRecord, type SagaResponse } from './types.js';

const PLAN: SagaPlan = {
  name: 'trip',
  steps: ['flight', 'hotel', 'car'].map((name) => ({ name, service: name, retry: { maxAttempts: 2, baseDelayMs: 100, maxDelayMs: 1000 }, timeoutMs: 500 })),
};
const PIVOTED: SagaPlan = { ...PLAN, name: 'pivoted', pivot: 'hotel' };

class Harness {
  now = 0;
  log: SagaRecord[] = [];
  sent: InvokeMessage[] = [];
  replies: SagaResponse[] = [];
  core: SagaOrchestratorCore;
  private readonly fx: Effects<SagaMessage, SagaRecord, SagaResponse> = {
    send: (_to, msg) => void (msg.type === 'invoke' && this.sent.push(msg)),
    persist: (op) => void this.log.push(op),
    reply: (_id, res) => void this.replies.push(res),
    annotate: () => undefined,
  };

  constructor(private readonly options: OrchestratorOptions = { plans: [PLAN, PIVOTED] }, durable: SagaRecord[] = []) {
    this.log = [...durable];
    this.core = new SagaOrchestratorCore(this.env(), durable, options);
    this.core.start?.(this.fx);
  }

  private env(): CoreEnv {
    return { id: 'o', members: ['o'], now: () => this.now, random: () => 0.5 };
  }

  /** A crash and restart: the core rebuilt from the log so far. */
  restart(): void {
    this.sent = [];
    this.core = new SagaOrchestratorCore(this.env(), this.log, this.options);
    this.core.start?.(this.fx);
  }

  start(sagaId: string, saga = 'trip'): void {
    this.core.handleRequest('r', { kind: 'start', sagaId, saga, input: { who: sagaId } }, this.fx);
  }

  answer(msg: InvokeMessage, body: { ok: true; output?: unknown } | { ok: false; error: string; retriable: boolean }): void {
    const result = { type: 'result', sagaId: msg.sagaId, step: msg.step, phase: msg.phase, key: msg.key, attempt: msg.attempt, ...body, ...(body.ok ? { output: body.output ?? null } : {}) } as ResultMessage;
    this.core.handleMessage(msg.stepName, result, this.fx);
  }

  last(): InvokeMessage {
    const m = this.sent[this.sent.length - 1];
    if (m === undefined) throw new Error('nothing sent');
    return m;
  }

  tick(ms: number): void {
    this.now += ms;
    this.core.handleTick(this.fx);
  }

  calls(): string[] {
    return this.sent.map((m) => `${m.stepName}:${m.phase}#${m.attempt}`);
  }
}

describe('saga orchestrator core', () => {
  it('runs the steps in order, logging each before its invocation leaves, and commits', () => {
    const h = new Harness();
    h.start('a');
    for (let i = 0; i < 3; i++) h.answer(h.last(), { ok: true, output: i });
    expect(h.calls()).toEqual(['flight:action#1', 'hotel:action#1', 'car:action#1']);
    expect(h.log.map((r) => r.kind)).toEqual(['started', 'invoked', 'succeeded', 'invoked', 'succeeded', 'invoked', 'succeeded', 'finished']);
    expect(h.core.show('a')).toMatchObject({ status: 'committed', outputs: { flight: 0, hotel: 1, car: 2 } });
    expect(h.replies).toEqual([{ kind: 'started', sagaId: 'a', existing: false }]);
    expect(h.sent[1]?.outputs).toEqual({ flight: 0 });
  });

  it('a start is idempotent by saga id; unknown plans and bad ids are refused with codes', () => {
    const h = new Harness();
    h.start('a');
    h.start('a');
    h.start('b', 'nope');
    h.start('x/y');
    h.start('z'.repeat(201));
    h.start('');
    expect(h.replies.map((r) => (r.kind === 'error' ? r.code : `${r.kind}`))).toEqual(['started', 'started', 'SAGA_UNKNOWN_DEFINITION', 'SAGA_BAD_ID', 'SAGA_BAD_ID', 'SAGA_BAD_ID']);
    expect(h.replies[1]).toMatchObject({ existing: true });
    expect(h.log.filter((r) => r.kind === 'started').length).toBe(1);
  });

  it('bounds unfinished sagas', () => {
    const h = new Harness({ plans: [PLAN], maxActiveSagas: 2 });
    for (const id of ['a', 'b', 'c']) h.start(id);
    expect(h.replies[2]).toMatchObject({ kind: 'error', code: 'SAGA_TOO_MANY' });
  });

  it('retries a retriable failure after a jittered exponential backoff, with the same key', () => {
    const h = new Harness();
    h.start('a');
    const first = h.last();
    h.answer(first, { ok: false, error: 'flaky', retriable: true });
    h.tick(49);
    expect(h.sent.length).toBe(1); // backoff 100 ms, jitter 0.5: 75 ms
    h.tick(30);
    expect(h.calls()).toEqual(['flight:action#1', 'flight:action#2']);
    expect(h.last().key).toBe(first.key);
    expect(first.key).toBe(idempotencyKey('a', 0, 'flight', 'action'));
  });

  it('backoff doubles up to its cap, jittered within [half, full]', () => {
    const retry = { maxAttempts: 9, baseDelayMs: 100, maxDelayMs: 1000 };
    expect([1, 2, 3, 4, 5].map((a) => backoffMs(retry, a, 0))).toEqual([50, 100, 200, 400, 500]);
    expect([1, 2, 3, 4, 5].map((a) => backoffMs(retry, a, 0.999999))).toEqual([99, 199, 399, 799, 999]);
  });

  it('a step out of attempts (timeouts) is compensated with every earlier step, in reverse order', () => {
    const h = new Harness();
    h.start('a');
    h.answer(h.last(), { ok: true });
    h.answer(h.last(), { ok: true });
    h.tick(500); // car attempt 1 times out
    h.tick(200);
    h.tick(500); // attempt 2 times out: give up
    expect(h.calls()).toEqual(['flight:action#1', 'hotel:action#1', 'car:action#1', 'car:action#2', 'car:compensation#1']);
    h.answer(h.last(), { ok: true });
    h.answer(h.last(), { ok: false, error: 'flaky', retriable: true });
    h.tick(1000);
    h.answer(h.last(), { ok: true });
    h.answer(h.last(), { ok: true });
    expect(h.calls().slice(4)).toEqual(['car:compensation#1', 'hotel:compensation#1', 'hotel:compensation#2', 'flight:compensation#1']);
    expect(h.core.show('a')?.status).toBe('compensated');
    expect(h.log.find((r) => r.kind === 'failed')).toMatchObject({ step: 2, ran: true });
  });

  it('a definite failure compensates the earlier steps only: that action changed nothing', () => {
    const h = new Harness();
    h.start('a');
    h.answer(h.last(), { ok: true });
    h.answer(h.last(), { ok: false, error: 'no rooms', retriable: false });
    h.answer(h.last(), { ok: true });
    expect(h.calls()).toEqual(['flight:action#1', 'hotel:action#1', 'flight:compensation#1']);
    expect(h.core.show('a')).toMatchObject({ status: 'compensated', error: 'no rooms' });
  });

  it('a failure at the first step compensates nothing that never ran', () => {
    const h = new Harness();
    h.start('a');
    h.answer(h.last(), { ok: false, error: 'no seats', retriable: false });
    expect(h.calls()).toEqual(['flight:action#1']);
    expect(h.core.show('a')?.status).toBe('compensated');
  });

  it('the pivot is retried until it answers definitely; after it, steps are retried until they succeed', () => {
    const h = new Harness();
    h.start('a', 'pivoted');
    h.answer(h.last(), { ok: true });
    for (let i = 0; i < 5; i++) h.tick(1000); // the pivot (hotel) times out again and again: no compensation
    expect(h.calls().every((c) => c.endsWith('action#1') || c.startsWith('hotel:action'))).toBe(true);
    h.answer(h.last(), { ok: true });
    h.answer(h.last(), { ok: false, error: 'refused', retriable: false }); // past the pivot: retried anyway
    for (let i = 0; i < 4; i++) h.tick(1000);
    expect(h.core.show('a')?.status).toBe('running');
    h.answer(h.last(), { ok: true });
    expect(h.core.show('a')?.status).toBe('committed');
    expect(h.calls().some((c) => c.includes('compensation'))).toBe(false);
  });

  it('a pivot that fails compensates the steps before it, never itself', () => {
    const h = new Harness();
    h.start('a', 'pivoted');
    h.answer(h.last(), { ok: true });
    h.answer(h.last(), { ok: false, error: 'no rooms', retriable: false });
    expect(h.calls()).toEqual(['flight:action#1', 'hotel:action#1', 'flight:compensation#1']);
  });

  it('resumes after a restart: the logged attempt goes out again with the same key and attempt', () => {
    const h = new Harness();
    h.start('a');
    h.answer(h.last(), { ok: true });
    const inFlight = h.last();
    h.restart();
    expect(h.calls()).toEqual(['hotel:action#1']);
    expect(h.last().key).toBe(inFlight.key);
    // the answer to the attempt sent before the crash is accepted too
    h.answer(inFlight, { ok: true });
    h.answer(h.last(), { ok: true });
    expect(h.core.show('a')?.status).toBe('committed');
    // a restart after the end sends nothing
    h.restart();
    expect(h.sent).toEqual([]);
  });

  it('resumes a compensation after a restart, and a stale or foreign answer changes nothing', () => {
    const h = new Harness();
    h.start('a');
    h.answer(h.last(), { ok: true });
    const hotel = h.last();
    h.answer(hotel, { ok: false, error: 'no rooms', retriable: false });
    h.restart();
    expect(h.calls()).toEqual(['flight:compensation#1']);
    h.answer(hotel, { ok: true }); // stale: the saga is compensating
    h.answer({ ...h.last(), key: 'forged' }, { ok: true });
    expect(h.core.show('a')?.status).toBe('compensating');
    h.answer(h.last(), { ok: true });
    expect(h.core.show('a')?.status).toBe('compensated');
  });

  it('resume skips the backoff wait', () => {
    const h = new Harness();
    h.start('a');
    h.answer(h.last(), { ok: false, error: 'flaky', retriable: true });
    h.core.handleRequest('r', { kind: 'resume', sagaId: 'a' }, (h as unknown as { fx: Effects<SagaMessage, SagaRecord, SagaResponse> }).fx);
    expect(h.calls()).toEqual(['flight:action#1', 'flight:action#2']);
  });

  it('refuses bad plans with SAGA_BAD_PLAN', () => {
    const bad = (plan: SagaPlan): string => {
      try {
        resolvePlan(plan);
        return 'accepted';
      } catch (err) {
        return isSagaError(err, 'SAGA_BAD_PLAN') ? 'refused' : 'other';
      }
    };
    expect(bad({ name: 'x', steps: [] })).toBe('refused');
    expect(bad({ name: 'x', steps: [{ name: 'a', service: 's' }, { name: 'a', service: 's' }] })).toBe('refused');
    expect(bad({ name: 'x', steps: [{ name: 'a', service: 's' }], pivot: 'b' })).toBe('refused');
    expect(bad({ name: 'x', steps: [{ name: 'a', service: 's', retry: { maxAttempts: 0 } }] })).toBe('refused');
    expect(bad({ name: 'x', steps: [{ name: 'a', service: 's' }] })).toBe('accepted');
  });

  it('checks records read from disk and refuses a log out of order', () => {
    expect(decodeSagaRecord({ kind: 'invoked', sagaId: 'a', step: 0, phase: 'action', attempt: 1 })).toHaveProperty('op');
    expect(decodeSagaRecord({ kind: 'invoked', sagaId: 'a', step: -1, phase: 'action', attempt: 1 })).toHaveProperty('problem');
    expect(decodeSagaRecord({ kind: 'bogus', sagaId: 'a' })).toHaveProperty('problem');
    expect(decodeSagaRecord([1])).toHaveProperty('problem');
    expect(() => new Harness(undefined, [{ kind: 'succeeded', sagaId: 'z', step: 0, phase: 'action', output: null }])).toThrow(/never started/);
    expect(() => new Harness(undefined, [{ kind: 'started', sagaId: 'z', saga: 'trip', input: null }, { kind: 'succeeded', sagaId: 'z', step: 1, phase: 'action', output: null }])).toThrow(/out of turn/);
  });

  it('compaction keeps unfinished sagas and the last finished ones, and replays to the same state', () => {
    const h = new Harness();
    for (const id of ['a', 'b', 'c']) {
      h.start(id);
      for (let i = 0; i < 3; i++) h.answer(h.last(), { ok: true });
    }
    h.start('d');
    const folded = compactSagaLog(h.log, 1);
    expect([...new Set(folded.map((r) => r.sagaId))]).toEqual(['c', 'd']);
    const replayed = new Harness(undefined, folded);
    expect(replayed.core.list().map((v) => [v.sagaId, v.status])).toEqual([
      ['c', 'committed'],
      ['d', 'running'],
    ]);
    expect(replayed.calls()).toEqual(['flight:action#1']);
  });
});
