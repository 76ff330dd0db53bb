// Runs every scenario of the library over several seeds: each must meet its expectations, keep
// every monitor quiet and leave a linearizable KV history.
import { describe, expect, it } from 'vitest';
import { SCENARIOS, runScenario, type ScenarioResult } from './scenarios/index.js';

const SEEDS = [1, 2, 3];

function summary(r: ScenarioResult): string {
  const nodes = r.cluster.nodes().map((n) => `${n.id}:${n.up ? `${n.role}/t${n.term}/c${n.commit}/a${n.applied}` : 'down'}`).join(' ');
  return `${r.scenario} seed ${r.seed}: ${r.failure ?? ''} ${JSON.stringify(r.violations.slice(0, 3))} ${r.linearizability} [${nodes}]`;
}

describe('scenarios', () => {
  for (const scenario of SCENARIOS) {
    it(`${scenario.name}: ${scenario.caption}`, () => {
      for (const seed of SEEDS) {
        const r = runScenario(scenario, seed);
        expect(r.ok, summary(r)).toBe(true);
      }
    });
  }
});
