// Leader election over Redlock: a campaign acquires the Redlock (retrying at random delays, not
// FIFO) with the candidate's value stored beside the key on each instance, and holds it by
// extending on a majority; leader() is what a majority of instances agree on. No fencing tokens.
import type { AcquireOptions, Election, Leader, Leadership } from '../lock/api.js';
import { LockError } from '../lock/errors.js';
import { checkName } from '../lock/redis-arguments.js';
import { RedlockInstances, RedlockLock, type RedlockOptions } from '../lock/redlock.js';
import { Leaderships, observeLeader, releaseUnlessLost, type ObservedLeader } from './leadership.js';

/** How often `observe` reads the leader from the instances (no change notices across servers). */
const OBSERVE_POLL_MS = 500;

export class RedlockElection implements Election<null> {
  readonly backend = 'redlock';
  private readonly engine: RedlockLock;
  private readonly leaderships = new Leaderships<null>('redlock');

  constructor(instances: RedlockInstances) {
    this.engine = new RedlockLock(instances, true);
  }

  async campaign(name: string, value: string, options: AcquireOptions): Promise<Leadership<null>> {
    if (typeof value !== 'string') throw new LockError('BAD_REQUEST', 'a leader value is a string', this.backend);
    const grant = await this.engine.acquireWith(name, options, value);
    return this.leaderships.hold(grant, value, options.ttlMs, (g) => this.engine.extend(g, options.ttlMs));
  }

  async proclaim(leadership: Leadership<null>, value: string): Promise<Leadership<null>> {
    if (typeof value !== 'string') throw new LockError('BAD_REQUEST', 'a leader value is a string', this.backend);
    await this.engine.proclaim(this.leaderships.current(leadership), value);
    return { ...leadership, value };
  }

  async resign(leadership: Leadership<null>): Promise<void> {
    const last = await this.leaderships.drop(leadership);
    if (last !== undefined) await releaseUnlessLost(() => this.engine.release(last));
  }

  private async read(name: string): Promise<ObservedLeader<null> | null> {
    const agreed = await this.engine.readMajority(name);
    return agreed === null ? null : { name, value: agreed.value, token: null, holder: agreed.holder };
  }

  async leader(name: string): Promise<Leader<null> | null> {
    const l = await this.read(checkName(name, this.backend));
    return l === null ? null : { name: l.name, value: l.value, token: null };
  }

  observe(name: string, options: { readonly signal?: AbortSignal } = {}): AsyncIterable<Leader<null> | null> {
    const checked = checkName(name, this.backend);
    return observeLeader<null>(() => this.read(checked), OBSERVE_POLL_MS, options.signal);
  }

  async close(): Promise<void> {
    await this.leaderships.stopAll();
    await this.engine.close();
  }
}

/** Leader election over Redlock (keys under `synod:redlock-election:` by default); its terms carry no token. */
export async function createRedlockElection(options: RedlockOptions): Promise<Election<null>> {
  return new RedlockElection(await RedlockInstances.open(options, 'synod:redlock-election:'));
}
