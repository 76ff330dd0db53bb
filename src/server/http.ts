// HTTP plumbing for the node's client and admin API: a small router, JSON bodies with a size
// limit, and one error shape ({ error: { code, message } }) for every 4xx and 5xx answer.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorAnswer, jsonAnswer, type HttpAnswer } from './http-server.js';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export interface ApiRequest {
  readonly method: string;
  readonly path: string;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  /** The parsed JSON body; undefined when there was none. */
  readonly body: unknown;
}

export interface ApiResponse {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export type Handler = (req: ApiRequest) => Promise<ApiResponse> | ApiResponse;

interface Route {
  readonly method: string;
  readonly parts: readonly string[];
  readonly name: string;
  readonly handler: Handler;
}

export class Router {
  private readonly routes: Route[] = [];

  add(method: string, pattern: string, handler: Handler): this {
    this.routes.push({ method, parts: pattern.split('/').filter(Boolean), name: pattern, handler });
    return this;
  }

  /** Finds the handler for a path; params are URL-decoded segments named by ":name". */
  match(method: string, path: string): { route: Route; params: Record<string, string> } | { allowed: string[] } | undefined {
    const segments = path.split('/').filter(Boolean);
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

function matchParts(parts: readonly string[], segments: readonly string[]): Record<string, string> | undefined {
  // a cheap pass over the fixed segments first: most routes fail here, before any decoding
  const wildcard = parts[parts.length - 1] === '*';
  if (wildcard ? segments.length < parts.length - 1 : segments.length !== parts.length) return undefined;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as string;
    if (part !== '*' && !part.startsWith(':') && part !== segments[i]) return undefined;
  }
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as string;
    if (part === '*') {
      params['rest'] = segments.slice(i).map(decodeURIComponent).join('/');
      return params;
    }
    const segment = segments[i];
    if (segment === undefined) return undefined;
    if (part.startsWith(':')) params[part.slice(1)] = decodeURIComponent(segment);
    else if (part !== segment) return undefined;
  }
  return parts.length === segments.length ? params : undefined;
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
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new HttpError(400, 'BAD_JSON', `request body is not valid JSON: ${(err as Error).message}`);
  }
}

export function errorBody(err: HttpError): unknown {
  return { error: { code: err.code, message: err.message, ...err.extra } };
}

/**
 * Answers one request through the router; every failure becomes a JSON error. Also returns the
 * matched route's pattern ("unmatched" if none), for metrics.
 */
export async function answerRequest(router: Router, request: { method: string; target: string; body: Buffer | undefined }, onError: (err: unknown) => void): Promise<{ answer: HttpAnswer; route: string }> {
  const url = splitTarget(request.target);
  // HEAD is answered as GET; the server leaves the body out
  const method = request.method === 'HEAD' ? 'GET' : request.method;
  let route = 'unmatched';
  try {
    const found = router.match(method, url.pathname);
    if (found === undefined) throw new HttpError(404, 'NOT_FOUND', `no such endpoint: ${method} ${url.pathname}`);
    if ('allowed' in found) throw new HttpError(405, 'METHOD_NOT_ALLOWED', `${method} is not allowed on ${url.pathname} (allowed: ${found.allowed.join(', ')})`);
    route = found.route.name;
    const body = method === 'GET' ? undefined : parseJsonBody(request.body);
    const out = await found.route.handler({ method, path: url.pathname, params: found.params, query: url.searchParams, body });
    if (typeof out.body === 'string') return { answer: { status: out.status, headers: { 'content-type': 'text/plain; version=0.0.4', ...out.headers }, body: out.body }, route };
    return { answer: jsonAnswer(out.status, out.body, out.headers), route };
  } catch (err) {
    if (err instanceof HttpError) return { answer: jsonAnswer(err.status, errorBody(err)), route };
    onError(err);
    return { answer: errorAnswer(500, 'INTERNAL', 'internal error'), route };
  }
}

/** Serves one request from Node's http server through the router (the supervisor's control API). */
export async function serve(router: Router, req: IncomingMessage, res: ServerResponse, maxBodyBytes: number, onError: (err: unknown) => void): Promise<string> {
  const method = req.method ?? 'GET';
  let body: Buffer | undefined;
  try {
    body = method === 'GET' || method === 'HEAD' ? undefined : await readBody(req, maxBodyBytes);
  } catch (err) {
    if (err instanceof HttpError) writeAnswer(res, jsonAnswer(err.status, errorBody(err)));
    else onError(err); // the request broke off while its body arrived: nobody to answer
    return 'unmatched';
  }
  const { answer, route } = await answerRequest(router, { method, target: req.url ?? '/', body }, onError);
  writeAnswer(res, answer);
  return route;
}

function writeAnswer(res: ServerResponse, answer: HttpAnswer): void {
  if (res.headersSent) return;
  res.writeHead(answer.status, { ...answer.headers, 'content-length': Buffer.byteLength(answer.body) });
  res.end(answer.body);
}

const NO_QUERY = new URLSearchParams();

/**
 * The path and query of a request target ("/v1/kv/a?x=1"), without building a URL object: the
 * WHATWG parser costs more than the rest of routing, on every request. An absolute-form target
 * ("http://host/path") goes through URL.
 */
export function splitTarget(target: string): { pathname: string; searchParams: URLSearchParams } {
  if (!target.startsWith('/')) {
    const url = new URL(target, 'http://localhost');
    return { pathname: url.pathname, searchParams: url.searchParams };
  }
  const q = target.indexOf('?');
  const hash = target.indexOf('#');
  const end = hash < 0 ? target.length : hash;
  if (q < 0 || q > end) return { pathname: target.slice(0, end), searchParams: NO_QUERY };
  return { pathname: target.slice(0, q), searchParams: new URLSearchParams(target.slice(q + 1, end)) };
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
