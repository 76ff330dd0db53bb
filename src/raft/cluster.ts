// A simulated Raft + KV cluster for tests, scenarios, chaos runs and users: N nodes in the
// deterministic simulator, faults, clients that retry and record every operation in the
// history, monitors watching every step, inspection of each node, and the linearizability check.
import type { History, JsonValue, NodeId, Operation, Outcome, ProtocolSpec } from '../core/index.js';
import type { LinkConfig } from '../sim/network.js';
import { findLeader } from '../sim/nemesis.js';
import { Simulation, type SimulationOptions } from '../sim/simulation.js';
import { checkHistory, kvModel, type CheckResult } from '../check/index.js';
import { KvStore, type KvQuery, type KvRequest, type KvResult } from '../kv/store.js';
import type { RaftCore } from './core.js';
import { RaftMonitor, type MonitorViolation } from './monitors.js';
import { raftSpec, type RaftSpec } from './spec.js';
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

export interface ClientOptions {
  /** How long one attempt waits for a reply before trying another node. */
  readonly requestTimeoutMs: number;
  /** How long an operation is retried before it ends: unknown for a command that may have applied, fail otherwise. */
  readonly opTimeoutMs: number;
  /** Pause before retrying after a refusal that names no leader. */
  readonly retryBackoffMs: number;
}

export const DEFAULT_CLIENT_OPTIONS: ClientOptions = { requestTimeoutMs: 300, opTimeoutMs: 3000, retryBackoffMs: 30 };

export interface ClusterOptions {
  readonly seed: number;
  /** A node count (named "1".."N") or explicit names. Default 3. */
  readonly nodes?: number | readonly NodeId[];
  readonly raft?: Partial<Omit<RaftOptions, 'observer'>>;
  readonly link?: Partial<LinkConfig>;
  readonly fsyncMs?: number;
  readonly tornWriteRate?: number;
  readonly clientLatencyMs?: number;
  /** Default off (fastest); pass { keepLines: true } to replay or export the trace. */
  readonly trace?: SimulationOptions<RaftMessage, RaftRequest, RaftResponse, RaftPersistOp>['trace'];
  readonly client?: Partial<ClientOptions>;
  /** Run the pairwise log-matching check this often (virtual ms); 0 turns it off. Default 100. */
  readonly logCheckEveryMs?: number;
  /** An extra observer of the cores, besides the monitor. */
  readonly observer?: RaftObserver;
  /** Wraps the spec before the simulation runs it (the visualizer records every call this way). */
  readonly wrapSpec?: (spec: RaftSpec<KvRequest, KvQuery, KvResult>) => ProtocolSpec<RaftMessage, RaftRequest, RaftResponse, RaftPersistOp>;
  /** Finds the RaftCore inside a wrapped core; needed with `wrapSpec` when it wraps cores. */
  readonly unwrapCore?: (core: unknown) => RaftCore | undefined;
}

/** What one node looks like from outside. */
export interface NodeView extends NodeStatus {
  readonly up: boolean;
  readonly log: readonly LogEntry[];
}

/** A client operation in flight or finished. */
export interface OpHandle {
  readonly op: KvRequest;
  readonly process: string;
  /** Its position in the history. */
  readonly historyIndex: number;
  done: boolean;
  outcome: Outcome | undefined;
  result: KvResult | undefined;
  /** The last refusal or why the client gave up. */
  error: string | undefined;
  /** Log index of an applied command, or the read index of a read. */
  index: number | undefined;
  attempts: number;
}

export interface AdminResult {
  readonly ok: boolean;
  readonly error: string | undefined;
  readonly response: RaftResponse | undefined;
}

const MODEL_OPS = new Set(['get', 'put', 'delete', 'cas', 'incr']);
const READ_OPS = new Set(['get', 'range']);
/** Refusals that prove a command did not apply; other failures leave its fate open. */
const DEFINITE_REFUSALS = new Set<RaftErrorReason>(['not-leader', 'overloaded', 'transfer-in-progress', 'config-change-in-progress', 'bad-request']);

export class RaftCluster {
  readonly sim: RaftSimulation;
  readonly monitor: RaftMonitor;
  readonly clientOptions: ClientOptions;
  /** The members every node was bootstrapped with (joiners get them too). */
  readonly bootstrap: readonly NodeId[];
  private readonly clients = new Map<string, KvClient>();
  private readonly logCheckEveryMs: number;
  private readonly unwrapCore: ((core: unknown) => RaftCore | undefined) | undefined;

  constructor(options: ClusterOptions) {
    const ids = typeof options.nodes === 'object' ? [...options.nodes] : Array.from({ length: options.nodes ?? 3 }, (_, i) => String(i + 1));
    this.bootstrap = ids;
    this.unwrapCore = options.unwrapCore;
    this.clientOptions = { ...DEFAULT_CLIENT_OPTIONS, ...options.client };
    this.monitor = new RaftMonitor({ now: () => this.sim.nowMs, nodeIds: () => this.sim.nodeIds, core: (id) => this.core(id) });
    const extra = options.observer;
    const observer: RaftObserver = {
      applied: (node, entry, term) => {
        this.monitor.applied(node, entry, term);
        extra?.applied?.(node, entry, term);
      },
      becameLeader: (node, term) => {
        this.monitor.becameLeader(node, term);
        extra?.becameLeader?.(node, term);
      },
    };
    this.sim = new Simulation({
      seed: options.seed,
      protocol: (options.wrapSpec ?? ((spec: RaftSpec<KvRequest, KvQuery, KvResult>) => spec))(raftSpec({ ...options.raft, observer, createStateMachine: () => new KvStore() })),
      nodes: ids,
      link: options.link,
      fsyncMs: options.fsyncMs ?? 0,
      tornWriteRate: options.tornWriteRate,
      clientLatencyMs: options.clientLatencyMs,
      trace: options.trace ?? false,
    });
    this.logCheckEveryMs = options.logCheckEveryMs ?? 100;
    if (this.logCheckEveryMs > 0) this.scheduleLogCheck();
  }

  private scheduleLogCheck(): void {
    this.sim.after(this.logCheckEveryMs, () => {
      this.monitor.checkLogs();
      this.scheduleLogCheck();
    });
  }

  // ---------------------------------------------------------------- time

  get nowMs(): number {
    return this.sim.nowMs;
  }

  get nodeIds(): NodeId[] {
    return this.sim.nodeIds;
  }

  runFor(ms: number): void {
    this.sim.runFor(ms);
  }

  runUntil(predicate: () => boolean, timeoutMs: number): boolean {
    return this.sim.runUntilTrue(predicate, timeoutMs);
  }

  // ---------------------------------------------------------------- faults (each also noted in the trace)

  partition(groups: readonly (readonly NodeId[])[]): void {
    this.sim.partition(groups);
  }

  partitionOneWay(from: readonly NodeId[], to: readonly NodeId[]): void {
    this.sim.partitionOneWay(from, to);
  }

  isolate(id: NodeId): void {
    this.sim.isolate(id);
  }

  heal(): void {
    this.sim.heal();
  }

  crash(id: NodeId): void {
    this.sim.crash(id);
  }

  restart(id: NodeId): void {
    this.sim.restart(id);
  }

  crashAll(): void {
    for (const id of this.nodeIds) this.sim.crash(id);
  }

  restartAll(): void {
    for (const id of this.nodeIds) this.sim.restart(id);
  }

  pause(id: NodeId, ms: number): void {
    this.sim.pause(id, ms);
  }

  setSlow(id: NodeId, processingMs: number): void {
    this.sim.setSlow(id, processingMs);
  }

  setClock(id: NodeId, offsetMs: number, driftPpm = 0): void {
    this.sim.setClock(id, offsetMs, driftPpm);
  }

  /** Changes links (loss, delay, duplication, reordering); '*' for all. */
  setLink(from: NodeId | '*', to: NodeId | '*', change: Partial<LinkConfig>): void {
    this.sim.setLink(from, to, change);
  }

  note(text: string): void {
    this.sim.note(text);
  }

  // ---------------------------------------------------------------- nodes

  isUp(id: NodeId): boolean {
    return this.sim.isUp(id);
  }

  core(id: NodeId): RaftCore | undefined {
    const core = this.sim.core(id);
    return this.unwrapCore === undefined ? (core as RaftCore | undefined) : this.unwrapCore(core);
  }

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

  /** The up node that calls itself leader with the highest term. */
  leader(): NodeId | undefined {
    return findLeader(this.sim);
  }

  /** Up nodes that call themselves leader (more than one only across terms, e.g. a stale one in a minority). */
  leaders(): NodeId[] {
    return this.nodeIds.filter((id) => this.core(id)?.status().role === 'leader');
  }

  /** A leader that has committed an entry of its own term, so it can serve reads and changes. */
  readyLeader(): NodeId | undefined {
    const id = this.leader();
    const core = id === undefined ? undefined : this.core(id);
    if (core === undefined) return undefined;
    const s = core.status();
    return core.termAt(s.commit) === s.term ? id : undefined;
  }

  /** Runs until there is a ready leader; returns it, or undefined after `timeoutMs`. */
  waitForLeader(timeoutMs = 5000): NodeId | undefined {
    this.runUntil(() => this.readyLeader() !== undefined, timeoutMs);
    return this.readyLeader();
  }

  /** Adds a node to the simulation; it joins nothing until an admin change makes it a learner. */
  addNode(id: NodeId): void {
    this.sim.addNode(id, this.bootstrap);
  }

  // ---------------------------------------------------------------- clients

  /** A client process (one operation at a time); the same name gives the same client. */
  client(name?: string): KvClient {
    const process = name ?? `c${this.clients.size + 1}`;
    let c = this.clients.get(process);
    if (c === undefined) {
      c = new KvClient(this, process);
      this.clients.set(process, c);
    }
    return c;
  }

  /** Submits `op` through `client` (default "c1") and runs the simulation until it finishes. */
  exec(op: KvRequest, client: KvClient = this.client('c1')): OpHandle {
    const handle = client.submit(op);
    this.runUntil(() => handle.done, this.clientOptions.opTimeoutMs + 10);
    return handle;
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

  /** Round-robin over the nodes, for a client that has no better guess. */
  nextNode(after: NodeId): NodeId {
    const ids = this.nodeIds;
    return ids[(ids.indexOf(after) + 1) % ids.length] as NodeId;
  }

  // ---------------------------------------------------------------- results

  history(): History {
    return this.sim.historySnapshot();
  }

  /** The history restricted to the operations the checker's kv model knows (reads like range dropped). */
  kvHistory(): History {
    const history = this.history();
    const unmodeled = history.ops.find((op) => !MODEL_OPS.has(op.f) && !READ_OPS.has(op.f) && op.outcome !== 'fail');
    if (unmodeled !== undefined) {
      throw new RangeError(`history op ${unmodeled.index} (${unmodeled.f}) changes state outside the kv model; it cannot be checked for linearizability`);
    }
    return { format: history.format, ops: history.ops.filter((op: Operation) => MODEL_OPS.has(op.f)) };
  }

  /** Checks the KV history for linearizability with the kv model. */
  checkLinearizability(maxStates = 4_000_000): CheckResult {
    return checkHistory(this.kvHistory(), kvModel, { maxStates });
  }

  violations(): readonly MonitorViolation[] {
    return this.monitor.violations;
  }

  /**
   * Heals every fault, restarts crashed nodes and lets the cluster settle: a leader is elected and
   * every member catches up. Then checks that the members' state machines converged. Stop client
   * load first: under load the followers are always a little behind. Returns the settled leader.
   */
  settle(timeoutMs = 5000): NodeId | undefined {
    this.heal();
    this.setLink('*', '*', { lossRate: 0, duplicateRate: 0, reorderRate: 0, extraDelayMs: 0 });
    for (const id of this.nodeIds) {
      this.restart(id);
      this.setSlow(id, 0);
    }
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

  /** The trace's SHA-256 (ends the trace); undefined when tracing is off. */
  traceSha256(): string | undefined {
    return this.sim.trace?.sha256();
  }

  /** The trace as JSON Lines (needs `trace: { keepLines: true }`), e.g. for the visualizer. */
  traceJsonLines(): string {
    if (this.sim.trace === undefined) throw new RangeError('tracing is off: create the cluster with trace: { keepLines: true }');
    return this.sim.trace.toJsonLines();
  }

  /** Called by clients when an operation finishes. */
  recordAcknowledged(index: number, clientId: string, seq: number): void {
    this.monitor.acknowledged(index, clientId, seq);
  }
}

// ================================================================ clients

/** The history form of a KV request, as the checker's kv model reads it. */
export function historyCallOf(op: KvRequest): { f: string; input: JsonValue } {
  switch (op.op) {
    case 'get':
      return { f: 'get', input: { key: op.key } };
    case 'put':
      return { f: 'put', input: { key: op.key, value: op.value } };
    case 'delete':
      return { f: 'delete', input: { key: op.key } };
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
    default:
      return { outcome: 'ok', output: null };
  }
}

/**
 * A client process: one operation at a time, retried across nodes (following leader hints)
 * until it succeeds or the operation times out. Commands carry (client id, seq) so a retry
 * applies once. Every operation is recorded in the history: ok, fail (certainly no effect), or
 * unknown (a command that may have applied).
 */
export class KvClient {
  private seq = 0;
  /** The node that answered last, tried first next time (a real client caches its leader too). */
  leaderGuess: NodeId | undefined;
  private current: OpHandle | undefined;

  constructor(
    private readonly cluster: RaftCluster,
    readonly process: string,
  ) {}

  get busy(): boolean {
    return this.current !== undefined && !this.current.done;
  }

  /** Starts `op`; the handle fills in as the simulation runs. `retry: false` tries one node once. */
  submit(op: KvRequest, options: SubmitOptions = {}): OpHandle {
    if (this.busy) throw new RangeError(`client ${this.process} already has an operation in flight`);
    const isRead = READ_OPS.has(op.op);
    const operation = new ClientOperation(this.cluster, this, op, isRead ? 0 : ++this.seq, options);
    this.current = operation.handle;
    operation.start();
    return operation.handle;
  }
}

export interface SubmitOptions {
  /** false: one attempt only. */
  readonly retry?: boolean;
  /** The node to try first (default: the last node that answered, else a seeded random one). */
  readonly target?: NodeId;
  readonly onDone?: (handle: OpHandle) => void;
}

/** One operation of a client: its attempts, what they proved, and its entry in the history. */
class ClientOperation {
  readonly handle: OpHandle;
  private readonly isRead: boolean;
  private readonly request: RaftRequest;
  private readonly deadlineMs: number;
  /** Some attempt may have been applied (commands only). */
  private uncertain = false;
  private outstanding = false;
  /** Leader hints followed in a row. */
  private hops = 0;
  /** Round-robin cursor, independent of hint-following, so a client cannot cycle among stale nodes. */
  private cursor: NodeId;

  constructor(
    private readonly cluster: RaftCluster,
    private readonly client: KvClient,
    private readonly op: KvRequest,
    private readonly seq: number,
    private readonly options: SubmitOptions,
  ) {
    const sim = cluster.sim;
    const call = historyCallOf(op);
    this.handle = { op, process: client.process, historyIndex: sim.invoke(client.process, call.f, call.input), done: false, outcome: undefined, result: undefined, error: undefined, index: undefined, attempts: 0 };
    this.isRead = READ_OPS.has(op.op);
    this.request = this.isRead ? { type: 'read', op: op as unknown as JsonValue } : { type: 'command', clientId: client.process, seq, op: op as unknown as JsonValue };
    this.deadlineMs = sim.nowMs + cluster.clientOptions.opTimeoutMs;
    // A client knows no leader at first: it starts at a node of its own seeded choice and follows hints.
    this.cursor = options.target ?? client.leaderGuess ?? sim.random.stream(`client:${client.process}`).pick(cluster.nodeIds);
  }

  start(): void {
    this.cluster.sim.after(this.cluster.clientOptions.opTimeoutMs, () => this.giveUp());
    this.attempt(this.cursor);
  }

  private attempt(target: NodeId): void {
    if (this.handle.done) return;
    const sim = this.cluster.sim;
    this.handle.attempts++;
    this.outstanding = true;
    const timeoutMs = Math.min(this.cluster.clientOptions.requestTimeoutMs, Math.max(1, this.deadlineMs - sim.nowMs));
    sim.request(target, this.request, { timeoutMs, process: this.client.process }, (res) => {
      this.outstanding = false;
      if (this.handle.done) return;
      if (res === undefined) this.onNoAnswer();
      else if (res.ok) this.onSuccess(target, res);
      else this.onRefusal(target, res);
    });
  }

  private onNoAnswer(): void {
    if (!this.isRead) this.uncertain = true;
    this.handle.error = 'timeout';
    this.client.leaderGuess = undefined;
    this.retry(this.nextByRoundRobin(), 0);
  }

  private onSuccess(target: NodeId, res: Extract<RaftResponse, { ok: true }>): void {
    if (!('result' in res)) return this.finish('fail', null, 'unexpected status reply');
    this.client.leaderGuess = target;
    const result = res.result as unknown as KvResult;
    this.handle.result = result;
    this.handle.index = res.index;
    if (!this.isRead) this.cluster.recordAcknowledged(res.index, this.client.process, this.seq);
    const { outcome, output } = historyOutputOf(this.op, result);
    this.finish(outcome, output);
  }

  private onRefusal(target: NodeId, res: Extract<RaftResponse, { ok: false }>): void {
    const backoffMs = this.cluster.clientOptions.retryBackoffMs;
    this.handle.error = res.error;
    if (!DEFINITE_REFUSALS.has(res.error) && !this.isRead) this.uncertain = true;
    switch (res.error) {
      case 'not-leader':
      case 'transfer-in-progress':
        // Hints are followed at once, but only a few in a row: nodes that were removed or cut off
        // may point at each other. Then the client tries the next node after a pause.
        if (res.leaderHint !== null && this.hops < 3) {
          this.hops++;
          this.client.leaderGuess = res.leaderHint;
          return this.retry(res.leaderHint, 0);
        }
        this.hops = 0;
        this.client.leaderGuess = undefined;
        return this.retry(this.nextByRoundRobin(), backoffMs);
      case 'overloaded':
      case 'config-change-in-progress':
        return this.retry(target, backoffMs);
      case 'leadership-lost':
      case 'stale-session':
      case 'timeout':
        return this.retry(this.nextByRoundRobin(), backoffMs);
      default:
        return this.finish('fail', res.error, res.error);
    }
  }

  private nextByRoundRobin(): NodeId {
    this.cursor = this.cluster.nextNode(this.cursor);
    return this.cursor;
  }

  private retry(target: NodeId, delayMs: number): void {
    if (this.options.retry === false) return this.giveUp();
    if (this.cluster.nowMs + delayMs >= this.deadlineMs) return this.giveUp();
    this.cluster.sim.after(delayMs, () => this.attempt(target));
  }

  /** Out of time or attempts: a command that may have been applied is unknown; anything else failed. */
  private giveUp(): void {
    const maybeApplied = !this.isRead && (this.uncertain || this.outstanding);
    this.finish(maybeApplied ? 'unknown' : 'fail', null, this.handle.error ?? 'deadline');
  }

  private finish(outcome: Outcome, output: JsonValue, error?: string): void {
    if (this.handle.done) return;
    this.handle.done = true;
    this.handle.outcome = outcome;
    this.handle.error = error;
    this.cluster.sim.complete(this.handle.historyIndex, outcome, output);
    this.options.onDone?.(this.handle);
  }
}
