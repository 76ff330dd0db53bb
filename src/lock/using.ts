// Keeping a grant alive and `using()`, for any backend's Lock: extend every third of the TTL,
// abort a signal when an extend says the lease is lost or when leaseExpiresAt passes without a
// successful extend, and release once the caller's function has settled.
import type { AcquireOptions, FencingToken, Lock, LockedFunction, LockGrant } from './api.js';
import { isLockError, LockError } from './errors.js';

/** A grant kept alive in the background until `stop()`. */
export interface GrantKeeper<G extends LockGrant> {
  /** Aborts when the lease may have been lost; `reason` is a LockError LEASE_LOST saying why. */
  readonly signal: AbortSignal;
  /** The grant as of the last successful extend (its `leaseExpiresAt` moves on). */
  readonly grant: G;
  /** Stops extending and waits for an extend under way to settle. */
  stop(): Promise<void>;
}

export interface KeepAliveOptions {
  /** How often to extend (ms). Default: a third of the time from now to `leaseExpiresAt`, as first seen. */
  readonly everyMs?: number;
  /** The backend's name, for the messages of LEASE_LOST. */
  readonly backend?: string;
}

/**
 * Extends `grant` with `extend` every `everyMs` until stopped. The signal aborts when `extend`
 * fails with LEASE_LOST, or when the grant's `leaseExpiresAt` passes before an extend succeeds
 * (other failures, such as BACKEND_UNREACHABLE, are retried at the next turn until then).
 */
export function keepGrantAlive<G extends LockGrant>(grant: G, extend: (grant: G) => Promise<G>, options: KeepAliveOptions = {}): GrantKeeper<G> {
  const controller = new AbortController();
  const everyMs = Math.max(10, Math.floor(options.everyMs ?? (grant.leaseExpiresAt - Date.now()) / 3));
  const backend = options.backend ?? 'lock';
  let current = grant;
  let stopped = false;
  let turnTimer: NodeJS.Timeout | undefined;
  let expiryTimer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> | undefined;

  const lose = (reason: LockError): void => {
    if (!controller.signal.aborted) controller.abort(reason);
    halt();
  };
  const halt = (): void => {
    stopped = true;
    clearTimeout(turnTimer);
    clearTimeout(expiryTimer);
  };
  const armExpiry = (): void => {
    clearTimeout(expiryTimer);
    const leftMs = current.leaseExpiresAt - Date.now();
    if (leftMs <= 0) return lose(new LockError('LEASE_LOST', `${JSON.stringify(current.name)}: its lease ran out (leaseExpiresAt passed) before an extend succeeded`, backend));
    // a timer may fire a little before the wall clock gets there: look again then
    expiryTimer = setTimeout(armExpiry, leftMs);
  };
  const turn = async (): Promise<void> => {
    if (stopped) return;
    try {
      const extended = await extend(current);
      if (stopped) return;
      current = extended;
      armExpiry();
    } catch (err) {
      if (isLockError(err, 'LEASE_LOST')) return lose(err);
      // unreachable or refused for now: try again at the next turn, while leaseExpiresAt allows
    }
    if (!stopped) schedule();
  };
  const schedule = (): void => {
    // after a failed extend the next try comes sooner, so that one can still land before the expiry
    const leftMs = current.leaseExpiresAt - Date.now();
    turnTimer = setTimeout(() => {
      inFlight = turn();
    }, Math.max(10, Math.min(everyMs, leftMs / 2)));
  };

  armExpiry();
  if (!controller.signal.aborted) schedule();
  return {
    signal: controller.signal,
    get grant() {
      return current;
    },
    async stop() {
      halt();
      await inFlight;
    },
  };
}

/**
 * `Lock.using` for any backend: acquires `name`, runs `fn` with the grant and a signal, keeps the
 * lease alive meanwhile (extends every third of the TTL), and releases once `fn` has settled.
 * The signal aborts when the lease may have been lost (an extend failed with LEASE_LOST, or
 * `leaseExpiresAt` passed without a successful extend) or when `options.signal` aborts; `fn`
 * must stop using the protected resource then. Resolves with `fn`'s result (or rejects with its
 * error) only after `fn` settles, whatever happened to the lease. A release that fails is not
 * reported: the lease was lost already (the signal said so) or it expires on its own after its TTL.
 */
export async function usingLock<Token extends FencingToken | null, R>(lock: Lock<Token>, name: string, options: AcquireOptions, fn: LockedFunction<Token, R>): Promise<R> {
  const grant = await lock.acquire(name, options);
  const keeper = keepGrantAlive(grant, (g) => lock.extend(g), { everyMs: options.ttlMs / 3, backend: lock.backend });
  const signal = options.signal === undefined ? keeper.signal : AbortSignal.any([keeper.signal, options.signal]);
  try {
    return await fn(grant, signal);
  } finally {
    await keeper.stop();
    // also after the signal aborted: a lease only feared lost (no extend got through) may still be ours
    await lock.release(keeper.grant).catch(() => undefined);
  }
}
