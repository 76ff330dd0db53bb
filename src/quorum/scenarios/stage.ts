// The store on a simulated cluster for scenarios and the visualizer: the real cores, watched so each
// request's fan-out, repairs and hints are followed, clients keeping their contexts, and the dkv
// history. A QuorumCluster whose spec is wrapped by a watcher (and by the visualizer's engine, if any).
import type { NodeId } from '../../core/index.js';
import { checkReplicas, type ReplicaCheckResult } from '../../check/dkv/index.js';
import { positionOf } from '../../ring/hash.js';
import { PartitionRing } from '../../ring/partition-ring.js';
import type { LinkConfig } from '../../sim/network.js';
import type { QuorumConfig } from '../config.js';
import { digestOf } from '../node.js';
import { storeKeyOf, type Level, type QuorumResponse } from '../requests.js';
import { QuorumCluster, recordAnswer } from '../sim/cluster.js';
import { covers, type Dot, type KeyState } from '../versions.js';
import { watchedNode, watchSpec, type QuorumCore, type QuorumSpecOf, type QuorumWatcher } from './observe.js';
import { readVerdicts, type ReadVerdict } from './staleness.js';
import { QuorumTracker, type StoreRequest, type TrackedRequest } from './tracker.js';
import { contextOf } from './text.js';

export interface QuorumStageOptions {
  readonly seed: number;
  readonly nodes: number;
  /** Over SIM_QUORUM_CONFIG, as QuorumCluster takes it. */
  readonly config?: Partial<QuorumConfig>;
  readonly link?: Partial<LinkConfig>;
  /** As QuorumCluster: a trace is recorded (hashed) unless false. */
  readonly trace?: false | { readonly keepLines?: boolean };
}

/** How a host that watches cores of its own (the visualizer's engine) wraps the spec, and finds the core inside again. */
export interface QuorumStageHost {
  wrapSpec?(spec: QuorumSpecOf): QuorumSpecOf;
  unwrapCore?(core: QuorumCore | undefined): QuorumCore | undefined;
}

/** Where a write's context comes from: none (a blind write), or the client's last context for the key. */
export type ContextChoice = 'blind' | 'last' | { readonly context: string };

export interface StageRequestOptions {
  readonly w?: Level;
  readonly r?: Level;
  readonly context?: ContextChoice;
}

/** A copy holding `dot` (a replica's state, or a hint for another node) on a node that is up. */
export interface DotHolder {
  readonly node: NodeId;
  readonly asHint: boolean;
}

/** The bucket the scenarios and the visualizer use. */
export const STAGE_BUCKET = 'demo';

export class QuorumStage extends QuorumCluster {
  readonly tracker: QuorumTracker;
  /** Placement as every node computes it (the same PartitionRing from the same members and settings). */
  readonly ring: PartitionRing;
  /** The store key the view follows (a scenario's placement step sets it). */
  focusKey: string;
  /** Acknowledged writes found on fewer than W nodes at the moment of the answer (for a monitor). */
  readonly underReplicated: string[] = [];
  private readonly contexts = new Map<string, string>();

  constructor(options: QuorumStageOptions, host: QuorumStageHost = {}) {
    // the cores start while the simulation is built, before this object exists: the relay drops what they do until then
    const relay: QuorumWatcher & { target?: QuorumWatcher } = {
      input: (node, core, input) => relay.target?.input(node, core, input),
      output: (node, core, input, out) => relay.target?.output(node, core, input, out),
    };
    const unwrap = host.unwrapCore ?? ((core: QuorumCore | undefined) => core);
    super({
      ...options,
      trace: options.trace ?? {},
      wrapSpec: (spec) => (host.wrapSpec === undefined ? watchSpec(spec, relay) : host.wrapSpec(watchSpec(spec, relay))),
      unwrapCore: (core) => watchedNode(unwrap(core)),
    });
    this.ring = PartitionRing.of(this.sim.nodeIds, { partitionCount: this.config.partitionCount, targetN: Math.min(this.config.replicas, 16) });
    this.focusKey = storeKeyOf(STAGE_BUCKET, 'x');
    const tracker = new QuorumTracker(() => this.sim.nowMs, this.config);
    this.tracker = tracker;
    relay.target = tracker;
    this.sim.subscribe((e) => tracker.onTrace(e));
  }

  // ---------------------------------------------------------------- placement

  /** The key's preference list: its N home replicas, then the stand-ins. */
  preferenceList(storeKey: string): NodeId[] {
    return this.ring.preferenceListAt(positionOf(storeKey), this.config.replicas + this.config.standIns);
  }

  override homesOf(storeKey: string): NodeId[] {
    return this.preferenceList(storeKey).slice(0, this.config.replicas);
  }

  partitionOf(storeKey: string): number {
    return this.ring.partitionOf(positionOf(storeKey));
  }

  /** Every node holding `dot` of `storeKey` (in its copy or in a hint), among the nodes that are up. */
  holdersOf(storeKey: string, dot: Dot): DotHolder[] {
    const out: DotHolder[] = [];
    const has = (state: KeyState | undefined): boolean => state !== undefined && (state.kind === 'dvv' || state.kind === 'orset') && covers(state.vv, dot);
    for (const id of this.nodeIds) {
      const node = this.node(id);
      if (node === undefined) continue;
      if (has(node.stateOf(storeKey))) out.push({ node: id, asHint: false });
      else if (node.hints().some((h) => h.key === storeKey && has(h.state))) out.push({ node: id, asHint: true });
    }
    return out;
  }

  // ---------------------------------------------------------------- clients

  /** The context `client` last got for `storeKey` ('' when none). */
  lastContext(client: string, storeKey: string): string {
    return this.contexts.get(`${client}\u0000${storeKey}`) ?? '';
  }

  put(client: string, via: NodeId, key: string, value: string, options: StageRequestOptions = {}, callback?: (rec: TrackedRequest) => void): TrackedRequest {
    const context = this.contextFor(client, storeKeyOf(STAGE_BUCKET, key), options.context ?? 'last');
    const w = options.w === undefined ? {} : { w: options.w };
    return this.sendTracked(client, via, { op: 'put', bucket: STAGE_BUCKET, key, value, ...(context === '' ? {} : { context }), ...w }, callback);
  }

  get(client: string, via: NodeId, key: string, options: StageRequestOptions = {}, callback?: (rec: TrackedRequest) => void): TrackedRequest {
    return this.sendTracked(client, via, { op: 'get', bucket: STAGE_BUCKET, key, ...(options.r === undefined ? {} : { r: options.r }) }, callback);
  }

  /**
   * Sends one request through `via` as `client`: recorded in the simulator's history (for the
   * visualizer's history panel), followed by the tracker, and entered in `ops` when answered.
   */
  sendTracked(client: string, via: NodeId, request: StoreRequest, callback?: (rec: TrackedRequest) => void): TrackedRequest {
    const storeKey = storeKeyOf(request.bucket, request.key);
    const startMs = this.nowMs;
    const index = this.sim.invoke(client, request.op, request.op === 'put' ? { key: request.key, value: request.value, via } : { key: request.key, via });
    this.inFlight++;
    // the answer comes in a later event, after `rec` below is set
    const requestId = this.sim.request(via, request, { timeoutMs: 3 * this.config.requestTimeoutMs, process: client }, (res) => {
      this.inFlight--;
      this.record(client, request, index, startMs, res);
      this.tracker.end(rec, res);
      if (res?.ok === true && res.op === 'write' && res.dot !== null) this.checkReplicated(storeKey, res.dot, rec.needed);
      callback?.(rec);
    });
    const rec = this.tracker.begin(client, via, request, storeKey, requestId);
    return rec;
  }

  private contextFor(client: string, storeKey: string, choice: ContextChoice): string {
    if (choice === 'blind') return '';
    if (choice === 'last') return this.lastContext(client, storeKey);
    return choice.context;
  }

  private record(client: string, request: StoreRequest, index: number, startMs: number, res: QuorumResponse | undefined): void {
    const context = contextOf(res);
    if (context !== undefined) this.contexts.set(`${client}\u0000${storeKeyOf(request.bucket, request.key)}`, context);
    this.ops.push(recordAnswer(this.sim, index, client, request, startMs, res));
  }

  private checkReplicated(storeKey: string, dot: Dot, needed: number): void {
    const holders = this.holdersOf(storeKey, dot);
    if (holders.length < needed) this.underReplicated.push(`write ${dot.actor}:${dot.counter} of ${storeKey} was acknowledged with W=${needed} but only ${holders.length} node(s) hold it`);
  }

  // ---------------------------------------------------------------- the checkers' view

  /** Durability, convergence and unique dots over the history and the copies now (src/check/dkv). */
  checks(): ReplicaCheckResult {
    return checkReplicas({ ops: this.ops, replicas: this.replicaStates(), homesOf: (k) => this.homesOf(k) });
  }

  /** Each read of the history: fresh, stale (with the writes it missed) or failed. */
  readVerdicts(): ReadVerdict[] {
    return readVerdicts(this.ops);
  }

  hintCount(): number {
    let n = 0;
    for (const id of this.nodeIds) n += this.node(id)?.hints().length ?? 0;
    return n;
  }

  /** No hint waits and every key's home replicas hold the same digest (absent and tombstone-only alike), as QuorumCluster.converged; a home replica that is down has not converged. */
  override converged(): boolean {
    if (this.hintCount() > 0) return false;
    const keys = new Set<string>();
    for (const id of this.nodeIds) for (const k of this.node(id)?.keys() ?? []) keys.add(k);
    for (const key of keys) if (!this.keyConverged(key)) return false;
    return true;
  }

  /** The key's home replicas agree (a down home replica's copy is unknown: not converged). */
  keyConverged(key: string): boolean {
    const homes = this.homesOf(key);
    if (homes.some((h) => this.node(h) === undefined)) return false;
    const states = homes.map((h) => this.node(h)?.stateOf(key));
    const digests = new Set(states.filter((s): s is KeyState => s !== undefined).map(digestOf));
    if (digests.size > 1) return false;
    const present = states.find((s) => s !== undefined);
    if (present === undefined || states.every((s) => s !== undefined)) return true;
    return present.kind === 'dvv' && present.siblings.every((s) => s.value === null);
  }
}
