// How many cases a fuzz suite (`*.fuzz.test.ts`) runs: a bounded number in `npm test`, many more
// under `npm run fuzz` (SYNOD_FUZZ_RUNS), and the seed to replay a failure (SYNOD_FUZZ_SEED).
import fc, { type Parameters, type RunDetails } from 'fast-check';

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

/** Reports a failure with long runs of one character collapsed (fuzz inputs reach 100,000 characters). */
export function shortReport<T>(details: RunDetails<T>): void {
  if (!details.failed) return;
  const shown = fc.stringify(details.counterexample).replace(/(.)\1{40,}/gs, (run, c: string) => `${c}…×${run.length}`);
  const cause = details.errorInstance instanceof Error ? (details.errorInstance.stack ?? details.errorInstance.message) : String(details.errorInstance);
  throw new Error(`property failed (seed ${details.seed}, path "${details.counterexamplePath ?? ''}")\ncounterexample: ${shown.slice(0, 4000)}\ncause: ${cause.slice(0, 4000)}`);
}

/** fuzzParameters with failures reported by shortReport. */
export function fuzzParametersShort<T>(defaultRuns: number): Parameters<T> {
  return { ...fuzzParameters<T>(defaultRuns), reporter: shortReport<T> };
}
