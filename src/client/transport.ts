// HTTP(S) to one node of the API for the client library: JSON requests and once-watches over
// keep-alive connections of our lean HTTP/1.1 client (http1.ts, a pool for each), and other watch
// streams through Node's http client, each on a connection of its own.
// Paths are sent as built, never re-parsed as URLs (a key ".." stays a key); TLS failures are
// described as the CLI describes them.
import { request as httpRequest, type ClientRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { describeRequestError } from '../supervisor/node-client.js';
import { Http1Client, type Http1Failure, type Http1Reply } from './http1.js';

/** TLS to the nodes: the CA to trust, and a client certificate for nodes that ask for one. */
export interface ClientTls {
  readonly ca?: string | Buffer | readonly (string | Buffer)[];
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
}

export interface TransportOptions {
  readonly tls?: ClientTls;
  /** Sent with every request (e.g. `authorization`). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Connections kept per node. Default 64. */
  readonly maxSockets?: number;
}

/** A streamed answer (a watch): its status, then its body as it arrives. */
export interface StreamedAnswer extends AsyncIterable<Buffer> {
  readonly status: number;
  /** True once the whole body arrived. */
  readonly complete: boolean;
  /** Fails the body's iteration (and cuts the connection) after `ms` without data. */
  setIdleTimeout(ms: number): void;
  /** Cuts the connection unless the body is complete; safe to call more than once. */
  destroy(): void;
}

export interface Answer {
  readonly status: number;
  readonly body: unknown;
  readonly endpoint: string;
}

/** No answer came. `sent` is false when the request certainly never reached the node (it could not connect). */
export class RequestFailure extends Error {
  constructor(
    message: string,
    readonly sent: boolean,
  ) {
    super(message);
    this.name = 'RequestFailure';
  }
}

/** Times a stream is asked again when a pooled connection it was sent on turned out closed. */
const STALE_SOCKET_RETRIES = 2;

export class Transport {
  /** The JSON calls' connections (a lean HTTP/1.1 client of our own: see http1.ts). */
  private readonly calls: Http1Client;
  /**
   * Once-watches' connections, kept between them. Not the requests' pool: a watch holds its
   * connection until an event, and many waiting watches must not take the sockets (maxSockets)
   * that lease keep-alives and other calls need. Without a limit: one connection per watch open.
   */
  private readonly onceStreams: Http1Client;

  constructor(private readonly options: TransportOptions = {}) {
    const maxSockets = options.maxSockets ?? 64;
    const tls = options.tls ?? {};
    this.calls = new Http1Client({ maxSockets, tls: tlsFields(tls) });
    this.onceStreams = new Http1Client({ maxSockets: Number.POSITIVE_INFINITY, tls: tlsFields(tls) });
  }

  /** One JSON request to one node; resolves with any HTTP answer, rejects with RequestFailure when none came. */
  async request(endpoint: string, method: string, path: string, body: unknown, timeoutMs: number, signal?: AbortSignal): Promise<Answer> {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = { ...this.options.headers, accept: 'application/json' };
    if (data !== undefined) headers['content-type'] = 'application/json';
    let reply: Http1Reply;
    try {
      reply = await this.calls.request(endpoint, { method, path: `${basePath(endpoint)}${path}`, headers, timeoutMs, ...(data === undefined ? {} : { body: data }), ...(signal === undefined ? {} : { signal }) });
    } catch (err) {
      const failure = err as Http1Failure;
      throw requestFailure(failure, endpoint, failure.sent);
    }
    const text = reply.body.toString('utf8');
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: kept as text, and the caller says so
    }
    return { status: reply.status, body: parsed, endpoint };
  }

  /**
   * Opens a streamed GET (a watch); resolves with the answer once its head arrived (the caller
   * reads the body and destroys it when done). With `reuse` (a stream the node ends by itself) the
   * connection comes from, and goes back to, the once-watches' pool once the body came to its end;
   * otherwise it is a connection of its own.
   */
  async openStream(endpoint: string, path: string, timeoutMs: number, signal: AbortSignal, reuse = false): Promise<StreamedAnswer> {
    if (!reuse) return nodeStream(await this.openOwnStream(endpoint, path, timeoutMs, signal));
    const call = { method: 'GET', path: `${basePath(endpoint)}${path}`, headers: { ...this.options.headers, accept: 'application/x-ndjson' }, timeoutMs, signal };
    // bounded: a stale pooled connection fails at once, and each retry may take a fresh one
    for (let retries = 0; ; retries++) {
      try {
        return await this.onceStreams.stream(endpoint, call);
      } catch (err) {
        const failure = err as Http1Failure;
        // the node closed an idle pooled connection as it was reused: the request never reached it
        if (failure.staleConnection && retries < STALE_SOCKET_RETRIES && !signal.aborted) continue;
        throw requestFailure(failure, endpoint, true);
      }
    }
  }

  /** A stream on a connection of its own (Node's http client), cut when the caller is done. */
  private openOwnStream(endpoint: string, path: string, timeoutMs: number, signal: AbortSignal): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const { req, https } = this.open(endpoint, 'GET', path, { ...this.options.headers, accept: 'application/x-ndjson' });
      let settled = false;
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        req.destroy();
        reject(new RequestFailure(`no answer within ${timeoutMs} ms`, true));
      }, timeoutMs);
      const onAbort = (): void => void req.destroy(new Error('aborted'));
      signal.addEventListener('abort', onAbort, { once: true });
      req.on('close', () => signal.removeEventListener('abort', onAbort));
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(new RequestFailure(describeRequestError(err, https), true));
      });
      req.on('response', (res) => {
        if (settled) return void res.destroy();
        settled = true;
        clearTimeout(timer);
        resolve(res);
      });
      req.end();
    });
  }

  /** Closes idle connections; calls under way finish. */
  close(): void {
    this.calls.close();
    this.onceStreams.close();
  }

  private open(endpoint: string, method: string, path: string, headers: Record<string, string | number>): { req: ClientRequest; https: boolean } {
    const url = new URL(endpoint);
    const https = url.protocol === 'https:';
    const base: RequestOptions = {
      host: url.hostname,
      port: Number(url.port || (https ? 443 : 80)),
      method,
      path: `${url.pathname.replace(/\/$/, '')}${path}`,
      headers,
      agent: false,
    };
    return https ? { req: httpsRequest({ ...base, ...tlsFields(this.options.tls ?? {}) }), https } : { req: httpRequest(base), https };
  }
}

function tlsFields(tls: ClientTls): { ca?: string | Buffer | (string | Buffer)[]; cert?: string | Buffer; key?: string | Buffer } {
  return {
    ...(tls.ca === undefined ? {} : { ca: Array.isArray(tls.ca) ? [...(tls.ca as readonly (string | Buffer)[])] : (tls.ca as string | Buffer) }),
    ...(tls.cert === undefined || tls.key === undefined ? {} : { cert: tls.cert, key: tls.key }),
  };
}

/** The client's failure as the transport reports it: a socket's error described as the CLI describes it. */
function requestFailure(failure: Http1Failure, endpoint: string, sent: boolean): RequestFailure {
  const message = failure.socketError === undefined ? failure.message : describeRequestError(failure.socketError, endpoint.startsWith('https:'));
  return new RequestFailure(message, sent);
}

/** Node's answer as a StreamedAnswer. */
function nodeStream(res: IncomingMessage): StreamedAnswer {
  return {
    status: res.statusCode ?? 0,
    get complete(): boolean {
      return res.complete;
    },
    setIdleTimeout: (ms) => void res.setTimeout(ms, () => res.destroy(new Error(`nothing received for ${ms} ms`))),
    destroy: () => void res.destroy(),
    [Symbol.asyncIterator]: () => (res as AsyncIterable<Buffer>)[Symbol.asyncIterator](),
  };
}

/** The endpoint's own path, if any, that every request path goes under. */
function basePath(endpoint: string): string {
  const at = endpoint.indexOf('/', endpoint.indexOf('//') + 2);
  return at < 0 ? '' : new URL(endpoint).pathname.replace(/\/$/, '');
}
