// A sans-I/O Redis-like node: one keyspace of strings with expiry on the node's own clock (under a
// drift or jump fault its clock runs fast or jumps, and keys expire early or late), the commands a
// lock needs, and two persistence modes: none (a restart loses everything) or fsync-always.
import { assertInvariant, type CoreEnv, type Effects, type NodeId, type ProtocolCore, type ProtocolSpec } from '../core/index.js';
import { isWriteCommand, redisCommandProblem, type RedisCommand, type RedisReply } from './commands.js';

/** none: memory only, as Redis without AOF or RDB; fsync-always: every write is synced before its reply (appendfsync always). */
export type RedisPersistence = 'none' | 'fsync-always';

/** What a client node sends and gets back; `reqId` is the client's, echoed. */
export type RedisMessage =
  | { readonly type: 'redisCommand'; readonly reqId: string; readonly command: RedisCommand }
  | { readonly type: 'redisReply'; readonly reqId: string; readonly reply: RedisReply };

/** The append-only file: one op per write, replayed at restart (keys past their expiry by then are dropped). */
export type RedisOp =
  | { readonly kind: 'set'; readonly key: string; readonly value: string; readonly expiresAtMs: number | null }
  | { readonly kind: 'del'; readonly key: string }
  | { readonly kind: 'expire'; readonly key: string; readonly expiresAtMs: number };

/** What changed in the keyspace, for monitors (the simulator's lock checkers); times are the node's clock. */
export type RedisKeyEvent =
  | { readonly type: 'set' | 'extended'; readonly key: string; readonly value: string; readonly expiresAtMs: number | null }
  | { readonly type: 'deleted' | 'expired'; readonly key: string; readonly value: string };

/** Called synchronously inside the core (as RaftObserver is); it must not call back into it. */
export interface RedisObserver {
  keyEvent?(node: NodeId, event: RedisKeyEvent): void;
}

export interface RedisLikeOptions {
  readonly persistence: RedisPersistence;
  /** SETs of new keys beyond this many are refused with OOM. Default 10,000. */
  readonly maxKeys?: number;
  /** The active-expiry cycle (Redis's hz): every this many ms of the node's clock. Default 10. */
  readonly tickIntervalMs?: number;
  /** Keys examined per expiry cycle at most. Default 20. */
  readonly sweepKeysPerTick?: number;
  readonly observer?: RedisObserver;
}

export const REDIS_LIKE_DEFAULTS = { maxKeys: 10_000, tickIntervalMs: 10, sweepKeysPerTick: 20 } as const;

interface Entry {
  value: string;
  /** On this node's clock; null: no expiry. */
  expiresAtMs: number | null;
}

type Fx = Effects<RedisMessage, RedisOp, RedisReply>;

/** What INCR makes of a counter entry (absent: 1), or null when it holds no integer or would overflow. */
function counterAfter(entry: { readonly value: string } | undefined): number | null {
  const current = entry === undefined ? 0 : /^-?\d{1,15}$/.test(entry.value) ? Number(entry.value) : NaN;
  return Number.isSafeInteger(current + 1) ? current + 1 : null;
}

export class RedisLikeCore implements ProtocolCore<RedisMessage, RedisCommand, RedisReply, RedisOp> {
  private readonly keys = new Map<string, Entry>();
  private sweep: Iterator<[string, Entry]> | undefined;
  private readonly maxKeys: number;
  private readonly sweepKeysPerTick: number;

  constructor(
    private readonly env: CoreEnv,
    durable: readonly RedisOp[],
    private readonly options: RedisLikeOptions,
  ) {
    this.maxKeys = options.maxKeys ?? REDIS_LIKE_DEFAULTS.maxKeys;
    this.sweepKeysPerTick = options.sweepKeysPerTick ?? REDIS_LIKE_DEFAULTS.sweepKeysPerTick;
    assertInvariant(options.persistence === 'fsync-always' || durable.length === 0, () => `redis-like ${env.id}: persistence "none" but ${durable.length} durable op(s)`);
    for (const op of durable) this.replay(op);
  }

  private replay(op: RedisOp): void {
    if (op.kind === 'set') this.keys.set(op.key, { value: op.value, expiresAtMs: op.expiresAtMs });
    else if (op.kind === 'del') this.keys.delete(op.key);
    else {
      const entry = this.keys.get(op.key);
      if (entry !== undefined) entry.expiresAtMs = op.expiresAtMs;
    }
  }

  start(fx: Fx): void {
    fx.annotate('keys', this.keys.size);
  }

  handleMessage(from: NodeId, msg: RedisMessage, fx: Fx): void {
    if (msg.type !== 'redisCommand') return;
    fx.send(from, { type: 'redisReply', reqId: msg.reqId, reply: this.run(msg.command, fx) });
  }

  handleRequest(requestId: string, command: RedisCommand, fx: Fx): void {
    fx.reply(requestId, this.run(command, fx));
  }

  /** The active-expiry cycle: a bounded number of keys looked at, round-robin. */
  handleTick(fx: Fx): void {
    const now = this.env.now();
    for (let n = 0; n < this.sweepKeysPerTick && this.keys.size > 0; n++) {
      this.sweep ??= this.keys.entries();
      const next = this.sweep.next();
      if (next.done === true) {
        this.sweep = undefined;
        // one pass per tick at most
        if (n > 0) break;
        continue;
      }
      const [key, entry] = next.value;
      if (entry.expiresAtMs !== null && now >= entry.expiresAtMs) this.expire(key, entry, fx);
    }
  }

  /** The live keys now by this node's clock (for tests and monitors). */
  entries(): { key: string; value: string; expiresAtMs: number | null }[] {
    const now = this.env.now();
    return [...this.keys].filter(([, e]) => e.expiresAtMs === null || now < e.expiresAtMs).map(([key, e]) => ({ key, value: e.value, expiresAtMs: e.expiresAtMs }));
  }

  get persistence(): RedisPersistence {
    return this.options.persistence;
  }

  // ---------------------------------------------------------------- commands

  private run(command: RedisCommand, fx: Fx): RedisReply {
    const problem = redisCommandProblem(command);
    if (problem !== null) return { ok: false, error: 'ERR', message: problem };
    const reply = this.execute(command, fx);
    if (isWriteCommand(command)) fx.annotate('keys', this.keys.size);
    return reply;
  }

  private execute(c: RedisCommand, fx: Fx): RedisReply {
    const now = this.env.now();
    const entry = this.live(c.key, now, fx);
    switch (c.cmd) {
      case 'get':
        return { ok: true, value: entry?.value ?? null };
      case 'pttl':
        return { ok: true, value: entry === undefined ? -2 : entry.expiresAtMs === null ? -1 : entry.expiresAtMs - now };
      case 'set': {
        if (c.nx === true && entry !== undefined) return { ok: true, value: null };
        if (entry === undefined && this.keys.size >= this.maxKeys) return { ok: false, error: 'OOM', message: `more than ${this.maxKeys} keys` };
        const expiresAtMs = c.pxMs === undefined ? null : now + c.pxMs;
        this.write({ kind: 'set', key: c.key, value: c.value, expiresAtMs }, fx);
        this.options.observer?.keyEvent?.(this.env.id, { type: 'set', key: c.key, value: c.value, expiresAtMs });
        return { ok: true, value: 'OK' };
      }
      case 'delIfEq':
        if (entry === undefined || entry.value !== c.value) return { ok: true, value: 0 };
        this.write({ kind: 'del', key: c.key }, fx);
        this.options.observer?.keyEvent?.(this.env.id, { type: 'deleted', key: c.key, value: c.value });
        return { ok: true, value: 1 };
      case 'pexpireIfEq': {
        if (entry === undefined || entry.value !== c.value) return { ok: true, value: 0 };
        const expiresAtMs = now + c.pxMs;
        this.write({ kind: 'expire', key: c.key, expiresAtMs }, fx);
        this.options.observer?.keyEvent?.(this.env.id, { type: 'extended', key: c.key, value: c.value, expiresAtMs });
        return { ok: true, value: 1 };
      }
      case 'setNxFenced': {
        if (entry !== undefined) return { ok: true, value: null };
        const fence = this.live(c.fenceKey, now, fx);
        const next = counterAfter(fence);
        if (next === null) return { ok: false, error: 'WRONGTYPE', message: `${c.fenceKey}: value is not an integer or out of range` };
        if (this.keys.size + (fence === undefined ? 2 : 1) > this.maxKeys) return { ok: false, error: 'OOM', message: `more than ${this.maxKeys} keys` };
        // both writes in one step, as one Lua script runs: no client sees the key without its token
        this.write({ kind: 'set', key: c.fenceKey, value: String(next), expiresAtMs: fence?.expiresAtMs ?? null }, fx);
        const expiresAtMs = now + c.pxMs;
        this.write({ kind: 'set', key: c.key, value: c.value, expiresAtMs }, fx);
        this.options.observer?.keyEvent?.(this.env.id, { type: 'set', key: c.key, value: c.value, expiresAtMs });
        return { ok: true, value: next };
      }
      case 'incr': {
        const next = counterAfter(entry);
        if (next === null) return { ok: false, error: 'WRONGTYPE', message: 'value is not an integer or out of range' };
        if (entry === undefined && this.keys.size >= this.maxKeys) return { ok: false, error: 'OOM', message: `more than ${this.maxKeys} keys` };
        // INCR keeps the key's time to live
        this.write({ kind: 'set', key: c.key, value: String(next), expiresAtMs: entry?.expiresAtMs ?? null }, fx);
        return { ok: true, value: next };
      }
    }
  }

  /** The key's entry unless it has expired by now (lazy expiry: an expired key is removed on access). */
  private live(key: string, now: number, fx: Fx): Entry | undefined {
    const entry = this.keys.get(key);
    if (entry === undefined || entry.expiresAtMs === null || now < entry.expiresAtMs) return entry;
    this.expire(key, entry, fx);
    return undefined;
  }

  private expire(key: string, entry: Entry, fx: Fx): void {
    // Redis appends a DEL for an expired key to its AOF, so a replay never revives it
    this.write({ kind: 'del', key }, fx);
    fx.annotate('keys', this.keys.size);
    this.options.observer?.keyEvent?.(this.env.id, { type: 'expired', key, value: entry.value });
  }

  private write(op: RedisOp, fx: Fx): void {
    this.replay(op);
    if (this.options.persistence === 'fsync-always') fx.persist(op);
  }
}

export type RedisLikeSpec = ProtocolSpec<RedisMessage, RedisCommand, RedisReply, RedisOp, RedisLikeCore>;

export function redisLikeSpec(options: RedisLikeOptions): RedisLikeSpec {
  const tick = options.tickIntervalMs ?? REDIS_LIKE_DEFAULTS.tickIntervalMs;
  if (!Number.isSafeInteger(tick) || tick < 1) throw new RangeError(`redis-like: tickIntervalMs must be a whole number >= 1, got ${tick}`);
  if (options.persistence !== 'none' && options.persistence !== 'fsync-always') throw new RangeError(`redis-like: persistence must be "none" or "fsync-always", got ${String(options.persistence)}`);
  return { name: 'redis', tickIntervalMs: tick, create: (env, durable) => new RedisLikeCore(env, durable, options) };
}
