// The real `synod` command (spawned from source) for the KV after etcd v3: `synod watch` in one
// process printing the events of `synod kv put` and `synod txn` run from others (a "done when"
// of issue 16), txn exit codes (0 success branch, 1 failure branch, 2 bad input), reads at a
// revision, compaction, range delete, help and one-line errors.
import { describe, expect, it } from 'vitest';
import { http, waitUntil } from '../server/test/harness.js';
import { useCliCluster } from './test/cli-cluster.js';

const { cluster, start, synod } = useCliCluster();

describe('synod watch, kv put and txn from separate processes', () => {
  it('`synod watch` shows the events of `synod kv put` and `synod txn` as they happen, and --json shows revisions', async () => {
    // from the next revision on, named: a watcher whose process starts slowly still misses nothing
    const marker = await http('PUT', `${Object.values(cluster().urls)[0] as string}/v1/kv/marker`, { value: 0 });
    const from = String((marker.body.result?.['revision'] as number) + 1);
    const human = start(['watch', 'app/', '--prefix', '--prev-kv', '--rev', from]);
    const json = start(['watch', 'app/config', '--json', '--rev', from]);
    try {
      // mostly, the watchers are up before the writes (they print nothing before an event)
      await new Promise((r) => setTimeout(r, 1500));
      const put = await synod(['kv', 'put', 'app/config', '{"debug":true}']);
      expect(put.status, put.stderr).toBe(0);
      const txn = await synod(['txn'], 'version("app/lock") = 0\n\nput app/lock me\nput app/config off\n\nget app/lock\n');
      expect(txn.status, txn.stderr).toBe(0);
      expect(txn.stdout).toMatch(/^SUCCESS \(revision \d+\)\nput app\/lock: version 1\nput app\/config: version 2\n$/);
      const del = await synod(['kv', 'del', 'app/lock']);
      expect(del.status, del.stderr).toBe(0);
      await waitUntil('the watchers to print', async () => human.stdout().split('\n').length > 4 && json.stdout().split('\n').length > 2, 20_000);
      const lines = human.stdout().trim().split('\n');
      const revision = (line: string): number => Number(/^\[(\d+)\]/.exec(line)?.[1]);
      expect(lines.map((l) => l.replace(/^\[\d+\] /, ''))).toEqual(['PUT app/config = {"debug":true}', 'PUT app/config = off (was {"debug":true})', 'PUT app/lock = me', 'DELETE app/lock (was me)']);
      // the txn's two puts share one revision
      expect(revision(lines[1] as string)).toBe(revision(lines[2] as string));
      expect(revision(lines[0] as string)).toBeLessThan(revision(lines[1] as string));
      const jsonLines = json.stdout().trim().split('\n').map((l) => JSON.parse(l) as { revision: number; events: { type: string; kv: { value: unknown } }[] });
      expect(jsonLines.map((l) => [l.revision, l.events.map((e) => e.kv.value)])).toEqual([[revision(lines[0] as string), [{ debug: true }]], [revision(lines[1] as string), ['off']]]);
    } finally {
      human.child.kill('SIGINT');
      json.child.kill('SIGINT');
    }
    const ended = await human.done;
    expect(ended.stderr).toBe('');
  });
});

describe('synod txn, kv get --rev, kv compact, kv del --prefix', () => {
  it('exits 0 when the compares held, 1 (TXN_FAILED, results printed) when they did not, 2 for a bad txn', async () => {
    const failed = await synod(['txn'], 'value("cli/x") = "never"\n\nput cli/x 1\n\nget cli/x\nput cli/y 2\n');
    expect(failed.status).toBe(1);
    expect(failed.stdout).toMatch(/^FAILURE \(revision \d+\)\nget cli\/x: \(absent\)\nput cli\/y: version 1\n$/);
    expect(failed.stderr).toMatch(/^synod: the compares did not hold: the failure branch ran \[TXN_FAILED\]\n$/);
    const json = await synod(['txn', '--json', '-'], JSON.stringify({ success: [{ op: 'get', key: 'cli/y' }, { op: 'range', prefix: 'cli/' }] }));
    expect(json.status, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ succeeded: true, results: [{ value: 2 }, { items: [{ key: 'cli/y', value: 2 }] }] });
    // a lease granted and a key put under it in one txn (JSON form), described line by line
    const leased = await synod(['txn', '-'], JSON.stringify({ success: [{ op: 'leaseGrant', ttlMs: 5000, id: 9_000_000_001 }, { op: 'put', key: 'cli/leased', value: 1, lease: 9_000_000_001 }] }));
    expect([leased.status, leased.stderr]).toEqual([0, '']);
    expect(leased.stdout).toMatch(/^SUCCESS \(revision \d+\)\nlease grant 9000000001: ttl 5000 ms\nput cli\/leased: version 1\n$/);
    const bad = await synod(['txn'], 'version(a) = zero\n');
    expect([bad.status, bad.stderr]).toEqual([2, 'synod: txn line 1: a compare on version needs a whole number >= 0, got zero [BAD_TXN]\n']);
    const refused = await synod(['txn'], JSON.stringify({ success: [{ op: 'put', key: '_synod/auth/enabled', value: true }] }));
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/^synod: .*reserved.* \[RESERVED_KEY\]\n$/);
  });

  it('reads as of a past revision, compacts, and deletes a prefix', async () => {
    const first = await synod(['kv', 'put', 'rev/k', 'one']);
    const revision = Number(/revision (\d+)/.exec(first.stdout)?.[1]);
    await synod(['kv', 'put', 'rev/k', 'two']);
    const old = await synod(['kv', 'get', 'rev/k', '--rev', String(revision)]);
    expect([old.status, old.stdout]).toEqual([0, 'one\n']);
    const compact = await synod(['kv', 'compact', String(revision + 1)]);
    expect(compact.status, compact.stderr).toBe(0);
    expect(compact.stdout).toMatch(/^compacted: history before revision \d+ is gone/);
    const gone = await synod(['kv', 'get', 'rev/k', '--rev', String(revision)]);
    expect(gone.status).toBe(1);
    expect(gone.stderr).toMatch(/compacted away.*\[COMPACTED\]\n$/);
    const del = await synod(['kv', 'del', 'rev/', '--prefix']);
    expect([del.status, del.stdout.replace(/\(revision \d+\)/, '')]).toEqual([0, '1 deleted \n']);
    const badRev = await synod(['kv', 'get', 'rev/k', '--rev', 'yesterday']);
    expect([badRev.status, badRev.stderr]).toEqual([2, 'synod: --rev must be a whole number from 1 to 9007199254740991, got "yesterday" [BAD_OPTION]\n']);
  });

  it('documents every new command in --help and refuses bad watch options with exit code 2', async () => {
    const [txnHelp, watchHelp, badWatch] = await Promise.all([synod(['txn', '--help']), synod(['watch', '--help']), synod(['watch', 'a', '--prefix', '--end', 'b'])]);
    expect(txnHelp.status).toBe(0);
    expect(txnHelp.stdout).toMatch(/TARGET\(KEY\) OP VALUE/);
    expect(txnHelp.stdout).toMatch(/Exit codes: 0 the compares held, 1/);
    expect(watchHelp.status).toBe(0);
    for (const flag of ['--prefix', '--end', '--rev', '--prev-kv', '--no-put', '--no-delete', '--json', '--progress']) expect(watchHelp.stdout).toContain(flag);
    expect([badWatch.status, badWatch.stderr]).toEqual([2, 'synod: --prefix and --end do not go together [BAD_OPTION]\n']);
  });
});
