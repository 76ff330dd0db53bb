// The order saga in the simulator: a crash of the orchestrator or of any service at every step
// boundary (before and after it is durable), random chaos, and the checker catching a service
// that does not dedupe. A bounded number of seeds here; scripts/saga-chaos.ts runs thousands.
import { describe, expect, it } from 'vitest';
import { simProtocol } from '../../primitives/index.js';
import { runSagaChaos, sagaSimProtocol } from './chaos.js';
import { KILL_TARGETS, killPlans, NO_FAILURES, OrderSagaCluster, runOrderSagaKill } from './order-saga.js';

describe('order saga in the simulator', () => {
  it('commits with no failures: four effects, one per step', () => {
    const c = new OrderSagaCluster({ seed: 1, failures: NO_FAILURES });
    c.startSaga('a');
    expect(c.runUntil(() => c.quiescent(), 5_000)).toBe(true);
    c.runFor(10);
    expect(c.check()).toMatchObject({ ok: true, committed: 1, effects: 4 });
  });

  it('kill at every step boundary: the orchestrator and each service, before and after each boundary', () => {
    let crashed = 0;
    const outcomes = { committed: 0, compensated: 0 };
    for (const seed of [1, 2, 3]) {
      for (const target of KILL_TARGETS) {
        for (const kill of killPlans(target, target === 'orchestrator' ? 16 : 4)) {
          const r = runOrderSagaKill({ seed, kill, sagas: 1 });
          expect({ seed, kill, settled: r.settled, violations: r.check.violations }).toEqual({ seed, kill, settled: true, violations: [] });
          if (r.crashed) crashed++;
          outcomes.committed += r.check.committed;
          outcomes.compensated += r.check.compensated;
        }
      }
    }
    expect(crashed).toBeGreaterThan(80);
    expect(outcomes.committed).toBeGreaterThan(0);
    expect(outcomes.compensated).toBeGreaterThan(0);
  });

  it('kill with three sagas in flight together', () => {
    for (const kill of killPlans('orchestrator', 30)) {
      const r = runOrderSagaKill({ seed: 4, kill, sagas: 3 });
      expect({ kill, ok: r.check.ok, settled: r.settled }).toEqual({ kill, ok: true, settled: true });
    }
  });

  it('random chaos on every node: every saga ends and the checker passes', () => {
    for (let seed = 1; seed <= 4; seed++) {
      const r = runSagaChaos({ seed, durationMs: 2_000 });
      expect({ seed, violations: r.violations }).toEqual({ seed, violations: [] });
    }
  });

  it('the checker catches a service that does not dedupe by key (seed 1)', () => {
    const r = runSagaChaos({ seed: 1, dedupe: false });
    expect(r.ok).toBe(false);
    expect(r.violations.some((v) => v.kind === 'saga:duplicate-effect')).toBe(true);
  });

  it('the checker catches a service without tombstones: a delayed payment lands after its compensation (seed 302)', () => {
    const r = runSagaChaos({ seed: 302, tombstones: false });
    expect(r.violations.map((v) => v.kind)).toEqual(['saga:action-not-compensated']);
    expect(runSagaChaos({ seed: 302 }).ok).toBe(true);
  });

  it('replays the same trace for the same seed', () => {
    const a = runSagaChaos({ seed: 7, durationMs: 1_000 });
    const b = runSagaChaos({ seed: 7, durationMs: 1_000 });
    expect(a.traceSha256).toBe(b.traceSha256);
    expect(runSagaChaos({ seed: 8, durationMs: 1_000 }).traceSha256).not.toBe(a.traceSha256);
  });

  it('is registered for sim run and chaos as saga', () => {
    expect(simProtocol('saga')).toBe(sagaSimProtocol);
    const built = sagaSimProtocol.build({ seed: 3, nodes: 5, durationMs: 2_000, trace: false });
    built.sim.runUntil(2_000);
    expect(built.summarize()[1]).toBe('saga checker: ok');
  });
});
