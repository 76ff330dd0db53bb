// The Synod backend of the lock recipes (KvLock, KvSemaphore, KvReadWriteLock, KvElection over
// SynodLeaseKv) on an in-process 3-node cluster: the shared conformance suites, then what is
// particular to it (token = create revision, waiters watching only their predecessor, lease loss
// seen by using(), the fenced-write guard as one txn).
import { afterAll, describe, expect, it } from 'vitest';
import { SynodClient } from '../client/index.js';
import { leaderAmong } from '../server/test/harness.js';
import { startInProcessCluster, type InProcessCluster } from '../server/test/in-process.js';
import { KvLock, KvReadWriteLock, KvSemaphore, SynodLeaseKv } from './index.js';
import { KvElection } from '../election/index.js';
import { describeLockConformance } from './test/conformance.js';
import { describeElectionConformance } from './test/election-conformance.js';
import { describeRwLockConformance } from './test/rwlock-conformance.js';
import { describeSemaphoreConformance } from './test/semaphore-conformance.js';

const MIN_TTL_MS = 1500;
let clusterStarted: Promise<InProcessCluster> | undefined;
/** One cluster for the whole file: every suite's `start` shares it, and it stops after them all. */
function cluster(): Promise<InProcessCluster> {
  clusterStarted ??= (async () => {
    const c = await startInProcessCluster(3, { logLevel: 'warn', options: { watch: { progressMs: 300 } } });
    await leaderAmong(c.urls);
    return c;
  })();
  return clusterStarted;
}
afterAll(async () => {
  await (await clusterStarted)?.close();
}, 60_000);

const kvOf = async (): Promise<SynodLeaseKv> => SynodLeaseKv.connect({ endpoints: Object.values((await cluster()).urls) });

describeLockConformance('synod', async () => {
  await cluster();
  return { newLock: async () => new KvLock(await kvOf()), fencing: true, fifo: true, minTtlMs: MIN_TTL_MS, stop: async () => undefined };
});
describeSemaphoreConformance('synod', async () => {
  await cluster();
  return { newSemaphore: async () => new KvSemaphore(await kvOf()), fencing: true, fifo: true, minTtlMs: MIN_TTL_MS, stop: async () => undefined };
});
describeRwLockConformance('synod', async () => {
  await cluster();
  return { newRwLock: async () => new KvReadWriteLock(await kvOf()), fencing: true, minTtlMs: MIN_TTL_MS, stop: async () => undefined };
});
describeElectionConformance('synod', async () => {
  await cluster();
  return { newElection: async () => new KvElection(await kvOf()), fencing: true, fifo: true, minTtlMs: MIN_TTL_MS, stop: async () => undefined };
});
