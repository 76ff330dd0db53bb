// `synod txn2pc` end to end: a transfer, multi-shard writes, list and recover against an
// in-process cluster standing for two shards (distinct keys), and hostile input — bad shards
// files, accounts, amounts and writes — answered with one line and exit code 2.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SynodClient } from '../client/index.js';
import { useCliCluster } from './test/cli-cluster.js';

const cli = useCliCluster();
const dir = mkdtempSync(join(tmpdir(), 'synod-txn2pc-'));
const file = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

describe('synod txn2pc', () => {
  it('transfers, writes on two shards at once, lists and recovers', async () => {
    const urls = Object.values(cli.cluster().urls);
    const shards = file('shards.json', JSON.stringify({ shards: { a: urls, b: urls }, decisions: 'a' }));
    const put = await cli.synod(['txn2pc', 'put', 'a:acct/alice=100', 'b:acct/bob=5', '--shards', shards]);
    expect(put.stderr).toBe('');
    expect(put.status).toBe(0);
    expect(put.stdout).toMatch(/^committed \S+/);
    const moved = await cli.synod(['txn2pc', 'transfer', 'a:acct/alice', 'b:acct/bob', '30', '--shards', shards, '--json']);
    expect(moved.status, moved.stderr).toBe(0);
    expect(JSON.parse(moved.stdout)).toMatchObject({ kind: 'committed', attempts: 1 });
    const got = await cli.synod(['kv', 'get', 'acct/bob']);
    expect(got.stdout.trim(), got.stderr).toBe('35');
    const refused = await cli.synod(['txn2pc', 'transfer', 'a:acct/alice', 'b:acct/bob', '1000', '--shards', shards]);
    expect(refused.status).toBe(1);
    expect(refused.stdout).toContain('refused: a:acct/alice holds 70');
    const listed = await cli.synod(['txn2pc', 'list', '--shards', shards, '--json']);
    expect(JSON.parse(listed.stdout)).toEqual({ intents: [], decisions: [] });
    const recovered = await cli.synod(['txn2pc', 'recover', '--shards', shards]);
    expect(recovered.status, recovered.stderr).toBe(0);
    expect(recovered.stdout).toContain('0 settled, 0 still waiting');
  }, 60_000);

  it('recovery passes over malformed intents and decisions a stranger wrote, and still settles the rest', async () => {
    const urls = Object.values(cli.cluster().urls);
    const shards = file('shards-hostile.json', JSON.stringify({ shards: { a: urls } }));
    const client = new SynodClient({ endpoints: urls });
    const deep: unknown = JSON.parse('['.repeat(60) + ']'.repeat(60)); // the KV itself refuses values past 100 levels
    await client.put('_txn/intent/junk@a', 'not an intent');
    await client.put('_txn/intent/deep@a', deep as never);
    await client.put('_txn/intent/lies@a', { id: 'lies', preparedAtMs: 0, shards: ['a', 'nowhere'], decisions: 'nowhere', writes: [['k', 1]] });
    await client.put('_txn/decision/junk', { outcome: 'maybe', shards: 'a' });
    // a real transaction left in doubt: prepared on a, never decided
    await client.put('_txn/lock/acct/x', 'orphan');
    await client.put('_txn/intent/orphan@a', { id: 'orphan', preparedAtMs: 0, shards: ['a'], decisions: 'a', writes: [['acct/x', 5]] });
    const recovered = await cli.synod(['txn2pc', 'recover', '--shards', shards, '--in-doubt-after-ms', '0', '--json']);
    const report = JSON.parse(recovered.stdout) as { settled: { txnId: string; outcome: string }[]; errors: string[] };
    expect(report.settled).toEqual([{ txnId: 'orphan', outcome: 'abort', how: 'decided-now' }]);
    expect(report.errors.some((e) => e.includes('lies'))).toBe(true); // its decisions shard is not in the set
    expect(recovered.status).toBe(1);
    expect((await client.get('_txn/lock/acct/x')).value).toBe(null);
    expect((await client.get('acct/x')).value).toBe(null);
    const listed = JSON.parse((await cli.synod(['txn2pc', 'list', '--shards', shards, '--json'])).stdout) as { intents: unknown[] };
    expect(listed.intents).toHaveLength(3); // the malformed ones stay, for an operator to look at
    for (const key of ['_txn/intent/junk@a', '_txn/intent/deep@a', '_txn/intent/lies@a', '_txn/decision/junk', '_txn/decision/orphan']) await client.delete(key);
    client.close();
  }, 60_000);

  it('answers bad input with one line and exit code 2', async () => {
    const urls = Object.values(cli.cluster().urls);
    const good = file('good.json', JSON.stringify({ shards: { a: urls } }));
    // one of each kind through the command; every shape of bad file is tried on the parser (src/txn-kv/shards.test.ts)
    const cases: [string[], RegExp][] = [
      [['txn2pc', 'list'], /--shards FILE/],
      [['txn2pc', 'list', '--shards', file('extra.json', JSON.stringify({ shards: { a: urls }, extra: 1 }))], /unknown field "extra"/],
      [['txn2pc', 'transfer', 'a:x', 'a:y', '-5', '--shards', good], /amount must be a whole number/],
      [['txn2pc', 'transfer', 'z:x', 'a:y', '5', '--shards', good], /no shard named "z"/],
      [['txn2pc', 'put', 'a:k=1', 'a:k=2', '--shards', good], /written twice/],
      [['txn2pc', 'list', '--shards', good, '--cacert', join(dir, 'nope.crt')], /cannot read/],
    ];
    for (const [args, message] of cases) {
      const run = await cli.synod(args);
      expect(run.status, `${args.join(' ')}: ${run.stderr}`).toBe(2);
      expect(run.stderr, args.join(' ')).toMatch(message);
      expect(run.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
    }
  }, 120_000);
});
