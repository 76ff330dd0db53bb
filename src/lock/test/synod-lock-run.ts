// A randomized real-process run of Synod's own lock recipe (KvLock over SynodLeaseKv, the code a
// user runs) on a local cluster under checkQueueGrants: clients queue on one lock with short
// leases, some giving up while they wait, some stalling past their lease while holding, while
// nodes are paused (SIGSTOP), killed (SIGKILL) and restarted. Shared by scripts/synod-lock-check.ts
// and its bounded test.
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { QueueGrant, QueueKeyChange } from '../../check/lock-safety.js';
import { SynodClient } from '../../client/index.js';
import { reservePortBlock, type PortBlock } from '../../server/test/port-block.js';
import { RandomSource, type RandomStream } from '../../sim/rng.js';
import { startLocalCluster, type ClusterHandle } from '../../supervisor/index.js';
import { isLockError } from '../errors.js';
import { KvLock } from '../kv-recipes.js';
import { SynodLeaseKv } from '../synod-kv.js';
import { httpJson } from './etcd-server.js';
import { ObservedKv } from './observed-kv.js';
import { judgeGrants, runClientsAndFaults, sleep, type FaultTarget, type LockRunOptions, type LockRunResult } from './fault-schedule.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

export interface SynodLockRunOptions extends LockRunOptions {
  readonly nodes: number;
  /** The grants' TTL; the cluster's minimum is 1.5 s (1.5 x its longest election timeout). */
  readonly ttlMs?: number;
  /** The cluster's ports: control on it, clients from +1, peers from +101. */
  readonly basePort?: number;
}

/** How a client takes its turn: waits as long as it takes, gives up after a short wait, or stalls past its lease while holding. */
export type SynodWaitMode = 'wait' | 'give-up' | 'stall';

export interface SynodLockRunStats {
  readonly attempts: Record<SynodWaitMode, number>;
  readonly grants: Record<SynodWaitMode, number>;
  /** Acquires that ended in LOCK_TIMEOUT (the client gave up). */
  readonly timeouts: number;
  /** Releases that found the lease gone (LEASE_LOST): expected of stalled holders. */
  readonly releasesLost: Record<SynodWaitMode, number>;
  /** Other failed calls, by error code. */
  readonly errors: Record<string, number>;
  readonly pauses: number;
  readonly kills: number;
}

export interface SynodLockRunResult extends LockRunResult<SynodWaitMode> {
  readonly nodes: number;
  readonly ttlMs: number;
  /** The tokens of the grants in the order the clients got them. */
  readonly tokens: readonly number[];
  /** Grants whose token was not above every earlier grant's. */
  readonly tokenRegressions: number;
  readonly stats: SynodLockRunStats;
}

const MAX_CLIENT_ROUNDS = 100_000;
const MAX_HISTORY_EVENTS = 2_000_000;
const HISTORY_TIMEOUT_MS = 120_000;
/** A waiting client gives up after this even in `wait` mode, so that the run ends on time. */
const LONGEST_WAIT_MS = 15_000;

const zeroModes = (): Record<SynodWaitMode, number> => ({ wait: 0, 'give-up': 0, stall: 0 });

function codeOf(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : String(err instanceof Error ? err.message : err).slice(0, 60);
}

/** Runs the clients and the faults for `durationMs`, reads the history, and checks every grant. */
export async function runSynodLockCheck(options: SynodLockRunOptions): Promise<SynodLockRunResult> {
  const { seed, durationMs, clients, nodes, signal } = options;
  const ttlMs = options.ttlMs ?? 2000;
  const log = options.log ?? ((): void => undefined);
  const random = new RandomSource(seed);
  const lockName = `synod-lock-check-${seed}`;
  const prefix = `synod-lock/${encodeURIComponent(lockName)}/`;
  const dir = mkdtempSync(join(tmpdir(), 'synod-lock-check-'));
  let cluster: ClusterHandle | undefined;
  let ports: PortBlock | undefined;
  const opened: { close(): Promise<void> | void }[] = [];
  try {
    log(`starting ${nodes} Synod nodes in ${dir}`);
    // a test (no base port given) claims a block no other test process uses
    ports = options.basePort === undefined ? await reservePortBlock() : undefined;
    // history kept whole (no auto-compaction), so that the lock's key history can be read back from revision 1
    cluster = await startLocalCluster({ nodes, dataDir: join(dir, 'cluster'), basePort: options.basePort ?? ports?.base ?? 28300, tls: false, logLevel: 'warn', command: [join(repoRoot, 'bin/synod.js')], nodeArgs: ['--auto-compact-retain-revisions', '0'] });
    const running = cluster;
    const ids = Object.keys(running.endpoints);
    const endpoints = Object.values(running.endpoints);
    const admin = new SynodClient({ endpoints });
    opened.push(admin);
    const agent = new Agent({ keepAlive: true });
    opened.push({ close: () => agent.destroy() });
    await waitForLeader(running.endpoints, agent, 30_000);
    log(`${clients} clients on lock ${JSON.stringify(lockName)} for ${durationMs} ms, lease TTL ${ttlMs} ms, seed ${seed}`);

    const startedAt = Date.now();
    const deadline = startedAt + durationMs;
    const stopping = (): boolean => Date.now() >= deadline || signal?.aborted === true;
    const grants: QueueGrant[] = [];
    const tokens: number[] = [];
    const modes: SynodWaitMode[] = [];
    const stats = { attempts: zeroModes(), grants: zeroModes(), timeouts: 0, releasesLost: zeroModes(), errors: {} as Record<string, number>, pauses: 0, kills: 0 };
    const countError = (err: unknown): void => {
      const k = codeOf(err);
      stats.errors[k] = (stats.errors[k] ?? 0) + 1;
    };

    const client = async (index: number): Promise<void> => {
      const rng = random.stream(`client:${index}`);
      const kv = new ObservedKv(SynodLeaseKv.connect({ endpoints }));
      const lock = new KvLock(kv);
      opened.push(lock);
      for (let round = 0; round < MAX_CLIENT_ROUNDS && !stopping(); round++) {
        const mode = pickMode(rng);
        const waitMs = mode === 'give-up' ? rng.int(200, 3000) : Math.min(LONGEST_WAIT_MS, Math.max(0, deadline - Date.now()));
        const holdMs = mode === 'stall' ? ttlMs + rng.int(200, 1500) : rng.int(0, 600);
        stats.attempts[mode]++;
        let grant;
        try {
          grant = await lock.acquire(lockName, { ttlMs, waitMs, ...(signal === undefined ? {} : { signal }) });
        } catch (err) {
          if (isLockError(err, 'LOCK_TIMEOUT')) stats.timeouts++;
          else countError(err);
          await sleep(rng.int(0, 200), signal);
          continue;
        }
        grants.push({ key: prefix + grant.holder, revision: kv.lastLineRevision, holder: `client ${index} (${mode})`, atMs: Date.now() - startedAt });
        tokens.push(grant.token);
        modes.push(mode);
        stats.grants[mode]++;
        // a stalled holder neither extends nor releases in time: its lease expires under it
        await sleep(holdMs, signal);
        try {
          await lock.release(grant);
        } catch (err) {
          if (isLockError(err, 'LEASE_LOST')) stats.releasesLost[mode]++;
          else countError(err);
        }
      }
    };

    const faults: FaultTarget<string> = {
      members: ids,
      leader: () => leaderOf(running.endpoints, agent),
      pause: (id) => running.kill(id, 'SIGSTOP'),
      resume: (id) => running.kill(id, 'SIGCONT'),
      kill: (id) => running.kill(id, 'SIGKILL'),
      restart: (id) => restartWhenGone(running, id),
    };
    await runClientsAndFaults({ client, count: clients, faults: options.faults === false ? undefined : faults, rng: random.stream('nemesis'), deadline, counts: stats, log, startedAt, signal, grantCount: () => grants.length });
    if (signal?.aborted === true) throw new Error('aborted');
    log(`run over: ${grants.length} grants; reading the lock's key history`);
    const { changes, lastRevision } = await readHistory(admin, prefix);
    log(`history: ${changes.length} changes up to revision ${lastRevision}`);
    const { check, violationsByMode } = judgeGrants(changes, grants, modes, zeroModes());
    let tokenRegressions = 0;
    let highest = Number.NEGATIVE_INFINITY;
    for (const token of tokens) {
      if (token <= highest) tokenRegressions++;
      highest = Math.max(highest, token);
    }
    return { seed, durationMs, clients, nodes, ttlMs, lockName, grants, tokens, tokenRegressions, changes, lastRevision, stats, check, violationsByMode };
  } finally {
    for (const o of opened) await Promise.resolve(o.close()).catch(() => undefined);
    if (cluster !== undefined) log('stopping the cluster');
    await cluster?.stop();
    ports?.release();
    rmSync(dir, { recursive: true, force: true });
  }
}

function pickMode(rng: RandomStream): SynodWaitMode {
  const x = rng.float();
  return x < 0.6 ? 'wait' : x < 0.9 ? 'give-up' : 'stall';
}

/** The id of the node that says it leads (a paused or dead node says nothing within a second). */
async function leaderOf(endpoints: Readonly<Record<string, string>>, agent: Agent): Promise<string | undefined> {
  for (const [id, url] of Object.entries(endpoints)) {
    const status = (await httpJson('GET', `${url}/v1/status`, undefined, agent, AbortSignal.timeout(1000)).catch(() => null)) as { role?: unknown } | null;
    if (status?.role === 'leader') return id;
  }
  return undefined;
}

async function waitForLeader(endpoints: Readonly<Record<string, string>>, agent: Agent, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await leaderOf(endpoints, agent)) === undefined) {
    if (Date.now() > deadline) throw new Error(`no leader within ${timeoutMs} ms`);
    await sleep(200);
  }
}

/** Restarts a killed node once its process has exited (bounded: a few seconds of retries). */
async function restartWhenGone(cluster: ClusterHandle, id: string): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      cluster.restart(id);
      return;
    } catch {
      await sleep(100);
    }
  }
  throw new Error(`node ${id} could not be restarted after SIGKILL`);
}

/**
 * The prefix's whole history: puts a marker key under it (its revision is the history's end), then
 * watches the prefix from revision 1 until the marker arrives. Needs an uncompacted store.
 */
async function readHistory(client: SynodClient, prefix: string): Promise<{ changes: QueueKeyChange[]; lastRevision: number }> {
  const marker = `${prefix}~end-of-run`;
  const lastRevision = (await client.put(marker, '')).revision;
  const changes: QueueKeyChange[] = [];
  const watch = client.watch({ prefix }, { startRevision: 1, signal: AbortSignal.timeout(HISTORY_TIMEOUT_MS) });
  try {
    for await (const message of watch) {
      if (message.type !== 'events') continue;
      for (const e of message.events) {
        if (e.kv.key === marker) return { changes, lastRevision };
        changes.push({ key: e.kv.key, revision: message.revision, type: e.type });
        if (changes.length > MAX_HISTORY_EVENTS) throw new Error(`more than ${MAX_HISTORY_EVENTS} events under ${prefix}`);
      }
    }
  } finally {
    watch.close();
  }
  throw new Error('the watch of the history ended before the end marker');
}
