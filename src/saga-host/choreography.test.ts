// Tests of the choreography host: services reacting to events on the durable log (the WAL in a
// temporary directory), the whole flow read back by correlation id, compensation in reverse after
// a rejection, a service undoing its own action of unknown effect, and a restart mid-flow that
// resumes what was owed. Every run's effects are judged by the saga checker.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkSagaHistory, type SagaEffect } from '../saga/check.js';
import type { ChoreographyPlan } from '../saga/choreography.js';
import { Choreography, type ChoreoService } from './choreography.js';
import { StepRejected, type StepContext } from './runner.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'synod-choreo-'));
  dirs.push(d);
  return d;
}

const PLAN: ChoreographyPlan = { name: 'order', steps: ['order', 'payment', 'inventory', 'shipping'] };

/** Services with ledgers that outlive a restart: one effect per key, and tombstones. */
class Ledgers {
  readonly effects: SagaEffect[] = [];
  private readonly done = new Set<string>();
  private clock = 0;
  constructor(private readonly behave: { reject?: string; throwing?: string; hang?: { step: string; release: Promise<void> } } = {}) {}

  services(): { [step: string]: ChoreoService } {
    const out: { [step: string]: ChoreoService } = {};
    PLAN.steps.forEach((name, step) => {
      out[name] = {
        action: async (_input, ctx) => {
          if (this.behave.hang?.step === name) await this.behave.hang.release;
          if (this.behave.reject === name) throw new StepRejected(`${name} refused`);
          // the effect happens, then the call fails: its effect is unknown to the caller
          this.apply(ctx, step, 'action');
          if (this.behave.throwing === name) throw new Error(`${name} timed out`);
          return { by: name };
        },
        ...(step < PLAN.steps.length - 1 ? { compensation: (_input: unknown, ctx: StepContext) => void this.apply(ctx, step, 'compensation') } : {}),
      };
    });
    return out;
  }

  private apply(ctx: StepContext, step: number, phase: 'action' | 'compensation'): void {
    if (this.done.has(ctx.idempotencyKey)) return;
    this.done.add(ctx.idempotencyKey);
    if (phase === 'action' && this.done.has(ctx.actionKey.replace(/\/action$/, '/compensation'))) return; // tombstone
    if (phase === 'compensation' && !this.done.has(ctx.actionKey)) return; // nothing to undo
    this.effects.push({ atMs: this.clock++, sagaId: ctx.sagaId, step, phase, key: ctx.idempotencyKey });
  }
}

function judge(c: Choreography, ledgers: Ledgers) {
  const sagas = c.correlationIds().map((id) => {
    const o = c.outcome(id);
    return { sagaId: id, steps: PLAN.steps, pivot: PLAN.steps.length, outcome: o === 'running' ? ('unfinished' as const) : o };
  });
  return checkSagaHistory({ sagas, effects: ledgers.effects });
}

describe('Choreography (Node host)', () => {
  it('each service reacts to the last event; the trace by correlation id shows the whole flow', async () => {
    const ledgers = new Ledgers();
    const c = await Choreography.open({ dir: await tempDir(), plan: PLAN, services: ledgers.services() });
    try {
      await c.start('c1', { amount: 3 });
      expect(await c.wait('c1', 5_000)).toBe('committed');
      const trace = c.trace('c1');
      expect(trace.map((e) => `${e.hop} ${e.source} ${e.type}`)).toEqual(['0 client started', '1 order order:done', '2 payment payment:done', '3 inventory inventory:done', '4 shipping shipping:done']);
      trace.slice(1).forEach((e, i) => expect(e.causedBy).toBe(trace[i]?.id));
      expect(judge(c, ledgers)).toMatchObject({ ok: true, committed: 1, effects: 4 });
      await c.start('c1', null); // idempotent by correlation id
      expect(c.trace('c1').length).toBe(5);
    } finally {
      await c.close();
    }
  });

  it('a rejection makes the earlier services compensate in reverse', async () => {
    const ledgers = new Ledgers({ reject: 'inventory' });
    const c = await Choreography.open({ dir: await tempDir(), plan: PLAN, services: ledgers.services() });
    try {
      await c.start('c2', null);
      expect(await c.wait('c2', 5_000)).toBe('compensated');
      expect(c.trace('c2').map((e) => e.type)).toEqual(['started', 'order:done', 'payment:done', 'inventory:failed', 'payment:compensated', 'order:compensated']);
      expect(judge(c, ledgers)).toMatchObject({ ok: true, compensated: 1 });
    } finally {
      await c.close();
    }
  });

  it('an action that keeps failing with unknown effect is undone by its own service before the failure event', async () => {
    const ledgers = new Ledgers({ throwing: 'payment' });
    const c = await Choreography.open({ dir: await tempDir(), plan: PLAN, services: ledgers.services(), retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 } });
    try {
      await c.start('c3', null);
      expect(await c.wait('c3', 5_000)).toBe('compensated');
      expect(ledgers.effects.map((e) => `${e.step}:${e.phase}`)).toEqual(['0:action', '1:action', '1:compensation', '0:compensation']);
      expect(judge(c, ledgers)).toMatchObject({ ok: true, compensated: 1 });
    } finally {
      await c.close();
    }
  });

  it('resumes the reactions a restart interrupted, each effect once', async () => {
    const dir = await tempDir();
    let release = (): void => undefined;
    const hang = { step: 'inventory', release: new Promise<void>((r) => (release = r)) };
    const ledgers = new Ledgers({ hang });
    const first = await Choreography.open({ dir, plan: PLAN, services: ledgers.services() });
    await first.start('c4', null);
    await first.start('c5', null);
    for (let i = 0; i < 200 && first.trace('c5').length < 3; i++) await new Promise((r) => setTimeout(r, 5));
    await first.close(); // "dies" while inventory works on both
    release();
    const again = await Choreography.open({ dir, plan: PLAN, services: ledgers.services() });
    try {
      expect(await again.wait('c4', 5_000)).toBe('committed');
      expect(await again.wait('c5', 5_000)).toBe('committed');
      expect(judge(again, ledgers)).toMatchObject({ ok: true, committed: 2, effects: 8 });
      expect(again.errors()).toEqual([]);
    } finally {
      await again.close();
    }
  });
});
