// The Synod backend of the lock recipes (KvLock, KvSemaphore, KvReadWriteLock, KvElection over
// SynodLeaseKv) on an in-process 3-node cluster: the shared conformance suites, then what is
// particular to it (token = create revision, waiters watching only their predecessor, lease loss
// seen by using(), the fenced-write guard as one txn).
import { afterAll, describe, expect, it } from 'vitest';
import { SynodClient, SynodError, type KvItem, type WatchMessage, type WatchOptions, type WatchSelector } from '../client/index.js';
import { leaderAmong, waitUntil } from '../server/test/harness.js';
import { startInProcessCluster, type InProcessCluster } from '../server/test/in-process.js';
import { fencedTxn, fencedWrite, isLockError, KvLock, KvReadWriteLock, KvSemaphore, SynodLeaseKv } from './index.js';
import { KvElection } from '../election/index.js';
import { describeLockConformance } from './test/conformance.js';
import { describeElectionConformance } from './test/election-conformance.js';
import { freshName } from './test/helpers.js';
import { ObservedKv } from './test/observed-kv.js';
import { describeQueueInternals } from './test/queue-internals.js';
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

describeQueueInternals('synod', kvOf, MIN_TTL_MS);

describe('the Synod backend', () => {
  let client: SynodClient;
  let lock: KvLock;
  afterAll(async () => {
    client?.close();
    await lock?.close();
  });
  const setUp = async (): Promise<void> => {
    client ??= new SynodClient({ endpoints: Object.values((await cluster()).urls) });
    lock ??= new KvLock(new SynodLeaseKv(client));
  };

  it('an uncontended pair is two writes: the grant with the joining txn, then the revoke', async () => {
    await setUp();
    const kv = new ObservedKv(new SynodLeaseKv(client));
    const counted = new KvLock(kv);
    const name = freshName('two-writes');
    const first = await counted.acquire(name, { ttlMs: 2000 });
    await counted.release(first);
    const second = await counted.acquire(name, { ttlMs: 2000 });
    expect(second.token).toBeGreaterThan(first.token);
    await counted.release(second);
    expect(kv.writes).toEqual({ leaseGrant: 0, txn: 0, grantWithTxn: 2, leaseRevoke: 2 });
    // the grant's lease is the one the key is under: revoking it freed the name
    expect((await client.range({ prefix: `synod-lock/${name}/` })).items).toEqual([]);
  });

  it('a hand-over costs the waiter no read: its line comes with its predecessor\'s delete, and is what admits it', async () => {
    await setUp();
    const name = freshName('line-with-delete');
    const holder = await lock.acquire(name, { ttlMs: 5000 });
    // second waits on the holder; third waits on second, which gives up (its lease revoked) while the holder still holds
    const secondKv = new ObservedKv(new SynodLeaseKv(client));
    const thirdKv = new ObservedKv(new SynodLeaseKv(client));
    const second = new AbortController();
    const secondWait = new KvLock(secondKv).acquire(name, { ttlMs: 5000, signal: second.signal });
    await waitUntil('secondKv to wait on a key (1)', async () => secondKv.watched.length === 1);
    let thirdGranted = false;
    const thirdWait = new KvLock(thirdKv).acquire(name, { ttlMs: 5000 }).then((g) => ((thirdGranted = true), g));
    await waitUntil('thirdKv to wait on a key (1)', async () => thirdKv.watched.length === 1);
    second.abort();
    await expect(secondWait).rejects.toSatisfy((e) => isLockError(e, 'LOCK_ABORTED'));
    // the line that came with second's delete still has the holder ahead: third watches it now, and waits
    await waitUntil('thirdKv to wait on a key (2)', async () => thirdKv.watched.length === 2);
    expect(thirdKv.watched[1]).toBe(`synod-lock/${name}/${holder.holder}`);
    expect(thirdGranted).toBe(false);
    await lock.release(holder);
    const third = await thirdWait;
    expect(third.token).toBeGreaterThan(holder.token);
    expect([thirdKv.ranges, thirdKv.linesWithDelete]).toEqual([0, 2]);
    await lock.release(third);
  });

  it('draws another lease id when the one drawn is taken; gives up after three and leaves nothing behind', async () => {
    await setUp();
    const taken = 3_000_000_000_001;
    await client.leaseGrant(5000, { id: taken });
    const draws = [taken, taken, taken + 1];
    const lucky = new KvLock(new SynodLeaseKv(client, { drawLeaseId: () => draws.shift() ?? 0 }));
    const name = freshName('taken-id');
    const grant = await lucky.acquire(name, { ttlMs: 2000 });
    expect(grant.holder).toBe(String(taken + 1));
    await lucky.release(grant);
    const unlucky = new KvLock(new SynodLeaseKv(client, { drawLeaseId: () => taken }));
    await expect(unlucky.acquire(name, { ttlMs: 2000 })).rejects.toSatisfy((e) => isLockError(e, 'BACKEND_ERROR') && /exists already/.test((e as Error).message));
    expect((await client.range({ prefix: `synod-lock/${name}/` })).items).toEqual([]);
    await client.leaseRevoke(taken);
  });

  it('renews a lease for the TTL it was granted with: extend to a longer TTL is UNSUPPORTED, to a shorter one renews', async () => {
    await setUp();
    const grant = await lock.acquire(freshName('extend-ttl'), { ttlMs: 2000 });
    await expect(lock.extend(grant, 5000)).rejects.toSatisfy((e) => isLockError(e, 'UNSUPPORTED'));
    const renewed = await lock.extend(grant, 1500);
    expect(renewed.leaseExpiresAt).toBeGreaterThanOrEqual(grant.leaseExpiresAt);
    await lock.release(renewed);
  });

  it('a TTL below the cluster minimum is BAD_REQUEST (the server says so); no node answering is BACKEND_UNREACHABLE', async () => {
    await setUp();
    await expect(lock.acquire(freshName('short'), { ttlMs: 100 })).rejects.toSatisfy((e) => isLockError(e, 'BAD_REQUEST'));
    const nowhere = new KvLock(SynodLeaseKv.connect({ endpoints: ['http://127.0.0.1:1'], retryForMs: 300, requestTimeoutMs: 300 }));
    await expect(nowhere.acquire(freshName('nowhere'), { ttlMs: 2000 })).rejects.toSatisfy((e) => isLockError(e, 'BACKEND_UNREACHABLE'));
    await nowhere.close();
  });

  it('fencedWrite: a write with a token below the highest seen is refused with STALE_TOKEN and changes nothing', async () => {
    await setUp();
    const fenceKey = `${freshName('fence')}/fence`;
    const key = `${freshName('fence')}/data`;
    expect((await fencedWrite(client, { fenceKey, token: 7, key, value: 'first' })).revision).toBeGreaterThan(0);
    await fencedWrite(client, { fenceKey, token: 7, key, value: 'again, same grant' });
    await fencedWrite(client, { fenceKey, token: 9, key, value: 'newer' });
    await expect(fencedWrite(client, { fenceKey, token: 8, key, value: 'stale' })).rejects.toSatisfy((e) => isLockError(e, 'STALE_TOKEN') && /below 9/.test((e as Error).message));
    expect((await client.get(key)).value).toBe('newer');
    expect((await client.get(fenceKey)).value).toBe(9);
    await expect(fencedWrite(client, { fenceKey, token: null, key, value: 'unfenced' })).rejects.toSatisfy((e) => isLockError(e, 'BAD_REQUEST'));
    await expect(fencedWrite(client, { fenceKey, token: -1, key, value: 'bad' })).rejects.toSatisfy((e) => isLockError(e, 'BAD_REQUEST'));
    await expect(fencedTxn(client, { fenceKey, token: 10, ops: [{ op: 'put', key: fenceKey, value: 1 }] })).rejects.toSatisfy((e) => isLockError(e, 'BAD_REQUEST'));
    // a fence key holding something that is not a token is refused, not overwritten
    await client.put(fenceKey, 'not a number');
    await expect(fencedWrite(client, { fenceKey, token: 10, key, value: 'x' })).rejects.toSatisfy((e) => isLockError(e, 'BAD_REQUEST'));
    expect((await client.get(key)).value).toBe('newer');
  });

  it("fencedTxn with lock grants: the superseded holder's write is refused once the next holder wrote", async () => {
    await setUp();
    const name = freshName('fenced-lock');
    const fenceKey = `${name}-fence`;
    const other = new KvLock(SynodLeaseKv.connect({ endpoints: Object.values((await cluster()).urls) }));
    const old = await lock.acquire(name, { ttlMs: MIN_TTL_MS });
    await fencedTxn(client, { fenceKey, token: old.token, ops: [{ op: 'put', key: `${name}-a`, value: 'old' }] });
    // the old holder stalls past its TTL; the next one gets the lock and writes
    const next = await other.acquire(name, { ttlMs: 3000, waitMs: 20_000 });
    const written = await fencedTxn(client, { fenceKey, token: next.token, ops: [{ op: 'put', key: `${name}-a`, value: 'new' }, { op: 'delete', key: `${name}-b` }] });
    expect(written.results).toHaveLength(2);
    await expect(fencedTxn(client, { fenceKey, token: old.token, ops: [{ op: 'put', key: `${name}-a`, value: 'old, late' }] })).rejects.toSatisfy((e) => isLockError(e, 'STALE_TOKEN'));
    expect((await client.get(`${name}-a`)).value).toBe('new');
    await other.release(next);
    await other.close();
  });
});

describe('SynodLeaseKv.waitDelete', () => {
  /** A client whose watches play the scripted messages, one script per watch opened (a thrown error for an Error), recording what each was asked. */
  function scriptedClient(scripts: readonly (readonly WatchMessage[] | Error)[]): { client: SynodClient; asked: { selector: WatchSelector; options: WatchOptions }[] } {
    const asked: { selector: WatchSelector; options: WatchOptions }[] = [];
    const client = {
      watch: (selector: WatchSelector, options: WatchOptions) => {
        const script = scripts[Math.min(asked.length, scripts.length - 1)] as readonly WatchMessage[] | Error;
        asked.push({ selector, options });
        return {
          async *[Symbol.asyncIterator](): AsyncGenerator<WatchMessage> {
            if (script instanceof Error) throw script;
            yield* script;
          },
          close: () => undefined,
        };
      },
    };
    return { client: client as unknown as SynodClient, asked };
  }
  const del = (key: string, revision: number): WatchMessage => ({ type: 'events', revision, events: [{ type: 'delete', kv: { key, value: null, version: 0, createRevision: 0, modRevision: revision }, revision }] });
  const progress = (revision: number): WatchMessage => ({ type: 'progress', revision, events: [] });
  const signal = new AbortController().signal;

  it('waits with one once-watch of the key from the revision asked, without puts', async () => {
    const { client, asked } = scriptedClient([[progress(11), del('q/a', 12)]]);
    expect(await new SynodLeaseKv(client).waitDelete('q/a', 10, signal)).toEqual({ kind: 'deleted', revision: 12 });
    expect(asked).toEqual([{ selector: { key: 'q/a' }, options: { startRevision: 10, noPut: true, once: true, signal } }]);
  });

  it('opens another once-watch past a first message that is not the delete, and never answers deleted without it', async () => {
    const { client, asked } = scriptedClient([[progress(11), del('q/other', 12)], [del('q/a', 15)]]);
    expect(await new SynodLeaseKv(client).waitDelete('q/a', 10, signal)).toEqual({ kind: 'deleted', revision: 15 });
    expect(asked.map((a) => a.options.startRevision)).toEqual([10, 13]);
    // never the awaited delete: a bounded number of watches, then the caller re-reads
    const never = scriptedClient([[del('q/other', 20)]]);
    expect(await new SynodLeaseKv(never.client).waitDelete('q/a', 10, signal)).toEqual({ kind: 'unknown' });
    expect(never.asked.length).toBe(8);
  });

  it('with a line prefix, asks the node for the keys under it and hands them back with the delete; QUEUE_FULL past the limit', async () => {
    const item = (key: string, createRevision: number): KvItem => ({ key, value: 'v', version: 1, createRevision, modRevision: createRevision, lease: 7 });
    const withLine = (more: boolean): WatchMessage => ({ ...(del('q/a', 12) as WatchMessage & { type: 'events' }), range: { revision: 13, items: [item('q/c', 11), item('q/b', 9)], more } });
    const { client, asked } = scriptedClient([[withLine(false)]]);
    expect(await new SynodLeaseKv(client).waitDelete('q/a', 10, signal, 'q/')).toEqual({
      kind: 'deleted',
      revision: 12,
      line: { revision: 13, entries: [{ key: 'q/b', value: 'v', createRevision: 9, lease: '7' }, { key: 'q/c', value: 'v', createRevision: 11, lease: '7' }] },
    });
    expect(asked.map((a) => a.options)).toEqual([{ startRevision: 10, noPut: true, once: true, signal, rangePrefix: 'q/' }]);
    const full = scriptedClient([[withLine(true)]]);
    await expect(new SynodLeaseKv(full.client).waitDelete('q/a', 10, signal, 'q/')).rejects.toSatisfy((e) => isLockError(e, 'QUEUE_FULL'));
    // a node that sent no range (one from before rangePrefix): the delete without a line, and the caller reads
    const old = scriptedClient([[del('q/a', 12)]]);
    expect(await new SynodLeaseKv(old.client).waitDelete('q/a', 10, signal, 'q/')).toEqual({ kind: 'deleted', revision: 12 });
  });

  it('answers unknown when the watch fails (compacted, no node) and aborted when the signal is', async () => {
    const failing = scriptedClient([new SynodError('COMPACTED', 'compacted', 410, false)]);
    expect(await new SynodLeaseKv(failing.client).waitDelete('q/a', 10, signal)).toEqual({ kind: 'unknown' });
    const controller = new AbortController();
    controller.abort();
    const aborted = scriptedClient([[del('q/a', 12)]]);
    expect(await new SynodLeaseKv(aborted.client).waitDelete('q/a', 10, controller.signal)).toEqual({ kind: 'aborted' });
    expect(aborted.asked).toEqual([]);
  });
});
