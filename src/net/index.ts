// Public surface of synod/net: the TCP peer transport that carries protocol-core messages
// between cluster members (framing, authentication, optional mutual TLS, node identity, queues,
// reconnection, fault hook).

export { Transport, type SendResult } from './transport.js';
export {
  DEFAULT_MAX_FRAME_BYTES,
  MAX_HANDSHAKE_TIMEOUT_MS,
  MIN_SECRET_BYTES,
  type IncarnationCheck,
  type IncarnationVerdict,
  type MessageHandler,
  type PeerAddress,
  type RefusalHandler,
  type TimerHandle,
  type Timers,
  type TransportOptions,
} from './options.js';
export { NODE_ID_URI_PREFIX, type TlsMaterial, type TlsOptions } from './tls.js';
export { NetError, isNetError, type NetErrorCode, type NetErrorDetail } from './errors.js';
export { FaultController, type FaultDecision, type FaultDirection, type FaultState } from './faults.js';
export { COUNTER_NAMES, type CounterName, type PeerMetrics, type SendRefusal, type TransportMetrics } from './metrics.js';
export { DEFAULT_LOG_RATE_LIMIT, type LogRateLimit, type NetLogEvent, type NetLogLevel, type NetLogRecord, type NetLogger } from './log.js';
export { DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
export { FRAME_HEADER_BYTES, FrameDecoder, encodeFrame } from './frame.js';
export { PROTOCOL_VERSION, decodeWireFrame, encodeWireFrame, type AuthenticatedRefuseReason, type RefuseReason, type WireFrame } from './codec.js';
