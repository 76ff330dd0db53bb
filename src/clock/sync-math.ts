// Offset and delay estimates from request/response timestamps, as NTP and Cristian's method
// compute them. Both assume the server's time is the reference and clocks do not drift
// noticeably during one exchange; the error bounds hold whatever the path asymmetry.

import { failClock } from './errors.js';

export interface NtpTimestamps {
  /** Client clock when the request left. */
  readonly t1Ms: number;
  /** Server clock when the request arrived. */
  readonly t2Ms: number;
  /** Server clock when the response left. */
  readonly t3Ms: number;
  /** Client clock when the response arrived. */
  readonly t4Ms: number;
}

export interface NtpSample {
  /** Estimated server time minus client time: add it to the client clock to correct it. */
  readonly offsetMs: number;
  /** Time on the wire, both ways, excluding the server's processing time. */
  readonly delayMs: number;
  /** The true offset lies within offsetMs ± errorBoundMs (half the delay). */
  readonly errorBoundMs: number;
}

/**
 * The estimate is exact when both directions take equally long; an asymmetry of
 * (outbound − return) shifts it by half that, which never exceeds delay / 2.
 */
export function computeNtpSample(timestamps: NtpTimestamps): NtpSample {
  const { t1Ms, t2Ms, t3Ms, t4Ms } = timestamps;
  if (![t1Ms, t2Ms, t3Ms, t4Ms].every(Number.isFinite)) failClock('SYNC_INVALID_SAMPLE', 'NTP timestamps must be finite');
  const delayMs = t4Ms - t1Ms - (t3Ms - t2Ms);
  if (t3Ms < t2Ms || delayMs < 0) {
    failClock('SYNC_INVALID_SAMPLE', `inconsistent NTP timestamps: server held ${t3Ms - t2Ms} ms of a ${t4Ms - t1Ms} ms round trip`);
  }
  const offsetMs = (t2Ms - t1Ms + (t3Ms - t4Ms)) / 2;
  return { offsetMs, delayMs, errorBoundMs: delayMs / 2 };
}

export interface CristianEstimate {
  /** Estimated server time at the moment the response arrived. */
  readonly estimateMs: number;
  /** The server time then lies within estimateMs ± errorBoundMs. */
  readonly errorBoundMs: number;
}

/** The reply spent between 0 and the whole round trip on the wire; assume half, err by at most half. */
export function estimateCristianTime(serverTimeMs: number, roundTripMs: number): CristianEstimate {
  if (!Number.isFinite(serverTimeMs) || !Number.isFinite(roundTripMs) || roundTripMs < 0) {
    failClock('SYNC_INVALID_SAMPLE', `Cristian needs a finite server time and round trip >= 0, got ${serverTimeMs}, ${roundTripMs}`);
  }
  return { estimateMs: serverTimeMs + roundTripMs / 2, errorBoundMs: roundTripMs / 2 };
}
