// A randomized real-process run of etcd 3.4's own lock service (v3lock, through the JSON gateway)
// under `checkQueueGrants`: clients queue on one lock with short leases, some letting their lease
// lapse while they wait (the case Jepsen reported for 3.4.3), while members are paused and killed.
// Shared by scripts/etcd-lock-check.ts and its bounded test.
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { QueueGrant, QueueKeyChange } from '../../check/lock-safety.js';
import { prefixEnd } from '../../kv/requests.js';
import { RandomSource, type RandomStream } from '../../sim/rng.js';
import { freePort } from '../../server/test/in-process.js';
import { etcdHealthy, findEtcdLeader, httpJson, startEtcdCluster, type EtcdCluster } from './etcd-server.js';
import { judgeGrants, runClientsAndFaults, sleep, type FaultTarget, type LockRunOptions, type LockRunResult } from './fault-schedule.js';

export interface EtcdLockRunOptions extends LockRunOptions {
  readonly members: number;
  /** The leases' TTL; etcd's minimum with its default election timeout is 2 s. */
  readonly ttlSeconds?: number;
}

/** How a client waits in line this time. */
export type WaitMode = 'keep-alive' | 'lapse' | 'abandon';

export interface EtcdLockRunStats {
  readonly attempts: Record<WaitMode, number>;
  readonly grants: Record<WaitMode, number>;
  /** Grants whose lease etcd said was gone (TimeToLive -1) when the client asked right after the answer. */
  readonly grantsWithLeaseGone: Record<WaitMode, number>;
  /** Lock calls the client gave up on (its own timeout, or a paused or killed member). */
  readonly abandoned: number;
  /** Other failed calls (lease grant, lock, unlock), by first words of the message. */
  readonly errors: Record<string, number>;
  readonly pauses: number;
  readonly kills: number;
}

export interface EtcdLockRunResult extends LockRunResult<WaitMode> {
  readonly members: number;
  readonly ttlSeconds: number;
  readonly etcdVersion: string;
  readonly stats: EtcdLockRunStats;
}

const MAX_CLIENT_ROUNDS = 100_000;
const MAX_HISTORY_EVENTS = 2_000_000;
const HISTORY_TIMEOUT_MS = 120_000;
/** A lock call is abandoned after this even when the client meant to wait: a paused member never answers. */
const LOCK_CALL_LIMIT_MS = 15_000;
const CALL_LIMIT_MS = 3_000;

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
const unb64 = (text: string): string => Buffer.from(text, 'base64').toString('utf8');

function errorClass(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const m = /HTTP (\d+): .*?"message":"([^"]{0,60})/.exec(text);
  if (m !== null) return `HTTP ${m[1]} ${m[2]}`;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : text.slice(0, 60);
}

const zeroModes = (): Record<WaitMode, number> => ({ 'keep-alive': 0, lapse: 0, abandon: 0 });

/** Runs the clients and the faults for `durationMs`, reads the history, and checks every grant. */
export async function runEtcdLockCheck(options: EtcdLockRunOptions): Promise<EtcdLockRunResult> {
  const { seed, durationMs, clients, members, signal } = options;
  const ttlSeconds = options.ttlSeconds ?? 2;
  const log = options.log ?? ((): void => undefined);
  const random = new RandomSource(seed);
  const lockName = `etcd-lock-check-${seed}`;
  const dir = mkdtempSync(join(tmpdir(), 'synod-etcd-lock-check-'));
  let cluster: EtcdCluster | undefined;
  const agents: Agent[] = [];
  try {
    const ports = [];
    for (let i = 0; i < members; i++) ports.push({ client: await freePort(), peer: await freePort() });
    log(`starting ${members} etcd members in ${dir}`);
    cluster = await startEtcdCluster(dir, members, ports, { install: false, token: `synod-lock-check-${process.pid}-${seed}` });
    const running = cluster;
    const adminAgent = new Agent({ keepAlive: true });
    agents.push(adminAgent);
    const version = (await httpJson('GET', `${running.clientUrls[0]}/version`, undefined, adminAgent)) as { etcdserver?: string };
    const etcdVersion = version.etcdserver ?? 'unknown';
    log(`etcd ${etcdVersion}: ${clients} clients on lock ${JSON.stringify(lockName)} for ${durationMs} ms, seed ${seed}`);

    const startedAt = Date.now();
    const deadline = startedAt + durationMs;
    const stopping = (): boolean => Date.now() >= deadline || signal?.aborted === true;
    const runEnd = new AbortController();
    const endTimer = setTimeout(() => runEnd.abort(), durationMs);
    const grants: QueueGrant[] = [];
    /** How the client of each grant (same index) had waited. */
    const modes: WaitMode[] = [];
    const stats = { attempts: zeroModes(), grants: zeroModes(), grantsWithLeaseGone: zeroModes(), abandoned: 0, errors: {} as Record<string, number>, pauses: 0, kills: 0 };
    const countError = (err: unknown): void => {
      const k = errorClass(err);
      stats.errors[k] = (stats.errors[k] ?? 0) + 1;
    };

    const client = async (index: number): Promise<void> => {
      const rng = random.stream(`client:${index}`);
      const agent = new Agent({ keepAlive: true });
      agents.push(agent);
      // `untilEnd`: a lock call still waiting when the run ends is abandoned, so the run ends on time
      const call = (url: string, path: string, body: unknown, limitMs: number, untilEnd = false): Promise<Record<string, unknown>> => {
        const signals = [AbortSignal.timeout(limitMs), ...(signal === undefined ? [] : [signal]), ...(untilEnd ? [runEnd.signal] : [])];
        return httpJson('POST', `${url}${path}`, body, agent, AbortSignal.any(signals)) as Promise<Record<string, unknown>>;
      };
      for (let round = 0; round < MAX_CLIENT_ROUNDS && !stopping(); round++) {
        const url = rng.pick(running.clientUrls);
        const mode = pickMode(rng);
        const abandonAfterMs = rng.int(500, 4000);
        const holdMs = rng.chance(0.1) ? (ttlSeconds + 1) * 1000 : rng.int(0, 1200);
        const stallWhileHolding = holdMs > ttlSeconds * 1000;
        stats.attempts[mode]++;
        let leaseId: string | undefined;
        try {
          const lease = await call(url, '/v3/lease/grant', { TTL: ttlSeconds }, CALL_LIMIT_MS);
          if (typeof lease.ID !== 'string') throw new Error('lease grant: no ID in the answer');
          leaseId = lease.ID;
          const id = leaseId;
          const keeper = mode === 'keep-alive' ? keepAlive(() => call(url, '/v3/lease/keepalive', { ID: id }, 1000), (ttlSeconds * 1000) / 3) : undefined;
          let answer: Record<string, unknown>;
          try {
            answer = await call(url, '/v3/lock/lock', { name: b64(lockName), lease: id }, mode === 'abandon' ? abandonAfterMs : LOCK_CALL_LIMIT_MS, true);
          } catch (err) {
            if ((err as { name?: string }).name === 'AbortError' || (err as { name?: string }).name === 'TimeoutError') stats.abandoned++;
            else countError(err);
            continue;
          } finally {
            keeper?.stop();
          }
          const header = answer.header as { revision?: string } | undefined;
          if (typeof answer.key !== 'string' || typeof header?.revision !== 'string') throw new Error('lock: no key or revision in the answer');
          const key = unb64(answer.key);
          grants.push({ key, revision: Number(header.revision), holder: `client ${index} (${mode})`, atMs: Date.now() - startedAt });
          modes.push(mode);
          stats.grants[mode]++;
          const ttl = await call(url, '/v3/lease/timetolive', { ID: id }, CALL_LIMIT_MS).catch(() => undefined);
          if (ttl !== undefined && ttl.TTL === '-1') stats.grantsWithLeaseGone[mode]++;
          const holder = stallWhileHolding ? undefined : keepAlive(() => call(url, '/v3/lease/keepalive', { ID: id }, 1000), (ttlSeconds * 1000) / 3);
          await sleep(holdMs, signal);
          holder?.stop();
          await call(url, '/v3/lock/unlock', { key: answer.key }, CALL_LIMIT_MS).catch(countError);
        } catch (err) {
          countError(err);
          await sleep(100, signal);
        } finally {
          if (leaseId !== undefined) await call(url, '/v3/lease/revoke', { ID: leaseId }, CALL_LIMIT_MS).catch(() => undefined);
        }
      }
    };

    const faults: FaultTarget<number> = {
      members: Array.from({ length: members }, (_, i) => i),
      leader: async () => {
        const i = running.clientUrls.indexOf(await findEtcdLeader(running.clientUrls, adminAgent));
        return i >= 0 ? i : undefined;
      },
      pause: (i) => running.pause(i),
      resume: (i) => running.resume(i),
      kill: (i) => running.kill(i),
      restart: (i) => running.restart(i),
    };
    try {
      await runClientsAndFaults({ client, count: clients, faults: options.faults === false ? undefined : faults, rng: random.stream('nemesis'), deadline, counts: stats, log, startedAt, signal, grantCount: () => grants.length });
    } finally {
      clearTimeout(endTimer);
    }
    if (signal?.aborted === true) throw new Error('aborted');
    log(`run over: ${grants.length} grants; reading the lock's key history`);
    const { changes, lastRevision } = await readHistory(running.clientUrls, `${lockName}/`, adminAgent);
    log(`history: ${changes.length} changes up to revision ${lastRevision}`);
    const { check, violationsByMode } = judgeGrants(changes, grants, modes, zeroModes());
    return { seed, durationMs, clients, members, ttlSeconds, etcdVersion, lockName, grants, changes, lastRevision, stats, check, violationsByMode };
  } finally {
    for (const a of agents) a.destroy();
    if (cluster !== undefined) log('stopping the cluster');
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function pickMode(rng: RandomStream): WaitMode {
  const x = rng.float();
  return x < 0.45 ? 'keep-alive' : x < 0.85 ? 'lapse' : 'abandon';
}

/** Keeps a lease alive every `everyMs` until stopped (failures are left to the lease's expiry). */
function keepAlive(send: () => Promise<unknown>, everyMs: number): { stop(): void } {
  let stopped = false;
  const tick = (): void => {
    if (stopped) return;
    void send().catch(() => undefined).finally(() => {
      if (!stopped) timer = setTimeout(tick, everyMs);
    });
  };
  let timer = setTimeout(tick, everyMs);
  return {
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/**
 * The prefix's whole history: puts a marker key under it (its revision is the history's end), then
 * watches the prefix from revision 1 until the marker arrives. Needs an uncompacted store.
 */
async function readHistory(clientUrls: readonly string[], prefix: string, agent: Agent): Promise<{ changes: QueueKeyChange[]; lastRevision: number }> {
  let url: string | undefined;
  const deadline = Date.now() + HISTORY_TIMEOUT_MS;
  while (url === undefined && Date.now() < deadline) {
    for (const u of clientUrls) if (url === undefined && (await etcdHealthy(u))) url = u;
    if (url === undefined) await sleep(200);
  }
  if (url === undefined) throw new Error('no etcd member is healthy after the run');
  const marker = `${prefix}~end-of-run`;
  const put = (await httpJson('POST', `${url}/v3/kv/put`, { key: b64(marker), value: b64('') }, agent)) as { header?: { revision?: string } };
  const lastRevision = Number(put.header?.revision);
  if (!Number.isSafeInteger(lastRevision)) throw new Error('put of the end marker: no revision in the answer');
  const changes: QueueKeyChange[] = [];
  await new Promise<void>((resolve, reject) => {
    const body = JSON.stringify({ create_request: { key: b64(prefix), range_end: b64(prefixEnd(prefix) ?? ''), start_revision: 1 } });
    const req = request(`${url}/v3/watch`, { method: 'POST', agent, signal: AbortSignal.timeout(Math.max(1000, deadline - Date.now())), headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      let buffered = '';
      let done = false;
      const finish = (err?: Error): void => {
        if (done) return;
        done = true;
        req.destroy();
        if (err === undefined) resolve();
        else reject(err);
      };
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffered += chunk;
        for (let nl = buffered.indexOf('\n'); nl >= 0 && !done; nl = buffered.indexOf('\n')) {
          const line = buffered.slice(0, nl).trim();
          buffered = buffered.slice(nl + 1);
          if (line.length === 0) continue;
          const msg = JSON.parse(line) as { result?: { events?: { type?: string; kv?: { key?: string; mod_revision?: string } }[]; compact_revision?: string; canceled?: boolean }; error?: unknown };
          if (msg.error !== undefined || msg.result?.canceled === true) return finish(new Error(`watch of the history failed: ${line.slice(0, 200)}`));
          for (const e of msg.result?.events ?? []) {
            const key = unb64(e.kv?.key ?? '');
            const revision = Number(e.kv?.mod_revision);
            if (key === marker) return finish();
            changes.push({ key, revision, type: e.type === 'DELETE' ? 'delete' : 'put' });
            if (changes.length > MAX_HISTORY_EVENTS) return finish(new Error(`more than ${MAX_HISTORY_EVENTS} events under ${prefix}`));
          }
        }
      });
      res.on('end', () => finish(new Error('the watch of the history ended before the end marker')));
      res.on('error', (err) => finish(err));
    });
    req.on('error', reject);
    req.end(body);
  });
  return { changes, lastRevision };
}
