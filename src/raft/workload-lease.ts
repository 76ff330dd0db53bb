// Lease-holding KV clients for the simulator: each grants a lease, puts keys with it, then keeps
// it alive for a while (through the leader's leaderRead, pausing now and then as a holder stalled
// by a garbage collector would), revokes it, or abandons it to expire; then starts again.
import type { JsonValue } from '../core/index.js';
import type { KvRequest, KvResult } from '../kv/store.js';
import { SessionClient, type ClientProtocol } from '../sim/client.js';
import { RAFT_KV_CLIENT, historyCallOf, historyOutputOf, type RaftCluster } from './cluster.js';
import type { RaftMessage, RaftPersistOp, RaftRequest, RaftResponse } from './types.js';

/** What a lease client sends: KV requests, and keep-alives (a leader-local read). */
export type LeaseClientOp = KvRequest | { readonly op: 'leaseKeepAlive'; readonly id: number };

export type LeaseClient = SessionClient<RaftMessage, RaftRequest, RaftResponse, RaftPersistOp, LeaseClientOp, KvResult>;

/** Keys of lease clients start with it (so that they are told apart from the plain workload's). */
export const LEASE_KEY_PREFIX = 'L/';

/** How a lease client talks to Raft: keep-alives as leader reads, everything else as RAFT_KV_CLIENT. */
export const LEASE_KV_CLIENT: ClientProtocol<LeaseClientOp, RaftRequest, RaftResponse, KvResult> = {
  isRead: (op) => op.op === 'leaseKeepAlive' || RAFT_KV_CLIENT.isRead(op),
  request: (op, session) => (op.op === 'leaseKeepAlive' ? { type: 'leaderRead', op: { op: op.op, id: op.id } } : RAFT_KV_CLIENT.request(op, session)),
  interpret: (res) => RAFT_KV_CLIENT.interpret(res),
  historyCall: (op) => (op.op === 'leaseKeepAlive' ? { f: op.op, input: { id: op.id } } : historyCallOf(op)),
  historyOutput: (op, result) => {
    if (op.op !== 'leaseKeepAlive') return historyOutputOf(op, result);
    return 'error' in result ? { outcome: 'fail', output: result.error } : { outcome: 'ok', output: 'remainingMs' in result ? (result.remainingMs as JsonValue) : null };
  },
};

export interface LeaseWorkloadOptions {
  readonly clients: number;
  /** TTLs are drawn from [minTtlMs, maxTtlMs]. */
  readonly minTtlMs: number;
  readonly maxTtlMs: number;
  /** No operation starts at or after this virtual time. */
  readonly untilMs: number;
  /** Probability that a holder pauses before a keep-alive, for half to twice the TTL. */
  readonly pauseChance: number;
}

export const DEFAULT_LEASE_WORKLOAD: Omit<LeaseWorkloadOptions, 'untilMs'> = { clients: 4, minTtlMs: 450, maxTtlMs: 1200, pauseChance: 0.1 };

/** What the lease clients did, for the run's summary. */
export interface LeaseWorkloadStats {
  granted: number;
  keptAlive: number;
  revoked: number;
  abandoned: number;
  /** Keep-alives refused because the lease had expired or was gone (after a pause, or a slow cluster). */
  lost: number;
  pauses: number;
}

/** Starts the lease clients (processes l1..lN); they stop at `untilMs`. */
export function startLeaseWorkload(cluster: RaftCluster, options: LeaseWorkloadOptions): { readonly clients: readonly LeaseClient[]; readonly stats: LeaseWorkloadStats } {
  const rng = cluster.sim.random.stream('workload:lease');
  const stats: LeaseWorkloadStats = { granted: 0, keptAlive: 0, revoked: 0, abandoned: 0, lost: 0, pauses: 0 };
  const clients: LeaseClient[] = [];
  let nextKey = 0;
  const later = (ms: number, fn: () => void): void => cluster.sim.after(ms, () => {
    if (cluster.nowMs < options.untilMs) fn();
  });
  const run = (client: LeaseClient, op: LeaseClientOp, then: (result: KvResult | undefined) => void): void => {
    // an answer with an error (lease-not-found, ...) is a result too; a refusal or a timeout is not
    client.submit(op, { onDone: (h) => then(h.result) });
  };
  const startLease = (client: LeaseClient): void => {
    const ttlMs = rng.int(options.minTtlMs, options.maxTtlMs);
    run(client, { op: 'leaseGrant', ttlMs }, (granted) => {
      if (granted === undefined || 'error' in granted || !('id' in granted)) return later(rng.int(0, 50), () => startLease(client));
      stats.granted++;
      const id = granted.id;
      const keys = rng.int(1, 2);
      const putKeys = (n: number): void => {
        if (n === keys) return decide(client, id, ttlMs);
        run(client, { op: 'put', key: `${LEASE_KEY_PREFIX}${client.process}/${nextKey++}`, value: n, lease: id }, () => putKeys(n + 1));
      };
      putKeys(0);
    });
  };
  const decide = (client: LeaseClient, id: number, ttlMs: number): void => {
    const roll = rng.float();
    if (roll < 0.3) {
      stats.abandoned++;
      return later(rng.int(0, 100), () => startLease(client));
    }
    // hold it for one to four TTLs, then revoke it (a quarter of the time) or let it go
    const holdUntilMs = cluster.nowMs + rng.int(ttlMs, 4 * ttlMs);
    const revokeAtEnd = rng.chance(0.25);
    const keepAlive = (): void => {
      if (cluster.nowMs >= holdUntilMs) {
        if (!revokeAtEnd) {
          stats.abandoned++;
          return later(0, () => startLease(client));
        }
        return run(client, { op: 'leaseRevoke', id }, () => {
          stats.revoked++;
          later(rng.int(0, 100), () => startLease(client));
        });
      }
      run(client, { op: 'leaseKeepAlive', id }, (result) => {
        if (result !== undefined && 'error' in result) {
          stats.lost++;
          return later(rng.int(0, 100), () => startLease(client));
        }
        if (result !== undefined) stats.keptAlive++;
        // etcd's clients renew at a third of the TTL; a paused holder misses its turns
        const pause = rng.chance(options.pauseChance);
        if (pause) stats.pauses++;
        later(pause ? rng.int(Math.floor(ttlMs / 2), 2 * ttlMs) : rng.int(Math.floor(ttlMs / 4), Math.floor(ttlMs / 3)), keepAlive);
      });
    };
    keepAlive();
  };
  for (let c = 1; c <= options.clients; c++) {
    const client: LeaseClient = new SessionClient(cluster, LEASE_KV_CLIENT, `l${c}`, (index, clientId, seq) => cluster.monitor.acknowledged(index as number, clientId, seq));
    clients.push(client);
    later(rng.int(0, 50), () => startLease(client));
  }
  return { clients, stats };
}
