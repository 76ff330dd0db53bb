// HTTP plumbing for the node's client and admin API: a small router, JSON bodies with a size
// limit, and one error shape ({ error: { code, message } }) for every 4xx and 5xx answer.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Principal, RouteAccess } from './auth.js';
import { errorAnswer, jsonAnswer, type HttpAnswer, type HttpStream } from './http-server.js';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
    /** Extra response headers (e.g. WWW-Authenticate, Retry-After). */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export interface ApiRequest {
  readonly method: string;
  /** The decoded path, as matched. */
  readonly path: string;
  /** The request target as received (path and query, still percent-encoded), for forwarding unchanged. */
  readonly target: string;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  /** Header values by lower-case name. */
  readonly headers: ReadonlyMap<string, string>;
  /** The client's address (without port); '' when unknown. */
  readonly remoteAddress: string;
  /** The parsed JSON body; undefined when there was none. */
  readonly body: unknown;
  /** Who sent it, once authenticated (null: no credentials; undefined: not asked). */
  readonly principal?: Principal | null;
}

export interface ApiResponse {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  /** A body streamed as it is produced (a watch); `body` is then ignored. */
  readonly stream?: HttpStream;
}

export type Handler = (req: ApiRequest) => Promise<ApiResponse> | ApiResponse;

export interface RouteOptions {
  /** Query parameters the route understands; any other is refused (400), so a typo is never ignored silently. */
  readonly query?: readonly string[];
  /** Who may call it when authentication is on. Default 'root': a route that forgets to say is closed, not open. */
  readonly access?: RouteAccess;
}

interface Route {
  readonly method: string;
  readonly parts: readonly string[];
  readonly name: string;
  readonly handler: Handler;
  readonly query: ReadonlySet<string>;
  readonly access: RouteAccess;
}

/** Bodies nested deeper than this are refused before any handler sees them (stack-safe check). */
export const MAX_BODY_DEPTH = 100;

export class Router {
  private readonly routes: Route[] = [];

  add(method: string, pattern: string, handler: Handler, options: RouteOptions = {}): this {
    this.routes.push({ method, parts: pattern.split('/').filter(Boolean), name: pattern, handler, query: new Set(options.query ?? []), access: options.access ?? 'root' });
    return this;
  }

  /**
   * Finds the handler for a path; params are the percent-decoded segments named by ":name".
   * Paths are matched strictly: an empty segment ("//v1/kv/x", "/v1/kv/") matches no route, and
   * a segment that does not decode to UTF-8 text is refused (400 BAD_PATH).
   */
  match(method: string, path: string): { route: Route; params: Record<string, string> } | { allowed: string[] } | undefined {
    const segments = splitPath(path);
    if (segments === undefined) return undefined;
    const allowed: string[] = [];
    for (const route of this.routes) {
      const params = matchParts(route.parts, segments);
      if (params === undefined) continue;
      if (route.method === method) return { route, params };
      allowed.push(route.method);
    }
    return allowed.length > 0 ? { allowed } : undefined;
  }
}

/** The raw segments of an origin-form path; undefined when it has an empty segment. */
function splitPath(path: string): string[] | undefined {
  if (!path.startsWith('/')) return undefined;
  if (path === '/') return [];
  const segments = path.slice(1).split('/');
  return segments.includes('') ? undefined : segments;
}

/** Percent-decodes one path segment or query component; refuses bad escapes and bytes that are not UTF-8. */
export function decodeComponent(text: string, where: string): string {
  if (!text.includes('%')) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    throw new HttpError(400, where === 'path' ? 'BAD_PATH' : 'BAD_QUERY', `invalid percent-encoding in the ${where} (escapes must be %XX and decode to UTF-8 text): ${JSON.stringify(text.slice(0, 80))}`);
  }
}

function matchParts(parts: readonly string[], segments: readonly string[]): Record<string, string> | undefined {
  // a cheap pass over the fixed segments first: most routes fail here, before any decoding
  if (segments.length !== parts.length) return undefined;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as string;
    if (!part.startsWith(':') && part !== segments[i]) return undefined;
  }
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as string;
    if (part.startsWith(':')) params[part.slice(1)] = decodeComponent(segments[i] as string, 'path');
  }
  return params;
}

/** Reads a body, refusing more than `maxBytes` (413); undefined when there was none. */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > maxBytes) {
      req.resume();
      return reject(new HttpError(413, 'BODY_TOO_LARGE', `request body of ${declared} bytes exceeds the limit of ${maxBytes}`));
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        req.destroy();
        reject(new HttpError(413, 'BODY_TOO_LARGE', `request body exceeds the limit of ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', reject);
    req.on('end', () => resolve(size === 0 ? undefined : Buffer.concat(chunks, size)));
  });
}

function parseJsonBody(bytes: Buffer | undefined): unknown {
  if (bytes === undefined || bytes.length === 0) return undefined;
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    throw new HttpError(400, 'BAD_JSON', 'request body is not UTF-8 text');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, 'BAD_JSON', `request body is not valid JSON: ${(err as Error).message}`);
  }
  if (jsonDepthExceeds(value, MAX_BODY_DEPTH)) throw new HttpError(400, 'BAD_JSON', `request body is nested deeper than ${MAX_BODY_DEPTH} levels`);
  return value;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Whether `value` nests arrays and objects deeper than `maxDepth`; iterative, so any depth is safe to ask about. */
export function jsonDepthExceeds(value: unknown, maxDepth: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  // every value is pushed once: the loop is bounded by the size of the parsed body
  while (stack.length > 0) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (typeof v !== 'object' || v === null) continue;
    if (depth + 1 > maxDepth) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
  }
  return false;
}

export function errorBody(err: HttpError): unknown {
  return { error: { code: err.code, message: err.message, ...err.extra } };
}

/** What answerRequest needs of a request, from either server. */
export interface RawRequest {
  readonly method: string;
  readonly target: string;
  readonly headers: ReadonlyMap<string, string>;
  readonly remoteAddress: string;
  readonly body: Buffer | undefined;
  /** The common name of a client certificate the TLS server verified. */
  readonly clientCertName?: string;
}

/** A check that runs before routing (Host, Origin); throws an HttpError to refuse. */
export type RequestGuard = (request: RawRequest, path: string) => void;

/** Authenticates a routed request and checks it may use the route; throws an HttpError (401, 403, 429) to refuse. */
/** Resolves to the caller (null: none), or undefined when nothing was asked (authentication off). */
export type RequestAuthorizer = (access: RouteAccess, request: ApiRequest, raw: RawRequest) => Promise<Principal | null | undefined> | undefined;

export interface AnswerHooks {
  readonly guard?: RequestGuard;
  readonly authorize?: RequestAuthorizer;
}

/**
 * Answers one request through the router; every failure becomes a JSON error. Also returns the
 * matched route's pattern ("unmatched" if none), for metrics.
 */
export async function answerRequest(router: Router, request: RawRequest, onError: (err: unknown) => void, hooks: AnswerHooks = {}): Promise<{ answer: HttpAnswer; route: string }> {
  // HEAD is answered as GET; the server leaves the body out
  const method = request.method === 'HEAD' ? 'GET' : request.method;
  let route = 'unmatched';
  try {
    const url = splitTarget(request.target);
    hooks.guard?.(request, url.pathname);
    const found = router.match(method, url.pathname);
    if (found === undefined) throw new HttpError(404, 'NOT_FOUND', `no such endpoint: ${method} ${printable(url.pathname)}`);
    if ('allowed' in found) throw new HttpError(405, 'METHOD_NOT_ALLOWED', `${method} is not allowed on ${printable(url.pathname)} (allowed: ${found.allowed.join(', ')})`);
    route = found.route.name;
    for (const name of url.searchParams.keys()) {
      if (!found.route.query.has(name)) {
        const known = [...found.route.query];
        throw new HttpError(400, 'UNKNOWN_PARAMETER', `${route} takes no query parameter ${JSON.stringify(name.slice(0, 80))}${known.length > 0 ? ` (it takes: ${known.join(', ')})` : ''}`);
      }
    }
    const body = method === 'GET' ? undefined : parseJsonBody(request.body);
    const apiRequest: ApiRequest = { method, path: url.pathname, target: request.target, params: found.params, query: url.searchParams, headers: request.headers, remoteAddress: request.remoteAddress, body };
    const asked = hooks.authorize?.(found.route.access, apiRequest, request);
    const principal = asked === undefined ? undefined : await asked;
    const out = await found.route.handler(principal === undefined ? apiRequest : { ...apiRequest, principal });
    if (out.stream !== undefined) return { answer: { status: out.status, headers: { ...out.headers }, body: '', stream: out.stream }, route };
    if (typeof out.body === 'string') return { answer: { status: out.status, headers: { 'content-type': 'text/plain; version=0.0.4', ...out.headers }, body: out.body }, route };
    return { answer: jsonAnswer(out.status, out.body, out.headers), route };
  } catch (err) {
    if (err instanceof HttpError) return { answer: jsonAnswer(err.status, errorBody(err), err.headers), route };
    onError(err);
    return { answer: errorAnswer(500, 'INTERNAL', 'internal error'), route };
  }
}

/** Text from a request, cut short and with control characters escaped, for error messages. */
export function printable(text: string, maxChars = 200): string {
  // eslint-disable-next-line no-control-regex
  return text.slice(0, maxChars).replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Serves one request from Node's http server through the router (the supervisor's control API). */
export async function serve(router: Router, req: IncomingMessage, res: ServerResponse, maxBodyBytes: number, onError: (err: unknown) => void, guard?: RequestGuard): Promise<string> {
  const method = req.method ?? 'GET';
  let body: Buffer | undefined;
  try {
    body = method === 'GET' || method === 'HEAD' ? undefined : await readBody(req, maxBodyBytes);
  } catch (err) {
    if (err instanceof HttpError) writeAnswer(res, jsonAnswer(err.status, errorBody(err)));
    else onError(err); // the request broke off while its body arrived: nobody to answer
    return 'unmatched';
  }
  const headers = new Map<string, string>();
  for (const [name, value] of Object.entries(req.headers)) if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  const { answer, route } = await answerRequest(router, { method, target: req.url ?? '/', headers, remoteAddress: req.socket.remoteAddress ?? '', body }, onError, guard === undefined ? {} : { guard });
  writeAnswer(res, answer);
  return route;
}

function writeAnswer(res: ServerResponse, answer: HttpAnswer): void {
  // this server (the supervisor's) streams nothing: a stream is released, never started
  answer.stream?.abandon();
  if (res.headersSent) return;
  res.writeHead(answer.status, { ...answer.headers, 'content-length': Buffer.byteLength(answer.body) });
  res.end(answer.body);
}

const NO_QUERY = new URLSearchParams();

/**
 * The path and query of a request target ("/v1/kv/a?x=1"), without building a URL object: the
 * WHATWG parser costs more than the rest of routing, on every request, and it rewrites what it
 * parses ("%2e%2e" becomes "..", "//host/x" a host). Only origin-form targets are taken (the
 * absolute form is for proxies). The query is decoded strictly: a bad escape, bytes that are not
 * UTF-8, or a parameter given twice is refused with 400 rather than guessed at.
 */
export function splitTarget(target: string): { pathname: string; searchParams: URLSearchParams } {
  if (!target.startsWith('/')) throw new HttpError(400, 'BAD_PATH', 'the request target must be a path starting with "/"');
  const q = target.indexOf('?');
  const hash = target.indexOf('#');
  const end = hash < 0 ? target.length : hash;
  if (q < 0 || q > end) return { pathname: target.slice(0, end), searchParams: NO_QUERY };
  return { pathname: target.slice(0, q), searchParams: parseQuery(target.slice(q + 1, end)) };
}

function parseQuery(text: string): URLSearchParams {
  const params = new URLSearchParams();
  if (text === '') return params;
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = decodeComponent((eq < 0 ? pair : pair.slice(0, eq)).replaceAll('+', ' '), 'query');
    const value = eq < 0 ? '' : decodeComponent(pair.slice(eq + 1).replaceAll('+', ' '), 'query');
    if (params.has(name)) throw new HttpError(400, 'BAD_QUERY', `query parameter ${JSON.stringify(name.slice(0, 80))} is given more than once`);
    params.append(name, value);
  }
  return params;
}

/** Helpers for validating JSON bodies with clear 400s. */
export function expectObject(body: unknown, what: string): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'BAD_REQUEST', `${what}: expected a JSON object body`);
  return body as Record<string, unknown>;
}

export function expectString(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new HttpError(400, 'BAD_REQUEST', `"${field}" must be a non-empty string`);
  return value;
}
