// A lean HTTP/1.1 client for load generation: a pool of keep-alive connections, one request in
// flight on each, requests written as one buffer and answers parsed by hand (Content-Length or
// chunked). Node's http client spends about 200 us of CPU per request on this machine, as much as
// a whole Synod node; on 2 cores shared with the servers that would measure the client, not them.
import { connect, type Socket } from 'node:net';

export interface HttpReply {
  readonly status: number;
  readonly body: string;
}

interface Waiter {
  resolve(reply: HttpReply): void;
  reject(err: Error): void;
}

const HEADER_END = Buffer.from('\r\n\r\n');
/** Answers larger than this are refused: a load generator reads small JSON answers. */
const MAX_ANSWER_BYTES = 16 * 1024 * 1024;
/** A pooled connection idle longer than this is closed rather than reused (servers close idle ones after 5 s). */
const MAX_IDLE_REUSE_MS = 3000;

/** One keep-alive connection; `request` must not be called again before the last one settled. */
class Connection {
  private readonly socket: Socket;
  private buffered: Buffer = Buffer.alloc(0);
  private waiter: Waiter | undefined;
  private failure: Error | undefined;
  /** When it last went back to the pool. */
  idleSinceMs = Date.now();

  constructor(host: string, port: number) {
    this.socket = connect({ host, port, noDelay: true });
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', (err) => this.fail(err));
    this.socket.on('close', () => this.fail(new Error('connection closed')));
  }

  get broken(): boolean {
    return this.failure !== undefined;
  }

  request(head: string, body: Buffer | undefined): Promise<HttpReply> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise<HttpReply>((resolve, reject) => {
      this.waiter = { resolve, reject };
      this.socket.write(body === undefined ? head : Buffer.concat([Buffer.from(head, 'latin1'), body]));
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    if (this.buffered.length > MAX_ANSWER_BYTES) return this.fail(new Error('answer too large'));
    const reply = parseReply(this.buffered);
    if (reply === undefined) return;
    this.buffered = this.buffered.subarray(reply.consumed);
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.resolve({ status: reply.status, body: reply.body });
  }

  private fail(err: Error): void {
    this.failure ??= err;
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.reject(err);
  }
}

/** Parses one complete answer at the start of `buf`, or returns undefined if more bytes are needed. */
export function parseReply(buf: Buffer): { status: number; body: string; consumed: number } | undefined {
  const headEnd = buf.indexOf(HEADER_END);
  if (headEnd < 0) return undefined;
  const head = buf.toString('latin1', 0, headEnd);
  const status = Number(head.slice(9, 12));
  const bodyStart = headEnd + HEADER_END.length;
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  if (length !== null) {
    const end = bodyStart + Number(length[1]);
    if (buf.length < end) return undefined;
    return { status, body: buf.toString('utf8', bodyStart, end), consumed: end };
  }
  if (!/\r\ntransfer-encoding:\s*chunked/i.test(head)) throw new Error(`answer without length: ${head.slice(0, 200)}`);
  const parts: Buffer[] = [];
  let at = bodyStart;
  for (;;) {
    const lineEnd = buf.indexOf('\r\n', at);
    if (lineEnd < 0) return undefined;
    const size = parseInt(buf.toString('latin1', at, lineEnd), 16);
    if (!Number.isFinite(size)) throw new Error('bad chunk size');
    const dataStart = lineEnd + 2;
    if (buf.length < dataStart + size + 2) return undefined;
    if (size === 0) return { status, body: Buffer.concat(parts).toString('utf8'), consumed: dataStart + 2 };
    parts.push(buf.subarray(dataStart, dataStart + size));
    at = dataStart + size + 2;
  }
}

/** A pool of connections to one server; a request takes an idle connection or opens one. */
export class LeanHttpClient {
  private readonly idle: Connection[] = [];
  private readonly all = new Set<Connection>();
  private readonly host: string;
  private readonly port: number;
  private readonly hostHeader: string;

  constructor(baseUrl: string) {
    const url = new URL(baseUrl);
    this.host = url.hostname;
    this.port = Number(url.port);
    this.hostHeader = url.host;
  }

  /** Sends a request; rejects on a transport failure or a status of 300 or more. */
  async send(method: string, path: string, json?: unknown): Promise<HttpReply> {
    const body = json === undefined ? undefined : Buffer.from(JSON.stringify(json), 'utf8');
    const head =
      `${method} ${path} HTTP/1.1\r\nhost: ${this.hostHeader}\r\n` +
      (body === undefined ? '' : `content-type: application/json\r\ncontent-length: ${body.length}\r\n`) +
      '\r\n';
    let conn = this.idle.pop();
    // one the server closed while idle, or may be closing now: its keep-alive timeout is 5 s, and a
    // request sent as it closes the socket meets a reset (a benchmark's error, not the server's)
    while (conn !== undefined && (conn.broken || Date.now() - conn.idleSinceMs > MAX_IDLE_REUSE_MS)) {
      this.all.delete(conn);
      conn.close();
      conn = this.idle.pop();
    }
    conn ??= this.open();
    try {
      const reply = await conn.request(head, body);
      if (reply.status >= 300) throw new Error(`${method} ${path}: HTTP ${reply.status}: ${reply.body.slice(0, 200)}`);
      return reply;
    } finally {
      if (conn.broken) {
        this.all.delete(conn);
        conn.close();
      } else {
        conn.idleSinceMs = Date.now();
        this.idle.push(conn);
      }
    }
  }

  close(): void {
    for (const conn of this.all) conn.close();
    this.all.clear();
    this.idle.length = 0;
  }

  private open(): Connection {
    const conn = new Connection(this.host, this.port);
    this.all.add(conn);
    return conn;
  }
}
