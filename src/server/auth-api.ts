// The auth routes of the node API: log in for a token, who am I, switch authentication on and
// off, and manage users and roles (root only once authentication is on). Changes are replicated
// KV writes under "_synod/auth/", made on the leader with a compare-and-set on the record's
// version, so two operators editing one user cannot silently undo each other.
import type { JsonValue } from '../sim/index.js';
import type { RaftRequest } from '../raft/index.js';
import type { ApiBackend } from './api.js';
import { AUTH_ENABLED_KEY, hashPassword, MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS, NAME_PATTERN, ROLE_PREFIX, ROOT, USER_PREFIX, type Authenticator, type Permission, type RoleRecord, type UserRecord } from './auth.js';
import { FORWARDED_HEADER } from './forward.js';
import { expectObject, expectString, HttpError, type ApiRequest, type ApiResponse, type Router } from './http.js';

const MAX_ROLES_PER_USER = 64;
const MAX_PERMISSIONS_PER_ROLE = 256;

type LeaderWrite = (request: RaftRequest, req: ApiRequest) => Promise<ApiResponse>;

/**
 * Log in for a token (POST /v1/auth/token {name, password}) and who am I (GET /v1/auth/whoami):
 * public, over any service whose users an Authenticator knows (the Raft KV's replicated ones, the
 * leaderless store's auth file).
 */
export function addLoginRoutes(router: Router, auth: Authenticator): void {
  router
    .add('POST', '/v1/auth/token', async (req) => {
      const body = expectObject(req.body, 'token');
      const name = expectString(body['name'], 'name');
      const password = typeof body['password'] === 'string' ? body['password'] : '';
      return { status: 200, body: await auth.login(name, password, req.remoteAddress) };
    }, { access: 'public' })
    .add('GET', '/v1/auth/whoami', (req) => {
      const p = req.principal ?? null;
      return { status: 200, body: { authEnabled: auth.enabled, user: p?.kind === 'user' ? p.name : null, roles: p?.kind === 'user' ? p.roles : [], via: p?.kind === 'user' ? p.via : null } };
    }, { access: 'public' });
}

export function addAuthRoutes(router: Router, backend: ApiBackend, leaderWrite: LeaderWrite): void {
  const auth = backend.auth;
  const local = (key: string): { value: JsonValue; version: number } => {
    const r = backend.queryLocal({ op: 'get', key }) as { value?: JsonValue; version?: number };
    return { value: r.value ?? null, version: r.version ?? 0 };
  };
  const list = (prefix: string): { key: string; value: JsonValue }[] => ((backend.queryLocal({ op: 'range', prefix, limit: 100_000 }) as { items?: { key: string; value: JsonValue }[] }).items ?? []);

  /** Runs `change` on the leader (forwarding the request there otherwise): changes made elsewhere would race. */
  const onLeader = async (req: ApiRequest, change: () => Promise<ApiResponse>): Promise<ApiResponse> => {
    const leader = backend.status().leader;
    if (leader === backend.id) return change();
    if (leader === null) throw new HttpError(503, 'NO_LEADER', 'no leader is known right now; retry shortly', { safeToRetry: true });
    if (req.headers.has(FORWARDED_HEADER)) throw new HttpError(503, 'NOT_LEADER', 'forwarded to a node that is not the leader; retry', { leaderHint: leader, safeToRetry: true });
    return backend.forwarder.forward(req, leader, false, change);
  };
  /** Writes `value` (null deletes) at `key` if it still has `version`; 409 when someone changed it meanwhile. */
  const casWrite = async (req: ApiRequest, key: string, version: number, value: JsonValue): Promise<ApiResponse> => {
    const answer = await leaderWrite({ type: 'command', clientId: null, seq: 0, op: { op: 'casVersion', key, version, value } }, req);
    const result = (answer.body as { result?: { swapped?: boolean } }).result;
    if (answer.status === 200 && result?.swapped === false) throw new HttpError(409, 'CONFLICT', `${key.slice(AUTH_PREFIX_LENGTH)} was changed by someone else meanwhile; retry`, { safeToRetry: true });
    return answer;
  };

  addLoginRoutes(router, auth);
  router
    .add('POST', '/v1/auth/enable', (req) => onLeader(req, async () => {
      const root = auth.user(ROOT);
      if (root?.password == null || !root.roles.includes(ROOT)) throw new HttpError(400, 'NO_ROOT_USER', 'create the user "root" with a password and the root role first (synod user add root), so that someone can still administer the cluster');
      const current = local(AUTH_ENABLED_KEY);
      if (current.value === true) return { status: 200, body: { authEnabled: true } };
      await casWrite(req, AUTH_ENABLED_KEY, current.version, true);
      return { status: 200, body: { authEnabled: true } };
    }))
    .add('POST', '/v1/auth/disable', (req) => onLeader(req, async () => {
      const current = local(AUTH_ENABLED_KEY);
      if (current.value !== true) return { status: 200, body: { authEnabled: false } };
      await casWrite(req, AUTH_ENABLED_KEY, current.version, false);
      return { status: 200, body: { authEnabled: false } };
    }))
    .add('GET', '/v1/auth/users', () => ({
      status: 200,
      body: { users: list(USER_PREFIX).map(({ key, value }) => ({ name: key.slice(USER_PREFIX.length), roles: (value as unknown as UserRecord).roles, hasPassword: (value as unknown as UserRecord).password !== null })) },
    }))
    .add('PUT', '/v1/auth/users/:name', (req) => onLeader(req, async () => {
      const name = nameOf(req);
      const body = expectObject(req.body, 'user');
      const key = `${USER_PREFIX}${name}`;
      const current = local(key);
      const before = current.value as unknown as UserRecord | null;
      const roles = body['roles'] === undefined ? (before?.roles ?? []) : rolesOf(body['roles']);
      if (name === ROOT && !roles.includes(ROOT) && auth.enabled) throw new HttpError(400, 'BAD_REQUEST', 'the root user keeps the root role while authentication is on');
      let password = before?.password ?? null;
      let passwordRevision = before?.passwordRevision ?? 0;
      if (body['password'] !== undefined) {
        password = await hashPassword(passwordOf(body['password']));
        passwordRevision++;
      } else if (before === null && body['noPassword'] !== true) {
        throw new HttpError(400, 'BAD_REQUEST', 'a new user needs a "password" (or "noPassword": true for one that logs in with a client certificate only)');
      }
      const record: UserRecord = { password, roles, passwordRevision };
      await casWrite(req, key, current.version, record as unknown as JsonValue);
      return { status: 200, body: { name, roles, hasPassword: password !== null, created: before === null } };
    }))
    .add('DELETE', '/v1/auth/users/:name', (req) => onLeader(req, async () => {
      const name = nameOf(req);
      if (name === ROOT && auth.enabled) throw new HttpError(400, 'BAD_REQUEST', 'the root user cannot be removed while authentication is on');
      const key = `${USER_PREFIX}${name}`;
      const current = local(key);
      if (current.value === null) throw new HttpError(404, 'NO_SUCH_USER', `there is no user ${name}`);
      await casWrite(req, key, current.version, null);
      return { status: 200, body: { name, deleted: true } };
    }))
    .add('GET', '/v1/auth/roles', () => ({
      status: 200,
      body: { roles: list(ROLE_PREFIX).map(({ key, value }) => ({ name: key.slice(ROLE_PREFIX.length), permissions: (value as unknown as RoleRecord).permissions })) },
    }))
    .add('PUT', '/v1/auth/roles/:name', (req) => onLeader(req, async () => {
      const name = nameOf(req);
      if (name === ROOT) throw new HttpError(400, 'BAD_REQUEST', 'the root role is built in: it may do everything');
      const permissions = permissionsOf(expectObject(req.body, 'role')['permissions']);
      const key = `${ROLE_PREFIX}${name}`;
      await casWrite(req, key, local(key).version, { permissions } as unknown as JsonValue);
      return { status: 200, body: { name, permissions } };
    }))
    .add('DELETE', '/v1/auth/roles/:name', (req) => onLeader(req, async () => {
      const name = nameOf(req);
      const key = `${ROLE_PREFIX}${name}`;
      const current = local(key);
      if (current.value === null) throw new HttpError(404, 'NO_SUCH_ROLE', `there is no role ${name}`);
      await casWrite(req, key, current.version, null);
      return { status: 200, body: { name, deleted: true } };
    }));
}

const AUTH_PREFIX_LENGTH = '_synod/auth/'.length;

function nameOf(req: ApiRequest): string {
  const name = req.params['name'] ?? '';
  if (!NAME_PATTERN.test(name)) throw new HttpError(400, 'BAD_NAME', 'names have 1 to 64 characters from A-Z a-z 0-9 _ . @ -');
  return name;
}

function passwordOf(value: unknown): string {
  if (typeof value !== 'string' || value.length < MIN_PASSWORD_CHARS || value.length > MAX_PASSWORD_CHARS) throw new HttpError(400, 'BAD_PASSWORD', `a password has ${MIN_PASSWORD_CHARS} to ${MAX_PASSWORD_CHARS} characters`);
  return value;
}

function rolesOf(value: unknown): string[] {
  if (!Array.isArray(value) || value.length > MAX_ROLES_PER_USER || !value.every((r) => typeof r === 'string' && NAME_PATTERN.test(r))) {
    throw new HttpError(400, 'BAD_REQUEST', `"roles" must be a list of at most ${MAX_ROLES_PER_USER} role names`);
  }
  return [...new Set(value as string[])];
}

function permissionsOf(value: unknown): Permission[] {
  if (!Array.isArray(value) || value.length > MAX_PERMISSIONS_PER_ROLE) throw new HttpError(400, 'BAD_REQUEST', `"permissions" must be a list of at most ${MAX_PERMISSIONS_PER_ROLE} {prefix, access} objects`);
  return value.map((p: unknown) => {
    const r = p as { prefix?: unknown; access?: unknown };
    if (typeof r !== 'object' || r === null || typeof r.prefix !== 'string' || r.prefix.length > 4096 || (r.access !== 'read' && r.access !== 'readwrite')) {
      throw new HttpError(400, 'BAD_REQUEST', 'each permission is {"prefix": "app/", "access": "read" | "readwrite"}');
    }
    if (r.prefix.startsWith('_synod/')) throw new HttpError(400, 'BAD_REQUEST', 'permissions cannot reach the cluster\'s own "_synod/" keys');
    return { prefix: r.prefix, access: r.access };
  });
}
