// The supervisor's parts that need no running node: why a process exited (from its stderr tail),
// the cluster file made once and then checked, and process control refusing what cannot be done.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadOrCreateClusterFile } from './cluster-file.js';
import { SupervisorError } from './errors.js';
import { NodeProcesses, StderrTail } from './processes.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'synod-supervisor-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof SupervisorError) return err.code;
    throw err;
  }
  return undefined;
}

describe('StderrTail', () => {
  it("prefers the CLI's last one-line error", () => {
    const tail = new StderrTail(1024);
    tail.push(Buffer.from('{"level":50,"msg":"disk full"}\nsynod: cannot listen on 127.0.0.1:7001 [PORT_IN_USE]\n'));
    expect(tail.reason()).toBe('cannot listen on 127.0.0.1:7001 [PORT_IN_USE]');
  });

  it('falls back to the last error log record, and to null', () => {
    const tail = new StderrTail(1024);
    tail.push(Buffer.from('{"level":30,"msg":"started"}\n{"level":60,"msg":"storage failed: EIO"}\nnot json\n'));
    expect(tail.reason()).toBe('storage failed: EIO');
    expect(new StderrTail(64).reason()).toBeNull();
  });

  it('keeps only the last bytes, however much is written', () => {
    const tail = new StderrTail(100);
    for (let i = 0; i < 1000; i++) tail.push(Buffer.from(`noise line ${i}\n`));
    tail.push(Buffer.from('synod: the end\n'));
    expect(tail.reason()).toBe('the end');
  });
});

describe('cluster file', () => {
  it('is made once, then read back and checked against the request', () => {
    const dir = tempDir();
    const made = loadOrCreateClusterFile(dir, { nodes: 3, basePort: 7400, tls: false, service: 'clock-sync' });
    expect(made.created).toBe(true);
    expect(made.service).toBe('clock-sync');
    expect(made.members['2']).toEqual({ peer: '127.0.0.1:7502', client: 'http://127.0.0.1:7402' });
    const again = loadOrCreateClusterFile(dir, { nodes: 3, basePort: 9999 });
    expect(again.created).toBe(false);
    expect(again.secret).toBe(made.secret);
    expect(codeOf(() => loadOrCreateClusterFile(dir, { nodes: 5, basePort: 7400 }))).toBe('CLUSTER_EXISTS');
    expect(codeOf(() => loadOrCreateClusterFile(dir, { nodes: 3, basePort: 7400, service: 'kv' }))).toBe('CLUSTER_EXISTS');
    // the secret is for the nodes only
    expect(JSON.parse(readFileSync(join(dir, 'cluster.json'), 'utf8'))).toMatchObject({ service: 'clock-sync' });
  });

  it('refuses an unknown service and a file that is not a cluster file', () => {
    expect(codeOf(() => loadOrCreateClusterFile(tempDir(), { nodes: 3, basePort: 7400, service: 'nope' }))).toBe('UNKNOWN_SERVICE');
    const dir = tempDir();
    loadOrCreateClusterFile(dir, { nodes: 1, basePort: 7400, tls: false });
    rmSync(join(dir, 'cluster.json'));
    writeText(join(dir, 'cluster.json'), '{"members": 3}');
    expect(codeOf(() => loadOrCreateClusterFile(dir, { nodes: 1, basePort: 7400 }))).toBe('BAD_CONFIG');
    writeText(join(dir, 'cluster.json'), '{not json');
    expect(codeOf(() => loadOrCreateClusterFile(dir, { nodes: 1, basePort: 7400 }))).toBe('BAD_CONFIG');
  });
});

describe('NodeProcesses', () => {
  it('refuses to signal or restart what it cannot', () => {
    const processes = new NodeProcesses(['1', '2'], { dataDir: tempDir(), newCluster: true });
    expect(codeOf(() => processes.signal('9', 'SIGKILL'))).toBe('NO_SUCH_NODE');
    expect(codeOf(() => processes.signal('1', 'SIGSTOP'))).toBe('NOT_RUNNING');
    expect(codeOf(() => processes.restart('9'))).toBe('NO_SUCH_NODE');
    expect(processes.running()).toEqual([]);
    expect(processes.list().map((p) => [p.id, p.state, p.pid])).toEqual([['1', 'stopped', null], ['2', 'stopped', null]]);
  });
});

function writeText(path: string, text: string): void {
  writeFileSync(path, text);
}
