// The leaderless store's users and roles, from a JSON file every node loads. The Raft KV keeps its
// users in its own replicated, linearizable store ("_synod/auth/"); the quorum store has no such
// place (a user record with siblings would be a security decision left to a merge), so each node
// reads the operator's file instead. The file is checked strictly when it is loaded — size,
// nesting, duplicate keys, unknown fields, names, password hashes, roles that do not exist — and
// refused with one line naming the problem. What it holds is served to the shared Authenticator
// (auth.ts) through an AuthStateReader, so passwords, tokens, client certificates, rate limits and
// prefix permissions work exactly as they do on the Raft KV.
//
// The format (docs/quorum.md, "Authentication"):
//   { "enabled": true,
//     "users": { "NAME": { "password": HASH | null, "roles": ["ROLE", "root", ...] } },
//     "roles": { "ROLE": { "permissions": [{ "prefix": "orders/", "access": "read" | "readwrite" }] } } }
// HASH is what `synod auth hash-password` prints; null is a user who logs in with a client
// certificate only.
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { AUTH_ENABLED_KEY, NAME_PATTERN, ROLE_PREFIX, ROOT, USER_PREFIX, type AuthStateReader, type PasswordHash, type Permission, type RoleRecord, type UserRecord } from './auth.js';

/** The largest file read: about 10,000 users with their hashes. */
export const MAX_AUTH_FILE_BYTES = 2 * 1024 * 1024;
export const MAX_AUTH_FILE_USERS = 10_000;
export const MAX_AUTH_FILE_ROLES = 1_000;
export const MAX_ROLES_PER_USER = 64;
export const MAX_PERMISSIONS_PER_ROLE = 256;
export const MAX_PREFIX_CHARS = 4096;
/** The format nests 6 levels deep (roles.ROLE.permissions[i].prefix); anything deeper is refused before it is parsed. */
const MAX_NESTING = 8;
/** scrypt parameters a hash may have: at least the cost hashPassword uses at N = 2^14, at most its memory (128·N·r bytes). */
const SCRYPT_MIN_N = 1 << 14;
const SCRYPT_MAX_MEMORY = 32 * 1024 * 1024;
const SCRYPT_MAX_P = 4;

/** A file that cannot be used: the node refuses to start (or, on a reload, keeps the file it had). */
export class AuthFileError extends Error {
  readonly code = 'AUTH_FILE_INVALID';

  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`auth file ${file}: ${problem}`);
    this.name = 'AuthFileError';
  }
}

/** A checked auth file. */
export interface AuthFileContents {
  readonly enabled: boolean;
  readonly users: ReadonlyMap<string, UserRecord>;
  readonly roles: ReadonlyMap<string, RoleRecord>;
  /** The first 16 hex digits of the SHA-256 of the file's bytes: nodes showing the same one loaded the same file. */
  readonly fingerprint: string;
  /** What is allowed but probably not meant (e.g. no user is root), for the log. */
  readonly warnings: readonly string[];
}

/** Reads and checks the auth file at `path` (at most MAX_AUTH_FILE_BYTES are read). */
export function loadAuthFile(path: string): AuthFileContents {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new AuthFileError(path, unreadable(err));
  }
  let bytes: Buffer;
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new AuthFileError(path, 'is not a regular file');
    if (stat.size > MAX_AUTH_FILE_BYTES) throw new AuthFileError(path, `is ${stat.size} bytes; an auth file may have at most ${MAX_AUTH_FILE_BYTES}`);
    // read at most one byte past the bound: a file that grows while it is read is still refused
    const buffer = Buffer.alloc(MAX_AUTH_FILE_BYTES + 1);
    let length = 0;
    for (;;) {
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
      if (length > MAX_AUTH_FILE_BYTES) throw new AuthFileError(path, `is more than ${MAX_AUTH_FILE_BYTES} bytes`);
    }
    bytes = buffer.subarray(0, length);
  } catch (err) {
    if (err instanceof AuthFileError) throw err;
    throw new AuthFileError(path, unreadable(err));
  } finally {
    closeSync(fd);
  }
  return parseAuthFile(bytes, path);
}

function unreadable(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'does not exist';
  if (code === 'EACCES' || code === 'EPERM') return 'cannot be read (permission denied)';
  if (code === 'EISDIR') return 'is not a regular file';
  return `cannot be read (${code ?? (err as Error).message})`;
}

/** Checks the bytes of an auth file; `file` names it in errors. */
export function parseAuthFile(bytes: Uint8Array, file: string): AuthFileContents {
  if (bytes.length > MAX_AUTH_FILE_BYTES) throw new AuthFileError(file, `is ${bytes.length} bytes; an auth file may have at most ${MAX_AUTH_FILE_BYTES}`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new AuthFileError(file, 'is not UTF-8 text');
  }
  // TextDecoder drops a leading byte order mark (editors on some systems write one)
  const fail = (problem: string): never => {
    throw new AuthFileError(file, problem);
  };
  if (text.trim() === '') fail('is empty');
  const depth = nestingOf(text);
  if (depth > MAX_NESTING) fail(`nests more than ${MAX_NESTING} levels deep (the format needs 6)`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    fail(`is not valid JSON (${jsonProblem(text, (err as Error).message)})`);
  }
  const contents = checkShape(raw, fail);
  const duplicate = firstDuplicateKey(text);
  if (duplicate !== undefined) fail(`${duplicate} appears twice (JSON would keep only the last one)`);
  return { ...contents, fingerprint: createHash('sha256').update(bytes).digest('hex').slice(0, 16) };
}

/** The deepest nesting of objects and arrays (outside strings); linear, without building anything. */
function nestingOf(text: string): number {
  let depth = 0;
  let deepest = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // skip a string (an unterminated one ends the scan: JSON.parse reports it)
      for (i++; i < text.length && text.charCodeAt(i) !== 0x22; i++) if (text.charCodeAt(i) === 0x5c) i++;
    } else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth > deepest) deepest = depth;
      if (deepest > MAX_NESTING) return deepest;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return deepest;
}

/** JSON.parse's complaint as line and column, without the piece of the file V8 quotes (it may be a hash). */
function jsonProblem(text: string, message: string): string {
  const at = /at position (\d+)/.exec(message);
  const what = message.replace(/,? ?"[\s\S]*"(\.\.\.)? is not valid JSON$/, '').replace(/ in JSON at position \d+.*$/, '').replace(/[^\x20-\x7e]/g, '?').slice(0, 120);
  if (at === null) return what;
  const position = Number(at[1]);
  const before = text.slice(0, position);
  const line = before.split('\n').length;
  return `${what} at line ${line}, column ${position - before.lastIndexOf('\n')}`;
}

/** A name as it may appear in an error: as it is when it is a valid name, else quoted and cut. */
function shown(name: string): string {
  return NAME_PATTERN.test(name) ? name : JSON.stringify(name.length > 64 ? `${name.slice(0, 64)}...` : name);
}

function typeOf(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Refuses fields other than `allowed` in `obj` (at `where`). */
function onlyFields(obj: Record<string, unknown>, allowed: readonly string[], where: string, fail: (problem: string) => never): void {
  for (const field of Object.keys(obj)) {
    if (!allowed.includes(field)) fail(`${where === '' ? '' : `${where}: `}unknown field ${shown(field)} (allowed: ${allowed.join(', ')})`);
  }
}

function checkShape(raw: unknown, fail: (problem: string) => never): Omit<AuthFileContents, 'fingerprint'> {
  if (!isObject(raw)) return fail(`must be a JSON object {"enabled", "users", "roles"}, not ${typeOf(raw)}`);
  onlyFields(raw, ['enabled', 'users', 'roles'], '', fail);
  const enabled = raw['enabled'];
  if (typeof enabled !== 'boolean') fail(`"enabled" must be true or false${enabled === undefined ? ' (it is missing)' : `, not ${typeOf(enabled)}`}`);
  const rawRoles = raw['roles'] ?? {};
  const rawUsers = raw['users'] ?? {};
  if (!isObject(rawRoles)) fail(`"roles" must be an object of role names, not ${typeOf(rawRoles)}`);
  if (!isObject(rawUsers)) fail(`"users" must be an object of user names, not ${typeOf(rawUsers)}`);

  const roleNames = Object.keys(rawRoles as Record<string, unknown>);
  if (roleNames.length > MAX_AUTH_FILE_ROLES) fail(`has ${roleNames.length} roles; at most ${MAX_AUTH_FILE_ROLES}`);
  const roles = new Map<string, RoleRecord>();
  for (const name of roleNames) {
    const where = `roles.${shown(name)}`;
    if (!NAME_PATTERN.test(name)) fail(`role name ${shown(name)}: names have 1 to 64 characters from A-Z a-z 0-9 _ . @ -`);
    if (name === ROOT) fail('roles.root: the root role is built in (it may do everything); give users the role "root" without defining it');
    const role = (rawRoles as Record<string, unknown>)[name];
    if (!isObject(role)) fail(`${where} must be an object {"permissions": [...]}, not ${typeOf(role)}`);
    onlyFields(role as Record<string, unknown>, ['permissions'], where, fail);
    roles.set(name, { permissions: permissionsOf((role as Record<string, unknown>)['permissions'], `${where}.permissions`, fail) });
  }

  const userNames = Object.keys(rawUsers as Record<string, unknown>);
  if (userNames.length > MAX_AUTH_FILE_USERS) fail(`has ${userNames.length} users; at most ${MAX_AUTH_FILE_USERS}`);
  const users = new Map<string, UserRecord>();
  for (const name of userNames) {
    const where = `users.${shown(name)}`;
    if (!NAME_PATTERN.test(name)) fail(`user name ${shown(name)}: names have 1 to 64 characters from A-Z a-z 0-9 _ . @ -`);
    const user = (rawUsers as Record<string, unknown>)[name];
    if (!isObject(user)) fail(`${where} must be an object {"password", "roles"}, not ${typeOf(user)}`);
    const u = user as Record<string, unknown>;
    onlyFields(u, ['password', 'roles'], where, fail);
    if (!('password' in u)) fail(`${where}.password is missing: a hash from \`synod auth hash-password\`, or null for a user who logs in with a client certificate only`);
    const password = u['password'] === null ? null : passwordHashOf(u['password'], `${where}.password`, fail);
    const userRoles = u['roles'];
    if (!Array.isArray(userRoles)) fail(`${where}.roles must be a list of role names${userRoles === undefined ? ' (it is missing; [] for none)' : `, not ${typeOf(userRoles)}`}`);
    const list = userRoles as unknown[];
    if (list.length > MAX_ROLES_PER_USER) fail(`${where}.roles has ${list.length} roles; at most ${MAX_ROLES_PER_USER}`);
    const seen = new Set<string>();
    list.forEach((role, i) => {
      if (typeof role !== 'string') fail(`${where}.roles[${i}] must be a role name, not ${typeOf(role)}`);
      const r = role as string;
      if (r !== ROOT && !roles.has(r)) fail(`${where}.roles[${i}]: there is no role ${shown(r)} in "roles"`);
      if (seen.has(r)) fail(`${where}.roles lists ${shown(r)} twice`);
      seen.add(r);
    });
    users.set(name, { password, roles: [...seen], passwordRevision: revisionOf(password) });
  }
  if (enabled === true && users.size === 0) fail('"enabled" is true but there are no users: every request would be refused');
  const warnings: string[] = [];
  if (enabled === true && ![...users.values()].some((u) => u.roles.includes(ROOT))) warnings.push('no user has the role "root": ring changes (synod dkv join|leave) and repair are refused until one does');
  return { enabled: enabled as boolean, users, roles, warnings };
}

function permissionsOf(value: unknown, where: string, fail: (problem: string) => never): Permission[] {
  if (!Array.isArray(value)) return fail(`${where} must be a list of {"prefix", "access"}${value === undefined ? ' (it is missing)' : `, not ${typeOf(value)}`}`);
  if (value.length > MAX_PERMISSIONS_PER_ROLE) fail(`${where} has ${value.length} entries; at most ${MAX_PERMISSIONS_PER_ROLE}`);
  return value.map((p: unknown, i) => {
    const at = `${where}[${i}]`;
    if (!isObject(p)) return fail(`${at} must be an object {"prefix", "access"}, not ${typeOf(p)}`);
    onlyFields(p, ['prefix', 'access'], at, fail);
    const prefix = p['prefix'];
    const access = p['access'];
    if (typeof prefix !== 'string') return fail(`${at}.prefix must be a string ("orders/" for the bucket orders, "" for every key), not ${typeOf(prefix)}`);
    if (prefix.length > MAX_PREFIX_CHARS) return fail(`${at}.prefix has ${prefix.length} characters; at most ${MAX_PREFIX_CHARS}`);
    if (access !== 'read' && access !== 'readwrite') return fail(`${at}.access must be "read" or "readwrite"`);
    return { prefix, access };
  });
}

/** A hash as hashPassword makes it: scrypt, sane cost, canonical base64 salt (16-64 bytes) and hash (32-64 bytes). */
function passwordHashOf(value: unknown, where: string, fail: (problem: string) => never): PasswordHash {
  if (!isObject(value)) return fail(`${where} must be a hash from \`synod auth hash-password\` (an object) or null, not ${typeOf(value)}`);
  onlyFields(value, ['alg', 'N', 'r', 'p', 'salt', 'hash'], where, fail);
  const { alg, N, r, p, salt, hash } = value;
  if (alg !== 'scrypt') fail(`${where}.alg must be "scrypt"`);
  if (typeof N !== 'number' || !Number.isSafeInteger(N) || N < SCRYPT_MIN_N || (N & (N - 1)) !== 0) fail(`${where}.N must be a power of two of at least ${SCRYPT_MIN_N}`);
  if (typeof r !== 'number' || !Number.isSafeInteger(r) || r < 1) fail(`${where}.r must be a whole number >= 1`);
  if (128 * (N as number) * (r as number) > SCRYPT_MAX_MEMORY) fail(`${where}: N and r ask for more than ${SCRYPT_MAX_MEMORY / 1024 / 1024} MiB per check (128·N·r bytes)`);
  if (typeof p !== 'number' || !Number.isSafeInteger(p) || p < 1 || p > SCRYPT_MAX_P) fail(`${where}.p must be a whole number from 1 to ${SCRYPT_MAX_P}`);
  const bytesOf = (field: string, text: unknown, min: number, max: number): void => {
    const decoded = typeof text === 'string' && text.length <= 128 ? Buffer.from(text, 'base64') : undefined;
    // canonical base64 only: Buffer.from skips what it does not understand, so "a hash" of junk would decode to something
    if (decoded === undefined || decoded.toString('base64') !== text || decoded.length < min || decoded.length > max) fail(`${where}.${field} must be base64 of ${min} to ${max} bytes`);
  };
  bytesOf('salt', salt, 16, 64);
  bytesOf('hash', hash, 32, 64);
  return { alg: 'scrypt', N: N as number, r: r as number, p: p as number, salt: salt as string, hash: hash as string };
}

/**
 * The user's password revision, from its hash: the same on every node that loaded the same hash,
 * and different once the password changes, so tokens issued for the old password stop working.
 */
function revisionOf(password: PasswordHash | null): number {
  if (password === null) return 0;
  return parseInt(createHash('sha256').update(`${password.salt}:${password.hash}`).digest('hex').slice(0, 12), 16);
}

/**
 * The first key that appears twice in one object, as a path ("users.alice"); the text is valid
 * JSON nested at most MAX_NESTING levels (checked before). JSON.parse keeps the last of two
 * equal keys, so a user written twice would silently lose the first entry.
 */
function firstDuplicateKey(text: string): string | undefined {
  // per open container: the keys seen (objects) or undefined (arrays), and the path to it
  const stack: { keys: Set<string> | undefined; path: string }[] = [];
  let expectKey = false;
  let lastKey = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      let j = i + 1;
      while (text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c ? 2 : 1;
      if (expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        const top = stack[stack.length - 1] as { keys: Set<string>; path: string };
        const path = top.path === '' ? shown(key) : `${top.path}.${shown(key)}`;
        if (top.keys.has(key)) return path === shown(key) ? `the field ${path}` : path;
        top.keys.add(key);
        lastKey = path;
        expectKey = false;
      }
      i = j;
    } else if (c === 0x7b || c === 0x5b) {
      const parent = stack[stack.length - 1];
      const path = parent === undefined ? '' : parent.keys === undefined ? `${parent.path}[]` : lastKey;
      stack.push({ keys: c === 0x7b ? new Set() : undefined, path });
      expectKey = c === 0x7b;
    } else if (c === 0x7d || c === 0x5d) {
      stack.pop();
      expectKey = false;
    } else if (c === 0x2c) {
      expectKey = stack[stack.length - 1]?.keys !== undefined;
    }
  }
  return undefined;
}

/**
 * The auth file as the Authenticator reads its state: the flag, users and roles under the keys
 * the Raft KV keeps them at. `replace` swaps in a newly loaded file at once (a reload).
 */
export class AuthFileState implements AuthStateReader {
  constructor(private contents: AuthFileContents) {}

  get current(): AuthFileContents {
    return this.contents;
  }

  replace(contents: AuthFileContents): void {
    this.contents = contents;
  }

  get(key: string): unknown {
    if (key === AUTH_ENABLED_KEY) return this.contents.enabled;
    if (key.startsWith(USER_PREFIX)) return this.contents.users.get(key.slice(USER_PREFIX.length)) ?? null;
    if (key.startsWith(ROLE_PREFIX)) return this.contents.roles.get(key.slice(ROLE_PREFIX.length)) ?? null;
    return null;
  }
}

/** The state of a node without an auth file: authentication off, nobody known. */
export const NO_AUTH_FILE: AuthFileContents = { enabled: false, users: new Map(), roles: new Map(), fingerprint: '', warnings: [] };
