// Connections to Redis for the Redis and Redlock backends: ioredis set to fail fast (no offline
// queue, no resending, a command timeout, bounded reconnect backoff), Lua scripts run by SHA with
// a fallback to their source, and the mapping of Redis failures to LockError codes.
import { createHash } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import { LockError } from './errors.js';

/** One Redis server. */
export interface RedisEndpoint {
  readonly host: string;
  readonly port: number;
  readonly username?: string;
  readonly password?: string;
  readonly db?: number;
}

export interface RedisConnectionOptions {
  /** How long to wait for a connection (ms). Default 2000. */
  readonly connectTimeoutMs?: number;
  /** A command with no answer after this long fails (ms). Default 2000. */
  readonly commandTimeoutMs?: number;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 2000;
export const DEFAULT_COMMAND_TIMEOUT_MS = 2000;
/** The longest pause between reconnect attempts to a server that went away (ms). */
const RECONNECT_MAX_DELAY_MS = 1000;

/** A Lua script with its SHA-1, run with EVALSHA (EVAL the first time a server lacks it). */
export interface LuaScript {
  readonly name: string;
  readonly source: string;
  readonly sha1: string;
}

export function luaScript(name: string, source: string): LuaScript {
  return { name, source, sha1: createHash('sha1').update(source).digest('hex') };
}

function ioredisOptions(endpoint: RedisEndpoint, options: RedisConnectionOptions): RedisOptions {
  return {
    host: endpoint.host,
    port: endpoint.port,
    username: endpoint.username,
    password: endpoint.password,
    db: endpoint.db ?? 0,
    connectTimeout: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    commandTimeout: options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
    // fail fast: a command sent while disconnected fails at once, one in flight when the
    // connection drops fails rather than being sent again to a server that may have run it
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    // keep reconnecting in the background (a restarted server comes back), with bounded backoff
    retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 5), RECONNECT_MAX_DELAY_MS),
    lazyConnect: false,
    enableReadyCheck: true,
    connectionName: 'synod-lock',
    disableClientInfo: true,
    maintNotifications: 'disabled',
  };
}

/**
 * Opens a connection and resolves once it is ready, or after the connect timeout with
 * `ready: false` (the connection keeps trying in the background; commands fail fast meanwhile).
 */
export async function openRedis(endpoint: RedisEndpoint, options: RedisConnectionOptions = {}): Promise<{ readonly redis: Redis; readonly ready: boolean }> {
  const redis = new Redis(ioredisOptions(endpoint, options));
  // errors are reported per command; without a listener ioredis would print each reconnect failure
  redis.on('error', () => undefined);
  const ready = await waitReady(redis, options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);
  return { redis, ready };
}

/** A second connection to the same server (for SUBSCRIBE), ready or not after the timeout. */
export async function duplicateRedis(redis: Redis, timeoutMs: number): Promise<{ readonly redis: Redis; readonly ready: boolean }> {
  const copy = redis.duplicate();
  copy.on('error', () => undefined);
  return { redis: copy, ready: await waitReady(copy, timeoutMs) };
}

function waitReady(redis: Redis, timeoutMs: number): Promise<boolean> {
  if (redis.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      resolve(ok);
    };
    const onReady = (): void => done(true);
    const timer = setTimeout(() => done(false), timeoutMs);
    redis.once('ready', onReady);
  });
}

/** Closes a connection without waiting on a server that may be gone. */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'end') return;
  if (redis.status === 'ready') {
    try {
      await Promise.race([redis.quit(), new Promise((r) => setTimeout(r, 500))]);
    } catch {
      // already closing
    }
  }
  redis.disconnect(false);
}

function isNoScript(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith('NOSCRIPT');
}

/** Runs a script: EVALSHA, and EVAL when the server does not have it yet (a new or restarted server). */
export async function runScript(redis: Redis, script: LuaScript, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
  coalesceWritesThisTurn(redis);
  try {
    return await redis.evalsha(script.sha1, keys.length, ...keys, ...args);
  } catch (err) {
    if (!isNoScript(err)) throw err;
    return await redis.eval(script.source, keys.length, ...keys, ...args);
  }
}

/** Reply errors that mean the server cannot serve now (rather than a bug in a script or a call). */
const UNAVAILABLE_REPLIES = ['LOADING', 'BUSY', 'MASTERDOWN', 'READONLY', 'MISCONF', 'OOM', 'NOREPLICAS', 'TRYAGAIN', 'CLUSTERDOWN'];

/**
 * Whether an error from a Redis call means the server did not (or could not) serve it: no
 * connection, a timeout, or a reply such as LOADING. Other reply errors (a script error, a key of
 * the wrong type) are bugs or misconfiguration and are not retried.
 */
export function isRedisUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err.name !== 'ReplyError') return true;
  return UNAVAILABLE_REPLIES.some((prefix) => err.message.startsWith(prefix));
}

/** The LockError for a failed call to one server: BACKEND_UNREACHABLE, or the error itself when it is a bug. */
export function redisCallError(err: unknown, backend: string, what: string): Error {
  if (err instanceof LockError) return err;
  if (isRedisUnavailable(err)) {
    const detail = err instanceof Error ? err.message : String(err);
    return new LockError('BACKEND_UNREACHABLE', `${what}: redis did not answer (${detail})`, backend, { cause: err });
  }
  return err instanceof Error ? err : new Error(String(err));
}

/** Connections whose socket is corked until the end of this turn of the event loop. */
const corkedThisTurn = new WeakSet<object>();

/**
 * Holds a connection's writes until this turn's callbacks and promise reactions have run, so the
 * commands several callers send it in one turn leave in one write (one syscall, one read on the
 * server) instead of one each. ioredis writes each command as it is called; this is what its own
 * auto-pipelining buys without a Pipeline object per batch.
 */
export function coalesceWritesThisTurn(redis: Redis): void {
  const socket = redis.stream as { cork?: () => void; uncork?: () => void } | undefined;
  if (socket === undefined || typeof socket.cork !== 'function' || corkedThisTurn.has(socket)) return;
  corkedThisTurn.add(socket);
  socket.cork();
  // process.nextTick runs before the event loop moves on: called from a promise reaction (code
  // after an await), after every reaction of this burst, which may send more; called from a
  // plain callback, before that callback's reactions (they cork anew)
  process.nextTick(() => {
    corkedThisTurn.delete(socket);
    socket.uncork?.();
  });
}
