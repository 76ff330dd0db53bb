// The leaderless store's auth file: a good file loads and serves the shared Authenticator
// (passwords, tokens, prefix permissions on "BUCKET/KEY", reloads); hostile files — malformed,
// not UTF-8, deeply nested, huge, wrong types, unknown fields and roles, duplicate keys, weak or
// junk hashes — are refused with one line naming the problem and never a stack overflow.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Authenticator, hashPassword, type PasswordHash, type RouteAccess } from './auth.js';
import { AuthFileError, AuthFileState, loadAuthFile, MAX_AUTH_FILE_BYTES, parseAuthFile } from './auth-file.js';
import { HttpError } from './http.js';

let dir = '';
let hash: PasswordHash;
let otherHash: PasswordHash;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'synod-authfile-'));
  [hash, otherHash] = await Promise.all([hashPassword('alice-password-1'), hashPassword('alice-password-2')]);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const good = (): Record<string, unknown> => ({
  enabled: true,
  users: { alice: { password: hash, roles: ['orders-rw'] }, bob: { password: hash, roles: ['orders-r'] }, admin: { password: hash, roles: ['root'] }, carol: { password: null, roles: ['orders-r'] } },
  roles: { 'orders-rw': { permissions: [{ prefix: 'orders/', access: 'readwrite' }] }, 'orders-r': { permissions: [{ prefix: 'orders/', access: 'read' }, { prefix: 'shared/', access: 'read' }] } },
});

const parse = (value: unknown): ReturnType<typeof parseAuthFile> => parseAuthFile(Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)), 'auth.json');

/** The problem an auth file is refused for (fails the test when it loads). */
function problemOf(value: unknown): string {
  try {
    parse(value);
  } catch (err) {
    expect(err).toBeInstanceOf(AuthFileError);
    expect((err as AuthFileError).code).toBe('AUTH_FILE_INVALID');
    expect((err as Error).message).not.toContain('\n');
    return (err as AuthFileError).problem;
  }
  throw new Error(`loaded: ${JSON.stringify(value).slice(0, 200)}`);
}

/** Marks a field to remove in `edited`. */
const REMOVE = Symbol('remove');

/** `good()` with the field at each dotted path ("users.alice.roles", "roles.r.permissions.0") set to a value, or removed. */
function edited(...edits: [string, unknown][]): Record<string, unknown> {
  const f = structuredClone(good());
  for (const [path, value] of edits) {
    const parts = path.split('.');
    const last = parts.pop() as string;
    const parent = parts.reduce<Record<string, unknown>>((obj, part) => obj[part] as Record<string, unknown>, f);
    if (value === REMOVE) delete parent[last];
    else parent[last] = value;
  }
  return f;
}

describe('the auth file loader', () => {
  it('loads a good file: users with their roles, roles with their permissions, a fingerprint of the bytes', () => {
    const c = parse(good());
    expect(c.enabled).toBe(true);
    expect([...c.users.keys()].sort()).toEqual(['admin', 'alice', 'bob', 'carol']);
    expect(c.users.get('alice')).toMatchObject({ password: hash, roles: ['orders-rw'] });
    expect(c.users.get('carol')?.password).toBeNull();
    expect(c.roles.get('orders-r')?.permissions).toEqual([{ prefix: 'orders/', access: 'read' }, { prefix: 'shared/', access: 'read' }]);
    expect(c.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(parse(good()).fingerprint).toBe(c.fingerprint);
    expect(parse({ ...good(), enabled: false }).fingerprint).not.toBe(c.fingerprint);
    expect(c.warnings).toEqual([]);
    // the password revision comes from the hash: equal hashes agree on every node, a new hash differs
    expect(c.users.get('alice')?.passwordRevision).toBe(c.users.get('bob')?.passwordRevision);
    expect(parse(edited(['users.alice.password', otherHash])).users.get('alice')?.passwordRevision).not.toBe(c.users.get('alice')?.passwordRevision);
    // users and roles are optional while authentication is off; a byte order mark is allowed
    expect(parse({ enabled: false }).users.size).toBe(0);
    expect(parseAuthFile(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(good()))]), 'x').users.size).toBe(4);
    expect(parse(edited(['users.admin.roles', []])).warnings).toEqual([expect.stringContaining('no user has the role "root"')]);
  });

  it('refuses malformed files: not JSON, not UTF-8, empty, not an object, with the line and column and without quoting the file', () => {
    expect(problemOf('{"enabled": true,\n "users": }')).toMatch(/^is not valid JSON \(.*\)$/);
    expect(problemOf('{"enabled": true,\n "users": {}')).toMatch(/not valid JSON .*line 2, column \d+/);
    // V8 quotes a piece of the text in some messages: the error never does (it may be a hash)
    expect(problemOf(`{"users": {"a": {"password": {"salt": "SECRETSALTxyz" "hash": 1}}}}`)).not.toContain('SECRETSALT');
    expect(problemOf('')).toBe('is empty');
    expect(problemOf('   \n')).toBe('is empty');
    expect(() => parseAuthFile(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), 'x')).toThrow(/is not UTF-8 text/);
    expect(problemOf('[]')).toMatch(/must be a JSON object.*not an array/);
    expect(problemOf('null')).toMatch(/not null/);
    expect(problemOf('"enabled"')).toMatch(/not a string/);
  });

  it('refuses deep nesting before parsing it, in linear time', () => {
    const started = performance.now();
    expect(problemOf(`{"enabled":true,"users":${'['.repeat(500_000)}${']'.repeat(500_000)}}`)).toMatch(/nests more than 8 levels/);
    expect(problemOf(`{"enabled":true,"x":${'{"a":'.repeat(200_000)}1${'}'.repeat(200_000)}}`)).toMatch(/nests more than 8 levels/);
    // brackets inside strings are not nesting
    expect(parse(edited(['roles.orders-r.permissions.0.prefix', '[[[[[[[[[[{{{{{{{{{{'])).roles.size).toBe(2);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('refuses huge files without reading past the bound', () => {
    const path = join(dir, 'huge.json');
    writeFileSync(path, `{"enabled":false,"users":{},"roles":{},"pad":"${'x'.repeat(MAX_AUTH_FILE_BYTES)}"}`);
    expect(() => loadAuthFile(path)).toThrow(/bytes; an auth file may have at most 2097152/);
    expect(() => parseAuthFile(Buffer.alloc(MAX_AUTH_FILE_BYTES + 1, 0x20), 'x')).toThrow(/at most/);
    const many = { enabled: false, users: Object.fromEntries(Array.from({ length: 10_001 }, (_, i) => [`u${i}`, { password: null, roles: [] }])) };
    expect(problemOf(many)).toBe('has 10001 users; at most 10000');
    expect(problemOf({ enabled: false, roles: Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`r${i}`, { permissions: [] }])) })).toBe('has 1001 roles; at most 1000');
  });

  it('refuses wrong types and unknown fields, naming the field', () => {
    expect(problemOf({ enabled: 'yes' })).toBe('"enabled" must be true or false, not a string');
    expect(problemOf({ users: {} })).toBe('"enabled" must be true or false (it is missing)');
    expect(problemOf({ enabled: true, enable: true, users: {} })).toMatch(/^unknown field enable \(allowed: enabled, users, roles\)$/);
    expect(problemOf({ enabled: true, users: [] })).toMatch(/"users" must be an object.*not an array/);
    expect(problemOf({ enabled: true, users: {}, roles: 'admin' })).toMatch(/"roles" must be an object/);
    expect(problemOf(edited(['users.alice', 'password']))).toMatch(/^users\.alice must be an object/);
    expect(problemOf(edited(['users.alice.passwd', 'x']))).toBe('users.alice: unknown field passwd (allowed: password, roles)');
    expect(problemOf(edited(['users.alice.password', REMOVE]))).toMatch(/^users\.alice\.password is missing/);
    expect(problemOf(edited(['users.alice.password', 'alice-password-1']))).toMatch(/^users\.alice\.password must be a hash from `synod auth hash-password`.*not a string/);
    expect(problemOf(edited(['users.alice.roles', REMOVE]))).toMatch(/users\.alice\.roles must be a list of role names \(it is missing/);
    expect(problemOf(edited(['users.alice.roles', 'orders-rw']))).toMatch(/users\.alice\.roles must be a list.*not a string/);
    expect(problemOf(edited(['users.alice.roles', [7]]))).toBe('users.alice.roles[0] must be a role name, not a number');
    expect(problemOf(edited(['users.alice.roles', Array.from({ length: 65 }, (_, i) => `r${i}`)]))).toMatch(/has 65 roles; at most 64/);
    expect(problemOf(edited(['roles.orders-r', []]))).toMatch(/^roles\.orders-r must be an object/);
    expect(problemOf(edited(['roles.orders-r.grants', []]))).toBe('roles.orders-r: unknown field grants (allowed: permissions)');
    expect(problemOf(edited(['roles.orders-r.permissions', REMOVE]))).toMatch(/roles\.orders-r\.permissions must be a list .*missing/);
    expect(problemOf(edited(['roles.orders-r.permissions', [{ prefix: 'a/', access: 'write' }]]))).toBe('roles.orders-r.permissions[0].access must be "read" or "readwrite"');
    expect(problemOf(edited(['roles.orders-r.permissions', [{ prefix: 5, access: 'read' }]]))).toMatch(/permissions\[0\]\.prefix must be a string/);
    expect(problemOf(edited(['roles.orders-r.permissions', [{ prefix: 'a/', access: 'read', expires: 1 }]]))).toMatch(/permissions\[0\]: unknown field expires/);
    expect(problemOf(edited(['roles.orders-r.permissions', [{ prefix: 'x'.repeat(4097), access: 'read' }]]))).toMatch(/prefix has 4097 characters; at most 4096/);
    expect(problemOf(edited(['roles.orders-r.permissions', Array.from({ length: 257 }, () => ({ prefix: '', access: 'read' }))]))).toMatch(/has 257 entries; at most 256/);
  });

  it('refuses bad names, unknown and duplicate roles, a defined root role, duplicate keys, and "enabled" with nobody', () => {
    expect(problemOf(edited(['users.al ice', { password: null, roles: [] }]))).toMatch(/^user name "al ice": names have 1 to 64 characters/);
    expect(problemOf(edited([`users.${'x'.repeat(100)}`, { password: null, roles: [] }]))).toMatch(/^user name "x{64}\.\.\."/);
    expect(problemOf(edited(['users.', { password: null, roles: [] }]))).toMatch(/^user name "":/);
    expect(problemOf(edited(['roles.a/b', { permissions: [] }]))).toMatch(/^role name "a\/b"/);
    expect(problemOf(edited(['users.alice.roles', ['ops']]))).toBe('users.alice.roles[0]: there is no role ops in "roles"');
    expect(problemOf(edited(['users.alice.roles', ['orders-r', 'orders-r']]))).toBe('users.alice.roles lists orders-r twice');
    expect(problemOf(edited(['roles.root', { permissions: [] }]))).toMatch(/^roles\.root: the root role is built in/);
    const text = JSON.stringify(good());
    expect(problemOf(text.replace('"bob":', '"alice":'))).toBe('users.alice appears twice (JSON would keep only the last one)');
    expect(problemOf(text.replace('{"enabled":true', '{"enabled":true,"enabled":false'))).toBe('the field enabled appears twice (JSON would keep only the last one)');
    expect(problemOf(text.replace('"access":"read"', '"access":"read","access":"readwrite"'))).toBe('roles.orders-r.permissions[].access appears twice (JSON would keep only the last one)');
    // an escaped spelling of the same key is the same key
    expect(problemOf(text.replace('"bob":', '"\\u0061lice":'))).toMatch(/users\.alice appears twice/);
    expect(problemOf({ enabled: true, users: {} })).toBe('"enabled" is true but there are no users: every request would be refused');
    // "__proto__" is a valid name: kept as data, nothing else changes
    const c = parse(JSON.stringify(good()).replace('"users":{', '"users":{"__proto__":{"password":null,"roles":["root"]},'));
    expect(c.users.get('__proto__')?.roles).toEqual(['root']);
    expect(({} as { roles?: unknown }).roles).toBeUndefined();
  });

  it('refuses password hashes that are not what hash-password makes', () => {
    const bad = (change: Partial<Record<keyof PasswordHash | 'extra', unknown>>): string => problemOf(edited(['users.alice.password', { ...hash, ...change }]));
    expect(bad({ alg: 'md5' })).toBe('users.alice.password.alg must be "scrypt"');
    expect(bad({ N: 30000 })).toMatch(/N must be a power of two of at least 16384/);
    expect(bad({ N: 1024 })).toMatch(/N must be a power of two/);
    expect(bad({ N: '32768' })).toMatch(/N must be a power of two/);
    expect(bad({ N: 2 ** 40 })).toMatch(/more than 32 MiB per check/);
    expect(bad({ r: 64 })).toMatch(/more than 32 MiB per check/);
    expect(bad({ r: 0 })).toMatch(/r must be a whole number >= 1/);
    expect(bad({ p: 100 })).toMatch(/p must be a whole number from 1 to 4/);
    expect(bad({ salt: 'not base64!' })).toBe('users.alice.password.salt must be base64 of 16 to 64 bytes');
    expect(bad({ salt: 'c2hvcnQ=' })).toMatch(/salt must be base64 of 16 to 64 bytes/);
    expect(bad({ hash: `${hash.hash.slice(0, -2)}*=` })).toMatch(/hash must be base64 of 32 to 64 bytes/);
    expect(bad({ hash: 'A'.repeat(1000) })).toMatch(/hash must be base64/);
    expect(bad({ hash: 7 })).toMatch(/hash must be base64/);
    expect(bad({ extra: 1 })).toMatch(/password: unknown field extra/);
  });

  it('reads files from disk: missing, a directory, unreadable names the problem', () => {
    expect(() => loadAuthFile(join(dir, 'nope.json'))).toThrow(/auth file .*nope\.json: does not exist/);
    mkdirSync(join(dir, 'adir'));
    expect(() => loadAuthFile(join(dir, 'adir'))).toThrow(/is not a regular file/);
    writeFileSync(join(dir, 'ok.json'), JSON.stringify(good()));
    expect(loadAuthFile(join(dir, 'ok.json')).users.size).toBe(4);
  });
});

describe('the Authenticator over an auth file', () => {
  const dkv = (access: 'read' | 'write'): RouteAccess => ({ key: access, keyOf: (req) => `${req.params['bucket'] ?? ''}/${req.params['key'] ?? ''}` });
  const req = (bucket: string, key: string, authorization?: string) => ({ params: { bucket, key }, query: new URLSearchParams(), headers: new Map(authorization === undefined ? [] : [['authorization', authorization]]), remoteAddress: '10.0.0.1' });
  const basic = (name: string, password: string): string => `Basic ${Buffer.from(`${name}:${password}`).toString('base64')}`;
  const statusOf = async (fn: () => unknown): Promise<number> => {
    try {
      await fn();
      return 200;
    } catch (err) {
      if (err instanceof HttpError) return err.status;
      throw err;
    }
  };

  it('permits by prefix on BUCKET/KEY, refuses others, and takes a reloaded file at once', async () => {
    const state = new AuthFileState(parse(good()));
    const auth = new Authenticator({ clusterSecret: 'auth-file-test-secret', state });
    expect(auth.enabled).toBe(true);
    const check = async (name: string, password: string, access: 'read' | 'write', bucket: string, key = 'k'): Promise<number> =>
      statusOf(async () => {
        const r = req(bucket, key, basic(name, password));
        auth.authorize(await auth.identify(r), dkv(access), r);
      });
    expect(await check('alice', 'alice-password-1', 'write', 'orders')).toBe(200);
    expect(await check('alice', 'alice-password-1', 'write', 'invoices')).toBe(403);
    // "orders/" is the bucket orders, not every bucket whose name starts with "orders"
    expect(await check('alice', 'alice-password-1', 'read', 'orders2')).toBe(403);
    expect(await check('bob', 'alice-password-1', 'read', 'orders')).toBe(200);
    expect(await check('bob', 'alice-password-1', 'write', 'orders')).toBe(403);
    expect(await check('admin', 'alice-password-1', 'write', 'anything')).toBe(200);
    expect(await check('alice', 'wrong-password', 'read', 'orders')).toBe(401);
    expect(await check('mallory', 'alice-password-1', 'read', 'orders')).toBe(401);
    expect(await statusOf(() => auth.authorize(null, dkv('read'), req('orders', 'k')))).toBe(401);
    expect(await statusOf(async () => auth.authorize(await auth.identify(req('orders', 'k', basic('alice', 'alice-password-1'))), 'root', req('orders', 'k')))).toBe(403);
    // a certificate-only user is known by its certificate, never by a password
    expect((await auth.identify({ headers: new Map(), remoteAddress: 'x', clientCertName: 'carol' }))?.kind).toBe('user');
    expect(await check('carol', '', 'read', 'orders')).toBe(401);

    // a token, then the password changes in a reloaded file: the old password and its tokens stop working
    const { token } = await auth.login('alice', 'alice-password-1', '10.0.0.2');
    expect(await statusOf(async () => auth.authorize(await auth.identify(req('orders', 'k', `Bearer ${token}`)), dkv('write'), req('orders', 'k')))).toBe(200);
    state.replace(parse(edited(['users.alice.password', otherHash])));
    expect(await statusOf(() => auth.identify(req('orders', 'k', `Bearer ${token}`)))).toBe(401);
    expect(await check('alice', 'alice-password-1', 'read', 'orders')).toBe(401);
    expect(await check('alice', 'alice-password-2', 'write', 'orders')).toBe(200);
    // a role taken away applies to the next request; a removed user is nobody
    state.replace(parse(edited(['users.alice.password', otherHash], ['users.alice.roles', ['orders-r']], ['users.bob', REMOVE])));
    expect(await check('alice', 'alice-password-2', 'write', 'orders')).toBe(403);
    expect(await check('bob', 'alice-password-1', 'read', 'orders')).toBe(401);
    state.replace(parse({ ...good(), enabled: false }));
    expect(auth.enabled).toBe(false);
  });
});
