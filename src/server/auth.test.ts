// Authentication and authorization on a running cluster (nodes in this process): switched on
// without losing data, every route refusing callers without credentials or permission, tokens
// and passwords, failed logins rate-limited, forwarding keeping the caller's identity, and no
// password or token in any log line.
import { afterEach, describe, expect, it } from 'vitest';
import { coversRange } from './auth.js';
import { http, waitUntil } from './test/harness.js';
import { startInProcessCluster, type InProcessCluster } from './test/in-process.js';

let cluster: InProcessCluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

const ROOT_PASSWORD = 'root-password-1f9c';
const ALICE_PASSWORD = 'alice-password-7e2a';

async function leaderOf(c: InProcessCluster): Promise<string> {
  let leader = '';
  await waitUntil('a leader', async () => {
    for (const [id, url] of Object.entries(c.urls)) if ((await http('GET', `${url}/v1/status`).catch(() => undefined))?.body['role'] === 'leader') leader = id;
    return leader !== '';
  }, 20_000);
  return leader;
}

/** A request with headers, answered as status and parsed body. */
async function call(method: string, url: string, headers: Record<string, string> = {}, body?: unknown): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(url, { method, headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await res.text();
  return { status: res.status, body: (text.startsWith('{') ? JSON.parse(text) : { text }) as Record<string, unknown>, headers: res.headers };
}

const basic = (name: string, password: string): Record<string, string> => ({ authorization: `Basic ${Buffer.from(`${name}:${password}`).toString('base64')}` });
const codeOf = (r: { body: Record<string, unknown> }): string | undefined => (r.body['error'] as { code?: string } | undefined)?.code;

describe('authentication', () => {
  it('is switched on for a running cluster without losing data, and then every route asks for credentials and permissions', async () => {
    cluster = await startInProcessCluster(3, { logLevel: 'debug' });
    const leader = await leaderOf(cluster);
    const url = cluster.urls[leader] as string;
    const follower = cluster.urls[Object.keys(cluster.urls).find((id) => id !== leader) as string] as string;
    // data from before, while auth is off: anyone may do anything
    expect((await call('PUT', `${url}/v1/kv/app%2Fbefore`, {}, { value: 'kept' })).status).toBe(200);
    expect((await call('PUT', `${url}/v1/kv/other%2Fbefore`, {}, { value: 'kept too' })).status).toBe(200);
    // enabling needs a root user first
    expect(codeOf(await call('POST', `${url}/v1/auth/enable`, {}, {}))).toBe('NO_ROOT_USER');
    expect((await call('PUT', `${url}/v1/auth/users/root`, {}, { password: ROOT_PASSWORD, roles: ['root'] })).status).toBe(200);
    expect((await call('PUT', `${url}/v1/auth/roles/app-rw`, {}, { permissions: [{ prefix: 'app/', access: 'readwrite' }, { prefix: 'shared/', access: 'read' }] })).status).toBe(200);
    expect((await call('PUT', `${follower}/v1/auth/users/alice`, {}, { password: ALICE_PASSWORD, roles: ['app-rw'] })).status).toBe(200);
    expect((await call('POST', `${url}/v1/auth/enable`, {}, {})).status).toBe(200);
    await waitUntil('every node to see auth on', async () => {
      const answers = await Promise.all(Object.values(cluster?.urls ?? {}).map((u) => call('GET', `${u}/v1/auth/whoami`)));
      return answers.every((a) => a.body['authEnabled'] === true);
    });

    // no credentials: refused everywhere but the public routes
    for (const [method, path] of [['GET', '/v1/kv/app%2Fbefore'], ['PUT', '/v1/kv/app%2Fx'], ['GET', '/v1/kv?prefix=app/'], ['GET', '/v1/members'], ['GET', '/v1/snapshot'], ['POST', '/v1/leader/transfer'], ['GET', '/v1/auth/users'], ['POST', '/v1/auth/disable']] as const) {
      const r = await call(method, `${follower}${path}`, {}, method === 'GET' ? undefined : { value: 1 });
      expect(r.status, `${method} ${path}`).toBe(401);
      expect(codeOf(r)).toBe('UNAUTHENTICATED');
      expect(r.headers.get('www-authenticate')).toMatch(/^Basic/);
    }
    for (const path of ['/health', '/readyz', '/metrics', '/v1/status', '/v1/auth/whoami']) expect((await call('GET', `${follower}${path}`)).status, path).toBeLessThan(400);

    // the data written before is all there
    expect(((await call('GET', `${url}/v1/kv/other%2Fbefore`, basic('root', ROOT_PASSWORD))).body['result'] as { value: unknown }).value).toBe('kept too');

    // alice: read-write under app/, read under shared/, nothing else; through a follower too (forwarded with her identity)
    const alice = basic('alice', ALICE_PASSWORD);
    for (const target of [url, follower]) {
      expect((await call('PUT', `${target}/v1/kv/app%2Fa`, alice, { value: 1 })).status).toBe(200);
      expect(((await call('GET', `${target}/v1/kv/app%2Fbefore`, alice)).body['result'] as { value: unknown }).value).toBe('kept');
      expect((await call('GET', `${target}/v1/kv?prefix=app/`, alice)).status).toBe(200);
      expect((await call('GET', `${target}/v1/kv/shared%2Fx`, alice)).status).toBe(200);
      expect(codeOf(await call('PUT', `${target}/v1/kv/shared%2Fx`, alice, { value: 1 }))).toBe('PERMISSION_DENIED');
      expect(codeOf(await call('GET', `${target}/v1/kv/other%2Fbefore`, alice))).toBe('PERMISSION_DENIED');
      expect(codeOf(await call('GET', `${target}/v1/kv`, alice))).toBe('PERMISSION_DENIED');
      expect(codeOf(await call('GET', `${target}/v1/kv?prefix=ap`, alice))).toBe('PERMISSION_DENIED');
      expect(codeOf(await call('GET', `${target}/v1/snapshot`, alice))).toBe('PERMISSION_DENIED');
      expect(codeOf(await call('POST', `${target}/v1/auth/disable`, alice, {}))).toBe('PERMISSION_DENIED');
      expect((await call('GET', `${target}/v1/status`, alice)).status).toBe(200);
    }
    // the cluster's own records are never listed, even to root
    const all = await call('GET', `${url}/v1/kv`, basic('root', ROOT_PASSWORD));
    expect(JSON.stringify(all.body)).not.toContain('_synod/');

    // a token works until the password changes
    const login = await call('POST', `${follower}/v1/auth/token`, {}, { name: 'alice', password: ALICE_PASSWORD });
    expect(login.status).toBe(200);
    const token = login.body['token'] as string;
    const bearer = { authorization: `Bearer ${token}` };
    expect((await call('GET', `${url}/v1/kv/app%2Fa`, bearer)).status).toBe(200);
    expect(codeOf(await call('GET', `${url}/v1/kv/app%2Fa`, { authorization: `Bearer ${token.slice(0, -2)}xx` }))).toBe('UNAUTHENTICATED');
    expect((await call('PUT', `${url}/v1/auth/users/alice`, basic('root', ROOT_PASSWORD), { password: 'alice-new-password' })).status).toBe(200);
    await waitUntil('the new password to reach every node', async () => (await call('GET', `${follower}/v1/kv/app%2Fa`, bearer)).status === 401);

    // wrong passwords: refused, then rate-limited with Retry-After
    const tries: number[] = [];
    for (let i = 0; i < 8; i++) tries.push((await call('POST', `${url}/v1/auth/token`, {}, { name: 'alice', password: `wrong-${i}` })).status);
    expect(tries.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    const limited = await call('GET', `${url}/v1/kv/app%2Fa`, basic('alice', 'alice-new-password'));
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);

    // root turns it off again
    expect((await call('POST', `${url}/v1/auth/disable`, basic('root', ROOT_PASSWORD), {})).status).toBe(200);
    await waitUntil('auth off everywhere', async () => (await call('GET', `${follower}/v1/kv/other%2Fbefore`)).status === 200);

    // no password and no token ever reached a log line (the nodes logged at debug level)
    const logged = JSON.stringify(cluster.logs);
    expect(cluster.logs.length).toBeGreaterThan(10);
    for (const secret of [ROOT_PASSWORD, ALICE_PASSWORD, 'alice-new-password', token, Buffer.from(`alice:${ALICE_PASSWORD}`).toString('base64')]) expect(logged).not.toContain(secret);
  });
});

describe('coversRange', () => {
  it('grants a range only when every key it can return starts with the granted prefix', () => {
    expect(coversRange('', {})).toBe(true);
    expect(coversRange('app/', { prefix: 'app/x' })).toBe(true);
    expect(coversRange('app/', { prefix: 'app' })).toBe(false);
    expect(coversRange('app/', { start: 'app/a', end: 'app/z' })).toBe(true);
    expect(coversRange('app/', { start: 'app/a', end: 'app0' })).toBe(true);
    expect(coversRange('app/', { start: 'app/a', end: 'app1' })).toBe(false);
    expect(coversRange('app/', { start: 'ap', end: 'app/z' })).toBe(false);
    expect(coversRange('app/', { start: 'app/a' })).toBe(false);
  });
});
