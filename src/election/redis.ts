// Leader election on one Redis server: a campaign is a FIFO wait for the election's lock (owner
// key + fencing counter, src/lock/redis.ts) with the candidate's value stored beside it in the same
// script; the leader keeps its lease alive until it resigns; each term's token is its grant's.
import type { AcquireOptions, Election, Leader, Leadership } from '../lock/api.js';
import { LockError } from '../lock/errors.js';
import { checkName } from '../lock/redis-arguments.js';
import { RedisLock, RedisSession, type RedisBackendOptions } from '../lock/redis.js';
import { PROCLAIM } from '../lock/redis-scripts.js';
import { Leaderships, observeLeader, releaseUnlessLost, type ObservedLeader } from './leadership.js';

/** How often `observe` re-reads the leader without a change notice (a lease that ran out sends none). */
const OBSERVE_POLL_MS = 500;

export class RedisElection implements Election<number> {
  readonly backend = 'redis';
  private readonly engine: RedisLock;
  private readonly leaderships = new Leaderships<number>('redis');

  constructor(private readonly session: RedisSession) {
    this.engine = new RedisLock(session, true);
  }

  async campaign(name: string, value: string, options: AcquireOptions): Promise<Leadership<number>> {
    if (typeof value !== 'string') throw new LockError('BAD_REQUEST', 'a leader value is a string', this.backend);
    const grant = await this.engine.acquireWith(name, options, value);
    return this.leaderships.hold(grant, value, options.ttlMs, (g) => this.engine.extend(g, options.ttlMs));
  }

  async proclaim(leadership: Leadership<number>, value: string): Promise<Leadership<number>> {
    if (typeof value !== 'string') throw new LockError('BAD_REQUEST', 'a leader value is a string', this.backend);
    const grant = this.leaderships.current(leadership);
    const s = this.session;
    const ok = await s.run(PROCLAIM, [s.key('owner', grant.name), s.key('value', grant.name)], [grant.holder, value, s.notifyChannel(grant.name)], `proclaim on ${grant.name}`);
    if (ok !== 1) throw new LockError('LEASE_LOST', `${grant.name}: this process is no longer its leader`, this.backend);
    return { ...leadership, value };
  }

  async resign(leadership: Leadership<number>): Promise<void> {
    const last = await this.leaderships.drop(leadership);
    if (last !== undefined) await releaseUnlessLost(() => this.engine.release(last));
  }

  private async read(name: string): Promise<ObservedLeader<number> | null> {
    const s = this.session;
    let reply: (string | null)[];
    try {
      reply = await s.redis.mget(s.key('owner', name), s.key('value', name));
    } catch (err) {
      throw new LockError('BACKEND_UNREACHABLE', `read the leader of ${name}: redis did not answer`, this.backend, { cause: err });
    }
    const [holder, value] = reply;
    if (typeof holder !== 'string') return null;
    const token = Number(holder.slice(0, holder.indexOf(':')));
    return { name, value: value ?? '', token, holder };
  }

  async leader(name: string): Promise<Leader<number> | null> {
    const l = await this.read(checkName(name, this.backend));
    return l === null ? null : { name: l.name, value: l.value, token: l.token };
  }

  observe(name: string, options: { readonly signal?: AbortSignal } = {}): AsyncIterable<Leader<number> | null> {
    const checked = checkName(name, this.backend);
    return observeLeader<number>(() => this.read(checked), OBSERVE_POLL_MS, options.signal, (onChange) => this.session.listen(this.session.notifyChannel(checked), onChange));
  }

  async close(): Promise<void> {
    await this.leaderships.stopAll();
    await this.session.close();
  }
}

/** Leader election on one Redis server (keys under `synod:election:` by default), with fencing tokens. */
export async function createRedisElection(options: RedisBackendOptions): Promise<Election<number>> {
  return new RedisElection(await RedisSession.open(options, 'redis', 'synod:election:'));
}
