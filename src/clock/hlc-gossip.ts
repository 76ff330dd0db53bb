// A sans-I/O core (see src/sim/core.ts) that exercises hybrid logical clocks: each node
// periodically stamps a message with its HLC and sends it to a random peer, which merges it.
// Run under a simulator with skewed, drifting clocks, its annotations let monitors check HLC bounds.

import type { CoreEnv, Effects, NodeId, ProtocolCore, ProtocolSpec } from '../core/index.js';
import { isClockError, requireOption, requireWholeOption, type ClockErrorCode } from './errors.js';
import { formatPackedHlc, HybridLogicalClock, parsePackedHlc, type HlcTimestamp } from './hlc.js';

export interface HlcGossipMessage {
  readonly type: 'hlc_gossip';
  /** The sender's packed HLC as a decimal string (bigint does not survive JSON). */
  readonly hlc: string;
}

/** A client asks for a fresh HLC timestamp, e.g. to stamp a write. */
export interface HlcStampQuery {
  readonly type: 'stamp';
}

export type HlcStampResult = { readonly hlc: string } | { readonly error: ClockErrorCode };

export interface HlcGossipOptions {
  readonly tickIntervalMs?: number;
  /** A node gossips on its first tick and then every this many ticks. */
  readonly gossipEveryTicks?: number;
  readonly maxOffsetMs?: number;
}

type GossipEffects = Effects<HlcGossipMessage, never, HlcStampResult>;
type GossipCore = ProtocolCore<HlcGossipMessage, HlcStampQuery, HlcStampResult, never>;

export function createHlcGossipSpec(options: HlcGossipOptions = {}): ProtocolSpec<HlcGossipMessage, HlcStampQuery, HlcStampResult, never> {
  const tickIntervalMs = requireOption('tickIntervalMs', options.tickIntervalMs ?? 100, Number.MIN_VALUE);
  const gossipEveryTicks = requireWholeOption('gossipEveryTicks', options.gossipEveryTicks ?? 1);
  const maxOffsetMs = requireOption('maxOffsetMs', options.maxOffsetMs ?? 500, 0);
  return {
    name: 'hlc-gossip',
    tickIntervalMs,
    // Nothing is persisted, so after a restart the HLC may start below what it issued before;
    // a real deployment would persist an upper bound on l.
    create: (env) => new HlcGossipNode(env, gossipEveryTicks, maxOffsetMs),
  };
}

export const hlcGossipSpec = createHlcGossipSpec();

class HlcGossipNode implements GossipCore {
  private readonly hlc: HybridLogicalClock;
  private readonly peers: readonly NodeId[];
  private ticks = 0;
  private rejectedCount = 0;

  constructor(
    private readonly env: CoreEnv,
    private readonly gossipEveryTicks: number,
    maxOffsetMs: number,
  ) {
    this.hlc = new HybridLogicalClock({ now: () => env.now(), maxOffsetMs });
    this.peers = env.members.filter((id) => id !== env.id);
  }

  start(fx: GossipEffects): void {
    fx.annotate('hlcRejected', 0);
    this.annotateHlc(fx);
  }

  handleTick(fx: GossipEffects): void {
    const due = this.ticks % this.gossipEveryTicks === 0;
    this.ticks++;
    const peer = due ? this.pickPeer() : undefined;
    if (peer === undefined) return;
    // On logical overflow, skip this round: a later tick retries once physical time has moved.
    const stamped = this.tryClock(fx, () => this.hlc.send());
    if (typeof stamped !== 'string') fx.send(peer, { type: 'hlc_gossip', hlc: formatPackedHlc(stamped) });
  }

  handleMessage(_from: NodeId, msg: HlcGossipMessage, fx: GossipEffects): void {
    if (msg.type !== 'hlc_gossip') return;
    this.tryClock(fx, () => this.hlc.receive(parsePackedHlc(msg.hlc)));
  }

  handleRequest(requestId: string, _request: HlcStampQuery, fx: GossipEffects): void {
    const stamped = this.tryClock(fx, () => this.hlc.now());
    fx.reply(requestId, typeof stamped === 'string' ? { error: stamped } : { hlc: formatPackedHlc(stamped) });
  }

  private pickPeer(): NodeId | undefined {
    return this.peers[Math.floor(this.env.random() * this.peers.length)];
  }

  /** Runs one clock event; a clock refusal (offset, overflow, bad stamp) is counted, not fatal. */
  private tryClock(fx: GossipEffects, event: () => HlcTimestamp): HlcTimestamp | ClockErrorCode {
    try {
      const stamped = event();
      this.annotateHlc(fx);
      return stamped;
    } catch (error) {
      if (!isClockError(error)) throw error;
      this.rejectedCount++;
      fx.annotate('hlcRejected', this.rejectedCount);
      fx.annotate('hlcLastError', error.code);
      return error.code;
    }
  }

  private annotateHlc(fx: GossipEffects): void {
    const current = this.hlc.current;
    fx.annotate('hlc', formatPackedHlc(current));
    // Measured against the physical reading as the HLC sees it (floored, negatives as 0).
    fx.annotate('hlcAheadMs', current.physicalMs - Math.max(0, Math.floor(this.env.now())));
  }
}
