// Lifeguard (Dadgar, Phillips, Currey 2018): the Local Health Multiplier that slows a node's own
// probing when the evidence says the node itself is the slow one (LHA-Probe), and the suspicion
// timeout that starts long and falls as other members independently confirm it (LHA-Suspicion).
import { assertInvariant } from '../core/index.js';
import type { NodeId } from '../core/index.js';

/** The Local Health Multiplier: 0 is healthy, `max − 1` the least sure of itself. */
export class Awareness {
  private value = 0;

  /** `maxMultiplier` is awarenessMaxMultiplier: the score ranges over 0..maxMultiplier − 1. */
  constructor(private readonly maxMultiplier: number) {
    assertInvariant(maxMultiplier >= 1, () => `awareness needs a max multiplier >= 1, got ${maxMultiplier}`);
  }

  get score(): number {
    return this.value;
  }

  /** Adds `delta` (the paper's events: −1 per successful probe, +1 per failed probe, missed nack or refutation), clamped. */
  apply(delta: number): void {
    this.value = Math.min(this.maxMultiplier - 1, Math.max(0, this.value + delta));
  }

  /** A probe interval or timeout stretched by the multiplier: base × (score + 1). */
  scale(baseMs: number): number {
    return baseMs * (this.value + 1);
  }
}

/** Lifeguard's events and the score change each means (LHA-Probe, §IV-A of the paper). */
export const AWARENESS_DELTA = {
  successfulProbe: -1,
  failedProbe: 1,
  missedNack: 1,
  refutedSuspicion: 1,
} as const;

/** The shortest and the longest suspicion in a cluster of `memberCount` members. */
export function suspicionBoundsMs(o: { readonly suspicionMult: number; readonly suspicionMaxTimeoutMult: number; readonly probeIntervalMs: number }, memberCount: number): { readonly minMs: number; readonly maxMs: number } {
  // below ten members log10 N < 1 would shorten suspicion under one round of probing: floor it at 1 as memberlist does
  const nodeScale = Math.max(1, Math.log10(Math.max(1, memberCount)));
  const minMs = o.suspicionMult * nodeScale * o.probeIntervalMs;
  return { minMs, maxMs: o.suspicionMaxTimeoutMult * minMs };
}

/**
 * LHA-Suspicion's timeout after `confirmations` independent suspicions out of `expected` (K):
 * max(min, max − (max − min) · log(C + 1) / log(K + 1)). With K = 0 (too few members to expect
 * any) the timeout is the minimum.
 */
export function suspicionTimeoutMs(minMs: number, maxMs: number, confirmations: number, expected: number): number {
  if (expected < 1) return minMs;
  const fraction = Math.log(Math.min(confirmations, expected) + 1) / Math.log(expected + 1);
  return Math.max(minMs, maxMs - (maxMs - minMs) * fraction);
}

/** One member under suspicion: when it started, at which incarnation, and who confirmed it. */
export class Suspicion {
  private readonly confirmers = new Set<NodeId>();
  /** startedMs + timeoutMs(), kept (every node looks at it on every tick) and moved on each confirmation. */
  private deadline: number;

  /**
   * @param suspecter the member whose suspicion started ours (itself not a confirmation)
   * @param expected K: confirmations that bring the timeout down to `minMs`
   */
  constructor(
    readonly incarnation: number,
    readonly startedMs: number,
    private readonly suspecter: NodeId,
    private readonly minMs: number,
    private readonly maxMs: number,
    private readonly expected: number,
  ) {
    this.deadline = startedMs + this.timeoutMs();
  }

  get confirmations(): number {
    return this.confirmers.size;
  }

  /** Counts `from` as a confirmation; true when it is new and still counts (fewer than K so far). */
  confirm(from: NodeId): boolean {
    if (this.confirmers.size >= this.expected || from === this.suspecter || this.confirmers.has(from)) return false;
    this.confirmers.add(from);
    this.deadline = this.startedMs + this.timeoutMs();
    return true;
  }

  timeoutMs(): number {
    return suspicionTimeoutMs(this.minMs, this.maxMs, this.confirmers.size, this.expected);
  }

  deadlineMs(): number {
    return this.deadline;
  }
}
