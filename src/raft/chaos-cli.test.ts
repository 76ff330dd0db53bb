// End-to-end tests of `synod chaos`: the real command on a few short seeds, its JSON form, its
// one-line refusals of bad input (exit 2), and the failure report with replay commands.
import { describe, expect, it } from 'vitest';
import { runSynod } from '../cli/test/run-cli.js';
import { formatChaosSummary, replayCommand } from '../cli/chaos.js';
import type { ChaosResult } from './chaos.js';

describe('synod chaos', () => {
  it('runs seeds, prints a summary and exits 0 when nothing is violated', () => {
    const run = runSynod(['chaos', '--protocol', 'raft', '--seeds', '2', '--first-seed', '5', '--nodes', '3', '--duration-ms', '800']);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^raft chaos: 2 seed\(s\) 5\.\.6, 3 nodes, 800 ms of faults each: no violations/);
  });

  it('prints one JSON object with --json', () => {
    const run = runSynod(['chaos', '--protocol', 'raft', '--seeds', '1', '--duration-ms', '500', '--json']);
    expect(run.status).toBe(0);
    const summary = JSON.parse(run.stdout) as { passed: number; failed: number; failures: unknown[]; nodes: number };
    expect(summary).toMatchObject({ passed: 1, failed: 0, failures: [], nodes: 5 });
  });

  it('refuses bad input with one line and exit 2', () => {
    for (const args of [['--protocol', 'pbft'], ['--protocol', 'raft', '--nodes', 'five']]) {
      const run = runSynod(['chaos', ...args]);
      expect(run.status).toBe(2);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.stderr).toMatch(/^synod: .*\[(BAD_OPTION|UNKNOWN_PROTOCOL)\]/);
    }
  });

  it('reports each failing seed with its violations and the exact command that replays it', () => {
    const plan = { protocol: 'raft', seeds: 10, firstSeed: 40, nodes: 5, durationMs: 3000 };
    const failing: ChaosResult = {
      seed: 43,
      ok: false,
      violations: [{ kind: 'election-safety', atMs: 1234, message: 'two leaders in term 7: 1 and 4' }],
      linearizability: 'linearizable',
      ops: { ok: 10, fail: 0, unknown: 1 },
      elections: 3,
      messages: 100,
      virtualMs: 8000,
      traceSha256: undefined,
    };
    const text = formatChaosSummary(plan, [failing], { ok: 10, fail: 0, unknown: 1, elections: 3, messages: 100, undecided: 0 }, 1.5);
    expect(text).toContain('1 seed(s) with violations');
    expect(text).toContain('seed 43:\n  election-safety at 1234 ms: two leaders in term 7: 1 and 4');
    expect(text).toContain(`replay: ${replayCommand(plan, 43)}`);
    expect(replayCommand(plan, 43)).toBe('synod chaos --protocol raft --seeds 1 --first-seed 43 --nodes 5 --duration-ms 3000');
  });
});
