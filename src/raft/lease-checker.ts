// The simulator's lease checker for a Raft KV with leases. It sees what no node can: every
// node's clock, every Lessor's promises (grants and keep-alives it acknowledged), the first apply
// of every revoke, and which faults are in effect. It reports a lease removed before its last
// promise's TTL (less the documented bound) had run out on the promising leader's clock, and a
// lease the leader kept past its expiry (plus the documented bound) while the cluster was healthy.
import type { NodeId } from '../core/index.js';
import type { LeasedKvStore, LeaseEvent } from '../kv/leased-store.js';
import type { TraceEvent } from '../sim/trace.js';
import { commandOf } from './commands.js';
import type { RaftCluster } from './cluster.js';
import type { LogEntry, RaftOptions } from './types.js';

export type LeaseViolationKind = 'lease-early-removal' | 'lease-late-removal' | 'lease-liveness';

export interface LeaseViolation {
  readonly kind: LeaseViolationKind;
  readonly atMs: number;
  readonly message: string;
}

/** The timing the bounds are computed from. */
export type LeaseTiming = Pick<RaftOptions, 'tickMs' | 'electionTimeoutMinTicks' | 'electionTimeoutMaxTicks' | 'leaderDutyTicks'>;

/**
 * How much earlier than its TTL a lease may be removed, on the clock of the leader that
 * acknowledged its last keep-alive (docs/kv.md, "The guarantee"): that leader answered within
 * W = the minimum election timeout of a round a quorum acknowledged; any later leader starts its
 * clock after that round and adds extendMs = the maximum election timeout; clock rates differ from
 * real time by at most `drift`. 0 whenever W + 2·drift·(ttl + extendMs) <= extendMs.
 */
export function earlyRemovalBoundMs(timing: LeaseTiming, ttlMs: number, drift: number): number {
  const windowMs = timing.electionTimeoutMinTicks * timing.tickMs;
  const extendMs = timing.electionTimeoutMaxTicks * timing.tickMs;
  return Math.max(0, windowMs - extendMs + ((ttlMs + extendMs) * 2 * drift) / (1 + drift));
}

/**
 * How late past its expiry on the leader's clock a lease may still be there, in a cluster without
 * faults: the leader looks every leaderDutyTicks ticks, then its revoke commits; a leadership
 * transfer holds proposals for up to one maximum election timeout, and a commit takes less than
 * another in the simulator's healthy network.
 */
export function lateRemovalBoundMs(timing: LeaseTiming): number {
  return (timing.leaderDutyTicks + 2 * timing.electionTimeoutMaxTicks) * timing.tickMs;
}

interface Promise {
  readonly kind: 'grant' | 'keep-alive';
  /** On the promising node's clock. */
  readonly atMs: number;
  readonly ttlMs: number;
}

/** Findings kept at most (the rest are counted). */
const MAX_VIOLATIONS = 100;
/** How often the healthy cluster's leader is checked for leases past their expiry (virtual ms). */
const LATE_CHECK_EVERY_MS = 20;

export class LeaseChecker {
  readonly violations: LeaseViolation[] = [];
  violationCount = 0;
  /** Revokes of expired leases that applied, and removals checked against promises. */
  expiries = 0;
  checkedPromises = 0;
  /** Every node's current store (one per node life). */
  private readonly stores = new Map<NodeId, LeasedKvStore>();
  /** Per lease, the latest promise of each node. */
  private readonly promises = new Map<number, Map<NodeId, Promise>>();
  private readonly removed = new Set<number>();
  private readonly leaderOfTerm = new Map<number, NodeId>();
  private readonly seenRevokes = new Set<number>();
  private readonly reportedLate = new Set<number>();
  // faults in effect, from the simulation's events
  private cut = false;
  private linkFault = false;
  private readonly slow = new Set<NodeId>();
  private readonly down = new Set<NodeId>();
  private pausedUntilMs = 0;
  private disturbedAtMs = 0;
  private cluster: RaftCluster | undefined;
  readonly lateBoundMs: number;

  constructor(
    private readonly timing: LeaseTiming,
    /** The largest clock rate error of any node (the nemesis's drift bound). */
    private readonly drift: number,
  ) {
    this.lateBoundMs = lateRemovalBoundMs(timing);
  }

  /** Watches `cluster` from now on (its stores must be registered with `store`). */
  attach(cluster: RaftCluster): void {
    this.cluster = cluster;
    cluster.sim.subscribe((e) => this.onSimEvent(e));
    const loop = (): void => {
      this.checkLate();
      cluster.sim.after(LATE_CHECK_EVERY_MS, loop);
    };
    cluster.sim.after(LATE_CHECK_EVERY_MS, loop);
  }

  /** A node life's store (from the cluster's createStore). */
  store(node: NodeId, store: LeasedKvStore): void {
    this.stores.set(node, store);
  }

  private report(kind: LeaseViolationKind, message: string): void {
    this.violationCount++;
    if (this.violations.length < MAX_VIOLATIONS) this.violations.push({ kind, atMs: this.cluster?.nowMs ?? 0, message });
  }

  // ---------------------------------------------------------------- what the nodes tell

  leaseEvent(node: NodeId, event: LeaseEvent): void {
    if (event.type !== 'granted' && event.type !== 'keptAlive') return;
    let byNode = this.promises.get(event.id);
    if (byNode === undefined) {
      byNode = new Map();
      this.promises.set(event.id, byNode);
    }
    byNode.set(node, { kind: event.type === 'granted' ? 'grant' : 'keep-alive', atMs: event.nowMs, ttlMs: event.ttlMs });
  }

  becameLeader(node: NodeId, term: number): void {
    this.leaderOfTerm.set(term, node);
  }

  /** An entry applied somewhere: the first apply of a revoke is when its lease's keys are gone for everyone. */
  applied(entry: LogEntry): void {
    if (entry.kind !== 'command' || this.seenRevokes.has(entry.index)) return;
    const { clientId, op } = commandOf(entry);
    if (typeof op !== 'object' || op === null || Array.isArray(op) || op['op'] !== 'leaseRevoke' || typeof op['id'] !== 'number') return;
    this.seenRevokes.add(entry.index);
    const id = op['id'];
    if (this.removed.has(id)) return;
    this.removed.add(id);
    const promises = this.promises.get(id);
    this.promises.delete(id);
    // a client's own revoke may come at any time; only expiry is bound by the promises
    if (clientId !== null || promises === undefined) return;
    this.expiries++;
    const decider = this.leaderOfTerm.get(entry.term);
    for (const [node, promise] of promises) {
      // a grant's TTL runs from its apply on the leader that applied it; across a change of
      // leader only keep-alives are promises (docs/kv.md: keep a new lease alive at once)
      if (promise.kind === 'grant' && node !== decider) continue;
      this.checkedPromises++;
      const elapsedMs = (this.cluster as RaftCluster).sim.localNowMs(node) - promise.atMs;
      const boundMs = promise.kind === 'grant' ? 0 : earlyRemovalBoundMs(this.timing, promise.ttlMs, this.drift);
      if (elapsedMs < promise.ttlMs - boundMs) {
        this.report('lease-early-removal', `lease ${id} (TTL ${promise.ttlMs} ms) was removed (revoke at index ${entry.index}, term ${entry.term}, leader ${decider ?? '?'}) ${elapsedMs} ms after node ${node} acknowledged its ${promise.kind} by its clock; the bound allows ${promise.ttlMs - boundMs} ms at the least`);
      }
    }
  }

  // ---------------------------------------------------------------- what the simulation tells

  private onSimEvent(e: TraceEvent): void {
    switch (e.ev) {
      case 'partition':
        this.cut = true;
        break;
      case 'heal':
        this.cut = false;
        break;
      case 'link':
        this.linkFault = this.anyLinkFault();
        break;
      case 'pause':
        this.pausedUntilMs = Math.max(this.pausedUntilMs, e.t + e.ms);
        break;
      case 'slow':
        if (e.processingMs > 0) this.slow.add(e.node);
        else this.slow.delete(e.node);
        break;
      case 'crash':
        this.down.add(e.node);
        break;
      case 'restart':
        this.down.delete(e.node);
        break;
      default:
        return;
    }
    this.disturbedAtMs = Math.max(this.disturbedAtMs, e.t, this.pausedUntilMs);
  }

  private anyLinkFault(): boolean {
    const sim = (this.cluster as RaftCluster).sim;
    for (const a of sim.nodeIds) for (const b of sim.nodeIds) {
      const l = sim.link(a, b);
      if (l.lossRate > 0 || l.duplicateRate > 0 || l.reorderRate > 0 || l.extraDelayMs > 0) return true;
    }
    return false;
  }

  /** How long no fault has been in effect (0 while one is). */
  quietForMs(): number {
    const now = (this.cluster as RaftCluster).nowMs;
    if (this.cut || this.linkFault || this.slow.size > 0 || this.down.size > 0 || now < this.pausedUntilMs) return 0;
    return now - this.disturbedAtMs;
  }

  /** In a healthy cluster, the leader holds no lease past its expiry by its clock plus the bound. */
  checkLate(): void {
    const cluster = this.cluster as RaftCluster;
    const quietMs = this.quietForMs() * (1 - this.drift);
    if (quietMs <= this.lateBoundMs) return;
    const leader = cluster.leader();
    const store = leader === undefined ? undefined : this.stores.get(leader);
    if (leader === undefined || store === undefined || !store.lessor.isPrimary) return;
    const nowMs = cluster.sim.localNowMs(leader);
    for (const { id, ttlMs } of store.leaseTable()) {
      const expiresAtMs = store.lessor.expiresAtMs(id);
      if (expiresAtMs === null || this.reportedLate.has(id)) continue;
      const overdueMs = nowMs - expiresAtMs;
      if (overdueMs > this.lateBoundMs) {
        this.reportedLate.add(id);
        this.report('lease-late-removal', `lease ${id} (TTL ${ttlMs} ms) expired ${overdueMs} ms ago by leader ${leader}'s clock and is still there, after ${Math.round(quietMs)} ms without faults (bound ${this.lateBoundMs} ms)`);
      }
    }
  }

  /** Leases in the current leader's state; undefined without a leader. */
  leasesLeft(): number | undefined {
    const leader = (this.cluster as RaftCluster).leader();
    return leader === undefined ? undefined : this.stores.get(leader)?.leaseTable().length;
  }

  /** At the end of a run whose clients all stopped long ago: no lease (hence no key of one) is left. */
  checkAllExpired(): void {
    const cluster = this.cluster as RaftCluster;
    const leader = cluster.leader();
    const store = leader === undefined ? undefined : this.stores.get(leader);
    if (store === undefined) return this.report('lease-liveness', 'no leader to ask for the leases left at the end');
    const left = store.leaseTable();
    if (left.length > 0) this.report('lease-liveness', `${left.length} lease(s) left at the end, long after their holders stopped: ${left.slice(0, 5).map((l) => l.id).join(', ')}`);
  }
}
