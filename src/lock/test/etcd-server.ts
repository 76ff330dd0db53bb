// Runs a local etcd cluster (Debian's etcd 3.4 at /usr/bin/etcd) on loopback, for the lock
// backends' tests and the benchmarks that set Synod beside etcd (bench/lib/etcd.ts re-exports it).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';

const ETCD = '/usr/bin/etcd';

/**
 * The etcd binary. When it is missing and `install` is set (the benchmarks), installs Debian's
 * etcd-server (3.4) if running as root; otherwise throws saying how to install it.
 */
export function ensureEtcd(options: { readonly install?: boolean } = {}): string {
  if (spawnSync(ETCD, ['--version']).status === 0) return ETCD;
  if (options.install !== true || process.getuid?.() !== 0) throw new Error('etcd is not installed; run: sudo apt-get install -y etcd-server');
  process.stderr.write('installing etcd-server from Debian packages...\n');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  const install = spawnSync('apt-get', ['install', '-y', '-qq', 'etcd-server'], { stdio: 'inherit', env });
  if (install.status !== 0 || spawnSync(ETCD, ['--version']).status !== 0) throw new Error('could not install etcd-server');
  return ETCD;
}

export interface EtcdCluster {
  readonly clientUrls: string[];
  /** The members' processes, by member index (a restarted member's entry is its new process). */
  readonly processes: ChildProcess[];
  /** Crashes member i (SIGKILL, after a SIGCONT in case it was paused); its data dir stays. */
  kill(i: number): Promise<void>;
  /** Starts member i again on its ports and data dir (after `kill`). */
  restart(i: number): Promise<void>;
  /** Freezes member i (SIGSTOP) until `resume`. */
  pause(i: number): void;
  resume(i: number): void;
  stop(): Promise<void>;
}

/** One member's loopback ports. */
export interface EtcdMemberPorts {
  readonly client: number;
  readonly peer: number;
}

export interface EtcdClusterOptions {
  /** Install etcd when it is missing and this process runs as root (default true: the benchmarks'). */
  readonly install?: boolean;
  /** The cluster's token (members of clusters with different tokens never join each other). */
  readonly token?: string;
}

/**
 * Starts an n-member etcd cluster on 127.0.0.1: member i on client port base+2i and peer port
 * base+2i+1 when `ports` is a number, or on the ports given per member.
 */
export async function startEtcdCluster(dataDir: string, members: number, ports: number | readonly EtcdMemberPorts[], options: EtcdClusterOptions = {}): Promise<EtcdCluster> {
  const bin = ensureEtcd({ install: options.install ?? true });
  const names = Array.from({ length: members }, (_, i) => `e${i + 1}`);
  const memberPorts: EtcdMemberPorts[] = typeof ports === 'number' ? names.map((_, i) => ({ client: ports + 2 * i, peer: ports + 2 * i + 1 })) : [...ports];
  if (memberPorts.length !== members) throw new Error(`${members} members but ports for ${memberPorts.length}`);
  const peerUrl = (i: number): string => `http://127.0.0.1:${(memberPorts[i] as EtcdMemberPorts).peer}`;
  const clientUrls = names.map((_, i) => `http://127.0.0.1:${(memberPorts[i] as EtcdMemberPorts).client}`);
  const initialCluster = names.map((n, i) => `${n}=${peerUrl(i)}`).join(',');
  // a member that cannot bind exits, and the health check would then reach whoever holds the port
  for (const p of memberPorts) for (const port of [p.client, p.peer]) await ensurePortFree(port);
  const stderrTails = names.map(() => '');
  const spawnMember = (i: number): ChildProcess => {
    const name = names[i] as string;
    const dir = join(dataDir, name);
    mkdirSync(dir, { recursive: true });
    // a restarted member reads its data dir and ignores the initial-cluster flags
    const child = spawn(bin, [
      '--name', name, '--data-dir', dir,
      '--listen-client-urls', clientUrls[i] as string, '--advertise-client-urls', clientUrls[i] as string,
      '--listen-peer-urls', peerUrl(i), '--initial-advertise-peer-urls', peerUrl(i),
      '--initial-cluster', initialCluster, '--initial-cluster-state', 'new', '--initial-cluster-token', options.token ?? 'synod-bench',
      '--log-level', 'error', '--quota-backend-bytes', String(8 * 1024 ** 3),
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.on('data', (chunk: Buffer) => void (stderrTails[i] = `${stderrTails[i]}${chunk.toString('utf8')}`.slice(-2000)));
    return child;
  };
  const processes = names.map((_, i) => spawnMember(i));
  const exited = (p: ChildProcess): boolean => p.exitCode !== null || p.signalCode !== null;
  const whenExited = (p: ChildProcess): Promise<unknown> => (exited(p) ? Promise.resolve() : new Promise((r) => p.once('exit', r)));
  const member = (i: number): ChildProcess => {
    const p = processes[i];
    if (p === undefined) throw new Error(`no etcd member ${i} (there are ${processes.length})`);
    return p;
  };
  const cluster: EtcdCluster = {
    clientUrls,
    processes,
    kill: async (i) => {
      const p = member(i);
      p.kill('SIGCONT');
      p.kill('SIGKILL');
      await whenExited(p);
    },
    restart: async (i) => {
      if (!exited(member(i))) throw new Error(`etcd member ${i} is still running`);
      processes[i] = spawnMember(i);
    },
    pause: (i) => void member(i).kill('SIGSTOP'),
    resume: (i) => void member(i).kill('SIGCONT'),
    stop: async () => {
      for (const p of processes) {
        p.kill('SIGCONT');
        p.kill('SIGTERM');
      }
      await Promise.all(processes.map(whenExited));
    },
  };
  const checkAlive = (): void => {
    const i = processes.findIndex(exited);
    if (i >= 0) throw new Error(`etcd ${names[i]} exited while starting (code ${processes[i]?.exitCode}): ${stderrTails[i]?.trim()}`);
  };
  try {
    await waitFor(async () => (checkAlive(), await etcdHealthy(clientUrls[0] as string)), 30_000, 'etcd cluster to become healthy');
    checkAlive();
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}

/** Throws if something on this machine already listens on 127.0.0.1:`port` (another benchmark run, say). */
async function ensurePortFree(port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (err) => reject(new Error(`port ${port} is in use (${(err as NodeJS.ErrnoException).code}); is another benchmark running?`)));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve()));
  });
}

/** The client URL of the member that is the leader (etcd clients may talk to any member; the bench uses the leader). */
export async function findEtcdLeader(clientUrls: readonly string[], agent: Agent): Promise<string> {
  for (const url of clientUrls) {
    const s = (await httpJson('POST', `${url}/v3/maintenance/status`, {}, agent)) as { leader: string; header: { member_id: string } };
    if (s.leader === s.header.member_id) return url;
  }
  throw new Error('no etcd member says it is the leader');
}

export async function etcdHealthy(url: string): Promise<boolean> {
  try {
    const body = await httpJson('GET', `${url}/health`, undefined, new Agent());
    return (body as { health?: string }).health === 'true';
  } catch {
    return false;
  }
}

export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A minimal JSON-over-HTTP call with keep-alive; `signal` abandons it (the socket is closed, so etcd cancels the call). */
export function httpJson(method: string, url: string, body: unknown, agent: Agent, signal?: AbortSignal): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = request(url, { method, agent, ...(signal === undefined ? {} : { signal }), headers: data === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if ((res.statusCode ?? 500) >= 300) return reject(new Error(`${method} ${url}: HTTP ${res.statusCode}: ${text.slice(0, 200)}`));
        try {
          resolve(text.length === 0 ? null : JSON.parse(text));
        } catch (err) {
          reject(err as Error);
        }
      });
    });
    req.on('error', reject);
    if (data !== undefined) req.write(data);
    req.end();
  });
}
