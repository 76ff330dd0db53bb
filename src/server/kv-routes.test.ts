// The KV routes after etcd v3 on a running cluster (nodes in this process, real TCP and WAL): txn,
// reads at a revision, compaction, range delete and watch streams, each with the hostile input it
// must refuse with a clear error while the node keeps serving.
import { Agent, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, waitUntil, type HttpAnswer } from './test/harness.js';
import { startInProcessCluster, type InProcessCluster } from './test/in-process.js';
import { eventsOf, openWatch, type TestWatch } from './test/watch-stream.js';

let cluster: InProcessCluster;
let leader = '';
let follower = '';
const url = (id: string): string => cluster.urls[id] as string;
const code = (a: HttpAnswer): string | undefined => a.body.error?.code;
const result = (a: HttpAnswer): Record<string, unknown> => a.body.result as Record<string, unknown>;

beforeAll(async () => {
  // small watch limits, so that the tests reach them
  cluster = await startInProcessCluster(3, { logLevel: 'warn', options: { watch: { maxWatchers: 4, slowWatcherMs: 300, sendWindowBytes: 4096, progressMs: 5000 } } });
  await waitUntil('a leader', async () => {
    for (const id of Object.keys(cluster.urls)) {
      const s = await http('GET', `${url(id)}/v1/status`).catch(() => undefined);
      if (s?.body['role'] === 'leader') leader = id;
    }
    return leader !== '';
  }, 20_000);
  follower = Object.keys(cluster.urls).find((id) => id !== leader) as string;
});
afterAll(async () => {
  await cluster?.close();
});

const put = async (key: string, value: unknown, at = leader): Promise<number> => {
  const a = await http('PUT', `${url(at)}/v1/kv/${encodeURIComponent(key)}`, { value });
  expect(a.status).toBe(200);
  return result(a)['revision'] as number;
};
const txn = (body: unknown, at = leader): Promise<HttpAnswer> => http('POST', `${url(at)}/v1/txn`, body);

describe('POST /v1/txn', () => {
  it('runs the compares, then the success or the failure branch, all at one revision (through a follower too)', async () => {
    const r0 = await put('t/a', 1);
    const ok = await txn({
      compare: [{ key: 't/a', target: 'value', cmp: '=', value: 1 }, { key: 't/b', target: 'version', cmp: '=', value: 0 }],
      success: [{ op: 'put', key: 't/a', value: 2 }, { op: 'put', key: 't/b', value: 'x' }, { op: 'get', key: 't/a' }, { op: 'range', prefix: 't/' }],
      failure: [{ op: 'get', key: 't/a' }],
    }, follower);
    expect(ok.status).toBe(200);
    const r = result(ok) as { revision: number; succeeded: boolean; results: Record<string, unknown>[] };
    expect(r.succeeded).toBe(true);
    expect(r.revision).toBe(r0 + 1);
    expect(r.results.map((x) => x['revision'])).toEqual([r0 + 1, r0 + 1, r0 + 1, r0 + 1]);
    expect(r.results[2]).toMatchObject({ value: 2, version: 2 });
    expect((r.results[3]?.['items'] as { key: string }[]).map((i) => i.key)).toEqual(['t/a', 't/b']);
    const failed = result(await txn({ compare: [{ key: 't/a', target: 'value', cmp: '=', value: 1 }], success: [{ op: 'put', key: 't/a', value: 9 }], failure: [{ op: 'get', key: 't/a' }, { op: 'txn', compare: [{ key: 't/b', target: 'value', cmp: '=', value: 'x' }], success: [{ op: 'delete', key: 't/b' }] }] }));
    expect(failed['succeeded']).toBe(false);
    expect(failed['revision']).toBe(r0 + 2);
    expect((failed['results'] as Record<string, unknown>[])[1]).toMatchObject({ succeeded: true, results: [{ deleted: true }] });
  });

  it('applies a write sent twice with the same session once, answering the first result again', async () => {
    const body = { compare: [{ key: 't/once', target: 'version', cmp: '=', value: 0 }], success: [{ op: 'put', key: 't/once', value: 1 }], failure: [{ op: 'put', key: 't/once', value: 'again' }], clientId: 'txn-session-test', seq: 1 };
    const first = result(await txn(body, follower));
    const second = result(await txn(body));
    expect(second).toEqual(first);
    expect(first['succeeded']).toBe(true);
    expect(result(await http('GET', `${url(leader)}/v1/kv/t%2Fonce`))).toMatchObject({ value: 1, version: 1 });
  });

  it('grants a lease and puts under it in one write; a grant of an id in use fails whole with LEASE_EXISTS', async () => {
    const id = 7_000_000_001;
    const body = {
      compare: [{ key: 'tl/k', target: 'createRevision', cmp: '=', value: 0 }],
      success: [{ op: 'leaseGrant', ttlMs: 5000, id }, { op: 'put', key: 'tl/k', value: 'held', lease: id }, { op: 'range', prefix: 'tl/' }],
    };
    const first = result(await txn(body, follower)) as { revision: number; succeeded: boolean; results: Record<string, unknown>[] };
    expect(first.succeeded).toBe(true);
    expect(first.results[0]).toEqual({ revision: first.revision, id, ttlMs: 5000 });
    expect((first.results[2]?.['items'] as { key: string; lease: number }[]).map((i) => [i.key, i.lease])).toEqual([['tl/k', id]]);
    expect(result(await http('GET', `${url(leader)}/v1/leases/${id}?keys=true`))).toMatchObject({ id, keys: ['tl/k'] });
    // the id is taken now: the txn fails whole, and the put of its other branch-mate does not happen
    const again = await txn({ success: [{ op: 'put', key: 'tl/other', value: 1 }, { op: 'leaseGrant', ttlMs: 5000, id }] });
    expect(again.status).toBe(409);
    expect(code(again)).toBe('LEASE_EXISTS');
    expect(result(await http('GET', `${url(leader)}/v1/kv/tl%2Fother`))).toMatchObject({ value: null });
    // revoking the lease deletes the key put in the same write
    expect((await http('DELETE', `${url(leader)}/v1/leases/${id}`)).status).toBe(200);
    expect(result(await http('GET', `${url(leader)}/v1/kv/tl%2Fk`))).toMatchObject({ value: null });
  });

  it('refuses malformed, oversized and reserved txns with a 400 naming the problem, and keeps serving', async () => {
    const deep = (n: number): unknown => (n === 0 ? { op: 'put', key: 'd', value: 1 } : { op: 'txn', success: [deep(n - 1)] });
    const cases: [unknown, string, RegExp][] = [
      [[1, 2], 'BAD_REQUEST', /JSON object/],
      [{ compare: [], sucess: [] }, 'BAD_REQUEST', /no field "sucess"/],
      [{ compare: [{ key: 'a', target: 'colour', cmp: '=', value: 1 }] }, 'BAD_REQUEST', /target/],
      [{ compare: [{ key: 'a', target: 'version', cmp: '=', value: 'one' }] }, 'BAD_REQUEST', /integer/],
      [{ compare: [{ key: 'a', target: 'value', cmp: '<', value: { x: 1 } }] }, 'BAD_REQUEST', /number or a string/],
      [{ compare: [{ key: 'a', target: 'value', cmp: '=', value: 1, extra: true }] }, 'BAD_REQUEST', /compare takes no field "extra"/],
      [{ success: [{ op: 'incr', key: 'a' }] }, 'BAD_REQUEST', /put, delete, get, range, leaseGrant or txn/],
      [{ success: [{ op: 'put', key: 'a', value: 1, leese: 5 }] }, 'BAD_REQUEST', /put in a txn takes no field "leese"/],
      [{ success: [{ op: 'put', key: 'a', value: 1 }, { op: 'put', key: 'a', value: 2 }] }, 'BAD_REQUEST', /twice/],
      [{ success: [{ op: 'delete', prefix: '', exclude: 'x' }] }, 'BAD_REQUEST', /no field "exclude"/],
      [{ success: [{ op: 'put', key: '_synod/auth/enabled', value: true }] }, 'RESERVED_KEY', /reserved/],
      [{ compare: [{ key: '_synod/auth/users/root', target: 'version', cmp: '>', value: 0 }] }, 'RESERVED_KEY', /reserved/],
      [{ success: [{ op: 'get', key: '_synod/members/1' }] }, 'RESERVED_KEY', /reserved/],
      [{ success: [{ op: 'put', key: '', value: 1 }] }, 'BAD_REQUEST', /empty/],
      [{ success: [{ op: 'put', key: 'k'.repeat(5000), value: 1 }] }, 'BAD_REQUEST', /4096 bytes/],
      [{ success: Array.from({ length: 129 }, (_, i) => ({ op: 'get', key: `k${i}` })) }, 'BAD_REQUEST', /at most 128/],
      [{ success: Array.from({ length: 2000 }, (_, i) => ({ op: 'get', key: `k${i}` })) }, 'BAD_REQUEST', /more than 1024/],
      [{ success: [deep(5)] }, 'BAD_REQUEST', /nest at most 4/],
      [{ success: [deep(40)] }, 'BAD_REQUEST', /deeper than 16/],
      [{ success: [{ op: 'put', key: 'a', value: 1 }], clientId: 7, seq: 1 }, 'BAD_SESSION', /clientId/],
      [{ success: [{ op: 'leaseGrant', ttlMs: 5000 }] }, 'BAD_REQUEST', /leaseGrant in a txn needs an integer "id"/],
      [{ success: [{ op: 'leaseGrant', ttlMs: 5000, id: 0 }] }, 'BAD_REQUEST', /"id" >= 1/],
      [{ success: [{ op: 'leaseGrant', ttlMs: 10, id: 9 }] }, 'BAD_REQUEST', /at the least/],
      [{ success: [{ op: 'leaseGrant', ttlMs: 1e15, id: 9 }] }, 'BAD_REQUEST', /at most/],
      [{ success: [{ op: 'leaseGrant', ttlMs: 5000, id: 9, keys: [] }] }, 'BAD_REQUEST', /leaseGrant in a txn takes no field "keys"/],
      [{ success: [{ op: 'leaseGrant', ttlMs: 5000, id: 9 }, { op: 'txn', success: [{ op: 'leaseGrant', ttlMs: 5000, id: 9 }] }] }, 'BAD_REQUEST', /grants lease 9 twice/],
    ];
    for (const [body, expected, message] of cases) {
      const a = await txn(body, follower);
      expect(a.status, JSON.stringify(body).slice(0, 100)).toBe(400);
      expect(code(a), JSON.stringify(body).slice(0, 100)).toBe(expected);
      expect(String((a.body.error as { message?: string }).message)).toMatch(message);
    }
    expect(code(await http('GET', `${url(leader)}/v1/txn`))).toBe('METHOD_NOT_ALLOWED');
    expect((await txn({ success: [{ op: 'put', key: 't/after', value: 1 }] })).status).toBe(200);
  });

  it('keeps the cluster\'s own keys out of range reads and range deletes (in a txn and in DELETE /v1/kv)', async () => {
    // a user record under _synod/auth/ (authentication stays off)
    expect((await http('PUT', `${url(leader)}/v1/auth/users/carol`, { password: 'carol-password-1', roles: [] })).status).toBe(200);
    await put('own/a', 1);
    const all = result(await txn({ success: [{ op: 'range', prefix: '', limit: 100_000 }, { op: 'delete', prefix: '' }] }));
    const listed = ((all['results'] as Record<string, unknown>[])[0]?.['items'] as { key: string }[]).map((i) => i.key);
    expect(listed).toContain('own/a');
    expect(listed.filter((k) => k.startsWith('_synod/'))).toEqual([]);
    expect(((all['results'] as Record<string, unknown>[])[1]?.['deleted'] as number) >= 1).toBe(true);
    expect(result(await http('DELETE', `${url(follower)}/v1/kv?prefix=`))['deleted']).toBe(0);
    // the user survived both: it can still log in
    expect((await http('POST', `${url(leader)}/v1/auth/token`, { name: 'carol', password: 'carol-password-1' })).status).toBe(200);
  });
});

describe('reads at a revision and compaction', () => {
  it('reads a key and a range as of a past revision, and refuses what is compacted or not reached with 410 and 400', async () => {
    const r1 = await put('h/k', 'one');
    await put('h/j', 'j');
    const r2 = await put('h/k', 'two');
    expect(result(await http('GET', `${url(leader)}/v1/kv/h%2Fk?revision=${r1}`))).toMatchObject({ value: 'one', version: 1, modRevision: r1 });
    expect(result(await http('GET', `${url(follower)}/v1/kv/h%2Fk?revision=${r2}`))).toMatchObject({ value: 'two', version: 2 });
    const range = result(await http('GET', `${url(follower)}/v1/kv?prefix=h/&revision=${r1}`));
    expect((range['items'] as { key: string; value: unknown }[]).map((i) => [i.key, i.value])).toEqual([['h/k', 'one']]);
    await waitUntil('the follower to apply r2', async () => (await http('GET', `${url(follower)}/v1/kv/h%2Fk?consistency=serializable`)).body.result?.['value'] === 'two');
    expect(result(await http('GET', `${url(follower)}/v1/kv/h%2Fk?consistency=serializable&revision=${r1}`))['value']).toBe('one');

    const future = await http('GET', `${url(leader)}/v1/kv/h%2Fk?revision=${r2 + 1000}`);
    expect([future.status, code(future)]).toEqual([400, 'FUTURE_REVISION']);
    expect(future.body.error?.['safeToRetry' as 'code']).toBe(true);
    for (const bad of ['-1', 'abc', '1.5', '1e3', '99999999999999999', '']) {
      const a = await http('GET', `${url(leader)}/v1/kv/h%2Fk?revision=${bad}`);
      expect([a.status, code(a)], bad).toEqual([400, 'BAD_REVISION']);
    }

    const compacted = await http('POST', `${url(follower)}/v1/compact`, { revision: r2 });
    expect(compacted.status).toBe(200);
    expect(result(compacted)['compactRevision']).toBe(r2);
    for (const target of [`/v1/kv/h%2Fk?revision=${r1}`, `/v1/kv?prefix=h/&revision=${r1}`]) {
      const gone = await http('GET', `${url(leader)}${target}`);
      expect([gone.status, code(gone)]).toEqual([410, 'COMPACTED']);
      expect(gone.body.error?.['compactRevision' as 'code']).toBe(r2);
    }
    expect(result(await http('GET', `${url(leader)}/v1/kv/h%2Fk?revision=${r2}`))['value']).toBe('two');
    // again, below, beyond, malformed
    expect(code(await http('POST', `${url(leader)}/v1/compact`, { revision: r2 }))).toBe('COMPACTED');
    expect(code(await http('POST', `${url(leader)}/v1/compact`, { revision: r2 + 10_000 }))).toBe('FUTURE_REVISION');
    for (const body of [{}, { revision: 0 }, { revision: 'x' }, { revision: 2.5 }, { revision: 1, also: true }, [1]]) {
      expect((await http('POST', `${url(leader)}/v1/compact`, body)).status, JSON.stringify(body)).toBe(400);
    }
  });
});

describe('DELETE /v1/kv (range delete)', () => {
  it('deletes a prefix or [start, end) at one revision, with the deleted items when asked', async () => {
    for (const k of ['rd/a', 'rd/b', 'rd/c', 'rd/d']) await put(k, k);
    const range = result(await http('DELETE', `${url(follower)}/v1/kv?start=rd/b&end=rd/d`, { prevKv: true }));
    expect(range['deleted']).toBe(2);
    expect((range['prevKvs'] as { key: string }[]).map((i) => i.key)).toEqual(['rd/b', 'rd/c']);
    expect(result(await http('DELETE', `${url(leader)}/v1/kv?prefix=rd/`))['deleted']).toBe(2);
    expect(result(await http('GET', `${url(leader)}/v1/kv?prefix=rd/`))['items']).toEqual([]);
  });

  it('refuses range deletes it cannot read unambiguously', async () => {
    const cases: [string, unknown, string][] = [
      ['', undefined, 'BAD_REQUEST'],
      ['?start=a', undefined, 'BAD_REQUEST'],
      ['?start=&end=b', undefined, 'BAD_KEY'],
      ['?start=b&end=a', undefined, 'BAD_REQUEST'],
      ['?prefix=a&start=a&end=b', undefined, 'BAD_REQUEST'],
      [`?prefix=${'p'.repeat(5000)}`, undefined, 'BAD_KEY'],
      ['?prefix=a', { prevKv: 'yes' }, 'BAD_REQUEST'],
      ['?prefix=a', { prevkv: true }, 'BAD_REQUEST'],
      ['?prefix=a&limit=3', undefined, 'UNKNOWN_PARAMETER'],
    ];
    for (const [query, body, expected] of cases) {
      const a = await http('DELETE', `${url(leader)}/v1/kv${query}`, body);
      expect([a.status, code(a)], query).toEqual([400, expected]);
    }
  });
});

/** Opens watches and closes them at the end of the test, so that the node's small limit is not reached by leftovers. */
async function withWatches(body: (open: (at: string, query: string) => Promise<TestWatch>) => Promise<void>): Promise<void> {
  const open: TestWatch[] = [];
  try {
    await body(async (at, query) => {
      const w = await openWatch(url(at), query);
      open.push(w);
      return w;
    });
  } finally {
    for (const w of open) w.close();
    // the nodes forget a closed watcher once they see its connection go
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('GET /v1/watch', () => {
  it('streams a prefix from a follower\'s own applied state: created, one line per revision in order, progress when idle', async () => {
    await withWatches(async (open) => {
      const w = await open(follower, 'prefix=w1/&progressMs=200');
      expect(w.status).toBe(200);
      const [created] = await w.until((l) => l.length >= 1);
      expect(created).toMatchObject({ type: 'created', node: follower });
      const start = created?.['startRevision'] as number;
      const r1 = await put('w1/a', 1);
      const both = result(await txn({ success: [{ op: 'put', key: 'w1/b', value: 2 }, { op: 'put', key: 'w1/c', value: 3 }, { op: 'put', key: 'other', value: 0 }] }))['revision'] as number;
      const del = result(await http('DELETE', `${url(leader)}/v1/kv/w1%2Fa`))['revision'] as number;
      await w.until((l) => eventsOf(l).length >= 4);
      expect(r1).toBeGreaterThanOrEqual(start);
      expect(eventsOf(w.lines)).toEqual([[r1, 'put', 'w1/a', 1], [both, 'put', 'w1/b', 2], [both, 'put', 'w1/c', 3], [del, 'delete', 'w1/a', null]]);
      // one line per revision: the txn's two puts arrive together
      expect(w.lines.filter((l) => l.type === 'events').map((l) => l['revision'])).toEqual([r1, both, del]);
      const progress = await w.until((l) => l.some((x) => x.type === 'progress' && (x['revision'] as number) >= del));
      expect(progress.filter((x) => x.type === 'progress').every((x) => typeof x['revision'] === 'number')).toBe(true);
    });
  });

  it('replays history from a start revision, with prevKv and the noPut / noDelete filters, on one key or a range', async () => {
    await withWatches(async (open) => {
      const r1 = await put('w2/k', 'a');
      const r2 = await put('w2/k', 'b');
      const r3 = result(await http('DELETE', `${url(leader)}/v1/kv/w2%2Fk`))['revision'] as number;
      await put('w2/z', 'z');
      const key = await open(leader, `key=w2/k&startRevision=${r1}&prevKv=true`);
      await key.until((l) => eventsOf(l).length >= 3);
      expect(eventsOf(key.lines)).toEqual([[r1, 'put', 'w2/k', 'a'], [r2, 'put', 'w2/k', 'b'], [r3, 'delete', 'w2/k', null]]);
      const prevs = key.lines.filter((l) => l.type === 'events').map((l) => (l['events'] as { prevKv?: { value: unknown } }[])[0]?.prevKv?.value);
      expect(prevs).toEqual([undefined, 'a', 'b']);
      const puts = await open(follower, `key=w2/&end=w2/zz&startRevision=${r1}&noDelete=true`);
      await puts.until((l) => eventsOf(l).length >= 3);
      expect(eventsOf(puts.lines).map((e) => e[1])).toEqual(['put', 'put', 'put']);
      const deletes = await open(follower, `prefix=w2/&startRevision=${r1}&noPut=true`);
      await deletes.until((l) => eventsOf(l).length >= 1);
      expect(eventsOf(deletes.lines)).toEqual([[r3, 'delete', 'w2/k', null]]);
    });
  });

  it('refuses hostile or mistaken queries with a clear 400 and keeps serving', async () => {
    const cases: [string, string][] = [
      ['', 'BAD_REQUEST'],
      ['key=a&prefix=b', 'BAD_REQUEST'],
      ['end=b', 'BAD_REQUEST'],
      ['key=', 'BAD_KEY'],
      [`key=${'k'.repeat(5000)}`, 'BAD_KEY'],
      [`prefix=${'p'.repeat(5000)}`, 'BAD_KEY'],
      [`key=a&end=${'e'.repeat(5000)}`, 'BAD_KEY'],
      ['key=b&end=a', 'BAD_REQUEST'],
      ['key=_synod/members/1', 'RESERVED_KEY'],
      ['prefix=_synod/', 'RESERVED_KEY'],
      ['key=a&startRevision=-1', 'BAD_REVISION'],
      ['key=a&startRevision=abc', 'BAD_REVISION'],
      ['key=a&startRevision=99999999999999999', 'BAD_REVISION'],
      ['key=a&prevKv=yes', 'BAD_REQUEST'],
      ['key=a&noPut=1', 'BAD_REQUEST'],
      ['key=a&progressMs=5', 'BAD_REQUEST'],
      ['key=a&progressMs=99999999', 'BAD_REQUEST'],
      ['key=a&revision=3', 'UNKNOWN_PARAMETER'],
      ['key=a&once=', 'BAD_REQUEST'],
      ['key=a&once=1', 'BAD_REQUEST'],
      ['key=a&once=TRUE', 'BAD_REQUEST'],
      ['key=a&once=yes', 'BAD_REQUEST'],
      ['key=a&once=true%00', 'BAD_REQUEST'],
      ['key=a&once=%20true', 'BAD_REQUEST'],
      [`key=a&once=${'t'.repeat(5000)}`, 'BAD_REQUEST'],
      ['key=a&once=true&once=true', 'BAD_QUERY'],
      ['key=a&Once=true', 'UNKNOWN_PARAMETER'],
      ['key=a&rangePrefix=q/', 'BAD_REQUEST'],
      ['key=a&once=false&rangePrefix=q/', 'BAD_REQUEST'],
      ['key=a&once=true&rangePrefix=_synod/', 'RESERVED_KEY'],
      [`key=a&once=true&rangePrefix=${'p'.repeat(5000)}`, 'BAD_KEY'],
      ['key=a&once=true&rangePrefix=q/&rangePrefix=r/', 'BAD_QUERY'],
      ['key=%ff', 'BAD_QUERY'],
      ['key=a&key=b', 'BAD_QUERY'],
    ];
    for (const [query, expected] of cases) {
      const w = await openWatch(url(follower), query);
      expect([w.status, w.body?.error?.code], query.slice(0, 60)).toEqual([400, expected]);
    }
    expect(code(await http('POST', `${url(follower)}/v1/watch?key=a`, {}))).toBe('METHOD_NOT_ALLOWED');
    await withWatches(async (open) => {
      const w = await open(follower, 'key=still-serving');
      await put('still-serving', 1);
      await w.until((l) => eventsOf(l).length === 1);
    });
  });

  it('answers 410 COMPACTED, naming the compaction revision, for a start below it', async () => {
    const r1 = await put('w3/k', 1);
    const r2 = await put('w3/k', 2);
    expect((await http('POST', `${url(leader)}/v1/compact`, { revision: r2 })).status).toBe(200);
    await waitUntil('the follower to compact', async () => (await http('GET', `${url(follower)}/v1/kv/w3%2Fk?consistency=serializable&revision=${r1}`)).status === 410);
    const w = await openWatch(url(follower), `key=w3/k&startRevision=${r1}`);
    expect([w.status, w.body?.error?.code, w.body?.error?.['compactRevision']]).toEqual([410, 'COMPACTED', r2]);
    await withWatches(async (open) => {
      const ok = await open(follower, `key=w3/k&startRevision=${r2}`);
      await ok.until((l) => eventsOf(l).length === 1);
      expect(eventsOf(ok.lines)).toEqual([[r2, 'put', 'w3/k', 2]]);
    });
  });

  it('refuses watchers past the node\'s limit with 503 TOO_MANY_WATCHERS, and takes new ones once others leave; HEAD opens none', async () => {
    await withWatches(async (open) => {
      for (let i = 0; i < 3; i++) await open(follower, `key=lim${i}`);
      const head = await fetch(`${url(follower)}/v1/watch?key=head`, { method: 'HEAD' });
      expect(head.status).toBe(200);
      const fourth = await open(follower, 'key=lim3');
      expect(fourth.status).toBe(200);
      const refused = await openWatch(url(follower), 'key=lim4');
      expect([refused.status, refused.body?.error?.code, refused.body?.error?.['safeToRetry']]).toEqual([503, 'TOO_MANY_WATCHERS', true]);
      // another node has its own limit
      const elsewhere = await open(leader, 'key=lim4');
      expect(elsewhere.status).toBe(200);
      fourth.close();
      let again: TestWatch | undefined;
      await waitUntil('the slot to free', async () => {
        again = await openWatch(url(follower), 'key=lim5');
        if (again.status !== 200) return false;
        again.close();
        return true;
      }, 5000);
    });
  });

  it('cancels a watcher whose client stopped reading (SLOW_WATCHER, the last line says why) and keeps serving the others', async () => {
    await withWatches(async (open) => {
      const healthy = await open(follower, 'prefix=slow/');
      const { port } = new URL(url(follower));
      const socket = connect(Number(port), '127.0.0.1');
      await new Promise<void>((r) => socket.once('connect', () => r()));
      socket.write(`GET /v1/watch?prefix=slow/ HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\n\r\n`);
      // read nothing: the kernel's buffers fill, then the node's
      socket.pause();
      const value = 'v'.repeat(400_000);
      for (let i = 0; i < 40; i++) await put(`slow/${i % 4}`, `${i}${value}`);
      await healthy.until((l) => eventsOf(l).length === 40, 30_000);
      await new Promise((r) => setTimeout(r, 800));
      // now read it all: the stream ends with the reason
      const received: Buffer[] = [];
      socket.on('data', (c: Buffer) => received.push(c));
      socket.resume();
      await new Promise<void>((r) => socket.once('end', () => r()));
      socket.destroy();
      const text = Buffer.concat(received).toString('latin1');
      const lines = text.split('\n').filter((l) => l.includes('"type":"canceled"'));
      expect(lines, text.slice(0, 300) + ' ... ' + text.slice(-300)).toHaveLength(1);
      const canceled = JSON.parse((lines[0] as string).replace(/^[0-9a-f]+\r\n/, '').replace(/\r$/, '')) as { code: string; message: string; nextRevision: number };
      expect(canceled.code).toBe('SLOW_WATCHER');
      expect(canceled.message).toMatch(/resume from nextRevision/);
      expect(canceled.nextRevision).toBeGreaterThan(0);
      expect(text).toMatch(/0\r\n\r\n$/);
      await put('slow/after', 1);
      await healthy.until((l) => eventsOf(l).some((e) => e[2] === 'slow/after'));
    });
  });

  it('ends a once-watch cleanly after its first events line (progress lines before it), and its connection serves the next request', async () => {
    // one socket for everything: a free one would be a new connection, which is what once avoids
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const get = (path: string): Promise<{ status: number; text: string; reused: boolean; complete: boolean; connection: string | undefined }> =>
      new Promise((resolve, reject) => {
        const req = httpRequest(`${url(follower)}${path}`, { agent }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text, reused: req.reusedSocket, complete: res.complete, connection: res.headers['connection'] }));
        });
        req.on('error', reject);
        req.end();
      });
    type Line = { type: string; revision?: number; startRevision?: number; events?: unknown[] };
    const linesOf = (text: string): Line[] => text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Line);
    try {
      const r1 = await put('once/k', 1);
      const r2 = await put('once/k', 2);
      // history (the follower sends r1 once it has applied it): two revisions to send, only the first comes
      const replay = await get(`/v1/watch?key=once/k&startRevision=${r1}&once=true`);
      expect([replay.status, replay.complete, replay.connection, replay.reused]).toEqual([200, true, 'keep-alive', false]);
      expect(linesOf(replay.text).map((l) => [l.type, l.type === 'created' ? l.startRevision : l.revision])).toEqual([['created', r1], ['events', r1]]);
      // from now: progress lines while nothing happens, then the first change ends it
      const live = get(`/v1/watch?prefix=once-live/&startRevision=${r2 + 1}&once=true&progressMs=100`);
      await new Promise((r) => setTimeout(r, 350));
      const [r3, r4] = await Promise.all([put('once-live/a', 3), put('once-live/b', 4)]);
      const done = await live;
      expect([done.status, done.complete, done.reused]).toEqual([200, true, true]);
      const lines = linesOf(done.text);
      expect(lines[0]?.type).toBe('created');
      expect(lines.slice(1, -1).every((l) => l.type === 'progress')).toBe(true);
      expect(lines.length).toBeGreaterThanOrEqual(3);
      const last = lines[lines.length - 1];
      expect([last?.type, last?.revision, last?.events?.length]).toEqual(['events', Math.min(r3, r4), 1]);
      // more once-watches than the node's limit of 4 watchers, one after another: each one ended is forgotten
      for (let i = 0; i < 6; i++) {
        const again = await get(`/v1/watch?key=once/k&startRevision=${r2}&once=true`);
        expect([again.status, again.reused, linesOf(again.text).map((l) => l.type)]).toEqual([200, true, ['created', 'events']]);
      }
      const status = await get('/v1/status');
      expect([status.status, status.reused]).toEqual([200, true]);
      // once=false is a plain watch: it goes on after its first events line
      await withWatches(async (open) => {
        const plain = await open(follower, `key=once/k&startRevision=${r1}&once=false`);
        await plain.until((l) => eventsOf(l).length === 2);
        await new Promise((r) => setTimeout(r, 100));
        expect(plain.lines.some((l) => l.type === 'canceled')).toBe(false);
      });
    } finally {
      agent.destroy();
    }
  });

  it('a once-watch with rangePrefix carries the keys under it, read at the events line\'s revision or later', async () => {
    const base = await put('line/a', 'first');
    await put('line/b', 'second');
    const gone = result(await http('DELETE', `${url(leader)}/v1/kv/line%2Fa`, {}))['revision'] as number;
    await put('line/c', 'third');
    // from history: the delete is the first event; the range is the follower's state when it sent it
    await waitUntil('the follower to apply line/c', async () => (await http('GET', `${url(follower)}/v1/kv/line%2Fc?consistency=serializable`)).body.result?.['value'] === 'third');
    const w = await openWatch(url(follower), `key=line/a&startRevision=${base + 1}&noPut=true&once=true&rangePrefix=line/`);
    await w.ended;
    const events = w.lines.filter((l) => l.type === 'events') as unknown as { revision: number; range: { revision: number; items: { key: string; value: unknown }[]; more: boolean } }[];
    expect(events).toHaveLength(1);
    const line = events[0]!;
    expect(line.revision).toBe(gone);
    expect(line.range.revision).toBeGreaterThanOrEqual(gone);
    expect([line.range.items.map((i) => [i.key, i.value]), line.range.more]).toEqual([[['line/b', 'second'], ['line/c', 'third']], false]);
    // without rangePrefix the line is as before
    const plain = await openWatch(url(follower), `key=line/a&startRevision=${base + 1}&noPut=true&once=true`);
    await plain.ended;
    expect(plain.lines.filter((l) => l.type === 'events').map((l) => 'range' in l)).toEqual([false]);
  });

  it('ends each watch with SHUTDOWN and the revision to resume from when its node stops', async () => {
    const w = await openWatch(url(follower), 'prefix=bye/');
    await w.until((l) => l.length >= 1);
    const r = await put('bye/a', 1);
    await w.until((l) => eventsOf(l).length === 1);
    await cluster.stop(follower);
    await w.ended;
    const last = w.lines[w.lines.length - 1];
    expect(last).toMatchObject({ type: 'canceled', code: 'SHUTDOWN', nextRevision: r + 1 });
    await cluster.start(follower);
  });
});
