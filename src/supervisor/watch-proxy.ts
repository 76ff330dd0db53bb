// GET /api/watch of the control server: a node's watch stream (GET /v1/watch, JSON lines),
// passed through to the dashboard as it arrives. The control server's router answers whole
// bodies only, so this is served beside it, as /api/events is. Only the query parameters the
// node's watch route takes are forwarded (each bounded); the stream is opened on one running
// node (the leader of the latest poll first, then the others: any node serves a watch from its
// applied state) with the caller's credentials, and its bytes are copied through with
// backpressure, never buffered whole. Either side leaving ends the other: a dashboard that
// disconnects closes the node's watcher; a node that ends its stream ends the dashboard's, and
// one whose stream is cut (killed) cuts the dashboard's too, so the page can tell the two apart
// (as a client of the node can) and resume from the revision after the last one it saw.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MAX_KEY_BYTES } from '../kv/index.js';
import { errorBody, HttpError, splitTarget } from '../server/http.js';
import { WATCH_QUERY } from '../server/kv-watch.js';
import { openStream, type ClientTls, type StreamAnswer } from './node-client.js';

/** Most watch streams the control server passes through at once (each holds a watcher on a node). */
export const MAX_PROXIED_WATCHES = 16;
/** How long a node may take to answer a watch's head before the next one is tried. */
const WATCH_HEAD_TIMEOUT_MS = 5000;
/** The longest value of a parameter that is not a key (a revision, a flag, an interval). */
const MAX_NUMBER_CHARS = 20;
const KEY_PARAMS: ReadonlySet<string> = new Set(['key', 'end', 'prefix']);
const KNOWN: ReadonlySet<string> = new Set(WATCH_QUERY);

export interface WatchProxyOptions {
  /** The running nodes to try, in order (the leader first when one is known). */
  order(): readonly string[];
  readonly endpoints: Readonly<Record<string, string>>;
  readonly tls: ClientTls;
}

/**
 * The query of a GET /api/watch target as the node's /v1/watch query ("" or "?a=b&..."), each
 * name one the node's route takes and each value bounded, re-encoded from the decoded values.
 * Throws a 400 HttpError saying what is wrong (the node checks the values themselves).
 */
export function watchQueryOf(target: string): string {
  const { searchParams } = splitTarget(target);
  const parts: string[] = [];
  for (const [name, value] of searchParams) {
    if (!KNOWN.has(name)) throw new HttpError(400, 'UNKNOWN_PARAMETER', `/api/watch takes no query parameter ${JSON.stringify(name.slice(0, 80))} (it takes: ${WATCH_QUERY.join(', ')})`);
    if (KEY_PARAMS.has(name) ? Buffer.byteLength(value) > MAX_KEY_BYTES : value.length > MAX_NUMBER_CHARS) {
      throw new HttpError(400, 'BAD_QUERY', `"${name}" may have at most ${KEY_PARAMS.has(name) ? `${MAX_KEY_BYTES} bytes` : `${MAX_NUMBER_CHARS} characters`}`);
    }
    parts.push(`${encodeURIComponent(name)}=${encodeURIComponent(value)}`);
  }
  return parts.length === 0 ? '' : `?${parts.join('&')}`;
}

/** The /api/watch streams of one control server. */
export class WatchProxy {
  private readonly open = new Set<{ close(): void }>();
  private closed = false;

  constructor(private readonly o: WatchProxyOptions) {}

  /** Streams open now (counting those still looking for a node). */
  get size(): number {
    return this.open.size;
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    let path: string;
    try {
      if (req.method !== 'GET') throw new HttpError(405, 'METHOD_NOT_ALLOWED', `${req.method ?? '?'} is not allowed on /api/watch (allowed: GET)`);
      path = `/v1/watch${watchQueryOf(req.url ?? '/')}`;
      if (this.closed) throw new HttpError(503, 'SHUTTING_DOWN', 'the supervisor is stopping');
      if (this.open.size >= MAX_PROXIED_WATCHES) {
        throw new HttpError(503, 'TOO_MANY_WATCHES', `the supervisor passes through at most ${MAX_PROXIED_WATCHES} watch streams at once; close another dashboard tab, or watch a node directly (GET /v1/watch on its endpoint)`, { safeToRetry: true });
      }
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      return sendError(res, err);
    }
    // every failure is answered inside; this only keeps a broken response from going unnoticed
    this.proxy(req, res, path).catch(() => res.destroy());
  }

  /** Ends every stream (the supervisor is stopping). */
  close(): void {
    this.closed = true;
    for (const s of [...this.open]) s.close();
  }

  private async proxy(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    let upstream: StreamAnswer | undefined;
    let gone = false;
    const entry = {
      close: () => {
        gone = true;
        upstream?.close();
        if (!res.writableEnded) res.destroy();
      },
    };
    this.open.add(entry);
    // the dashboard left (or its stream ended, or was cut): the node's watcher goes too
    res.once('close', () => {
      gone = true;
      this.open.delete(entry);
      upstream?.close();
    });
    const authorization = req.headers.authorization;
    const options = { tls: this.o.tls, ...(authorization === undefined ? {} : { headers: { authorization } }) };
    const order = this.o.order();
    if (order.length === 0) return sendError(res, new HttpError(503, 'NO_NODE_RUNNING', 'no node process is running (paused or stopped ones cannot answer); restart one', { safeToRetry: true }));
    const tried: string[] = [];
    for (const [i, id] of order.entries()) {
      let answer: StreamAnswer;
      try {
        answer = await openStream(this.o.endpoints[id] as string, path, WATCH_HEAD_TIMEOUT_MS, options);
      } catch (err) {
        tried.push(`node ${id}: ${(err as Error).message}`);
        if (gone) return;
        continue;
      }
      if (gone) return answer.close();
      // no leader known, too many watchers, a failed node: another node may serve it
      if (answer.status === 503 && i < order.length - 1) {
        answer.close();
        tried.push(`node ${id}: HTTP 503`);
        continue;
      }
      upstream = answer;
      return this.pass(id, answer, res);
    }
    sendError(res, new HttpError(503, 'NO_NODE_ANSWERED', `no node could serve the watch (${tried.join('; ')})`, { tried, safeToRetry: true }));
  }

  /** Copies the node's answer through: its status, then its body as it arrives. */
  private pass(id: string, answer: StreamAnswer, res: ServerResponse): void {
    const body = answer.body;
    const contentType = answer.status === 200 ? 'application/x-ndjson' : (answer.headers['content-type'] ?? 'application/json');
    res.writeHead(answer.status, { 'content-type': contentType, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', 'x-synod-node': id });
    res.flushHeaders();
    // a cut stream is reported by 'close' below: this only keeps the error from being unhandled
    body.on('error', () => undefined);
    body.on('close', () => {
      // the node ended its answer: end the dashboard's; it was cut (the node killed): cut the dashboard's too
      if (body.complete) res.end();
      else res.destroy();
    });
    body.pipe(res, { end: false });
  }
}

function sendError(res: ServerResponse, err: HttpError): void {
  if (res.headersSent) return void res.destroy();
  const text = `${JSON.stringify(errorBody(err))}\n`;
  res.writeHead(err.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' }).end(text);
}
