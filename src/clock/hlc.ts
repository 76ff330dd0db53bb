// Hybrid logical clock (Kulkarni, Demirbas et al., 2014): l tracks the largest physical time
// seen, c breaks ties, so timestamps respect causality yet stay within a bounded offset of
// physical time. Packs into a 64-bit bigint (48-bit ms, 16-bit counter) that sorts like (l, c).

import { failClock, requireOption } from './errors.js';

export interface HlcTimestamp {
  /** l: the largest physical reading (ms) this clock has seen, locally or in a message. */
  readonly physicalMs: number;
  /** c: orders events that share the same l. */
  readonly logical: number;
}

export const HLC_MAX_PHYSICAL_MS = 2 ** 48 - 1;
export const HLC_MAX_LOGICAL = 0xffff;
const LOGICAL_BITS = 16n;
const MAX_PACKED = (1n << 64n) - 1n;

export interface HlcOptions {
  /** Local physical clock in ms, read once per event; fractions are floored, negatives count as 0. */
  readonly now: () => number;
  /** Remote timestamps whose l is further ahead of local physical time than this are rejected. */
  readonly maxOffsetMs: number;
  /** Resume from an earlier timestamp, e.g. one persisted before a restart. */
  readonly initial?: HlcTimestamp;
}

export class HybridLogicalClock {
  private readonly readClockMs: () => number;
  readonly maxOffsetMs: number;
  private last: HlcTimestamp;

  constructor(options: HlcOptions) {
    this.readClockMs = options.now;
    this.maxOffsetMs = requireOption('maxOffsetMs', options.maxOffsetMs, 0);
    this.last = requireHlcTimestamp(options.initial ?? { physicalMs: 0, logical: 0 });
  }

  /** The latest timestamp issued, without creating an event. */
  get current(): HlcTimestamp {
    return this.last;
  }

  /**
   * A local event. Throws HLC_LOGICAL_OVERFLOW (state unchanged) when 65536 events share one
   * l; the caller retries once its physical clock has passed `current.physicalMs`.
   */
  now(): HlcTimestamp {
    const physicalMs = this.readPhysicalMs();
    const { physicalMs: l, logical: c } = this.last;
    this.last = physicalMs > l ? { physicalMs, logical: 0 } : { physicalMs: l, logical: incrementLogical(c, l) };
    return this.last;
  }

  /** A send is a local event whose timestamp travels with the message. */
  send(): HlcTimestamp {
    return this.now();
  }

  /**
   * Merges a message's timestamp; the result is strictly after both it and `current`.
   * Throws HLC_OFFSET_EXCEEDED rather than letting one fast clock drag every clock ahead;
   * on any throw the state is unchanged.
   */
  receive(remote: HlcTimestamp): HlcTimestamp {
    requireHlcTimestamp(remote);
    const physicalMs = this.readPhysicalMs();
    const aheadMs = remote.physicalMs - physicalMs;
    if (aheadMs > this.maxOffsetMs) {
      failClock('HLC_OFFSET_EXCEEDED', `remote HLC is ${aheadMs} ms ahead of local physical time (max ${this.maxOffsetMs} ms)`);
    }
    this.last = mergeTimestamps(this.last, remote, physicalMs);
    return this.last;
  }

  private readPhysicalMs(): number {
    const readingMs = this.readClockMs();
    if (!Number.isFinite(readingMs)) failClock('HLC_PHYSICAL_OUT_OF_RANGE', `physical clock returned ${readingMs}`);
    const physicalMs = Math.max(0, Math.floor(readingMs));
    if (physicalMs > HLC_MAX_PHYSICAL_MS) failClock('HLC_PHYSICAL_OUT_OF_RANGE', `physical time ${physicalMs} ms exceeds 48 bits`);
    return physicalMs;
  }
}

/** The receive rule of the paper: the new l is the max of all three; c follows whichever won. */
function mergeTimestamps(local: HlcTimestamp, remote: HlcTimestamp, physicalMs: number): HlcTimestamp {
  const l = Math.max(local.physicalMs, remote.physicalMs, physicalMs);
  const fromLocal = l === local.physicalMs;
  const fromRemote = l === remote.physicalMs;
  if (fromLocal && fromRemote) return { physicalMs: l, logical: incrementLogical(Math.max(local.logical, remote.logical), l) };
  if (fromLocal) return { physicalMs: l, logical: incrementLogical(local.logical, l) };
  if (fromRemote) return { physicalMs: l, logical: incrementLogical(remote.logical, l) };
  return { physicalMs: l, logical: 0 };
}

function incrementLogical(logical: number, physicalMs: number): number {
  if (logical >= HLC_MAX_LOGICAL) {
    failClock('HLC_LOGICAL_OVERFLOW', `logical counter exhausted at l=${physicalMs}; retry once physical time passes it`);
  }
  return logical + 1;
}

export function requireHlcTimestamp(ts: HlcTimestamp): HlcTimestamp {
  const { physicalMs, logical } = ts;
  const physicalOk = Number.isSafeInteger(physicalMs) && physicalMs >= 0 && physicalMs <= HLC_MAX_PHYSICAL_MS;
  const logicalOk = Number.isSafeInteger(logical) && logical >= 0 && logical <= HLC_MAX_LOGICAL;
  if (!physicalOk || !logicalOk) failClock('HLC_INVALID_TIMESTAMP', `not a 48+16-bit HLC timestamp: l=${physicalMs} c=${logical}`);
  return ts;
}

export function compareHlcTimestamps(a: HlcTimestamp, b: HlcTimestamp): -1 | 0 | 1 {
  if (a.physicalMs !== b.physicalMs) return a.physicalMs < b.physicalMs ? -1 : 1;
  if (a.logical !== b.logical) return a.logical < b.logical ? -1 : 1;
  return 0;
}

/** l in the high 48 bits, c in the low 16, so bigint order equals (l, c) order. */
export function packHlc(ts: HlcTimestamp): bigint {
  requireHlcTimestamp(ts);
  return (BigInt(ts.physicalMs) << LOGICAL_BITS) | BigInt(ts.logical);
}

export function unpackHlc(packed: bigint): HlcTimestamp {
  if (packed < 0n || packed > MAX_PACKED) failClock('HLC_INVALID_TIMESTAMP', `packed HLC ${packed} is outside 64 bits`);
  return {
    physicalMs: Number(packed >> LOGICAL_BITS),
    logical: Number(packed & BigInt(HLC_MAX_LOGICAL)),
  };
}

/** Parses the decimal string form used in messages and annotations (bigint is not JSON). */
export function parsePackedHlc(text: string): HlcTimestamp {
  if (!/^\d{1,20}$/.test(text)) failClock('HLC_INVALID_TIMESTAMP', `not a packed HLC: ${JSON.stringify(text)}`);
  return unpackHlc(BigInt(text));
}

export function formatPackedHlc(ts: HlcTimestamp): string {
  return packHlc(ts).toString();
}
