// What the gossip transport counts: traffic by path, and every packet or message it did not
// deliver, by reason. A drop is never thrown: hostile or broken input only moves a counter (and
// reaches the optional onDrop hook), so the agent can export and alert on it.

/** Why a received packet, frame or connection was not delivered to the handlers. */
export const INBOUND_DROP_REASONS = [
  /** Empty, unknown first byte, or a clear-text header cut short. */
  'bad_format',
  /** A clear-text packet reached a node with a key ring. */
  'unencrypted',
  /** A sealed packet reached a node without a key ring. */
  'encrypted',
  /** A sealed packet that opens under no installed key with this label: wrong key, other cluster, changed or cut bytes. */
  'unauthenticated',
  /** A clear-text packet of another label (cluster). */
  'wrong_label',
  /** The MessagePack body did not decode (garbage, truncated, trailing bytes, nested too deep for the stack). */
  'undecodable',
  /** Not [from, to, msg] with from and to valid host:port ids. */
  'bad_envelope',
  /** The message holds something other than plain data (objects, arrays, strings, numbers, booleans, null, bytes) or nests too deep. */
  'not_plain_data',
  /** The envelope names another node as the destination (a packet replayed or misdirected to us). */
  'wrong_destination',
  /** The envelope names this node as the sender. */
  'from_self',
  /** The fault hook cuts this peer off. */
  'fault',
  /** The pluggable message check refused the message. */
  'check_failed',
  /** No handler is registered. */
  'no_handler',
  /** A TCP frame header announced more than maxFrameBytes. */
  'oversize_frame',
  /** A TCP connection ended in the middle of a frame. */
  'truncated_frame',
  /** A TCP connection did not deliver its frame within frameTimeoutMs (slow or silent peer). */
  'read_timeout',
  /** A TCP connection refused because maxInboundConnections are open. */
  'too_many_connections',
  /** A TCP connection closed because all inbound connections together buffered maxInboundBufferedBytes. */
  'inbound_budget',
] as const;
export type InboundDropReason = (typeof INBOUND_DROP_REASONS)[number];

/** Why `send` did not put a message on the wire, at once or later (asynchronous socket failures). */
export const SEND_DROP_REASONS = [
  /** The transport is closed. */
  'closed',
  /** `to` is not host:port. */
  'invalid_to',
  /** `to` is this node. */
  'self',
  /** MessagePack could not encode the message (a cycle, a function, ...). */
  'encode_failed',
  /** The packet exceeds maxFrameBytes. */
  'too_large',
  /** The fault hook cuts this peer off. */
  'fault',
  /** The peer's TCP stream already holds maxPendingBytesPerPeer, or all streams hold maxPendingBytes. */
  'backlog',
  /** maxOutboundConnections streams are open and none is idle. */
  'too_many_connections',
  /** The UDP send failed (no route, name not resolved, ...). */
  'udp_error',
  /** The TCP connection failed, timed out or was reset before the frame was written. */
  'tcp_error',
] as const;
export type SendDropReason = (typeof SEND_DROP_REASONS)[number];

export interface GossipNetStats {
  readonly udpPacketsIn: number;
  readonly udpPacketsOut: number;
  readonly udpBytesIn: number;
  readonly udpBytesOut: number;
  /** Complete frames received / written (the 4-byte header counted in the bytes). */
  readonly tcpFramesIn: number;
  readonly tcpFramesOut: number;
  readonly tcpBytesIn: number;
  readonly tcpBytesOut: number;
  /** TCP connections accepted / opened, in total. */
  readonly tcpAccepted: number;
  readonly tcpConnected: number;
  /** TCP connections open now, inbound and outbound. */
  readonly tcpOpenInbound: number;
  readonly tcpOpenOutbound: number;
  /** Bytes of incomplete inbound frames held now, all connections together. */
  readonly inboundBufferedBytes: number;
  /** Bytes queued or in socket buffers, not yet written, all outbound streams together. */
  readonly outboundPendingBytes: number;
  /** Messages handed to the handlers / accepted by send for the wire. */
  readonly messagesIn: number;
  readonly messagesOut: number;
  /** Handler calls that threw (caught; the transport keeps serving). */
  readonly handlerErrors: number;
  readonly drops: Readonly<Record<InboundDropReason, number>>;
  readonly sendDrops: Readonly<Record<SendDropReason, number>>;
}

export type MutableCounters = {
  -readonly [K in Exclude<keyof GossipNetStats, 'drops' | 'sendDrops' | 'tcpOpenInbound' | 'tcpOpenOutbound' | 'inboundBufferedBytes' | 'outboundPendingBytes'>]: number;
};

export function zeroCounters(): MutableCounters {
  return {
    udpPacketsIn: 0,
    udpPacketsOut: 0,
    udpBytesIn: 0,
    udpBytesOut: 0,
    tcpFramesIn: 0,
    tcpFramesOut: 0,
    tcpBytesIn: 0,
    tcpBytesOut: 0,
    tcpAccepted: 0,
    tcpConnected: 0,
    messagesIn: 0,
    messagesOut: 0,
    handlerErrors: 0,
  };
}

export function zeroReasons<R extends string>(reasons: readonly R[]): Record<R, number> {
  const counts = {} as Record<R, number>;
  for (const reason of reasons) counts[reason] = 0;
  return counts;
}

/** One drop, for the agent's (rate-limited) log. `peer` is the claimed sender or the destination, when known. */
export type DropEvent =
  | { readonly direction: 'in'; readonly reason: InboundDropReason; readonly via: 'udp' | 'tcp'; readonly peer?: string; readonly problem?: string }
  | { readonly direction: 'out'; readonly reason: SendDropReason; readonly peer: string; readonly problem?: string };
