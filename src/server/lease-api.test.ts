// The lease routes on a running cluster (nodes in this process): grant, put with a lease, time to
// live with the keys, keep-alive through a follower (forwarded to the leader), list, revoke
// deleting the keys; and hostile input answered with a clear 400 while the node keeps serving.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, waitUntil, type HttpAnswer } from './test/harness.js';
import { startInProcessCluster, type InProcessCluster } from './test/in-process.js';

let cluster: InProcessCluster;
let leader: string;
let follower: string;

beforeAll(async () => {
  cluster = await startInProcessCluster(3, { logLevel: 'fatal' });
  let id = '';
  await waitUntil('a leader', async () => {
    for (const [node, url] of Object.entries(cluster.urls)) if ((await http('GET', `${url}/v1/status`).catch(() => undefined))?.body['role'] === 'leader') id = node;
    return id !== '';
  }, 20_000);
  leader = cluster.urls[id] as string;
  follower = cluster.urls[Object.keys(cluster.urls).find((n) => n !== id) as string] as string;
}, 60_000);

afterAll(async () => {
  await cluster?.close();
});

const result = (a: HttpAnswer): Record<string, unknown> => (a.body.result ?? {}) as Record<string, unknown>;
const code = (a: HttpAnswer): string | undefined => a.body.error?.code;

describe('lease routes', () => {
  it('grant, put with the lease, time to live with keys, keep-alive through a follower, list, revoke', async () => {
    const granted = await http('POST', `${follower}/v1/leases`, { ttlMs: 5000 });
    expect(granted.status).toBe(200);
    const id = result(granted)['id'] as number;
    expect(result(granted)).toMatchObject({ ttlMs: 5000 });
    expect((await http('PUT', `${follower}/v1/kv/svc%2Fa`, { value: 'here', lease: id })).status).toBe(200);
    expect(result(await http('GET', `${leader}/v1/kv/svc%2Fa`))).toMatchObject({ value: 'here', lease: id });

    const ttl = result(await http('GET', `${follower}/v1/leases/${id}?keys=true`));
    expect(ttl).toMatchObject({ id, ttlMs: 5000, keys: ['svc/a'] });
    expect(ttl['remainingMs']).toBeGreaterThan(0);
    expect(ttl['remainingMs']).toBeLessThanOrEqual(5000);

    const renewed = await http('POST', `${follower}/v1/leases/${id}/keep-alive`);
    expect(renewed.status).toBe(200);
    expect(result(renewed)).toMatchObject({ id, ttlMs: 5000 });
    expect(renewed.body['node']).not.toBe(undefined);

    const listed = result(await http('GET', `${follower}/v1/leases?limit=10`));
    expect(listed['leases']).toContainEqual({ id, ttlMs: 5000 });
    expect(result(await http('GET', `${follower}/v1/leases?after=${id}&consistency=serializable`))['leases']).toEqual([]);

    expect(result(await http('DELETE', `${follower}/v1/leases/${id}`))).toMatchObject({ deleted: 1 });
    expect(result(await http('GET', `${leader}/v1/kv/svc%2Fa`))).toMatchObject({ value: null });
    expect(result(await http('POST', `${leader}/v1/leases/${id}/keep-alive`))).toMatchObject({ error: 'lease-not-found', id });
    expect(result(await http('GET', `${leader}/v1/leases/${id}`))).toMatchObject({ error: 'lease-not-found', id });
    expect(result(await http('DELETE', `${leader}/v1/leases/${id}`))).toMatchObject({ error: 'lease-not-found', id });
    // a put naming a lease that does not exist changes nothing
    expect(result(await http('PUT', `${leader}/v1/kv/svc%2Fb`, { value: 1, lease: id }))).toMatchObject({ error: 'lease-not-found', id });
    expect(result(await http('GET', `${leader}/v1/kv/svc%2Fb`))).toMatchObject({ value: null });
  });

  it('takes a chosen id once, and a grant with a session applies once', async () => {
    const first = await http('POST', `${leader}/v1/leases`, { ttlMs: 3000, id: 424242, clientId: 'lease-test', seq: 1 });
    expect(result(first)).toMatchObject({ id: 424242 });
    // the same session and seq again: the first answer, not a second grant
    expect(result(await http('POST', `${follower}/v1/leases`, { ttlMs: 3000, id: 424242, clientId: 'lease-test', seq: 1 }))).toMatchObject({ id: 424242 });
    expect(result(await http('POST', `${leader}/v1/leases`, { ttlMs: 3000, id: 424242 }))).toMatchObject({ error: 'lease-exists', id: 424242 });
  });

  it('answers hostile input with a clear 400 and keeps serving', async () => {
    const bad: [string, string, unknown][] = [
      ['POST', '/v1/leases', { ttlMs: 1000 }], // below the minimum TTL
      ['POST', '/v1/leases', { ttlMs: '5000' }],
      ['POST', '/v1/leases', { ttlMs: 5000.5 }],
      ['POST', '/v1/leases', { ttlMs: 1e300 }],
      ['POST', '/v1/leases', { ttlMs: 5000, id: 0 }],
      ['POST', '/v1/leases', { ttlMs: 5000, id: -3 }],
      ['POST', '/v1/leases', [1, 2]],
      ['POST', '/v1/leases', { ttlMs: 5000, clientId: 7, seq: 1 }],
      ['POST', '/v1/leases/abc/keep-alive', undefined],
      ['POST', '/v1/leases/0/keep-alive', undefined],
      ['POST', '/v1/leases/99999999999999999999/keep-alive', undefined],
      ['GET', '/v1/leases/1x', undefined],
      ['GET', '/v1/leases/1?keys=maybe', undefined],
      ['GET', '/v1/leases?limit=0', undefined],
      ['GET', '/v1/leases?after=-1', undefined],
      ['GET', '/v1/leases?limit=1e3', undefined],
      ['DELETE', '/v1/leases/-1', undefined],
      ['PUT', '/v1/kv/x', { value: 1, lease: -1 }],
      ['PUT', '/v1/kv/x', { value: 1, lease: 'seven' }],
      ['PUT', '/v1/kv/x', { value: 1, lease: 2 ** 60 }],
    ];
    for (const [method, path, body] of bad) {
      const answer = await http(method, `${follower}${path}`, body);
      expect(answer.status, `${method} ${path} ${JSON.stringify(body)}`).toBe(400);
      expect(code(answer), `${method} ${path}`).toMatch(/^(BAD_REQUEST|BAD_LEASE_ID|BAD_SESSION)$/);
    }
    expect(code(await http('GET', `${follower}/v1/leases?color=red`))).toBe('UNKNOWN_PARAMETER');
    expect((await http('PUT', `${leader}/v1/kv/still-serving`, { value: true })).status).toBe(200);
  });

  it('with authentication on: any user holds leases, but a revoke or a look at the keys needs access to every attached key', async () => {
    const call = async (method: string, url: string, user: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> => {
      const res = await fetch(url, { method, headers: { authorization: `Basic ${Buffer.from(`${user}:${user}-password-9q`).toString('base64')}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    expect((await http('PUT', `${leader}/v1/auth/users/root`, { password: 'root-password-9q', roles: ['root'] })).status).toBe(200);
    expect((await http('PUT', `${leader}/v1/auth/roles/app`, { permissions: [{ prefix: 'app/', access: 'readwrite' }] })).status).toBe(200);
    expect((await http('PUT', `${leader}/v1/auth/roles/other`, { permissions: [{ prefix: 'other/', access: 'readwrite' }] })).status).toBe(200);
    expect((await http('PUT', `${leader}/v1/auth/users/alice`, { password: 'alice-password-9q', roles: ['app'] })).status).toBe(200);
    expect((await http('PUT', `${leader}/v1/auth/users/bob`, { password: 'bob-password-9q', roles: ['other'] })).status).toBe(200);
    expect((await http('POST', `${leader}/v1/auth/enable`, {})).status).toBe(200);
    await waitUntil('every node to see auth on', async () => (await Promise.all(Object.values(cluster.urls).map((u) => http('GET', `${u}/v1/auth/whoami`)))).every((a) => a.body['authEnabled'] === true));

    expect((await http('POST', `${follower}/v1/leases`, { ttlMs: 5000 })).status).toBe(401);
    const granted = await call('POST', `${follower}/v1/leases`, 'alice', { ttlMs: 5000 });
    expect(granted.status).toBe(200);
    const id = (granted.body['result'] as { id: number }).id;
    expect((await call('PUT', `${follower}/v1/kv/app%2Fsvc`, 'alice', { value: 1, lease: id })).status).toBe(200);
    expect((await call('POST', `${follower}/v1/leases/${id}/keep-alive`, 'alice')).status).toBe(200);
    expect((await call('GET', `${follower}/v1/leases/${id}?keys=true`, 'alice')).body['result']).toMatchObject({ keys: ['app/svc'] });
    // bob may not learn the names of alice's keys, nor delete them by revoking their lease
    expect((await call('GET', `${follower}/v1/leases/${id}?keys=true`, 'bob')).status).toBe(403);
    expect((await call('GET', `${follower}/v1/leases/${id}`, 'bob')).status).toBe(200);
    expect((await call('DELETE', `${follower}/v1/leases/${id}`, 'bob')).status).toBe(403);
    expect((await call('GET', `${leader}/v1/kv/app%2Fsvc`, 'alice')).body['result']).toMatchObject({ value: 1 });
    expect((await call('DELETE', `${follower}/v1/leases/${id}`, 'alice')).body['result']).toMatchObject({ deleted: 1 });
  });
});
