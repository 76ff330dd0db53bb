// A lock client as a simulated node: it takes a lock from a backend (Synod's KV, one Redis-like
// node, or Redlock over several), checks that its lease outlasts the work, works, and writes to
// the protected resource with the grant's fencing token (null from Redlock), then releases. The
// check comes before the work, not again before the write: a pause between a check and the write
// it guards is what no check can rule out, and the simulator's pauses put one there.
import type { JsonValue, NodeId } from '../../core/index.js';
import type { RedisMessage } from '../../redislike/index.js';
import type { ClientContext, ClientProgram } from '../../sim/client-node.js';
import type { KvClientMessage } from './kv-gateway.js';
import type { PowerMessage } from './power-switch.js';
import type { DbMessage, DbReply } from './resource.js';

/** Every message a lock client sends or receives. */
export type LockClientMessage = KvClientMessage | RedisMessage | DbMessage | PowerMessage;

/**
 * write: take the lock, work, write `value` under `key` with the token, release. buy: take the
 * lock, read the stock under `key`, work, write it less one (or stop when it is 0). read: a
 * plain read of the resource, without the lock.
 */
export type LockClientOp =
  | { readonly f: 'write'; readonly key: string; readonly value: number; readonly workMs?: number }
  | { readonly f: 'buy'; readonly key: string; readonly workMs?: number }
  | { readonly f: 'read'; readonly key: string };

/** A grant as the client holds it. */
export interface HeldGrant {
  /** Unique per grant: the Synod lock key, or the random value set in Redis. */
  readonly grant: string;
  readonly token: number | null;
  /** On the client's clock: after it the client must assume the lock lost. */
  readonly validUntilMs: number;
}

/** What a client tells its observer about its belief (the harness stamps the time). */
export type ClientLockNotice =
  | { readonly kind: 'acquired'; readonly lock: string; readonly grant: string; readonly token: number | null; readonly validUntilMs: number }
  | { readonly kind: 'renewed'; readonly lock: string; readonly grant: string; readonly validUntilMs: number }
  | { readonly kind: 'released' | 'lost'; readonly lock: string; readonly grant: string; readonly token: number | null; readonly reason: string };

/** Called inside the client core (as RaftObserver is); it must not call back into it. */
export interface LockClientObserver {
  notice?(client: NodeId, notice: ClientLockNotice): void;
}

/** What a backend tells the program, during one of the program's calls. */
export interface BackendEvents {
  acquired(ctx: ClientContext<LockClientMessage>, grant: HeldGrant): void;
  /** A keep-alive succeeded: the grant is valid until then (client clock). */
  renewed(ctx: ClientContext<LockClientMessage>, validUntilMs: number): void;
  /** The lock could not be taken, or (while held) was lost. */
  failed(ctx: ClientContext<LockClientMessage>, reason: string): void;
  /** The release finished (or was given up). */
  released(ctx: ClientContext<LockClientMessage>): void;
}

/** One lock service as a client sees it; one acquisition at a time. */
export interface LockBackend {
  readonly name: string;
  acquire(ctx: ClientContext<LockClientMessage>): void;
  onMessage(from: NodeId, msg: LockClientMessage, ctx: ClientContext<LockClientMessage>): void;
  onTick(ctx: ClientContext<LockClientMessage>): void;
  /** Gives the lock up (or abandons an acquisition in progress); `released` follows. */
  release(ctx: ClientContext<LockClientMessage>): void;
  /** The operation ran out of time: best-effort cleanup, no events. */
  abandon(ctx: ClientContext<LockClientMessage>): void;
}

export interface LockClientOptions {
  readonly self: NodeId;
  readonly lock: string;
  readonly dbNode: NodeId;
  /** Default work between the read (or the grant) and the write. */
  readonly workMs: number;
  /** A resource request unanswered this long is sent again (the database answers writes once per request id). */
  readonly dbRetryMs: number;
  readonly observer?: LockClientObserver;
}

export const LOCK_CLIENT_DEFAULTS = { workMs: 40, dbRetryMs: 150 } as const;

/**
 * What a client takes off a lease's TTL for clock-rate differences between itself and the lock
 * service: 1% of the TTL plus 2 ms (the rule of the Redlock description, used for every backend).
 */
export function leaseMarginMs(ttlMs: number): number {
  return Math.floor(ttlMs * 0.01) + 2;
}

type Outcome = { readonly outcome: 'ok' | 'fail' | 'unknown'; readonly output: JsonValue; readonly error?: string };

type Phase =
  | { readonly kind: 'idle' }
  | { readonly kind: 'plain-read'; readonly sentAt: number }
  | { readonly kind: 'acquiring' }
  | { readonly kind: 'reading'; readonly sentAt: number }
  /** The lease was checked and outlasts the work; the write leaves when the work is done. */
  | { readonly kind: 'working'; readonly value: number; readonly doneAt: number }
  | { readonly kind: 'writing'; readonly value: number; readonly sentAt: number }
  | { readonly kind: 'releasing'; readonly result: Outcome };

type Ctx = ClientContext<LockClientMessage>;

export class LockClientProgram implements ClientProgram<LockClientMessage, LockClientOp>, BackendEvents {
  private phase: Phase = { kind: 'idle' };
  private op: LockClientOp | undefined;
  private held: HeldGrant | undefined;
  /** The write left: the operation's fate is unknown until its answer. */
  private writeSent = false;
  /** Copies of the write sent (a resend after a silence). */
  private writeCopies = 0;
  private dbRequests = 0;
  private lastDb: { readonly reqId: string; readonly request: Extract<DbMessage, { type: 'dbRequest' }> } | undefined;

  private readonly backend: LockBackend;

  /** `backend` makes the lock service's client, reporting to this program. */
  constructor(
    private readonly o: LockClientOptions,
    backend: (events: BackendEvents) => LockBackend,
  ) {
    this.backend = backend(this);
  }

  // ---------------------------------------------------------------- the client program

  begin(op: LockClientOp, ctx: Ctx): void {
    this.op = op;
    this.held = undefined;
    this.writeSent = false;
    if (op.f === 'read') {
      this.enter({ kind: 'plain-read', sentAt: ctx.now() }, ctx);
      this.sendDb(ctx, { op: 'read', key: op.key });
      return;
    }
    this.enter({ kind: 'acquiring' }, ctx);
    this.backend.acquire(ctx);
  }

  onMessage(from: NodeId, msg: LockClientMessage, ctx: Ctx): void {
    if (msg.type === 'dbReply') {
      // only the answer to the request in flight: a late copy of an earlier one is stale
      if (msg.reqId === this.lastDb?.reqId) this.onDbReply(msg.reply, ctx);
      return;
    }
    this.backend.onMessage(from, msg, ctx);
  }

  onTick(ctx: Ctx): void {
    this.backend.onTick(ctx);
    const p = this.phase;
    const now = ctx.now();
    switch (p.kind) {
      case 'working':
        if (now >= p.doneAt) this.sendWrite(ctx, p.value);
        return;
      case 'plain-read':
      case 'reading':
      case 'writing':
        // the database is a single node: a lost request is sent again after a while
        if (now >= p.sentAt + this.o.dbRetryMs) this.resendDb(ctx);
        return;
      default:
        return;
    }
  }

  abandon(ctx: Ctx): 'fail' | 'unknown' {
    if (this.held !== undefined) this.notice({ kind: 'lost', lock: this.o.lock, grant: this.held.grant, token: this.held.token, reason: 'the operation timed out' });
    this.held = undefined;
    this.backend.abandon(ctx);
    this.enter({ kind: 'idle' }, ctx);
    return this.writeSent ? 'unknown' : 'fail';
  }

  // ---------------------------------------------------------------- what the backend tells

  acquired(ctx: Ctx, grant: HeldGrant): void {
    if (this.phase.kind !== 'acquiring' || this.op === undefined || this.op.f === 'read') return;
    this.held = grant;
    this.notice({ kind: 'acquired', lock: this.o.lock, grant: grant.grant, token: grant.token, validUntilMs: grant.validUntilMs });
    ctx.annotate('grant', grant.grant);
    ctx.annotate('token', grant.token);
    if (this.op.f === 'buy') {
      this.enter({ kind: 'reading', sentAt: ctx.now() }, ctx);
      this.sendDb(ctx, { op: 'read', key: this.op.key });
      return;
    }
    this.startWork(ctx, this.op.value);
  }

  renewed(_ctx: Ctx, validUntilMs: number): void {
    if (this.held === undefined) return;
    this.held = { ...this.held, validUntilMs };
    this.notice({ kind: 'renewed', lock: this.o.lock, grant: this.held.grant, validUntilMs });
  }

  failed(ctx: Ctx, reason: string): void {
    const p = this.phase;
    // whatever was taken on the way (a lease, keys on some nodes) is given back first
    if (p.kind === 'acquiring') return this.release(ctx, { outcome: 'fail', output: null, error: `no lock: ${reason}` });
    if (p.kind === 'reading' || p.kind === 'working') return this.loseAndStop(ctx, reason);
    // writing: the write is out, its answer decides; releasing: nothing left to lose
    if (this.held !== undefined && p.kind === 'writing') {
      this.notice({ kind: 'lost', lock: this.o.lock, grant: this.held.grant, token: this.held.token, reason });
      this.held = undefined;
    }
  }

  released(ctx: Ctx): void {
    if (this.phase.kind === 'releasing') this.finish(ctx, this.phase.result);
  }

  // ---------------------------------------------------------------- the critical section

  /** The check: the lease must outlast the work; then the work, and the write with no second look. */
  private startWork(ctx: Ctx, value: number): void {
    const workMs = this.op !== undefined && this.op.f !== 'read' ? (this.op.workMs ?? this.o.workMs) : this.o.workMs;
    const now = ctx.now();
    if (this.held === undefined || now + workMs >= this.held.validUntilMs) return this.loseAndStop(ctx, `the lease would run out during the work (valid until ${this.held?.validUntilMs ?? '?'}, now ${now}, work ${workMs} ms)`);
    this.enter({ kind: 'working', value, doneAt: now + workMs }, ctx);
  }

  private sendWrite(ctx: Ctx, value: number): void {
    const held = this.held;
    const op = this.op;
    if (held === undefined || op === undefined || op.f === 'read') return this.loseAndStop(ctx, 'no grant to write under');
    this.writeSent = true;
    this.writeCopies = 1;
    this.enter({ kind: 'writing', value, sentAt: ctx.now() }, ctx);
    this.sendDb(ctx, { op: 'write', key: op.key, value, token: held.token, grant: held.grant });
  }

  private onDbReply(reply: DbReply, ctx: Ctx): void {
    const p = this.phase;
    const op = this.op;
    if (op === undefined) return;
    if (p.kind === 'plain-read') return this.finish(ctx, reply.ok ? { outcome: 'ok', output: reply.value } : { outcome: 'fail', output: null, error: reply.error });
    if (p.kind === 'reading') {
      if (!reply.ok) return this.release(ctx, { outcome: 'fail', output: null, error: `read refused: ${reply.message}` });
      const stock = reply.value ?? 0;
      if (stock <= 0) return this.release(ctx, { outcome: 'ok', output: 'sold-out' });
      return this.startWork(ctx, stock - 1);
    }
    if (p.kind !== 'writing') return;
    if (reply.ok) return this.release(ctx, { outcome: 'ok', output: op.f === 'buy' ? 'bought' : p.value });
    const error = reply.error === 'fenced' ? `fenced: ${reply.message}` : reply.message;
    // after a resend, a refusal proves nothing of the first copy, which may have been applied
    return this.release(ctx, { outcome: this.writeCopies > 1 ? 'unknown' : 'fail', output: null, error });
  }

  /** The lease is gone before the write: stop, say so, release what may be left. */
  private loseAndStop(ctx: Ctx, reason: string): void {
    if (this.held !== undefined) this.notice({ kind: 'lost', lock: this.o.lock, grant: this.held.grant, token: this.held.token, reason });
    this.held = undefined;
    this.release(ctx, { outcome: 'fail', output: null, error: reason });
  }

  private release(ctx: Ctx, result: Outcome): void {
    if (this.held !== undefined) this.notice({ kind: 'released', lock: this.o.lock, grant: this.held.grant, token: this.held.token, reason: 'done' });
    this.held = undefined;
    this.enter({ kind: 'releasing', result }, ctx);
    this.backend.release(ctx);
  }

  private finish(ctx: Ctx, result: Outcome): void {
    this.enter({ kind: 'idle' }, ctx);
    ctx.finish(result.outcome, result.output, result.error);
  }

  // ---------------------------------------------------------------- the database

  private sendDb(ctx: Ctx, request: Extract<DbMessage, { type: 'dbRequest' }>['request']): void {
    const msg: Extract<DbMessage, { type: 'dbRequest' }> = { type: 'dbRequest', reqId: `${ctx.opId}:db${this.dbRequests++}`, request };
    this.lastDb = { reqId: msg.reqId, request: msg };
    ctx.send(this.o.dbNode, msg);
  }

  /** Sends the last request again, same id: a write the database already took is then answered as any (it is idempotent for the checker: same grant, same value). */
  private resendDb(ctx: Ctx): void {
    const p = this.phase;
    if (this.lastDb === undefined || !('sentAt' in p)) return;
    this.phase = { ...p, sentAt: ctx.now() };
    if (p.kind === 'writing') this.writeCopies++;
    ctx.send(this.o.dbNode, this.lastDb.request);
  }

  private notice(n: ClientLockNotice): void {
    this.o.observer?.notice?.(this.o.self, n);
  }

  private enter(phase: Phase, ctx: Ctx): void {
    this.phase = phase;
    ctx.annotate('phase', phase.kind);
  }
}
