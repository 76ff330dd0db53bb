// An in-process KV cluster for tests of the real `synod` command, and the command spawned against
// it: the cluster runs in the test's process, so the command is spawned (never spawnSync, which
// would stop the nodes answering while it runs). `startSynod` spawns it against any cluster.
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll } from 'vitest';
import { http, synodCommand, trackChild, waitUntil } from '../../server/test/harness.js';
import { startInProcessCluster, type InProcessCluster } from '../../server/test/in-process.js';
import { repoRoot, type CliRun } from './run-cli.js';

export interface CliCluster {
  /** The running cluster (set in beforeAll). */
  readonly cluster: () => InProcessCluster;
  /** Starts `synod ARGS` against the cluster (SYNOD_ENDPOINTS), with `input` on its stdin. */
  start(args: readonly string[], input?: string): { child: ChildProcess; done: Promise<CliRun>; stdout: () => string };
  /** `synod ARGS` to its end. */
  synod(args: readonly string[], input?: string): Promise<CliRun>;
}

/** A `synod` command started (as the tests run it: harness's synodCommand) with `env` added to this process's, `input` on its stdin; `signal`: what killed it, if anything did. */
export function startSynod(args: readonly string[], o: { env?: Readonly<Record<string, string>>; input?: string } = {}): { child: ChildProcess; done: Promise<CliRun & { signal: NodeJS.Signals | null }>; stdout: () => string; stderr: () => string } {
  const child = trackChild(spawn(process.execPath, [...synodCommand, ...args], { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...o.env } }));
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdin?.end(o.input ?? '');
  const done = new Promise<CliRun & { signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (status, signal) => resolve({ status, signal, stdout, stderr })));
  return { child, done, stdout: () => stdout, stderr: () => stderr };
}

/** Starts a 3-node in-process cluster before the file's tests (with a leader) and closes it after. */
export function useCliCluster(options: Parameters<typeof startInProcessCluster>[1] = { logLevel: 'warn' }): CliCluster {
  let cluster: InProcessCluster | undefined;
  let endpoints = '';
  beforeAll(async () => {
    cluster = await startInProcessCluster(3, options);
    const urls = Object.values(cluster.urls);
    endpoints = urls.join(',');
    await waitUntil('a leader', async () => {
      for (const u of urls) if ((await http('GET', `${u}/v1/status`).catch(() => undefined))?.body['role'] === 'leader') return true;
      return false;
    }, 20_000);
  });
  afterAll(async () => {
    await cluster?.close();
  });
  const start: CliCluster['start'] = (args, input) => startSynod(args, { env: { SYNOD_ENDPOINTS: endpoints }, ...(input === undefined ? {} : { input }) });
  return {
    cluster: () => {
      if (cluster === undefined) throw new Error('the cluster starts in beforeAll');
      return cluster;
    },
    start,
    synod: (args, input) => start(args, input).done,
  };
}
