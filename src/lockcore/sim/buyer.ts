// The inventory race's buyers without an external lock: two buyers, one item left. A plain read
// then write loses an update (both sell the last item); the database's row lock (pessimistic), a
// version check (optimistic, a txn on Synod's KV comparing the version) and an atomic conditional
// decrement each prevent it. The fourth remedy, a lock with a fenced write, is LockClientProgram.
import type { JsonValue, NodeId } from '../../core/index.js';
import type { KvResult } from '../../kv/store.js';
import type { ClientContext, ClientProgram } from '../../sim/client-node.js';
import { KV_RPC_DEFAULTS, KvRpc, type KvCallResult } from './kv-rpc.js';
import type { LockClientMessage, LockClientOp } from './lock-client.js';
import type { DbReply, DbRequest } from './resource.js';

/** How a buyer keeps the last item from being sold twice (or, for read-then-write, does not). */
export type InventoryApproach = 'read-then-write' | 'row-lock' | 'version-check' | 'conditional-decrement';

export const INVENTORY_APPROACHES: readonly InventoryApproach[] = ['read-then-write', 'row-lock', 'version-check', 'conditional-decrement'];

export interface BuyerOptions {
  readonly self: NodeId;
  readonly approach: InventoryApproach;
  readonly dbNode: NodeId;
  /** The Raft KV's nodes (version-check keeps the stock there). */
  readonly kvNodes: readonly NodeId[];
  /** Work between reading the stock and writing it back. */
  readonly workMs: number;
  /** version-check: conflicts retried at most this many times. */
  readonly maxRetries: number;
}

/** Where version-check records a sale: one key per buyer operation, written in the same txn as the stock. */
export const orderKey = (buyer: NodeId, opId: string): string => `orders/${buyer}/${opId}`;

type Phase =
  | { readonly kind: 'idle' }
  /** Waiting for the database's answer to `step`. */
  | { readonly kind: 'db'; readonly step: 'read' | 'lock' | 'write' | 'unlock' | 'decrement' }
  | { readonly kind: 'kv'; readonly step: 'get' | 'txn' }
  | { readonly kind: 'working'; readonly until: number; readonly stock: number; readonly version: number };

type Ctx = ClientContext<LockClientMessage>;

export class BuyerProgram implements ClientProgram<LockClientMessage, LockClientOp> {
  private phase: Phase = { kind: 'idle' };
  private key = '';
  private workMs = 0;
  private reqId = '';
  private requests = 0;
  private retries = 0;
  private result: { outcome: 'ok' | 'fail'; output: JsonValue; error?: string } | undefined;
  private readonly rpc: KvRpc | undefined;

  constructor(private readonly o: BuyerOptions) {
    this.rpc = o.kvNodes.length > 0 ? new KvRpc({ nodes: o.kvNodes, ...KV_RPC_DEFAULTS }) : undefined;
  }

  begin(op: LockClientOp, ctx: Ctx): void {
    if (op.f !== 'buy') return ctx.finish('fail', null, `a buyer only buys, not ${op.f}`);
    this.key = op.key;
    this.workMs = op.workMs ?? this.o.workMs;
    this.retries = 0;
    this.result = undefined;
    switch (this.o.approach) {
      case 'read-then-write':
        return this.db(ctx, 'read', { op: 'read', key: this.key });
      case 'row-lock':
        return this.db(ctx, 'lock', { op: 'lockRow', key: this.key, owner: ctx.opId });
      case 'conditional-decrement':
        return this.db(ctx, 'decrement', { op: 'decrementIfPositive', key: this.key });
      case 'version-check':
        return this.get(ctx);
    }
  }

  onMessage(from: NodeId, msg: LockClientMessage, ctx: Ctx): void {
    if (msg.type === 'kvReply') {
      this.rpc?.onMessage(from, msg, ctx);
      return;
    }
    if (msg.type !== 'dbReply' || msg.reqId !== this.reqId || this.phase.kind !== 'db') return;
    this.onDb(this.phase.step, msg.reply, ctx);
  }

  onTick(ctx: Ctx): void {
    this.rpc?.onTick(ctx);
    const p = this.phase;
    if (p.kind !== 'working' || ctx.now() < p.until) return;
    if (this.o.approach === 'version-check') {
      this.phase = { kind: 'kv', step: 'txn' };
      // the stock and the order change together, only if nobody changed the stock since the read
      const txn = {
        op: 'txn',
        compare: [{ key: this.key, target: 'version', cmp: '=', value: p.version }],
        success: [{ op: 'put', key: this.key, value: p.stock - 1 }, { op: 'put', key: orderKey(this.o.self, ctx.opId), value: 1 }],
        failure: [],
      } as const;
      this.rpc?.call(ctx, 'command', txn, (r) => this.onTxn(r, ctx));
      return;
    }
    this.db(ctx, 'write', { op: 'write', key: this.key, value: p.stock - 1, token: null, grant: null });
  }

  abandon(): 'fail' | 'unknown' {
    const p = this.phase;
    this.rpc?.cancelAll();
    this.phase = { kind: 'idle' };
    // anything written (or a txn or decrement sent) may have been applied
    return p.kind === 'db' && (p.step === 'write' || p.step === 'decrement' || p.step === 'unlock') ? 'unknown' : p.kind === 'kv' && p.step === 'txn' ? 'unknown' : 'fail';
  }

  // ---------------------------------------------------------------- the database approaches

  private onDb(step: Extract<Phase, { kind: 'db' }>['step'], reply: DbReply, ctx: Ctx): void {
    switch (step) {
      case 'decrement':
        return reply.ok ? this.finish(ctx, 'ok', 'bought') : reply.error === 'not-positive' ? this.finish(ctx, 'ok', 'sold-out') : this.finish(ctx, 'fail', null, reply.message);
      case 'read':
      case 'lock': {
        if (!reply.ok) return this.finish(ctx, 'fail', null, reply.message);
        const stock = reply.value ?? 0;
        if (stock > 0) {
          this.phase = { kind: 'working', until: ctx.now() + this.workMs, stock, version: reply.version };
          return;
        }
        this.result = { outcome: 'ok', output: 'sold-out' };
        return step === 'lock' ? this.unlock(ctx) : this.finish(ctx, 'ok', 'sold-out');
      }
      case 'write':
        if (!reply.ok) {
          this.result = { outcome: 'fail', output: null, error: reply.message };
          return this.o.approach === 'row-lock' ? this.unlock(ctx) : this.finish(ctx, 'fail', null, reply.message);
        }
        this.result = { outcome: 'ok', output: 'bought' };
        return this.o.approach === 'row-lock' ? this.unlock(ctx) : this.finish(ctx, 'ok', 'bought');
      case 'unlock': {
        const r = this.result ?? { outcome: 'fail', output: null, error: 'no result' };
        return this.finish(ctx, r.outcome, r.output, r.error);
      }
    }
  }

  private unlock(ctx: Ctx): void {
    this.db(ctx, 'unlock', { op: 'unlockRow', key: this.key, owner: ctx.opId });
  }

  private db(ctx: Ctx, step: Extract<Phase, { kind: 'db' }>['step'], request: DbRequest): void {
    this.phase = { kind: 'db', step };
    this.reqId = `${ctx.opId}:db${this.requests++}`;
    ctx.send(this.o.dbNode, { type: 'dbRequest', reqId: this.reqId, request });
  }

  // ---------------------------------------------------------------- the version check on Synod's KV

  private get(ctx: Ctx): void {
    this.phase = { kind: 'kv', step: 'get' };
    this.rpc?.call(ctx, 'read', { op: 'get', key: this.key }, (r) => {
      const got = this.kvResult(r, ctx);
      if (got === undefined) return;
      if (!('version' in got) || !('createRevision' in got)) return this.finish(ctx, 'fail', null, `get answered ${JSON.stringify(got)}`);
      const stock = typeof got.value === 'number' ? got.value : 0;
      if (stock <= 0) return this.finish(ctx, 'ok', 'sold-out');
      this.phase = { kind: 'working', until: ctx.now() + this.workMs, stock, version: got.version };
    });
  }

  private onTxn(r: KvCallResult, ctx: Ctx): void {
    const result = this.kvResult(r, ctx);
    if (result === undefined) return;
    if (!('succeeded' in result)) return this.finish(ctx, 'fail', null, `txn answered ${JSON.stringify(result)}`);
    if (result.succeeded) return this.finish(ctx, 'ok', 'bought');
    // someone changed the stock since the read: read again
    if (this.retries++ >= this.o.maxRetries) return this.finish(ctx, 'fail', null, `still conflicting after ${this.o.maxRetries} retries`);
    this.get(ctx);
  }

  private kvResult(r: KvCallResult, ctx: Ctx): KvResult | undefined {
    if (r.ok) return r.result;
    this.finish(ctx, r.definite ? 'fail' : 'unknown', null, r.error);
    return undefined;
  }

  private finish(ctx: Ctx, outcome: 'ok' | 'fail' | 'unknown', output: JsonValue, error?: string): void {
    this.phase = { kind: 'idle' };
    ctx.finish(outcome, output, error);
  }
}
