// Tests of request decoding and admission: every operation's typed form, the message for each
// kind of malformed input, the txn format's hard bounds (decode) and the limits (admission).
import { describe, expect, it } from 'vitest';
import type { JsonValue } from '../core/index.js';
import { MAX_LEASES, MAX_LEASE_TTL_MS, MAX_TXN_BYTES, MAX_TXN_DEPTH, MAX_TXN_OPS, TXN_FORMAT_MAX_DEPTH, TXN_FORMAT_MAX_OPS } from './limits.js';
import { decodeKvRequest, kvCommandProblem, kvRequestProblem, kvRequestToJson, prefixEnd } from './requests.js';
import { KvStore } from './store.js';

const decoded = (raw: JsonValue): JsonValue => {
  const d = decodeKvRequest(raw);
  if (!d.ok) throw new Error(d.problem);
  return d.value as unknown as JsonValue;
};

/** A txn nested `depth` deep (the outer one is 1). */
function nestedTxn(depth: number): JsonValue {
  let txn: JsonValue = { op: 'txn', success: [{ op: 'get', key: 'k' }] };
  for (let i = 1; i < depth; i++) txn = { op: 'txn', success: [txn] };
  return txn;
}

describe('decoding', () => {
  it('copies out each operation with only the fields it knows', () => {
    expect(decoded({ op: 'put', key: 'k', value: 1, lease: 3, prevKv: true, extra: 'dropped' })).toEqual({ op: 'put', key: 'k', value: 1, lease: 3, prevKv: true });
    expect(decoded({ op: 'put', key: 'k', value: 1, lease: 0 })).toEqual({ op: 'put', key: 'k', value: 1 });
    expect(decoded({ op: 'delete', key: 'a', end: 'b', exclude: 'a/' })).toEqual({ op: 'delete', key: 'a', end: 'b', exclude: 'a/' });
    expect(decoded({ op: 'delete', prefix: '' })).toEqual({ op: 'delete', prefix: '' });
    expect(decoded({ op: 'get', key: 'k', revision: 4 })).toEqual({ op: 'get', key: 'k', revision: 4 });
    expect(decoded({ op: 'compact', revision: 9 })).toEqual({ op: 'compact', revision: 9 });
    expect(decoded({ op: 'leaseGrant', ttlMs: 500 })).toEqual({ op: 'leaseGrant', ttlMs: 500 });
    expect(decoded({ op: 'leaseList' })).toEqual({ op: 'leaseList' });
    expect(decoded({ op: 'changes', prefix: 'p', fromRevision: 0, maxEvents: 5, noDelete: true })).toEqual({ op: 'changes', prefix: 'p', fromRevision: 0, maxEvents: 5, noDelete: true });
    const txn = { op: 'txn', compare: [{ key: 'a', target: 'lease', cmp: '!=', value: 0 }], success: [{ op: 'range', prefix: 'x', limit: 2 }], failure: [] };
    expect(decoded(txn)).toEqual(txn);
    expect(decoded({ op: 'txn' })).toEqual({ op: 'txn', compare: [], success: [], failure: [] });
    const again = decodeKvRequest(txn);
    expect(again.ok && kvRequestToJson(again.value)).toEqual(txn);
  });

  it('refuses each malformed field with a message that names it', () => {
    const cases: [JsonValue, RegExp][] = [
      [{ op: 'put', key: 'k', value: 1, lease: -1 }, /lease/],
      [{ op: 'put', key: 'k', value: 1, lease: 1.5 }, /lease/],
      [{ op: 'put', key: 'k', value: 1, lease: 2 ** 53 }, /lease/],
      [{ op: 'put', key: 'k', value: 1, lease: NaN }, /lease/],
      [{ op: 'put', key: 'k', value: 1, lease: 1, ignoreLease: true }, /not both/],
      [{ op: 'put', key: 'k', value: 1, prevKv: 'yes' }, /prevKv/],
      [{ op: 'delete' }, /key/],
      [{ op: 'delete', key: 'a', prefix: 'a' }, /not both/],
      [{ op: 'delete', key: 'b', end: 'a' }, /end/],
      [{ op: 'delete', key: 'a', exclude: 'x' }, /exclude/],
      [{ op: 'delete', key: 'a', end: 7 }, /end must be a string/],
      [{ op: 'get', key: 'k', revision: -1 }, /revision/],
      [{ op: 'range', revision: 'now' }, /revision/],
      [{ op: 'compact', revision: 0 }, /compact needs an integer "revision" >= 1/],
      [{ op: 'compact' }, /revision/],
      [{ op: 'leaseGrant', ttlMs: 0 }, /ttlMs/],
      [{ op: 'leaseGrant', ttlMs: 10, id: 0 }, /id/],
      [{ op: 'leaseRevoke', id: 'x' }, /id/],
      [{ op: 'leaseTimeToLive', id: 1, keys: 1 }, /keys/],
      [{ op: 'leaseList', limit: 0 }, /limit/],
      [{ op: 'changes', fromRevision: 1 }, /"key".*"prefix"/],
      [{ op: 'changes', key: 'a', fromRevision: -1 }, /fromRevision/],
      [{ op: 'changes', key: 'b', end: 'a', fromRevision: 1 }, /end/],
      [{ op: 'changes', key: 'a', fromRevision: 1, maxEvents: 1e6 }, /maxEvents/],
      [{ op: 'txn', compare: {} }, /compare.*array/],
      [{ op: 'txn', compare: [{ key: 'a', target: 'size', cmp: '=', value: 1 }] }, /target/],
      [{ op: 'txn', compare: [{ key: 'a', target: 'value', cmp: '<=', value: 1 }] }, /cmp/],
      [{ op: 'txn', compare: [{ key: 'a', target: 'value', cmp: '<', value: [1] }] }, /number or a string/],
      [{ op: 'txn', compare: [{ key: 'a', target: 'version', cmp: '=', value: 'x' }] }, /version needs an integer/],
      [{ op: 'txn', compare: [{ key: 'a', target: 'value', cmp: '=' }] }, /value/],
      [{ op: 'txn', success: [{ op: 'cas', key: 'a', from: 1, to: 2 }] }, /put, delete, get, range, leaseGrant or txn/],
      [{ op: 'txn', success: [{ op: 'get', key: 'a', revision: 3 }] }, /takes no "revision"/],
      [{ op: 'txn', success: [{ op: 'leaseGrant', ttlMs: 1000 }] }, /leaseGrant in a txn needs an integer "id"/],
      [{ op: 'txn', success: [{ op: 'leaseGrant', id: 3 }] }, /leaseGrant needs an integer "ttlMs"/],
      [{ op: 'txn', success: [{ op: 'leaseGrant', ttlMs: 1000, id: 3 }, { op: 'leaseGrant', ttlMs: 1000, id: 3 }] }, /grants lease 3 twice/],
      [{ op: 'txn', success: [null] }, /object/],
      [nestedTxn(TXN_FORMAT_MAX_DEPTH + 1), /deeper than 16/],
      [nestedTxn(100_000), /deeper than 16/],
      [{ op: 'txn', success: Array.from({ length: TXN_FORMAT_MAX_OPS + 1 }, () => ({ op: 'get', key: 'k' })) }, /more than 1024/],
      [{ op: 'txn', success: new Array(1e6).fill(null) }, /more than 1024/],
      [{ op: 'watch' }, /unknown kv op "watch" \(known: .*changes\)/],
      [[], /object/],
    ];
    // (described by position: some cases nest too deep to print)
    cases.forEach(([raw, message], i) => expect(kvRequestProblem(raw), `case ${i}`).toMatch(message));
    expect(kvRequestProblem(nestedTxn(TXN_FORMAT_MAX_DEPTH))).toBeNull();
  });

  it('sends writes through the log only: a query is never a write', () => {
    const kv = new KvStore();
    for (const op of ['txn', 'compact', 'leaseGrant', 'leaseRevoke']) expect(kv.decodeQuery({ op, revision: 1, ttlMs: 1, id: 1 })).toMatchObject({ ok: false, problem: expect.stringMatching(/command/) });
    const queries: JsonValue[] = [{ op: 'changes', key: 'a', fromRevision: 1 }, { op: 'leaseTimeToLive', id: 1 }, { op: 'leaseList' }, { op: 'get', key: 'a', revision: 2 }];
    for (const raw of queries) expect(kv.decodeQuery(raw).ok).toBe(true);
  });

  it('knows the first key after a prefix', () => {
    expect(prefixEnd('a/')).toBe('a0');
    expect(prefixEnd('a\uffff')).toBe('b');
    expect(prefixEnd('')).toBeUndefined();
    expect(prefixEnd('\uffff\uffff')).toBeUndefined();
  });
});

describe('admission', () => {
  it('bounds a txn: operations over all levels, nesting, size, and every key and value in it', () => {
    const gets = (n: number): JsonValue[] => Array.from({ length: n }, () => ({ op: 'get', key: 'k' }));
    expect(kvCommandProblem({ op: 'txn', success: gets(MAX_TXN_OPS) })).toBeNull();
    expect(kvCommandProblem({ op: 'txn', success: gets(MAX_TXN_OPS - 1), compare: [{ key: 'a', target: 'version', cmp: '=', value: 0 }, { key: 'b', target: 'version', cmp: '=', value: 0 }] })).toMatch(/at most 128/);
    expect(kvCommandProblem({ op: 'txn', success: [{ op: 'txn', failure: gets(MAX_TXN_OPS) }] })).toMatch(/at most 128/);
    expect(kvCommandProblem(nestedTxn(MAX_TXN_DEPTH))).toBeNull();
    expect(kvCommandProblem(nestedTxn(MAX_TXN_DEPTH + 1))).toMatch(/nest at most 4/);
    const big = 'x'.repeat(400 * 1024);
    expect(kvCommandProblem({ op: 'txn', success: [0, 1, 2].map((i) => ({ op: 'put', key: `k${i}`, value: big })) })).toMatch(new RegExp(`at most ${MAX_TXN_BYTES} bytes`));
    expect(kvCommandProblem({ op: 'txn', success: [{ op: 'put', key: '', value: 1 }] })).toMatch(/empty/);
    expect(kvCommandProblem({ op: 'txn', compare: [{ key: 'k', target: 'value', cmp: '=', value: JSON.parse('['.repeat(5000) + ']'.repeat(5000)) as JsonValue }] })).toMatch(/deeper than 64/);
    expect(kvCommandProblem({ op: 'txn', success: [{ op: 'put', key: 'k', value: JSON.parse('['.repeat(5000) + ']'.repeat(5000)) as JsonValue }] })).toMatch(/deeper than 64/);
    expect(kvCommandProblem({ op: 'delete', prefix: 'p'.repeat(5000) })).toMatch(/prefix/);
  });

  it('bounds a lease\'s TTL, and the lease table as the leader sees it', () => {
    expect(kvCommandProblem({ op: 'leaseGrant', ttlMs: MAX_LEASE_TTL_MS })).toBeNull();
    expect(kvCommandProblem({ op: 'leaseGrant', ttlMs: MAX_LEASE_TTL_MS + 1 })).toMatch(/at most/);
    const kv = new KvStore();
    // a table as large as the limit, without building one
    (kv as unknown as { leases: { size: number } }).leases = { size: MAX_LEASES };
    expect(kv.admitCommand({ op: 'leaseGrant', ttlMs: 10 })).toMatch(/too many leases/);
  });
});
