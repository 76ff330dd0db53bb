// The one error type src/quorum/pbs throws. Each failure has a stable `code`, so that a script or
// a host can answer a bad option (a quorum larger than N, a Pareto shape of zero) with one clear
// line instead of a stack trace, and tests can check which rule was broken.

export type PbsErrorCode =
  /** An option of a run is out of its range: N, R, W, trial count, target probability, t, grid. */
  | 'PBS_INVALID_OPTION'
  /** A latency distribution has a bad parameter (non-positive scale or rate, weights not summing to 1, ...). */
  | 'PBS_INVALID_DISTRIBUTION';

export class PbsError extends Error {
  constructor(
    readonly code: PbsErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'PbsError';
  }
}

/** Throws a PbsError; typed `never` so it can end an expression or a branch. */
export function failPbs(code: PbsErrorCode, message: string): never {
  throw new PbsError(code, message);
}

/** An integer option in [min, max], or PBS_INVALID_OPTION naming it. */
export function checkIntegerOption(name: string, value: number, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) failPbs('PBS_INVALID_OPTION', `${name} must be an integer from ${min} to ${max}, got ${String(value)}`);
  return value;
}

/** A probability strictly between 0 and 1 (a target of 0 or 1 has no finite t-visibility to report). */
export function checkOpenProbability(name: string, value: number): number {
  if (!(Number.isFinite(value) && value > 0 && value < 1)) failPbs('PBS_INVALID_OPTION', `${name} must be a probability strictly between 0 and 1, got ${String(value)}`);
  return value;
}
