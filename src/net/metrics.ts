// Counters the transport keeps, in total and per peer, handed out as plain-object snapshots so
// the node process can export them (Prometheus, logs) without holding references to live state.
import type { NodeId } from '../core/index.js';

/** Counted both in total and per peer (events before a peer is known count in the total only). */
export const COUNTER_NAMES = [
  /** Frames (any kind, handshake and pings included) and their bytes (headers included). */
  'framesIn', 'framesOut', 'bytesIn', 'bytesOut',
  /** Protocol messages decoded from the wire (before the fault hook) / written to a socket. */
  'messagesIn', 'messagesOut',
  /** Frames that closed their connection: undecodable payload, length over the limit, cut off by EOF. */
  'decodeErrors', 'oversizeFrames', 'truncatedFrames',
  /** Handshakes refused for a wrong ticket or proof, an unknown or wrong id, another cluster or version, or refused by the peer. */
  'authFailures', 'handshakeTimeouts',
  /**
   * Identity: handshakes where this node's checkPeerIncarnation refused the peer; authenticated
   * refusals of this node by a peer (it considers this node's data lost: see onRefused).
   */
  'incarnationRefusals', 'refusedByPeer',
  /** TLS handshakes or certificates that failed (either side; detail.tlsCode in the log says why). */
  'tlsFailures',
  /** Outbound connections torn down because the peer stopped answering pings. */
  'peerTimeouts',
  /** Outbound connections authenticated; `reconnects` are those after the first to that peer. */
  'connects', 'reconnects', 'disconnects',
  /** Queued frames discarded: oldest-first when the queue is full, or still queued at close / removal. */
  'queueDrops', 'queueDropBytes',
  /** Messages the fault hook dropped or delayed (only with faultInjection). */
  'faultDrops', 'faultDelays',
] as const;

export type CounterName = (typeof COUNTER_NAMES)[number];
export type Counters = Record<CounterName, number>;

/** Why `send` refused a message outright (it was never queued). */
export type SendRefusal = 'unknown_peer' | 'too_large' | 'encode_failed' | 'closed';
export const SEND_REFUSALS: readonly SendRefusal[] = ['unknown_peer', 'too_large', 'encode_failed', 'closed'];

export interface PeerMetrics extends Counters {
  /** Our outbound connection to the peer is authenticated. */
  readonly connected: boolean;
  /** The peer's connection to us is authenticated. */
  readonly inboundConnected: boolean;
  readonly queuedMessages: number;
  readonly queuedBytes: number;
}

export interface TransportMetrics extends Counters {
  readonly sendRefusals: Readonly<Record<SendRefusal, number>>;
  /** Exceptions thrown by onMessage handlers (caught and logged; the connection stays up). */
  readonly handlerErrors: number;
  /** Messages that arrived while no handler was registered. */
  readonly unhandledMessages: number;
  /** Pending inbound handshakes closed to make room for a newer connection (see maxPendingHandshakes). */
  readonly evictedHandshakes: number;
  /** Inbound connections still in their handshake, now. */
  readonly pendingHandshakes: number;
  readonly peers: Readonly<Record<NodeId, PeerMetrics>>;
}

export function zeroCounters(): Counters {
  const counters = {} as Counters;
  for (const name of COUNTER_NAMES) counters[name] = 0;
  return counters;
}

/** Live state of a peer that is not a counter, read at snapshot time. */
export interface PeerGauges {
  connected(): boolean;
  inboundConnected(): boolean;
  queuedMessages(): number;
  queuedBytes(): number;
}

/** The mutable registry behind `Transport.metrics()`. */
export class MetricsRegistry {
  readonly total: Counters = zeroCounters();
  readonly sendRefusals: Record<SendRefusal, number> = { unknown_peer: 0, too_large: 0, encode_failed: 0, closed: 0 };
  handlerErrors = 0;
  unhandledMessages = 0;
  evictedHandshakes = 0;
  private readonly perPeer = new Map<NodeId, { counters: Counters; gauges: PeerGauges }>();
  /** Read at snapshot time. */
  pendingHandshakes: () => number = () => 0;

  /** Adds `amount` to the total and, when the peer is known and tracked, to its own counter. */
  count(name: CounterName, peer: NodeId | null, amount = 1): void {
    this.total[name] += amount;
    if (peer !== null) {
      const entry = this.perPeer.get(peer);
      if (entry !== undefined) entry.counters[name] += amount;
    }
  }

  trackPeer(peer: NodeId, gauges: PeerGauges): void {
    if (!this.perPeer.has(peer)) this.perPeer.set(peer, { counters: zeroCounters(), gauges });
  }

  /** Forgets a removed peer's counters (the totals keep them), so membership churn stays bounded. */
  untrackPeer(peer: NodeId): void {
    this.perPeer.delete(peer);
  }

  snapshot(): TransportMetrics {
    const peers: Record<NodeId, PeerMetrics> = {};
    for (const [id, { counters, gauges }] of this.perPeer) {
      peers[id] = {
        ...counters,
        connected: gauges.connected(),
        inboundConnected: gauges.inboundConnected(),
        queuedMessages: gauges.queuedMessages(),
        queuedBytes: gauges.queuedBytes(),
      };
    }
    return {
      ...this.total,
      sendRefusals: { ...this.sendRefusals },
      handlerErrors: this.handlerErrors,
      unhandledMessages: this.unhandledMessages,
      evictedHandshakes: this.evictedHandshakes,
      pendingHandshakes: this.pendingHandshakes(),
      peers,
    };
  }
}
