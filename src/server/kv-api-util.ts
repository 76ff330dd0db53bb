// Pieces the KV routes share (api.ts and kv-routes.ts): strict parsing of revisions and flags in
// query strings, the store's error results turned into HTTP errors with stable codes, and
// authorization of requests that name several keys or ranges at once (txn, range delete, watch).
import { MAX_KEY_BYTES } from '../kv/index.js';
import { coversRange, ROOT, type Authenticator, type Principal } from './auth.js';
import { HttpError, type ApiRequest, type ApiResponse } from './http.js';

/** A revision in a query string (`?revision=N`): a whole number >= 0, nothing else. */
export function revisionParam(query: URLSearchParams, name: string): number | undefined {
  const text = query.get(name);
  if (text === null) return undefined;
  const value = /^\d{1,16}$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value)) throw new HttpError(400, 'BAD_REVISION', `"${name}" must be a whole number >= 0, not ${JSON.stringify(text.slice(0, 40))}`);
  return value;
}

/** `?revision=N` for get and range: read as of revision N (0 or absent: now). */
export function revisionOf(req: ApiRequest): { revision?: number } {
  const revision = revisionParam(req.query, 'revision');
  return revision === undefined || revision === 0 ? {} : { revision };
}

/** A boolean flag in a query string: "true" or "false" only (a typo is refused, never read as false). */
export function flagParam(query: URLSearchParams, name: string): boolean {
  const text = query.get(name);
  if (text === null || text === 'false') return false;
  if (text === 'true') return true;
  throw new HttpError(400, 'BAD_REQUEST', `"${name}" must be true or false, not ${JSON.stringify(text.slice(0, 40))}`);
}

/** A key bound (`end`, `prefix`) within the key size limit; Buffer.byteLength counts a lone surrogate as 3, as the store does. */
export function boundParam(text: string, name: string): string {
  const bytes = Buffer.byteLength(text);
  if (bytes > MAX_KEY_BYTES) throw new HttpError(400, 'BAD_KEY', `"${name}" may have at most ${MAX_KEY_BYTES} bytes in UTF-8, this one has ${bytes}`);
  return text;
}

type ErrorResult = { readonly revision?: number; readonly error?: unknown; readonly compactRevision?: unknown; readonly id?: unknown; readonly message?: unknown };

/**
 * A store result that refuses the request (a read below the compaction point, a revision not
 * reached, a lease that does not exist or one a txn grants that does) as an HTTP error; other answers pass unchanged. `asked`
 * is the revision the client named, for the message.
 */
export function checkResult(answer: ApiResponse, asked?: number): ApiResponse {
  if (answer.status !== 200 || typeof answer.body !== 'object' || answer.body === null) return answer;
  const result = (answer.body as { result?: ErrorResult }).result;
  if (result === undefined || result === null || typeof result.error !== 'string') return answer;
  const revision = typeof result.revision === 'number' ? result.revision : undefined;
  const named = asked === undefined ? 'the revision asked for' : `revision ${asked}`;
  switch (result.error) {
    case 'compacted': {
      const compactRevision = typeof result.compactRevision === 'number' ? result.compactRevision : undefined;
      throw new HttpError(410, 'COMPACTED', `${named} has been compacted away; the oldest revision kept is ${String(compactRevision)}`, { compactRevision, revision, safeToRetry: false });
    }
    case 'future-revision':
      // a lagging node (serializable read) may reach it soon: safe to ask again, here or elsewhere
      throw new HttpError(400, 'FUTURE_REVISION', `${named} is not reached yet (the current revision is ${String(revision)})`, { revision, safeToRetry: true });
    case 'lease-not-found':
      throw new HttpError(404, 'LEASE_NOT_FOUND', `lease ${String(result.id)} does not exist (it expired or was revoked); nothing was changed`, { id: result.id, revision, safeToRetry: false });
    case 'lease-exists':
      // a txn granting a lease with an id in use (ids chosen by clients): choose another and send again
      throw new HttpError(409, 'LEASE_EXISTS', `lease ${String(result.id)} exists already; nothing was changed`, { id: result.id, revision, safeToRetry: false });
    case 'bad-request':
      throw new HttpError(400, 'BAD_REQUEST', typeof result.message === 'string' ? result.message : 'bad request', { safeToRetry: false });
    default:
      return answer;
  }
}

/** A range a request names (as auth.ts's range checks take it). */
export interface NamedRange {
  readonly prefix?: string;
  readonly start?: string;
  readonly end?: string;
}

/** What a request needs of its caller: to read or write one key, or every key of a range. */
export type AccessCheck = { readonly key: string; readonly write: boolean } | { readonly range: NamedRange; readonly write: boolean };

/**
 * Refuses (403) unless the caller may do every check: for routes that name several keys or
 * ranges, which the router's per-route access cannot describe (the route itself asks for a user).
 * Nothing is asked while authentication is off.
 */
export function authorizeAll(auth: Authenticator, principal: Principal | null | undefined, checks: readonly AccessCheck[]): void {
  if (!auth.enabled || principal === undefined) return;
  if (principal === null || principal.kind === 'anonymous') throw new HttpError(401, 'UNAUTHENTICATED', 'authentication is on: send credentials', { safeToRetry: false });
  if (principal.roles.includes(ROOT)) return;
  const permissions = principal.roles.flatMap((r) => auth.role(r)?.permissions ?? []);
  for (const check of checks) {
    const usable = permissions.filter((p) => !check.write || p.access === 'readwrite');
    const ok = 'key' in check ? usable.some((p) => check.key.startsWith(p.prefix)) : usable.some((p) => coversRange(p.prefix, check.range));
    if (!ok) throw new HttpError(403, 'PERMISSION_DENIED', `${principal.name} may not ${check.write ? 'write' : 'read'} ${describe(check)}`, { safeToRetry: false });
  }
}

function describe(check: AccessCheck): string {
  if ('key' in check) return JSON.stringify(check.key.slice(0, 100));
  const r = check.range;
  if (r.prefix !== undefined) return `keys with prefix ${JSON.stringify(r.prefix.slice(0, 100))}`;
  return `keys from ${JSON.stringify((r.start ?? '').slice(0, 100))} to ${r.end === undefined ? 'the end' : JSON.stringify(r.end.slice(0, 100))}`;
}
