// The Raft KV as a client program calls it by message: requests to the node it believes leads,
// following leader hints, retrying on timeouts with the same session sequence number (so a
// command applies once), with a bounded number of calls in flight and of attempts per call.
import type { NodeId } from '../../core/index.js';
import type { KvLeaderRead } from '../../kv/leased-store.js';
import { kvRequestToJson, type KvRequest, type KvResult } from '../../kv/store.js';
import type { RaftRequest, RaftResponse } from '../../raft/types.js';
import type { KvClientMessage } from './kv-gateway.js';

/** How a request travels: a logged command, a linearizable read, or a leader-local read (lease keep-alive). */
export type KvCallKind = 'command' | 'read' | 'leaderRead';

/** How a call ended: a result (which may itself carry a KV error such as lease-not-found), or none. */
export type KvCallResult =
  | { readonly ok: true; readonly result: KvResult }
  /** `definite`: the request certainly had no effect (every attempt was refused before it could apply). */
  | { readonly ok: false; readonly error: string; readonly definite: boolean };

/** What the RPC needs of the client program's context during a call. */
export interface RpcContext {
  readonly opId: string;
  now(): number;
  random(): number;
  send(to: NodeId, msg: KvClientMessage): void;
}

export interface KvRpcOptions {
  readonly nodes: readonly NodeId[];
  /** An attempt unanswered after this long (client clock) goes to the next node. */
  readonly attemptTimeoutMs: number;
  /** Wait before retrying after a refusal. */
  readonly backoffMs: number;
  readonly maxAttempts: number;
  readonly maxInFlight: number;
}

export const KV_RPC_DEFAULTS = { attemptTimeoutMs: 120, backoffMs: 20, maxAttempts: 30, maxInFlight: 4 } as const;

interface Call {
  readonly reqId: string;
  readonly request: RaftRequest;
  readonly done: (r: KvCallResult) => void;
  target: NodeId;
  attempts: number;
  /** When the current attempt times out, or (waiting to retry) when the next one leaves. */
  dueAt: number;
  waiting: boolean;
  /** Some attempt may have applied (timed out, or answered with an unknown fate). */
  uncertain: boolean;
}

/** Refusals that prove a command did not apply (as RAFT_KV_CLIENT in src/raft/cluster.ts). */
const DEFINITE = new Set(['not-leader', 'overloaded', 'transfer-in-progress', 'config-change-in-progress', 'bad-request']);

export class KvRpc {
  private readonly calls = new Map<string, Call>();
  private guess: NodeId;
  private nextReq = 0;
  private session = '';
  private seq = 0;

  constructor(private readonly o: KvRpcOptions) {
    if (o.nodes.length === 0) throw new RangeError('KvRpc: no Raft nodes to call');
    this.guess = o.nodes[0] as NodeId;
  }

  get inFlight(): number {
    return this.calls.size;
  }

  /** Starts a call; `done` runs exactly once (not at all after `cancelAll`). False when too many are in flight. */
  call(ctx: RpcContext, kind: KvCallKind, op: KvRequest | KvLeaderRead, done: (r: KvCallResult) => void): boolean {
    if (this.calls.size >= this.o.maxInFlight) return false;
    // one session per client operation: ids stay unique across the node's restarts, as opIds do
    if (this.session !== ctx.opId) {
      this.session = ctx.opId;
      this.seq = 0;
    }
    const json = op.op === 'leaseKeepAlive' || (kind === 'leaderRead' && op.op === 'leaseTimeToLive') ? { ...op } : kvRequestToJson(op as KvRequest);
    const request: RaftRequest = kind === 'command' ? { type: 'command', clientId: `lock:${ctx.opId}`, seq: ++this.seq, op: json } : { type: kind, op: json };
    const call: Call = { reqId: `${ctx.opId}:${this.nextReq++}`, request, done, target: this.guess, attempts: 0, dueAt: 0, waiting: false, uncertain: false };
    this.calls.set(call.reqId, call);
    this.attempt(ctx, call);
    return true;
  }

  /** Handles a `kvReply` (true); false for any other message. */
  onMessage(from: NodeId, msg: KvClientMessage, ctx: RpcContext): boolean {
    if (msg.type !== 'kvReply') return false;
    const call = this.calls.get(msg.reqId);
    // a late answer to a finished call is dropped; a late success of an earlier attempt is as good as any
    if (call === undefined || (call.waiting && !msg.response.ok)) return true;
    this.answered(ctx, call, from, msg.response);
    return true;
  }

  /** Times out attempts and sends retries that are due. */
  onTick(ctx: RpcContext): void {
    const now = ctx.now();
    for (const call of [...this.calls.values()]) {
      if (now < call.dueAt) continue;
      if (!call.waiting) {
        // no answer: the request may have applied; try the next node
        call.uncertain = call.uncertain || call.request.type === 'command';
        call.target = this.nextNode(call.target);
        this.guess = call.target;
      }
      this.attempt(ctx, call);
    }
  }

  /** Forgets every call (their answers are ignored from now on). */
  cancelAll(): void {
    this.calls.clear();
  }

  private attempt(ctx: RpcContext, call: Call): void {
    if (call.attempts >= this.o.maxAttempts) {
      this.calls.delete(call.reqId);
      call.done({ ok: false, error: `no answer after ${call.attempts} attempts`, definite: !call.uncertain });
      return;
    }
    call.attempts++;
    call.waiting = false;
    call.dueAt = ctx.now() + this.o.attemptTimeoutMs;
    ctx.send(call.target, { type: 'kvRequest', reqId: call.reqId, request: call.request });
  }

  private retry(ctx: RpcContext, call: Call, target: NodeId): void {
    call.target = target;
    call.waiting = true;
    call.dueAt = ctx.now() + this.o.backoffMs + Math.floor(ctx.random() * this.o.backoffMs);
  }

  private answered(ctx: RpcContext, call: Call, from: NodeId, res: RaftResponse): void {
    if (res.ok) {
      this.guess = from;
      this.calls.delete(call.reqId);
      if (!('result' in res)) return call.done({ ok: false, error: 'unexpected status reply', definite: false });
      call.done({ ok: true, result: res.result as KvResult });
      return;
    }
    const hinted = res.leaderHint !== null && this.o.nodes.includes(res.leaderHint) ? res.leaderHint : undefined;
    if (!DEFINITE.has(res.error)) call.uncertain = call.uncertain || call.request.type === 'command';
    switch (res.error) {
      case 'not-leader':
      case 'transfer-in-progress':
        return this.retry(ctx, call, hinted ?? this.nextNode(from));
      case 'overloaded':
      case 'config-change-in-progress':
        return this.retry(ctx, call, from);
      case 'leadership-lost':
      case 'timeout':
        return this.retry(ctx, call, hinted ?? this.nextNode(from));
      default:
        this.calls.delete(call.reqId);
        call.done({ ok: false, error: res.error, definite: !call.uncertain });
    }
  }

  private nextNode(after: NodeId): NodeId {
    const nodes = this.o.nodes;
    return nodes[(nodes.indexOf(after) + 1) % nodes.length] as NodeId;
  }
}
