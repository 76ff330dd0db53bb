// Permissions on the routes that name several keys (txn, range delete, watch) and on compaction,
// with authentication on (one node in this process): every key and range a request names must be
// granted, reads for compares and reads, read-write for writes; compaction is root's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from './test/harness.js';
import { startInProcessCluster, type InProcessCluster } from './test/in-process.js';
import { openWatch } from './test/watch-stream.js';

let cluster: InProcessCluster;
let url = '';
const ROOT = { authorization: `Basic ${Buffer.from('root:root-password-4b1d').toString('base64')}` };
const ALICE = { authorization: `Basic ${Buffer.from('alice:alice-password-93ce').toString('base64')}` };

async function call(method: string, target: string, headers: Record<string, string>, body?: unknown): Promise<{ status: number; code?: string }> {
  const res = await fetch(`${url}${target}`, { method, headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const json = (await res.json().catch(() => ({}))) as { error?: { code: string } };
  return { status: res.status, ...(json.error === undefined ? {} : { code: json.error.code }) };
}

beforeAll(async () => {
  cluster = await startInProcessCluster(1, { logLevel: 'warn' });
  url = cluster.urls['1'] as string;
  await waitUntil('the node to lead', async () => (await call('PUT', '/v1/kv/ready', {}, { value: 1 })).status === 200, 20_000);
  expect((await call('PUT', '/v1/auth/users/root', {}, { password: 'root-password-4b1d', roles: ['root'] })).status).toBe(200);
  expect((await call('PUT', '/v1/auth/roles/app', {}, { permissions: [{ prefix: 'app/', access: 'readwrite' }, { prefix: 'shared/', access: 'read' }] })).status).toBe(200);
  expect((await call('PUT', '/v1/auth/users/alice', {}, { password: 'alice-password-93ce', roles: ['app'] })).status).toBe(200);
  expect((await call('POST', '/v1/auth/enable', {}, {})).status).toBe(200);
});
afterAll(async () => {
  await cluster?.close();
});

describe('permissions of txn, range delete, watch and compact', () => {
  it('a txn needs read on every key it compares or reads and read-write on every key it writes', async () => {
    const txn = (body: unknown, headers: Record<string, string> = ALICE): Promise<{ status: number; code?: string }> => call('POST', '/v1/txn', headers, body);
    expect((await txn({ compare: [{ key: 'shared/flag', target: 'version', cmp: '=', value: 0 }], success: [{ op: 'put', key: 'app/x', value: 1 }, { op: 'range', prefix: 'shared/' }] })).status).toBe(200);
    const refused: unknown[] = [
      { success: [{ op: 'put', key: 'shared/x', value: 1 }] },
      { compare: [{ key: 'other/x', target: 'version', cmp: '=', value: 0 }] },
      { success: [{ op: 'get', key: 'other/x' }] },
      { success: [{ op: 'range', prefix: '' }] },
      { success: [{ op: 'delete', prefix: 'shared/' }] },
      { success: [{ op: 'txn', success: [{ op: 'delete', key: 'app/a', end: 'apq' }] }] },
    ];
    for (const body of refused) expect(await txn(body), JSON.stringify(body)).toEqual({ status: 403, code: 'PERMISSION_DENIED' });
    expect((await txn({ success: [{ op: 'get', key: 'app/x' }] }, {})).code).toBe('UNAUTHENTICATED');
    expect((await txn({ success: [{ op: 'put', key: 'other/x', value: 1 }] }, ROOT)).status).toBe(200);
  });

  it('a range delete needs read-write on the whole range; compaction is root\'s', async () => {
    expect((await call('DELETE', '/v1/kv?prefix=app/', ALICE)).status).toBe(200);
    expect((await call('DELETE', '/v1/kv?start=app/a&end=app0', ALICE)).status).toBe(200);
    expect((await call('DELETE', '/v1/kv?prefix=shared/', ALICE)).code).toBe('PERMISSION_DENIED');
    expect((await call('DELETE', '/v1/kv?prefix=', ALICE)).code).toBe('PERMISSION_DENIED');
    expect((await call('POST', '/v1/compact', ALICE, { revision: 1 })).code).toBe('PERMISSION_DENIED');
    expect((await call('POST', '/v1/compact', ROOT, { revision: 1 })).status).toBe(200);
  });

  it('a watch needs read on its key, range or prefix', async () => {
    const watch = async (query: string, headers: Record<string, string>): Promise<number> => {
      const res = await fetch(`${url}/v1/watch?${query}`, { headers });
      const status = res.status;
      await res.body?.cancel();
      return status;
    };
    expect(await watch('prefix=app/', ALICE)).toBe(200);
    expect(await watch('key=shared/x', ALICE)).toBe(200);
    expect(await watch('key=app/a&end=app/z', ALICE)).toBe(200);
    expect(await watch('key=other/x', ALICE)).toBe(403);
    expect(await watch('prefix=', ALICE)).toBe(403);
    expect(await watch('prefix=app/', {})).toBe(401);
    // the keys a once-watch's events line carries need read too
    expect(await watch('key=app/a&once=true&rangePrefix=shared/', ALICE)).toBe(200);
    expect(await watch('key=app/a&once=true&rangePrefix=other/', ALICE)).toBe(403);
    expect(await watch('key=app/a&once=true&rangePrefix=', ALICE)).toBe(403);
    const w = await openWatch(url, 'prefix=app/');
    expect([w.status, w.body?.error?.code]).toEqual([401, 'UNAUTHENTICATED']);
  });
});
