// Redlock as a client node runs it over N independent Redis-like nodes: SET NX PX with one random
// value on every node, held when a majority said OK within the validity time (TTL less the time
// taken and the clock-drift allowance), else undone everywhere and retried after a random wait.
// No fencing token. The small math below is this file's own; it will point at the shared Redlock
// math (src/lockcore/redlock.ts) once that lands.
import type { NodeId } from '../../core/index.js';
import type { RedisCommand } from '../../redislike/index.js';
import type { ClientContext } from '../../sim/client-node.js';
import type { BackendEvents, LockBackend, LockClientMessage } from './lock-client.js';
import { clockDriftMs, quorumSize, validityMs } from '../redlock.js';
import { lockKey } from './redis-lock-client.js';

/** Nodes that must agree: a majority of `n` (the real Redlock's arithmetic, src/lockcore/redlock.ts). */
export function redlockQuorum(n: number): number {
  return quorumSize(n);
}

/** The allowance for clock drift between the nodes: 1% of the TTL (rounded up) plus 2 ms, as the real client. */
export function redlockDriftMs(ttlMs: number): number {
  return clockDriftMs(ttlMs);
}

/** How long a lock taken in `elapsedMs` stays valid; <= 0: not acquired. */
export function redlockValidityMs(ttlMs: number, elapsedMs: number): number {
  return validityMs(ttlMs, elapsedMs, clockDriftMs(ttlMs));
}

export interface RedlockOptions {
  readonly redisNodes: readonly NodeId[];
  readonly lock: string;
  readonly ttlMs: number;
  /** How long to wait for the nodes' answers to one round (Redlock: small next to the TTL). */
  readonly roundTimeoutMs: number;
  /** A failed round is retried after a random wait in [backoffMs, 2·backoffMs). */
  readonly backoffMs: number;
}

type Stage =
  | { readonly kind: 'idle' }
  | { readonly kind: 'locking'; readonly startedAt: number; readonly answers: Map<NodeId, boolean> }
  | { readonly kind: 'backoff'; readonly until: number }
  | { readonly kind: 'held' }
  | { readonly kind: 'releasing'; readonly startedAt: number; readonly answers: Set<NodeId> };

type Ctx = ClientContext<LockClientMessage>;

export class RedlockBackend implements LockBackend {
  readonly name = 'redlock';
  private stage: Stage = { kind: 'idle' };
  private value = '';
  private round = 0;

  constructor(
    private readonly o: RedlockOptions,
    private readonly events: BackendEvents,
  ) {
    if (o.redisNodes.length === 0) throw new RangeError('redlock: no Redis nodes');
  }

  acquire(ctx: Ctx): void {
    this.round = 0;
    this.lockRound(ctx);
  }

  onMessage(from: NodeId, msg: LockClientMessage, ctx: Ctx): void {
    if (msg.type !== 'redisReply' || !msg.reqId.startsWith(`${ctx.opId}:${this.round}:`)) return;
    const s = this.stage;
    if (s.kind === 'locking' && msg.reqId.endsWith(':set')) {
      s.answers.set(from, msg.reply.ok && msg.reply.value === 'OK');
      if (s.answers.size === this.o.redisNodes.length) this.decide(ctx, s);
    } else if (s.kind === 'releasing' && msg.reqId.endsWith(':del')) {
      s.answers.add(from);
      if (s.answers.size === this.o.redisNodes.length) this.released(ctx);
    }
  }

  onTick(ctx: Ctx): void {
    const s = this.stage;
    const now = ctx.now();
    if (s.kind === 'backoff' && now >= s.until) this.lockRound(ctx);
    else if (s.kind === 'locking' && now >= s.startedAt + this.o.roundTimeoutMs) this.decide(ctx, s);
    else if (s.kind === 'releasing' && now >= s.startedAt + this.o.roundTimeoutMs) this.released(ctx);
  }

  release(ctx: Ctx): void {
    if (this.stage.kind === 'idle') return this.events.released(ctx);
    this.stage = { kind: 'releasing', startedAt: ctx.now(), answers: new Set() };
    this.everywhere(ctx, 'del', { cmd: 'delIfEq', key: lockKey(this.o.lock), value: this.value });
  }

  abandon(ctx: Ctx): void {
    if (this.stage.kind !== 'idle') this.everywhere(ctx, 'del', { cmd: 'delIfEq', key: lockKey(this.o.lock), value: this.value });
    this.stage = { kind: 'idle' };
  }

  private lockRound(ctx: Ctx): void {
    this.round++;
    this.value = `${ctx.opId}#${this.round}`;
    this.stage = { kind: 'locking', startedAt: ctx.now(), answers: new Map() };
    this.everywhere(ctx, 'set', { cmd: 'set', key: lockKey(this.o.lock), value: this.value, nx: true, pxMs: this.o.ttlMs });
  }

  /** Every answer is in, or the round's time is up: held with a majority and time left, else undone. */
  private decide(ctx: Ctx, s: Extract<Stage, { kind: 'locking' }>): void {
    const ok = [...s.answers.values()].filter((x) => x).length;
    const validityMs = redlockValidityMs(this.o.ttlMs, ctx.now() - s.startedAt);
    if (ok >= redlockQuorum(this.o.redisNodes.length) && validityMs > 0) {
      this.stage = { kind: 'held' };
      this.events.acquired(ctx, { grant: this.value, token: null, validUntilMs: s.startedAt + this.o.ttlMs - redlockDriftMs(this.o.ttlMs) });
      return;
    }
    // undo on every node (a SET that answered late may have been applied), then wait and retry
    this.everywhere(ctx, 'undo', { cmd: 'delIfEq', key: lockKey(this.o.lock), value: this.value });
    this.stage = { kind: 'backoff', until: ctx.now() + this.o.backoffMs + Math.floor(ctx.random() * this.o.backoffMs) };
  }

  private released(ctx: Ctx): void {
    this.stage = { kind: 'idle' };
    this.events.released(ctx);
  }

  private everywhere(ctx: Ctx, tag: string, command: RedisCommand): void {
    for (const node of this.o.redisNodes) ctx.send(node, { type: 'redisCommand', reqId: `${ctx.opId}:${this.round}:${tag}`, command });
  }
}
