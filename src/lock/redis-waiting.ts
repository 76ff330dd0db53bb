// Waiting for a Redis lock, semaphore or read-write grant without a herd: a FIFO queue on the
// server, a wake-up PUBLISHed to the head's client only, and re-checks at the holder's lease end
// and each poll (renewing the waiter's place), so a lost message only delays a waiter.
import type { Redis } from 'ioredis';
import { duplicateRedis, closeRedis } from './redis-connection.js';
import { LockError } from './errors.js';

/** One SUBSCRIBE connection per client, shared by every channel it listens on. */
export class RedisSubscriber {
  private connection: Promise<Redis> | undefined;
  private readonly listeners = new Map<string, Set<(message: string) => void>>();
  private closed = false;

  constructor(
    private readonly main: Redis,
    private readonly connectTimeoutMs: number,
    private readonly backend: string,
  ) {}

  private connect(): Promise<Redis> {
    this.connection ??= (async () => {
      const { redis, ready } = await duplicateRedis(this.main, this.connectTimeoutMs);
      if (!ready) {
        redis.disconnect(false);
        this.connection = undefined;
        throw new LockError('BACKEND_UNREACHABLE', 'redis did not accept a subscriber connection', this.backend);
      }
      redis.on('message', (channel: string, message: string) => {
        for (const listener of this.listeners.get(channel) ?? []) listener(message);
      });
      return redis;
    })();
    return this.connection;
  }

  /** Listens on `channel` (SUBSCRIBEd before this resolves) until the returned function is called. */
  async listen(channel: string, listener: (message: string) => void): Promise<() => Promise<void>> {
    if (this.closed) throw new LockError('BACKEND_UNREACHABLE', 'the client is closed', this.backend);
    const redis = await this.connect();
    let set = this.listeners.get(channel);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(channel, set);
      try {
        await redis.subscribe(channel);
      } catch (err) {
        this.listeners.delete(channel);
        throw new LockError('BACKEND_UNREACHABLE', `redis did not accept SUBSCRIBE ${channel}`, this.backend, { cause: err });
      }
    }
    set.add(listener);
    return async () => {
      const current = this.listeners.get(channel);
      if (current === undefined || !current.delete(listener) || current.size > 0) return;
      this.listeners.delete(channel);
      await redis.unsubscribe(channel).catch(() => undefined);
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    const connection = this.connection;
    this.connection = undefined;
    const redis = await connection?.catch(() => undefined);
    if (redis !== undefined) await closeRedis(redis);
  }
}

/** The wake-ups addressed to this client's waiters: one channel, messages are waiter ids. */
export class WakeChannel {
  private readonly armed = new Map<string, () => void>();
  private listening: Promise<unknown> | undefined;

  constructor(
    private readonly subscriber: RedisSubscriber,
    /** `<wake prefix><client id>`. */
    readonly channel: string,
  ) {}

  /** Subscribes once; a waiter must be listening before it joins a queue. */
  async ready(): Promise<void> {
    this.listening ??= this.subscriber.listen(this.channel, (waiterId) => this.armed.get(waiterId)?.()).catch((err: unknown) => {
      this.listening = undefined;
      throw err;
    });
    await this.listening;
  }

  /** A promise that resolves at the next wake-up for `waiterId`; `disarm` forgets it. */
  arm(waiterId: string): Promise<void> {
    return new Promise((resolve) => this.armed.set(waiterId, resolve));
  }

  disarm(waiterId: string): void {
    this.armed.delete(waiterId);
  }

  /** Resolves every armed waiter (they then see the client is closed). */
  wakeAll(): void {
    for (const wake of this.armed.values()) wake();
    this.armed.clear();
  }
}

/** What one attempt of a queued acquire answered. */
export type AttemptReply<G> =
  | { readonly kind: 'granted'; readonly grant: G }
  /** Not now; `leftMs` until the current holder's lease ends (< 0: unknown), `next`: first in line. */
  | { readonly kind: 'wait'; readonly leftMs: number; readonly next: boolean }
  /** The queue is at its bound. */
  | { readonly kind: 'full' };

export interface QueuedAcquire<G> {
  readonly backend: string;
  readonly name: string;
  readonly waiterId: string;
  readonly waitMs: number | undefined;
  readonly signal: AbortSignal | undefined;
  /** How often a waiter renews its place and re-checks (ms). */
  readonly pollMs: number;
  readonly wake: WakeChannel;
  /** Whether the client was closed (the wait then ends). */
  readonly isClosed: () => boolean;
  attempt(mode: 'try' | 'wait'): Promise<AttemptReply<G>>;
  /** Leaves the queue (and drops a grant the waiter may have been given unawares). */
  leave(): Promise<void>;
  release(grant: G): Promise<void>;
}

const abortedError = (q: { backend: string; name: string }): LockError => new LockError('LOCK_ABORTED', `the wait for ${q.name} was aborted`, q.backend);

/** Sleeps until `ms` passed, `woken` resolved or `signal` aborted, whichever is first. */
function nap(ms: number, woken: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(1, ms));
    signal?.addEventListener('abort', done, { once: true });
    void woken.then(done);
  });
}

/**
 * Acquires through the queue: one 'try' when waitMs is 0, else joins the queue and sleeps between
 * attempts until granted, `waitMs` passes (LOCK_TIMEOUT), `signal` aborts (LOCK_ABORTED), or a
 * call fails (BACKEND_UNREACHABLE). Whatever ends the wait, the waiter leaves the queue.
 */
export async function acquireQueued<G>(q: QueuedAcquire<G>): Promise<G> {
  if (q.signal?.aborted) throw abortedError(q);
  if (q.waitMs === 0) {
    let reply: AttemptReply<G>;
    try {
      reply = await q.attempt('try');
    } catch (err) {
      // the attempt may have run on the server although its answer was lost: drop such a grant
      await q.leave().catch(() => undefined);
      throw err;
    }
    if (reply.kind === 'granted') return reply.grant;
    throw new LockError('LOCK_TIMEOUT', `${q.name} is held (waitMs 0)`, q.backend);
  }
  await q.wake.ready();
  const deadline = q.waitMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + q.waitMs;
  try {
    for (;;) {
      // armed before the attempt, so a wake-up published right after it is not missed
      const woken = q.wake.arm(q.waiterId);
      const reply = await q.attempt('wait');
      if (reply.kind === 'granted') {
        if (q.signal?.aborted) {
          await q.release(reply.grant).catch(() => undefined);
          throw abortedError(q);
        }
        return reply.grant;
      }
      if (reply.kind === 'full') throw new LockError('QUEUE_FULL', `${q.name}: its wait queue is full, so this caller did not wait`, q.backend);
      const now = Date.now();
      if (now >= deadline) throw new LockError('LOCK_TIMEOUT', `${q.name} was still held after waiting ${q.waitMs ?? 0} ms`, q.backend);
      // the first in line re-checks when the holder's lease ends; everyone renews its place each poll
      const untilLeaseEnds = reply.next && reply.leftMs >= 0 ? reply.leftMs + 1 : q.pollMs;
      await nap(Math.min(untilLeaseEnds, q.pollMs, deadline - now), woken, q.signal);
      if (q.signal?.aborted) throw abortedError(q);
      if (q.isClosed()) throw new LockError('BACKEND_UNREACHABLE', `the client was closed while waiting for ${q.name}`, q.backend);
    }
  } catch (err) {
    await q.leave().catch(() => undefined);
    throw err;
  } finally {
    q.wake.disarm(q.waiterId);
  }
}
