// Public surface of synod/net: the TCP peer transport that carries protocol-core messages
// between cluster members (framing, authentication, queues, reconnection, fault hook).

export { Transport, type SendResult } from './transport.js';
export {
  DEFAULT_MAX_FRAME_BYTES,
  MIN_SECRET_BYTES,
  type MessageHandler,
  type PeerAddress,
  type TimerHandle,
  type Timers,
  type TransportOptions,
} from './options.js';
export { NetError, isNetError, type NetErrorCode } from './errors.js';
export { FaultController, type FaultDecision, type FaultDirection, type FaultState } from './faults.js';
export { COUNTER_NAMES, type CounterName, type PeerMetrics, type SendRefusal, type TransportMetrics } from './metrics.js';
export type { NetLogEvent, NetLogLevel, NetLogRecord, NetLogger } from './log.js';
export { DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
export { FRAME_HEADER_BYTES, FrameDecoder, encodeFrame } from './frame.js';
export { PROTOCOL_VERSION, decodeWireFrame, encodeWireFrame, type WireFrame } from './codec.js';
