// Structured logging through an injected callback: the transport never prints. Each record has a
// stable `event` name and flat fields, so a pino adapter is one line:
// `logger: ({ level, msg, ...fields }) => pino[level](fields, msg)`. Events a stranger can trigger
// at will pass through a per-event rate limit, so a flood cannot grow the log without bound.
import type { NodeId } from '../core/index.js';
import type { NetErrorCode } from './errors.js';
import type { TimerHandle, Timers } from './options.js';

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
  | 'identity_refused'
  | 'refused_by_peer'
  | 'handshake_timeout'
  | 'peer_timeout'
  | 'frame_error'
  | 'tls_failed'
  | 'tls_reloaded'
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

/**
 * Events anyone who can reach the peer port (or a misbehaving member) can cause as often as they
 * like: failed handshakes, timeouts, evictions, bad frames. Each is limited separately.
 */
export const RATE_LIMITED_EVENTS: ReadonlySet<NetLogEvent> = new Set<NetLogEvent>([
  'auth_failed',
  'handshake_refused',
  'identity_refused',
  'refused_by_peer',
  'handshake_timeout',
  'too_many_handshakes',
  'frame_error',
  'tls_failed',
]);

export interface LogRateLimit {
  /** Length of one window. */
  readonly intervalMs: number;
  /** Records of one event logged per window; the rest are counted and summarised in one line. */
  readonly burst: number;
}

export const DEFAULT_LOG_RATE_LIMIT: LogRateLimit = { intervalMs: 10_000, burst: 5 };

interface Window {
  readonly startMs: number;
  emitted: number;
  suppressed: number;
  level: NetLogLevel;
  timer: TimerHandle | null;
}

const LEVEL_RANK: Record<NetLogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/**
 * Passes every record through, except that each event in RATE_LIMITED_EVENTS logs at most
 * `burst` records per window; when some were held back, one summary record with their count
 * (`detail.suppressed`) closes the window. So a sustained flood costs at most `burst + 1` lines
 * per event per interval. Metrics are counted elsewhere and still see every event.
 */
export class RateLimitedLog {
  private readonly windows = new Map<NetLogEvent, Window>();
  /** After flush (the transport closed) no timer is started: stragglers beyond the burst are dropped. */
  private closed = false;

  constructor(
    private readonly sink: Log,
    private readonly limit: LogRateLimit,
    private readonly timers: Timers,
    private readonly now: () => number,
  ) {}

  readonly log: Log = (record) => {
    if (!RATE_LIMITED_EVENTS.has(record.event)) return this.sink(record);
    const nowMs = this.now();
    let window = this.windows.get(record.event);
    // A window with suppressed records is closed by its timer (which writes the summary); one
    // without them simply expires.
    if (window === undefined || (window.timer === null && nowMs - window.startMs >= this.limit.intervalMs)) {
      window = { startMs: nowMs, emitted: 0, suppressed: 0, level: record.level, timer: null };
      this.windows.set(record.event, window);
    }
    if (window.emitted < this.limit.burst) {
      window.emitted += 1;
      return this.sink(record);
    }
    window.suppressed += 1;
    if (LEVEL_RANK[record.level] > LEVEL_RANK[window.level]) window.level = record.level;
    if (window.timer === null && !this.closed) {
      const event = record.event;
      const remainingMs = Math.max(0, window.startMs + this.limit.intervalMs - nowMs);
      window.timer = this.timers.setTimeout(() => this.summarise(event), remainingMs);
    }
  };

  /** Writes the summaries still pending and stops their timers; starts none after (at close). */
  flush(): void {
    this.closed = true;
    for (const [event, window] of [...this.windows]) {
      if (window.timer !== null) {
        this.timers.clearTimeout(window.timer);
        this.summarise(event);
      }
    }
  }

  private summarise(event: NetLogEvent): void {
    const window = this.windows.get(event);
    if (window === undefined) return;
    this.windows.delete(event);
    window.timer = null;
    if (window.suppressed === 0) return;
    const windowMs = Math.round(this.now() - window.startMs);
    this.sink({
      level: window.level,
      event,
      msg: `${window.suppressed} more ${event} events in the last ${Math.round(windowMs / 1000)} s were not logged`,
      detail: { suppressed: window.suppressed, windowMs },
    });
  }
}
