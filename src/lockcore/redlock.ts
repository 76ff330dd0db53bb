// The arithmetic of Redlock (Antirez, "Distributed Locks with Redis"), with no I/O: majority, drift
// allowance, validity, what an attempt's answers amount to, the retry delay. Time and randomness
// are arguments, so the Node client and the simulator's Redlock clients share one definition.

/** What one Redis instance answered a lock, extend or release request. */
export type InstanceOutcome =
  /** It did what was asked (set the key, extended or deleted it). */
  | 'granted'
  /** It answered no: the key is another holder's (or, for extend/release, no longer ours). */
  | 'refused'
  /** No answer in time, or an error: we do not know what it did. */
  | 'failed';

/** The answers of one attempt, counted. */
export interface OutcomeTally {
  readonly granted: number;
  readonly refused: number;
  readonly failed: number;
  /** How many instances answered at all (granted + refused). */
  readonly reachable: number;
  readonly total: number;
}

/** The drift allowance of the published algorithm: 1% of the TTL plus 2 ms for timer granularity. */
export const DEFAULT_DRIFT_FACTOR = 0.01;
export const DEFAULT_DRIFT_CONSTANT_MS = 2;

/** The most instances one Redlock may span (a bound on every per-instance loop). */
export const MAX_REDLOCK_INSTANCES = 64;

/** How many of `instances` make a majority: floor(N/2) + 1. Any two majorities share an instance. */
export function quorumSize(instances: number): number {
  if (!Number.isSafeInteger(instances) || instances < 1) throw new RangeError(`a Redlock needs at least one instance, got ${String(instances)}`);
  return Math.floor(instances / 2) + 1;
}

/** Counts the outcomes of one attempt. */
export function tallyOutcomes(outcomes: readonly InstanceOutcome[]): OutcomeTally {
  let granted = 0;
  let refused = 0;
  let failed = 0;
  for (const o of outcomes) {
    if (o === 'granted') granted++;
    else if (o === 'refused') refused++;
    else failed++;
  }
  return { granted, refused, failed, reachable: granted + refused, total: outcomes.length };
}

/**
 * The clock-drift allowance for a lease of `ttlMs`: how much faster than ours another process's
 * (or a Redis server's) clock may run over the lease, rounded up to whole ms.
 */
export function clockDriftMs(ttlMs: number, driftFactor = DEFAULT_DRIFT_FACTOR, driftConstantMs = DEFAULT_DRIFT_CONSTANT_MS): number {
  return Math.ceil(ttlMs * driftFactor) + driftConstantMs;
}

/**
 * The time a lock is still valid after an attempt that took `elapsedMs`: the TTL minus the time
 * spent acquiring minus the drift allowance. At or below zero the lock must be treated as not held.
 */
export function validityMs(ttlMs: number, elapsedMs: number, driftMs: number): number {
  return ttlMs - elapsedMs - driftMs;
}

/** What an acquire (or extend) attempt over all instances amounts to. */
export type AttemptVerdict =
  /** A majority granted and time is left: the lock is held until `leaseExpiresAtMs`. */
  | { readonly kind: 'granted'; readonly tally: OutcomeTally; readonly validityMs: number; readonly leaseExpiresAtMs: number }
  /** A majority granted, but the attempt took so long that no validity is left. */
  | { readonly kind: 'expired'; readonly tally: OutcomeTally; readonly validityMs: number }
  /** Enough instances answered for a majority, but too many said no (another holder, or a split). */
  | { readonly kind: 'contended'; readonly tally: OutcomeTally }
  /** Fewer instances than a majority answered at all: no majority could have granted. */
  | { readonly kind: 'no-quorum'; readonly tally: OutcomeTally }
  /** No instance answered. */
  | { readonly kind: 'unreachable'; readonly tally: OutcomeTally };

export interface AttemptTiming {
  readonly ttlMs: number;
  /** The client's clock when the first request was sent (ms). */
  readonly startedAtMs: number;
  /** The client's clock when the last answer (or timeout) came (ms). */
  readonly finishedAtMs: number;
  /** Default: clockDriftMs(ttlMs). */
  readonly driftMs?: number;
}

/**
 * Judges an attempt: granted when at least a majority granted and the validity left is positive.
 * The lease then ends at startedAtMs + ttlMs - driftMs by our clock (= finishedAtMs + validity):
 * no instance can have set its key before the first request left.
 */
export function judgeAttempt(outcomes: readonly InstanceOutcome[], timing: AttemptTiming): AttemptVerdict {
  const tally = tallyOutcomes(outcomes);
  const quorum = quorumSize(tally.total);
  if (tally.granted >= quorum) {
    const drift = timing.driftMs ?? clockDriftMs(timing.ttlMs);
    const validity = validityMs(timing.ttlMs, Math.max(0, timing.finishedAtMs - timing.startedAtMs), drift);
    if (validity > 0) return { kind: 'granted', tally, validityMs: validity, leaseExpiresAtMs: timing.startedAtMs + timing.ttlMs - drift };
    return { kind: 'expired', tally, validityMs: validity };
  }
  if (tally.reachable === 0) return { kind: 'unreachable', tally };
  if (tally.reachable < quorum) return { kind: 'no-quorum', tally };
  return { kind: 'contended', tally };
}

/**
 * Whether the answers so far already decide an attempt, so the client need not wait for the rest:
 * a majority granted (held, if in time) or a majority refused (another holder has it). Instances
 * not yet answered then count as failed, which changes neither verdict.
 */
export function attemptDecided(tally: OutcomeTally): boolean {
  const quorum = quorumSize(tally.total);
  return tally.granted >= quorum || tally.refused >= quorum;
}

/**
 * The random delay before the next attempt, so clients that collided do not collide again:
 * `baseMs` plus up to `jitterMs` chosen by `random01` (a number in [0, 1) from the host's stream).
 */
export function retryDelayMs(random01: number, baseMs: number, jitterMs: number): number {
  const r = Number.isFinite(random01) ? Math.min(Math.max(random01, 0), 1 - Number.EPSILON) : 0;
  return Math.max(0, baseMs) + Math.floor(r * Math.max(0, jitterMs));
}

/**
 * The default per-instance timeout for a lease of `ttlMs`: small against the TTL (so a dead or
 * paused instance costs little validity) and at least `floorMs` (so a busy but live one still
 * answers): 5% of the TTL, between floorMs and 1000 ms.
 */
export function instanceTimeoutMs(ttlMs: number, floorMs = 50): number {
  return Math.max(floorMs, Math.min(1000, Math.floor(ttlMs * 0.05)));
}
