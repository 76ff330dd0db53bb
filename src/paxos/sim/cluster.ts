// A simulated Multi-Paxos + KV cluster for tests, scenarios, chaos runs and users: N nodes in the
// deterministic simulator, the faults of the generic SimCluster, the same retrying KV clients as
// the Raft cluster (src/sim/client.ts, recording every operation in the history), the Paxos
// safety monitors watching every step, inspection of each node, and the linearizability check.
import type { CoreEnv, JsonValue, NodeId, ProtocolSpec } from '../../core/index.js';
import { KvStore, kvRequestToJson, type KvQuery, type KvRequest, type KvResult } from '../../kv/store.js';
import { KV_READ_OPS, historyCallOf, historyOutputOf } from '../../raft/cluster.js';
import { clusterNodeIds, KvSimCluster, kvSimulation, type KvSimOptions } from '../../raft/kv-sim-cluster.js';
import type { ClientAnswer, ClientOptions, ClientProtocol, SessionClient } from '../../sim/client.js';
import type { Simulation } from '../../sim/simulation.js';
import { PaxosMonitor, type PaxosViolation } from '../monitors.js';
import { combineObservers, type AcceptorRecovery, type PaxosObserver } from '../observer.js';
import { MultiAcceptor } from '../multi/acceptor.js';
import { resolveQuorums, type QuorumSizes } from '../quorums.js';
import type { MultiPaxosCore } from '../multi/core.js';
import { paxosSpec, type PaxosSpec } from '../multi/spec.js';
import type { PaxosErrorReason, PaxosMessage, PaxosOptions, PaxosPersistOp, PaxosRequest, PaxosResponse, PaxosStatus } from '../multi/types.js';

export type PaxosSimulation = Simulation<PaxosMessage, PaxosRequest, PaxosResponse, PaxosPersistOp>;

export const DEFAULT_PAXOS_CLIENT_OPTIONS: ClientOptions = { requestTimeoutMs: 300, opTimeoutMs: 3000, retryBackoffMs: 30 };

export interface PaxosClusterOptions extends KvSimOptions<PaxosMessage, PaxosRequest, PaxosResponse, PaxosPersistOp> {
  readonly paxos?: Partial<Omit<PaxosOptions, 'observer'>>;
  readonly client?: Partial<ClientOptions>;
  /** An extra observer of the cores, besides the monitor. */
  readonly observer?: PaxosObserver;
  /** Wraps the spec before the simulation runs it (a deliberately broken variant, the visualizer's recorder). */
  readonly wrapSpec?: (spec: PaxosSpec<KvRequest, KvQuery, KvResult>) => ProtocolSpec<PaxosMessage, PaxosRequest, PaxosResponse, PaxosPersistOp>;
  /** Finds the MultiPaxosCore inside a wrapped core; needed with `wrapSpec` when it wraps cores. */
  readonly unwrapCore?: (core: unknown) => MultiPaxosCore<KvRequest, KvQuery, KvResult> | undefined;
  /** Each node life's state machine; default a KvStore. */
  readonly createStore?: (env: CoreEnv) => KvStore;
}

/** What one node looks like from outside. */
export interface PaxosNodeView extends PaxosStatus {
  readonly up: boolean;
}

/** A KV client process of a Multi-Paxos cluster: the generic retrying client with a session. */
export type PaxosKvClient = SessionClient<PaxosMessage, PaxosRequest, PaxosResponse, PaxosPersistOp, KvRequest, KvResult>;

/** Refusals that prove a command did not apply; other failures leave its fate open. */
const DEFINITE_REFUSALS = new Set<PaxosErrorReason>(['not-leader', 'overloaded', 'bad-request']);

/** What a Multi-Paxos node's answers mean to a KV client (the Raft KV client's rules, for the errors Paxos has). */
export const PAXOS_KV_CLIENT: ClientProtocol<KvRequest, PaxosRequest, PaxosResponse, KvResult> = {
  isRead: (op) => KV_READ_OPS.has(op.op),
  request: (op, session) => (session === null ? { type: 'read', op: kvRequestToJson(op) } : { type: 'command', clientId: session.clientId, seq: session.seq, op: kvRequestToJson(op) }),
  interpret: (res): ClientAnswer<KvResult> => {
    if (res.ok) return 'result' in res ? { kind: 'ok', result: res.result as KvResult, index: res.index } : { kind: 'unexpected', error: 'unexpected status reply' };
    const definite = DEFINITE_REFUSALS.has(res.error);
    switch (res.error) {
      case 'not-leader':
        return { kind: 'refused', error: res.error, definite, next: 'follow-hint', hint: res.leaderHint };
      case 'overloaded':
        return { kind: 'refused', error: res.error, definite, next: 'same', hint: res.leaderHint };
      case 'leadership-lost':
      case 'stale-session':
      case 'timeout':
        return { kind: 'refused', error: res.error, definite, next: 'next', hint: res.leaderHint };
      default:
        return { kind: 'refused', error: res.error, definite, next: 'fail', hint: res.leaderHint };
    }
  },
  historyCall: historyCallOf,
  historyOutput: historyOutputOf,
};

export class PaxosCluster extends KvSimCluster<PaxosMessage, PaxosRequest, PaxosResponse, PaxosPersistOp, MultiPaxosCore<KvRequest, KvQuery, KvResult>> {
  declare readonly sim: PaxosSimulation;
  readonly monitor: PaxosMonitor;
  readonly quorums: QuorumSizes;

  constructor(options: PaxosClusterOptions) {
    const ids = clusterNodeIds(options.nodes);
    const quorums = resolveQuorums(ids.length, options.paxos?.quorums);
    // the monitor watches the cores from their first step: the observer reaches it once it exists
    const watching: { monitor?: PaxosMonitor } = {};
    const forward: PaxosObserver = {
      promised: (n, b) => watching.monitor?.promised(n, b),
      accepted: (n, s, b, v) => watching.monitor?.accepted(n, s, b, v),
      heardPromise: (n, f, b) => watching.monitor?.heardPromise(n, f, b),
      heardAccepted: (n, f, s, b) => watching.monitor?.heardAccepted(n, f, s, b),
      learned: (n, s, v) => watching.monitor?.learned(n, s, v),
      applied: (n, s, v) => watching.monitor?.applied(n, s, v),
      snapshotInstalled: (n, s) => watching.monitor?.snapshotInstalled(n, s),
      recovered: (n, r) => watching.monitor?.recovered(n, r),
      becameLeader: (n, b) => watching.monitor?.becameLeader(n, b),
    };
    const spec = paxosSpec<KvRequest, KvQuery, KvResult>({
      ...options.paxos,
      observer: combineObservers(forward, options.observer),
      createStateMachine: options.createStore ?? (() => new KvStore()),
    });
    super(kvSimulation(options, ids, options.wrapSpec === undefined ? spec : options.wrapSpec(spec)), {
      clientOptions: { ...DEFAULT_PAXOS_CLIENT_OPTIONS, ...options.client },
      kvClient: PAXOS_KV_CLIENT,
      unwrapCore: options.unwrapCore,
    });
    this.quorums = quorums;
    this.monitor = new PaxosMonitor({ now: () => this.sim.nowMs, phase2Quorum: quorums.phase2, nodeIds: () => this.sim.nodeIds, durableState: (id) => this.durableState(id) });
    watching.monitor = this.monitor;
  }

  /** What the disk of a node that is down keeps (what a restart will recover); undefined while it is up. */
  durableState(id: NodeId): AcceptorRecovery | undefined {
    if (this.sim.isUp(id)) return undefined;
    const acceptor = new MultiAcceptor(id, undefined);
    for (const record of this.sim.disk(id).read('core')) if (!record.torn) acceptor.replay(record.value);
    return { promised: acceptor.promised, accepted: acceptor.ballots(), snapshotSlot: acceptor.snapshotSlot };
  }

  // ---------------------------------------------------------------- nodes

  node(id: NodeId): PaxosNodeView {
    const core = this.core(id);
    if (core === undefined) {
      const zero = { round: 0, node: '' };
      return { id, up: false, role: 'follower', ballot: null, promised: zero, leader: null, known: 0, applied: 0, nextSlot: 0, snapshotSlot: 0, ready: false, quorums: this.quorums };
    }
    return { ...core.status(), up: true };
  }

  nodes(): PaxosNodeView[] {
    return this.nodeIds.map((id) => this.node(id));
  }

  /** A leader that has chosen every slot its phase 1 recovered, so it serves at once. */
  readyLeader(): NodeId | undefined {
    const id = this.leader();
    return id !== undefined && this.core(id)?.status().ready === true ? id : undefined;
  }

  /** Asks `node` to run phase 1 now (answered at once; the outcome shows in its status). */
  campaign(node: NodeId): void {
    this.note(`campaign ${node}`);
    this.sim.request(node, { type: 'campaign' }, { timeoutMs: this.clientOptions.requestTimeoutMs, process: 'admin' }, () => {});
  }

  // ---------------------------------------------------------------- clients

  protected acknowledged(index: number | undefined, clientId: string, seq: number): void {
    // only a command answered with its slot tells the monitor where it must stay chosen
    if (index !== undefined) this.monitor.acknowledged(index, clientId, seq);
  }

  // ---------------------------------------------------------------- results

  violations(): readonly PaxosViolation[] {
    return this.monitor.violations;
  }

  /**
   * Heals every fault, restarts crashed nodes and lets the cluster settle: a ready leader, and
   * every node has applied what it knows chosen. Then the replicas' state machines must be
   * identical. Stop client load first. Returns the settled leader.
   */
  settle(timeoutMs = 5000): NodeId | undefined {
    this.healEverything();
    const settled = this.runUntil(() => this.caughtUp(), timeoutMs) ? this.readyLeader() : undefined;
    if (settled === undefined) {
      this.monitor.report('liveness', `no ready leader with caught-up replicas within ${timeoutMs} ms of healing [${this.describeNodes()}]`);
      return undefined;
    }
    this.checkConvergence(settled);
    return settled;
  }

  /** A ready leader, and every up node has applied all the leader has applied and knows chosen. */
  caughtUp(): boolean {
    const id = this.readyLeader();
    if (id === undefined) return false;
    const s = (this.core(id) as MultiPaxosCore<KvRequest, KvQuery, KvResult>).status();
    if (s.applied < s.known || s.known < s.nextSlot - 1) return false;
    return this.nodeIds.every((n) => {
      const c = this.core(n);
      return c === undefined || c.status().applied >= s.applied;
    });
  }

  /** Every up replica that applied as far as the leader holds the same state. */
  checkConvergence(leaderId: NodeId): void {
    const leader = this.core(leaderId);
    if (leader === undefined) return;
    const applied = leader.status().applied;
    const expected = JSON.stringify(leader.machineSnapshot());
    for (const id of this.nodeIds) {
      const core = this.core(id);
      if (core === undefined || id === leaderId) continue;
      const s = core.status();
      if (s.applied !== applied) this.monitor.report('liveness', `node ${id} applied ${s.applied} but leader ${leaderId} applied ${applied} after settling`);
      else if (JSON.stringify(core.machineSnapshot()) !== expected) this.monitor.report('convergence', `node ${id} and leader ${leaderId} applied up to ${applied} but their state machines differ`);
    }
  }

  describeNodes(): string {
    return this.nodes()
      .map((n) => `${n.id}:${n.up ? `${n.role}/b${n.ballot === null ? '-' : `${n.ballot.round}.${n.ballot.node}`}/k${n.known}/a${n.applied}` : 'down'}`)
      .join(' ');
  }
}

/** The value a KV command takes in a slot, for tests that look at slots. */
export function commandValue(clientId: string | null, seq: number, op: KvRequest): JsonValue {
  return { kind: 'command', clientId, seq, op: kvRequestToJson(op) };
}
