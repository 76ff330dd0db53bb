// Kleppmann's paused holder with real processes, on every backend: holder 1 (a child process)
// takes the lock, is stopped with SIGSTOP past its lease, holder 2 takes the lock and writes, then
// holder 1 is resumed and writes with its old grant. The fenced resource refuses it (Synod, etcd,
// Redis) while an unguarded key takes it; on Redlock there is no token, and the mutex checker
// finds the two holders. Also: the etcd and Redis guards on their own.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Etcd3 } from 'etcd3';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { checkMutex, type LockEvent } from '../check/lock-safety.js';
import { SynodClient } from '../client/index.js';
import { leaderAmong } from '../server/test/harness.js';
import { freePort, startInProcessCluster, type InProcessCluster } from '../server/test/in-process.js';
import { fencedEtcdTxn, fencedEtcdWrite, fencedRedisWrite, isLockError } from './index.js';
import { startEtcdCluster, type EtcdCluster } from './test/etcd-server.js';
import { freshName } from './test/helpers.js';
import type { HolderConfig, HolderLine } from './test/holder-child.js';
import { startRedisFleet, startRedisServer, type RedisFleet, type RedisServerProcess } from './test/redis-server.js';

const CHILD = fileURLToPath(new URL('./test/holder-child.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../..', import.meta.url));
/** How long a holder may take to answer (a fresh tsx process on a busy machine, a lease to expire). */
const LINE_TIMEOUT_MS = 60_000;
const TEST_TIMEOUT_MS = 180_000;

/** A holder child: its stdout parsed line by line, its stdin for commands. */
class Holder {
  private readonly lines: HolderLine[] = [];
  private wake: (() => void) | undefined;
  private stderr = '';
  private exited = false;

  constructor(readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        this.lines.push(JSON.parse(line) as HolderLine);
      } catch {
        this.stderr += `${line}\n`;
      }
      this.poke();
    });
    child.stderr?.on('data', (chunk: Buffer) => void (this.stderr = `${this.stderr}${chunk.toString('utf8')}`.slice(-4000)));
    child.once('exit', () => {
      this.exited = true;
      this.poke();
    });
  }

  private poke(): void {
    this.wake?.();
    this.wake = undefined;
  }

  /** The next line of this kind (earlier lines of other kinds are skipped); fails on an error line, exit or timeout. */
  async next<E extends HolderLine['event']>(event: E): Promise<Extract<HolderLine, { event: E }>> {
    const deadline = Date.now() + LINE_TIMEOUT_MS;
    for (;;) {
      const line = this.lines.shift();
      if (line !== undefined) {
        if (line.event === event) return line as Extract<HolderLine, { event: E }>;
        if (line.event === 'error') throw new Error(`holder failed: ${line.code}: ${line.message}`);
        continue;
      }
      if (this.exited) throw new Error(`holder exited before '${event}': ${this.stderr.trim()}`);
      if (Date.now() > deadline) throw new Error(`no '${event}' from the holder within ${LINE_TIMEOUT_MS} ms: ${this.stderr.trim()}`);
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, 1000);
      });
    }
  }

  send(command: string): void {
    this.child.stdin?.write(`${command}\n`);
  }

  pause(): void {
    this.child.kill('SIGSTOP');
  }

  resume(): void {
    this.child.kill('SIGCONT');
  }

  /** Resumed first: a stopped process does not act on SIGTERM until continued. */
  async stop(): Promise<void> {
    if (this.exited) return;
    this.child.kill('SIGCONT');
    this.child.kill('SIGKILL');
    await new Promise<void>((resolve) => (this.exited ? resolve() : this.child.once('exit', () => resolve())));
  }
}

const holders: Holder[] = [];
afterEach(async () => {
  await Promise.all(holders.splice(0).map((h) => h.stop()));
});

function spawnHolder(config: HolderConfig): Holder {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], { cwd: REPO, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, HOLDER_CONFIG: JSON.stringify(config) } });
  const holder = new Holder(child);
  holders.push(holder);
  return holder;
}

interface PausedHolderRun {
  readonly first: Extract<HolderLine, { event: 'granted' }>;
  readonly second: Extract<HolderLine, { event: 'granted' }>;
  readonly firstWrite: Extract<HolderLine, { event: 'wrote' }>;
  readonly secondWrite: Extract<HolderLine, { event: 'wrote' }>;
}

/**
 * Holder 1 takes the lock and is stopped; holder 2's acquire waits until the store expires holder
 * 1's lease (no guess of how long that takes), then writes; holder 1 is resumed and writes.
 */
async function pausedHolder(base: Omit<HolderConfig, 'lock' | 'fenceKey' | 'dataKey' | 'unfencedKey' | 'value' | 'waitMs'>): Promise<PausedHolderRun & { readonly keys: Pick<HolderConfig, 'fenceKey' | 'dataKey' | 'unfencedKey'> }> {
  const name = freshName(`sigstop-${base.backend}`);
  const keys = { fenceKey: `${name}/fence`, dataKey: `${name}/data`, unfencedKey: `${name}/unfenced` };
  const config = { ...base, ...keys, lock: name, waitMs: LINE_TIMEOUT_MS };
  const h1 = spawnHolder({ ...config, value: 'holder-1' });
  const first = await h1.next('granted');
  h1.pause();
  const h2 = spawnHolder({ ...config, value: 'holder-2' });
  const second = await h2.next('granted');
  h2.send('write');
  const secondWrite = await h2.next('wrote');
  h2.send('end');
  await h2.next('done');
  h1.resume();
  h1.send('write');
  const firstWrite = await h1.next('wrote');
  h1.send('end');
  await h1.next('done');
  return { first, second, firstWrite, secondWrite, keys };
}

/** The fenced-backend assertions: holder 1's late write refused by the guard, taken by the unguarded key. */
function expectFenced(run: PausedHolderRun, stored: { data: string | null; unfenced: string | null }): void {
  expect(run.first.token).not.toBeNull();
  expect(run.second.token as number).toBeGreaterThan(run.first.token as number);
  expect(run.secondWrite).toMatchObject({ fenced: 'ok', unfenced: 'ok' });
  expect(run.firstWrite).toMatchObject({ fenced: 'STALE_TOKEN', unfenced: 'ok' });
  expect(stored.data).toBe('holder-2');
  // without the guard the superseded holder's write lands after its successor's
  expect(stored.unfenced).toBe('holder-1');
}

describe('a real holder paused (SIGSTOP) past its lease', { timeout: TEST_TIMEOUT_MS }, () => {
  describe('on Synod (3 in-process nodes, holders in their own processes)', () => {
    let cluster: InProcessCluster;
    let client: SynodClient;
    beforeAll(async () => {
      cluster = await startInProcessCluster(3, { logLevel: 'warn' });
      await leaderAmong(cluster.urls);
      client = new SynodClient({ endpoints: Object.values(cluster.urls) });
    }, TEST_TIMEOUT_MS);
    afterAll(async () => {
      client?.close();
      await cluster?.close();
    }, TEST_TIMEOUT_MS);

    it("refuses the resumed holder's fenced write (fencedWrite), while an unfenced put goes through", async () => {
      const run = await pausedHolder({ backend: 'synod', urls: Object.values(cluster.urls), ttlMs: 1500 });
      const data = (await client.get(run.keys.dataKey)).value;
      const unfenced = (await client.get(run.keys.unfencedKey)).value;
      expectFenced(run, { data: data as string, unfenced: unfenced as string });
    });
  });

  describe('on etcd 3.4 (3 members)', () => {
    let etcd: EtcdCluster;
    let dir: string;
    let client: Etcd3;
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'synod-etcd-sigstop-'));
      const ports = [];
      for (let i = 0; i < 3; i++) ports.push({ client: await freePort(), peer: await freePort() });
      etcd = await startEtcdCluster(dir, 3, ports, { install: false, token: `synod-sigstop-${process.pid}` });
      client = new Etcd3({ hosts: etcd.clientUrls });
    }, TEST_TIMEOUT_MS);
    afterAll(async () => {
      client?.close();
      await etcd?.stop();
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    }, TEST_TIMEOUT_MS);

    it("refuses the resumed holder's fenced write (fencedEtcdWrite, one txn), while an unfenced put goes through", async () => {
      const run = await pausedHolder({ backend: 'etcd', urls: etcd.clientUrls, ttlMs: 2000 });
      expectFenced(run, { data: await client.get(run.keys.dataKey).string(), unfenced: await client.get(run.keys.unfencedKey).string() });
    });

    it('fencedEtcdTxn: a stale token is refused and changes nothing; the same token writes again; a foreign fence key is refused', async () => {
      const name = freshName('etcd-guard');
      const fenceKey = `${name}/fence`;
      const key = `${name}/data`;
      await fencedEtcdWrite(client, { fenceKey, token: 7, key, value: 'first' });
      await fencedEtcdWrite(client, { fenceKey, token: 7, key, value: 'again, same grant' });
      // 10 sorts below 9 as text: the padding is what makes the compare numeric
      await fencedEtcdTxn(client, { fenceKey, token: 10, ops: [{ op: 'put', key, value: 'newer' }, { op: 'delete', key: `${name}/other` }] });
      await expect(fencedEtcdWrite(client, { fenceKey, token: 9, key, value: 'stale' })).rejects.toSatisfy((e) => isLockError(e, 'STALE_TOKEN') && /below 10\b/.test((e as Error).message));
      expect(await client.get(key).string()).toBe('newer');
      await expect(fencedEtcdWrite(client, { fenceKey, token: null, key, value: 'x' })).rejects.toSatisfy((e) => isLockError(e, 'BAD_REQUEST'));
      await expect(fencedEtcdWrite(client, { fenceKey, token: 11, key: fenceKey, value: 'x' })).rejects.toSatisfy((e) => isLockError(e, 'BAD_REQUEST'));
      await client.put(fenceKey).value('not a token');
      await expect(fencedEtcdWrite(client, { fenceKey, token: 11, key, value: 'x' })).rejects.toSatisfy((e) => isLockError(e, 'BAD_REQUEST'));
      expect(await client.get(key).string()).toBe('newer');
    });
  });

  describe('on Redis (one redis-server)', () => {
    let server: RedisServerProcess;
    let direct: Redis;
    beforeAll(async () => {
      server = await startRedisServer();
      direct = new Redis({ host: server.host, port: server.port, lazyConnect: true });
      await direct.connect();
    }, TEST_TIMEOUT_MS);
    afterAll(async () => {
      direct?.disconnect();
      await server?.stop();
    }, TEST_TIMEOUT_MS);

    it("refuses the resumed holder's fenced write (fencedRedisWrite, one Lua script), while a plain SET goes through", async () => {
      const run = await pausedHolder({ backend: 'redis', redis: [{ host: server.host, port: server.port }], ttlMs: 1000 });
      expectFenced(run, { data: await direct.get(run.keys.dataKey), unfenced: await direct.get(run.keys.unfencedKey) });
    });

    it('fencedRedisWrite: a stale token is refused and changes nothing; the same token writes again; a foreign fence key is refused', async () => {
      const name = freshName('redis-guard');
      const fenceKey = `${name}/fence`;
      const key = `${name}/data`;
      await fencedRedisWrite(direct, { fenceKey, token: 7, key, value: 'first' });
      await fencedRedisWrite(direct, { fenceKey, token: 7, key, value: 'again, same grant' });
      await fencedRedisWrite(direct, { fenceKey, token: 10, key, value: 'newer' });
      await expect(fencedRedisWrite(direct, { fenceKey, token: 9, key, value: 'stale' })).rejects.toSatisfy((e) => isLockError(e, 'STALE_TOKEN') && /below 10\b/.test((e as Error).message));
      expect(await direct.get(key)).toBe('newer');
      expect(await direct.get(fenceKey)).toBe('10');
      await expect(fencedRedisWrite(direct, { fenceKey, token: null, key, value: 'x' })).rejects.toSatisfy((e) => isLockError(e, 'BAD_REQUEST'));
      await direct.set(fenceKey, 'not a token');
      await expect(fencedRedisWrite(direct, { fenceKey, token: 11, key, value: 'x' })).rejects.toSatisfy((e) => isLockError(e, 'BAD_REQUEST'));
      expect(await direct.get(key)).toBe('newer');
    });
  });

  describe('on Redlock (5 redis-servers)', () => {
    let fleet: RedisFleet;
    let direct: Redis;
    beforeAll(async () => {
      fleet = await startRedisFleet(5);
      const first = fleet.endpoints[0]!;
      direct = new Redis({ host: first.host, port: first.port, lazyConnect: true });
      await direct.connect();
    }, TEST_TIMEOUT_MS);
    afterAll(async () => {
      direct?.disconnect();
      await fleet?.stop();
    }, TEST_TIMEOUT_MS);

    it('has no token to refuse the resumed holder: its write lands, and the mutex checker finds both holders in the lock at once', async () => {
      const run = await pausedHolder({ backend: 'redlock', redis: fleet.endpoints, ttlMs: 1000 });
      expect([run.first.token, run.second.token]).toEqual([null, null]);
      expect(run.firstWrite).toMatchObject({ fenced: 'none', unfenced: 'ok' });
      // the resource (on the first server) took the superseded holder's write after its successor's
      expect(await direct.get(run.keys.unfencedKey)).toBe('holder-1');
      // each holder from when acquire returned to when its write was done, on the machine's shared clock
      const lock = 'the lock';
      const events: LockEvent[] = [
        { atMs: run.first.atMs, lock, grant: run.first.holder, holder: 'holder-1', token: null, by: 'client', kind: 'acquired' },
        { atMs: run.firstWrite.atMs, lock, grant: run.first.holder, holder: 'holder-1', token: null, by: 'client', kind: 'released' },
        { atMs: run.second.atMs, lock, grant: run.second.holder, holder: 'holder-2', token: null, by: 'client', kind: 'acquired' },
        { atMs: run.secondWrite.atMs, lock, grant: run.second.holder, holder: 'holder-2', token: null, by: 'client', kind: 'released' },
      ];
      const verdict = checkMutex(events, 'client');
      expect(verdict.ok).toBe(false);
      expect(verdict.overlapCount).toBe(1);
      expect(verdict.overlaps[0]?.message).toMatch(/holder-1's grant .* and holder-2's grant/);
    });
  });
});
