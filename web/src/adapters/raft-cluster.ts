// The Raft + KV cluster the visualizer runs: the project's RaftCluster, built from the
// visualizer's wrapped spec, plus two views the page draws (the membership as the most
// authoritative node sees it, and the log a crashed node would restart with).
import { RaftCluster, type RaftCore, type RaftMessage, type RaftOptions, type RaftPersistOp, type RaftRequest, type RaftResponse, type LogEntry } from '../../../src/raft/index.js';
import type { LinkConfig, NodeId, ProtocolCore } from '../../../src/sim/index.js';
import { foldRaftOps } from '../../../src/raft/durable-state.js';
import { LeasedKvStore } from '../../../src/kv/index.js';
import type { LeaseCountdown } from './raft-kv.js';
import type { BuildContext } from './types.js';

export interface VizClusterOptions {
  readonly raft: Partial<Omit<RaftOptions, 'observer'>>;
  readonly link: Partial<LinkConfig>;
  readonly fsyncMs: number;
}

export interface DurableLog {
  readonly entries: readonly LogEntry[];
  readonly snapshotIndex: number;
  readonly term: number;
  readonly vote: NodeId | null;
  readonly commit: number;
}

type RaftProtocolCore = ProtocolCore<RaftMessage, RaftRequest, RaftResponse, RaftPersistOp>;

export class VizRaftCluster extends RaftCluster {
  private readonly durableCache = new Map<NodeId, { length: number; last: unknown; value: DurableLog }>();
  /** Each node's store of its current life (a restart makes a new one), for its Lessor. */
  private readonly stores: ReadonlyMap<NodeId, LeasedKvStore>;

  constructor(ctx: BuildContext, options: VizClusterOptions) {
    // the same store RaftCluster makes by default, kept per node so the page can read its Lessor
    const stores = new Map<NodeId, LeasedKvStore>();
    super({
      createStore: (env) => {
        const store = new LeasedKvStore({ clock: () => env.now() });
        stores.set(env.id, store);
        return store;
      },
      seed: ctx.seed,
      nodes: ctx.nodes,
      raft: options.raft,
      link: options.link,
      fsyncMs: options.fsyncMs,
      clientLatencyMs: 2,
      trace: false,
      logCheckEveryMs: 0, // the page runs its own monitors after every step
      wrapSpec: (spec) => ctx.wrap(spec),
      unwrapCore: (core) => ctx.unwrap(core as RaftProtocolCore | undefined) as unknown as RaftCore | undefined,
    });
    this.stores = stores;
  }

  /** The configuration as the leader (or else the up node of the highest term) sees it. */
  membership(): { voters: readonly NodeId[]; learners: readonly NodeId[] } | undefined {
    const leader = this.leader();
    let best = leader === undefined ? undefined : this.core(leader);
    if (best === undefined) {
      for (const id of this.nodeIds) {
        const c = this.core(id);
        if (c !== undefined && (best === undefined || c.status().term > best.status().term)) best = c;
      }
    }
    return best?.config;
  }

  /**
   * The time left on leases by node `id`'s Lessor (leader-local state: only a leader's counts
   * down; a follower's Lessor knows the leases but not their deadlines).
   */
  leaseCountdown(id: NodeId): LeaseCountdown | undefined {
    return this.stores.get(id)?.lessor;
  }

  /** The log a crashed node would restart with, read from its simulated disk (cached per disk state). */
  durableLog(id: NodeId): DurableLog {
    const records = this.sim.disk(id).read('core');
    const last = records[records.length - 1];
    const cached = this.durableCache.get(id);
    if (cached !== undefined && cached.length === records.length && cached.last === last) return cached.value;
    const state = foldRaftOps(records.filter((r) => !r.torn).map((r) => r.value));
    const hard = state.hardState ?? { term: 0, vote: null, commit: 0 };
    const value = { entries: state.log, snapshotIndex: state.snapshot?.meta.index ?? 0, term: hard.term, vote: hard.vote, commit: hard.commit };
    this.durableCache.set(id, { length: records.length, last, value });
    return value;
  }
}
