// A small HTTP(S) client for a node's API, used by the supervisor and the CLI: tries each endpoint
// in turn until one answers, trusts the cluster's CA for HTTPS and sends credentials when given;
// and opens a streamed answer (a watch) whose body the caller reads as it arrives.
// Paths are sent as built here, never re-parsed as URLs (which would turn the key ".." into a step up).
import { request as httpRequest, type ClientRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { SupervisorError } from './errors.js';

export interface ApiAnswer {
  readonly status: number;
  readonly body: unknown;
  readonly endpoint: string;
}

/** How to reach the nodes: TLS trust and client certificate, and headers (credentials) for every request. */
export interface ClientTls {
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

export interface CallOptions {
  readonly tls?: ClientTls;
  readonly headers?: Readonly<Record<string, string>>;
}

/** One path segment: percent-encoded, and "." or ".." spelled with escapes so that nothing reads them as steps. */
export function encodeSegment(text: string): string {
  const encoded = encodeURIComponent(text);
  return /^\.+$/.test(encoded) ? encoded.replaceAll('.', '%2E') : encoded;
}

/** Starts a request to `endpoint` with the cluster's TLS options; `onAnswer` gets the answer's head. */
function send(endpoint: string, method: string, path: string, body: string | undefined, timeoutMs: number | undefined, options: CallOptions, onAnswer: (res: IncomingMessage) => void): { req: ClientRequest; https: boolean } {
  const url = new URL(endpoint);
  const headers: Record<string, string | number> = { ...options.headers };
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = Buffer.byteLength(body);
  }
  const https = url.protocol === 'https:';
  const tls = options.tls ?? {};
  const requestOptions = { host: url.hostname, port: Number(url.port || (https ? 443 : 80)), method, path: `${url.pathname.replace(/\/$/, '')}${path}`, headers, ...(timeoutMs === undefined ? {} : { timeout: timeoutMs }) };
  const req = https ? httpsRequest({ ...requestOptions, ...(tls.ca === undefined ? {} : { ca: tls.ca }), ...(tls.cert === undefined ? {} : { cert: tls.cert, key: tls.key }) }, onAnswer) : httpRequest(requestOptions, onAnswer);
  return { req, https };
}

function once(endpoint: string, method: string, path: string, body: unknown, timeoutMs: number, options: CallOptions): Promise<ApiAnswer> {
  return new Promise((resolvePromise, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const onAnswer = (res: IncomingMessage): void => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          // metrics and other text answers stay text
        }
        resolvePromise({ status: res.statusCode ?? 0, body: parsed, endpoint });
      });
    };
    const { req, https } = send(endpoint, method, path, data, timeoutMs, options, onAnswer);
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err: NodeJS.ErrnoException) => reject(new Error(describeRequestError(err, https))));
    if (data !== undefined) req.write(data);
    req.end();
  });
}

/** A streamed answer: its head, and its body to read as it arrives (a watch's JSON lines). */
export interface StreamAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** The body, unread: pipe it, or read it as it comes; it ends when the node ends the answer. */
  readonly body: IncomingMessage;
  readonly endpoint: string;
  /** Ends the request now (the node sees its client leave); safe to call more than once. */
  close(): void;
}

/**
 * Sends a GET to one endpoint and resolves once the answer's head arrives, leaving its body to
 * the caller, unbuffered. `headTimeoutMs` bounds only the wait for the head: a stream may then
 * stay quiet for as long as its server likes. Fails (with a readable reason) when the endpoint
 * cannot be reached or sends no head in time.
 */
export function openStream(endpoint: string, path: string, headTimeoutMs: number, options: CallOptions = {}): Promise<StreamAnswer> {
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${headTimeoutMs} ms`)), headTimeoutMs);
    const { req, https } = send(endpoint, 'GET', path, undefined, undefined, options, (res) => {
      clearTimeout(timer);
      resolvePromise({ status: res.statusCode ?? 0, headers: res.headers, body: res, endpoint, close: () => void req.destroy() });
    });
    // after the head, errors belong to the body (its 'error' and 'close'): a settled promise ignores them
    req.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new Error(describeRequestError(err, https)));
    });
    req.end();
  });
}

/** One readable line for a failed request; TLS failures say what to do. */
export function describeRequestError(err: NodeJS.ErrnoException, https: boolean): string {
  const code = err.code ?? '';
  if (code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' || code === 'SELF_SIGNED_CERT_IN_CHAIN' || code === 'DEPTH_ZERO_SELF_SIGNED_CERT') {
    return `the server's certificate is not signed by a CA we trust (${code}); pass the cluster's CA with --cacert (npm start keeps it in synod-data/tls/ca.crt)`;
  }
  if (code === 'CERT_HAS_EXPIRED') return "the server's certificate has expired (CERT_HAS_EXPIRED)";
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return `the server's certificate is for another name (${err.message})`;
  if (code === 'ECONNRESET' && https) return `${err.message} (if the server asks for a client certificate, pass --cert and --key)`;
  if (code === 'EPROTO' && /wrong version number|packet length too long/i.test(err.message)) return `${err.message} (is this endpoint HTTPS? check http:// versus https://)`;
  return err.message;
}

/** Calls the first endpoint that answers at all (any HTTP status); fails when none does. */
export async function callApi(endpoints: readonly string[], method: string, path: string, body?: unknown, timeoutMs = 10_000, options: CallOptions = {}): Promise<ApiAnswer> {
  const failures: string[] = [];
  for (const endpoint of endpoints) {
    try {
      return await once(endpoint, method, path, body, timeoutMs, options);
    } catch (err) {
      failures.push(`${endpoint}: ${(err as Error).message}`);
    }
  }
  throw new SupervisorError('UNREACHABLE', `no endpoint answered (${failures.join('; ')})`, 1);
}

