// The shards file and the transaction's own checks on hostile input: every refusal is a typed
// error with a clear reason, before any shard is contacted.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseWrite } from '../cli/txn2pc.js';
import { commitAcross, parseAccount, readShardSetFile, ShardSet, shardSetProblem, transfer, TxnKvError } from './index.js';

const URLS = ['http://127.0.0.1:1'];
const dir = mkdtempSync(join(tmpdir(), 'synod-shards-'));

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (err) {
    return err instanceof TxnKvError ? `${err.code}: ${err.message}` : `other: ${(err as Error).message}`;
  }
  return undefined;
}

describe('shard sets', () => {
  it.each([
    ['null', null, /an object/],
    ['an array', [1], /an object/],
    ['no shards', {}, /"shards" must map/],
    ['an unknown field', { shards: { a: URLS }, extra: 1 }, /unknown field "extra"/],
    ['empty shards', { shards: {} }, /names no shard/],
    ['a bad name', { shards: { 'a b': URLS } }, /letters, digits/],
    ['a long name', { shards: { ['x'.repeat(65)]: URLS } }, /letters, digits/],
    ['no endpoints', { shards: { a: [] } }, /1-16 endpoints/],
    ['a bad endpoint', { shards: { a: ['ftp://x'] } }, /http:\/\/ or https:\/\//],
    ['an endpoint that is not text', { shards: { a: [7] } }, /http:\/\//],
    ['too many endpoints', { shards: { a: Array.from({ length: 17 }, () => URLS[0]) } }, /1-16 endpoints/],
    ['too many shards', { shards: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`s${i}`, URLS])) }, /at most 64 shards/],
    ['decisions elsewhere', { shards: { a: URLS }, decisions: 'z' }, /"decisions" must name/],
    ['deeply nested', JSON.parse('{"shards":' + '['.repeat(3000) + ']'.repeat(3000) + '}') as unknown, /"shards" must map/],
  ])('refuses %s', (_name, config, reason) => {
    expect(shardSetProblem(config)).toMatch(reason);
    expect(codeOf(() => new ShardSet(config as never))).toMatch(/^BAD_SHARDS/);
  });

  it('reads a file, and says why one cannot be used', () => {
    const path = (name: string, text: string): string => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    };
    expect(readShardSetFile(path('ok.json', JSON.stringify({ shards: { a: URLS, b: URLS }, decisions: 'b' })))).toEqual({ shards: { a: URLS, b: URLS }, decisions: 'b' });
    expect(codeOf(() => readShardSetFile(join(dir, 'missing.json')))).toMatch(/^BAD_SHARDS: cannot read/);
    expect(codeOf(() => readShardSetFile(path('text.json', 'not json')))).toMatch(/^BAD_SHARDS: .*not JSON/);
    expect(codeOf(() => readShardSetFile(path('huge.json', ' '.repeat(1_000_001))))).toMatch(/over 1 MB/);
    const set = new ShardSet({ shards: { a: URLS, b: URLS } });
    expect(set.decisions).toBe('a');
    expect(codeOf(() => set.client('z'))).toMatch(/^UNKNOWN_SHARD/);
    set.close();
  });
});

describe('transactions refused before any shard is asked', () => {
  const set = new ShardSet({ shards: { a: URLS, b: URLS } }, { retryForMs: 0 });

  it.each([
    ['no writes', [], /at least one write/],
    ['a reserved key', [{ shard: 'a', key: '_txn/lock/x', value: 1 }], /protocol's own/],
    ['an empty key', [{ shard: 'a', key: '', value: 1 }], /empty/],
    ['a key twice', [{ shard: 'a', key: 'k', value: 1 }, { shard: 'a', key: 'k', value: 2 }], /written twice/],
    ['an unknown shard', [{ shard: 'z', key: 'k', value: 1 }], /no shard named "z"/],
    ['too many writes', Array.from({ length: 33 }, (_, i) => ({ shard: 'a', key: `k${i}`, value: i })), /at most 32 writes/],
  ])('%s', async (_name, writes, reason) => {
    await expect(commitAcross(set, writes)).rejects.toThrow(reason);
  });

  it('a bad transaction id, amount or account', async () => {
    await expect(commitAcross(set, [{ shard: 'a', key: 'k', value: 1 }], { txnId: 'a b' })).rejects.toThrow(/transaction id/);
    await expect(commitAcross(set, [{ shard: 'a', key: 'k', value: 1 }], { txnId: 'x'.repeat(65) })).rejects.toThrow(/transaction id/);
    await expect(transfer(set, { shard: 'a', key: 'x' }, { shard: 'b', key: 'y' }, 0)).rejects.toThrow(/positive integer/);
    await expect(transfer(set, { shard: 'a', key: 'x' }, { shard: 'b', key: 'y' }, 1.5)).rejects.toThrow(/positive integer/);
    await expect(transfer(set, { shard: 'a', key: 'x' }, { shard: 'a', key: 'x' }, 1)).rejects.toThrow(/two different accounts/);
    expect(codeOf(() => parseAccount('nocolon'))).toMatch(/SHARD:KEY/);
    expect(codeOf(() => parseAccount(':k'))).toMatch(/SHARD:KEY/);
    expect(codeOf(() => parseAccount('a:'))).toMatch(/SHARD:KEY/);
    expect(parseAccount('a:acct/x:y')).toEqual({ shard: 'a', key: 'acct/x:y' });
  });

  it('parses writes from the command line', () => {
    expect(parseWrite('a:k=1')).toEqual({ shard: 'a', key: 'k', value: 1 });
    expect(parseWrite('a:k={"x":[1]}')).toEqual({ shard: 'a', key: 'k', value: { x: [1] } });
    expect(parseWrite('a:k=hello')).toEqual({ shard: 'a', key: 'k', value: 'hello' });
    expect(parseWrite('a:k=')).toEqual({ shard: 'a', key: 'k', value: null });
    expect(parseWrite('a:k=x=y')).toEqual({ shard: 'a', key: 'k', value: 'x=y' });
    expect(() => parseWrite('a:k')).toThrow(/SHARD:KEY=VALUE/);
  });
});
