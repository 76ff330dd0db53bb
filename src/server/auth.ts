// Client authentication and authorization, shaped after etcd's: users with passwords (scrypt) or
// client certificates, roles granting read or read-write on key prefixes, a root role for
// everything else, switched on for a running cluster by a replicated flag. Users, roles and the
// flag live in the replicated KV under "_synod/auth/", so every node decides alike from its
// applied state. Tokens are HMACs under a key derived from the cluster secret (any node checks
// them); failed logins are rate-limited; passwords and tokens never reach a log.
import { createHash, createHmac, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { HttpError, type ApiRequest } from './http.js';

export const AUTH_PREFIX = '_synod/auth/';
export const AUTH_ENABLED_KEY = `${AUTH_PREFIX}enabled`;
export const USER_PREFIX = `${AUTH_PREFIX}users/`;
export const ROLE_PREFIX = `${AUTH_PREFIX}roles/`;
export const ROOT = 'root';

export type Access = 'read' | 'readwrite';

export interface Permission {
  readonly prefix: string;
  readonly access: Access;
}

export interface PasswordHash {
  readonly alg: 'scrypt';
  readonly N: number;
  readonly r: number;
  readonly p: number;
  readonly salt: string;
  readonly hash: string;
}

/** A user as stored (replicated) under _synod/auth/users/NAME. */
export interface UserRecord {
  readonly password: PasswordHash | null;
  readonly roles: readonly string[];
  /** Grows with every password change: tokens issued before it stop working. */
  readonly passwordRevision: number;
}

export interface RoleRecord {
  readonly permissions: readonly Permission[];
}

/** Who a request is from. `anonymous` only while auth is off. */
export type Principal = { readonly kind: 'anonymous' } | { readonly kind: 'user'; readonly name: string; readonly roles: readonly string[]; readonly via: 'password' | 'token' | 'certificate' };

/**
 * What a route needs of its caller. `{ key }` checks the permission on the route's `:key`
 * parameter, or on the key `keyOf` names (the leaderless store's routes: "BUCKET/KEY").
 */
export type RouteAccess = 'public' | 'user' | 'root' | { readonly key: 'read' | 'write'; readonly keyOf?: (req: Pick<ApiRequest, 'params'>) => string } | 'range';

/** Reads the auth state from this node's applied KV (never stale by more than replication lag). */
export interface AuthStateReader {
  get(key: string): unknown;
}

export const NAME_PATTERN = /^[A-Za-z0-9_.@-]{1,64}$/;
/** How long a password may be, in characters. */
export const MIN_PASSWORD_CHARS = 8;
export const MAX_PASSWORD_CHARS = 1024;
const SCRYPT = { N: 1 << 15, r: 8, p: 1, keyBytes: 32, maxmem: 64 * 1024 * 1024 };
const TOKEN_TTL_MS = 10 * 60_000;
/**
 * Failed logins allowed per user name, and per client address (higher: many users may share one
 * address behind a NAT; it stops one address from trying many names), before it must wait; the
 * wait doubles per further failure.
 */
const FREE_FAILURES_PER_USER = 5;
const FREE_FAILURES_PER_ADDRESS = 50;
const MAX_LOCKOUT_MS = 60_000;
const MAX_TRACKED_FAILURES = 10_000;
/** Successful password checks are remembered this long, so Basic auth does not cost a scrypt per request. */
const VERIFIED_CACHE_MS = 60_000;
const MAX_VERIFIED_CACHE = 10_000;

export function hashPassword(password: string): Promise<PasswordHash> {
  const salt = randomBytes(16);
  return new Promise((resolve, reject) => {
    scrypt(password, salt, SCRYPT.keyBytes, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p, maxmem: SCRYPT.maxmem }, (err, key) => {
      if (err !== null) return reject(err);
      resolve({ alg: 'scrypt', N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p, salt: salt.toString('base64'), hash: key.toString('base64') });
    });
  });
}

function verifyPassword(password: string, stored: PasswordHash): Promise<boolean> {
  const expected = Buffer.from(stored.hash, 'base64');
  return new Promise((resolve) => {
    scrypt(password, Buffer.from(stored.salt, 'base64'), expected.length, { N: stored.N, r: stored.r, p: stored.p, maxmem: SCRYPT.maxmem }, (err, key) => {
      resolve(err === null && key.length === expected.length && timingSafeEqual(key, expected));
    });
  });
}

/** Keeps failures per user name and per address; answers how long they must wait before trying again. */
class FailureLimiter {
  private readonly failures = new Map<string, { count: number; until: number }>();

  constructor(private readonly now: () => number) {}

  waitMs(keys: readonly string[]): number {
    const now = this.now();
    return Math.max(0, ...keys.map((k) => (this.failures.get(k)?.until ?? 0) - now));
  }

  fail(keys: readonly string[]): void {
    const now = this.now();
    for (const k of keys) {
      const f = this.failures.get(k) ?? { count: 0, until: 0 };
      f.count++;
      const free = k.startsWith('addr:') ? FREE_FAILURES_PER_ADDRESS : FREE_FAILURES_PER_USER;
      f.until = f.count > free ? now + Math.min(MAX_LOCKOUT_MS, 1000 * 2 ** Math.min(16, f.count - free - 1)) : 0;
      this.failures.delete(k);
      this.failures.set(k, f);
    }
    // bounded: the oldest entries go first (a flood of names cannot grow it without limit)
    while (this.failures.size > MAX_TRACKED_FAILURES) this.failures.delete(this.failures.keys().next().value as string);
  }

  /** A good password clears the user's count (not the address's: one success must not open a spraying address). */
  succeed(keys: readonly string[]): void {
    for (const k of keys) if (k.startsWith('user:')) this.failures.delete(k);
  }
}

export interface AuthOptions {
  readonly clusterSecret: string;
  readonly state: AuthStateReader;
  readonly now?: () => number;
  readonly tokenTtlMs?: number;
  /** Told of each refused login, for metrics (never with the password). */
  readonly onFailure?: (reason: string) => void;
}

export class Authenticator {
  private readonly tokenKey: Buffer;
  private readonly limiter: FailureLimiter;
  private readonly verified = new Map<string, number>();
  private readonly now: () => number;

  constructor(private readonly options: AuthOptions) {
    this.tokenKey = createHmac('sha256', options.clusterSecret).update('synod auth token key v1').digest();
    this.now = options.now ?? Date.now;
    this.limiter = new FailureLimiter(this.now);
  }

  get enabled(): boolean {
    return this.options.state.get(AUTH_ENABLED_KEY) === true;
  }

  user(name: string): UserRecord | undefined {
    if (!NAME_PATTERN.test(name)) return undefined;
    const raw = this.options.state.get(`${USER_PREFIX}${name}`);
    return isUserRecord(raw) ? raw : undefined;
  }

  role(name: string): RoleRecord | undefined {
    const raw = this.options.state.get(`${ROLE_PREFIX}${name}`);
    return typeof raw === 'object' && raw !== null && Array.isArray((raw as RoleRecord).permissions) ? (raw as RoleRecord) : undefined;
  }

  /** Checks a password (rate-limited per name and address) and returns a token. */
  async login(name: string, password: string, remoteAddress: string): Promise<{ token: string; expiresAt: string }> {
    await this.checkPassword(name, password, remoteAddress);
    const user = this.user(name) as UserRecord;
    const expires = this.now() + (this.options.tokenTtlMs ?? TOKEN_TTL_MS);
    return { token: this.mint(name, user.passwordRevision, expires), expiresAt: new Date(expires).toISOString() };
  }

  /** A short-lived token for a user this node has authenticated (for forwarding the request to the leader). */
  tokenFor(name: string): string {
    const user = this.user(name);
    if (user === undefined) throw unauthorized(`${name} is not a user`);
    return this.mint(name, user.passwordRevision, this.now() + 60_000);
  }

  /** Who sent `req`: from a token, a password (Basic) or a verified client certificate; null when it carries none. */
  async identify(req: Pick<ApiRequest, 'headers' | 'remoteAddress'> & { readonly clientCertName?: string }): Promise<Principal | null> {
    const header = req.headers.get('authorization');
    if (header !== undefined) {
      const [scheme, value] = header.split(/\s+/, 2) as [string, string | undefined];
      if (/^bearer$/i.test(scheme) && value !== undefined) return this.fromToken(value);
      if (/^basic$/i.test(scheme) && value !== undefined) {
        const decoded = Buffer.from(value, 'base64').toString('utf8');
        const colon = decoded.indexOf(':');
        if (colon < 0) throw unauthorized('malformed Basic credentials');
        const name = decoded.slice(0, colon);
        await this.checkPassword(name, decoded.slice(colon + 1), req.remoteAddress);
        return { kind: 'user', name, roles: (this.user(name) as UserRecord).roles, via: 'password' };
      }
      throw unauthorized('the Authorization header must be "Bearer TOKEN" or "Basic ..."');
    }
    if (req.clientCertName !== undefined) {
      const user = this.user(req.clientCertName);
      if (user === undefined) throw unauthorized(`the client certificate names "${req.clientCertName}", who is not a user here`);
      return { kind: 'user', name: req.clientCertName, roles: user.roles, via: 'certificate' };
    }
    return null;
  }

  /** Refuses `principal` unless it may do what `access` asks (401 without credentials, 403 without permission). */
  authorize(principal: Principal | null, access: RouteAccess, req: Pick<ApiRequest, 'params' | 'query'>): void {
    if (access === 'public' || !this.enabled) return;
    if (principal === null || principal.kind === 'anonymous') throw unauthorized('authentication is on: send credentials (synod --user NAME, or an Authorization header)');
    const roles = principal.roles;
    if (roles.includes(ROOT)) return;
    if (access === 'user') return;
    if (access === 'root') throw forbidden(`${principal.name} is not root`);
    const permissions = roles.flatMap((r) => this.role(r)?.permissions ?? []);
    if (access === 'range') {
      const wanted = rangeOfQuery(req.query);
      if (!permissions.some((p) => coversRange(p.prefix, wanted))) throw forbidden(`${principal.name} may not read ${describeRange(wanted)}`);
      return;
    }
    const key = access.keyOf?.(req) ?? req.params['key'] ?? '';
    const ok = permissions.some((p) => key.startsWith(p.prefix) && (access.key === 'read' || p.access === 'readwrite'));
    if (!ok) throw forbidden(`${principal.name} may not ${access.key} ${JSON.stringify(key.slice(0, 100))}`);
  }

  private async checkPassword(name: string, password: string, remoteAddress: string): Promise<void> {
    const keys = [`user:${name.slice(0, 64)}`, `addr:${remoteAddress}`];
    const waitMs = this.limiter.waitMs(keys);
    if (waitMs > 0) {
      this.options.onFailure?.('rate_limited');
      throw new HttpError(429, 'TOO_MANY_ATTEMPTS', `too many failed logins for this user or address; try again in ${Math.ceil(waitMs / 1000)} s`, { safeToRetry: true }, { 'retry-after': String(Math.ceil(waitMs / 1000)) });
    }
    const user = this.user(name);
    const cacheKey = createHash('sha256').update(`${name}\0${password}\0${user?.passwordRevision ?? -1}`).digest('base64');
    const cached = this.verified.get(cacheKey);
    if (user !== undefined && cached !== undefined && cached > this.now()) return;
    // a missing user costs a hash too, so a response time does not tell which names exist
    const ok = user?.password != null ? await verifyPassword(password, user.password) : (await hashPassword(password), false);
    if (!ok) {
      this.limiter.fail(keys);
      this.options.onFailure?.('bad_credentials');
      throw unauthorized('wrong user name or password');
    }
    this.limiter.succeed(keys);
    this.verified.set(cacheKey, this.now() + VERIFIED_CACHE_MS);
    while (this.verified.size > MAX_VERIFIED_CACHE) this.verified.delete(this.verified.keys().next().value as string);
  }

  private mint(name: string, revision: number, expiresAt: number): string {
    const payload = Buffer.from(JSON.stringify({ u: name, r: revision, e: expiresAt })).toString('base64url');
    return `${payload}.${createHmac('sha256', this.tokenKey).update(payload).digest('base64url')}`;
  }

  private fromToken(token: string): Principal {
    const dot = token.indexOf('.');
    const payload = token.slice(0, dot);
    const mac = Buffer.from(token.slice(dot + 1), 'base64url');
    const expected = createHmac('sha256', this.tokenKey).update(payload).digest();
    if (dot < 0 || mac.length !== expected.length || !timingSafeEqual(mac, expected)) throw unauthorized('invalid token');
    let claims: { u?: unknown; r?: unknown; e?: unknown };
    try {
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as typeof claims;
    } catch {
      throw unauthorized('invalid token');
    }
    if (typeof claims.u !== 'string' || typeof claims.r !== 'number' || typeof claims.e !== 'number') throw unauthorized('invalid token');
    if (claims.e <= this.now()) throw unauthorized('the token has expired; log in again');
    const user = this.user(claims.u);
    if (user === undefined || user.passwordRevision !== claims.r) throw unauthorized('the token is no longer valid (the user was removed or changed password)');
    return { kind: 'user', name: claims.u, roles: user.roles, via: 'token' };
  }
}

function isUserRecord(raw: unknown): raw is UserRecord {
  const u = raw as UserRecord;
  return typeof u === 'object' && u !== null && Array.isArray(u.roles) && typeof u.passwordRevision === 'number';
}

function unauthorized(message: string): HttpError {
  return new HttpError(401, 'UNAUTHENTICATED', message, { safeToRetry: false }, { 'www-authenticate': 'Basic realm="synod", charset="UTF-8"' });
}

function forbidden(message: string): HttpError {
  return new HttpError(403, 'PERMISSION_DENIED', message, { safeToRetry: false });
}

interface WantedRange {
  readonly prefix?: string;
  readonly start?: string;
  readonly end?: string;
}

function rangeOfQuery(q: URLSearchParams): WantedRange {
  return { ...(q.get('prefix') === null ? {} : { prefix: q.get('prefix') as string }), ...(q.get('start') === null ? {} : { start: q.get('start') as string }), ...(q.get('end') === null ? {} : { end: q.get('end') as string }) };
}

/** The first string after every string that starts with `prefix`; undefined for the empty prefix (no bound). */
function prefixEnd(prefix: string): string | undefined {
  for (let i = prefix.length - 1; i >= 0; i--) {
    const c = prefix.charCodeAt(i);
    if (c < 0xffff) return prefix.slice(0, i) + String.fromCharCode(c + 1);
  }
  return undefined;
}

/** Whether every key the range can return starts with `granted`. */
export function coversRange(granted: string, wanted: WantedRange): boolean {
  if (granted === '') return true;
  if (wanted.prefix !== undefined && wanted.prefix.startsWith(granted)) return true;
  const end = prefixEnd(granted);
  const start = wanted.start ?? wanted.prefix ?? '';
  const stop = wanted.end;
  return start >= granted && stop !== undefined && end !== undefined && stop <= end;
}

function describeRange(w: WantedRange): string {
  if (w.prefix !== undefined) return `keys with prefix ${JSON.stringify(w.prefix.slice(0, 100))}`;
  return `keys from ${JSON.stringify(w.start ?? '')} to ${w.end === undefined ? 'the end' : JSON.stringify(w.end)}`;
}
