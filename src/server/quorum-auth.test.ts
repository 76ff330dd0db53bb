// Authentication and authorization of the leaderless store's routes (nodes in this process): with
// an auth file that has "enabled": true, anonymous callers get 401 on every dkv and ring route
// while the public routes stay open; reads need read and writes read-write on "BUCKET/KEY"; the
// ring is any user's, repair and ring changes root's (a real join as root); tokens, client
// certificates, a reloaded file, failed logins rate-limited, hostile credentials; and a node
// refuses to start on a bad file without leaving its ports open.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { JsonValue } from '../core/index.js';
import { clusterTlsFiles, ensureClusterTls, writeClientCertificate } from '../supervisor/certs.js';
import { hashPassword, type PasswordHash } from './auth.js';
import { startServiceNode, type MemberAddress, type NodeConfig, type RunningNode } from './node.js';
import { quorumService } from './quorum-service.js';
import { httpCall, trustCa, waitUntil, type HttpCallAnswer } from './test/harness.js';
import { freePort } from './test/in-process.js';

const SECRET = 'quorum-auth-test-secret-0123';
const PASSWORDS = { root: 'root-password-71c2', writer: 'writer-password-0a9e', reader: 'reader-password-3f1b', nobody: 'nobody-password-55d0', newbie: 'newbie-password-8e4c', victim: 'victim-password-2b7a' } as const;
type Name = keyof typeof PASSWORDS;

let dir = '';
let hashes: Record<Name, PasswordHash>;
const running: RunningNode[] = [];
const logs: Record<string, unknown>[] = [];
const sink = new Writable({
  write(chunk: Buffer, _enc, done) {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') logs.push(JSON.parse(line) as Record<string, unknown>);
    done();
  },
});

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'synod-quorum-auth-'));
  const names = Object.keys(PASSWORDS) as Name[];
  const made = await Promise.all(names.map((n) => hashPassword(PASSWORDS[n])));
  hashes = Object.fromEntries(names.map((n, i) => [n, made[i]])) as Record<Name, PasswordHash>;
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((n) => n.close()));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface FileUser {
  readonly password: PasswordHash | null;
  readonly roles: readonly string[];
}

/** The auth file of these tests, with `users` over the usual ones. */
function authFile(o: { enabled?: boolean; users?: Record<string, FileUser | undefined> } = {}): Record<string, unknown> {
  const users: Record<string, FileUser | undefined> = {
    root: { password: hashes.root, roles: ['root'] },
    writer: { password: hashes.writer, roles: ['orders-rw'] },
    reader: { password: hashes.reader, roles: ['orders-r'] },
    nobody: { password: hashes.nobody, roles: [] },
    victim: { password: hashes.victim, roles: ['orders-r'] },
    certwriter: { password: null, roles: ['orders-rw'] },
    ...o.users,
  };
  return {
    enabled: o.enabled ?? true,
    users: Object.fromEntries(Object.entries(users).filter(([, u]) => u !== undefined)),
    roles: { 'orders-rw': { permissions: [{ prefix: 'orders/', access: 'readwrite' }] }, 'orders-r': { permissions: [{ prefix: 'orders/', access: 'read' }] } },
  };
}

function writeAuthFile(content: unknown, name = 'auth.json'): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

const STORE = { replicas: 1, readQuorum: 1, writeQuorum: 1, partitionCount: 8, requestTimeoutMs: 2000 };

async function addresses(https = false): Promise<MemberAddress> {
  return { peer: `127.0.0.1:${await freePort()}`, client: `${https ? 'https' : 'http'}://127.0.0.1:${await freePort()}` };
}

/** One quorum node in this process, with `options` over STORE. */
async function startQuorumNode(id: string, members: Record<string, MemberAddress>, options: Record<string, JsonValue>, extra: Partial<NodeConfig> = {}): Promise<RunningNode> {
  const node = await startServiceNode(quorumService, { id, dataDir: join(dir, `data-${id}-${Math.random().toString(36).slice(2)}`), members, secret: SECRET, logLevel: 'info', logDestination: sink, options: { ...STORE, ...options }, ...extra });
  running.push(node);
  return node;
}

const basic = (name: string, password?: string): Record<string, string> => ({ authorization: `Basic ${Buffer.from(`${name}:${password ?? PASSWORDS[name as Name]}`).toString('base64')}` });
const codeOf = (a: HttpCallAnswer): string | undefined => a.body.error?.code;

describe('the dkv routes with an auth file', () => {
  let url = '';
  const call = (method: string, path: string, headers: Record<string, string> = {}, body?: unknown): Promise<HttpCallAnswer> => httpCall(method, `${url}${path}`, { headers, ...(body === undefined ? {} : { body }) });
  const as = (name: Name | 'anonymous') => (method: string, path: string, body?: unknown): Promise<HttpCallAnswer> => call(method, path, name === 'anonymous' ? {} : basic(name), body ?? (method === 'GET' ? undefined : {}));

  let node: RunningNode | undefined;
  beforeAll(async () => {
    const self = await addresses();
    node = await startServiceNode(quorumService, { id: '1', dataDir: join(dir, 'shared-1'), members: { '1': self }, secret: SECRET, logLevel: 'info', logDestination: sink, options: { ...STORE, authFile: writeAuthFile(authFile(), 'shared-auth.json') } });
    url = self.client;
    await waitUntil('the node to take writes', async () => (await as('root')('PUT', '/v1/dkv/orders/ready', { value: 'x' })).status === 200, 20_000);
  });
  afterAll(async () => {
    await node?.close();
  });

  it('refuses anonymous callers on every store route with 401, and keeps the public routes open', async () => {
    const anonymous = as('anonymous');
    for (const [method, path] of [['GET', '/v1/dkv/orders/a'], ['PUT', '/v1/dkv/orders/a'], ['DELETE', '/v1/dkv/orders/a'], ['POST', '/v1/dkv/orders/a/increment'], ['GET', '/v1/dkv-local/orders/a'], ['GET', '/v1/ring'], ['POST', '/v1/dkv-repair'], ['POST', '/v1/ring/join'], ['POST', '/v1/ring/leave']] as const) {
      const a = await anonymous(method, path, method === 'GET' ? undefined : { value: 'v' });
      expect([a.status, codeOf(a)], `${method} ${path}`).toEqual([401, 'UNAUTHENTICATED']);
      expect(a.headers['www-authenticate']).toMatch(/^Basic realm="synod"/);
    }
    expect((await anonymous('GET', '/health')).status).toBe(200);
    expect((await anonymous('GET', '/readyz')).status).toBe(200);
    const status = await anonymous('GET', '/v1/status');
    expect(status.status).toBe(200);
    expect(status.body['authFile']).toMatchObject({ enabled: true, fingerprint: expect.stringMatching(/^[0-9a-f]{16}$/) as unknown });
    // the status says whether and which file, never who is in it
    expect(JSON.stringify(status.body)).not.toMatch(/writer|reader|orders-rw/);
    expect((await anonymous('GET', '/v1/auth/whoami')).body).toEqual({ authEnabled: true, user: null, roles: [], via: null });
  });

  it('grants reads on BUCKET/KEY with read, writes with read-write, repair and ring changes to root only', async () => {
    const cases: [Name, string, string, number | 'not-403'][] = [
      ['writer', 'PUT', '/v1/dkv/orders/a', 200],
      ['writer', 'GET', '/v1/dkv/orders/a', 200],
      ['writer', 'DELETE', '/v1/dkv/orders/a', 200],
      ['writer', 'PUT', '/v1/dkv/orders/x%2Fy', 200],
      // the store refuses an increment on a plain bucket: past authorization, the store answered
      ['writer', 'POST', '/v1/dkv/orders/a/increment', 'not-403'],
      ['writer', 'GET', '/v1/dkv-local/orders/a', 200],
      ['writer', 'GET', '/v1/ring', 200],
      ['writer', 'PUT', '/v1/dkv/invoices/a', 403],
      ['writer', 'GET', '/v1/dkv/invoices/a', 403],
      // "orders/" is the bucket orders, not every bucket whose name starts with "orders"
      ['writer', 'PUT', '/v1/dkv/orders2/a', 403],
      ['writer', 'GET', '/v1/dkv-local/invoices/a', 403],
      ['writer', 'POST', '/v1/dkv-repair', 403],
      ['writer', 'POST', '/v1/ring/join', 403],
      ['writer', 'POST', '/v1/ring/leave', 403],
      ['reader', 'GET', '/v1/dkv/orders/a', 200],
      ['reader', 'GET', '/v1/dkv-local/orders/a', 200],
      ['reader', 'PUT', '/v1/dkv/orders/a', 403],
      ['reader', 'DELETE', '/v1/dkv/orders/a', 403],
      ['reader', 'POST', '/v1/dkv/orders/a/add', 403],
      ['reader', 'POST', '/v1/dkv/orders/a/remove', 403],
      ['reader', 'GET', '/v1/dkv/invoices/a', 403],
      ['reader', 'GET', '/v1/ring?bucket=orders&key=a', 200],
      ['nobody', 'GET', '/v1/ring', 200],
      ['nobody', 'GET', '/v1/dkv/orders/a', 403],
      ['root', 'PUT', '/v1/dkv/invoices/a', 200],
      ['root', 'GET', '/v1/dkv/invoices/a', 200],
      ['root', 'POST', '/v1/dkv-repair', 200],
      // past authorization: the store says what is wrong with the change
      ['root', 'POST', '/v1/ring/leave', 'not-403'],
    ];
    for (const [name, method, path, expected] of cases) {
      const a = await as(name)(method, path, method === 'PUT' ? { value: `${name}-value` } : method === 'POST' && path.includes('/v1/dkv/') ? { element: 'e', delta: 1 } : undefined);
      if (expected === 'not-403') expect([401, 403, 500], `${name} ${method} ${path}: ${JSON.stringify(a.body)}`).not.toContain(a.status);
      else expect(a.status, `${name} ${method} ${path}: ${JSON.stringify(a.body)}`).toBe(expected);
      if (a.status === 403) expect(codeOf(a)).toBe('PERMISSION_DENIED');
    }
    // a bucket name with a slash decodes under the writer's prefix, and the store refuses it as a bucket
    const slashed = await as('writer')('PUT', '/v1/dkv/orders%2Fevil/a', { value: 'v' });
    expect([slashed.status, codeOf(slashed)]).toEqual([400, 'QUORUM_BAD_REQUEST']);
    expect((await as('reader')('GET', '/v1/dkv/orders/x%2Fy')).body['values']).toEqual(['writer-value']);
  });

  it('logs in for a token any node accepts; a forged or garbled token is refused', async () => {
    const login = await call('POST', '/v1/auth/token', {}, { name: 'writer', password: PASSWORDS.writer });
    expect(login.status).toBe(200);
    const token = login.body['token'] as string;
    const bearer = { authorization: `Bearer ${token}` };
    expect((await call('PUT', '/v1/dkv/orders/t', bearer, { value: 'by token' })).status).toBe(200);
    expect((await call('PUT', '/v1/dkv/invoices/t', bearer, { value: 'by token' })).status).toBe(403);
    expect((await call('GET', '/v1/auth/whoami', bearer)).body).toMatchObject({ authEnabled: true, user: 'writer', via: 'token' });
    const [payload, mac] = token.split('.') as [string, string];
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')), u: 'root' })).toString('base64url');
    expect((await call('POST', '/v1/dkv-repair', { authorization: `Bearer ${forged}.${mac}` })).status).toBe(401);
    expect((await call('POST', '/v1/auth/token', {}, { name: 'writer', password: 'wrong-password' })).status).toBe(401);
  });

  it('rate-limits wrong passwords per user (429 with Retry-After, even for the right one), other users unaffected', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await call('GET', '/v1/dkv/orders/a', basic('victim', `wrong-${i}`))).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 401, 429]);
    const locked = await call('GET', '/v1/dkv/orders/a', basic('victim'));
    expect([locked.status, codeOf(locked)]).toEqual([429, 'TOO_MANY_ATTEMPTS']);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect((await as('reader')('GET', '/v1/dkv/orders/a')).status).toBe(200);
  });

  it('keeps serving after hostile credentials: each is a 401 or a 400, never a 500', async () => {
    const mac = 'A'.repeat(43);
    const hostile = [
      'Basic',
      'Basic !!!not-base64!!!',
      `Basic ${Buffer.from('no-colon-here').toString('base64')}`,
      `Basic ${Buffer.from(':').toString('base64')}`,
      `Basic ${Buffer.from(`${'x'.repeat(6000)}:${'y'.repeat(3000)}`).toString('base64')}`,
      `Basic ${Buffer.from('writer\u0000:x').toString('base64')}`,
      'Bearer',
      'Bearer .',
      'Bearer a.b.c',
      `Bearer ${Buffer.from('{"u":"root","r":0,"e":99999999999999}').toString('base64url')}.${mac}`,
      `Bearer ${Buffer.from('[[[[[[[[[[[[[[[[[[[[[[[[').toString('base64url')}.${mac}`,
      `Bearer ${'A'.repeat(12_000)}`,
      'Digest username="root"',
      'Negotiate abc',
      '   ',
    ];
    const statuses = await Promise.all(hostile.map(async (authorization) => (await call('GET', '/v1/dkv/orders/a', { authorization })).status));
    for (const [i, s] of statuses.entries()) expect([400, 401], `${hostile[i]?.slice(0, 40)}: ${s}`).toContain(s);
    expect((await call('GET', '/health')).status).toBe(200);
    expect((await as('writer')('PUT', '/v1/dkv/orders/after-hostile', { value: 'still serving' })).status).toBe(200);
  });
});

describe('the auth file on a node', () => {
  it('is reread on reload: a new user works, a removed one is refused; a bad file is logged and the old one kept', async () => {
    const path = writeAuthFile(authFile(), 'reload.json');
    const self = await addresses();
    const node = await startQuorumNode('1', { '1': self }, { authFile: path });
    const call = (name: string, password: string): Promise<HttpCallAnswer> => httpCall('PUT', `${self.client}/v1/dkv/orders/r`, { headers: basic(name, password), body: { value: name } });
    await waitUntil('the node to take writes', async () => (await call('writer', PASSWORDS.writer)).status === 200, 20_000);
    const fingerprint = async (): Promise<unknown> => ((await httpCall('GET', `${self.client}/v1/status`)).body['authFile'] as { fingerprint: string }).fingerprint;
    const before = await fingerprint();
    expect((await call('newbie', PASSWORDS.newbie)).status).toBe(401);

    writeAuthFile(authFile({ users: { newbie: { password: hashes.newbie, roles: ['orders-rw'] }, writer: undefined } }), 'reload.json');
    // nothing changes until the reload (SIGHUP for `synod node`)
    expect((await call('newbie', PASSWORDS.newbie)).status).toBe(401);
    node.reload();
    expect((await call('newbie', PASSWORDS.newbie)).status).toBe(200);
    expect((await call('writer', PASSWORDS.writer)).status).toBe(401);
    const after = await fingerprint();
    expect(after).not.toBe(before);
    expect(logs.some((l) => l['msg'] === 'auth file reloaded' && l['fingerprint'] === after)).toBe(true);

    writeFileSync(path, '{"enabled": true, "users": {"newbie": ');
    node.reload();
    expect((await call('newbie', PASSWORDS.newbie)).status).toBe(200);
    const status = (await httpCall('GET', `${self.client}/v1/status`)).body['authFile'] as Record<string, unknown>;
    expect(status['fingerprint']).toBe(after);
    expect(status['reloadFailedAt']).toEqual(expect.any(String));
    expect(logs.some((l) => typeof l['msg'] === 'string' && l['msg'].includes('reload.json: is not valid JSON') && l['msg'].includes('still using the file loaded at'))).toBe(true);
    // no password or hash in any log line
    const logged = JSON.stringify(logs);
    for (const [name, password] of Object.entries(PASSWORDS)) {
      expect(logged).not.toContain(password);
      expect(logged).not.toContain(hashes[name as Name].hash);
    }
  });

  it('lets root add a node to the ring; a user without root may not', async () => {
    const path = writeAuthFile(authFile(), 'join.json');
    const one = await addresses();
    const two = await addresses();
    await startQuorumNode('1', { '1': one }, { authFile: path });
    await startQuorumNode('2', { '1': one }, { authFile: path }, { self: two, join: true });
    const ring = async (): Promise<string[]> => ((await httpCall('GET', `${one.client}/v1/ring`, { headers: basic('reader') })).body['members'] as string[] | undefined) ?? [];
    await waitUntil('the ring', async () => (await ring()).length === 1, 20_000);
    const join = (name?: Name): Promise<HttpCallAnswer> => httpCall('POST', `${one.client}/v1/ring/join`, { headers: name === undefined ? {} : basic(name), body: { node: '2', peer: two.peer, client: two.client } });
    expect((await join('writer')).status).toBe(403);
    expect((await join()).status).toBe(401);
    expect((await join('root')).status).toBe(200);
    await waitUntil('node 2 in the ring', async () => (await ring()).includes('2'), 20_000);
  });

  it('serves everyone when the file says "enabled": false, and without a file', async () => {
    const off = await addresses();
    await startQuorumNode('1', { '1': off }, { authFile: writeAuthFile(authFile({ enabled: false }), 'off.json') });
    await waitUntil('an anonymous write', async () => (await httpCall('PUT', `${off.client}/v1/dkv/invoices/a`, { body: { value: 'v' } })).status === 200, 20_000);
    expect((await httpCall('POST', `${off.client}/v1/dkv-repair`)).status).toBe(200);
    expect((await httpCall('GET', `${off.client}/v1/auth/whoami`)).body['authEnabled']).toBe(false);
    const none = await addresses();
    await startQuorumNode('2', { '2': none }, {});
    await waitUntil('an anonymous write', async () => (await httpCall('PUT', `${none.client}/v1/dkv/b/a`, { body: { value: 'v' } })).status === 200, 20_000);
    expect((await httpCall('GET', `${none.client}/v1/status`)).body['authFile']).toBeNull();
  });

  it('refuses to start on a bad file or option, naming it, with nothing left listening', async () => {
    const self = await addresses();
    const start = (options: Record<string, JsonValue>): Promise<unknown> => startQuorumNode('1', { '1': self }, options).then(() => 'started', (err: unknown) => err);
    const refused = async (options: Record<string, JsonValue>): Promise<{ code: unknown; message: string }> => {
      const err = (await start(options)) as { code?: unknown; message?: string };
      expect(err).toBeInstanceOf(Error);
      return { code: err.code, message: err.message ?? '' };
    };
    expect(await refused({ authFile: writeAuthFile('{"enabled": true, "users": {"a": {"password": "plain", "roles": []}}}', 'bad.json') })).toEqual({ code: 'AUTH_FILE_INVALID', message: `auth file ${join(dir, 'bad.json')}: users.a.password must be a hash from \`synod auth hash-password\` (an object) or null, not a string` });
    expect((await refused({ authFile: join(dir, 'missing.json') })).message).toMatch(/missing\.json: does not exist$/);
    expect(await refused({ authFile: 'auth.json' })).toMatchObject({ code: 'BAD_SERVICE_OPTION', message: expect.stringMatching(/authFile is the absolute path/) as unknown });
    expect((await refused({ authTokenTtlMs: 5 })).message).toMatch(/authTokenTtlMs is a whole number/);
    expect((await refused({ replicas: 99 })).code).toBe('BAD_SERVICE_OPTION');
    // the refusals came before anything opened: both ports are free
    for (const address of [self.peer, new URL(self.client).host]) {
      const port = Number(address.split(':')[1]);
      await new Promise<void>((resolve, reject) => {
        const server = createServer().once('error', reject).listen(port, '127.0.0.1', () => server.close(() => resolve()));
      });
    }
  });

  it('knows a user by the client certificate the cluster CA signed', async () => {
    const tlsDir = join(dir, 'tls');
    await ensureClusterTls(tlsDir, { nodeIds: ['1'], hosts: ['127.0.0.1', 'localhost'] });
    await writeClientCertificate(tlsDir, 'certwriter', 1);
    await writeClientCertificate(tlsDir, 'stranger', 1);
    trustCa(readFileSync(join(tlsDir, 'ca.crt')));
    const self = await addresses(true);
    await startQuorumNode('1', { '1': self }, { authFile: writeAuthFile(authFile(), 'tls.json') }, { tls: { ...clusterTlsFiles(tlsDir, '1'), clientCertAuth: 'request' } });
    const cert = (name: string): { cert: Buffer; key: Buffer } => ({ cert: readFileSync(join(tlsDir, `client-${name}.crt`)), key: readFileSync(join(tlsDir, `client-${name}.key`)) });
    const put = (bucket: string, clientCert?: { cert: Buffer; key: Buffer }): Promise<HttpCallAnswer> => httpCall('PUT', `${self.client}/v1/dkv/${bucket}/c`, { body: { value: 'by certificate' }, ...(clientCert === undefined ? {} : { clientCert }) });
    await waitUntil('a write by certificate', async () => (await put('orders', cert('certwriter'))).status === 200, 20_000);
    expect((await put('invoices', cert('certwriter'))).status).toBe(403);
    expect((await httpCall('GET', `${self.client}/v1/auth/whoami`, { clientCert: cert('certwriter') })).body).toMatchObject({ user: 'certwriter', via: 'certificate' });
    // a certificate naming someone the file does not know, and no certificate at all
    expect((await put('orders', cert('stranger'))).status).toBe(401);
    expect((await put('orders')).status).toBe(401);
  });
});
