// The real `synod lease` commands (spawned from source) against an in-process cluster: a key put
// with `synod kv put --lease` vanishes when `synod lease revoke` runs (a "done when" of issue 16),
// keep-alive and ttl print the time left, and bad input exits 2 with one line.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, trackChild, waitUntil } from '../server/test/harness.js';
import { startInProcessCluster, type InProcessCluster } from '../server/test/in-process.js';
import { repoRoot } from './test/run-cli.js';

let cluster: InProcessCluster;
let endpoints = '';

beforeAll(async () => {
  cluster = await startInProcessCluster(3, { logLevel: 'warn' });
  endpoints = Object.values(cluster.urls).join(',');
  await waitUntil('a leader', async () => {
    for (const u of Object.values(cluster.urls)) if ((await http('GET', `${u}/v1/status`).catch(() => undefined))?.body['role'] === 'leader') return true;
    return false;
  }, 20_000);
});
afterAll(async () => {
  await cluster?.close();
});

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `synod ARGS`, spawned (the cluster runs in this process, so never spawnSync). */
function synod(args: readonly string[]): Promise<Run> {
  const child = trackChild(spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SYNOD_ENDPOINTS: endpoints } }));
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.once('exit', (status) => resolve({ status, stdout, stderr })));
}

describe('synod lease', () => {
  it('a key put with --lease vanishes when `synod lease revoke` runs; one without stays', async () => {
    const grant = await synod(['lease', 'grant', '60s', '--id', '4242']);
    expect(grant.status, grant.stderr).toBe(0);
    expect(grant.stdout).toBe('lease 4242 granted, TTL 60000 ms\n');
    expect((await synod(['kv', 'put', 'svc/a', 'up', '--lease', '4242'])).status).toBe(0);
    expect((await synod(['kv', 'put', 'svc/b', 'up'])).status).toBe(0);
    const ttl = await synod(['lease', 'ttl', '4242', '--keys']);
    expect(ttl.status, ttl.stderr).toBe(0);
    expect(ttl.stdout).toMatch(/^lease 4242: TTL 60000 ms, \d+ ms left, keys: svc\/a\n$/);
    const kept = await synod(['lease', 'keep-alive', '4242']);
    expect(kept.stdout).toMatch(/^lease 4242 kept alive, \d+ ms left\n$/);
    expect((await synod(['lease', 'list'])).stdout).toContain('lease 4242: TTL 60000 ms');

    const revoke = await synod(['lease', 'revoke', '4242']);
    expect(revoke.status, revoke.stderr).toBe(0);
    expect(revoke.stdout).toMatch(/^lease 4242 revoked \(revision \d+\)\n$/);
    const gone = await synod(['kv', 'get', 'svc/a']);
    expect(gone.status).toBe(1);
    expect(gone.stderr).toMatch(/key "svc\/a" does not exist/);
    expect((await synod(['kv', 'get', 'svc/b'])).stdout).toBe('up\n');
    // the lease is gone too: attaching to it writes nothing, and says why
    const late = await synod(['kv', 'put', 'svc/c', 'up', '--lease', '4242']);
    expect(late.status).toBe(1);
    expect(late.stderr).toMatch(/lease 4242 does not exist.*\[LEASE_NOT_FOUND\]/);
  });

  it('refuses bad input with exit 2 and one line', async () => {
    for (const args of [['lease', 'grant', 'soon'], ['lease', 'revoke', '0'], ['lease', 'ttl', '-3'], ['kv', 'put', 'k', 'v', '--lease', 'x'], ['lease', 'keep-alive', '1', '--every', '1']]) {
      const run = await synod(args);
      expect(run.status, args.join(' ')).toBe(2);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});
