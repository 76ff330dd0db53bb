// Structured logging through an injected callback: the transport never prints. Each record has a
// stable `event` name and flat fields, so a pino adapter is one line:
// `logger: ({ level, msg, ...fields }) => pino[level](fields, msg)`.
import type { NodeId } from '../sim/core.js';
import type { NetErrorCode } from './errors.js';

export type NetLogLevel = 'debug' | 'info' | 'warn' | 'error';

export type NetLogEvent =
  | 'listening'
  | 'connected'
  | 'disconnected'
  | 'connect_failed'
  | 'inbound_accepted'
  | 'inbound_closed'
  | 'inbound_replaced'
  | 'auth_failed'
  | 'handshake_refused'
  | 'handshake_timeout'
  | 'peer_timeout'
  | 'frame_error'
  | 'queue_overflow'
  | 'queue_recovered'
  | 'handler_error'
  | 'too_many_handshakes'
  | 'peer_added'
  | 'peer_removed'
  | 'faults_changed'
  | 'closed';

export interface NetLogRecord {
  readonly level: NetLogLevel;
  readonly event: NetLogEvent;
  readonly msg: string;
  /** This node. */
  readonly node: NodeId;
  /** The other node, once known (after its hello, or for outbound links). */
  readonly peer?: NodeId;
  /** The socket's remote address as "host:port", where there is a socket. */
  readonly remote?: string;
  readonly code?: NetErrorCode;
  /** Extra numbers and words that depend on the event (delays, counts, reasons). */
  readonly detail?: Readonly<Record<string, string | number | boolean>>;
}

export type NetLogger = (record: NetLogRecord) => void;

export const silentLogger: NetLogger = () => {};

/** Binds the node id and shields the transport from a logger that throws. */
export function boundLogger(node: NodeId, logger: NetLogger): (record: Omit<NetLogRecord, 'node'>) => void {
  return (record) => {
    try {
      logger({ node, ...record });
    } catch {
      // A broken logger must not take the transport down; there is nowhere left to report it.
    }
  };
}

export type Log = ReturnType<typeof boundLogger>;
