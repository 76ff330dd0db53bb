// HTTP(S) to one node of the API for the client library: JSON requests over keep-alive agents
// (one TCP or TLS connection serves many calls), and watch streams on connections of their own
// (those the node ends by itself, once-watches, on a keep-alive pool of their own).
// Paths are sent as built, never re-parsed as URLs (a key ".." stays a key); TLS failures are
// described as the CLI describes them.
import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { describeRequestError } from '../supervisor/node-client.js';

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

/** How a request gets its connection: the requests' pool, the once-watches' pool, or a new one of its own. */
type Pool = 'requests' | 'streams' | 'none';

/** Times a stream is asked again when a pooled connection it was sent on turned out closed. */
const STALE_SOCKET_RETRIES = 2;

export class Transport {
  private readonly httpAgent: HttpAgent;
  private readonly httpsAgent: HttpsAgent;
  /**
   * Once-watches' connections, kept between them. Not the requests' pool: a watch holds its
   * connection until an event, and many waiting watches must not take the sockets (maxSockets)
   * that lease keep-alives and other calls need. Without a limit: one connection per watch open.
   */
  private readonly streamHttpAgent: HttpAgent;
  private readonly streamHttpsAgent: HttpsAgent;

  constructor(private readonly options: TransportOptions = {}) {
    const maxSockets = options.maxSockets ?? 64;
    const tls = options.tls ?? {};
    this.httpAgent = new HttpAgent({ keepAlive: true, maxSockets });
    this.httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets, ...tlsFields(tls) });
    this.streamHttpAgent = new HttpAgent({ keepAlive: true });
    this.streamHttpsAgent = new HttpsAgent({ keepAlive: true, ...tlsFields(tls) });
  }

  /** One JSON request to one node; resolves with any HTTP answer, rejects with RequestFailure when none came. */
  request(endpoint: string, method: string, path: string, body: unknown, timeoutMs: number, signal?: AbortSignal): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : JSON.stringify(body);
      const headers: Record<string, string | number> = { ...this.options.headers, accept: 'application/json' };
      if (data !== undefined) {
        headers['content-type'] = 'application/json';
        headers['content-length'] = Buffer.byteLength(data);
      }
      const { req, https } = this.open(endpoint, method, path, headers, 'requests');
      let connected = false;
      let settled = false;
      const fail = (message: string): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        reject(new RequestFailure(message, connected));
      };
      const timer = setTimeout(() => {
        fail(`no answer within ${timeoutMs} ms`);
        req.destroy();
      }, timeoutMs);
      const onAbort = (): void => {
        fail('aborted');
        req.destroy();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      req.on('socket', (socket) => {
        if (req.reusedSocket) connected = true;
        else socket.once(https ? 'secureConnect' : 'connect', () => (connected = true));
      });
      req.on('error', (err: NodeJS.ErrnoException) => fail(describeRequestError(err, https)));
      req.on('response', (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err: Error) => fail(err.message));
        res.on('end', () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // not JSON: kept as text, and the caller says so
          }
          resolve({ status: res.statusCode ?? 0, body: parsed, endpoint });
        });
      });
      if (data !== undefined) req.write(data);
      req.end();
    });
  }

  /**
   * Opens a streamed GET (a watch) on a connection of its own; resolves with the answer once its
   * head arrived (the caller reads the body and destroys it when done). With `reuse` (a stream
   * the node ends by itself) the connection comes from, and goes back to, the streams' pool once
   * the caller has read the body to its end.
   */
  async openStream(endpoint: string, path: string, timeoutMs: number, signal: AbortSignal, reuse = false): Promise<IncomingMessage> {
    // bounded: a stale pooled connection fails at once, and each retry may take a fresh one
    for (let retries = 0; ; retries++) {
      try {
        return await this.openStreamOnce(endpoint, path, timeoutMs, signal, reuse ? 'streams' : 'none');
      } catch (err) {
        // the node closed an idle pooled connection as it was reused: the request never reached it
        if (!(err instanceof StaleSocket)) throw err;
        if (retries >= STALE_SOCKET_RETRIES || signal.aborted) throw err.failure;
      }
    }
  }

  private openStreamOnce(endpoint: string, path: string, timeoutMs: number, signal: AbortSignal, pool: Pool): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const { req, https } = this.open(endpoint, 'GET', path, { ...this.options.headers, accept: 'application/x-ndjson' }, pool);
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
        const failure = new RequestFailure(describeRequestError(err, https), true);
        reject(req.reusedSocket && !signal.aborted ? new StaleSocket(failure) : failure);
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
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
    this.streamHttpAgent.destroy();
    this.streamHttpsAgent.destroy();
  }

  private open(endpoint: string, method: string, path: string, headers: Record<string, string | number>, pool: Pool): { req: ClientRequest; https: boolean } {
    const url = new URL(endpoint);
    const https = url.protocol === 'https:';
    const base: RequestOptions = {
      host: url.hostname,
      port: Number(url.port || (https ? 443 : 80)),
      method,
      path: `${url.pathname.replace(/\/$/, '')}${path}`,
      headers,
    };
    if (https) {
      // a stream that is not reused gets its own connection (agent: false) with the same trust
      const options = pool === 'none' ? { ...base, agent: false as const, ...tlsFields(this.options.tls ?? {}) } : { ...base, agent: pool === 'requests' ? this.httpsAgent : this.streamHttpsAgent };
      return { req: httpsRequest(options), https };
    }
    return { req: httpRequest(pool === 'none' ? { ...base, agent: false } : { ...base, agent: pool === 'requests' ? this.httpAgent : this.streamHttpAgent }), https };
  }
}

/** A stream's request failed on a pooled connection before any answer: worth sending again on another. */
class StaleSocket extends Error {
  constructor(readonly failure: RequestFailure) {
    super(failure.message);
  }
}

function tlsFields(tls: ClientTls): { ca?: string | Buffer | (string | Buffer)[]; cert?: string | Buffer; key?: string | Buffer } {
  return {
    ...(tls.ca === undefined ? {} : { ca: Array.isArray(tls.ca) ? [...(tls.ca as readonly (string | Buffer)[])] : (tls.ca as string | Buffer) }),
    ...(tls.cert === undefined || tls.key === undefined ? {} : { cert: tls.cert, key: tls.key }),
  };
}
