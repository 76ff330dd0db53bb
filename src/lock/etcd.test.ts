// The etcd backend of the lock recipes (KvLock, KvSemaphore, KvReadWriteLock, KvElection over
// EtcdLeaseKv) on a real 3-member etcd 3.4 (Debian's /usr/bin/etcd) on loopback ports the OS
// picked: the shared conformance suites, then what is particular to it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../server/test/in-process.js';
import { EtcdLeaseKv, isLockError, KvLock, KvReadWriteLock, KvSemaphore } from './index.js';
import { KvElection } from '../election/index.js';
import { describeLockConformance } from './test/conformance.js';
import { describeElectionConformance } from './test/election-conformance.js';
import { freshName } from './test/helpers.js';
import { describeQueueInternals } from './test/queue-internals.js';
import { describeRwLockConformance } from './test/rwlock-conformance.js';
import { describeSemaphoreConformance } from './test/semaphore-conformance.js';
import { startEtcdCluster, type EtcdCluster } from './test/etcd-server.js';

/** etcd's shortest lease: 1.5 × its election timeout (1 s by default), rounded up to whole seconds. */
const MIN_TTL_MS = 2000;
const MEMBERS = 3;
let etcdStarted: Promise<{ cluster: EtcdCluster; dir: string }> | undefined;
/** One etcd cluster for the whole file: every suite's `start` shares it, and it stops after them all. */
function etcd(): Promise<{ cluster: EtcdCluster; dir: string }> {
  etcdStarted ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'synod-etcd-'));
    const ports = [];
    for (let i = 0; i < MEMBERS; i++) ports.push({ client: await freePort(), peer: await freePort() });
    return { cluster: await startEtcdCluster(dir, MEMBERS, ports, { install: false, token: `synod-lock-test-${process.pid}` }), dir };
  })();
  return etcdStarted;
}
afterAll(async () => {
  const started = await etcdStarted;
  await started?.cluster.stop();
  if (started !== undefined) rmSync(started.dir, { recursive: true, force: true });
}, 60_000);

const kvOf = async (): Promise<EtcdLeaseKv> => EtcdLeaseKv.connect({ hosts: (await etcd()).cluster.clientUrls });

describeLockConformance('etcd', async () => {
  await etcd();
  return { newLock: async () => new KvLock(await kvOf()), fencing: true, fifo: true, minTtlMs: MIN_TTL_MS, stop: async () => undefined };
});
describeSemaphoreConformance('etcd', async () => {
  await etcd();
  return { newSemaphore: async () => new KvSemaphore(await kvOf()), fencing: true, fifo: true, minTtlMs: MIN_TTL_MS, stop: async () => undefined };
});
describeRwLockConformance('etcd', async () => {
  await etcd();
  return { newRwLock: async () => new KvReadWriteLock(await kvOf()), fencing: true, minTtlMs: MIN_TTL_MS, stop: async () => undefined };
});
describeElectionConformance('etcd', async () => {
  await etcd();
  return { newElection: async () => new KvElection(await kvOf()), fencing: true, fifo: true, minTtlMs: MIN_TTL_MS, stop: async () => undefined };
});

describeQueueInternals('etcd', kvOf, MIN_TTL_MS);

describe('the etcd backend', () => {
  it('rounds a TTL up to whole seconds but promises only the TTL asked for; a longer extend is UNSUPPORTED', async () => {
    const lock = new KvLock(await kvOf());
    const before = Date.now();
    const grant = await lock.acquire(freshName('round'), { ttlMs: 2500 });
    expect(grant.leaseExpiresAt).toBeLessThanOrEqual(Date.now() + 2500);
    expect(grant.leaseExpiresAt).toBeGreaterThan(before);
    // granted 3 s: an extend asking for up to that is a plain renewal
    const renewed = await lock.extend(grant, 3000);
    expect(renewed.leaseExpiresAt).toBeGreaterThanOrEqual(grant.leaseExpiresAt);
    await expect(lock.extend(grant, 10_000)).rejects.toSatisfy((e) => isLockError(e, 'UNSUPPORTED'));
    await lock.release(renewed);
    await lock.close();
  });

  it('no member answering is BACKEND_UNREACHABLE', async () => {
    const port = await freePort();
    const lock = new KvLock(await EtcdLeaseKv.connect({ hosts: [`http://127.0.0.1:${port}`] }, { requestTimeoutMs: 500 }));
    await expect(lock.acquire(freshName('nowhere'), { ttlMs: 2000 })).rejects.toSatisfy((e) => isLockError(e, 'BACKEND_UNREACHABLE'));
    await lock.close();
  });
});
