// End-to-end tests of `synod sim run` and `synod demo`: the trace hash is stable per seed, and
// bad input gets one line naming the problem and exit code 2.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runSynod } from './test/run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'synod-sim-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const hashOf = (stdout: string): string => /sha256 ([0-9a-f]{64})\s*$/.exec(stdout)?.[1] ?? 'none';

describe('synod sim run', () => {
  const args = ['sim', 'run', '--protocol', 'echo', '--nodes', '5', '--duration-ms', '3000', '--nemesis', 'at 500 ms partition {1,2} | {3,4,5}; at 1500 ms heal; at 2000 ms crash random'];

  it('prints the same trace hash twice for the same seed, and another for another seed', () => {
    const a = runSynod([...args, '--seed', '11']);
    const b = runSynod([...args, '--seed', '11']);
    const c = runSynod([...args, '--seed', '12']);
    expect(a.status).toBe(0);
    expect(hashOf(a.stdout)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashOf(b.stdout)).toBe(hashOf(a.stdout));
    expect(hashOf(c.stdout)).not.toBe(hashOf(a.stdout));
    expect(a.stdout).toContain('nemesis');
  });

  it('writes the trace as JSON Lines whose count matches the summary', () => {
    const file = join(dir, 'trace.jsonl');
    const run = runSynod([...args, '--seed', '5', '--trace', file]);
    expect(run.status).toBe(0);
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(run.stdout).toContain(`trace: ${lines.length} events`);
    for (const line of lines.slice(0, 50)) expect(() => JSON.parse(line)).not.toThrow();
  });

  it('runs the clock protocols and reports the achieved error', () => {
    const run = runSynod(['sim', 'run', '--protocol', 'clock-sync', '--nodes', '4', '--duration-ms', '10000']);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/worst corrected error: \d+\.\d ms/);
  });

  it('runs the lease-counter composition: the paused holder\'s write is fenced, or overwrites without fencing', () => {
    const fenced = runSynod(['sim', 'run', '--protocol', 'lease-counter', '--nodes', '5', '--seed', '7', '--duration-ms', '2000']);
    expect(fenced.status).toBe(0);
    expect(fenced.stdout).toContain('writes refused by fencing: 1');
    expect(fenced.stdout).toContain('linearizability of the counter history: linearizable');
    const unfenced = runSynod(['sim', 'run', '--protocol', 'lease-counter-unfenced', '--nodes', '5', '--seed', '7', '--duration-ms', '2000']);
    expect(unfenced.status).toBe(0);
    expect(unfenced.stdout).toMatch(/stale-write monitor: 1 stale write/);
    expect(unfenced.stdout).toContain('linearizability of the counter history: not-linearizable');
  });

  it('runs lease-counter chaos: no violation with fencing, a replayable failing seed without', () => {
    const fenced = runSynod(['chaos', '--protocol', 'lease-counter', '--seeds', '10']);
    expect(fenced.status).toBe(0);
    expect(fenced.stdout).toMatch(/no violations/);
    const unfenced = runSynod(['chaos', '--protocol', 'lease-counter-unfenced', '--seeds', '1', '--first-seed', '23']);
    expect(unfenced.status).toBe(1);
    expect(unfenced.stdout).toContain('stale-write');
    expect(unfenced.stdout).toContain('replay: synod chaos --protocol lease-counter-unfenced --seeds 1 --first-seed 23');
  });

  it('runs the commit protocols: sim run summarizes with the commit checker; 3pc chaos holds under crashes, 3pc-partition seed 5 breaks atomicity and replays', () => {
    const run = runSynod(['sim', 'run', '--protocol', 'paxos-commit', '--seed', '3', '--duration-ms', '2000']);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/atomicity and validity hold/);
    const held = runSynod(['chaos', '--protocol', '3pc', '--seeds', '3']);
    expect(held.status).toBe(0);
    expect(held.stdout).toMatch(/no violations/);
    const broken = runSynod(['chaos', '--protocol', '3pc-partition', '--seeds', '1', '--first-seed', '5']);
    expect(broken.status).toBe(1);
    expect(broken.stdout).toContain('t1.41 decided both ways: 1:commit@592 4:abort@997 5:abort@1001');
    expect(broken.stdout).toContain('replay: synod chaos --protocol 3pc-partition --seeds 1 --first-seed 5 --nodes 5 --duration-ms 4000');
  });

  it.each([
    [['--protocol', 'nope'], /unknown protocol "nope"/],
    [['--protocol', 'echo', '--nemesis', 'at 100 ms explode 3'], /unknown action "explode"/],
    [['--protocol', 'echo', '--nemesis', 'partition {1} | {2}'], /expected "at T ms ACTION"/],
    [['--protocol', 'echo', '--nemesis', 'at 100 ms crash 9'], /node "9" does not exist/],
    [['--protocol', 'echo', '--duration-ms', '-5'], /--duration-ms must be a whole number/],
    [['--protocol', 'echo', '--nodes', 'many'], /--nodes must be a whole number/],
  ])('rejects bad input %j with one line and exit 2', (extra, message) => {
    const run = runSynod(['sim', 'run', ...extra]);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).not.toMatch(/at .*\.ts:\d+/); // no stack trace
  });

  it('has --help on every command', () => {
    for (const cmd of [['--help'], ['sim', '--help'], ['sim', 'run', '--help'], ['demo', '--help'], ['check', '--help']]) {
      const run = runSynod(cmd);
      expect(run.status).toBe(0);
      expect(run.stdout).toMatch(/Usage: synod/);
    }
  });
});

describe('synod demo', () => {
  it('narrates a run under faults', () => {
    const run = runSynod(['demo']);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/nemesis: partition \{1,2\} \| \{3,4,5\}/);
    expect(run.stdout).toMatch(/sha256 [0-9a-f]{64}/);
  });
});
