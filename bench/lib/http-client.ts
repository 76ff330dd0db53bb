// The load generators' HTTP/1.1 client: the client library's lean one (src/client/http1.ts) with a
// JSON body in and the answer's text out. Node's http client spends about 200 us of CPU per request
// on this machine, as much as a whole Synod node; on 2 cores shared with the servers that would
// measure the client, not them.
import { Http1Client } from '../../src/client/http1.js';

export interface HttpReply {
  readonly status: number;
  readonly body: string;
}

/** Connections per server: more than any benchmark keeps in flight, so none waits for one. */
const MAX_CONNECTIONS = 4096;
/** A request unanswered this long fails the run rather than hang it. */
const REQUEST_TIMEOUT_MS = 120_000;

/** A pool of keep-alive connections to one server, one request in flight on each. */
export class LeanHttpClient {
  // idle connections reused for 3 s at most: etcd's gateway says nothing of its idle timeout
  private readonly client = new Http1Client({ maxSockets: MAX_CONNECTIONS, idleReuseMs: 3000 });

  constructor(private readonly baseUrl: string) {}

  /** Sends a request; rejects on a transport failure or a status of 300 or more. */
  async send(method: string, path: string, json?: unknown): Promise<HttpReply> {
    const headers: Record<string, string> = json === undefined ? {} : { 'content-type': 'application/json' };
    const reply = await this.client.request(this.baseUrl, { method, path, headers, timeoutMs: REQUEST_TIMEOUT_MS, ...(json === undefined ? {} : { body: JSON.stringify(json) }) });
    const body = reply.body.toString('utf8');
    if (reply.status >= 300) throw new Error(`${method} ${path}: HTTP ${reply.status}: ${body.slice(0, 200)}`);
    return { status: reply.status, body };
  }

  close(): void {
    this.client.close();
  }
}
