// The Synod lock as a client node takes it from the Raft KV, after etcd's concurrency recipe: a
// lease, a key under the lock's prefix created with it (put-if-absent in a txn), the owner being
// the key of lowest createRevision (the fencing token), a wait on the key just before one's own
// until it is gone, and keep-alives of the lease throughout. Optionally STONITH: the new holder
// has the previous one powered off before it goes on.
import type { NodeId } from '../../core/index.js';
import type { KvLeaderRead } from '../../kv/leased-store.js';
import type { KvItem, KvRequest, KvResult } from '../../kv/store.js';
import type { ClientContext } from '../../sim/client-node.js';
import { KV_RPC_DEFAULTS, KvRpc, type KvCallKind, type KvCallResult } from './kv-rpc.js';
import { leaseMarginMs, type BackendEvents, type LockBackend, type LockClientMessage } from './lock-client.js';

export interface SynodLockOptions {
  readonly self: NodeId;
  readonly kvNodes: readonly NodeId[];
  readonly lock: string;
  readonly ttlMs: number;
  /** How often the key before one's own is looked at while waiting. */
  readonly pollMs: number;
  /** STONITH: the power switch to ask to power off the previous holder (none: no STONITH). */
  readonly powerNode?: NodeId;
}

/** Where the lock's keys live: `locks/NAME/LEASE`. */
export const lockPrefix = (lock: string): string => `locks/${lock}/`;
/** The last holder's node id, for STONITH: `holders/NAME`. */
export const holderKey = (lock: string): string => `holders/${lock}`;

type Stage =
  | { readonly kind: 'idle' }
  | { readonly kind: 'granting' }
  | { readonly kind: 'creating' }
  | { readonly kind: 'ranging' }
  | { readonly kind: 'waiting'; readonly predecessor: string; readonly predecessorRevision: number; pollAt: number; polling: boolean }
  | { readonly kind: 'recording' }
  | { readonly kind: 'fencing-off'; readonly target: NodeId | null; readonly reqId: string; sentAt: number; tries: number }
  /** Owner, with a lease too old to start work on: a keep-alive first. */
  | { readonly kind: 'refreshing' }
  | { readonly kind: 'held' }
  | { readonly kind: 'releasing' };

type Ctx = ClientContext<LockClientMessage>;

/** Tries to power off the previous holder before giving up on STONITH. */
const POWER_OFF_TRIES = 5;
const POWER_OFF_RETRY_MS = 100;

export class SynodLockBackend implements LockBackend {
  readonly name = 'synod';
  private readonly rpc: KvRpc;
  private stage: Stage = { kind: 'idle' };
  private leaseId: number | null = null;
  private key = '';
  private revision = 0;
  private validUntilMs = 0;
  private keepAliveDueAt = 0;
  private keepAliveInFlight = false;

  constructor(
    private readonly o: SynodLockOptions,
    private readonly events: BackendEvents,
  ) {
    this.rpc = new KvRpc({ nodes: o.kvNodes, ...KV_RPC_DEFAULTS });
  }

  acquire(ctx: Ctx): void {
    this.leaseId = null;
    this.keepAliveInFlight = false;
    this.rpc.cancelAll();
    this.stage = { kind: 'granting' };
    const sentAt = ctx.now();
    this.call(ctx, 'command', { op: 'leaseGrant', ttlMs: this.o.ttlMs }, (r) => {
      if (this.stage.kind !== 'granting') return;
      const result = this.result(ctx, r, 'lease grant');
      if (result === undefined) return;
      if (!('id' in result) || 'error' in result) return this.fail(ctx, `lease grant answered ${JSON.stringify(result)}`);
      this.leaseId = result.id;
      this.key = `${lockPrefix(this.o.lock)}${result.id}`;
      this.renewedAt(sentAt, ctx);
      this.create(ctx);
    });
  }

  onMessage(from: NodeId, msg: LockClientMessage, ctx: Ctx): void {
    if (msg.type === 'kvReply') {
      this.rpc.onMessage(from, msg, ctx);
      return;
    }
    const s = this.stage;
    if (msg.type === 'poweredOff' && s.kind === 'fencing-off' && msg.reqId === s.reqId) this.held(ctx);
  }

  onTick(ctx: Ctx): void {
    this.rpc.onTick(ctx);
    const now = ctx.now();
    const s = this.stage;
    if (this.leaseId !== null && s.kind !== 'releasing' && s.kind !== 'idle' && !this.keepAliveInFlight && now >= this.keepAliveDueAt) this.keepAlive(ctx);
    if (s.kind === 'waiting' && !s.polling && now >= s.pollAt) this.poll(ctx, s);
    if (s.kind === 'fencing-off' && now >= s.sentAt + POWER_OFF_RETRY_MS) {
      if (s.tries >= POWER_OFF_TRIES) return this.fail(ctx, `the power switch did not answer about ${s.target ?? '?'}`);
      s.tries++;
      s.sentAt = now;
      ctx.send(this.o.powerNode as NodeId, { type: 'powerOff', reqId: s.reqId, target: s.target as NodeId });
    }
  }

  release(ctx: Ctx): void {
    const id = this.leaseId;
    this.stage = { kind: 'releasing' };
    this.rpc.cancelAll();
    this.keepAliveInFlight = false;
    if (id === null) return this.events.released(ctx);
    // revoking the lease deletes the key: the next waiter's predecessor is gone
    this.call(ctx, 'command', { op: 'leaseRevoke', id }, () => {
      this.leaseId = null;
      this.stage = { kind: 'idle' };
      this.events.released(ctx);
    });
  }

  abandon(ctx: Ctx): void {
    this.rpc.cancelAll();
    if (this.leaseId !== null) this.call(ctx, 'command', { op: 'leaseRevoke', id: this.leaseId }, () => undefined);
    this.leaseId = null;
    this.stage = { kind: 'idle' };
  }

  // ---------------------------------------------------------------- steps

  /** Put-if-absent of the lock key with the lease; its createRevision is the token. */
  private create(ctx: Ctx): void {
    this.stage = { kind: 'creating' };
    const request: KvRequest = {
      op: 'txn',
      compare: [{ key: this.key, target: 'createRevision', cmp: '=', value: 0 }],
      success: [{ op: 'put', key: this.key, value: this.o.self, lease: this.leaseId as number }],
      failure: [{ op: 'get', key: this.key }],
    };
    this.call(ctx, 'command', request, (r) => {
      if (this.stage.kind !== 'creating') return;
      const result = this.result(ctx, r, 'lock key txn');
      if (result === undefined) return;
      if (!('succeeded' in result)) return this.fail(ctx, `lock key txn answered ${JSON.stringify(result)}`);
      const got = result.results[0];
      // a retried txn that had applied finds its own key: the same createRevision either way
      const revision = result.succeeded ? result.revision : got !== undefined && 'createRevision' in got ? got.createRevision : 0;
      if (revision === 0) return this.fail(ctx, 'the lock key is gone (the lease expired)');
      this.revision = revision;
      this.range(ctx);
    });
  }

  /** Who owns the lock: the key of lowest createRevision. */
  private range(ctx: Ctx): void {
    this.stage = { kind: 'ranging' };
    this.call(ctx, 'read', { op: 'range', prefix: lockPrefix(this.o.lock) }, (r) => {
      if (this.stage.kind !== 'ranging') return;
      const result = this.result(ctx, r, 'lock range');
      if (result === undefined) return;
      if (!('items' in result)) return this.fail(ctx, `lock range answered ${JSON.stringify(result)}`);
      const items: KvItem[] = result.items;
      if (!items.some((i) => i.key === this.key && i.createRevision === this.revision)) return this.fail(ctx, 'the lock key is gone (the lease expired)');
      let predecessor: KvItem | undefined;
      for (const i of items) if (i.createRevision < this.revision && (predecessor === undefined || i.createRevision > predecessor.createRevision)) predecessor = i;
      if (predecessor === undefined) return this.owned(ctx);
      this.stage = { kind: 'waiting', predecessor: predecessor.key, predecessorRevision: predecessor.createRevision, pollAt: ctx.now(), polling: false };
    });
  }

  /** Waiting: is the key before one's own still there? */
  private poll(ctx: Ctx, s: Extract<Stage, { kind: 'waiting' }>): void {
    s.polling = true;
    this.call(ctx, 'read', { op: 'get', key: s.predecessor }, (r) => {
      if (this.stage !== s) return;
      s.polling = false;
      const result = this.result(ctx, r, 'wait for the predecessor');
      if (result === undefined) return;
      const gone = !('createRevision' in result) || result.createRevision !== s.predecessorRevision;
      if (gone) return this.range(ctx);
      s.pollAt = ctx.now() + this.o.pollMs;
    });
  }

  private owned(ctx: Ctx): void {
    if (this.o.powerNode === undefined) return this.held(ctx);
    // STONITH: record oneself as the holder, and have the previous one powered off
    this.stage = { kind: 'recording' };
    this.call(ctx, 'command', { op: 'put', key: holderKey(this.o.lock), value: this.o.self, prevKv: true }, (r) => {
      if (this.stage.kind !== 'recording') return;
      const result = this.result(ctx, r, 'holder record');
      if (result === undefined) return;
      const prev = 'prevKv' in result ? result.prevKv : null;
      const target = prev !== null && prev !== undefined && typeof prev.value === 'string' && prev.value !== this.o.self ? prev.value : null;
      if (target === null) return this.held(ctx);
      const reqId = `${ctx.opId}:power`;
      this.stage = { kind: 'fencing-off', target, reqId, sentAt: ctx.now(), tries: 1 };
      ctx.send(this.o.powerNode as NodeId, { type: 'powerOff', reqId, target });
    });
  }

  private held(ctx: Ctx): void {
    // a lease granted long ago (a slow grant, a long wait) is renewed before the work starts
    if (this.stage.kind !== 'refreshing' && ctx.now() + this.o.ttlMs / 2 > this.validUntilMs) {
      this.stage = { kind: 'refreshing' };
      if (!this.keepAliveInFlight) this.keepAlive(ctx);
      return;
    }
    this.stage = { kind: 'held' };
    this.events.acquired(ctx, { grant: this.key, token: this.revision, validUntilMs: this.validUntilMs });
  }

  private keepAlive(ctx: Ctx): void {
    const id = this.leaseId as number;
    const sentAt = ctx.now();
    this.keepAliveInFlight = true;
    const started = this.call(ctx, 'leaderRead', { op: 'leaseKeepAlive', id }, (r) => {
      this.keepAliveInFlight = false;
      if (this.leaseId !== id || this.stage.kind === 'releasing' || this.stage.kind === 'idle') return;
      if (!r.ok) {
        // unanswered: try again soon; the validity computed so far still stands
        this.keepAliveDueAt = ctx.now() + Math.floor(this.o.ttlMs / 10);
        return;
      }
      if ('error' in r.result) return this.fail(ctx, `keep-alive: ${r.result.error} (the lease expired)`);
      this.renewedAt(sentAt, ctx);
      if (this.stage.kind === 'held') this.events.renewed(ctx, this.validUntilMs);
      else if (this.stage.kind === 'refreshing') this.held(ctx);
    });
    if (!started) this.keepAliveInFlight = false;
  }

  /** A grant or keep-alive sent at `sentAt` succeeded: the lease lasts at least its TTL from then, less the margin. */
  private renewedAt(sentAt: number, ctx: Ctx): void {
    this.validUntilMs = Math.max(this.validUntilMs, sentAt + this.o.ttlMs - leaseMarginMs(this.o.ttlMs));
    // a third of the TTL after the request left: at once when the answer took that long
    this.keepAliveDueAt = Math.max(ctx.now(), sentAt + Math.floor(this.o.ttlMs / 3));
  }

  // ---------------------------------------------------------------- plumbing

  private call(ctx: Ctx, kind: KvCallKind, op: KvRequest | KvLeaderRead, done: (r: KvCallResult) => void): boolean {
    const started = this.rpc.call(ctx, kind, op, done);
    if (!started && kind !== 'leaderRead') this.fail(ctx, 'too many KV calls in flight');
    return started;
  }

  /** The result of a call, or undefined after reporting the failure. */
  private result(ctx: Ctx, r: KvCallResult, what: string): KvResult | undefined {
    if (r.ok) return r.result;
    this.fail(ctx, `${what}: ${r.error}`);
    return undefined;
  }

  private fail(ctx: Ctx, reason: string): void {
    const s = this.stage;
    if (s.kind === 'releasing' || s.kind === 'idle') return;
    this.events.failed(ctx, reason);
  }
}
