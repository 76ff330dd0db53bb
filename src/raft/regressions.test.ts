// Chaos seeds that once found bugs, replayed with the options they failed with. Each names the
// bug it found; the unit tests in core.test.ts pin the same rules directly.
import { describe, expect, it } from 'vitest';
import { runChaos, type ChaosOptions } from './chaos.js';

const REGRESSIONS: readonly { readonly bug: string; readonly options: ChaosOptions }[] = [
  {
    bug: 'a leader that was the only voter applied an entry before it was durable, then lost it in a crash (leader completeness)',
    options: { seed: 1012, nodes: 3, durationMs: 5000 },
  },
  {
    bug: 'a leader removed itself, was cut off before the removal spread, and nobody could be elected again (liveness)',
    options: { seed: 1085, nodes: 3, durationMs: 5000 },
  },
];

describe('chaos regressions', () => {
  for (const { bug, options } of REGRESSIONS) {
    it(`seed ${options.seed} (${options.nodes} nodes): ${bug}`, () => {
      const result = runChaos(options);
      expect(result.violations).toEqual([]);
      expect(result.linearizability).toBe('linearizable');
    });
  }
});
