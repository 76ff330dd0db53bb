// The one error type the clock module throws. Each failure has a stable `code` so callers
// (cores, hosts, tests) can branch on it without parsing messages.

export type ClockErrorCode =
  /** A configuration value (offset bound, drift, interval, ...) is out of its allowed range. */
  | 'CLOCK_INVALID_OPTION'
  /** A Lamport time is not a non-negative safe integer, or would stop being one. */
  | 'LAMPORT_INVALID_TIME'
  /** A vector-clock counter is not a non-negative safe integer, or would stop being one. */
  | 'VC_INVALID_COUNTER'
  /** Bytes handed to the vector-clock decoder are not a canonical encoding. */
  | 'VC_DECODE_FAILED'
  /** A remote HLC timestamp is further ahead of local physical time than `maxOffsetMs`. */
  | 'HLC_OFFSET_EXCEEDED'
  /** The 16-bit logical counter is exhausted for the current physical millisecond. */
  | 'HLC_LOGICAL_OVERFLOW'
  /** An HLC timestamp (or its packed form) does not fit 48-bit physical + 16-bit logical. */
  | 'HLC_INVALID_TIMESTAMP'
  /** The physical clock returned a non-finite value or one beyond 48 bits of milliseconds. */
  | 'HLC_PHYSICAL_OUT_OF_RANGE'
  /** Sync timestamps are non-finite or mutually inconsistent (e.g. negative round trip). */
  | 'SYNC_INVALID_SAMPLE'
  /** The local clock read earlier than the last sync point, so the error bound is meaningless. */
  | 'TRUETIME_CLOCK_REGRESSED';

export class ClockError extends Error {
  constructor(
    readonly code: ClockErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ClockError';
  }
}

/** Throws a ClockError; typed `never` so it can end an expression or a branch. */
export function failClock(code: ClockErrorCode, message: string): never {
  throw new ClockError(code, message);
}

export function isClockError(value: unknown, code?: ClockErrorCode): value is ClockError {
  return value instanceof ClockError && (code === undefined || value.code === code);
}

/** Asserts a configuration number is finite and at least `min`; returns it for inline use. */
export function requireOption(name: string, value: number, min: number): number {
  if (!Number.isFinite(value) || value < min) failClock('CLOCK_INVALID_OPTION', `${name} must be a finite number >= ${min}, got ${value}`);
  return value;
}

/** Asserts a count-like option (ticks, window sizes) is a whole number of at least 1. */
export function requireWholeOption(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) failClock('CLOCK_INVALID_OPTION', `${name} must be a whole number >= 1, got ${value}`);
  return value;
}
