// Tests of choreographed sagas on the pure event log: the flow of events by correlation id,
// compensation in reverse after a failure event, the hop limit, and a crash after every
// service's effect (before its event is logged) resumed from the log and judged by the checker.
import { describe, expect, it } from 'vitest';
import { checkSagaHistory, type SagaEffect } from './check.js';
import { ChoreographyLog, reactionTo, resultEvent, startEvent, type ChoreoEvent, type ChoreographyPlan, type Reaction, type ReactionResult } from './choreography.js';
import { isSagaError } from './types.js';

const PLAN: ChoreographyPlan = { name: 'order', steps: ['order', 'payment', 'inventory', 'shipping'] };

/** Services with durable ledgers (they survive the crash): at most one effect per key, tombstones. */
class Services {
  readonly effects: SagaEffect[] = [];
  private readonly done = new Map<string, ReactionResult>();
  private clock = 0;
  constructor(private readonly fail: ReadonlySet<string>) {}

  run(r: Reaction): ReactionResult {
    const known = this.done.get(r.key);
    if (known !== undefined) return known;
    const actionKey = r.key.replace(/\/compensation$/, '/action');
    let result: ReactionResult;
    if (r.phase === 'action') {
      const tomb = this.done.has(actionKey.replace(/\/action$/, '/compensation'));
      result = tomb || this.fail.has(`${r.cause.correlationId}:${r.service}`) ? { ok: false, error: `${r.service} refused` } : { ok: true, output: r.service };
    } else {
      result = { ok: true, output: null };
    }
    this.done.set(r.key, result);
    const applied = r.phase === 'action' ? result.ok : this.done.get(actionKey)?.ok === true;
    if (applied) this.effects.push({ atMs: this.clock++, sagaId: r.cause.correlationId, step: r.step, phase: r.phase, key: r.key });
    return result;
  }
}

/** Runs every owed reaction until none is left; `crashAt`: stop after the n-th effect before logging its event. */
function drive(durable: ChoreoEvent[], services: Services, crashAt = Number.POSITIVE_INFINITY): boolean {
  const log = new ChoreographyLog(PLAN, durable);
  let n = 0;
  for (let guard = 0; guard < 1000; guard++) {
    const next = log.pending()[0];
    if (next === undefined) return true;
    const event = resultEvent(next, services.run(next));
    if (n++ === crashAt) return false; // crashed: the effect happened, its event was never logged
    if (log.admit(event)) {
      durable.push(event);
      log.add(event);
    }
  }
  throw new Error('no end');
}

describe('choreographed sagas', () => {
  it('each service reacts to the previous event; the trace shows the whole flow', () => {
    const durable = [startEvent('c1', { amount: 3 })];
    const services = new Services(new Set());
    expect(drive(durable, services)).toBe(true);
    const log = new ChoreographyLog(PLAN, durable);
    expect(log.trace('c1').map((e) => `${e.hop} ${e.source} ${e.type}`)).toEqual(['0 client started', '1 order order:done', '2 payment payment:done', '3 inventory inventory:done', '4 shipping shipping:done']);
    expect(log.trace('c1')[2]?.causedBy).toBe(log.trace('c1')[1]?.id);
    expect(log.outcome('c1')).toBe('committed');
  });

  it('a failure event makes the earlier services compensate in reverse', () => {
    const durable = [startEvent('c2', null)];
    const services = new Services(new Set(['c2:inventory']));
    drive(durable, services);
    const log = new ChoreographyLog(PLAN, durable);
    expect(log.trace('c2').map((e) => e.type)).toEqual(['started', 'order:done', 'payment:done', 'inventory:failed', 'payment:compensated', 'order:compensated']);
    expect(log.outcome('c2')).toBe('compensated');
    expect(checkSagaHistory({ sagas: [{ sagaId: 'c2', steps: PLAN.steps, pivot: 4, outcome: 'compensated' }], effects: services.effects }).ok).toBe(true);
  });

  it('refuses an event past the hop limit and ignores an event logged twice', () => {
    const log = new ChoreographyLog(PLAN);
    const start = startEvent('c3', null);
    log.add(start);
    expect(log.admit(start)).toBe(false);
    const far: ChoreoEvent = { ...start, id: 'c3/far', type: 'order:done', hop: 11 };
    expect(() => log.admit(far)).toThrow(expect.objectContaining({ code: 'SAGA_HOP_LIMIT' }));
    try {
      log.admit(far);
    } catch (err) {
      expect(isSagaError(err, 'SAGA_HOP_LIMIT')).toBe(true);
    }
    expect(reactionTo(PLAN, { ...start, type: 'shipping:done' })).toBeUndefined();
  });

  it('a crash after every effect, before its event is logged: resumed from the log, each saga ends once', () => {
    const failures = [new Set<string>(), new Set(['k:payment']), new Set(['k:inventory']), new Set(['k:shipping'])];
    let runs = 0;
    for (const fail of failures) {
      for (let crashAt = 0; crashAt < 10; crashAt++) {
        const durable = [startEvent('k', null)];
        const services = new Services(fail);
        const crashed = !drive(durable, services, crashAt);
        expect(drive(durable, services)).toBe(true);
        const log = new ChoreographyLog(PLAN, durable);
        const outcome = log.outcome('k');
        const result = checkSagaHistory({ sagas: [{ sagaId: 'k', steps: PLAN.steps, pivot: 4, outcome: outcome === 'running' ? 'unfinished' : outcome }], effects: services.effects });
        expect({ fail: [...fail], crashAt, violations: result.violations }).toEqual({ fail: [...fail], crashAt, violations: [] });
        expect(outcome).toBe(fail.size === 0 ? 'committed' : 'compensated');
        if (crashed) runs++;
      }
    }
    expect(runs).toBe(19);
  });
});
