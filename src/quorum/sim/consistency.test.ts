import { describe, expect, it } from 'vitest';
import { measureConsistency, tableConfigs, type ConsistencyConfig } from './consistency.js';

const config = (name: string): ConsistencyConfig => {
  const found = tableConfigs().find((c) => c.name === name);
  if (found === undefined) throw new Error(`no configuration ${name}`);
  return found;
};

/** Bounded here; scripts/consistency-table.ts runs the table (docs/consistency.md). */
describe('the consistency spectrum, measured on a few seeds', () => {
  it('Raft with linearizable reads meets every model; serializable follower reads are stale', () => {
    const linearizable = measureConsistency(config('Raft, linearizable reads'), 1, 2);
    for (const [model, tally] of Object.entries(linearizable.models)) if (tally.judged > 0) expect(tally.seedsMet, model).toBe(2);
    expect(linearizable.models.linearizable.judged).toBe(2);
    const follower = measureConsistency(config('Raft, serializable follower reads'), 1, 2);
    expect(follower.staleShare).toBeGreaterThan(0);
    expect(follower.models['no-stale-reads'].firstViolatingSeed).not.toBeNull();
  });

  it('a strict quorum reads no stale value and keeps durability; R = W = 1 reads stale ones', () => {
    const strict = measureConsistency(config('R=2 W=2'), 1, 3);
    expect(strict.models['no-stale-reads'].seedsMet).toBe(3);
    expect(strict.models['read-your-writes'].seedsMet).toBe(3);
    expect(strict.models.durability.seedsMet).toBe(3);
    expect(strict.models.convergence.seedsMet).toBe(3);
    const weak = measureConsistency(config('R=1 W=1'), 1, 3);
    expect(weak.staleShare).toBeGreaterThan(0);
    expect(weak.models.durability.seedsMet).toBe(3);
  });
});
