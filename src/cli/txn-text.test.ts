// The text form of `synod txn`: sections split by blank lines as etcdctl reads them, compares,
// operations with their flags, keys and values quoted or bare, and one clear error per mistake.
import { describe, expect, it } from 'vitest';
import { CliError } from './errors.js';
import { parseTxn } from './txn.js';
import { parseTxnText } from './txn-text.js';

function refusal(text: string): CliError {
  try {
    parseTxnText(text);
  } catch (err) {
    if (err instanceof CliError) return err;
    throw err;
  }
  throw new Error('expected a CliError');
}

describe('parseTxnText', () => {
  it('reads compares, then the success operations, then the failure operations', () => {
    const txn = parseTxnText(['# take the lock if free', 'version("lock") = 0', 'value(owner) != "me"', '', 'put lock me', 'get config', '', 'get lock', ''].join('\n'));
    expect(txn).toEqual({
      compare: [
        { key: 'lock', target: 'version', cmp: '=', value: 0 },
        { key: 'owner', target: 'value', cmp: '!=', value: 'me' },
      ],
      success: [{ op: 'put', key: 'lock', value: 'me' }, { op: 'get', key: 'config' }],
      failure: [{ op: 'get', key: 'lock' }],
    });
  });

  it('takes etcdctl\'s own example (quoted numbers for revisions, CRLF lines)', () => {
    const text = 'mod("key1") > "0"\r\n\r\nput key1 "overwrote-key1"\r\n\r\nput key1 "created-key1"\r\nput key2 "some extra key"\r\n';
    expect(parseTxnText(text)).toEqual({
      compare: [{ key: 'key1', target: 'modRevision', cmp: '>', value: 0 }],
      success: [{ op: 'put', key: 'key1', value: 'overwrote-key1' }],
      failure: [{ op: 'put', key: 'key1', value: 'created-key1' }, { op: 'put', key: 'key2', value: 'some extra key' }],
    });
  });

  it('starts with a blank line for no compares; values are JSON when they parse; ranges, prefixes and flags', () => {
    const txn = parseTxnText(['', 'put n 5', 'put o {"a": [1, "x y"]}', 'put s "5"', 'put t true', 'put "a key" null', 'put l v --lease 42 --prev-kv', 'put i v --ignore-lease', 'get a z --limit=3', 'get jobs/ --prefix', 'del a z', 'del old/ --prefix --prev-kv'].join('\n'));
    expect(txn.compare).toEqual([]);
    expect(txn.failure).toEqual([]);
    expect(txn.success).toEqual([
      { op: 'put', key: 'n', value: 5 },
      { op: 'put', key: 'o', value: { a: [1, 'x y'] } },
      { op: 'put', key: 's', value: '5' },
      { op: 'put', key: 't', value: true },
      { op: 'put', key: 'a key', value: null },
      { op: 'put', key: 'l', value: 'v', lease: 42, prevKv: true },
      { op: 'put', key: 'i', value: 'v', ignoreLease: true },
      { op: 'range', start: 'a', end: 'z', limit: 3 },
      { op: 'range', prefix: 'jobs/' },
      { op: 'delete', key: 'a', end: 'z' },
      { op: 'delete', prefix: 'old/', prevKv: true },
    ]);
    expect(parseTxnText('create(k) < 10\nlease(k) = 7\nval(k) > "m"\n\n').compare).toEqual([
      { key: 'k', target: 'createRevision', cmp: '<', value: 10 },
      { key: 'k', target: 'lease', cmp: '=', value: 7 },
      { key: 'k', target: 'value', cmp: '>', value: 'm' },
    ]);
  });

  it('refuses each mistake with one line naming it (exit code 2)', () => {
    const cases: [string, RegExp][] = [
      ['put a 1', /line 1: expected a compare/],
      ['colour(a) = 1', /unknown compare target "colour"/],
      ['version(a) = x', /whole number/],
      ['version(a) =', /expected a compare|no value/],
      ['\nincr a', /line 2: expected put, get or del/],
      ['\nput a', /put needs a value/],
      ['\nput a b c', /too many arguments/],
      ['\nput a "unclosed', /not closed/],
      ['\nput a {"a": 1', /not closed/],
      ['\nput a {bad}', /bad JSON value/],
      ['\nput a 1 --lease x', /--lease needs a lease id/],
      ['\nput a 1 --prefix', /put takes no --prefix/],
      ['\nget a --limit x', /--limit needs a whole number/],
      ['\nget a b --prefix', /one key/],
      ['\ndel', /del needs a key/],
    ];
    for (const [text, message] of cases) {
      const err = refusal(text);
      expect(err.code, text).toBe('BAD_TXN');
      expect(err.exitCode).toBe(2);
      expect(err.message, text).toMatch(message);
    }
  });
});

describe('parseTxn', () => {
  it('reads JSON when the input starts with "{", the text form otherwise', () => {
    expect(parseTxn(' {"success": [{"op": "get", "key": "a"}]}')).toEqual({ success: [{ op: 'get', key: 'a' }] });
    expect(parseTxn('\nget a\n')).toEqual({ compare: [], success: [{ op: 'get', key: 'a' }], failure: [] });
    expect(() => parseTxn('{bad')).toThrow(/not valid JSON/);
  });
});
