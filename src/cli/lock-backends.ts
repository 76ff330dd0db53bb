// What `synod lock` and `synod elect` share: the backend flags (--backend, each backend's
// endpoints, --ttl, --wait), a Lock or Election built from them through the public lock API, the
// supervisor's STONITH routes, lock errors turned into one-line CLI errors, and the routing of
// SIGINT and SIGTERM.
import { constants } from 'node:os';
import type { Command } from 'commander';
import type { Election } from '../election/index.js';
import type { Lock } from '../lock/api.js';
import { isLockError } from '../lock/errors.js';
import type { KvStonithRecords, LeaseKv, RedisEndpoint } from '../lock/index.js';
import { callApi, encodeSegment } from '../supervisor/node-client.js';
import { DEFAULT_CLUSTER_FILE, readClusterFileForClient } from './client.js';
import { CliError } from './errors.js';
import { clientOf } from './kv-client.js';
import { common, connectionOf, type CommonFlags } from './kv.js';
import { parseTtlMs } from './lease.js';

export const BACKENDS = ['synod', 'etcd', 'redis', 'redlock'] as const;
export type BackendName = (typeof BACKENDS)[number];
export const DEFAULT_TTL = '10s';
const DEFAULT_ETCD_ENDPOINTS = 'http://127.0.0.1:2379';
const DEFAULT_REDIS = '127.0.0.1:6379';
/** Exit code of `synod lock` when --wait ran out (LOCK_TIMEOUT): EX_TEMPFAIL, "try again later". */
export const EXIT_LOCK_TIMEOUT = 75;

export interface LockFlags extends CommonFlags {
  ttl: string;
  backend: string;
  wait?: string;
  etcdEndpoints?: string;
  redis?: string;
  redlock?: string;
}

/** The flags of both commands (Synod's --endpoints, TLS and credentials come from `common`). */
export function lockFlags(cmd: Command): Command {
  return common(cmd)
    .option('--ttl <duration>', 'lease TTL: milliseconds, or with a unit (1500ms, 10s, 2m); Synod needs at least 1.5 x its election timeout (1500 ms by default), etcd rounds up to whole seconds (at least 2 s)', DEFAULT_TTL)
    .option('--backend <name>', `where the lock lives: ${BACKENDS.join(', ')}`, 'synod')
    .option('--wait <duration>', 'give up after this long if another holds it (0: try once); default: wait until interrupted')
    .option('--etcd-endpoints <urls>', `etcd backend: comma-separated client URLs (default: env ETCDCTL_ENDPOINTS, else ${DEFAULT_ETCD_ENDPOINTS})`)
    .option('--redis <host:port>', `redis backend: the server (default: ${DEFAULT_REDIS})`)
    .option('--redlock <host:port,...>', 'redlock backend: the independent Redis servers (required; 5 recommended)');
}

export function backendOf(flags: LockFlags): BackendName {
  const name = BACKENDS.find((b) => b === flags.backend);
  if (name === undefined) throw new CliError('BAD_OPTION', `unknown backend "${flags.backend}" (known: ${BACKENDS.join(', ')})`);
  return name;
}

export function ttlOf(flags: LockFlags): number {
  try {
    return parseTtlMs(flags.ttl);
  } catch {
    throw new CliError('BAD_OPTION', `--ttl "${flags.ttl}" is not a duration (e.g. 1500ms, 10s, 2m)`);
  }
}

export function waitOf(flags: LockFlags): number | undefined {
  if (flags.wait === undefined) return undefined;
  if (/^0(ms|s|m)?$/.test(flags.wait.trim())) return 0;
  try {
    return parseTtlMs(flags.wait);
  } catch {
    throw new CliError('BAD_OPTION', `--wait "${flags.wait}" is not a duration (e.g. 0, 500ms, 10s, 2m)`);
  }
}

function redisEndpoint(text: string, flag: string): RedisEndpoint {
  const m = /^\[?([^\]]*?)\]?:(\d{1,5})$/.exec(text.trim());
  const port = m === null ? NaN : Number(m[2]);
  if (m === null || m[1] === '' || !(port >= 1 && port <= 65_535)) throw new CliError('BAD_OPTION', `${flag}: "${text}" is not host:port`);
  return { host: m[1] as string, port };
}

function redlockServers(flags: LockFlags): RedisEndpoint[] {
  if (flags.redlock === undefined) throw new CliError('BAD_OPTION', 'the redlock backend needs --redlock host:port,... (its independent Redis servers)');
  const servers = flags.redlock.split(',').filter((s) => s.trim() !== '').map((s) => redisEndpoint(s, '--redlock'));
  if (servers.length === 0 || servers.length > 99) throw new CliError('BAD_OPTION', '--redlock: give 1 to 99 servers');
  return servers;
}

function etcdHosts(flags: LockFlags): string[] {
  const text = flags.etcdEndpoints ?? process.env['ETCDCTL_ENDPOINTS'] ?? DEFAULT_ETCD_ENDPOINTS;
  const hosts = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (hosts.length === 0) throw new CliError('BAD_OPTION', '--etcd-endpoints: no endpoints');
  return hosts;
}

/** Checks every flag before anything connects: a bad one is exit 2 without touching a backend. */
export function checkBackendFlags(flags: LockFlags): BackendName {
  const backend = backendOf(flags);
  ttlOf(flags);
  waitOf(flags);
  if (backend === 'redis') redisEndpoint(flags.redis ?? DEFAULT_REDIS, '--redis');
  if (backend === 'redlock') redlockServers(flags);
  if (backend === 'etcd') etcdHosts(flags);
  if (backend === 'synod') connectionOf(flags);
  return backend;
}

// The backends' modules load when a command opens one: the etcd and Redis clients cost every
// other `synod` command (and each test that spawns one) about half a second of start-up.
const lockModule = (): Promise<typeof import('../lock/index.js')> => import('../lock/index.js');
const electionModule = (): Promise<typeof import('../election/index.js')> => import('../election/index.js');

async function leaseKvOf(backend: 'synod' | 'etcd', flags: LockFlags): Promise<LeaseKv> {
  const { EtcdLeaseKv, SynodLeaseKv } = await lockModule();
  if (backend === 'synod') return new SynodLeaseKv(clientOf(flags), { closeClient: true });
  return EtcdLeaseKv.connect({ hosts: etcdHosts(flags) });
}

/** The lock of the chosen backend; with STONITH records where the backend keeps them (Synod, etcd). */
export async function openLock(flags: LockFlags): Promise<{ lock: Lock<number> | Lock<null>; stonithRecords?: KvStonithRecords }> {
  const backend = backendOf(flags);
  const { KvLock, KvStonithRecords, createRedisLock, createRedlock } = await lockModule();
  if (backend === 'synod' || backend === 'etcd') {
    const kv = await leaseKvOf(backend, flags);
    return { lock: new KvLock(kv), stonithRecords: new KvStonithRecords(kv) };
  }
  if (backend === 'redis') return { lock: await createRedisLock({ server: redisEndpoint(flags.redis ?? DEFAULT_REDIS, '--redis') }) };
  return { lock: await createRedlock({ servers: redlockServers(flags) }) };
}

export async function openElection(flags: LockFlags): Promise<Election<number> | Election<null>> {
  const backend = backendOf(flags);
  const { KvElection, createRedisElection, createRedlockElection } = await electionModule();
  if (backend === 'synod' || backend === 'etcd') return new KvElection(await leaseKvOf(backend, flags));
  if (backend === 'redis') return createRedisElection({ server: redisEndpoint(flags.redis ?? DEFAULT_REDIS, '--redis') });
  return createRedlockElection({ servers: redlockServers(flags) });
}

/** A LockError as a one-line CLI error: bad input exit 2, a timeout EXIT_LOCK_TIMEOUT, the rest 1. */
export function cliErrorOf(err: unknown): unknown {
  if (!isLockError(err)) return err;
  const exitCode = err.code === 'BAD_REQUEST' ? 2 : err.code === 'LOCK_TIMEOUT' ? EXIT_LOCK_TIMEOUT : 1;
  return new CliError(err.code, `${err.message} (${err.backend})`, exitCode);
}

/** The supervisor's control URL: --supervisor, env SYNOD_SUPERVISOR, else the base port of ./synod-data/cluster.json (its lowest client port - 1), else 7000. */
export function supervisorUrlOf(flag: string | undefined): string {
  const text = flag ?? process.env['SYNOD_SUPERVISOR'];
  if (text !== undefined) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new CliError('BAD_OPTION', `--supervisor "${text}" is not a URL (e.g. http://127.0.0.1:7000)`);
    }
    if (url.protocol !== 'http:') throw new CliError('BAD_OPTION', `--supervisor "${text}": the control server speaks http:// on loopback`);
    return text.replace(/\/$/, '');
  }
  const local = readClusterFileForClient(DEFAULT_CLUSTER_FILE);
  const ports = (local?.endpoints ?? []).map((e) => Number(new URL(e).port)).filter((p) => p > 1);
  return `http://127.0.0.1:${ports.length === 0 ? 7000 : Math.min(...ports) - 1}`;
}

/** The supervisor's STONITH routes, as `synod lock --stonith` uses them. */
export class SupervisorStonith {
  constructor(
    private readonly url: string,
    private readonly headers: Readonly<Record<string, string>>,
  ) {}

  private async call(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
    let answer;
    try {
      answer = await callApi([this.url], method, path, body, 10_000, { headers: this.headers });
    } catch (err) {
      throw new CliError('SUPERVISOR_UNREACHABLE', `the supervisor at ${this.url} did not answer: ${(err as Error).message}`, 1);
    }
    const b = (typeof answer.body === 'object' && answer.body !== null ? answer.body : {}) as Record<string, unknown>;
    if (answer.status !== 200) {
      const e = b['error'] as { code?: string; message?: string } | undefined;
      throw new CliError(e?.code ?? `HTTP_${answer.status}`, `supervisor at ${this.url}: ${e?.message ?? `HTTP ${answer.status}`}`, 1);
    }
    return b;
  }

  /** Registers `pid`; answers the target id a successor powers it off by. */
  async register(pid: number): Promise<string> {
    const id = (await this.call('POST', '/api/stonith/targets', { pid }))['id'];
    if (typeof id !== 'string') throw new CliError('BAD_ANSWER', `supervisor at ${this.url}: no target id in its answer`, 1);
    return id;
  }

  async unregister(id: string): Promise<void> {
    await this.call('DELETE', `/api/stonith/targets/${encodeSegment(id)}`);
  }

  async powerOff(id: string): Promise<void> {
    await this.call('POST', `/api/stonith/targets/${encodeSegment(id)}/power-off`, {});
  }
}

/**
 * SIGINT and SIGTERM for `synod lock` and `synod elect`, routed by what the command is doing:
 * aborting a wait (`waiting`), then, once routed, ending a hold or passed on to a child.
 */
export class Interrupts {
  /** The first signal received, for the exit code of an interrupted wait. */
  received: NodeJS.Signals | undefined;
  readonly waiting = new AbortController();
  private onSignal: ((signal: NodeJS.Signals) => void) | undefined;
  private readonly handler = (signal: NodeJS.Signals): void => {
    this.received ??= signal;
    if (this.onSignal !== undefined) this.onSignal(signal);
    else this.waiting.abort(new CliError('LOCK_ABORTED', `interrupted by ${signal}`, exitCodeOf(signal)));
  };

  constructor() {
    process.on('SIGINT', this.handler);
    process.on('SIGTERM', this.handler);
  }

  /** From now on signals go to `fn` (the wait is over). */
  route(fn: (signal: NodeJS.Signals) => void): void {
    this.onSignal = fn;
    if (this.received !== undefined) fn(this.received);
  }

  close(): void {
    process.off('SIGINT', this.handler);
    process.off('SIGTERM', this.handler);
  }
}

/** The exit status of a process ended by `signal` (128 + its number). */
export function exitCodeOf(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? 0);
}
