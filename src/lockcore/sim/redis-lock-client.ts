// The single-Redis lock as a client node takes it: SET key value NX PX ttl with a value unique to
// the grant, a fencing token from INCR once the key is set, release by compare-and-delete. The
// token comes from a second command: a holder paused between SET and INCR can draw a token above
// its successor's (docs/locks.md); only an atomic script would close that gap.
import type { NodeId } from '../../core/index.js';
import type { RedisCommand, RedisReply } from '../../redislike/index.js';
import type { ClientContext } from '../../sim/client-node.js';
import { leaseMarginMs, type BackendEvents, type LockBackend, type LockClientMessage } from './lock-client.js';

export interface RedisLockOptions {
  readonly redisNode: NodeId;
  readonly lock: string;
  readonly ttlMs: number;
  /** Draw a fencing token from INCR after the key is set; without, grants have token null. */
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
  | { readonly kind: 'counting'; readonly setAt: number; sentAt: number }
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
      if (reply.value !== 'OK') return this.backoff(ctx);
      if (!this.o.tokens) return this.held(ctx, s.sentAt, null);
      this.stage = { kind: 'counting', setAt: s.sentAt, sentAt: ctx.now() };
      this.send(ctx, { cmd: 'incr', key: fenceKey(this.o.lock) });
    } else if (s.kind === 'counting') {
      if (!reply.ok || typeof reply.value !== 'number') return this.events.failed(ctx, `INCR answered ${JSON.stringify(reply)}`);
      this.held(ctx, s.setAt, reply.value);
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
    if (s.kind === 'counting') {
      // INCR is not idempotent: a retry may skip a number, which fencing tolerates
      s.sentAt = now;
      return this.send(ctx, { cmd: 'incr', key: fenceKey(this.o.lock) });
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
    this.send(ctx, { cmd: 'set', key: lockKey(this.o.lock), value: this.value, nx: true, pxMs: this.o.ttlMs });
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
