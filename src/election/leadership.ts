// What the Redis and Redlock elections share: the leaderships this process holds, each kept
// alive by keepGrantAlive (src/lock/using.ts), whose signal is the leadership's, and `observe` as a loop that reads the
// leader when told of a change (or at a poll interval) and yields each change.
import type { FencingToken, Leader, Leadership, LockGrant } from '../lock/api.js';
import { isLockError, LockError } from '../lock/errors.js';
import { keepGrantAlive, type GrantKeeper } from '../lock/using.js';

/** The most leaderships one election client holds at once (one per name it campaigns on). */
export const MAX_LEADERSHIPS = 10_000;

export class Leaderships<Token extends FencingToken | null> {
  private readonly held = new Map<string, GrantKeeper<LockGrant<Token>>>();

  constructor(private readonly backend: string) {}

  /** Starts keeping `grant` alive and makes the leadership that carries its signal. */
  hold(grant: LockGrant<Token>, value: string, ttlMs: number, extend: (grant: LockGrant<Token>) => Promise<LockGrant<Token>>): Leadership<Token> {
    if (this.held.size >= MAX_LEADERSHIPS) throw new LockError('BAD_REQUEST', `this client already holds ${MAX_LEADERSHIPS} leaderships`, this.backend);
    const keeper = keepGrantAlive(grant, extend, { everyMs: ttlMs / 3, backend: this.backend });
    this.held.set(grant.holder, keeper);
    keeper.signal.addEventListener('abort', () => this.held.delete(grant.holder), { once: true });
    return { ...grant, value, signal: keeper.signal };
  }

  /** The grant as last extended, for a leadership still held (LEASE_LOST otherwise). */
  current(leadership: Leadership<Token>): LockGrant<Token> {
    const keeper = this.held.get(leadership.holder);
    if (keeper === undefined || keeper.signal.aborted) {
      throw new LockError('LEASE_LOST', `${leadership.name}: this process is no longer its leader`, this.backend);
    }
    return keeper.grant;
  }

  /** Stops keeping a leadership; resolves with the last grant to release, or undefined if it was already lost. */
  async drop(leadership: Leadership<Token>): Promise<LockGrant<Token> | undefined> {
    const keeper = this.held.get(leadership.holder);
    if (keeper === undefined) return undefined;
    this.held.delete(leadership.holder);
    await keeper.stop();
    return keeper.signal.aborted ? undefined : keeper.grant;
  }

  /** Stops keeping every leadership (their leases then end by TTL). */
  async stopAll(): Promise<void> {
    const keepers = [...this.held.values()];
    this.held.clear();
    await Promise.all(keepers.map((k) => k.stop()));
  }
}

/** Resigns quietly when the leadership was already lost: the outcome the caller wanted holds. */
export async function releaseUnlessLost(release: () => Promise<void>): Promise<void> {
  try {
    await release();
  } catch (err) {
    if (!isLockError(err, 'LEASE_LOST')) throw err;
  }
}

/** A leader as read, with its holder: two terms differ by holder even where there is no token. */
export type ObservedLeader<Token extends FencingToken | null> = Leader<Token> & { readonly holder: string };

const same = <T extends FencingToken | null>(a: ObservedLeader<T> | null, b: ObservedLeader<T> | null): boolean =>
  a === b || (a !== null && b !== null && a.holder === b.holder && a.value === b.value);

/**
 * The leader now, then each change (a new term or a new value; null when there is none), until
 * `signal` aborts. Changes closer together than a read may be seen as one. `changes`, when given,
 * subscribes to change notices and returns an unsubscribe function.
 */
export async function* observeLeader<Token extends FencingToken | null>(
  read: () => Promise<ObservedLeader<Token> | null>,
  pollMs: number,
  signal: AbortSignal | undefined,
  changes?: (onChange: () => void) => Promise<() => Promise<void>>,
): AsyncGenerator<Leader<Token> | null> {
  // a notice that came while reading is not lost: the next round reads again at once
  const notice: { poke: (() => void) | undefined; poked: boolean } = { poke: undefined, poked: false };
  const onChange = (): void => {
    notice.poked = true;
    notice.poke?.();
  };
  const unsubscribe = changes === undefined ? undefined : await changes(onChange);
  try {
    let last: ObservedLeader<Token> | null | undefined;
    // bounded by the signal: each round waits for a change notice, the poll interval or the abort
    while (signal?.aborted !== true) {
      notice.poked = false;
      const now = await read();
      if (last === undefined || !same(last, now)) {
        last = now;
        yield now === null ? null : { name: now.name, value: now.value, token: now.token };
      }
      if (notice.poked) continue;
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', done);
          notice.poke = undefined;
          resolve();
        };
        const timer = setTimeout(done, pollMs);
        signal?.addEventListener('abort', done, { once: true });
        notice.poke = done;
      });
    }
  } finally {
    await unsubscribe?.();
  }
}
