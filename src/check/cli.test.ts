// End-to-end test of `synod check`: spawns the real CLI on files written to a temporary folder
// and checks verdict lines, JSON lines, per-file error lines and exit codes.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { historyOf } from './test/histories.js';
import { runSynod, type CliRun } from '../cli/test/run-cli.js';
import { etcdHistoriesDir } from '../../test/shared-histories.js';

const etcd002 = join(etcdHistoriesDir, 'etcd_002.log');
const dir = mkdtempSync(join(tmpdir(), 'synod-check-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const good = write(
  'good.json',
  JSON.stringify(historyOf([{ p: 1, f: 'write', input: 1, at: [0, 1] }, { p: 2, f: 'read', output: 1, at: [2, 3] }])),
);
const bad = write(
  'bad.json',
  JSON.stringify(historyOf([{ p: 1, f: 'write', input: 1, at: [0, 1] }, { p: 1, f: 'read', output: null, at: [2, 3] }])),
);
const broken = write('broken.log', 'INFO  jepsen.util - 0\t:invoke\t:read\tnil\nINFO  jepsen.util - 0\t:ok\t:read\t[1\n');

function synod(...args: string[]): CliRun {
  return runSynod(['check', ...args]);
}

describe('synod check', () => {
  it('exits 0 when every file is linearizable', () => {
    const run = synod('--model', 'register', good);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/good\.json: linearizable \(register: 2 operations/);
  });

  it('exits 1 on a violation and explains it', () => {
    const run = synod('--model', 'register', '--sessions', good, bad);
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/bad\.json: not-linearizable/);
    expect(run.stdout).toContain('none of these can be placed next');
    expect(run.stdout).toContain('read-your-writes: process 1');
  });

  it('prints one JSON line per file, and one message line per unreadable file, exiting 2', () => {
    const run = synod('--model', 'register', '--json', good, bad, broken, join(dir, 'missing.log'));
    expect(run.status).toBe(2);
    const lines = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as { file: string; verdict: string; ms: number; error?: { code: string } });
    expect(lines.map((l) => [l.file, l.verdict])).toEqual([
      [good, 'linearizable'],
      [bad, 'not-linearizable'],
      [broken, 'unknown'],
      [join(dir, 'missing.log'), 'unknown'],
    ]);
    expect(lines.every((l) => typeof l.ms === 'number')).toBe(true);
    expect(lines.map((l) => l.error?.code)).toEqual([undefined, undefined, 'JEPSEN_PARSE', 'READ_FAILED']);
    const errors = run.stderr.trim().split('\n');
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(/^synod: .*broken\.log: line 2: bad value .*\[JEPSEN_PARSE\]$/);
    expect(errors[1]).toMatch(/^synod: .*missing\.log: cannot read: .*\[READ_FAILED\]$/);
  });

  it('exits 2 with verdict unknown when the budget runs out', () => {
    const run = synod('--model', 'register', '--max-states', '10', '--json', etcd002);
    expect(run.status).toBe(2);
    expect(JSON.parse(run.stdout)).toMatchObject({ verdict: 'unknown', reason: 'state-budget' });
  });

  it('exits 2 on usage errors', () => {
    expect(synod('--model', 'queue', good).status).toBe(2);
    const sessions = synod('--model', 'mutex', '--sessions', good);
    expect(sessions.status).toBe(2);
    expect(sessions.stderr).toMatch(/--sessions is not defined for model mutex.*\[BAD_OPTION\]/);
  });
});
