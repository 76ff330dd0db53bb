// Argument checks and small shared pieces of the Redis and Redlock backends: the bounds on names,
// TTLs, waits and permits (BAD_REQUEST otherwise), random holder ids, and the TTL each grant was
// made with (what extend uses by default).
import { randomUUID } from 'node:crypto';
import type { AcquireOptions, LockGrant } from './api.js';
import { LockError } from './errors.js';

/**
 * The shortest TTL accepted (ms). Below a second the drift allowance, a keep-alive round trip and
 * an event-loop stall take most of the lease, and a holder would often lose a lock it still uses.
 */
export const MIN_TTL_MS = 1000;
/** The longest TTL accepted (ms): one day. */
export const MAX_TTL_MS = 86_400_000;
/** The longest lock name (UTF-16 code units). */
export const MAX_NAME_LENGTH = 1024;
/** The most permits a semaphore may have. */
export const MAX_PERMITS = 100_000;

export function checkName(name: unknown, backend: string): string {
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_NAME_LENGTH) {
    throw new LockError('BAD_REQUEST', `a lock name is a string of 1 to ${MAX_NAME_LENGTH} characters`, backend);
  }
  return name;
}

export function checkTtl(ttlMs: unknown, backend: string): number {
  if (typeof ttlMs !== 'number' || !Number.isSafeInteger(ttlMs) || ttlMs < MIN_TTL_MS || ttlMs > MAX_TTL_MS) {
    throw new LockError('BAD_REQUEST', `ttlMs is a whole number of ms from ${MIN_TTL_MS} to ${MAX_TTL_MS}, got ${String(ttlMs)}`, backend);
  }
  return ttlMs;
}

/** waitMs: undefined (until the signal aborts), or a number >= 0 (Infinity allowed). */
export function checkWait(waitMs: unknown, backend: string): number | undefined {
  if (waitMs === undefined) return undefined;
  if (typeof waitMs !== 'number' || Number.isNaN(waitMs) || waitMs < 0) {
    throw new LockError('BAD_REQUEST', `waitMs is a number >= 0, got ${String(waitMs)}`, backend);
  }
  return waitMs;
}

export function checkPermits(permits: unknown, backend: string): number {
  if (typeof permits !== 'number' || !Number.isSafeInteger(permits) || permits < 1 || permits > MAX_PERMITS) {
    throw new LockError('BAD_REQUEST', `permits is a whole number from 1 to ${MAX_PERMITS}, got ${String(permits)}`, backend);
  }
  return permits;
}

export interface CheckedAcquire {
  readonly name: string;
  readonly ttlMs: number;
  readonly waitMs: number | undefined;
  readonly signal: AbortSignal | undefined;
}

export function checkAcquire(name: unknown, options: AcquireOptions | undefined, backend: string): CheckedAcquire {
  if (typeof options !== 'object' || options === null) throw new LockError('BAD_REQUEST', 'acquire needs options with ttlMs', backend);
  return { name: checkName(name, backend), ttlMs: checkTtl(options.ttlMs, backend), waitMs: checkWait(options.waitMs, backend), signal: options.signal };
}

/**
 * A random id: a version-4 UUID's 122 random bits as 32 hex digits (no '.' or ':', which the
 * scripts use as separators). randomUUID draws from a buffered pool of the system's randomness:
 * about 0.75 us a call here, where randomBytes(16) asks the system each time (about 9 us alone,
 * and 5% of a Redlock client's CPU with 16 clients on 16 locks).
 */
export function randomId(): string {
  return randomUUID().replaceAll('-', '');
}

/** The TTL each grant object was made with; weak, so a grant that is dropped is forgotten. */
const ttlByGrant = new WeakMap<object, number>();

export function rememberTtl<G extends LockGrant>(grant: G, ttlMs: number): G {
  ttlByGrant.set(grant, ttlMs);
  return grant;
}

/** The TTL to extend `grant` by: the one given, else the one it was made with. */
export function extendTtl(grant: LockGrant, ttlMs: number | undefined, backend: string): number {
  if (ttlMs !== undefined) return checkTtl(ttlMs, backend);
  const remembered = ttlByGrant.get(grant);
  if (remembered === undefined) throw new LockError('BAD_REQUEST', 'this grant was not made by this client: pass ttlMs to extend it', backend);
  return remembered;
}

export function checkGrant(grant: unknown, backend: string): LockGrant {
  const g = grant as Partial<LockGrant> | null;
  if (typeof g !== 'object' || g === null || typeof g.name !== 'string' || typeof g.holder !== 'string' || g.holder.length === 0) {
    throw new LockError('BAD_REQUEST', 'not a grant: expected an object with name and holder', backend);
  }
  return g as LockGrant;
}
