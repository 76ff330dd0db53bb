// How many cases a fuzz suite (`*.fuzz.test.ts`) runs: a bounded number in `npm test`, many more
// under `npm run fuzz` (SYNOD_FUZZ_RUNS), and the seed to replay a failure (SYNOD_FUZZ_SEED).
import type { Parameters } from 'fast-check';

/** Runs for a fuzz suite: `defaultRuns` in npm test, or SYNOD_FUZZ_RUNS when set. */
export function fuzzRuns(defaultRuns: number): number {
  const text = process.env['SYNOD_FUZZ_RUNS'];
  if (text === undefined || text === '') return defaultRuns;
  const runs = Number(text);
  if (!Number.isSafeInteger(runs) || runs < 1) throw new Error(`SYNOD_FUZZ_RUNS must be a whole number >= 1, got "${text}"`);
  return runs;
}

/** fast-check parameters for a fuzz property: the run count above, and SYNOD_FUZZ_SEED to replay. */
export function fuzzParameters<T>(defaultRuns: number): Parameters<T> {
  const seedText = process.env['SYNOD_FUZZ_SEED'];
  const seed = seedText === undefined || seedText === '' ? undefined : Number(seedText);
  return { numRuns: fuzzRuns(defaultRuns), ...(seed === undefined || !Number.isSafeInteger(seed) ? {} : { seed }) };
}

/** Time a fuzz test may take: generous under `npm run fuzz`, where runs are many. */
export function fuzzTimeoutMs(defaultMs: number): number {
  return process.env['SYNOD_FUZZ_RUNS'] === undefined ? defaultMs : 3_600_000;
}
