// The Raft + KV cluster the visualizer runs. It mirrors what src/raft/cluster.ts's RaftCluster
// offers (clients, admin requests, monitors), but builds its Simulation from the visualizer's
// wrapped spec: RaftCluster constructs its own Simulation and has no hook for wrapping the spec
// (see docs/visualizer.md). The project's KvClient and background workload run on it unchanged;
// they use only the members below (sim, clientOptions, nodeIds, nowMs, nextNode,
// recordAcknowledged, client).
import { KvStore } from '../../../src/kv/index.js';
import {
  DEFAULT_CLIENT_OPTIONS,
  KvClient,
  RaftMonitor,
  raftSpec,
  type AdminRequestType,
  type ClientOptions,
  type LogEntry,
  type RaftCluster,
  type RaftCore,
  type RaftOptions,
  type RaftResponse,
  type RaftSimulation,
} from '../../../src/raft/index.js';
import { findLeader, Simulation, type LinkConfig, type NodeId } from '../../../src/sim/index.js';
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

export interface AdminOutcome {
  readonly ok: boolean;
  readonly error: string | undefined;
}

export class VizRaftCluster {
  readonly sim: RaftSimulation;
  readonly monitor: RaftMonitor;
  readonly clientOptions: ClientOptions = DEFAULT_CLIENT_OPTIONS;
  readonly bootstrap: readonly NodeId[];
  private readonly clients = new Map<string, KvClient>();
  private readonly durableCache = new Map<NodeId, { length: number; last: unknown; value: DurableLog }>();

  constructor(
    private readonly ctx: BuildContext,
    options: VizClusterOptions,
  ) {
    this.bootstrap = Array.from({ length: ctx.nodes }, (_, i) => String(i + 1));
    this.monitor = new RaftMonitor({ now: () => this.sim.nowMs, nodeIds: () => this.sim.nodeIds, core: (id) => this.core(id) });
    const spec = raftSpec({
      ...options.raft,
      observer: {
        applied: (node, entry, term) => this.monitor.applied(node, entry, term),
        becameLeader: (node, term) => this.monitor.becameLeader(node, term),
      },
      createStateMachine: () => new KvStore(),
    });
    this.sim = new Simulation({ seed: ctx.seed, protocol: ctx.wrap(spec), nodes: [...this.bootstrap], link: options.link, fsyncMs: options.fsyncMs, clientLatencyMs: 2, trace: false });
  }

  get nowMs(): number {
    return this.sim.nowMs;
  }

  get nodeIds(): NodeId[] {
    return this.sim.nodeIds;
  }

  core(id: NodeId): RaftCore | undefined {
    return this.ctx.unwrap(this.sim.core(id)) as RaftCore | undefined;
  }

  isUp(id: NodeId): boolean {
    return this.sim.isUp(id);
  }

  note(text: string): void {
    this.sim.note(text);
  }

  leader(): NodeId | undefined {
    return findLeader(this.sim);
  }

  leaders(): NodeId[] {
    return this.nodeIds.filter((id) => this.core(id)?.status().role === 'leader');
  }

  /** A leader that has committed an entry of its own term. */
  readyLeader(): NodeId | undefined {
    const id = this.leader();
    const core = id === undefined ? undefined : this.core(id);
    if (core === undefined) return undefined;
    const s = core.status();
    return core.termAt(s.commit) === s.term ? id : undefined;
  }

  nextNode(after: NodeId): NodeId {
    const ids = this.nodeIds;
    return ids[(ids.indexOf(after) + 1) % ids.length] as NodeId;
  }

  recordAcknowledged(index: number, clientId: string, seq: number): void {
    this.monitor.acknowledged(index, clientId, seq);
  }

  /** The project's KvClient, running on this cluster. */
  client(name: string): KvClient {
    let c = this.clients.get(name);
    if (c === undefined) {
      c = new KvClient(this.asRaftCluster(), name);
      this.clients.set(name, c);
    }
    return c;
  }

  /** KvClient and startWorkload are typed against RaftCluster but use only what this class has. */
  asRaftCluster(): RaftCluster {
    return this as unknown as RaftCluster;
  }

  addNode(id: NodeId): void {
    this.sim.addNode(id, this.bootstrap);
  }

  /** Every up member of the leader's configuration has applied what the leader committed. */
  caughtUp(): boolean {
    const id = this.readyLeader();
    if (id === undefined) return false;
    const s = (this.core(id) as RaftCore).status();
    return [...s.voters, ...s.learners].every((m) => {
      const c = this.core(m);
      return c === undefined || c.status().applied >= s.commit;
    });
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
   * An administrative request, retried (following leader hints) until it succeeds, fails for
   * good, or `timeoutMs` passes; `done` gets the outcome.
   */
  admin(type: AdminRequestType, node: NodeId, timeoutMs: number, done: (r: AdminOutcome) => void): void {
    const deadline = this.nowMs + timeoutMs;
    const { requestTimeoutMs, retryBackoffMs } = this.clientOptions;
    let finished = false;
    let uncertain = false;
    const finish = (r: AdminOutcome): void => {
      if (finished) return;
      finished = true;
      this.note(`admin ${type} ${node}: ${r.ok ? 'ok' : r.error}`);
      done(r);
    };
    const already = (): boolean => {
      const config = this.membership();
      if (config === undefined) return false;
      switch (type) {
        case 'addLearner':
          return config.learners.includes(node) || config.voters.includes(node);
        case 'promote':
          return config.voters.includes(node);
        case 'removeNode':
          return !config.voters.includes(node) && !config.learners.includes(node);
        case 'transferLeadership':
          return this.leader() === node;
      }
    };
    const attempt = (target: NodeId): void => {
      if (finished) return;
      this.sim.request(target, { type, node }, { timeoutMs: requestTimeoutMs, process: 'admin' }, (res: RaftResponse | undefined) => {
        if (finished) return;
        const again = (next: NodeId): void => {
          if (this.nowMs + retryBackoffMs >= deadline) finish({ ok: false, error: 'timeout' });
          else this.sim.after(retryBackoffMs, () => attempt(next));
        };
        if (res === undefined) {
          uncertain = true;
          return again(this.leader() ?? this.nextNode(target));
        }
        if (res.ok) return finish({ ok: true, error: undefined });
        if (uncertain && already()) return finish({ ok: true, error: undefined });
        switch (res.error) {
          case 'not-leader':
            return again(res.leaderHint ?? this.leader() ?? this.nextNode(target));
          case 'leadership-lost':
          case 'timeout':
            uncertain = true;
            return again(this.leader() ?? this.nextNode(target));
          case 'config-change-in-progress':
          case 'transfer-in-progress':
          case 'overloaded':
          case 'transfer-timeout':
            return again(target);
          default:
            return finish({ ok: false, error: res.error });
        }
      });
    };
    this.note(`admin ${type} ${node}`);
    attempt(this.leader() ?? (this.nodeIds[0] as NodeId));
  }

  /** The log a crashed node would restart with, read from its simulated disk (cached per disk state). */
  durableLog(id: NodeId): DurableLog {
    const records = this.sim.disk(id).read('core');
    const last = records[records.length - 1];
    const cached = this.durableCache.get(id);
    if (cached !== undefined && cached.length === records.length && cached.last === last) return cached.value;
    let entries: LogEntry[] = [];
    let snapshotIndex = 0;
    let hard = { term: 0, vote: null as NodeId | null, commit: 0 };
    for (const r of records) {
      if (r.torn) continue;
      const op = r.value;
      if (op.kind === 'hardState') hard = { ...op.state };
      else if (op.kind === 'snapshot') {
        snapshotIndex = op.meta.index;
        entries = [...op.entriesAfter];
        hard = { ...op.hardState };
      } else {
        for (const e of op.entries) {
          const at = e.index - snapshotIndex - 1;
          if (at < 0) continue;
          entries.length = Math.min(entries.length, at);
          entries.push(e);
        }
      }
    }
    const value = { entries, snapshotIndex, term: hard.term, vote: hard.vote, commit: hard.commit };
    this.durableCache.set(id, { length: records.length, last, value });
    return value;
  }
}
