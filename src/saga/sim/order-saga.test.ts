// The order saga in the simulator: a crash of the orchestrator or of any service at every step
// boundary (before and after it is durable, mid-step, and again while it recovers), random chaos,
// and the checker catching a service that does not dedupe. A bounded number of seeds here;
// scripts/saga-chaos.ts runs thousands.
import { describe, expect, it } from 'vitest';
import { simProtocol } from '../../primitives/index.js';
import { killPlanForSeed, runSagaChaos, runSagaKillChaos, sagaKillSimProtocol, sagaSimProtocol } from './chaos.js';
import { KILL_MOMENTS, KILL_TARGETS, killPlans, NO_FAILURES, OrderSagaCluster, runOrderSagaKill } from './order-saga.js';

describe('order saga in the simulator', () => {
  it('commits with no failures: four effects, one per step', () => {
    const c = new OrderSagaCluster({ seed: 1, failures: NO_FAILURES });
    c.startSaga('a');
    expect(c.runUntil(() => c.quiescent(), 5_000)).toBe(true);
    c.runFor(10);
    expect(c.check()).toMatchObject({ ok: true, committed: 1, effects: 4 });
  });

  it('kill at every step boundary: the orchestrator and each service, before, after, mid-step and again while recovering', () => {
    let crashed = 0;
    let twice = 0;
    const outcomes = { committed: 0, compensated: 0 };
    for (const seed of [1, 2, 3]) {
      for (const target of KILL_TARGETS) {
        for (const kill of killPlans(target, target === 'orchestrator' ? 16 : 4)) {
          const r = runOrderSagaKill({ seed, kill, sagas: 1 });
          expect({ seed, kill, settled: r.settled, violations: r.check.violations }).toEqual({ seed, kill, settled: true, violations: [] });
          if (r.crashed) crashed++;
          if (r.crashes === 2) twice++;
          outcomes.committed += r.check.committed;
          outcomes.compensated += r.check.compensated;
        }
      }
    }
    expect(crashed).toBeGreaterThan(160);
    expect(twice).toBeGreaterThan(20);
    expect(outcomes.committed).toBeGreaterThan(0);
    expect(outcomes.compensated).toBeGreaterThan(0);
  });

  it('kill with three sagas in flight together', () => {
    for (const kill of killPlans('orchestrator', 30)) {
      const r = runOrderSagaKill({ seed: 4, kill, sagas: 3 });
      expect({ kill, ok: r.check.ok, settled: r.settled }).toEqual({ kill, ok: true, settled: true });
    }
  });

  it('each moment means what it says: mid-step kills the orchestrator while a service holds the step', () => {
    // boundary 0 mid: the first invocation reaches order while the orchestrator dies; the answer
    // is lost, the restarted orchestrator sends the same key again and order answers from its ledger
    const r = runOrderSagaKill({ seed: 1, kill: { target: 'orchestrator', boundary: 0, when: 'mid' }, failures: NO_FAILURES });
    expect({ crashes: r.crashes, ok: r.check.ok, committed: r.check.committed, effects: r.check.effects }).toEqual({ crashes: 1, ok: true, committed: 1, effects: 4 });
    const again = runOrderSagaKill({ seed: 1, kill: { target: 'orchestrator', boundary: 3, when: 'recovery' }, failures: NO_FAILURES });
    expect({ crashes: again.crashes, ok: again.check.ok, effects: again.check.effects }).toEqual({ crashes: 2, ok: true, effects: 4 });
  });

  it('the kill seeds (protocol saga-kill): 200 seeds, every target and moment, no violation', () => {
    const seen = new Set<string>();
    let crashed = 0;
    for (let seed = 1; seed <= 200; seed++) {
      const r = runSagaKillChaos(seed, undefined, (k) => void (k.crashed && crashed++));
      expect({ seed, violations: r.violations, ok: r.ok }).toEqual({ seed, violations: [], ok: true });
      const { kill } = killPlanForSeed(seed);
      seen.add(`${kill.target} ${kill.when}`);
    }
    expect(seen.size).toBe(KILL_TARGETS.length * KILL_MOMENTS.length);
    expect(crashed).toBeGreaterThan(150);
    expect(runSagaKillChaos(17).traceSha256).toBe(runSagaKillChaos(17).traceSha256);
  });

  it('the kill seeds catch a service that does not dedupe', () => {
    let caught = 0;
    for (const kill of killPlans('orchestrator', 12, ['after'])) {
      const r = runOrderSagaKill({ seed: 2, kill, sagas: 2, dedupe: false });
      if (r.check.violations.some((v) => v.code === 'duplicate-effect')) caught++;
    }
    expect(caught).toBeGreaterThan(3);
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

  it('is registered for sim run and chaos as saga and saga-kill', () => {
    expect(simProtocol('saga')).toBe(sagaSimProtocol);
    expect(simProtocol('saga-kill')).toBe(sagaKillSimProtocol);
    const killed = sagaKillSimProtocol.build({ seed: 5, nodes: 5, durationMs: 5_000, trace: false });
    killed.sim.runUntil(5_000);
    expect(killed.summarize()).toEqual([expect.stringMatching(/^kill: orchestrator at boundary \d+ \(after\), 1 saga\(s\); crashed 1 time/), expect.stringMatching(/^sagas: /), 'saga checker: ok']);
    const built = sagaSimProtocol.build({ seed: 3, nodes: 5, durationMs: 2_000, trace: false });
    built.sim.runUntil(2_000);
    expect(built.summarize()[1]).toBe('saga checker: ok');
  });
});
