// A simulated Raft + KV cluster for tests, scenarios, chaos runs and users: N nodes in the
// deterministic simulator, faults, clients that retry and record every operation in the
// history, monitors watching every step, inspection of each node, and the linearizability check.
import type { CoreEnv, JsonValue, NodeId, Outcome, ProtocolSpec } from '../core/index.js';
import type { SessionClient, ClientAnswer, ClientOptions, ClientProtocol, OpHandle as GenericOpHandle, SubmitOptions as GenericSubmitOptions } from '../sim/client.js';
import type { Simulation } from '../sim/simulation.js';
import { kvRequestToJson } from '../kv/store.js';
import { KvStore, type KvQuery, type KvRequest, type KvResult } from '../kv/store.js';
import { LeasedKvStore } from '../kv/leased-store.js';
import type { RaftCore } from './core.js';
import { RaftMonitor, type MonitorViolation } from './monitors.js';
import { raftSpec, type RaftSpec } from './spec.js';
import { clusterNodeIds, KV_READ_OPS, KvSimCluster, kvModelHistory, kvSimulation, type KvSimOptions } from './kv-sim-cluster.js';
import type {
  AdminRequestType,
  LogEntry,
  NodeStatus,
  RaftErrorReason,
  RaftMessage,
  RaftObserver,
  RaftOptions,
  RaftPersistOp,
  RaftRequest,
  RaftResponse,
} from './types.js';

export type RaftSimulation = Simulation<RaftMessage, RaftRequest, RaftResponse, RaftPersistOp>;

export type { ClientOptions };

export const DEFAULT_CLIENT_OPTIONS: ClientOptions = { requestTimeoutMs: 300, opTimeoutMs: 3000, retryBackoffMs: 30 };

export interface ClusterOptions extends KvSimOptions<RaftMessage, RaftRequest, RaftResponse, RaftPersistOp> {
  readonly raft?: Partial<Omit<RaftOptions, 'observer'>>;
  readonly client?: Partial<ClientOptions>;
  /** Run the pairwise log-matching check this often (virtual ms); 0 turns it off. Default 100. */
  readonly logCheckEveryMs?: number;
  /** An extra observer of the cores, besides the monitor. */
  readonly observer?: RaftObserver;
  /** Wraps the spec before the simulation runs it (the visualizer records every call this way). */
  readonly wrapSpec?: (spec: RaftSpec<KvRequest, KvQuery, KvResult>) => ProtocolSpec<RaftMessage, RaftRequest, RaftResponse, RaftPersistOp>;
  /** Each node life's state machine; default a LeasedKvStore on the node's clock (a KvStore with its Lessor). */
  readonly createStore?: (env: CoreEnv) => KvStore;
  /** Finds the RaftCore inside a wrapped core; needed with `wrapSpec` when it wraps cores. */
  readonly unwrapCore?: (core: unknown) => RaftCore | undefined;
}

/** What one node looks like from outside. */
export interface NodeView extends NodeStatus {
  readonly up: boolean;
  readonly log: readonly LogEntry[];
}

/** A KV operation in flight or finished. */
export type OpHandle = GenericOpHandle<KvRequest, KvResult>;

export interface AdminResult {
  readonly ok: boolean;
  readonly error: string | undefined;
  readonly response: RaftResponse | undefined;
}

export { KV_READ_OPS, kvModelHistory };
/** Refusals that prove a command did not apply; other failures leave its fate open. */
const DEFINITE_REFUSALS = new Set<RaftErrorReason>(['not-leader', 'overloaded', 'transfer-in-progress', 'config-change-in-progress', 'bad-request']);

export class RaftCluster extends KvSimCluster<RaftMessage, RaftRequest, RaftResponse, RaftPersistOp, RaftCore> {
  declare readonly sim: RaftSimulation;
  readonly monitor: RaftMonitor;
  /** The members every node was bootstrapped with (joiners get them too). */
  readonly bootstrap: readonly NodeId[];
  private readonly logCheckEveryMs: number;

  constructor(options: ClusterOptions) {
    const ids = clusterNodeIds(options.nodes);
    // the monitor watches the cores from their first step: the observer reaches it once it exists
    const watching: { monitor?: RaftMonitor } = {};
    const extra = options.observer;
    const observer: RaftObserver = {
      applied: (node, entry, term) => {
        watching.monitor?.applied(node, entry, term);
        extra?.applied?.(node, entry, term);
      },
      becameLeader: (node, term) => {
        watching.monitor?.becameLeader(node, term);
        extra?.becameLeader?.(node, term);
      },
    };
    const spec = raftSpec({ ...options.raft, observer, createStateMachine: options.createStore ?? ((env) => new LeasedKvStore({ clock: () => env.now() })) });
    super(kvSimulation(options, ids, options.wrapSpec === undefined ? spec : options.wrapSpec(spec)), {
      clientOptions: { ...DEFAULT_CLIENT_OPTIONS, ...options.client },
      kvClient: RAFT_KV_CLIENT,
      unwrapCore: options.unwrapCore,
    });
    this.bootstrap = ids;
    this.monitor = new RaftMonitor({ now: () => this.sim.nowMs, nodeIds: () => this.sim.nodeIds, core: (id) => this.core(id) });
    watching.monitor = this.monitor;
    this.logCheckEveryMs = options.logCheckEveryMs ?? 100;
    if (this.logCheckEveryMs > 0) this.scheduleLogCheck();
  }

  private scheduleLogCheck(): void {
    this.sim.after(this.logCheckEveryMs, () => {
      this.monitor.checkLogs();
      this.scheduleLogCheck();
    });
  }

  // ---------------------------------------------------------------- nodes

  node(id: NodeId): NodeView {
    const core = this.core(id);
    if (core === undefined) {
      return { id, up: false, role: 'follower', term: 0, vote: null, leader: null, commit: 0, applied: 0, lastIndex: 0, snapshotIndex: 0, configIndex: 0, voters: [], learners: [], log: [] };
    }
    return { ...core.status(), up: true, log: [...core.entries()] };
  }

  nodes(): NodeView[] {
    return this.nodeIds.map((id) => this.node(id));
  }

  /** A leader that has committed an entry of its own term, so it can serve reads and changes. */
  readyLeader(): NodeId | undefined {
    const id = this.leader();
    const core = id === undefined ? undefined : this.core(id);
    if (core === undefined) return undefined;
    const s = core.status();
    return core.termAt(s.commit) === s.term ? id : undefined;
  }

  /** Adds a node to the simulation; it joins nothing until an admin change makes it a learner. */
  addNode(id: NodeId): void {
    this.sim.addNode(id, this.bootstrap);
  }

  // ---------------------------------------------------------------- clients

  protected acknowledged(index: number | undefined, clientId: string, seq: number): void {
    // a Raft command is acknowledged only once committed, so it always comes with its log index
    this.monitor.acknowledged(index as number, clientId, seq);
  }

  /**
   * An administrative change, retried until it succeeds, fails for good or `timeoutMs` passes.
   * A retry that finds the change already made counts as success.
   */
  admin(type: AdminRequestType, node: NodeId, timeoutMs = 10_000): AdminResult {
    let result: AdminResult | undefined;
    this.adminAsync(type, node, timeoutMs, (r) => (result = r));
    this.runUntil(() => result !== undefined, timeoutMs + 10);
    return result ?? { ok: false, error: 'timeout', response: undefined };
  }

  adminAsync(type: AdminRequestType, node: NodeId, timeoutMs: number, done: (r: AdminResult) => void): void {
    const deadline = this.nowMs + timeoutMs;
    let finished = false;
    let uncertain = false;
    let target = this.leader() ?? (this.nodeIds[0] as NodeId);
    const finish = (r: AdminResult): void => {
      if (finished) return;
      finished = true;
      this.note(`admin ${type} ${node}: ${r.ok ? 'ok' : r.error}`);
      done(r);
    };
    const retry = (next: NodeId, delayMs: number): void => {
      if (this.nowMs + delayMs >= deadline) return finish({ ok: false, error: 'timeout', response: undefined });
      target = next;
      this.sim.after(delayMs, attempt);
    };
    const attempt = (): void => {
      if (finished) return;
      this.sim.request(target, { type, node }, { timeoutMs: this.clientOptions.requestTimeoutMs, process: 'admin' }, (res) => {
        if (finished) return;
        if (res === undefined) {
          uncertain = true;
          return retry(this.leader() ?? this.nextNode(target), this.clientOptions.retryBackoffMs);
        }
        if (res.ok) return finish({ ok: true, error: undefined, response: res });
        if (uncertain && this.adminAlreadyDone(type, node, target)) return finish({ ok: true, error: undefined, response: res });
        switch (res.error) {
          case 'not-leader':
            return retry(res.leaderHint ?? this.leader() ?? this.nextNode(target), this.clientOptions.retryBackoffMs);
          case 'leadership-lost':
          case 'timeout':
            uncertain = true;
            return retry(this.leader() ?? this.nextNode(target), this.clientOptions.retryBackoffMs);
          case 'config-change-in-progress':
          case 'transfer-in-progress':
          case 'overloaded':
          case 'transfer-timeout':
            return retry(target, this.clientOptions.retryBackoffMs);
          default:
            return finish({ ok: false, error: res.error, response: res });
        }
      });
    };
    this.note(`admin ${type} ${node}`);
    attempt();
  }

  /** After an attempt of unknown fate: does the leader's committed configuration already show the change? */
  private adminAlreadyDone(type: AdminRequestType, node: NodeId, at: NodeId): boolean {
    const core = this.core(at);
    if (core === undefined || core.status().commit < core.status().configIndex) return false;
    const config = core.config;
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
  }

  // ---------------------------------------------------------------- results

  violations(): readonly MonitorViolation[] {
    return this.monitor.violations;
  }

  /**
   * Heals every fault, restarts crashed nodes and lets the cluster settle: a leader is elected and
   * every member catches up. Then checks that the members' state machines converged. Stop client
   * load first: under load the followers are always a little behind. Returns the settled leader.
   */
  settle(timeoutMs = 5000): NodeId | undefined {
    this.healEverything();
    const settled = this.runUntil(() => this.caughtUp(), timeoutMs) ? this.readyLeader() : undefined;
    this.monitor.checkLogs();
    if (settled === undefined) {
      const view = this.nodes().map((n) => `${n.id}:${n.up ? `${n.role}/t${n.term}/c${n.commit}/a${n.applied}` : 'down'}`).join(' ');
      this.monitor.report('liveness', `no leader with caught-up members within ${timeoutMs} ms of healing [${view}]`);
      return undefined;
    }
    this.monitor.checkConvergence(settled);
    return settled;
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

}

// ================================================================ clients

/** The history form of a KV request, as the checker's kv model reads it. */
export function historyCallOf(op: KvRequest): { f: string; input: JsonValue } {
  switch (op.op) {
    case 'get':
      // a read of a past revision is not a read of the kv model's present
      return op.revision === undefined || op.revision === 0 ? { f: 'get', input: { key: op.key } } : { f: 'getAt', input: { key: op.key, revision: op.revision } };
    case 'put':
      return { f: 'put', input: { key: op.key, value: op.value } };
    case 'delete':
      return 'end' in op || 'prefix' in op ? { f: 'deleteRange', input: kvRequestToJson(op) } : { f: 'delete', input: { key: op.key } };
    case 'cas':
      return { f: 'cas', input: { key: op.key, from: op.from, to: op.to } };
    case 'incr':
      return { f: 'incr', input: { key: op.key, by: op.by ?? 1 } };
    case 'casVersion':
      return { f: 'casVersion', input: { key: op.key, version: op.version, value: op.value } };
    case 'range': {
      const input: { [key: string]: JsonValue } = {};
      if (op.start !== undefined) input['start'] = op.start;
      if (op.end !== undefined) input['end'] = op.end;
      if (op.prefix !== undefined) input['prefix'] = op.prefix;
      if (op.limit !== undefined) input['limit'] = op.limit;
      return { f: 'range', input };
    }
    default:
      // txn, compact, leases and changes: recorded as sent; the kv model knows none of them
      return { f: op.op, input: kvRequestToJson(op) };
  }
}

/** What an applied operation returned, in the history's terms; `fail` when it had no effect. */
export function historyOutputOf(op: KvRequest, result: KvResult): { outcome: Outcome; output: JsonValue } {
  if ('error' in result) return { outcome: 'fail', output: result.error };
  switch (op.op) {
    case 'get':
      return { outcome: 'ok', output: 'value' in result ? result.value : null };
    case 'cas':
    case 'casVersion':
      return { outcome: 'ok', output: 'swapped' in result ? result.swapped : null };
    case 'incr':
      return { outcome: 'ok', output: 'value' in result ? (result.value as JsonValue) : null };
    case 'range':
      return { outcome: 'ok', output: 'items' in result ? (result.items.map((i) => [i.key, i.value]) as JsonValue) : null };
    case 'txn':
      // what the kv model checks a txn against: its branch and every result (revisions included)
      return { outcome: 'ok', output: 'succeeded' in result ? { succeeded: result.succeeded, results: result.results as JsonValue } : null };
    default:
      return { outcome: 'ok', output: null };
  }
}

/** A KV client process of a Raft cluster: the generic retrying client with a session (src/sim/client.ts). */
export type KvClient = SessionClient<RaftMessage, RaftRequest, RaftResponse, RaftPersistOp, KvRequest, KvResult>;

export type SubmitOptions = GenericSubmitOptions<KvRequest, KvResult>;

/** What a Raft node's answers mean to a KV client. */
export const RAFT_KV_CLIENT: ClientProtocol<KvRequest, RaftRequest, RaftResponse, KvResult> = {
  isRead: (op) => KV_READ_OPS.has(op.op),
  request: (op, session) => (session === null ? { type: 'read', op: kvRequestToJson(op) } : { type: 'command', clientId: session.clientId, seq: session.seq, op: kvRequestToJson(op) }),
  interpret: (res): ClientAnswer<KvResult> => {
    if (res.ok) return 'result' in res ? { kind: 'ok', result: res.result as KvResult, index: res.index } : { kind: 'unexpected', error: 'unexpected status reply' };
    const definite = DEFINITE_REFUSALS.has(res.error);
    switch (res.error) {
      case 'not-leader':
      case 'transfer-in-progress':
        return { kind: 'refused', error: res.error, definite, next: 'follow-hint', hint: res.leaderHint };
      case 'overloaded':
      case 'config-change-in-progress':
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
