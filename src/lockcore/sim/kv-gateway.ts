// Synod's Raft KV as client nodes reach it in a composition: a wrapper of the Raft core that takes
// client requests as messages (`kvRequest`) and sends the core's replies back as messages
// (`kvReply`), so a lock client running on its own node talks to the cluster over the network.
import { assertInvariant, type CoreEnv, type Effects, type NodeId, type OutputOptions, type ProtocolCore, type ProtocolSpec } from '../../core/index.js';
import { LeasedKvStore } from '../../kv/leased-store.js';
import type { KvQuery, KvRequest, KvResult } from '../../kv/store.js';
import type { RaftCore } from '../../raft/core.js';
import { raftSpec } from '../../raft/spec.js';
import type { RaftMessage, RaftObserver, RaftOptions, RaftPersistOp, RaftRequest, RaftResponse } from '../../raft/types.js';

/** A client's request to a Raft node and the node's answer; `reqId` is the client's, echoed. */
export type KvClientMessage =
  | { readonly type: 'kvRequest'; readonly reqId: string; readonly request: RaftRequest }
  | { readonly type: 'kvReply'; readonly reqId: string; readonly response: RaftResponse };

export type KvGatewayMessage = RaftMessage | KvClientMessage;

type OuterFx = Effects<KvGatewayMessage, RaftPersistOp, RaftResponse>;
type RaftFx = Effects<RaftMessage, RaftPersistOp, RaftResponse>;

/** Requests from client nodes a gateway waits on at most; beyond, it answers `overloaded` at once. */
export const MAX_GATEWAY_PENDING = 1024;

/** The Effects the Raft core writes to: replies to a client node's request become messages to it. */
class GatewayEffects implements RaftFx {
  outer: OuterFx | undefined;

  constructor(private readonly pending: Map<string, { readonly from: NodeId; readonly reqId: string }>) {}

  private fx(): OuterFx {
    assertInvariant(this.outer !== undefined, () => 'kv gateway: the Raft core wrote an output outside a call');
    return this.outer;
  }

  send(to: NodeId, msg: RaftMessage, options?: OutputOptions): void {
    this.fx().send(to, msg, options);
  }
  persist(op: RaftPersistOp): void {
    this.fx().persist(op);
  }
  reply(requestId: string, response: RaftResponse, options?: OutputOptions): void {
    const client = this.pending.get(requestId);
    if (client === undefined) return this.fx().reply(requestId, response, options);
    this.pending.delete(requestId);
    this.fx().send(client.from, { type: 'kvReply', reqId: client.reqId, response }, options);
  }
  annotate(key: string, value: string | number | boolean | null): void {
    this.fx().annotate(key, value);
  }
}

/** A Raft node that also serves client nodes by message. Host requests still reach the core as before. */
export class KvGatewayCore implements ProtocolCore<KvGatewayMessage, RaftRequest, RaftResponse, RaftPersistOp> {
  private readonly pending = new Map<string, { readonly from: NodeId; readonly reqId: string }>();
  private readonly inner: GatewayEffects;
  private nextId = 0;

  constructor(readonly raft: RaftCore<KvRequest, KvQuery, KvResult>) {
    this.inner = new GatewayEffects(this.pending);
  }

  start(fx: OuterFx): void {
    this.call(fx, (f) => this.raft.start(f));
  }

  handleMessage(from: NodeId, msg: KvGatewayMessage, fx: OuterFx): void {
    if (msg.type === 'kvReply') return;
    if (msg.type !== 'kvRequest') return this.call(fx, (f) => this.raft.handleMessage(from, msg, f));
    if (this.pending.size >= MAX_GATEWAY_PENDING) {
      fx.send(from, { type: 'kvReply', reqId: msg.reqId, response: { ok: false, error: 'overloaded', leaderHint: null, message: 'too many client requests in flight at this node' } });
      return;
    }
    const id = `gw${this.nextId++}`;
    this.pending.set(id, { from, reqId: msg.reqId });
    this.call(fx, (f) => this.raft.handleRequest(id, msg.request, f));
  }

  handleTick(fx: OuterFx): void {
    this.call(fx, (f) => this.raft.handleTick(f));
  }

  handleRequest(requestId: string, request: RaftRequest, fx: OuterFx): void {
    this.call(fx, (f) => this.raft.handleRequest(requestId, request, f));
  }

  /** Client requests waiting for the core's answer. */
  get pendingCount(): number {
    return this.pending.size;
  }

  private call(fx: OuterFx, fn: (f: RaftFx) => void): void {
    this.inner.outer = fx;
    try {
      fn(this.inner);
    } finally {
      this.inner.outer = undefined;
    }
  }
}

export interface KvGatewayOptions {
  readonly raft?: Partial<Omit<RaftOptions, 'observer'>>;
  readonly observer?: RaftObserver;
  /** Each node life's store, as it is created (monitors read lock state from it). */
  readonly onStore?: (node: NodeId, store: LeasedKvStore) => void;
}

export type KvGatewaySpec = ProtocolSpec<KvGatewayMessage, RaftRequest, RaftResponse, RaftPersistOp, KvGatewayCore>;

/** Raft over a LeasedKvStore on each node's clock, served to client nodes by message. */
export function kvGatewaySpec(options: KvGatewayOptions = {}): KvGatewaySpec {
  const spec = raftSpec<KvRequest, KvQuery, KvResult>({
    ...options.raft,
    ...(options.observer === undefined ? {} : { observer: options.observer }),
    createStateMachine: (env: CoreEnv) => {
      const store = new LeasedKvStore({ clock: () => env.now() });
      options.onStore?.(env.id, store);
      return store;
    },
  });
  return { name: 'kv', tickIntervalMs: spec.tickIntervalMs, create: (env, durable) => new KvGatewayCore(spec.create(env, durable)) };
}
