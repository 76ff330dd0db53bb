// The lock scenarios on their recorded seeds: Kleppmann's two failures, the three defences against
// split brain and the inventory race each give the verdicts docs/locks.md records; the failures
// show on other seeds too, and a seed replays byte for byte.
import { describe, expect, it } from 'vitest';
import { INVENTORY_SCENARIOS, KLEPPMANN_SCENARIOS, LOCK_SCENARIOS, lockScenarioByName, runLockScenario, SPLIT_BRAIN_SCENARIOS, type LockScenario } from './scenarios.js';

const named = (name: string): LockScenario => lockScenarioByName(name) as LockScenario;

describe.each(LOCK_SCENARIOS.map((s) => [s.name, s] as const))('scenario %s', (_name, scenario) => {
  it(`gives the recorded verdicts on seed ${scenario.seed}`, () => {
    const r = runLockScenario(scenario);
    expect(r.failure).toBeUndefined();
    expect(r.mismatches).toEqual([]);
  });
});

describe('Kleppmann\'s failures', () => {
  it('show on other seeds as well, and only where there is no fencing', () => {
    for (const scenario of KLEPPMANN_SCENARIOS) {
      for (const seed of [2, 3]) {
        const r = runLockScenario(scenario, seed);
        expect(r.failure, `${scenario.name} seed ${seed}`).toBeUndefined();
        expect(r.mismatches, `${scenario.name} seed ${seed}`).toEqual([]);
      }
    }
  });

  it('the paused holder\'s write is refused for its lower token with fencing, and taken over the newer one without', () => {
    const fenced = runLockScenario(named('kleppmann-pause-synod-fenced'));
    const unfenced = runLockScenario(named('kleppmann-pause-synod-unfenced'));
    const c1 = (r: typeof fenced) => r.system.writes.filter((w) => w.holder === 'c1');
    expect(c1(fenced).map((w) => w.accepted)).toEqual([false]);
    expect(c1(unfenced).map((w) => w.accepted)).toEqual([true]);
    expect(unfenced.details.resource.violations[0]?.kind).toBe('superseded-write-accepted');
    // the paused holder's token is below its successor's: createRevision order
    const [a, b] = fenced.system.events.filter((e) => e.by === 'service' && e.kind === 'acquired');
    expect(a?.holder).toBe('c1');
    expect((b?.token ?? 0) > (a?.token ?? 0)).toBe(true);
    expect(fenced.system.dbValue('x')).toBe(2);
    expect(unfenced.system.dbValue('x')).toBe(1);
  });

  it('Redlock: both clients hold a majority by their own clocks at once, reported by the mutex checker', () => {
    const r = runLockScenario(named('kleppmann-clock-jump-redlock'));
    const overlap = r.details.clientValid.overlaps[0];
    expect(overlap?.first.holder).toBe('c1');
    expect(overlap?.second.holder).toBe('c2');
    // the service view: c1's majority ended with r3's early expiry before c2's began
    expect(r.details.service.ok).toBe(true);
    expect(r.system.history().ops.every((op) => op.outcome === 'ok')).toBe(true);
  });

  it('replays a seed byte for byte', () => {
    const trace = () => runLockScenario(named('kleppmann-clock-jump-redlock'), 5, { trace: {} }).system.traceSha256();
    expect(trace()).toBe(trace());
  });
});

describe('split brain and the inventory race', () => {
  it('STONITH powers the paused holder off before the new holder writes', () => {
    const r = runLockScenario(named('split-brain-stonith'));
    expect(r.system.poweredOff.map((p) => [p.target, p.requester])).toEqual([['c1', 'c2']]);
    expect(r.system.writes.map((w) => w.holder)).toEqual(['c2']);
  });

  it('every split-brain scenario names its defence', () => {
    expect(SPLIT_BRAIN_SCENARIOS.map((s) => s.name)).toEqual(['split-brain-quorum', 'split-brain-fencing', 'split-brain-no-fencing', 'split-brain-stonith']);
  });

  it('the lost update sells the last item twice; each remedy sells it once', () => {
    const sold = INVENTORY_SCENARIOS.map((s) => [s.name, runLockScenario(s).inventory?.sold]);
    expect(sold).toEqual([
      ['inventory-lost-update', 2],
      ['inventory-row-lock', 1],
      ['inventory-version-check', 1],
      ['inventory-fenced-lock', 1],
      ['inventory-conditional-decrement', 1],
    ]);
  });
});
