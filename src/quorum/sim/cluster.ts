// The leaderless store in the simulator: N nodes running the real core, clients that read and
// write a few keys through any node (read, then write with the read's context, as Dynamo's
// clients do; sometimes blind), the history the dkv checkers read, and the replicas' final states.
import type { NodeId, ProtocolCore, ProtocolSpec } from '../../core/index.js';
import type { DkvOp, DkvReplicaState } from '../../check/dkv/index.js';
import { assertInvariant } from '../../core/assert.js';
import { SimCluster } from '../../sim/cluster.js';
import type { LinkConfig } from '../../sim/network.js';
import type { RandomStream } from '../../sim/rng.js';
import { Simulation } from '../../sim/simulation.js';
import { decodeContext } from '../codec.js';
import { resolveQuorumConfig, type QuorumConfig } from '../config.js';
import type { QuorumMessage, QuorumPersistOp } from '../messages.js';
import { digestOf, QuorumNode, type QuorumNodeView } from '../node.js';
import { storeKeyOf, type Level, type QuorumRequest, type QuorumResponse } from '../requests.js';
import { quorumSpec } from '../spec.js';
import type { KeyState } from '../versions.js';

export interface QuorumClusterOptions {
  readonly seed: number;
  readonly nodes: number;
  readonly config?: Partial<QuorumConfig>;
  readonly link?: Partial<LinkConfig>;
  /** One-way latency between clients and nodes (default 1 ms). */
  readonly clientLatencyMs?: number;
  readonly trace?: false | { readonly keepLines?: boolean; readonly sink?: (line: string) => void };
  /** A host that watches or wraps the cores (the scenarios' stage, the visualizer) wraps the spec here... */
  readonly wrapSpec?: (spec: QuorumSpec) => ProtocolSpec<QuorumMessage, QuorumRequest, QuorumResponse, QuorumPersistOp>;
  /** ...and finds the node inside a wrapped core again. */
  readonly unwrapCore?: (core: ProtocolCore<QuorumMessage, QuorumRequest, QuorumResponse, QuorumPersistOp> | undefined) => QuorumNode | undefined;
}

type QuorumSpec = ProtocolSpec<QuorumMessage, QuorumRequest, QuorumResponse, QuorumPersistOp, QuorumNode>;

export interface QuorumLoad {
  readonly clients: number;
  readonly keys: number;
  readonly thinkMs: number;
  readonly r?: Level;
  readonly w?: Level;
  /** Share of writes sent without the client's last context (blind writes make true siblings). */
  readonly blindShare?: number;
  readonly deleteShare?: number;
}

export const QUORUM_BUCKET = 'sim';

/** The settings the simulator uses unless told otherwise: short timeouts and frequent anti-entropy, so a run settles in seconds. */
export const SIM_QUORUM_CONFIG: Partial<QuorumConfig> = {
  partitionCount: 16,
  requestTimeoutMs: 300,
  pingIntervalMs: 50,
  suspectAfterMs: 250,
  hintRetryIntervalMs: 100,
  hintWindowMs: 60_000,
  antiEntropyIntervalMs: 100,
  tombstoneGraceMs: 600_000,
};

export type QuorumSimulation = Simulation<QuorumMessage, QuorumRequest, QuorumResponse, QuorumPersistOp>;

export class QuorumCluster extends SimCluster<QuorumMessage, QuorumRequest, QuorumResponse, QuorumPersistOp> {
  readonly config: QuorumConfig;
  readonly ops: DkvOp[] = [];
  /** Requests sent whose answer (or timeout) has not come yet. */
  inFlight = 0;
  private readonly rng: RandomStream;
  private readonly unwrapCore: NonNullable<QuorumClusterOptions['unwrapCore']>;

  constructor(options: QuorumClusterOptions) {
    const config = { ...SIM_QUORUM_CONFIG, ...options.config };
    const spec = quorumSpec(config);
    const sim: QuorumSimulation = new Simulation({ seed: options.seed, protocol: options.wrapSpec === undefined ? spec : options.wrapSpec(spec), nodes: options.nodes, fsyncMs: 1, ...(options.link === undefined ? {} : { link: options.link }), ...(options.clientLatencyMs === undefined ? {} : { clientLatencyMs: options.clientLatencyMs }), trace: options.trace ?? {} });
    super(sim);
    this.config = resolveQuorumConfig(config, options.nodes);
    this.rng = sim.random.stream('workload');
    this.unwrapCore = options.unwrapCore ?? ((core) => (core instanceof QuorumNode ? core : undefined));
  }

  /** The node's core while it is up. */
  node(id: NodeId): QuorumNode | undefined {
    return this.unwrapCore(this.sim.core(id));
  }

  /** The home replicas of a store key, as every node computes them. */
  homesOf(storeKey: string): NodeId[] {
    const any = this.nodeIds.map((id) => this.node(id)).find((n) => n !== undefined);
    if (any === undefined) throw new RangeError('no node is up to compute placement');
    return any.preferenceList(storeKey).slice(0, this.config.replicas);
  }

  /** Sends one request to `to` and calls back with the answer, or undefined when none came in time. */
  send(to: NodeId, request: QuorumRequest, process: string, callback: (response: QuorumResponse | undefined) => void): void {
    this.inFlight++;
    this.sim.request(to, request, { timeoutMs: 3 * this.config.requestTimeoutMs, process }, (response) => {
      this.inFlight--;
      callback(response);
    });
  }

  /** Every client request answered or timed out, and the replicas converged. */
  settled(): boolean {
    return this.inFlight === 0 && this.converged();
  }

  /** Runs `load.clients` clients until `untilMs`, each one operation at a time. */
  startLoad(untilMs: number, load: QuorumLoad): void {
    for (let c = 0; c < load.clients; c++) this.runClient(`c${c}`, untilMs, load, new Map());
  }

  private runClient(client: string, untilMs: number, load: QuorumLoad, contexts: Map<string, string>): void {
    if (this.nowMs >= untilMs) return;
    const key = `k${this.rng.int(0, load.keys - 1)}`;
    const to = this.rng.pick(this.nodeIds);
    const startMs = this.nowMs;
    const next = (): void => this.sim.after(load.thinkMs, () => this.runClient(client, untilMs, load, contexts));
    if (this.rng.chance(0.5)) {
      const request: QuorumRequest = { op: 'get', bucket: QUORUM_BUCKET, key, ...(load.r === undefined ? {} : { r: load.r }) };
      const index = this.sim.invoke(client, 'get', { key });
      this.send(to, request, client, (res) => {
        if (res?.ok === true && res.op === 'get') contexts.set(key, res.context);
        this.ops.push(recordAnswer(this.sim, index, client, request, startMs, res));
        next();
      });
      return;
    }
    const blind = this.rng.chance(load.blindShare ?? 0.1);
    const context = blind ? '' : (contexts.get(key) ?? '');
    const value = this.rng.chance(load.deleteShare ?? 0.1) ? null : `${client}-${this.ops.length}`;
    const w = load.w === undefined ? {} : { w: load.w };
    const request: QuorumRequest = value === null ? { op: 'delete', bucket: QUORUM_BUCKET, key, context, ...w } : { op: 'put', bucket: QUORUM_BUCKET, key, value, context, ...w };
    const index = this.sim.invoke(client, value === null ? 'delete' : 'put', value === null ? { key } : { key, value });
    this.send(to, request, client, (res) => {
      if (res?.ok === true && res.op === 'write') contexts.set(key, res.context);
      this.ops.push(recordAnswer(this.sim, index, client, request, startMs, res));
      next();
    });
  }

  /** Every copy of every key on the nodes that are up (plain buckets), for the checkers. */
  replicaStates(): DkvReplicaState[] {
    return replicaStatesOf(this.nodeIds, (id) => this.node(id));
  }

  /** True when every key's home replicas hold the same digest (absent and tombstone-only count alike) and no hint waits. */
  converged(): boolean {
    const keys = new Set<string>();
    for (const id of this.nodeIds) for (const k of this.node(id)?.keys() ?? []) keys.add(k);
    if (this.nodeIds.some((id) => (this.node(id)?.hints().length ?? 0) > 0)) return false;
    for (const key of keys) {
      const digests = new Set<string>();
      let absent = false;
      for (const home of this.homesOf(key)) {
        const state = this.node(home)?.stateOf(key);
        if (state === undefined) absent = true;
        else digests.add(digestOf(state));
      }
      if (digests.size > 1) return false;
      if (absent && digests.size === 1) {
        const holder = this.homesOf(key).map((h) => this.node(h)?.stateOf(key)).find((s) => s !== undefined);
        if (holder !== undefined && !(holder.kind === 'dvv' && holder.siblings.every((s) => s.value === null))) return false;
      }
    }
    return true;
  }
}

/** Every copy of every plain-bucket key on the nodes `nodeOf` gives (those up), in the checkers' terms. */
export function replicaStatesOf(ids: readonly NodeId[], nodeOf: (id: NodeId) => QuorumNodeView | undefined): DkvReplicaState[] {
  const out: DkvReplicaState[] = [];
  for (const id of ids) {
    const node = nodeOf(id);
    if (node === undefined) continue;
    for (const key of node.keys()) {
      const state = node.stateOf(key) as KeyState;
      if (state.kind === 'dvv') out.push({ node: id, key, vv: state.vv, siblings: state.siblings });
    }
  }
  return out;
}

/**
 * Completes a client's get, put or delete in the simulator's history and returns it in the dkv
 * checkers' terms. A refused write may still have been applied on some replicas: for the history's
 * model checker its outcome is unknown.
 */
export function recordAnswer(sim: QuorumSimulation, index: number, client: string, request: QuorumRequest, startMs: number, res: QuorumResponse | undefined): DkvOp {
  assertInvariant(request.op === 'get' || request.op === 'put' || request.op === 'delete', () => `no history record for ${request.op}`);
  const key = storeKeyOf(request.bucket, request.key);
  const outcome = res === undefined ? 'unknown' : res.ok ? 'ok' : 'fail';
  const error = res === undefined ? null : res.ok ? 'unexpected' : res.code;
  if (request.op === 'get') {
    const ok = res?.ok === true && res.op === 'get';
    sim.complete(index, ok ? 'ok' : outcome === 'ok' ? 'fail' : outcome, ok ? { values: [...res.values], siblings: res.siblings } : error === null ? null : { error });
    return { kind: 'read', client, key, startMs, endMs: sim.nowMs, outcome: ok ? 'ok' : outcome === 'ok' ? 'fail' : outcome, values: ok ? res.values : [], context: ok ? decodeContext(res.context) : null };
  }
  const ok = res?.ok === true && res.op === 'write';
  const written = ok ? 'ok' : outcome === 'ok' ? 'fail' : outcome;
  sim.complete(index, written === 'fail' ? 'unknown' : written, ok && res.dot !== null ? { dot: `${res.dot.actor}:${res.dot.counter}` } : error === null ? null : { error });
  return {
    kind: 'write',
    client,
    key,
    value: request.op === 'put' ? request.value : null,
    contextIn: decodeContext(request.context),
    startMs,
    endMs: sim.nowMs,
    outcome: written,
    dot: ok ? res.dot : null,
    contextOut: ok ? decodeContext(res.context) : null,
    ...(ok ? { valuesOut: res.values } : {}),
  };
}
