// A lock holder in a process of its own, for the tests that pause a real holder (SIGSTOP) past its
// lease (src/lock/sigstop.test.ts): it takes a lock on the backend its config names, says so on
// stdout, and on each "write" line from stdin writes a fenced and an unfenced resource at once.
//
// Run: node --import tsx src/lock/test/holder-child.ts, with HOLDER_CONFIG (JSON, HolderConfig).
// Output, one JSON line each (HolderLine): granted, wrote, done, error. Times are
// performance.timeOrigin + performance.now(): one clock shared by the processes of one machine.
import { createInterface } from 'node:readline';
import type { Redis } from 'ioredis';
import type { Lock } from '../api.js';
import { SynodClient } from '../../client/index.js';
import { isLockError } from '../errors.js';
import { EtcdLeaseKv } from '../etcd-kv.js';
import { fencedEtcdWrite, fencedRedisWrite, fencedWrite } from '../guard.js';
import { KvLock } from '../kv-recipes.js';
import { closeRedis, openRedis, type RedisEndpoint } from '../redis-connection.js';
import { createRedisLock } from '../redis.js';
import { createRedlock } from '../redlock.js';
import { SynodLeaseKv } from '../synod-kv.js';

export type HolderBackend = 'synod' | 'etcd' | 'redis' | 'redlock';

export interface HolderConfig {
  readonly backend: HolderBackend;
  /** Synod's or etcd's client URLs. */
  readonly urls?: readonly string[];
  /** One Redis server (redis), or the Redlock servers (redlock; the resource lives on the first). */
  readonly redis?: readonly RedisEndpoint[];
  readonly lock: string;
  readonly ttlMs: number;
  /** How long acquire may wait (ms). */
  readonly waitMs: number;
  /** The guard's fence key, the fenced data key, and a key written without any guard. */
  readonly fenceKey: string;
  readonly dataKey: string;
  readonly unfencedKey: string;
  /** What this holder writes (its name). */
  readonly value: string;
}

/** The outcome of one write: 'ok', or the LockError code (or message) that refused it; 'none': not attempted. */
export type WriteOutcome = string;

export type HolderLine =
  | { readonly event: 'granted'; readonly token: number | null; readonly holder: string; readonly atMs: number }
  | { readonly event: 'wrote'; readonly fenced: WriteOutcome; readonly unfenced: WriteOutcome; readonly startMs: number; readonly atMs: number }
  | { readonly event: 'done' }
  | { readonly event: 'error'; readonly code: string; readonly message: string };

/** The most "write" lines one holder serves (each is one pair of writes). */
const MAX_WRITES = 10;

const sharedNow = (): number => performance.timeOrigin + performance.now();
const say = (line: HolderLine): void => void process.stdout.write(`${JSON.stringify(line)}\n`);

interface Backend {
  readonly lock: Lock;
  /** The guarded write of `value`, refused when `token` is stale; null: this backend has no guard (Redlock). */
  readonly fenced: ((token: number | null, value: string) => Promise<void>) | null;
  readonly unfenced: (value: string) => Promise<void>;
  close(): Promise<void>;
}

async function redisResource(endpoint: RedisEndpoint): Promise<Redis> {
  const { redis, ready } = await openRedis(endpoint);
  if (!ready) throw new Error(`redis ${endpoint.host}:${endpoint.port} did not answer`);
  return redis;
}

async function openBackend(c: HolderConfig): Promise<Backend> {
  switch (c.backend) {
    case 'synod': {
      const client = new SynodClient({ endpoints: c.urls ?? [] });
      return {
        lock: new KvLock(new SynodLeaseKv(client)),
        fenced: async (token, value) => void (await fencedWrite(client, { fenceKey: c.fenceKey, token, key: c.dataKey, value })),
        unfenced: async (value) => void (await client.put(c.unfencedKey, value)),
        close: async () => client.close(),
      };
    }
    case 'etcd': {
      const kv = await EtcdLeaseKv.connect({ hosts: [...(c.urls ?? [])] });
      return {
        lock: new KvLock(kv),
        fenced: async (token, value) => void (await fencedEtcdWrite(kv.client, { fenceKey: c.fenceKey, token, key: c.dataKey, value })),
        unfenced: async (value) => void (await kv.client.put(c.unfencedKey).value(value)),
        close: () => kv.close(),
      };
    }
    case 'redis': {
      const server = (c.redis ?? [])[0] as RedisEndpoint;
      const lock = await createRedisLock({ server });
      const redis = await redisResource(server);
      return {
        lock,
        fenced: (token, value) => fencedRedisWrite(redis, { fenceKey: c.fenceKey, token, key: c.dataKey, value }),
        unfenced: async (value) => void (await redis.set(c.unfencedKey, value)),
        close: async () => {
          await lock.close();
          await closeRedis(redis);
        },
      };
    }
    case 'redlock': {
      const servers = c.redis ?? [];
      const lock = await createRedlock({ servers });
      const redis = await redisResource(servers[0] as RedisEndpoint);
      return {
        lock,
        fenced: null,
        unfenced: async (value) => void (await redis.set(c.unfencedKey, value)),
        close: async () => {
          await lock.close();
          await closeRedis(redis);
        },
      };
    }
  }
}

async function outcomeOf(write: () => Promise<void>): Promise<WriteOutcome> {
  try {
    await write();
    return 'ok';
  } catch (err) {
    if (isLockError(err)) return err.code;
    return err instanceof Error ? err.message : String(err);
  }
}

async function main(): Promise<void> {
  const config = JSON.parse(process.env['HOLDER_CONFIG'] ?? 'null') as HolderConfig | null;
  if (config === null) throw new Error('HOLDER_CONFIG is not set');
  const backend = await openBackend(config);
  const lines = createInterface({ input: process.stdin });
  const commands = lines[Symbol.asyncIterator]();
  try {
    // using() keeps the lease alive every third of the TTL: a SIGSTOP stops exactly that
    await backend.lock.using(config.lock, { ttlMs: config.ttlMs, waitMs: config.waitMs }, async (grant) => {
      say({ event: 'granted', token: grant.token, holder: grant.holder, atMs: sharedNow() });
      for (let i = 0; i < MAX_WRITES; i++) {
        const next = await commands.next();
        if (next.done === true || next.value.trim() !== 'write') return;
        // no look at using()'s signal here: the pause is taken to land after the holder's last check
        const startMs = sharedNow();
        const { fenced } = backend;
        const fencedOutcome = fenced === null ? 'none' : await outcomeOf(() => fenced(grant.token, config.value));
        const unfencedOutcome = await outcomeOf(() => backend.unfenced(config.value));
        say({ event: 'wrote', fenced: fencedOutcome, unfenced: unfencedOutcome, startMs, atMs: sharedNow() });
      }
    });
  } finally {
    lines.close();
    await backend.close();
  }
  say({ event: 'done' });
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    say({ event: 'error', code: isLockError(err) ? err.code : 'ERROR', message: err instanceof Error ? err.message : String(err) });
    process.exit(1);
  },
);
