// The Redlock backend, per Antirez's published algorithm: one key and random value SET NX PX on N
// independent servers, held when a majority granted with validity left (src/lockcore/redlock.ts),
// unlocked everywhere otherwise. No fencing token (Lock<null>): see docs/locks.md, "Redlock".
import type { Redis } from 'ioredis';
import type { AcquireOptions, Lock, LockedFunction, LockGrant } from './api.js';
import { LockError } from './errors.js';
import { usingLock } from './using.js';
import {
  attemptDecided,
  clockDriftMs,
  DEFAULT_DRIFT_CONSTANT_MS,
  DEFAULT_DRIFT_FACTOR,
  instanceTimeoutMs,
  judgeAttempt,
  MAX_REDLOCK_INSTANCES,
  quorumSize,
  retryDelayMs,
  tallyOutcomes,
  type AttemptVerdict,
  type InstanceOutcome,
  type OutcomeTally,
} from '../lockcore/redlock.js';
import { checkAcquire, checkGrant, checkName, extendTtl, randomId, rememberTtl } from './redis-arguments.js';
import { closeRedis, coalesceWritesThisTurn, openRedis, runScript, type RedisEndpoint, type LuaScript } from './redis-connection.js';
import { COMPARE_AND_DELETE, COMPARE_AND_EXTEND, PROCLAIM, SET_OWNER_AND_VALUE } from './redis-scripts.js';

export interface RedlockOptions {
  /** The independent Redis servers (5 recommended; no replication between them). */
  readonly servers: readonly RedisEndpoint[];
  /** Prefix of every key (default `synod:redlock:`, and `synod:redlock-election:` for the election). */
  readonly keyPrefix?: string;
  /** How long to wait for the connections at start (ms, default 2000); servers not up by then keep being retried. */
  readonly connectTimeoutMs?: number;
  /** How long to wait for one instance's answer (ms); default: 5% of the TTL, 50 to 1000 ms. */
  readonly instanceTimeoutMs?: number;
  /** The least delay before retrying a contended acquire (ms, default 50) ... */
  readonly retryDelayMs?: number;
  /** ... plus up to this much at random (ms, default 150). */
  readonly retryJitterMs?: number;
  /** The drift allowance is driftFactor * TTL + 2 ms (default factor 0.01). */
  readonly driftFactor?: number;
  /** The clock attempts are timed with and leases expressed in (ms; default Date.now). */
  readonly now?: () => number;
  /** Numbers in [0, 1) for the retry delay (default Math.random). */
  readonly random?: () => number;
}

const DEFAULT_RETRY_DELAY_MS = 50;
const DEFAULT_RETRY_JITTER_MS = 150;
/** Per-instance timeout of release, proclaim and leader reads when none is configured (ms). */
const DEFAULT_CALL_TIMEOUT_MS = 500;

/** One instance's answer: its outcome and, when it answered, the raw reply. */
interface InstanceAnswer {
  readonly outcome: InstanceOutcome;
  readonly reply: unknown;
  /** Set when the call was decided before this instance answered: what it comes to. */
  readonly later?: Promise<InstanceAnswer>;
}

/** An instance that did not answer (yet, or at all). */
const NO_ANSWER: InstanceAnswer = { outcome: 'failed', reply: undefined };

const sleep = (ms: number, signal: AbortSignal | undefined): Promise<void> =>
  new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(1, ms));
    signal?.addEventListener('abort', done, { once: true });
  });

/** The Redis servers of one Redlock, and the fan-out of one request to all of them. */
export class RedlockInstances {
  readonly quorum: number;
  readonly backend = 'redlock';
  private closedFlag = false;

  private constructor(
    private readonly connections: readonly Redis[],
    private readonly o: RedlockOptions,
    private readonly keyPrefix: string,
  ) {
    this.quorum = quorumSize(connections.length);
  }

  /** Connects to every server; `defaultPrefix` applies when the options give no keyPrefix. */
  static async open(options: RedlockOptions, defaultPrefix = 'synod:redlock:'): Promise<RedlockInstances> {
    const servers = options.servers;
    if (!Array.isArray(servers) || servers.length < 1 || servers.length > MAX_REDLOCK_INSTANCES) {
      throw new LockError('BAD_REQUEST', `a Redlock needs 1 to ${MAX_REDLOCK_INSTANCES} servers`, 'redlock');
    }
    const seen = new Set(servers.map((s) => `${s.host}:${s.port}/${s.db ?? 0}`));
    if (seen.size !== servers.length) throw new LockError('BAD_REQUEST', 'the same Redis server is listed twice: Redlock needs independent servers', 'redlock');
    if (options.instanceTimeoutMs !== undefined && (!Number.isSafeInteger(options.instanceTimeoutMs) || options.instanceTimeoutMs < 1)) {
      throw new LockError('BAD_REQUEST', 'instanceTimeoutMs is a whole number >= 1', 'redlock');
    }
    // connect to all at once; a server that is down now is retried in the background
    const opened = await Promise.all(servers.map((s) => openRedis(s, { connectTimeoutMs: options.connectTimeoutMs })));
    return new RedlockInstances(
      opened.map((c) => c.redis),
      options,
      options.keyPrefix ?? defaultPrefix,
    );
  }

  get size(): number {
    return this.connections.length;
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  now(): number {
    return (this.o.now ?? Date.now)();
  }

  key(kind: string, name: string): string {
    return `${this.keyPrefix}${kind}:${name}`;
  }

  driftMs(ttlMs: number): number {
    return clockDriftMs(ttlMs, this.o.driftFactor ?? DEFAULT_DRIFT_FACTOR, DEFAULT_DRIFT_CONSTANT_MS);
  }

  timeoutMs(ttlMs: number): number {
    return this.o.instanceTimeoutMs ?? instanceTimeoutMs(ttlMs);
  }

  /** The per-instance timeout of calls not tied to a TTL (release, proclaim, reads). */
  callTimeoutMs(): number {
    return this.o.instanceTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
  }

  retryDelay(): number {
    return retryDelayMs((this.o.random ?? Math.random)(), this.o.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS, this.o.retryJitterMs ?? DEFAULT_RETRY_JITTER_MS);
  }

  /**
   * Sends one request to every instance at once (to `only` of them when given) and collects the
   * answers: `granted` says which replies count as a yes, any other reply is a no, an error or no
   * answer within `timeoutMs` is 'failed'. Settles when every instance answered or the time is up,
   * or earlier once `enough` says the answers so far decide the call; an instance still
   * unanswered then counts as 'failed' and its answer carries `later`, its real outcome once it
   * answers or the time is up (the request runs on).
   */
  fanOut(
    request: (redis: Redis) => Promise<unknown>,
    granted: (reply: unknown) => boolean,
    timeoutMs: number,
    enough: ((tally: OutcomeTally) => boolean) | undefined = undefined,
    only: readonly boolean[] | undefined = undefined,
  ): Promise<InstanceAnswer[]> {
    if (this.closedFlag) return Promise.reject(new LockError('BACKEND_UNREACHABLE', 'the Redlock client is closed', this.backend));
    const total = this.connections.length;
    const answers: InstanceAnswer[] = new Array<InstanceAnswer>(total).fill(NO_ANSWER);
    const answered: boolean[] = new Array<boolean>(total).fill(true);
    // after an early decision: how to report the instances that had not answered yet
    const tellLater: (((a: InstanceAnswer) => void) | undefined)[] = new Array(total).fill(undefined);
    return new Promise<InstanceAnswer[]>((resolve) => {
      let waiting = 0;
      let grantedCount = 0;
      let refusedCount = 0;
      let decided = false;
      const decide = (): void => {
        decided = true;
        const snapshot = answers.map((a, i) => {
          if (answered[i]) return a;
          return { outcome: 'failed' as const, reply: undefined, later: new Promise<InstanceAnswer>((r) => (tellLater[i] = r)) };
        });
        resolve(snapshot);
      };
      const timeUp = (): void => {
        for (let i = 0; i < total; i++) if (!answered[i]) tellLater[i]?.(NO_ANSWER);
        answered.fill(true);
        if (!decided) decide();
      };
      const settle = (i: number, answer: InstanceAnswer): void => {
        if (answered[i]) return; // after the time was up
        answered[i] = true;
        waiting--;
        if (waiting === 0) clearTimeout(timer);
        if (decided) {
          tellLater[i]?.(answer);
          return;
        }
        answers[i] = answer;
        if (answer.outcome === 'granted') grantedCount++;
        else if (answer.outcome === 'refused') refusedCount++;
        const failed = total - grantedCount - refusedCount;
        if (waiting === 0 || enough?.({ granted: grantedCount, refused: refusedCount, failed, reachable: grantedCount + refusedCount, total }) === true) decide();
      };
      // one timer for the whole fan-out: whoever has not answered by then counts as failed
      const timer = setTimeout(timeUp, timeoutMs);
      for (let i = 0; i < total; i++) {
        const redis = this.connections[i] as Redis;
        if (only?.[i] === false || redis.status !== 'ready') continue;
        coalesceWritesThisTurn(redis);
        let sent: Promise<unknown>;
        try {
          sent = request(redis);
        } catch {
          continue; // counts as failed
        }
        answered[i] = false;
        waiting++;
        sent.then(
          (reply) => settle(i, { outcome: granted(reply) ? 'granted' : 'refused', reply }),
          () => settle(i, NO_ANSWER),
        );
      }
      if (waiting === 0) {
        clearTimeout(timer);
        decide();
      }
    });
  }

  /** Runs a script on every instance (on `only` of them when given; see fanOut); the script answers 1 for yes. */
  runEverywhere(
    script: LuaScript,
    keys: readonly string[],
    args: readonly (string | number)[],
    timeoutMs: number,
    enough: ((tally: OutcomeTally) => boolean) | undefined = undefined,
    only: readonly boolean[] | undefined = undefined,
  ): Promise<InstanceAnswer[]> {
    return this.fanOut((redis) => runScript(redis, script, keys, args), (reply) => reply === 1, timeoutMs, enough, only);
  }

  /** The error for a verdict that did not reach a majority of answers. */
  unreachableError(tally: OutcomeTally, what: string): LockError {
    if (tally.reachable === 0) return new LockError('BACKEND_UNREACHABLE', `${what}: none of the ${tally.total} Redis servers answered`, this.backend);
    return new LockError(
      'QUORUM_NOT_REACHED',
      `${what}: only ${tally.reachable} of ${tally.total} Redis servers answered, fewer than the ${this.quorum} a majority needs`,
      this.backend,
    );
  }

  async close(): Promise<void> {
    if (this.closedFlag) return;
    this.closedFlag = true;
    await Promise.all(this.connections.map((c) => closeRedis(c)));
  }
}

/** What one acquire attempt came to, with the grant when it was granted. */
type AttemptResult = { readonly verdict: AttemptVerdict; readonly grant: LockGrant<null> | undefined };

/**
 * The Redlock. Also the engine of the Redlock election, which stores a value beside the owner key
 * on each instance (`acquireWith`).
 */
export class RedlockLock implements Lock<null> {
  readonly backend = 'redlock';
  readonly fencing = false as const;

  constructor(
    readonly instances: RedlockInstances,
    private readonly election = false,
  ) {}

  private keys(name: string): string[] {
    const owner = this.instances.key('owner', name);
    return this.election ? [owner, this.instances.key('value', name)] : [owner];
  }

  /** One attempt on all instances; on anything but a grant, every instance is unlocked. */
  private async attempt(name: string, ttlMs: number, value: string | undefined): Promise<AttemptResult> {
    const r = this.instances;
    const holder = randomId();
    const keys = this.keys(name);
    const timeout = r.timeoutMs(ttlMs);
    const startedAt = r.now();
    // decided as soon as a majority granted (or refused): the rest need not be waited for
    const answers = this.election
      ? await r.runEverywhere(SET_OWNER_AND_VALUE, keys, [holder, ttlMs, value ?? ''], timeout, attemptDecided)
      : await r.fanOut((redis) => redis.set(keys[0] as string, holder, 'PX', ttlMs, 'NX'), (reply) => reply === 'OK', timeout, attemptDecided);
    const finishedAt = r.now();
    const verdict = judgeAttempt(
      answers.map((a) => a.outcome),
      { ttlMs, startedAtMs: startedAt, finishedAtMs: finishedAt, driftMs: r.driftMs(ttlMs) },
    );
    if (verdict.kind === 'granted') {
      return { verdict, grant: rememberTtl({ name, holder, token: null, leaseExpiresAt: verdict.leaseExpiresAtMs }, ttlMs) };
    }
    // not held: take back whatever part we got, on every instance that may have it (a SET that
    // timed out may yet land, before this DEL on the same connection, which then removes it); one
    // that refused never stored our fresh holder id, and one not answered yet is unlocked when
    // its answer is not a refusal
    const unlock = (only: readonly boolean[]): Promise<InstanceAnswer[]> => r.runEverywhere(COMPARE_AND_DELETE, keys, [holder], timeout, undefined, only);
    answers.forEach((a, i) => {
      void a.later?.then((late) => (late.outcome === 'refused' ? undefined : unlock(answers.map((_, j) => j === i)))).catch(() => undefined);
    });
    const mayHold = answers.map((a) => a.outcome !== 'refused' && a.later === undefined);
    if (mayHold.includes(true)) await unlock(mayHold);
    return { verdict, grant: undefined };
  }

  acquire(name: string, options: AcquireOptions): Promise<LockGrant<null>> {
    return this.acquireWith(name, options, undefined);
  }

  /**
   * Retries after a random delay while the lock is contended (or an attempt ran out of validity),
   * until waitMs (LOCK_TIMEOUT) or the signal (LOCK_ABORTED); fails at once when fewer than a
   * majority of servers answer (QUORUM_NOT_REACHED, BACKEND_UNREACHABLE when none).
   */
  async acquireWith(name: string, options: AcquireOptions, value: string | undefined): Promise<LockGrant<null>> {
    const o = checkAcquire(name, options, this.backend);
    const deadline = o.waitMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + o.waitMs;
    const aborted = (): LockError => new LockError('LOCK_ABORTED', `the wait for ${o.name} was aborted`, this.backend);
    // bounded by the deadline or the signal; each round sleeps at least the retry delay
    for (;;) {
      if (o.signal?.aborted) throw aborted();
      const { verdict, grant } = await this.attempt(o.name, o.ttlMs, value);
      if (grant !== undefined) {
        if (o.signal?.aborted) {
          await this.release(grant).catch(() => undefined);
          throw aborted();
        }
        return grant;
      }
      if (verdict.kind === 'no-quorum' || verdict.kind === 'unreachable') throw this.instances.unreachableError(verdict.tally, `acquire ${o.name}`);
      const left = deadline - Date.now();
      if (left <= 0) {
        if (verdict.kind === 'expired' && o.waitMs === 0) throw this.expiredError(o.name, o.ttlMs, verdict.validityMs);
        throw new LockError('LOCK_TIMEOUT', `${o.name} was still held after waiting ${o.waitMs ?? 0} ms`, this.backend);
      }
      await sleep(Math.min(this.instances.retryDelay(), left), o.signal);
    }
  }

  private expiredError(name: string, ttlMs: number, validity: number): LockError {
    return new LockError(
      'QUORUM_NOT_REACHED',
      `${name}: a majority granted, but too late: ${-validity} ms past the ${ttlMs} ms TTL once elapsed time and drift are taken off`,
      this.backend,
    );
  }

  /** One attempt: the grant, null when another holder has (or a split kept anyone from) a majority. */
  async tryAcquire(name: string, options: Omit<AcquireOptions, 'waitMs'>): Promise<LockGrant<null> | null> {
    const o = checkAcquire(name, { ...options, waitMs: 0 }, this.backend);
    if (o.signal?.aborted) throw new LockError('LOCK_ABORTED', `the attempt on ${o.name} was aborted`, this.backend);
    const { verdict, grant } = await this.attempt(o.name, o.ttlMs, undefined);
    if (grant !== undefined) return grant;
    if (verdict.kind === 'contended') return null;
    if (verdict.kind === 'expired') throw this.expiredError(o.name, o.ttlMs, verdict.validityMs);
    throw this.instances.unreachableError(verdict.tally, `acquire ${o.name}`);
  }

  /**
   * Deletes the key wherever it is still ours. Fine when a majority deleted it, or some did while
   * the grant's validity lasts (the rest expire by TTL); LEASE_LOST when a majority answered and
   * too few still held it after the lease ended.
   */
  async release(grant: LockGrant<null>): Promise<void> {
    const g = checkGrant(grant, this.backend);
    const name = checkName(g.name, this.backend);
    const quorum = this.instances.quorum;
    // done once a majority deleted it (the other deletes run on)
    const answers = await this.instances.runEverywhere(COMPARE_AND_DELETE, this.keys(name), [g.holder], this.instances.callTimeoutMs(), (t) => t.granted >= quorum);
    const tally = tallyOutcomes(answers.map((a) => a.outcome));
    if (tally.granted >= this.instances.quorum) return;
    if (tally.granted >= 1 && this.instances.now() < g.leaseExpiresAt) return;
    if (tally.reachable < this.instances.quorum) throw this.instances.unreachableError(tally, `release ${name}`);
    throw new LockError('LEASE_LOST', `${name}: only ${tally.granted} of ${tally.total} servers still held this grant after its lease ended`, this.backend);
  }

  /** Extends on every instance where the key is still ours; held again only if a majority did, in time. */
  async extend(grant: LockGrant<null>, ttlMs?: number): Promise<LockGrant<null>> {
    const g = checkGrant(grant, this.backend);
    const name = checkName(g.name, this.backend);
    const ttl = extendTtl(g, ttlMs, this.backend);
    const r = this.instances;
    const startedAt = r.now();
    const answers = await r.runEverywhere(COMPARE_AND_EXTEND, this.keys(name), [g.holder, ttl], r.timeoutMs(ttl), attemptDecided);
    const verdict = judgeAttempt(
      answers.map((a) => a.outcome),
      { ttlMs: ttl, startedAtMs: startedAt, finishedAtMs: r.now(), driftMs: r.driftMs(ttl) },
    );
    switch (verdict.kind) {
      case 'granted':
        return rememberTtl({ name, holder: g.holder, token: null, leaseExpiresAt: verdict.leaseExpiresAtMs }, ttl);
      case 'contended':
        throw new LockError('LEASE_LOST', `${name}: only ${verdict.tally.granted} of ${verdict.tally.total} servers still held this grant`, this.backend);
      case 'expired':
        throw this.expiredError(name, ttl, verdict.validityMs);
      default:
        throw r.unreachableError(verdict.tally, `extend ${name}`);
    }
  }

  /** Election: changes the stored value on every instance where the key is still ours (a majority needed). */
  async proclaim(grant: LockGrant<null>, value: string): Promise<void> {
    const g = checkGrant(grant, this.backend);
    const name = checkName(g.name, this.backend);
    const r = this.instances;
    const answers = await r.runEverywhere(PROCLAIM, this.keys(name), [g.holder, value, ''], r.callTimeoutMs());
    const tally = tallyOutcomes(answers.map((a) => a.outcome));
    if (tally.granted >= r.quorum) return;
    if (tally.reachable < r.quorum) throw r.unreachableError(tally, `proclaim on ${name}`);
    throw new LockError('LEASE_LOST', `${name}: only ${tally.granted} of ${tally.total} servers still had this leader`, this.backend);
  }

  /** Election: the holder and value a majority of instances agree on, or null. */
  async readMajority(name: string): Promise<{ readonly holder: string; readonly value: string } | null> {
    const r = this.instances;
    const [owner, valueKey] = [r.key('owner', name), r.key('value', name)];
    const answers = await r.fanOut((redis) => redis.mget(owner, valueKey), () => true, r.callTimeoutMs());
    const tally = tallyOutcomes(answers.map((a) => a.outcome));
    if (tally.reachable < r.quorum) throw r.unreachableError(tally, `read the leader of ${name}`);
    const byHolder = new Map<string, string[]>();
    for (const a of answers) {
      const [holder, value] = Array.isArray(a.reply) ? (a.reply as unknown[]) : [];
      if (typeof holder !== 'string') continue;
      const values = byHolder.get(holder) ?? [];
      values.push(typeof value === 'string' ? value : '');
      byHolder.set(holder, values);
    }
    for (const [holder, values] of byHolder) {
      if (values.length < r.quorum) continue;
      // during a proclaim the instances may differ: the value most of them have
      const counts = new Map<string, number>();
      for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
      const value = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? '';
      return { holder, value };
    }
    return null;
  }

  using<R>(name: string, options: AcquireOptions, fn: LockedFunction<null, R>): Promise<R> {
    return usingLock(this, name, options, fn);
  }

  close(): Promise<void> {
    return this.instances.close();
  }
}

/** A Redlock client over independent Redis servers. Its grants carry no fencing token. */
export async function createRedlock(options: RedlockOptions): Promise<Lock<null>> {
  return new RedlockLock(await RedlockInstances.open(options));
}

/**
 * Semaphores and read-write locks are not offered over Redlock: each would need a count or a set
 * of holders agreed by a majority, updated atomically across instances, which independent Redis
 * servers cannot give (Redlock's only atomic step is one key on one instance). Use the Redis
 * backend (one server) or Synod/etcd.
 */
export function createRedlockSemaphore(): never {
  throw new LockError(
    'UNSUPPORTED',
    'no semaphore over Redlock: counting holders needs one count agreed by a majority of independent servers, which they cannot update atomically together; use the Redis, Synod or etcd backend',
    'redlock',
  );
}

export function createRedlockReadWriteLock(): never {
  throw new LockError(
    'UNSUPPORTED',
    'no read-write lock over Redlock: it needs the set of readers and a writer agreed by a majority of independent servers, which they cannot update atomically together; use the Redis, Synod or etcd backend',
    'redlock',
  );
}
