// TrueTime-style interval clock (after Spanner): instead of a point, now() returns an interval
// that contains true time, provided the local clock drifts no faster than `driftPpm` and was
// within `baseErrorMs` of true time at the last sync. Cores cannot sleep, so commit wait is a duration.

import { failClock, requireOption } from './errors.js';

export interface TrueTimeInterval {
  readonly earliestMs: number;
  readonly latestMs: number;
}

export interface TrueTimeOptions {
  /** Local clock in ms (ideally already corrected by a sync protocol). */
  readonly now: () => number;
  /** Error right after a sync, e.g. half the round trip of the sync exchange. */
  readonly baseErrorMs: number;
  /** Assumed worst-case drift of the local clock; the bound is only as good as this assumption. */
  readonly driftPpm: number;
  /** Local time of the last sync; defaults to the time of construction. */
  readonly lastSyncMs?: number;
}

const PPM = 1e6;

export class TrueTimeClock {
  private readonly readClockMs: () => number;
  readonly driftPpm: number;
  private baseErrorMs: number;
  private lastSyncMs: number;

  constructor(options: TrueTimeOptions) {
    this.readClockMs = options.now;
    this.driftPpm = requireOption('driftPpm', options.driftPpm, 0);
    // At a million ppm the error would grow as fast as time itself and no wait would ever end.
    if (this.driftPpm >= PPM) failClock('CLOCK_INVALID_OPTION', `driftPpm must be below ${PPM}, got ${this.driftPpm}`);
    this.baseErrorMs = requireOption('baseErrorMs', options.baseErrorMs, 0);
    this.lastSyncMs = requireOption('lastSyncMs', options.lastSyncMs ?? this.readLocalMs(), -Infinity);
  }

  /** Restarts drift accumulation after a successful sync, optionally with a new base error. */
  recordSync(syncedAtMs: number = this.readLocalMs(), baseErrorMs: number = this.baseErrorMs): void {
    this.lastSyncMs = requireOption('syncedAtMs', syncedAtMs, -Infinity);
    this.baseErrorMs = requireOption('baseErrorMs', baseErrorMs, 0);
  }

  /** The half-width of the interval at local time `localMs`. */
  errorMsAt(localMs: number): number {
    const elapsedMs = localMs - this.lastSyncMs;
    if (elapsedMs < 0) failClock('TRUETIME_CLOCK_REGRESSED', `local clock ${localMs} ms is before the last sync at ${this.lastSyncMs} ms`);
    return this.baseErrorMs + (this.driftPpm * elapsedMs) / PPM;
  }

  now(): TrueTimeInterval {
    return this.intervalAt(this.readLocalMs());
  }

  intervalAt(localMs: number): TrueTimeInterval {
    const errorMs = this.errorMsAt(localMs);
    return { earliestMs: localMs - errorMs, latestMs: localMs + errorMs };
  }

  /** True when `tMs` has certainly passed. */
  after(tMs: number): boolean {
    return tMs < this.now().earliestMs;
  }

  /** True when `tMs` has certainly not arrived yet. */
  before(tMs: number): boolean {
    return tMs > this.now().latestMs;
  }

  /**
   * Whole local ms to wait until after(tMs) holds; 0 if it already does. While waiting the
   * interval's lower edge advances only (1 − drift) ms per local ms, as the error keeps growing.
   */
  commitWaitMs(tMs: number): number {
    const localMs = this.readLocalMs();
    const { earliestMs } = this.intervalAt(localMs);
    if (tMs < earliestMs) return 0;
    // Start from the closed form, then settle the last millisecond with the very arithmetic
    // after() will use, so rounding can never make the returned wait one short.
    let waitMs = Math.floor((tMs - earliestMs) / (1 - this.driftPpm / PPM));
    while (tMs >= this.intervalAt(localMs + waitMs).earliestMs) waitMs++;
    return waitMs;
  }

  private readLocalMs(): number {
    const localMs = this.readClockMs();
    if (!Number.isFinite(localMs)) failClock('CLOCK_INVALID_OPTION', `local clock returned ${localMs}`);
    return localMs;
  }
}
