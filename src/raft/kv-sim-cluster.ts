// The part of a simulated replicated-KV cluster that does not depend on the protocol: building the
// simulation from the common options, unwrapping cores, leader lookup, the retrying KV clients and
// the history's linearizability check. RaftCluster and the Multi-Paxos PaxosCluster extend it.
import type { History, Message, NodeId, Operation } from '../core/index.js';
import { checkHistory, kvModel, type CheckResult } from '../check/index.js';
import type { KvRequest, KvResult } from '../kv/store.js';
import { SessionClient, type ClientOptions, type ClientProtocol, type OpHandle } from '../sim/client.js';
import { SimCluster } from '../sim/cluster.js';
import { findLeader } from '../sim/faults.js';
import type { LinkConfig } from '../sim/network.js';
import { Simulation, type SimulationOptions } from '../sim/simulation.js';

const MODEL_OPS = new Set(['get', 'put', 'delete', 'cas', 'incr']);
/** The KV operations that only read. */
export const KV_READ_OPS: ReadonlySet<string> = new Set(['get', 'range']);

/**
 * A KV cluster's history restricted to the operations the checker's kv model knows (reads such as
 * range dropped); throws for an op that may have changed state outside the model.
 */
export function kvModelHistory(history: History): History {
  const unmodeled = history.ops.find((op) => !MODEL_OPS.has(op.f) && !KV_READ_OPS.has(op.f) && op.outcome !== 'fail');
  if (unmodeled !== undefined) {
    throw new RangeError(`history op ${unmodeled.index} (${unmodeled.f}) changes state outside the kv model; it cannot be checked for linearizability`);
  }
  return { format: history.format, ops: history.ops.filter((op: Operation) => MODEL_OPS.has(op.f)) };
}

/** The simulation options both KV clusters take the same way. */
export interface KvSimOptions<M extends Message, Req, Res, P> {
  readonly seed: number;
  /** A node count (named "1".."N") or explicit names. Default 3. */
  readonly nodes?: number | readonly NodeId[];
  readonly link?: Partial<LinkConfig>;
  readonly fsyncMs?: number;
  readonly tornWriteRate?: number;
  readonly clientLatencyMs?: number;
  /** Default off (fastest); pass { keepLines: true } to replay or export the trace. */
  readonly trace?: SimulationOptions<M, Req, Res, P>['trace'];
}

/** The node names a cluster option stands for: explicit names, or "1".."N" (default 3). */
export function clusterNodeIds(nodes: number | readonly NodeId[] | undefined): NodeId[] {
  return typeof nodes === 'object' ? [...nodes] : Array.from({ length: nodes ?? 3 }, (_, i) => String(i + 1));
}

/** The simulation of a KV cluster: no fsync delay and no trace unless asked for (the fastest runs). */
export function kvSimulation<M extends Message, Req, Res, P>(options: KvSimOptions<M, Req, Res, P>, ids: readonly NodeId[], protocol: SimulationOptions<M, Req, Res, P>['protocol']): Simulation<M, Req, Res, P> {
  return new Simulation({
    seed: options.seed,
    protocol,
    nodes: [...ids],
    link: options.link,
    fsyncMs: options.fsyncMs ?? 0,
    tornWriteRate: options.tornWriteRate,
    clientLatencyMs: options.clientLatencyMs,
    trace: options.trace ?? false,
  });
}

/** What the shared part needs of a core: its role, to tell leaders. */
interface RoleCore {
  status(): { readonly role: string };
}

/** How a concrete cluster plugs its protocol into the shared part. */
export interface KvSimClusterParts<Req, Res, Core> {
  readonly clientOptions: ClientOptions;
  readonly kvClient: ClientProtocol<KvRequest, Req, Res, KvResult>;
  /** Finds the protocol's core inside a wrapped core; undefined when cores are not wrapped. */
  readonly unwrapCore: ((core: unknown) => Core | undefined) | undefined;
}

export abstract class KvSimCluster<M extends Message, Req, Res, P, Core extends RoleCore> extends SimCluster<M, Req, Res, P> {
  readonly clientOptions: ClientOptions;
  private readonly clients = new Map<string, SessionClient<M, Req, Res, P, KvRequest, KvResult>>();
  private readonly kvClient: ClientProtocol<KvRequest, Req, Res, KvResult>;
  private readonly unwrapCore: ((core: unknown) => Core | undefined) | undefined;

  protected constructor(sim: Simulation<M, Req, Res, P>, parts: KvSimClusterParts<Req, Res, Core>) {
    super(sim);
    this.clientOptions = parts.clientOptions;
    this.kvClient = parts.kvClient;
    this.unwrapCore = parts.unwrapCore;
  }

  /** A leader that can serve at once (what "ready" means is the protocol's). */
  abstract readyLeader(): NodeId | undefined;

  /** Tells the monitor of a command the cluster acknowledged (index undefined: no log position given). */
  protected abstract acknowledged(index: number | undefined, clientId: string, seq: number): void;

  core(id: NodeId): Core | undefined {
    const core = this.sim.core(id);
    return this.unwrapCore === undefined ? (core as Core | undefined) : this.unwrapCore(core);
  }

  /** The up node that calls itself leader with the highest term or ballot. */
  leader(): NodeId | undefined {
    return findLeader(this.sim);
  }

  /** Up nodes that call themselves leader (more than one only across terms or ballots, e.g. a stale one in a minority). */
  leaders(): NodeId[] {
    return this.nodeIds.filter((id) => this.core(id)?.status().role === 'leader');
  }

  /** Runs until there is a ready leader; returns it, or undefined after `timeoutMs`. */
  waitForLeader(timeoutMs = 5000): NodeId | undefined {
    this.runUntil(() => this.readyLeader() !== undefined, timeoutMs);
    return this.readyLeader();
  }

  // ---------------------------------------------------------------- clients

  /** A client process (one operation at a time); the same name gives the same client. */
  client(name?: string): SessionClient<M, Req, Res, P, KvRequest, KvResult> {
    const process = name ?? `c${this.clients.size + 1}`;
    let c = this.clients.get(process);
    if (c === undefined) {
      c = new SessionClient(this, this.kvClient, process, (index, clientId, seq) => this.acknowledged(index, clientId, seq));
      this.clients.set(process, c);
    }
    return c;
  }

  /** Submits `op` through `client` (default "c1") and runs the simulation until it finishes. */
  exec(op: KvRequest, client: SessionClient<M, Req, Res, P, KvRequest, KvResult> = this.client('c1')): OpHandle<KvRequest, KvResult> {
    const handle = client.submit(op);
    this.runUntil(() => handle.done, this.clientOptions.opTimeoutMs + 10);
    return handle;
  }

  // ---------------------------------------------------------------- results

  /** The history restricted to the operations the checker's kv model knows (reads like range dropped). */
  kvHistory(): History {
    return kvModelHistory(this.history());
  }

  /** Checks the KV history for linearizability with the kv model. */
  checkLinearizability(maxStates = 4_000_000): CheckResult {
    return checkHistory(this.kvHistory(), kvModel, { maxStates });
  }
}
