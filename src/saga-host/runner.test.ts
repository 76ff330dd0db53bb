// Tests of the Node saga runner: real timers and the saga log on the WAL in a temporary
// directory; a saga that commits, one that compensates in reverse, retries with the same
// idempotency key, and a saga resumed from the log after the process closed mid-step.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { JsonValue } from '../core/index.js';
import { isSagaError } from '../saga/index.js';
import { SagaOrchestrator, StepRejected, type SagaDefinition, type StepContext } from './index.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'synod-saga-'));
  dirs.push(d);
  return d;
}

/** The order saga over in-memory services that dedupe by key and record what took effect. */
function orderSaga(effects: string[], behaviour: { decline?: boolean; flakyPayments?: number; hangShip?: { release: Promise<void> } } = {}): SagaDefinition {
  let flaky = behaviour.flakyPayments ?? 0;
  const seen = new Set<string>();
  const once = (what: string, ctx: StepContext): void => {
    if (seen.has(ctx.idempotencyKey)) return;
    seen.add(ctx.idempotencyKey);
    effects.push(what);
  };
  return {
    name: 'order',
    pivot: 'reserve',
    steps: [
      { name: 'create', action: (_i, ctx) => once('create', ctx), compensation: (_i, ctx) => once('cancel', ctx) },
      {
        name: 'pay',
        retry: { maxAttempts: 5, baseDelayMs: 5, maxDelayMs: 20 },
        action: (input: JsonValue, ctx) => {
          if (behaviour.decline === true) throw new StepRejected('payment declined');
          if (flaky-- > 0) throw new Error('gateway timeout');
          once(`pay ${JSON.stringify(input)}`, ctx);
          return { paid: ctx.attempt };
        },
        compensation: (_i, ctx) => once('refund', ctx),
      },
      { name: 'reserve', action: (_i, ctx) => once('reserve', ctx) },
      {
        name: 'ship',
        timeoutMs: 5_000,
        action: async (_i, ctx) => {
          if (behaviour.hangShip !== undefined) await behaviour.hangShip.release;
          once(`ship ${ctx.idempotencyKey}`, ctx);
        },
      },
    ],
  };
}

describe('SagaOrchestrator (Node runner)', () => {
  it('commits a saga, retrying a flaky step with the same idempotency key', async () => {
    const effects: string[] = [];
    const sagas = await SagaOrchestrator.open({ dir: await tempDir(), definitions: [orderSaga(effects, { flakyPayments: 2 })], tickIntervalMs: 2 });
    try {
      const id = await sagas.start('order', { amount: 5 }, { sagaId: 'o1' });
      const done = await sagas.wait(id, 5_000);
      expect(done).toMatchObject({ status: 'committed', outputs: { pay: { paid: 3 } } });
      expect(effects).toEqual(['create', 'pay {"amount":5}', 'reserve', 'ship o1/3.ship/action']);
      expect(await sagas.start('order', {}, { sagaId: 'o1' })).toBe('o1'); // idempotent start
      expect((await sagas.list()).length).toBe(1);
    } finally {
      await sagas.close();
    }
  });

  it('compensates in reverse order when a step is rejected; typed errors for unknown sagas', async () => {
    const effects: string[] = [];
    const sagas = await SagaOrchestrator.open({ dir: await tempDir(), definitions: [orderSaga(effects, { decline: true })], tickIntervalMs: 2 });
    try {
      const id = await sagas.start('order', {});
      expect(await sagas.wait(id, 5_000)).toMatchObject({ status: 'compensated', error: 'payment declined' });
      expect(effects).toEqual(['create', 'cancel']);
      await expect(sagas.show('nope')).rejects.toSatisfy((e) => isSagaError(e, 'SAGA_NOT_FOUND'));
      await expect(sagas.start('nope', {})).rejects.toSatisfy((e) => isSagaError(e, 'SAGA_UNKNOWN_DEFINITION'));
    } finally {
      await sagas.close();
    }
  });

  it('refuses a step before the pivot without a compensation', async () => {
    const bad: SagaDefinition = { name: 'x', steps: [{ name: 'a', action: () => null }] };
    await expect(SagaOrchestrator.open({ dir: await tempDir(), definitions: [bad] })).rejects.toSatisfy((e) => isSagaError(e, 'SAGA_BAD_PLAN'));
  });

  it('resumes an unfinished saga from the log after closing mid-step, with the same key', async () => {
    const dir = await tempDir();
    const effects: string[] = [];
    let release = (): void => undefined;
    const hang = { release: new Promise<void>((r) => (release = r)) };
    const first = await SagaOrchestrator.open({ dir, definitions: [orderSaga(effects, { hangShip: hang })], tickIntervalMs: 2 });
    await first.start('order', {}, { sagaId: 'o2' });
    for (let i = 0; i < 200 && (await first.show('o2')).step < 3; i++) await new Promise((r) => setTimeout(r, 5));
    expect(await first.show('o2')).toMatchObject({ status: 'running', step: 3 });
    await first.close(); // the process "dies" while shipping runs
    release();
    const again = await SagaOrchestrator.open({ dir, definitions: [orderSaga(effects)], tickIntervalMs: 2 });
    try {
      expect(await again.wait('o2', 5_000)).toMatchObject({ status: 'committed' });
      expect(effects.filter((e) => e.startsWith('ship'))).toContain('ship o2/3.ship/action');
      expect(effects.filter((e) => e === 'create').length).toBe(1);
    } finally {
      await again.close();
    }
  });
});
