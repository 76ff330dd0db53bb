// A lean HTTP/1.1 client for the client library's calls and once-watches: keep-alive connections
// per node (TCP or TLS), one call at a time on each, the request written in one piece and the
// answer parsed here. Node's http client cost 160-230 us of CPU per call on this machine, this
// 55-80 us (docs/kv.md, "Transport"): lock recipes make three calls per hand-over on 2 shared cores.
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { assertInvariant } from '../core/assert.js';

/** A call's answer: its status and its body's bytes (already de-chunked). */
export interface Http1Reply {
  readonly status: number;
  readonly body: Buffer;
}

/** No answer came; `sent` is false when the request certainly never left (no connection was made). */
export class Http1Failure extends Error {
  constructor(
    message: string,
    readonly sent: boolean,
    /** The socket's error, when a socket error ended the call (e.g. ECONNREFUSED, a TLS verification code). */
    readonly socketError?: NodeJS.ErrnoException,
    /**
     * The connection had served an earlier call and broke before any byte of this answer: most
     * likely the node closed it as idle while the request was on its way, so it never reached it.
     */
    readonly staleConnection = false,
  ) {
    super(message);
    this.name = 'Http1Failure';
  }
}

export interface Http1Options {
  /** TLS to the nodes (https endpoints): trust and a client certificate, passed to tls.connect as given. */
  readonly tls?: Pick<ConnectionOptions, 'ca' | 'cert' | 'key'>;
  /** Connections kept per node; calls beyond them wait their turn. */
  readonly maxSockets: number;
  /** The longest an idle connection is reused (less when the node's `keep-alive: timeout=N` says so). Default 4 s. */
  readonly idleReuseMs?: number;
}

export interface Http1Call {
  readonly method: string;
  /** The request target as sent: already escaped, never re-parsed. */
  readonly path: string;
  /** Header lines besides host and content-length, names lower-case. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

/** An answer's head larger than this is refused (the server's answers are a few hundred bytes). */
export const MAX_ANSWER_HEAD_BYTES = 64 * 1024;
/** An answer's body larger than this is refused (the largest range answer is far below it). */
export const MAX_ANSWER_BODY_BYTES = 512 * 1024 * 1024;
/** Calls waiting for a connection, per node, beyond which new calls fail at once. */
const MAX_WAITING_CALLS = 100_000;
/** The longest an idle connection is reused unless the client says otherwise (Http1Options.idleReuseMs). */
const DEFAULT_IDLE_REUSE_MS = 4000;
/** Reuse stops this long before the node's own idle timeout, so a call does not meet its close. */
const IDLE_REUSE_MARGIN_MS = 1000;
const CRLF_CRLF = Buffer.from('\r\n\r\n', 'latin1');
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** True when `text` holds a character a header value must not (CR, LF, NUL). */
function unsafeInValue(text: string): boolean {
  return text.includes('\r') || text.includes('\n') || text.includes('\0');
}
/** True when a request target holds a character that must be escaped (controls, space, non-ASCII). */
function unsafeInTarget(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) return true;
  }
  return false;
}

interface Active {
  readonly resolve: (reply: Http1Reply) => void;
  readonly reject: (failure: Http1Failure) => void;
  /** A streamed call: told the head as soon as it is read, then given the body as it arrives. */
  readonly onHead?: (status: number) => void;
  readonly onBody?: (part: Buffer) => void;
}

type BodyMode = { kind: 'none' } | { kind: 'length'; bytes: number } | { kind: 'chunked' } | { kind: 'until-close' };

/** One connection; `send` only when idle. */
class Connection {
  readonly socket: Socket;
  /** TCP (and TLS) handshake done: a request written on it may have reached the node. */
  connected = false;
  dead = false;
  idleSinceMs = 0;
  /** How long the node keeps an idle connection, learned from its answers. */
  idleReuseMs: number;
  private active: Active | undefined;
  private readonly answer = new AnswerParser();
  /** Calls started on this connection, and whether the current one has seen a byte of its answer. */
  private calls = 0;
  private answerSeen = false;

  constructor(
    origin: Origin,
    tls: Http1Options['tls'],
    private readonly onIdle: (conn: Connection) => void,
    private readonly onDead: (conn: Connection) => void,
    idleReuseMs: number,
  ) {
    this.idleReuseMs = idleReuseMs;
    if (origin.https) {
      const options: ConnectionOptions = { host: origin.host, port: origin.port, ...(isIP(origin.host) === 0 ? { servername: origin.host } : {}), ...tls };
      this.socket = tlsConnect(options, () => (this.connected = true));
    } else {
      this.socket = netConnect({ host: origin.host, port: origin.port }, () => (this.connected = true));
    }
    this.socket.setNoDelay(true);
    this.socket.setKeepAlive(true, 1000);
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', (err: NodeJS.ErrnoException) => this.fail(err.message, err));
    this.socket.on('end', () => this.onEnd());
    this.socket.on('close', () => this.fail('the connection closed before the answer was complete'));
  }

  send(head: string, body: string | undefined, active: Active): void {
    assertInvariant(this.active === undefined && !this.dead, () => 'a connection got a call while busy or closed');
    this.active = active;
    this.calls++;
    this.answerSeen = false;
    this.answer.onHead = active.onHead;
    this.answer.sink = active.onBody;
    this.socket.ref();
    this.socket.write(body === undefined ? head : head + body);
  }

  /** Stops reading (a streamed body's reader is behind) or reads on. */
  pause(paused: boolean): void {
    if (paused) this.socket.pause();
    else this.socket.resume();
  }

  /** Ends the connection now; the call on it, if any, fails with `reason`. */
  destroy(reason: string): void {
    this.fail(reason);
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    const active = this.active;
    if (active === undefined) return this.destroy('the node sent bytes nobody asked for');
    this.answerSeen = true;
    let outcome: ParseOutcome;
    try {
      outcome = this.answer.push(chunk);
    } catch (err) {
      return this.destroy(`a malformed answer: ${(err as Error).message}`);
    }
    if (outcome === undefined) return;
    this.finish(outcome);
  }

  private onEnd(): void {
    // the node closed its side: an answer read until the close ends here
    const outcome = this.active === undefined ? undefined : this.answer.end();
    if (outcome !== undefined) this.finish(outcome);
    this.destroy('the connection closed before the answer was complete');
  }

  private finish(outcome: Parsed): void {
    const active = this.active as Active;
    this.active = undefined;
    this.answer.onHead = undefined;
    this.answer.sink = undefined;
    if (outcome.idleTimeoutSeconds !== undefined) this.idleReuseMs = Math.min(this.idleReuseMs, Math.max(0, outcome.idleTimeoutSeconds * 1000 - IDLE_REUSE_MARGIN_MS));
    active.resolve({ status: outcome.status, body: outcome.body });
    if (!outcome.reusable || this.answer.hasLeftover()) return this.destroy('not reusable');
    this.idleSinceMs = Date.now();
    this.socket.unref();
    this.onIdle(this);
  }

  private fail(message: string, cause?: NodeJS.ErrnoException): void {
    const active = this.active;
    this.active = undefined;
    if (!this.dead) {
      this.dead = true;
      this.onDead(this);
    }
    active?.reject(new Http1Failure(message, this.connected, cause, this.calls > 1 && !this.answerSeen));
  }
}

interface Origin {
  readonly host: string;
  readonly port: number;
  readonly https: boolean;
  /** The Host header's value. */
  readonly hostHeader: string;
}

interface Waiting {
  readonly start: (conn: Connection) => void;
}

/** The connections to one node. */
class NodePool {
  readonly idle: Connection[] = [];
  readonly all = new Set<Connection>();
  readonly waiting: Waiting[] = [];
  /** Index of the first waiting call not yet started (the queue is trimmed as it drains). */
  private waitingHead = 0;

  constructor(
    readonly origin: Origin,
    private readonly options: Http1Options,
    private readonly isClosed: () => boolean,
  ) {}

  /** Gives `start` a connection now or when one frees up; false when too many calls wait already. */
  acquire(start: (conn: Connection) => void): boolean {
    const now = Date.now();
    // the newest idle connection first: the oldest may be about to time out on the node
    for (let conn = this.idle.pop(); conn !== undefined; conn = this.idle.pop()) {
      if (!conn.dead && now - conn.idleSinceMs < conn.idleReuseMs) {
        start(conn);
        return true;
      }
      conn.destroy('idle too long');
    }
    if (this.all.size < this.options.maxSockets) {
      start(this.open());
      return true;
    }
    if (this.waiting.length - this.waitingHead >= MAX_WAITING_CALLS) return false;
    this.waiting.push({ start });
    return true;
  }

  /** Takes a call off the queue (it was aborted or timed out while waiting). */
  forget(start: (conn: Connection) => void): void {
    const at = this.waiting.findIndex((w, i) => i >= this.waitingHead && w.start === start);
    if (at >= 0) this.waiting.splice(at, 1);
  }

  private open(): Connection {
    const conn = new Connection(
      this.origin,
      this.options.tls,
      (c) => this.release(c),
      (c) => this.dropped(c),
      this.options.idleReuseMs ?? DEFAULT_IDLE_REUSE_MS,
    );
    this.all.add(conn);
    return conn;
  }

  private release(conn: Connection): void {
    if (this.isClosed()) return conn.destroy('the client closed');
    const next = this.nextWaiting();
    if (next !== undefined) return next.start(conn);
    this.idle.push(conn);
  }

  private dropped(conn: Connection): void {
    this.all.delete(conn);
    const at = this.idle.indexOf(conn);
    if (at >= 0) this.idle.splice(at, 1);
    // a waiting call gets a new connection in place of the one that went
    if (this.isClosed()) return;
    const next = this.nextWaiting();
    if (next !== undefined) next.start(this.open());
  }

  private nextWaiting(): Waiting | undefined {
    if (this.waitingHead >= this.waiting.length) return undefined;
    const next = this.waiting[this.waitingHead++];
    if (this.waitingHead > 1024 && this.waitingHead * 2 > this.waiting.length) {
      this.waiting.splice(0, this.waitingHead);
      this.waitingHead = 0;
    }
    return next;
  }
}

interface CallHandlers {
  /** A streamed call: told the head (and the connection) as soon as it is read. */
  readonly onHead?: (status: number, conn: Connection) => void;
  readonly onBody?: (part: Buffer) => void;
  /** The whole answer arrived. */
  readonly resolve: (reply: Http1Reply) => void;
  /** No whole answer: a failure, the timeout, an abort or a cancel. */
  readonly reject: (failure: Http1Failure) => void;
}

interface CallHandle {
  /** Ends the call now (its connection too, if it has one), failing it with `reason`. */
  cancel(reason: string): void;
  /** Lifts the timeout (a stream's head came: the body has no time limit of its own). */
  stopTimer(): void;
}

export class Http1Client {
  private readonly pools = new Map<string, NodePool>();
  private closed = false;

  constructor(private readonly options: Http1Options) {}

  /** One call; resolves with any HTTP answer, rejects with Http1Failure when none came. */
  request(endpoint: string, call: Http1Call): Promise<Http1Reply> {
    return new Promise((resolve, reject) => void this.start(endpoint, call, { resolve, reject }));
  }

  /**
   * A call whose answer is read as it arrives (a watch): resolves once the head came, within
   * `timeoutMs`; the body then flows to the returned stream with no time limit of its own (see
   * Http1Stream.setIdleTimeout). Aborting `signal` cuts the call at any point.
   */
  stream(endpoint: string, call: Http1Call): Promise<Http1Stream> {
    return new Promise((resolve, reject) => {
      let body: Http1Stream | undefined;
      const handle = this.start(endpoint, call, {
        onHead: (status, conn) => {
          handle.stopTimer();
          body = new Http1Stream(status, conn, (reason) => handle.cancel(reason));
          resolve(body);
        },
        onBody: (part) => body?.push(part),
        resolve: () => body?.end(),
        reject: (failure) => (body === undefined ? reject(failure) : body.fail(failure)),
      });
    });
  }

  /** Closes idle connections; calls under way finish, and their connections close after them. */
  close(): void {
    this.closed = true;
    for (const pool of this.pools.values()) for (const conn of pool.idle.splice(0)) conn.destroy('the client closed');
  }

  private start(endpoint: string, call: Http1Call, handlers: CallHandlers): CallHandle {
    let settled = false;
    let conn: Connection | undefined;
    let pool: NodePool | undefined;
    const settle = (): void => {
      settled = true;
      clearTimeout(timer);
      call.signal?.removeEventListener('abort', onAbort);
    };
    const cancel = (reason: string): void => {
      if (settled) return;
      settle();
      if (conn === undefined) pool?.forget(begin);
      else conn.destroy(reason);
      handlers.reject(new Http1Failure(reason, conn?.connected === true));
    };
    const onAbort = (): void => cancel('aborted');
    const timer = setTimeout(() => cancel(`no answer within ${call.timeoutMs} ms`), call.timeoutMs);
    const begin = (c: Connection): void => {
      conn = c;
      const onHead = handlers.onHead;
      c.send(head, call.body, {
        ...(onHead === undefined ? {} : { onHead: (status: number) => onHead(status, c) }),
        ...(handlers.onBody === undefined ? {} : { onBody: handlers.onBody }),
        resolve: (reply) => {
          if (settled) return;
          settle();
          handlers.resolve(reply);
        },
        reject: (failure) => {
          if (settled) return;
          settle();
          handlers.reject(failure);
        },
      });
    };
    const handle: CallHandle = { cancel, stopTimer: () => clearTimeout(timer) };
    let head = '';
    try {
      if (this.closed) throw new Error('the client is closed');
      pool = this.poolOf(endpoint);
      head = requestHead(pool.origin, call);
    } catch (err) {
      cancel((err as Error).message);
      return handle;
    }
    if (call.signal?.aborted === true) {
      cancel('aborted');
      return handle;
    }
    call.signal?.addEventListener('abort', onAbort, { once: true });
    if (!pool.acquire(begin)) cancel('too many calls waiting for a connection');
    return handle;
  }

  private poolOf(endpoint: string): NodePool {
    const known = this.pools.get(endpoint);
    if (known !== undefined) return known;
    const url = new URL(endpoint);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`${endpoint}: not an http:// or https:// endpoint`);
    const https = url.protocol === 'https:';
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const origin: Origin = { host, port: Number(url.port || (https ? 443 : 80)), https, hostHeader: url.host };
    const pool = new NodePool(origin, this.options, () => this.closed);
    this.pools.set(endpoint, pool);
    return pool;
  }
}

/** Bytes a streamed body may queue unread before its connection stops reading. */
const MAX_QUEUED_STREAM_BYTES = 1024 * 1024;

/** A streamed answer's body as it arrives: iterate it once; it ends when the node ends the answer. */
export class Http1Stream implements AsyncIterable<Buffer> {
  private readonly parts: Buffer[] = [];
  private queuedBytes = 0;
  private ended = false;
  private failure: Http1Failure | undefined;
  private wake: (() => void) | undefined;
  private idleMs = 0;
  private idleTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly status: number,
    private readonly conn: Connection,
    private readonly cancel: (reason: string) => void,
  ) {}

  /** True once the whole body arrived (the connection may then serve another call). */
  get complete(): boolean {
    return this.ended;
  }

  /** Fails the body (and cuts its connection) after `ms` without a byte of it. */
  setIdleTimeout(ms: number): void {
    this.idleMs = ms;
    this.touch();
  }

  /** Cuts the call unless the body is complete; safe to call more than once. */
  destroy(): void {
    if (!this.ended) this.cancel('closed by the reader');
  }

  /** @internal */
  push(part: Buffer): void {
    this.parts.push(part);
    this.queuedBytes += part.length;
    if (this.queuedBytes > MAX_QUEUED_STREAM_BYTES) this.conn.pause(true);
    this.touch();
    this.wakeUp();
  }

  /** @internal */
  end(): void {
    this.ended = true;
    clearTimeout(this.idleTimer);
    this.wakeUp();
  }

  /** @internal */
  fail(failure: Http1Failure): void {
    if (this.ended || this.failure !== undefined) return;
    this.failure = failure;
    clearTimeout(this.idleTimer);
    this.wakeUp();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer, void, undefined> {
    // bounded by the body: each turn yields a part, or waits for one, the end or a failure
    for (;;) {
      const part = this.parts.shift();
      if (part !== undefined) {
        this.queuedBytes -= part.length;
        if (this.queuedBytes <= MAX_QUEUED_STREAM_BYTES / 2) this.conn.pause(false);
        yield part;
        continue;
      }
      if (this.failure !== undefined) throw this.failure;
      if (this.ended) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  private touch(): void {
    if (this.idleMs <= 0 || this.ended || this.failure !== undefined) return;
    clearTimeout(this.idleTimer);
    const ms = this.idleMs;
    this.idleTimer = setTimeout(() => this.cancel(`nothing received for ${ms} ms`), ms);
  }

  private wakeUp(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

function requestHead(origin: Origin, call: Http1Call): string {
  if (!TOKEN.test(call.method)) throw new Error(`bad method ${JSON.stringify(call.method)}`);
  if (call.path.length === 0 || unsafeInTarget(call.path)) throw new Error(`bad request target ${JSON.stringify(call.path)}`);
  let head = `${call.method} ${call.path} HTTP/1.1\r\nhost: ${origin.hostHeader}\r\n`;
  for (const [name, value] of Object.entries(call.headers)) {
    if (!TOKEN.test(name) || unsafeInValue(value)) throw new Error(`bad header ${JSON.stringify(name)}`);
    head += `${name}: ${value}\r\n`;
  }
  if (call.body !== undefined) head += `content-length: ${Buffer.byteLength(call.body)}\r\n`;
  return `${head}\r\n`;
}

// ---------------------------------------------------------------- the answer's parser

interface Parsed {
  readonly status: number;
  readonly body: Buffer;
  /** False when the node said `connection: close`, or the body ran until the close. */
  readonly reusable: boolean;
  readonly idleTimeoutSeconds: number | undefined;
}

type ParseOutcome = Parsed | undefined;

interface Head {
  readonly status: number;
  readonly mode: BodyMode;
  readonly reusable: boolean;
  readonly idleTimeoutSeconds: number | undefined;
}

/** Reads one answer at a time from the bytes of one connection; throws on anything malformed. */
export class AnswerParser {
  /** Told each answer's status once its head is read. */
  onHead: ((status: number) => void) | undefined;
  /** While set, body bytes go here as they arrive, without a size limit, instead of being collected. */
  sink: ((part: Buffer) => void) | undefined;
  private buffered: Buffer = Buffer.alloc(0);
  private head: Head | undefined;
  private readonly bodyParts: Buffer[] = [];
  private bodyBytes = 0;
  /** Chunked bodies: bytes of the current chunk still to read, or -1 between chunks. */
  private chunkLeft = -1;
  private inTrailers = false;

  /** Takes bytes; returns the answer once complete. */
  push(chunk: Buffer): ParseOutcome {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    // bounded: each turn takes a head, or a chunk's framing, or body bytes, or returns
    for (;;) {
      if (this.head === undefined) {
        const head = this.takeHead();
        if (head === undefined) return undefined;
        if (head === 'interim') continue;
        this.head = head;
        this.onHead?.(head.status);
      }
      const done = this.takeBody(this.head.mode);
      if (!done) return undefined;
      return this.complete(this.head.reusable);
    }
  }

  /** The node closed the connection: an answer read until the close is complete now. */
  end(): ParseOutcome {
    if (this.head?.mode.kind !== 'until-close') return undefined;
    this.bodyParts.push(this.buffered);
    this.buffered = Buffer.alloc(0);
    return this.complete(false);
  }

  /** Bytes after a complete answer (a node never sends any unasked). */
  hasLeftover(): boolean {
    return this.buffered.length > 0;
  }

  private complete(reusable: boolean): Parsed {
    const head = this.head as Head;
    const body = this.bodyParts.length === 1 ? (this.bodyParts[0] as Buffer) : Buffer.concat(this.bodyParts);
    this.head = undefined;
    this.bodyParts.length = 0;
    this.bodyBytes = 0;
    this.chunkLeft = -1;
    this.inTrailers = false;
    return { status: head.status, body, reusable, idleTimeoutSeconds: head.idleTimeoutSeconds };
  }

  private takeHead(): Head | 'interim' | undefined {
    const end = this.buffered.indexOf(CRLF_CRLF);
    if (end < 0) {
      if (this.buffered.length > MAX_ANSWER_HEAD_BYTES) throw new Error(`an answer head over ${MAX_ANSWER_HEAD_BYTES} bytes`);
      return undefined;
    }
    if (end > MAX_ANSWER_HEAD_BYTES) throw new Error(`an answer head over ${MAX_ANSWER_HEAD_BYTES} bytes`);
    const text = this.buffered.toString('latin1', 0, end);
    this.buffered = this.buffered.subarray(end + 4);
    return parseHead(text);
  }

  /** Moves body bytes out of the buffer; true once the body is complete. */
  private takeBody(mode: BodyMode): boolean {
    switch (mode.kind) {
      case 'none':
        return true;
      case 'length':
        return this.takeBytes(mode.bytes - this.bodyBytes) && this.bodyBytes === mode.bytes;
      case 'until-close':
        this.addBody(this.buffered);
        this.buffered = Buffer.alloc(0);
        return false;
      case 'chunked':
        return this.takeChunks();
    }
  }

  /** Takes up to `wanted` bytes into the body; true when that many were there. */
  private takeBytes(wanted: number): boolean {
    const n = Math.min(wanted, this.buffered.length);
    if (n > 0) this.addBody(this.buffered.subarray(0, n));
    this.buffered = this.buffered.subarray(n);
    return n === wanted;
  }

  private addBody(part: Buffer): void {
    if (part.length === 0) return;
    if (this.sink !== undefined) return this.sink(part);
    this.bodyBytes += part.length;
    if (this.bodyBytes > MAX_ANSWER_BODY_BYTES) throw new Error(`an answer body over ${MAX_ANSWER_BODY_BYTES} bytes`);
    this.bodyParts.push(part);
  }

  private takeChunks(): boolean {
    // bounded: each turn consumes a chunk's size line, its data, or a trailer line, or returns
    for (;;) {
      if (this.chunkLeft > 0) {
        const n = Math.min(this.chunkLeft, this.buffered.length);
        this.takeBytes(n);
        this.chunkLeft -= n;
        if (this.chunkLeft > 0) return false;
      }
      const line = this.takeLine();
      if (line === undefined) return false;
      if (this.inTrailers) {
        if (line === '') return true;
        continue;
      }
      if (this.chunkLeft === 0) {
        // the CRLF after a chunk's data
        if (line !== '') throw new Error('no CRLF after a chunk');
        this.chunkLeft = -1;
        continue;
      }
      const sizeText = (line.split(';', 1)[0] as string).trim();
      if (!/^[0-9a-fA-F]{1,8}$/.test(sizeText)) throw new Error(`a bad chunk size ${JSON.stringify(line.slice(0, 40))}`);
      const size = parseInt(sizeText, 16);
      if (this.sink === undefined && this.bodyBytes + size > MAX_ANSWER_BODY_BYTES) throw new Error(`an answer body over ${MAX_ANSWER_BODY_BYTES} bytes`);
      if (size === 0) this.inTrailers = true;
      else this.chunkLeft = size;
    }
  }

  /** One CRLF-ended line (without it), or undefined when it has not all arrived. */
  private takeLine(): string | undefined {
    const at = this.buffered.indexOf('\r\n', 0, 'latin1');
    if (at < 0) {
      if (this.buffered.length > MAX_ANSWER_HEAD_BYTES) throw new Error('a chunk line too long');
      return undefined;
    }
    const line = this.buffered.toString('latin1', 0, at);
    this.buffered = this.buffered.subarray(at + 2);
    return line;
  }
}

function parseHead(text: string): Head | 'interim' {
  const lines = text.split('\r\n');
  const statusLine = /^HTTP\/1\.([01]) (\d{3})(?: .*)?$/.exec(lines[0] as string);
  if (statusLine === null) throw new Error(`a bad status line ${JSON.stringify((lines[0] as string).slice(0, 60))}`);
  const status = Number(statusLine[2]);
  if (status >= 100 && status < 200) return 'interim';
  let contentLength: number | undefined;
  let chunked = false;
  let close = statusLine[1] === '0';
  let idleTimeoutSeconds: number | undefined;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] as string;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`a bad header line ${JSON.stringify(line.slice(0, 60))}`);
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'content-length') {
      if (!/^\d{1,15}$/.test(value)) throw new Error(`a bad content-length ${JSON.stringify(value.slice(0, 40))}`);
      const n = Number(value);
      if (contentLength !== undefined && contentLength !== n) throw new Error('two different content-lengths');
      if (n > MAX_ANSWER_BODY_BYTES) throw new Error(`an answer body over ${MAX_ANSWER_BODY_BYTES} bytes`);
      contentLength = n;
    } else if (name === 'transfer-encoding') {
      const codings = value.toLowerCase().split(',').map((x) => x.trim());
      if (codings[codings.length - 1] !== 'chunked' || codings.length > 1) throw new Error(`an unsupported transfer-encoding ${JSON.stringify(value.slice(0, 40))}`);
      chunked = true;
    } else if (name === 'connection') {
      const tokens = value.toLowerCase().split(',').map((x) => x.trim());
      if (tokens.includes('close')) close = true;
      else if (tokens.includes('keep-alive')) close = false;
    } else if (name === 'keep-alive') {
      const timeout = /(?:^|,)\s*timeout=(\d{1,6})\s*(?:,|$)/i.exec(value);
      if (timeout !== null) idleTimeoutSeconds = Number(timeout[1]);
    }
  }
  if (chunked && contentLength !== undefined) throw new Error('both content-length and chunked');
  const mode: BodyMode = status === 204 || status === 304 ? { kind: 'none' } : chunked ? { kind: 'chunked' } : contentLength !== undefined ? { kind: 'length', bytes: contentLength } : { kind: 'until-close' };
  return { status, mode, reusable: !close && mode.kind !== 'until-close', idleTimeoutSeconds };
}
