// Real redis-server processes for the Redis and Redlock tests: one server (or a fleet of five) on
// loopback ports 28200-28399, each in its own temp dir, with or without persistence, and the
// faults later tests need (crash, restart, SIGSTOP/SIGCONT). Servers die with the test process.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** How a server keeps its data: not at all, or an append-only file fsync'd before each reply. */
export type RedisPersistence = 'none' | 'aof-always';

export interface RedisServerOptions {
  readonly persistence?: RedisPersistence;
  /** Default: the first free port of 28200-28399 from an offset that depends on the pid. */
  readonly port?: number;
}

export interface RedisEndpointForTest {
  readonly host: string;
  readonly port: number;
}

const REDIS_SERVER = process.env.SYNOD_REDIS_SERVER ?? '/usr/bin/redis-server';
/** The ports our test servers may use (the benchmark owns 27000-27700). */
const PORT_FIRST = 28200;
const PORT_COUNT = 200;
const READY_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 5000;

/** Every server this process started and has not seen exit: killed when the process exits. */
const live = new Set<ChildProcess>();
/** Data dirs not yet removed by `stop`: removed when the process exits. */
const dirs = new Set<string>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // process.kill is synchronous, so this runs even from 'exit'; a SIGKILL of the test process is
  // covered by the parent-death signal set by setpriv below
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL');
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
}

/** Ports this process has handed out (another file's servers are found busy by the probe). */
const taken = new Set<number>();

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen({ port, host: '127.0.0.1', exclusive: true }, () => probe.close(() => resolve(true)));
  });
}

async function freePort(): Promise<number> {
  const offset = (process.pid * 7) % PORT_COUNT;
  for (let i = 0; i < PORT_COUNT; i++) {
    const port = PORT_FIRST + ((offset + i) % PORT_COUNT);
    if (taken.has(port)) continue;
    if (await portIsFree(port)) {
      taken.add(port);
      return port;
    }
  }
  throw new Error(`no free port in ${PORT_FIRST}-${PORT_FIRST + PORT_COUNT - 1} for a test redis-server`);
}

/** One PING over a raw socket: true on +PONG (a server loading its AOF answers -LOADING). */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    let reply = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
    socket.once('connect', () => socket.write('PING\r\n'));
  });
}

async function removeDir(dir: string): Promise<void> {
  dirs.delete(dir);
  await rm(dir, { recursive: true, force: true });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A redis-server child process; `restart` brings it back on the same port and data dir. */
export class RedisServerProcess implements RedisEndpointForTest {
  readonly host = '127.0.0.1';
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private output = '';
  private pausedFlag = false;

  private constructor(
    readonly port: number,
    readonly dir: string,
    readonly persistence: RedisPersistence,
  ) {}

  static async start(options: RedisServerOptions = {}): Promise<RedisServerProcess> {
    installExitHook();
    const dir = await mkdtemp(join(tmpdir(), 'synod-redis-'));
    dirs.add(dir);
    const fixedPort = options.port !== undefined;
    for (let attempt = 0; attempt < 10; attempt++) {
      const port = options.port ?? (await freePort());
      const server = new RedisServerProcess(port, dir, options.persistence ?? 'none');
      try {
        await server.launch();
        return server;
      } catch (err) {
        // lost a race for the port with another process: try the next one
        if (fixedPort || !server.output.includes('Address already in use')) {
          await removeDir(dir);
          throw err;
        }
      }
    }
    await removeDir(dir);
    throw new Error('could not start a test redis-server: every port tried was taken');
  }

  /** The process id while it runs (for SIGSTOP from outside, in logs). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /** Whether it is stopped by SIGSTOP (it then answers nothing). */
  get paused(): boolean {
    return this.child !== undefined && this.pausedFlag;
  }

  private args(): string[] {
    const common = ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--daemonize', 'no', '--logfile', '', '--loglevel', 'warning', '--save', ''];
    if (this.persistence === 'aof-always') return [...common, '--appendonly', 'yes', '--appendfsync', 'always'];
    return [...common, '--appendonly', 'no'];
  }

  private async launch(): Promise<void> {
    installExitHook();
    // setpriv --pdeathsig: the kernel kills the server if this process dies without running its
    // exit hook (SIGKILL, a crash of the test worker)
    const viaSetpriv = existsSync('/usr/bin/setpriv');
    const [command, args] = viaSetpriv ? ['/usr/bin/setpriv', ['--pdeathsig', 'SIGKILL', '--', REDIS_SERVER, ...this.args()]] : [REDIS_SERVER, this.args()];
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.output = '';
    const keep = (chunk: Buffer): void => {
      this.output = (this.output + chunk.toString('utf8')).slice(-8192);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    live.add(child);
    this.child = child;
    let exitedEarly = false;
    this.exited = new Promise((resolve) => {
      child.once('exit', () => {
        exitedEarly = true;
        live.delete(child);
        if (this.child === child) this.child = undefined;
        resolve();
      });
    });
    child.once('error', () => undefined);
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (exitedEarly) throw new Error(`redis-server on port ${this.port} exited at start: ${this.output.trim()}`);
      if (await ping(this.port)) return;
      await sleep(20);
    }
    child.kill('SIGKILL');
    await this.exited;
    throw new Error(`redis-server on port ${this.port} was not ready within ${READY_TIMEOUT_MS} ms: ${this.output.trim()}`);
  }

  /** Crashes the server (SIGKILL): whatever it had not written to disk is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    if (child === undefined) return;
    child.kill('SIGKILL');
    this.pausedFlag = false;
    await this.exited;
  }

  /** Crashes the server and starts it again on the same port and data dir. */
  async restart(): Promise<void> {
    await this.kill();
    await this.launch();
  }

  /** Starts a server that was killed (same port, same data dir). */
  async start(): Promise<void> {
    if (this.child !== undefined) return;
    await this.launch();
  }

  /** Freezes the server (SIGSTOP): it keeps its connections but answers nothing until `resume`. */
  pause(): void {
    if (this.child?.kill('SIGSTOP')) this.pausedFlag = true;
  }

  resume(): void {
    this.child?.kill('SIGCONT');
    this.pausedFlag = false;
  }

  /** Stops the server (SIGTERM, SIGKILL after a grace period) and removes its data dir. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child !== undefined) {
      child.kill('SIGCONT');
      this.pausedFlag = false;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await this.exited;
      clearTimeout(timer);
    }
    taken.delete(this.port);
    await removeDir(this.dir);
  }
}

/** Starts one test redis-server. */
export function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServerProcess> {
  return RedisServerProcess.start(options);
}

/** N independent servers for Redlock (no replication between them). */
export interface RedisFleet {
  readonly servers: readonly RedisServerProcess[];
  /** host and port of each, in order. */
  readonly endpoints: readonly RedisEndpointForTest[];
  stop(): Promise<void>;
}

export async function startRedisFleet(count: number, options: Omit<RedisServerOptions, 'port'> = {}): Promise<RedisFleet> {
  const servers: RedisServerProcess[] = [];
  try {
    // one after another: each takes the next free port
    for (let i = 0; i < count; i++) servers.push(await startRedisServer(options));
  } catch (err) {
    await Promise.all(servers.map((s) => s.stop()));
    throw err;
  }
  return {
    servers,
    endpoints: servers.map((s) => ({ host: s.host, port: s.port })),
    stop: async () => {
      await Promise.all(servers.map((s) => s.stop()));
    },
  };
}
