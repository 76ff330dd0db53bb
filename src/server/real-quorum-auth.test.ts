// Authentication of the leaderless store as real processes: three quorum nodes load one auth file
// whose hashes `synod auth hash-password` made. Anonymous callers get 401, a reader 403 on a
// write, a writer succeeds on its bucket and gets 403 on another, root repairs and passes the ring
// checks; wrong passwords are rate-limited (per node); hostile credentials leave every node
// serving; SIGHUP rereads the file, and until every node has it they disagree; `synod dkv` sends
// credentials from --user with SYNOD_PASSWORD or --password-stdin.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSynod } from '../cli/test/cli-cluster.js';
import { httpCall, startTestCluster, waitUntil, type HttpCallAnswer, type TestClusterHandle } from './test/harness.js';

const PASSWORDS = { root: 'root-password-real-4c1e', writer: 'writer-password-real-9d02', reader: 'reader-password-real-61ab', newbie: 'newbie-password-real-0f3d' } as const;
type Name = keyof typeof PASSWORDS;
const OPTIONS = { requestTimeoutMs: 2_500, pingIntervalMs: 200, suspectAfterMs: 1_500, partitionCount: 16 };

let dir = '';
let authPath = '';
let hashes: Record<Name, unknown>;
let cluster: TestClusterHandle | undefined;
let urls: string[] = [];

/** The hash `synod auth hash-password` prints for `password` (given on its standard input). */
async function hashWithCli(password: string): Promise<unknown> {
  const run = await startSynod(['auth', 'hash-password'], { input: `${password}\n` }).done;
  expect(run.status, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as unknown;
}

function authFile(users: Partial<Record<Name, string[]>>): string {
  return JSON.stringify({
    enabled: true,
    users: Object.fromEntries(Object.entries(users).map(([name, roles]) => [name, { password: hashes[name as Name], roles }])),
    roles: { 'orders-rw': { permissions: [{ prefix: 'orders/', access: 'readwrite' }] }, 'orders-r': { permissions: [{ prefix: 'orders/', access: 'read' }] } },
  });
}

const basic = (name: string, password: string = PASSWORDS[name as Name]): Record<string, string> => ({ authorization: `Basic ${Buffer.from(`${name}:${password}`).toString('base64')}` });
const as = (name: Name | undefined, method: string, url: string, body?: unknown): Promise<HttpCallAnswer> => httpCall(method, url, { headers: name === undefined ? {} : basic(name), ...(body === undefined ? {} : { body }), timeoutMs: 10_000 });
const fingerprintOf = async (url: string): Promise<string> => ((await httpCall('GET', `${url}/v1/status`)).body['authFile'] as { fingerprint: string }).fingerprint;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'synod-real-quorum-auth-'));
  const names = Object.keys(PASSWORDS) as Name[];
  const made = await Promise.all(names.map((n) => hashWithCli(PASSWORDS[n])));
  hashes = Object.fromEntries(names.map((n, i) => [n, made[i]])) as Record<Name, unknown>;
  authPath = join(dir, 'auth.json');
  writeFileSync(authPath, authFile({ root: ['root'], writer: ['orders-rw'], reader: ['orders-r'] }));
  cluster = await startTestCluster(3, 'quorum', { ...OPTIONS, authFile: authPath });
  urls = Object.values(cluster.endpoints);
  // the ring is formed and replicas answer: a write at W = 2 goes through
  await waitUntil('a first write', async () => (await as('writer', 'PUT', `${urls[0] as string}/v1/dkv/orders/first`, { value: 'v' }).catch(() => undefined))?.status === 200, 30_000);
}, 120_000);

afterAll(async () => {
  await cluster?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

describe('the leaderless store with an auth file, as real processes', () => {
  it('refuses anonymous callers (401) and a reader\'s writes (403); a writer writes its bucket only; root repairs', async () => {
    for (const url of urls) {
      expect((await as(undefined, 'GET', `${url}/v1/dkv/orders/first`)).status).toBe(401);
      expect((await as(undefined, 'PUT', `${url}/v1/dkv/orders/x`, { value: 'anonymous' })).status).toBe(401);
      expect((await as(undefined, 'GET', `${url}/v1/ring`)).status).toBe(401);
      expect((await httpCall('GET', `${url}/health`)).status).toBe(200);
    }
    const [one, two, three] = urls as [string, string, string];
    const written = await as('writer', 'PUT', `${one}/v1/dkv/orders/o1`, { value: 'from writer', w: 2 });
    expect(written.status).toBe(200);
    expect((await as('writer', 'PUT', `${two}/v1/dkv/invoices/o1`, { value: 'not mine' })).status).toBe(403);
    const refused = await as('reader', 'PUT', `${three}/v1/dkv/orders/o1`, { value: 'from reader' });
    expect([refused.status, refused.body.error?.code]).toEqual([403, 'PERMISSION_DENIED']);
    const read = await as('reader', 'GET', `${three}/v1/dkv/orders/o1?r=2`);
    expect([read.status, read.body['values']]).toEqual([200, ['from writer']]);
    expect((await as('reader', 'GET', `${two}/v1/ring?bucket=orders&key=o1`)).status).toBe(200);
    // repair and ring changes are root's: past authorization the store itself answers the join of a member it has
    for (const url of urls) {
      expect((await as('writer', 'POST', `${url}/v1/dkv-repair`)).status).toBe(403);
      expect((await as('root', 'POST', `${url}/v1/dkv-repair`)).status).toBe(200);
    }
    expect((await as('writer', 'POST', `${one}/v1/ring/join`, { node: '2' })).status).toBe(403);
    expect((await as('writer', 'POST', `${one}/v1/ring/leave`, { node: '3' })).status).toBe(403);
    const join = await as('root', 'POST', `${one}/v1/ring/join`, { node: '2' });
    expect([401, 403, 500]).not.toContain(join.status);
  });

  it('rate-limits wrong passwords per user on each node; a token still works meanwhile', async () => {
    const [one, two] = urls as [string, string];
    const token = (await httpCall('POST', `${one}/v1/auth/token`, { body: { name: 'reader', password: PASSWORDS.reader } })).body['token'] as string;
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await httpCall('GET', `${one}/v1/dkv/orders/o1`, { headers: basic('reader', `wrong-${i}`) })).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 401, 429]);
    const locked = await as('reader', 'GET', `${one}/v1/dkv/orders/o1`);
    expect([locked.status, locked.body.error?.code]).toEqual([429, 'TOO_MANY_ATTEMPTS']);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // the count is per node (docs/quorum.md): another node still checks the password
    expect((await as('reader', 'GET', `${two}/v1/dkv/orders/o1`)).status).toBe(200);
    // a token issued before is not a password check: it still works on any node
    for (const url of urls) expect((await httpCall('GET', `${url}/v1/dkv/orders/o1`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
  });

  it('rereads the file on SIGHUP; until every node has it, nodes disagree', async () => {
    const c = cluster as TestClusterHandle;
    const [one, two, three] = urls as [string, string, string];
    const before = await fingerprintOf(one);
    expect(await fingerprintOf(two)).toBe(before);
    writeFileSync(authPath, authFile({ root: ['root'], writer: ['orders-rw'], newbie: ['orders-rw'] }));
    // `synod auth check-file` shows the fingerprint the nodes will show
    const check = await startSynod(['auth', 'check-file', authPath, '--json']).done;
    expect(check.status, check.stderr).toBe(0);
    const next = (JSON.parse(check.stdout) as { fingerprint: string }).fingerprint;
    expect(next).not.toBe(before);

    // node 3 first: the test before locked the reader out of node 1 (429 there for a while)
    c.kill('3', 'SIGHUP');
    await waitUntil('node 3 to reread its file', async () => (await fingerprintOf(three)) === next);
    expect((await as('newbie', 'PUT', `${three}/v1/dkv/orders/n`, { value: 'newbie' })).status).toBe(200);
    expect((await as('newbie', 'PUT', `${two}/v1/dkv/orders/n`, { value: 'newbie' })).status).toBe(401);
    // the reader is gone on node 3 only
    expect((await as('reader', 'GET', `${three}/v1/dkv/orders/n`)).status).toBe(401);
    expect((await as('reader', 'GET', `${two}/v1/dkv/orders/n`)).status).toBe(200);
    expect(await fingerprintOf(two)).toBe(before);

    c.kill('1', 'SIGHUP');
    c.kill('2', 'SIGHUP');
    await waitUntil('every node to reread its file', async () => (await Promise.all(urls.map(fingerprintOf))).every((f) => f === next));
    for (const url of [one, two]) expect((await as('newbie', 'GET', `${url}/v1/dkv/orders/n`)).status).toBe(200);

    // a broken file on SIGHUP: logged, the old one kept, the node serving
    writeFileSync(authPath, '{"enabled": true, "users": {"newbie": {"password": "plaintext", "roles": []}}}');
    c.kill('2', 'SIGHUP');
    await waitUntil('node 2 to report the failed reload', async () => ((await httpCall('GET', `${two}/v1/status`)).body['authFile'] as { reloadFailedAt?: string }).reloadFailedAt !== undefined);
    expect(await fingerprintOf(two)).toBe(next);
    expect((await as('newbie', 'GET', `${two}/v1/dkv/orders/n`)).status).toBe(200);
    writeFileSync(authPath, authFile({ root: ['root'], writer: ['orders-rw'], reader: ['orders-r'], newbie: ['orders-rw'] }));
    for (const id of ['1', '2', '3']) c.kill(id, 'SIGHUP');
    // (node 1 answers 429 until the reader's lockout there ends)
    await waitUntil('every node to have the reader back', async () => (await Promise.all(urls.map((u) => as('reader', 'GET', `${u}/v1/dkv/orders/n`)))).every((a) => a.status === 200), 45_000);
  });

  it('lets `synod dkv` send credentials: --user with SYNOD_PASSWORD or --password-stdin', async () => {
    const c = cluster as TestClusterHandle;
    const flags = ['--endpoints', urls.join(','), '--cacert', join(c.dataDir, 'tls', 'ca.crt')];
    const synod = (args: string[], o: { env?: Record<string, string>; input?: string } = {}) => startSynod([...args, ...flags], o).done;
    const put = await synod(['dkv', 'put', 'cli-key', 'from the cli', '--bucket', 'orders', '--user', 'writer'], { env: { SYNOD_PASSWORD: PASSWORDS.writer } });
    expect(put.status, put.stderr).toBe(0);
    expect(put.stdout).toMatch(/^OK \(\d replicas/);
    const get = await synod(['dkv', 'get', 'cli-key', '--bucket', 'orders', '--user', 'reader', '--password-stdin'], { input: `${PASSWORDS.reader}\n` });
    expect(get.status, get.stderr).toBe(0);
    expect(get.stdout.split('\n')[0]).toBe('from the cli');
    const anonymous = await synod(['dkv', 'get', 'cli-key', '--bucket', 'orders']);
    expect([anonymous.status, anonymous.stderr]).toEqual([1, expect.stringMatching(/\[UNAUTHENTICATED\]\n$/)]);
    const other = await synod(['dkv', 'put', 'cli-key', 'x', '--bucket', 'invoices', '--user', 'writer'], { env: { SYNOD_PASSWORD: PASSWORDS.writer } });
    expect([other.status, other.stderr]).toEqual([1, expect.stringMatching(/writer may not write .*\[PERMISSION_DENIED\]\n$/)]);
    const wrong = await synod(['dkv', 'get', 'cli-key', '--bucket', 'orders', '--user', 'writer'], { env: { SYNOD_PASSWORD: 'not-the-password' } });
    expect([wrong.status, wrong.stderr]).toEqual([1, expect.stringMatching(/\[UNAUTHENTICATED\]\n$/)]);
    const noPassword = await synod(['dkv', 'get', 'cli-key', '--bucket', 'orders', '--user', 'writer']);
    expect([noPassword.status, noPassword.stderr]).toEqual([2, expect.stringMatching(/no password for writer.*\[BAD_OPTION\]/)]);
    const repair = await synod(['dkv', 'repair', '--user', 'root'], { env: { SYNOD_PASSWORD: PASSWORDS.root } });
    expect(repair.status, repair.stderr).toBe(0);
    expect(repair.stdout).toMatch(/exchanges started/);
    const ring = await synod(['ring', 'cli-key', '--bucket', 'orders', '--user', 'reader'], { env: { SYNOD_PASSWORD: PASSWORDS.reader } });
    expect(ring.status, ring.stderr).toBe(0);
    expect(ring.stdout).toMatch(/orders\/cli-key: position/);
  });
  it('keeps every node serving after hostile credentials', async () => {
    const three = urls[2] as string;
    const junk = [
      'Basic', 'Basic ====', `Basic ${Buffer.from('nocolon').toString('base64')}`, `Basic ${Buffer.from(`${'n'.repeat(5000)}:p`).toString('base64')}`,
      'Bearer', 'Bearer .', `Bearer ${Buffer.from('{"u":"root","r":0,"e":1e99}').toString('base64url')}.${'A'.repeat(43)}`, `Bearer ${'x.'.repeat(4000)}`,
      'Negotiate TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAGAbEdAAAADw==', '\t',
    ];
    // and 20 wrong passwords for made-up users, concurrently: each costs a scrypt (on 2 busy cores 60 of them took node 3 some 16 s)
    const guesses = Array.from({ length: 20 }, (_, i) => basic(`guess${i}`, 'hunter2-hunter2').authorization as string);
    const answers = await Promise.all([...junk, ...guesses].map((authorization) => httpCall('PUT', `${three}/v1/dkv/orders/h`, { headers: { authorization }, body: { value: 'x' }, timeoutMs: 30_000 }).then((a) => a.status, (err: Error) => err.message)));
    for (const [i, s] of answers.entries()) expect([400, 401, 429], `request ${i}: ${s}`).toContain(s);
    // a head over the 16 KiB limit is refused whole
    const oversized = await httpCall('GET', `${three}/v1/dkv/orders/h`, { headers: { authorization: `Bearer ${'A'.repeat(20_000)}` } }).then((a) => a.status, (err: Error) => err.message);
    expect([400, 431, 'socket hang up', 'read ECONNRESET']).toContain(oversized);
    // a TLS connection that sends garbage and hangs up
    await new Promise<void>((resolve) => {
      const { hostname, port } = new URL(three);
      const socket = connect({ host: hostname, port: Number(port), rejectUnauthorized: false }, () => socket.end('GET /v1/dkv/orders/h HTTP/1.1\r\nAuthorization: Basic \u0000\u00ff\r\n\r\n'));
      socket.on('close', () => resolve());
      socket.on('error', () => resolve());
      socket.resume();
    });
    // every node still serves, node 3 password checks included (fewer than 50 failures from this address)
    for (const url of urls) expect((await httpCall('GET', `${url}/health`)).status).toBe(200);
    for (const url of urls) expect((await as('writer', 'PUT', `${url}/v1/dkv/orders/after`, { value: 'still serving' })).status).toBe(200);
    const token = (await httpCall('POST', `${three}/v1/auth/token`, { body: { name: 'writer', password: PASSWORDS.writer } })).body['token'] as string;
    expect((await httpCall('PUT', `${three}/v1/dkv/orders/after`, { headers: { authorization: `Bearer ${token}` }, body: { value: 'by token on node 3' } })).status).toBe(200);
  });

});
