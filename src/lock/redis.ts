// The Redis lock backend (one redis-server): a Lua script SETs the owner key NX PX and INCRs the
// name's fencing counter in one step; release and extend compare the holder first; waiters queue
// FIFO. Tokens stay monotonic only while Redis keeps the counter (docs/locks.md, "Redis").
import type { Redis } from 'ioredis';
import type { AcquireOptions, Lock, LockedFunction, LockGrant } from './api.js';
import { LockError } from './errors.js';
import { usingLock } from './using.js';
import { clockDriftMs } from '../lockcore/redlock.js';
import { checkAcquire, checkGrant, checkName, extendTtl, randomId, rememberTtl } from './redis-arguments.js';
import {
  closeRedis,
  DEFAULT_CONNECT_TIMEOUT_MS,
  openRedis,
  redisCallError,
  runScript,
  type LuaScript,
  type RedisConnectionOptions,
  type RedisEndpoint,
} from './redis-connection.js';
import { COMPARE_AND_EXTEND, LOCK_ACQUIRE, LOCK_LEAVE, LOCK_RELEASE } from './redis-scripts.js';
import { acquireQueued, RedisSubscriber, WakeChannel, type AttemptReply } from './redis-waiting.js';

export interface RedisBackendOptions extends RedisConnectionOptions {
  /** The one Redis server. */
  readonly server: RedisEndpoint;
  /** Prefix of every key and channel (default `synod:lock:`; recipes use their own defaults). */
  readonly keyPrefix?: string;
  /** How long a waiter's place in a queue lasts without renewal (ms, default 3000); it renews every third. */
  readonly waiterLeaseMs?: number;
  /** The most waiters one name's queue holds (default 1000); more fail at once with QUEUE_FULL. */
  readonly maxWaiters?: number;
}

export const DEFAULT_WAITER_LEASE_MS = 3000;
export const DEFAULT_MAX_WAITERS = 1000;
const MAX_WAITERS_LIMIT = 100_000;

/** One client's connections and identity, shared by the lock, the recipes and the election. */
export class RedisSession {
  readonly clientId = randomId();
  readonly wake: WakeChannel;
  readonly waiterLeaseMs: number;
  readonly maxWaiters: number;
  private readonly subscriber: RedisSubscriber;
  private sequence = 0;
  private closedFlag = false;

  private constructor(
    readonly redis: Redis,
    readonly backend: string,
    readonly keyPrefix: string,
    options: RedisBackendOptions,
  ) {
    this.waiterLeaseMs = options.waiterLeaseMs ?? DEFAULT_WAITER_LEASE_MS;
    this.maxWaiters = options.maxWaiters ?? DEFAULT_MAX_WAITERS;
    if (!Number.isSafeInteger(this.waiterLeaseMs) || this.waiterLeaseMs < 300) throw new LockError('BAD_REQUEST', 'waiterLeaseMs is a whole number >= 300', backend);
    if (!Number.isSafeInteger(this.maxWaiters) || this.maxWaiters < 1 || this.maxWaiters > MAX_WAITERS_LIMIT) {
      throw new LockError('BAD_REQUEST', `maxWaiters is a whole number from 1 to ${MAX_WAITERS_LIMIT}`, backend);
    }
    this.subscriber = new RedisSubscriber(redis, options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS, backend);
    this.wake = new WakeChannel(this.subscriber, `${this.wakePrefix}${this.clientId}`);
  }

  /** Connects; BACKEND_UNREACHABLE when the server is not ready within the connect timeout. */
  static async open(options: RedisBackendOptions, backend: string, defaultPrefix: string): Promise<RedisSession> {
    const { redis, ready } = await openRedis(options.server, options);
    if (!ready) {
      redis.disconnect(false);
      throw new LockError('BACKEND_UNREACHABLE', `redis at ${options.server.host}:${options.server.port} did not answer`, backend);
    }
    try {
      return new RedisSession(redis, backend, options.keyPrefix ?? defaultPrefix, options);
    } catch (err) {
      redis.disconnect(false);
      throw err;
    }
  }

  /** The channel prefix the scripts publish wake-ups on. */
  get wakePrefix(): string {
    return `${this.keyPrefix}wake:`;
  }

  /** The channel an election's changes are announced on. */
  notifyChannel(name: string): string {
    return `${this.keyPrefix}changed:${name}`;
  }

  /** `<prefix><kind>:<name>`: the kind comes before the name, so no two names share a key. */
  key(kind: string, name: string): string {
    return `${this.keyPrefix}${kind}:${name}`;
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  get pollMs(): number {
    return Math.floor(this.waiterLeaseMs / 3);
  }

  nextWaiterId(suffix = ''): string {
    this.sequence++;
    return `${this.clientId}.${this.sequence}${suffix}`;
  }

  /** Runs a script; failures to reach Redis become BACKEND_UNREACHABLE. */
  async run(script: LuaScript, keys: readonly string[], args: readonly (string | number)[], what: string): Promise<unknown> {
    if (this.closedFlag) throw new LockError('BACKEND_UNREACHABLE', `${what}: the client is closed`, this.backend);
    try {
      return await runScript(this.redis, script, keys, args);
    } catch (err) {
      throw redisCallError(err, this.backend, what);
    }
  }

  /** Listens on a channel through the client's one subscriber connection. */
  listen(channel: string, listener: (message: string) => void): Promise<() => Promise<void>> {
    return this.subscriber.listen(channel, listener);
  }

  async close(): Promise<void> {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.wake.wakeAll();
    await this.subscriber.close();
    await closeRedis(this.redis);
  }
}

/** Parses an attempt script's reply: {1, token, holder} | {0, ms left, next} | {-1, ms left}. */
export function parseAttemptReply(reply: unknown, what: string): { kind: 'granted'; token: number; holder: string } | { kind: 'wait'; leftMs: number; next: boolean } | { kind: 'full' } {
  if (Array.isArray(reply)) {
    const [status, a, b] = reply as unknown[];
    if (status === 1 && typeof a === 'number' && typeof b === 'string') return { kind: 'granted', token: a, holder: b };
    if (status === 0 && typeof a === 'number') return { kind: 'wait', leftMs: a, next: b === 1 };
    if (status === -1) return { kind: 'full' };
  }
  throw new Error(`${what}: unexpected reply from redis: ${JSON.stringify(reply)}`);
}

/** A grant as this process sees it: the lease ends at the send time plus the TTL minus the drift allowance. */
export function makeGrant<Token extends number | null>(name: string, holder: string, token: Token, sentAtMs: number, ttlMs: number): LockGrant<Token> {
  return rememberTtl({ name, holder, token, leaseExpiresAt: sentAtMs + ttlMs - clockDriftMs(ttlMs) }, ttlMs);
}

/**
 * The Redis lock. Also the engine of the Redis election, which passes a value to store beside
 * the owner key (`acquireWith`) and has changes announced on a channel.
 */
export class RedisLock implements Lock<number> {
  readonly backend: string;
  readonly fencing = true as const;

  constructor(
    readonly session: RedisSession,
    /** Whether grants carry a value key and announce changes (the election). */
    private readonly election = false,
  ) {
    this.backend = session.backend;
  }

  private keys(name: string) {
    const s = this.session;
    return { owner: s.key('owner', name), fence: s.key('fence', name), queue: s.key('queue', name), alive: s.key('alive', name), value: s.key('value', name) };
  }

  private notify(name: string): string {
    return this.election ? this.session.notifyChannel(name) : '';
  }

  acquire(name: string, options: AcquireOptions): Promise<LockGrant<number>> {
    return this.acquireWith(name, options, undefined);
  }

  /** Acquire, storing `value` beside the owner key when this is an election's engine. */
  async acquireWith(name: string, options: AcquireOptions, value: string | undefined): Promise<LockGrant<number>> {
    const o = checkAcquire(name, options, this.backend);
    const k = this.keys(o.name);
    const s = this.session;
    const withValue = this.election ? [k.value] : [];
    return queuedAcquire(
      s,
      o,
      s.nextWaiterId(),
      { acquire: LOCK_ACQUIRE, leave: LOCK_LEAVE },
      { attempt: [k.owner, k.fence, k.queue, k.alive, ...withValue], leave: [k.owner, k.queue, k.alive, ...withValue] },
      [this.notify(o.name), ...(this.election ? [value ?? ''] : [])],
      [this.notify(o.name)],
      (grant) => this.release(grant),
    );
  }

  async tryAcquire(name: string, options: Omit<AcquireOptions, 'waitMs'>): Promise<LockGrant<number> | null> {
    try {
      return await this.acquire(name, { ttlMs: options.ttlMs, signal: options.signal, waitMs: 0 });
    } catch (err) {
      if (err instanceof LockError && err.code === 'LOCK_TIMEOUT') return null;
      throw err;
    }
  }

  async release(grant: LockGrant<number>): Promise<void> {
    const g = checkGrant(grant, this.backend);
    const name = checkName(g.name, this.backend);
    const k = this.keys(name);
    const s = this.session;
    const released = await s.run(LOCK_RELEASE, [k.owner, k.queue, k.alive, ...(this.election ? [k.value] : [])], [g.holder, s.wakePrefix, this.notify(name)], `release ${name}`);
    if (released !== 1) throw new LockError('LEASE_LOST', `${name} is no longer held by this grant (its lease expired or another holder has it)`, this.backend);
  }

  async extend(grant: LockGrant<number>, ttlMs?: number): Promise<LockGrant<number>> {
    const g = checkGrant(grant, this.backend);
    const name = checkName(g.name, this.backend);
    const ttl = extendTtl(g, ttlMs, this.backend);
    const k = this.keys(name);
    const sentAt = Date.now();
    const extended = await this.session.run(COMPARE_AND_EXTEND, [k.owner, ...(this.election ? [k.value] : [])], [g.holder, ttl], `extend ${name}`);
    if (extended !== 1) throw new LockError('LEASE_LOST', `${name} is no longer held by this grant (its lease expired or another holder has it)`, this.backend);
    return makeGrant(name, g.holder, grant.token, sentAt, ttl);
  }

  using<R>(name: string, options: AcquireOptions, fn: LockedFunction<number, R>): Promise<R> {
    return usingLock(this, name, options, fn);
  }

  close(): Promise<void> {
    return this.session.close();
  }
}

/** A Redis lock client: fencing tokens, FIFO waiting, fail-fast connection (see RedisBackendOptions). */
export async function createRedisLock(options: RedisBackendOptions): Promise<Lock<number>> {
  return new RedisLock(await RedisSession.open(options, 'redis', 'synod:lock:'));
}

/**
 * One attempt script + leave script over a session: the queued acquire of the lock and the
 * recipes. The attempt's arguments are the waiter, TTL, mode and the session's queue settings,
 * then `extraArgs`; the leave script's are the waiter and wake prefix, then `leaveExtraArgs`.
 */
export function queuedAcquire(
  session: RedisSession,
  o: { readonly name: string; readonly ttlMs: number; readonly waitMs: number | undefined; readonly signal: AbortSignal | undefined },
  waiterId: string,
  scripts: { readonly acquire: LuaScript; readonly leave: LuaScript },
  keys: { readonly attempt: readonly string[]; readonly leave: readonly string[] },
  extraArgs: readonly (string | number)[],
  leaveExtraArgs: readonly (string | number)[],
  release: (grant: LockGrant<number>) => Promise<void>,
): Promise<LockGrant<number>> {
  const attempt = async (mode: 'try' | 'wait'): Promise<AttemptReply<LockGrant<number>>> => {
    const sentAt = Date.now();
    const args = [waiterId, o.ttlMs, mode, session.waiterLeaseMs, session.maxWaiters, session.wakePrefix, ...extraArgs];
    const reply = parseAttemptReply(await session.run(scripts.acquire, keys.attempt, args, `acquire ${o.name}`), 'acquire');
    if (reply.kind === 'granted') return { kind: 'granted', grant: makeGrant(o.name, reply.holder, reply.token, sentAt, o.ttlMs) };
    return reply;
  };
  return acquireQueued({
    backend: session.backend,
    name: o.name,
    waiterId,
    waitMs: o.waitMs,
    signal: o.signal,
    pollMs: session.pollMs,
    wake: session.wake,
    isClosed: () => session.closed,
    attempt,
    leave: async () => {
      await session.run(scripts.leave, keys.leave, [waiterId, session.wakePrefix, ...leaveExtraArgs], `leave the queue of ${o.name}`);
    },
    release,
  });
}
