// Fuzzing the leaderless store's auth file loader, bounded: mutations of a valid file's bytes
// (flips, cuts, spliced JSON punctuation, duplicated pieces) and random files shaped like the
// format with anything in any place. Properties: the loader either loads or refuses with a one-line
// AuthFileError, never another error; whatever it loads is consistent (names valid, every role a
// user has exists or is root, every hash canonical). Runs: fuzzParameters (npm run fuzz runs many more).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fuzzParameters, fuzzTimeoutMs, shortReport } from '../../test/fuzz-runs.js';
import { NAME_PATTERN, ROOT } from './auth.js';
import { AuthFileError, parseAuthFile, type AuthFileContents } from './auth-file.js';

const HASH = { alg: 'scrypt', N: 32768, r: 8, p: 1, salt: Buffer.alloc(16, 7).toString('base64'), hash: Buffer.alloc(32, 9).toString('base64') };
const GOOD = Buffer.from(JSON.stringify({
  enabled: true,
  users: { root: { password: HASH, roles: ['root'] }, alice: { password: HASH, roles: ['rw', 'r'] }, carol: { password: null, roles: [] } },
  roles: { rw: { permissions: [{ prefix: 'orders/', access: 'readwrite' }] }, r: { permissions: [{ prefix: '', access: 'read' }] } },
}));

/** Loads `bytes`; any error but a one-line AuthFileError fails the property. */
function load(bytes: Uint8Array): AuthFileContents | undefined {
  try {
    return parseAuthFile(bytes, 'fuzz.json');
  } catch (err) {
    if (!(err instanceof AuthFileError)) throw err;
    expect(err.message).not.toContain('\n');
    return undefined;
  }
}

function consistent(c: AuthFileContents): void {
  for (const [name, user] of c.users) {
    expect(name).toMatch(NAME_PATTERN);
    for (const role of user.roles) expect(role === ROOT || c.roles.has(role), `${name}: ${role}`).toBe(true);
    expect(new Set(user.roles).size).toBe(user.roles.length);
    if (user.password !== null) expect(Buffer.from(user.password.hash, 'base64').toString('base64')).toBe(user.password.hash);
    expect(Number.isSafeInteger(user.passwordRevision)).toBe(true);
  }
  for (const [name, role] of c.roles) {
    expect(name).toMatch(NAME_PATTERN);
    for (const p of role.permissions) expect(['read', 'readwrite']).toContain(p.access);
  }
}

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bits: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('splice' as const), at: fc.nat(), text: fc.constantFrom('{', '}', '[', ']', '"', ':', ',', '\\', '"users":{}', '"x":1', '{"a":', 'null', '\u0000', '\ud800') }),
  fc.record({ kind: fc.constant('repeat' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 80 }), times: fc.integer({ min: 2, max: 2000 }) }),
);

type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(bytes: Buffer, m: Mutation): Buffer {
  const at = bytes.length === 0 ? 0 : m.at % bytes.length;
  switch (m.kind) {
    case 'flip': {
      const out = Buffer.from(bytes);
      out[at] = (out[at] as number) ^ m.bits;
      return out;
    }
    case 'cut':
      return bytes.subarray(0, at);
    case 'splice':
      return Buffer.concat([bytes.subarray(0, at), Buffer.from(m.text), bytes.subarray(at)]);
    case 'repeat': {
      const piece = bytes.subarray(at, at + m.length);
      return Buffer.concat([bytes.subarray(0, at), ...Array.from({ length: m.times }, () => piece), bytes.subarray(at + m.length)]);
    }
  }
}

/** Any JSON, small, often one of the format's own words. */
const junk: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', maxDepth: 4 },
    fc.constantFrom(null, true, false, 0, 32768, -1, 1.5, '', 'scrypt', 'read', 'readwrite', 'root', 'rw', HASH.salt, 'orders/'),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom('enabled', 'users', 'roles', 'password', 'permissions', 'prefix', 'access', 'x'), tie('value'), { maxKeys: 3 }),
  ),
})).value;
const name = fc.oneof(fc.constantFrom('root', 'rw', 'r', 'alice', '__proto__', 'constructor', '', 'a b', 'x'.repeat(65)), fc.string({ maxLength: 8 }));
/** A hash with any of its fields replaced or dropped, or an extra one. */
const hashLike = fc.record({ alg: fc.oneof(fc.constant('scrypt'), junk), N: fc.oneof(fc.constantFrom(16384, 32768, 65536, 2 ** 20, 2 ** 40, 1000), junk), r: fc.oneof(fc.constantFrom(1, 8, 64, 0), junk), p: fc.oneof(fc.constantFrom(1, 4, 5), junk), salt: fc.oneof(fc.constant(HASH.salt), fc.base64String({ maxLength: 100 }), junk), hash: fc.oneof(fc.constant(HASH.hash), fc.base64String({ maxLength: 100 }), junk), extra: junk }, { requiredKeys: [] });
const user = fc.oneof(junk, fc.record({ password: fc.oneof(fc.constant(HASH), fc.constant(null), hashLike, junk), roles: fc.oneof(fc.array(fc.oneof(name, junk), { maxLength: 4 }), junk), extra: junk }, { requiredKeys: [] }));
const permission = fc.oneof(junk, fc.record({ prefix: fc.oneof(fc.string({ maxLength: 10 }), junk), access: fc.oneof(fc.constantFrom('read', 'readwrite', 'write'), junk), extra: junk }, { requiredKeys: [] }));
const role = fc.oneof(junk, fc.record({ permissions: fc.oneof(fc.array(permission, { maxLength: 4 }), junk), extra: junk }, { requiredKeys: [] }));
/** Files shaped like the format, with anything anywhere, so that random files get deep into the checks. */
const anyShape = fc.record({ enabled: fc.oneof(fc.boolean(), junk), users: fc.oneof(fc.dictionary(name, user, { maxKeys: 5 }), junk), roles: fc.oneof(fc.dictionary(name, role, { maxKeys: 4 }), junk), extra: junk }, { requiredKeys: [] });
/** Files that follow the format (roles defined before users name them), so that some random files load whatever the seed. */
const wellFormed = fc
  .dictionary(fc.constantFrom('ops', 'reader', 'writer'), fc.record({ permissions: fc.array(fc.record({ prefix: fc.constantFrom('orders/', 'b/', 'b/k'), access: fc.constantFrom('read', 'readwrite') }), { maxLength: 3 }) }), { maxKeys: 3 })
  .chain((roles) =>
    fc.record({
      enabled: fc.boolean(),
      roles: fc.constant(roles),
      users: fc.dictionary(fc.constantFrom('alice', 'bob', 'carol'), fc.record({ password: fc.constantFrom(HASH, null), roles: fc.uniqueArray(fc.constantFrom('root', ...Object.keys(roles)), { maxLength: 2 }) }), { minKeys: 1, maxKeys: 3 }),
    }),
  );
const fileLike = fc.oneof(anyShape, wellFormed);

describe('auth file loader fuzz', () => {
  it('mutated files load consistently or are refused with one line', () => {
    const details = fc.check(fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (mutations) => {
      const bytes = mutations.reduce<Buffer>((b, m) => mutate(b, m), GOOD);
      const c = load(bytes);
      if (c !== undefined) consistent(c);
    }), fuzzParameters(400));
    shortReport(details);
    expect(details.failed).toBe(false);
  }, fuzzTimeoutMs(60_000));

  it('random files shaped like the format load consistently or are refused with one line', () => {
    let loaded = 0;
    const details = fc.check(fc.property(fileLike, (file) => {
      const c = load(Buffer.from(JSON.stringify(file)));
      if (c === undefined) return;
      consistent(c);
      loaded++;
    }), fuzzParameters(1000));
    shortReport(details);
    expect(details.failed).toBe(false);
    // not only refusals: some random files are valid and get checked for consistency
    expect(loaded).toBeGreaterThan(0);
  }, fuzzTimeoutMs(60_000));
});
