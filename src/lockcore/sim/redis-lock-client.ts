// The single-Redis lock as a client node takes it: SET key value NX PX ttl with a value unique to
// the grant and, with tokens, INCR of the name's fence counter in the same step (as the real
// backend's Lua script does), release by compare-and-delete.
import type { NodeId } from '../../core/index.js';
import type { RedisCommand, RedisReply } from '../../redislike/index.js';
import type { ClientContext } from '../../sim/client-node.js';
import { leaseMarginMs, type BackendEvents, type LockBackend, type LockClientMessage } from './lock-client.js';

export interface RedisLockOptions {
  readonly redisNode: NodeId;
  readonly lock: string;
  readonly ttlMs: number;
  /** Draw a fencing token from the fence counter in the step that sets the key; without, grants have token null. */
  readonly tokens: boolean;
  /** Wait before trying SET NX again when the key is held. */
  readonly backoffMs: number;
  /** A command unanswered this long counts as lost. */
  readonly commandTimeoutMs: number;
}

export const lockKey = (lock: string): string => `lock:${lock}`;
export const fenceKey = (lock: string): string => `fence:${lock}`;

type Stage =
  | { readonly kind: 'idle' }
  | { readonly kind: 'setting'; readonly sentAt: number }
  | { readonly kind: 'backoff'; readonly until: number }
  | { readonly kind: 'held' }
  | { readonly kind: 'releasing'; readonly sentAt: number };

type Ctx = ClientContext<LockClientMessage>;

export class RedisLockBackend implements LockBackend {
  readonly name = 'redis';
  private stage: Stage = { kind: 'idle' };
  private value = '';
  private attempt = 0;
  private reqId = '';

  constructor(
    private readonly o: RedisLockOptions,
    private readonly events: BackendEvents,
  ) {}

  acquire(ctx: Ctx): void {
    this.attempt = 0;
    this.set(ctx);
  }

  onMessage(_from: NodeId, msg: LockClientMessage, ctx: Ctx): void {
    if (msg.type !== 'redisReply' || msg.reqId !== this.reqId) return;
    const s = this.stage;
    const reply: RedisReply = msg.reply;
    if (s.kind === 'setting') {
      if (!reply.ok) return this.events.failed(ctx, `SET answered ${reply.error} ${reply.message}`);
      if (reply.value === null) return this.backoff(ctx);
      if (!this.o.tokens) return this.held(ctx, s.sentAt, null);
      if (typeof reply.value !== 'number') return this.events.failed(ctx, `SET NX + INCR answered ${JSON.stringify(reply.value)}`);
      this.held(ctx, s.sentAt, reply.value);
    } else if (s.kind === 'releasing') {
      this.stage = { kind: 'idle' };
      this.events.released(ctx);
    }
  }

  onTick(ctx: Ctx): void {
    const s = this.stage;
    const now = ctx.now();
    if (s.kind === 'backoff' && now >= s.until) return this.set(ctx);
    if (!('sentAt' in s) || now < s.sentAt + this.o.commandTimeoutMs) return;
    if (s.kind === 'releasing') {
      this.stage = { kind: 'idle' };
      return this.events.released(ctx);
    }
    // the SET may have been applied: clean up, then try again
    this.send(ctx, { cmd: 'delIfEq', key: lockKey(this.o.lock), value: this.value });
    this.backoff(ctx);
  }

  release(ctx: Ctx): void {
    if (this.stage.kind === 'idle') return this.events.released(ctx);
    this.stage = { kind: 'releasing', sentAt: ctx.now() };
    this.send(ctx, { cmd: 'delIfEq', key: lockKey(this.o.lock), value: this.value });
  }

  abandon(ctx: Ctx): void {
    if (this.stage.kind !== 'idle') this.send(ctx, { cmd: 'delIfEq', key: lockKey(this.o.lock), value: this.value });
    this.stage = { kind: 'idle' };
  }

  private set(ctx: Ctx): void {
    // a value unique to this try: a late reply or key of an earlier try is never mistaken for this one's
    this.value = `${ctx.opId}#${this.attempt++}`;
    this.stage = { kind: 'setting', sentAt: ctx.now() };
    const key = lockKey(this.o.lock);
    // the same key, value and TTL either way; with tokens the counter moves in the same step
    this.send(ctx, this.o.tokens ? { cmd: 'setNxFenced', key, value: this.value, pxMs: this.o.ttlMs, fenceKey: fenceKey(this.o.lock) } : { cmd: 'set', key, value: this.value, nx: true, pxMs: this.o.ttlMs });
  }

  private backoff(ctx: Ctx): void {
    this.stage = { kind: 'backoff', until: ctx.now() + this.o.backoffMs + Math.floor(ctx.random() * this.o.backoffMs) };
  }

  private held(ctx: Ctx, setAt: number, token: number | null): void {
    this.stage = { kind: 'held' };
    this.events.acquired(ctx, { grant: this.value, token, validUntilMs: setAt + this.o.ttlMs - leaseMarginMs(this.o.ttlMs) });
  }

  private send(ctx: Ctx, command: RedisCommand): void {
    this.reqId = `${ctx.opId}:r${this.attempt}:${command.cmd}`;
    ctx.send(this.o.redisNode, { type: 'redisCommand', reqId: this.reqId, command });
  }
}
