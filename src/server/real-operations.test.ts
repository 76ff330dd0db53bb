// Operator procedures on real processes, run through the `synod` command as an operator would:
// back up a running cluster (snapshot save), lose every data directory, restore each member from
// the backup (snapshot restore) and start the cluster again with every acknowledged write; and
// the CLI against a TLS cluster with nothing but the cluster file to go on.
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startLocalCluster, type ClusterHandle } from '../supervisor/index.js';
import { reservePortBlock } from './test/port-block.js';
import { http, leaderAmong, startTestCluster, synodCommand, trackChild, trustCa } from './test/harness.js';

type TestCluster = Awaited<ReturnType<typeof startTestCluster>>;
let cluster: TestCluster | undefined;
let restored: ClusterHandle | undefined;
/** Gives back the ports a restored cluster runs on. */
let releaseRestoredPorts: (() => void) | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await restored?.stop();
  restored = undefined;
  releaseRestoredPorts?.();
  releaseRestoredPorts = undefined;
  await cluster?.cleanup();
  cluster = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Runs `synod ARGS` to the end; its exit code and output. */
function synod(args: readonly string[], cwd?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = trackChild(spawn(process.execPath, [...synodCommand, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...(cwd === undefined ? {} : { cwd }) }));
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

describe('real processes: operator procedures', () => {
  it('backup and restore: save from the running cluster, lose every data directory, restore each member, start again', async () => {
    cluster = await startTestCluster(3);
    const leader = await leaderAmong(cluster.endpoints);
    const url = cluster.endpoints[leader] as string;
    for (let i = 0; i < 25; i++) expect((await http('PUT', `${url}/v1/kv/b${i}`, { value: i })).status).toBe(200);
    const backupDir = mkdtempSync(join(tmpdir(), 'synod-backup-'));
    dirs.push(backupDir);
    const file = join(backupDir, 'cluster.snapshot');
    const connection = ['--endpoints', Object.values(cluster.endpoints).join(','), '--cacert', join(cluster.dataDir, 'tls', 'ca.crt')];
    const saved = await synod(['snapshot', 'save', file, ...connection, '--json']);
    expect(saved.code, saved.stderr).toBe(0);
    const summary = JSON.parse(saved.stdout) as { index: number; sha256: string };
    expect(summary.index).toBeGreaterThanOrEqual(25);
    // a damaged backup is refused
    const damaged = join(backupDir, 'damaged.snapshot');
    const text = readFileSync(file, 'utf8');
    (await import('node:fs')).writeFileSync(damaged, text.replace('"b3",3', '"b3",4'));

    // every data directory is lost: a new directory gets the cluster file and certificates only
    const fresh = mkdtempSync(join(tmpdir(), 'synod-restored-'));
    dirs.push(fresh);
    cpSync(join(cluster.dataDir, 'cluster.json'), join(fresh, 'cluster.json'));
    cpSync(join(cluster.dataDir, 'tls'), join(fresh, 'tls'), { recursive: true });
    // the restored cluster comes back on the same ports: keep them claimed
    releaseRestoredPorts = cluster.releasePorts;
    await cluster.cleanup({ keepPorts: true });
    cluster = undefined;
    const refused = await synod(['snapshot', 'restore', damaged, '--data-dir', join(fresh, '1'), '--id', '1', '--config', join(fresh, 'cluster.json')]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/BACKUP_CHECKSUM|BAD_BACKUP/);
    for (const id of ['1', '2', '3']) {
      const r = await synod(['snapshot', 'restore', file, '--data-dir', join(fresh, id), '--id', id, '--config', join(fresh, 'cluster.json')]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`restored node ${id}`);
    }
    // restoring over a directory that holds data is refused
    const again = await synod(['snapshot', 'restore', file, '--data-dir', join(fresh, '1'), '--id', '1', '--config', join(fresh, 'cluster.json')]);
    expect(again.stderr).toContain('DATA_DIR_NOT_EMPTY');

    const basePort = Number(new URL(Object.values(JSON.parse(readFileSync(join(fresh, 'cluster.json'), 'utf8')).members as Record<string, { client: string }>)[0]?.client as string).port) - 1;
    restored = await startLocalCluster({ nodes: 3, dataDir: fresh, basePort, logLevel: 'warn', command: synodCommand });
    if (restored.clientTls.ca !== undefined) trustCa(restored.clientTls.ca);
    const next = await leaderAmong(restored.endpoints);
    for (let i = 0; i < 25; i++) {
      const r = await http('GET', `${restored.endpoints[next] as string}/v1/kv/b${i}`);
      expect(r.body.result?.['value'], `b${i}`).toBe(i);
    }
    expect((await http('PUT', `${restored.endpoints[next] as string}/v1/kv/after`, { value: 'restore' })).status).toBe(200);
  }, 120_000);

  it('the CLI finds a TLS cluster\'s endpoints and CA in ./synod-data/cluster.json, and says what is wrong without it', async () => {
    cluster = await startTestCluster(3);
    await leaderAmong(cluster.endpoints);
    // an operator's working directory with the cluster's data directory in it, as after `npm start`
    const cwd = mkdtempSync(join(tmpdir(), 'synod-cwd-'));
    dirs.push(cwd);
    (await import('node:fs')).symlinkSync(cluster.dataDir, join(cwd, 'synod-data'));
    const put = await synod(['kv', 'put', 'greeting', 'hello'], cwd);
    expect(put.code, put.stderr).toBe(0);
    expect(put.stdout).toMatch(/^OK \(revision \d+\)/);
    const got = await synod(['kv', 'get', 'greeting'], cwd);
    expect(got.stdout.trim()).toBe('hello');
    const members = await synod(['member', 'list'], cwd);
    expect(members.stdout.split('\n').filter(Boolean)).toHaveLength(3);
    // "." and ".." are keys like any other
    expect((await synod(['kv', 'put', '..', 'up'], cwd)).code).toBe(0);
    expect((await synod(['kv', 'get', '..'], cwd)).stdout.trim()).toBe('up');
    // elsewhere, without the CA: one line saying what to do
    const elsewhere = mkdtempSync(join(tmpdir(), 'synod-cwd-'));
    dirs.push(elsewhere);
    const noCa = await synod(['kv', 'get', 'greeting', '--endpoints', Object.values(cluster.endpoints).join(',')], elsewhere);
    expect(noCa.code).toBe(1);
    expect(noCa.stderr).toMatch(/--cacert/);
    expect(noCa.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(join(cluster.dataDir, 'tls', 'ca.crt'))).toBe(true);
  }, 90_000);
});

describe('real processes: logs', () => {
  it('node logs rotate at their size limit, keeping a bounded number of old files', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'synod-logs-'));
    dirs.push(dataDir);
    const ports = await reservePortBlock();
    releaseRestoredPorts = ports.release;
    restored = await startLocalCluster({ nodes: 3, dataDir, basePort: ports.base, logLevel: 'debug', logRotateSize: '16K', command: synodCommand });
    if (restored.clientTls.ca !== undefined) trustCa(restored.clientTls.ca);
    const leader = await leaderAmong(restored.endpoints);
    const url = restored.endpoints[leader] as string;
    // each request is one debug line: enough of them to rotate the leader's log several times over
    for (let i = 0; i < 600; i++) await http('PUT', `${url}/v1/kv/l${i % 20}`, { value: i });
    await http('GET', `${url}/v1/kv/l1`);
    const files = (await import('node:fs')).readdirSync(join(dataDir, leader)).filter((f) => f.startsWith('node.log'));
    expect(files).toContain('node.log.1');
    expect(files.length).toBeLessThanOrEqual(6); // node.log and at most five old ones
    for (const f of files) expect((await import('node:fs')).statSync(join(dataDir, leader, f)).size).toBeLessThan(64 * 1024);
  }, 90_000);
});
