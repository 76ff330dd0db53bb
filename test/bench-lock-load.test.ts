// The lock benchmark's load counts a broken lock as broken: overlapping holders and fencing tokens
// that go backwards are reported (so a fast wrong lock cannot pass), and its arguments are checked.
import { describe, expect, it } from 'vitest';
import { BenchUsageError, parseLockBenchArgs, ROW_NAMES } from '../bench/lock.js';
import { runLockLoad, type LockClient } from '../bench/lib/lock-load.js';

/** Clients of one in-memory lock per name: `exclusive` false grants everyone at once; tokens from `nextToken`. */
function fakeClients(count: number, options: { readonly exclusive: boolean; readonly nextToken: (n: number) => number | null }): LockClient[] {
  const held = new Map<string, boolean>();
  const waiting = new Map<string, (() => void)[]>();
  let granted = 0;
  const grant = (name: string) => {
    held.set(name, true);
    return {
      token: options.nextToken(++granted),
      release: async (): Promise<void> => {
        held.set(name, false);
        waiting.get(name)?.shift()?.();
      },
    };
  };
  return Array.from({ length: count }, () => ({
    acquire: async (name: string) => {
      if (options.exclusive) {
        // bounded by the clients: each waits at most once per release ahead of it
        while (held.get(name) === true) await new Promise<void>((resolve) => waiting.set(name, [...(waiting.get(name) ?? []), resolve]));
      }
      return grant(name);
    },
    close: async () => undefined,
  }));
}

describe('bench lock: the load and its ledger', () => {
  it('a correct lock: pairs counted per client, no overlap, no token regression', async () => {
    const result = await runLockLoad(fakeClients(4, { exclusive: true, nextToken: (n) => n }), { nameOf: () => 'one', durationMs: 200, stopOnViolation: true, maxOpsPerClient: 50 });
    expect(result.ops).toBeGreaterThan(0);
    expect(result.overlaps).toBe(0);
    expect(result.tokenRegressions).toBe(0);
    expect(result.errors).toBe(0);
    expect(result.clientOpsMin).toBeGreaterThan(0);
  });

  it('a lock that lets two in at once is caught as overlaps, and the run stops at the first', async () => {
    const result = await runLockLoad(fakeClients(4, { exclusive: false, nextToken: (n) => n }), { nameOf: () => 'one', durationMs: 5_000, stopOnViolation: true, maxOpsPerClient: 50 });
    expect(result.overlaps).toBeGreaterThan(0);
    // stopped early: far fewer than the 200 pairs the clients were allowed
    expect(result.ops).toBeLessThan(200);
  });

  it('tokens that go backwards are counted; null tokens (Redlock) are not judged', async () => {
    const backwards = await runLockLoad(fakeClients(1, { exclusive: true, nextToken: (n) => 1000 - n }), { nameOf: () => 'one', durationMs: 200, stopOnViolation: false, maxOpsPerClient: 20 });
    expect(backwards.tokenRegressions).toBe(backwards.ops - 1);
    const none = await runLockLoad(fakeClients(1, { exclusive: true, nextToken: () => null }), { nameOf: () => 'one', durationMs: 200, stopOnViolation: false, maxOpsPerClient: 20 });
    expect(none.tokenRegressions).toBe(0);
    expect(none.ops).toBe(20);
  });

  it('separate names do not overlap each other', async () => {
    const result = await runLockLoad(fakeClients(4, { exclusive: true, nextToken: (n) => n }), { nameOf: (i) => `n${i}`, durationMs: 200, stopOnViolation: true, maxOpsPerClient: 30 });
    expect(result.overlaps).toBe(0);
    expect(result.ops).toBe(120);
  });
});

describe('bench lock: arguments', () => {
  it('defaults, aliases and --quick', () => {
    expect(parseLockBenchArgs([])).toMatchObject({ rounds: 3, rows: [...ROW_NAMES], quick: false, rowWarmUpPairs: 250, scenarios: ['one', 'contended', 'spread'] });
    expect(parseLockBenchArgs(['--scenarios', 'shared,one'])).toMatchObject({ scenarios: ['one', 'shared'] });
    expect(parseLockBenchArgs(['--quick', '--only', 'etcd,synod'])).toMatchObject({ rounds: 1, rows: ['synod', 'etcd-v3lock', 'etcd-txn'], rowWarmUpPairs: 30 });
    expect(parseLockBenchArgs(['--only', 'redlocks', '--scenarios', 'one'])).toMatchObject({ rows: ['redlock', 'node-redlock'], scenarios: ['one'] });
  });

  it('refuses what it does not know', () => {
    for (const bad of [['--rounds', '0'], ['--rounds', 'x'], ['--only', 'zookeeper'], ['--scenarios', 'many'], ['--fast'], ['--only']]) {
      expect(() => parseLockBenchArgs(bad), bad.join(' ')).toThrow(BenchUsageError);
    }
  });
});
