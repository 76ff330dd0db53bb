// The node's Prometheus metrics (prom-client): Raft state as gauges, everything that only grows
// (transport frames, log writes, refused requests) as counters with the _total suffix, and latency
// as histograms (HTTP requests by route, log commits), so rates and quantiles can be computed.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { TransportMetrics } from '../net/index.js';
import type { NodeStatus } from '../raft/index.js';
import type { WalStats } from '../storage/index.js';

export interface NodeMetricsSources {
  readonly id: string;
  transport(): TransportMetrics;
  /** The store's write-ahead log counters, when it has one. */
  wal(): Readonly<WalStats> | undefined;
  /** 1 while the node serves, 0 after its storage failed. */
  healthy(): boolean;
}

/** Seconds; from a tenth of a millisecond (a local read) to ten seconds (a stalled request). */
const LATENCY_BUCKETS_S = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface NodeMetrics {
  readonly registry: Registry;
  /** One served HTTP request: its route pattern, method, status and how long it took. */
  countRequest(route: string, method: string, status: number, seconds: number): void;
  /** One group commit of the log, and how long it took to become durable. */
  observeCommit(seconds: number): void;
  /** A request or connection refused before routing: host, origin, connection limits, authentication. */
  countRefusal(reason: string): void;
}

export function createNodeMetrics(src: NodeMetricsSources): NodeMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ node: src.id });
  collectDefaultMetrics({ register: registry });
  const gauge = (name: string, help: string, read: () => number): void => {
    new Gauge({ name, help, registers: [registry], collect() { this.set(read()); } });
  };
  gauge('synod_up', '1 while the node serves; 0 after its storage failed (it stops serving and exits)', () => (src.healthy() ? 1 : 0));

  // counters read from running totals elsewhere: a collect() adds what grew since the last scrape
  const counter = (name: string, help: string, read: () => number): void => {
    let last = 0;
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        const now = read();
        if (now > last) this.inc(now - last);
        last = Math.max(last, now);
      },
    });
  };
  counter('synod_net_frames_received_total', 'frames received from peers (handshakes and pings included)', () => src.transport().framesIn);
  counter('synod_net_frames_sent_total', 'frames sent to peers', () => src.transport().framesOut);
  counter('synod_net_bytes_received_total', 'bytes received from peers', () => src.transport().bytesIn);
  counter('synod_net_bytes_sent_total', 'bytes sent to peers', () => src.transport().bytesOut);
  counter('synod_net_decode_errors_total', 'malformed peer frames (each closed its connection)', () => src.transport().decodeErrors);
  counter('synod_net_auth_failures_total', 'refused peer handshakes', () => src.transport().authFailures);
  counter('synod_net_handshake_timeouts_total', 'peer connections that did not authenticate in time', () => src.transport().handshakeTimeouts);
  counter('synod_net_evicted_handshakes_total', 'unauthenticated peer connections evicted to make room for newer ones', () => src.transport().evictedHandshakes);
  counter('synod_net_tls_failures_total', 'peer connections refused for their TLS certificate', () => src.transport().tlsFailures);
  counter('synod_net_incarnation_refusals_total', 'peers refused because their data directory is not the one this node knew', () => src.transport().incarnationRefusals);
  counter('synod_net_refused_by_peer_total', 'times a peer refused this node (identity changed, not a member)', () => src.transport().refusedByPeer);
  gauge('synod_net_pending_handshakes', 'peer connections not authenticated yet', () => src.transport().pendingHandshakes);
  counter('synod_net_queue_drops_total', 'queued peer messages dropped (queue full, peer gone)', () => src.transport().queueDrops);
  counter('synod_net_reconnects_total', 'outbound peer connections re-established', () => src.transport().reconnects);
  counter('synod_wal_appends_total', 'persist calls accepted by the write-ahead log', () => src.wal()?.appends ?? 0);
  counter('synod_wal_batches_total', 'group commits (one durable write each)', () => src.wal()?.batches ?? 0);
  counter('synod_wal_inline_writes_total', 'log writes made on the node\'s own thread, not in the I/O thread pool', () => src.wal()?.inlineWrites ?? 0);
  counter('synod_wal_file_syncs_total', 'fdatasync calls (snapshots, new segments; commits write through O_DSYNC)', () => src.wal()?.fileSyncs ?? 0);
  counter('synod_wal_bytes_written_total', 'bytes written to the log and snapshots', () => src.wal()?.bytesWritten ?? 0);
  counter('synod_wal_checkpoints_total', 'snapshots written', () => src.wal()?.checkpoints ?? 0);

  const httpRequests = new Counter({ name: 'synod_http_requests_total', help: 'HTTP requests served', labelNames: ['route', 'method', 'status'], registers: [registry] });
  const httpSeconds = new Histogram({ name: 'synod_http_request_duration_seconds', help: 'time from a request being read to its answer', labelNames: ['route', 'method'], buckets: LATENCY_BUCKETS_S, registers: [registry] });
  const commitSeconds = new Histogram({ name: 'synod_wal_commit_duration_seconds', help: 'time for a batch of log writes to become durable', buckets: LATENCY_BUCKETS_S, registers: [registry] });
  const refusals = new Counter({ name: 'synod_http_refused_total', help: 'requests and connections refused before routing', labelNames: ['reason'], registers: [registry] });

  // one bound child per label set: labelling anew hashes the labels on every request
  const counted = new Map<string, { inc(): void }>();
  const timed = new Map<string, { observe(v: number): void }>();
  return {
    registry,
    countRequest: (route, method, status, seconds) => {
      const key = `${route} ${method} ${status}`;
      let child = counted.get(key);
      if (child === undefined) {
        child = httpRequests.labels(route, method, String(status));
        counted.set(key, child);
      }
      child.inc();
      const timeKey = `${route} ${method}`;
      let timer = timed.get(timeKey);
      if (timer === undefined) {
        timer = httpSeconds.labels(route, method);
        timed.set(timeKey, timer);
      }
      timer.observe(seconds);
    },
    observeCommit: (seconds) => commitSeconds.observe(seconds),
    countRefusal: (reason) => refusals.labels(reason).inc(),
  };
}

/** The Raft core's gauges (the KV service registers them). */
export function registerRaftGauges(registry: Registry, status: () => NodeStatus): void {
  const gauge = (name: string, help: string, read: () => number): void => {
    new Gauge({ name, help, registers: [registry], collect() { this.set(read()); } });
  };
  gauge('synod_raft_term', 'current Raft term', () => status().term);
  gauge('synod_raft_is_leader', '1 when this node leads', () => (status().role === 'leader' ? 1 : 0));
  gauge('synod_raft_commit_index', 'highest committed log index', () => status().commit);
  gauge('synod_raft_applied_index', 'highest applied log index', () => status().applied);
  gauge('synod_raft_last_index', 'last log index', () => status().lastIndex);
  gauge('synod_raft_snapshot_index', 'log index of the latest snapshot', () => status().snapshotIndex);
  gauge('synod_raft_voters', 'voting members in the configuration', () => status().voters.length);
}
