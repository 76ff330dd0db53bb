// Keeping a grant alive while its holder works: extends every third of the TTL and aborts a signal
// once the lease may be lost. `usingLease` (Lock.using on top of it) is private to the Redis and
// Redlock backends until the shared src/lock/using.ts replaces it.
import type { AcquireOptions, FencingToken, Lock, LockedFunction, LockGrant } from './api.js';
import { isLockError, LockError } from './errors.js';

export interface LeaseKeeperOptions<Token extends FencingToken | null> {
  readonly grant: LockGrant<Token>;
  /** The TTL each extend asks for (ms); extends run every third of it. */
  readonly ttlMs: number;
  readonly backend: string;
  extend(grant: LockGrant<Token>): Promise<LockGrant<Token>>;
}

/** After a failed extend that did not say the lease is lost, the next try comes this much sooner. */
const RETRY_SHARE_OF_TTL = 0.1;
const MIN_RETRY_MS = 50;

export class LeaseKeeper<Token extends FencingToken | null> {
  private current: LockGrant<Token>;
  private readonly controller = new AbortController();
  private stopped = false;
  private deadlineTimer: ReturnType<typeof setTimeout> | undefined;
  private wakeSleeper: (() => void) | undefined;
  private readonly loop: Promise<void>;

  constructor(private readonly o: LeaseKeeperOptions<Token>) {
    this.current = o.grant;
    this.armDeadline();
    this.loop = this.run();
  }

  /** The grant as last extended. */
  get grant(): LockGrant<Token> {
    return this.current;
  }

  /** Aborts (reason: a LEASE_LOST LockError) when the lease may have been lost. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Stops extending; resolves with the grant as last extended (to release it). */
  async stop(): Promise<LockGrant<Token>> {
    this.stopped = true;
    clearTimeout(this.deadlineTimer);
    this.wakeSleeper?.();
    await this.loop;
    return this.current;
  }

  private lose(reason: string, cause?: unknown): void {
    if (this.controller.signal.aborted) return;
    clearTimeout(this.deadlineTimer);
    this.controller.abort(new LockError('LEASE_LOST', `${this.current.name}: ${reason}`, this.o.backend, { cause }));
  }

  private armDeadline(): void {
    clearTimeout(this.deadlineTimer);
    const left = this.current.leaseExpiresAt - Date.now();
    this.deadlineTimer = setTimeout(() => this.lose('the lease end passed before an extend went through'), Math.max(0, left));
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, Math.max(1, ms));
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wakeSleeper = done;
    });
  }

  private async run(): Promise<void> {
    let nextMs = this.o.ttlMs / 3;
    // bounded by the lease: the loop ends when stopped or when the lease is lost
    while (!this.stopped && !this.controller.signal.aborted) {
      await this.sleep(nextMs);
      if (this.stopped || this.controller.signal.aborted) return;
      try {
        const extended = await this.o.extend(this.current);
        if (this.controller.signal.aborted) return;
        this.current = extended;
        if (!this.stopped) this.armDeadline();
        nextMs = this.o.ttlMs / 3;
      } catch (err) {
        if (isLockError(err, 'LEASE_LOST')) {
          this.lose('an extend was refused: the lease is no longer this holder\'s', err);
          return;
        }
        // the backend did not answer: try again soon; the deadline timer decides when to give up
        nextMs = Math.max(MIN_RETRY_MS, this.o.ttlMs * RETRY_SHARE_OF_TTL);
      }
    }
  }
}

/**
 * `Lock.using`: acquires, runs `fn` with the grant and the keeper's signal while the lease is kept
 * alive, then releases, and resolves or rejects as `fn` did. A failure to release is not reported
 * (the lease then ends by its TTL); a lease lost during `fn` is reported through the signal.
 */
export async function usingLease<Token extends FencingToken | null, R>(
  lock: Pick<Lock<Token>, 'backend' | 'acquire' | 'extend' | 'release'>,
  name: string,
  options: AcquireOptions,
  fn: LockedFunction<Token, R>,
): Promise<R> {
  const grant = await lock.acquire(name, options);
  const keeper = new LeaseKeeper<Token>({ grant, ttlMs: options.ttlMs, backend: lock.backend, extend: (g) => lock.extend(g, options.ttlMs) });
  try {
    return await fn(grant, keeper.signal);
  } finally {
    const last = await keeper.stop();
    await lock.release(last).catch(() => undefined);
  }
}
