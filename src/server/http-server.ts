// A lean HTTP/1.1 server for the node's client API. Node's http server spends about twice the CPU
// per request of this one on a loopback put (`npm run bench -- http-floor`), and on a leader that
// is a quarter of a put's cost. The API needs only a small part of HTTP/1.1, which this covers:
// keep-alive, pipelining (answered in order, one at a time), Content-Length and chunked bodies,
// Expect: 100-continue, HEAD, and clear errors that close the connection on anything malformed.
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type SecureContextOptions, type TLSSocket } from 'node:tls';

/** A complete request as the handler sees it. */
export interface HttpRequestIn {
  readonly method: string;
  /** The request target as sent, e.g. "/v1/kv/a?consistency=serializable". */
  readonly target: string;
  /** Header values by lower-case name; repeated headers are joined with ", ". */
  readonly headers: ReadonlyMap<string, string>;
  /** The body bytes; undefined when the request had none. */
  readonly body: Buffer | undefined;
  /** The client's IP address ('' when unknown). */
  readonly remoteAddress: string;
  /** With TLS: the common name of a client certificate the server verified; undefined otherwise. */
  readonly clientCertName?: string;
}

/** HTTPS: the key, certificate and CA the server presents and verifies clients with. */
export interface HttpTlsOptions {
  /** Read again by `reloadTls()`, so renewed files take effect without a restart. */
  readonly load: () => SecureContextOptions;
  /** Ask clients for a certificate signed by the CA ('request' accepts clients without one). Default 'none'. */
  readonly clientCertificates?: 'none' | 'request' | 'require';
}

export interface HttpAnswer {
  readonly status: number;
  /** Extra headers; content-length, connection and date are set by the server. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** A streamed body instead of `body` (a watch): sent chunked, the last answer on its connection unless the stream has `keepAlive`. */
  readonly stream?: HttpStream;
}

/**
 * A body written as it is produced. The server sends the head (chunked framing, `connection:
 * close` unless `keepAlive`) and calls `start` with the sink, or `abandon` if it never starts it
 * (a HEAD request, a client gone before the answer). The connection is the stream's until it
 * calls `sink.end()`.
 */
export interface HttpStream {
  start(sink: StreamSink): void;
  abandon(): void;
  /**
   * The stream ends by itself soon (a watch asked to end after its first events): its head says
   * keep-alive and, once it ended, the connection serves the client's next request, so that a
   * client making many short streams does not pay for a new connection each time.
   */
  readonly keepAlive?: boolean;
}

/** Why a stream must stop: its client went away (`gone`: nothing more can be sent), or the server is shutting down (`closing`: write a last line, then end). */
export type StreamCloseReason = 'gone' | 'closing';

export interface StreamSink {
  /** Sends `text` as one chunk; false (and nothing sent) once the stream ended or its client left. */
  write(text: string): boolean;
  /** Bytes written that the kernel has not taken yet: how far the client is behind. */
  readonly unsentBytes: number;
  /** Calls `listener` once, when the unsent bytes have drained (at once if there are none). */
  onDrain(listener: () => void): void;
  /** Calls `listener` once when the stream must stop (see StreamCloseReason). */
  onClose(listener: (reason: StreamCloseReason) => void): void;
  /**
   * Sends the last chunk, after `lastText` as a chunk of its own when given (both in one write);
   * then the connection closes once the client has it, or (`keepAlive`) serves the next request.
   */
  end(lastText?: string): void;
}

export interface HttpServerOptions {
  readonly host: string;
  /** 0 picks a free port; read it back from `port`. */
  readonly port: number;
  readonly handle: (request: HttpRequestIn) => Promise<HttpAnswer>;
  /** Larger bodies are refused with 413 before they are read. Default 1 MiB. */
  readonly maxBodyBytes?: number;
  /** A request line plus headers larger than this is refused with 431. Default 16 KiB. */
  readonly maxHeaderBytes?: number;
  /** A connection with no request under way is closed after this long. Default 5 s. */
  readonly keepAliveTimeoutMs?: number;
  /** A request must arrive in full within this long of its first byte, or gets 408. Default 30 s. */
  readonly requestTimeoutMs?: number;
  /** Called when `handle` throws instead of answering; the client gets a 500. */
  readonly onError?: (err: unknown) => void;
  /** Serve HTTPS instead of HTTP. */
  readonly tls?: HttpTlsOptions;
  /** Open connections, all clients together; more are closed at once. Default 4096. */
  readonly maxConnections?: number;
  /** Open connections from one IP address; more are closed at once, so one client cannot starve the others. Default 512. */
  readonly maxConnectionsPerAddress?: number;
  /** A TLS handshake must finish within this long. Default 10 s. */
  readonly tlsHandshakeTimeoutMs?: number;
  /** Told of each connection refused by a limit (for metrics and rate-limited logs). */
  readonly onRefusedConnection?: (reason: 'max_connections' | 'max_connections_per_address', remoteAddress: string) => void;
}

const HEADER_END = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');
/** How often idle and slow connections are looked for. Timeouts are as precise as this. */
const SWEEP_MS = 1000;
/** A chunk-size line longer than this (hex digits plus extensions) is refused. */
const MAX_CHUNK_LINE_BYTES = 256;
const REASONS: Readonly<Record<number, string>> = {
  200: 'OK', 201: 'Created', 204: 'No Content', 307: 'Temporary Redirect', 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found',
  405: 'Method Not Allowed', 408: 'Request Timeout', 409: 'Conflict', 410: 'Gone', 412: 'Precondition Failed', 413: 'Content Too Large',
  417: 'Expectation Failed', 422: 'Unprocessable Content', 429: 'Too Many Requests', 431: 'Request Header Fields Too Large',
  500: 'Internal Server Error', 501: 'Not Implemented', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout',
  505: 'HTTP Version Not Supported',
};

/** A protocol error: answered with `status`, then the connection is closed. */
class ProtocolError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface Head {
  readonly method: string;
  readonly target: string;
  readonly headers: Map<string, string>;
  readonly keepAlive: boolean;
  /** Content-Length, or 'chunked'. */
  readonly framing: number | 'chunked';
}

export class HttpServer {
  private readonly server: Server;
  private readonly connections = new Set<Connection>();
  /** Open sockets (TLS ones from before their handshake), in total and by remote address. */
  private openSockets = 0;
  private readonly socketsByAddress = new Map<string, number>();
  private readonly sweeper: ReturnType<typeof setInterval>;
  private closing = false;
  /** Advanced by the sweeper: connections note it on activity instead of reading the clock. */
  sweepCount = 0;
  readonly limits: Required<Pick<HttpServerOptions, 'maxBodyBytes' | 'maxHeaderBytes' | 'keepAliveTimeoutMs' | 'requestTimeoutMs'>>;
  readonly keepAliveSeconds: number;

  private constructor(readonly options: HttpServerOptions) {
    this.limits = {
      maxBodyBytes: options.maxBodyBytes ?? 1 << 20,
      maxHeaderBytes: options.maxHeaderBytes ?? 16 * 1024,
      keepAliveTimeoutMs: options.keepAliveTimeoutMs ?? 5000,
      requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
    };
    this.keepAliveSeconds = Math.floor(this.limits.keepAliveTimeoutMs / 1000);
    const serveSocket = (socket: Socket): void => {
      if (this.closing || socket.destroyed) return void socket.destroy();
      const connection = new Connection(this, socket);
      this.connections.add(connection);
      socket.once('close', () => this.connections.delete(connection));
    };
    // half-open: a client that shuts its sending side after a request still gets the answer
    const tls = options.tls;
    if (tls === undefined) {
      this.server = createServer({ noDelay: true, allowHalfOpen: true });
      this.server.on('connection', (socket: Socket) => this.admit(socket) && serveSocket(socket));
    } else {
      const clientCertificates = tls.clientCertificates ?? 'none';
      this.server = createTlsServer({
        ...tls.load(),
        allowHalfOpen: true,
        noDelay: true,
        requestCert: clientCertificates !== 'none',
        rejectUnauthorized: clientCertificates === 'require',
        handshakeTimeout: options.tlsHandshakeTimeoutMs ?? 10_000,
      }, serveSocket);
      // limits apply from the TCP connection on, before a stranger can make us do a handshake
      this.server.on('connection', (socket: Socket) => void this.admit(socket));
      // a failed handshake (plaintext to the TLS port, an unknown client certificate) only closes that socket
      this.server.on('tlsClientError', (_err, socket) => socket.destroy());
    }
    this.sweeper = setInterval(() => this.sweep(), SWEEP_MS);
    this.sweeper.unref();
  }

  static async listen(options: HttpServerOptions): Promise<HttpServer> {
    const server = new HttpServer(options);
    try {
      await new Promise<void>((resolve, reject) => {
        server.server.once('error', reject);
        server.server.listen(options.port, options.host, () => {
          server.server.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      clearInterval(server.sweeper);
      throw err;
    }
    return server;
  }

  /** Reads the TLS files again; connections from now on use them (open ones keep theirs). */
  reloadTls(): void {
    const tls = this.options.tls;
    if (tls === undefined) throw new Error('this server does not serve TLS');
    (this.server as ReturnType<typeof createTlsServer>).setSecureContext(tls.load());
  }

  /** Counts a new socket against the connection limits; closes it and returns false when over one. */
  private admit(socket: Socket): boolean {
    const address = socket.remoteAddress ?? '';
    const fromAddress = this.socketsByAddress.get(address) ?? 0;
    const refusal = this.openSockets >= (this.options.maxConnections ?? 4096) ? 'max_connections' : fromAddress >= (this.options.maxConnectionsPerAddress ?? 512) ? 'max_connections_per_address' : undefined;
    if (refusal !== undefined) {
      socket.destroy();
      this.options.onRefusedConnection?.(refusal, address);
      return false;
    }
    this.openSockets++;
    this.socketsByAddress.set(address, fromAddress + 1);
    socket.once('close', () => {
      this.openSockets--;
      const left = (this.socketsByAddress.get(address) ?? 1) - 1;
      if (left === 0) this.socketsByAddress.delete(address);
      else this.socketsByAddress.set(address, left);
    });
    return true;
  }

  get port(): number {
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('the server is not listening on a TCP port');
    return address.port;
  }

  /** Requests being handled now. */
  get inFlight(): number {
    let busy = 0;
    for (const connection of this.connections) if (connection.busy) busy++;
    return busy;
  }

  /**
   * Stops accepting connections, closes idle ones, lets requests under way finish for up to
   * `graceMs` (their connections close after answering), then closes whatever is left.
   */
  async close(graceMs = 5000): Promise<void> {
    this.closing = true;
    clearInterval(this.sweeper);
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const connection of this.connections) connection.closeWhenIdle();
    const deadline = Date.now() + graceMs;
    while (this.connections.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    for (const connection of this.connections) connection.destroy();
    await closed;
  }

  get isClosing(): boolean {
    return this.closing;
  }

  private sweep(): void {
    this.sweepCount++;
    for (const connection of this.connections) connection.checkTimeout(this.sweepCount);
  }
}

/** One client connection: parses requests from the byte stream and answers them in order. */
class Connection {
  private buffered: Buffer = Buffer.alloc(0);
  /** How far the header-end search has looked, so a slowly arriving head is not rescanned. */
  private scannedBytes = 0;
  private head: Head | undefined;
  private chunks: Buffer[] = [];
  private chunkBytes = 0;
  /** Inside a chunked body: bytes of the current chunk still to read, or -1 between chunks. */
  private chunkLeft = -1;
  private inTrailers = false;
  /** A handler is running; later requests wait in `buffered`. */
  busy = false;
  private closeAfterAnswer = false;
  /** The client has shut its sending side: answer what was received, then close. */
  private peerEnded = false;
  private dead = false;
  /** The sweep count when the current wait (idle, or for the rest of a request) began. */
  private waitingSince: number;
  private readonly remoteAddress: string;
  private readonly clientCertName: string | undefined;
  /** The stream answering the current request, until it ends. */
  private stream: ConnectionStream | undefined;

  constructor(
    private readonly server: HttpServer,
    private readonly socket: Socket,
  ) {
    this.waitingSince = server.sweepCount;
    this.remoteAddress = socket.remoteAddress ?? '';
    this.clientCertName = verifiedClientName(socket);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => this.destroy());
    socket.on('end', () => {
      this.peerEnded = true;
      // a stream's client that shuts its side has left (a watch client never does otherwise): end the stream now, not at the next write
      if (this.stream !== undefined) this.stream.close('gone');
      else if (!this.busy) this.finish();
    });
    socket.on('close', () => this.stream?.close('gone'));
  }

  closeWhenIdle(): void {
    this.closeAfterAnswer = true;
    // a stream never ends by itself: ask it to finish (it writes its last line, ends, and the connection closes after it)
    if (this.stream !== undefined) return this.stream.close('closing');
    if (!this.busy && this.buffered.length === 0 && this.head === undefined) this.destroy();
  }

  /** Closes after the last answer was written. */
  private finish(): void {
    this.dead = true;
    this.waitingSince = this.server.sweepCount;
    this.socket.end();
  }

  destroy(): void {
    this.dead = true;
    this.socket.destroy();
  }

  checkTimeout(sweepCount: number): void {
    if (this.busy) return;
    const waitedMs = (sweepCount - this.waitingSince) * SWEEP_MS;
    // a closed connection whose client never closes its side is dropped like an idle one
    if (this.dead) return void (waitedMs > this.server.limits.keepAliveTimeoutMs && this.socket.destroy());
    const midRequest = this.head !== undefined || this.buffered.length > 0;
    const { keepAliveTimeoutMs, requestTimeoutMs } = this.server.limits;
    if (midRequest && waitedMs > requestTimeoutMs) this.fail(new ProtocolError(408, 'REQUEST_TIMEOUT', `the request did not arrive in full within ${requestTimeoutMs} ms`));
    else if (!midRequest && waitedMs > keepAliveTimeoutMs) this.destroy();
  }

  private onData(chunk: Buffer): void {
    // still read during a stream, so that a client's FIN or reset is seen, but keep nothing, unless
    // the connection outlives the stream: then what comes is the next request, kept as while busy
    if (this.dead || (this.stream !== undefined && !this.stream.keepAlive)) return;
    if (!this.busy && this.buffered.length === 0 && this.head === undefined) this.waitingSince = this.server.sweepCount;
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    if (this.busy) {
      // a pipelining client may send ahead; stop reading once a whole request's worth waits
      if (this.buffered.length > this.server.limits.maxHeaderBytes + this.server.limits.maxBodyBytes) this.socket.pause();
      return;
    }
    this.parse();
  }

  /** Parses as far as the buffered bytes allow; starts the handler once a request is complete. */
  private parse(): void {
    try {
      for (let steps = 0; steps < 1_000_000 && !this.busy && !this.dead; steps++) {
        if (this.head === undefined) {
          if (!this.readHead()) return;
        } else if (!this.readBody()) {
          return;
        }
      }
    } catch (err) {
      if (err instanceof ProtocolError) this.fail(err);
      else throw err;
    }
  }

  private readHead(): boolean {
    const { maxHeaderBytes } = this.server.limits;
    // tolerate empty lines before a request (RFC 9112 §2.2)
    while (this.buffered.length >= 2 && this.buffered[0] === 0x0d && this.buffered[1] === 0x0a) this.buffered = this.buffered.subarray(2);
    if (this.buffered.length === 0) return false;
    const end = this.buffered.indexOf(HEADER_END, Math.max(0, this.scannedBytes - 3));
    if (end < 0) {
      this.scannedBytes = this.buffered.length;
      if (this.buffered.length > maxHeaderBytes) throw new ProtocolError(431, 'HEADERS_TOO_LARGE', `request head exceeds ${maxHeaderBytes} bytes`);
      return false;
    }
    if (end > maxHeaderBytes) throw new ProtocolError(431, 'HEADERS_TOO_LARGE', `request head exceeds ${maxHeaderBytes} bytes`);
    const head = parseHead(this.buffered.toString('latin1', 0, end));
    this.buffered = this.buffered.subarray(end + HEADER_END.length);
    this.scannedBytes = 0;
    if (typeof head.framing === 'number' && head.framing > this.server.limits.maxBodyBytes) {
      throw new ProtocolError(413, 'BODY_TOO_LARGE', `request body of ${head.framing} bytes exceeds the limit of ${this.server.limits.maxBodyBytes}`);
    }
    const expect = head.headers.get('expect');
    if (expect !== undefined) {
      if (expect.toLowerCase() !== '100-continue') throw new ProtocolError(417, 'EXPECTATION_FAILED', `unsupported expectation: ${expect}`);
      if (head.framing !== 0) this.socket.write('HTTP/1.1 100 Continue\r\n\r\n');
    }
    this.head = head;
    this.chunks = [];
    this.chunkBytes = 0;
    this.chunkLeft = -1;
    this.inTrailers = false;
    return true;
  }

  /** Reads body bytes; true when the request was complete and has been started. */
  private readBody(): boolean {
    const head = this.head as Head;
    if (head.framing === 'chunked') {
      if (!this.readChunks()) return false;
      this.start(head, this.chunkBytes === 0 ? undefined : Buffer.concat(this.chunks, this.chunkBytes));
      return true;
    }
    if (this.buffered.length < head.framing) return false;
    const body = head.framing === 0 ? undefined : this.buffered.subarray(0, head.framing);
    this.buffered = this.buffered.subarray(head.framing);
    this.start(head, body);
    return true;
  }

  /** Consumes chunked-body bytes; true when the last chunk and the trailers have been read. */
  private readChunks(): boolean {
    const limit = this.server.limits.maxBodyBytes;
    for (;;) {
      if (this.chunkLeft > 0) {
        const take = Math.min(this.chunkLeft, this.buffered.length);
        if (take === 0) return false;
        this.chunks.push(this.buffered.subarray(0, take));
        this.buffered = this.buffered.subarray(take);
        this.chunkLeft -= take;
        continue;
      }
      const lineEnd = this.buffered.indexOf(CRLF);
      if (lineEnd < 0) {
        if (this.buffered.length > MAX_CHUNK_LINE_BYTES) throw new ProtocolError(400, 'BAD_HTTP', 'chunked body: a line is too long');
        return false;
      }
      const line = this.buffered.toString('latin1', 0, lineEnd);
      this.buffered = this.buffered.subarray(lineEnd + 2);
      if (this.inTrailers) {
        if (line === '') return true; // trailer fields are read and ignored
        continue;
      }
      if (this.chunkLeft === 0) {
        if (line !== '') throw new ProtocolError(400, 'BAD_HTTP', 'chunked body: chunk data is not followed by CRLF');
        this.chunkLeft = -1;
        continue;
      }
      const sizeText = (line.split(';', 1)[0] as string).trim();
      if (!/^[0-9a-fA-F]{1,8}$/.test(sizeText)) throw new ProtocolError(400, 'BAD_HTTP', `chunked body: bad chunk size "${sizeText.slice(0, 20)}"`);
      const size = parseInt(sizeText, 16);
      if (size === 0) {
        this.inTrailers = true;
        continue;
      }
      this.chunkBytes += size;
      if (this.chunkBytes > limit) throw new ProtocolError(413, 'BODY_TOO_LARGE', `request body exceeds the limit of ${limit} bytes`);
      // the CRLF after the data is checked when chunkLeft is back at 0 and the next line is read
      this.chunkLeft = size;
    }
  }

  private start(head: Head, body: Buffer | undefined): void {
    this.head = undefined;
    this.busy = true;
    if (!head.keepAlive) this.closeAfterAnswer = true;
    const request: HttpRequestIn = { method: head.method, target: head.target, headers: head.headers, body, remoteAddress: this.remoteAddress, ...(this.clientCertName === undefined ? {} : { clientCertName: this.clientCertName }) };
    let answered: Promise<HttpAnswer>;
    try {
      answered = this.server.options.handle(request);
    } catch (err) {
      answered = Promise.reject(err);
    }
    answered.then(
      (answer) => this.answer(head.method, answer),
      (err: unknown) => {
        this.server.options.onError?.(err);
        this.answer(head.method, errorAnswer(500, 'INTERNAL', 'internal error'));
      },
    );
  }

  private answer(method: string, answer: HttpAnswer): void {
    if (this.dead) return void answer.stream?.abandon();
    if (answer.stream !== undefined) {
      if (method !== 'HEAD' && !this.server.isClosing) return this.startStream(answer, answer.stream);
      answer.stream.abandon();
    }
    const close = this.closeAfterAnswer || this.server.isClosing;
    this.socket.write(formatAnswer(answer, method === 'HEAD', close, this.server.keepAliveSeconds));
    this.afterAnswer(close);
  }

  /** After an answer was written: closes, or goes on with the requests that came meanwhile. */
  private afterAnswer(close: boolean): void {
    this.busy = false;
    this.waitingSince = this.server.sweepCount;
    if (close) return this.finish();
    if (this.socket.isPaused()) this.socket.resume();
    if (this.buffered.length > 0) this.parse();
    if (this.peerEnded && !this.busy) this.finish();
  }

  /**
   * Sends a streamed answer's head and hands the socket to the stream until it ends; then the
   * connection closes, unless the stream and the client both keep it alive.
   */
  private startStream(answer: HttpAnswer, body: HttpStream): void {
    const keepAlive = body.keepAlive === true && !this.closeAfterAnswer;
    if (!keepAlive) this.closeAfterAnswer = true;
    let head = `HTTP/1.1 ${answer.status} ${REASONS[answer.status] ?? 'Unknown'}\r\n`;
    for (const name in answer.headers) head += `${name}: ${answer.headers[name] as string}\r\n`;
    const connection = keepAlive ? `keep-alive\r\nkeep-alive: timeout=${this.server.keepAliveSeconds}` : 'close';
    head += `transfer-encoding: chunked\r\ndate: ${httpDate()}\r\nconnection: ${connection}\r\n\r\n`;
    this.socket.write(head);
    if (!keepAlive) {
      // requests pipelined behind a closing stream are never answered: what the client sends now is dropped (onData)
      this.buffered = Buffer.alloc(0);
      if (this.socket.isPaused()) this.socket.resume();
    }
    const stream = new ConnectionStream(this.socket, keepAlive, (clean) => {
      this.stream = undefined;
      // a client gone mid-stream, or a server closing: nothing more on this connection
      this.afterAnswer(!clean || this.closeAfterAnswer || this.server.isClosing);
    });
    this.stream = stream;
    body.start(stream);
  }

  /** Answers a protocol error and closes: after one, the byte stream cannot be trusted. */
  private fail(err: ProtocolError): void {
    if (this.dead) return;
    this.dead = true;
    this.waitingSince = this.server.sweepCount;
    this.socket.end(formatAnswer(errorAnswer(err.status, err.code, err.message), false, true));
  }
}

/** The sink of one streamed answer: chunked writes on the connection's socket. */
class ConnectionStream implements StreamSink {
  private ended = false;
  private closeListeners: ((reason: StreamCloseReason) => void)[] = [];
  private closedFor: StreamCloseReason | undefined;

  constructor(
    private readonly socket: Socket,
    /** The connection serves more requests after the stream (see HttpStream.keepAlive). */
    readonly keepAlive: boolean,
    /** Called once when the stream is over: `clean` when it sent its last chunk (not when its client left). */
    private readonly onEnd: (clean: boolean) => void,
  ) {}

  get unsentBytes(): number {
    return this.socket.writableLength;
  }

  write(text: string): boolean {
    if (this.ended || this.closedFor === 'gone' || this.socket.destroyed) return false;
    const bytes = Buffer.byteLength(text);
    if (bytes === 0) return true;
    this.socket.write(`${bytes.toString(16)}\r\n${text}\r\n`);
    return true;
  }

  onDrain(listener: () => void): void {
    if (this.socket.writableLength === 0 || this.socket.destroyed) return void setImmediate(listener);
    let called = false;
    const once = (): void => {
      if (called) return;
      called = true;
      this.socket.off('drain', once);
      this.socket.off('close', once);
      listener();
    };
    this.socket.on('drain', once);
    this.socket.on('close', once);
  }

  onClose(listener: (reason: StreamCloseReason) => void): void {
    if (this.closedFor !== undefined) return void setImmediate(() => listener(this.closedFor as StreamCloseReason));
    this.closeListeners.push(listener);
  }

  /** The client left or the server is closing: tell the stream once (a `gone` after a `closing` is told too). */
  close(reason: StreamCloseReason): void {
    if (this.closedFor === 'gone' || (this.closedFor === 'closing' && reason === 'closing')) return;
    this.closedFor = reason;
    for (const listener of [...this.closeListeners]) listener(reason);
    if (reason === 'gone') {
      this.closeListeners = [];
      if (!this.ended) {
        this.ended = true;
        this.onEnd(false);
      }
    }
  }

  end(lastText?: string): void {
    if (this.ended) return;
    this.ended = true;
    const bytes = lastText === undefined ? 0 : Buffer.byteLength(lastText);
    if (!this.socket.destroyed) this.socket.write(bytes === 0 ? '0\r\n\r\n' : `${bytes.toString(16)}\r\n${lastText as string}\r\n0\r\n\r\n`);
    this.onEnd(!this.socket.destroyed);
  }
}

/** The common name of the client certificate a TLS socket verified against the CA; undefined without one. */
function verifiedClientName(socket: Socket): string | undefined {
  const tls = socket as Partial<TLSSocket>;
  if (tls.encrypted !== true || tls.authorized !== true || tls.getPeerCertificate === undefined) return undefined;
  const cn = tls.getPeerCertificate().subject?.CN;
  return typeof cn === 'string' && cn.length > 0 ? cn : undefined;
}

/** Parses a request line and header fields (the text before the blank line). */
export function parseHead(text: string): Head {
  // indexOf scans and a character table, not split and regular expressions: this runs per request
  const lineEnd = text.indexOf('\r\n');
  const requestLine = lineEnd < 0 ? text : text.slice(0, lineEnd);
  const firstSpace = requestLine.indexOf(' ');
  const secondSpace = requestLine.indexOf(' ', firstSpace + 1);
  if (firstSpace <= 0 || secondSpace < 0 || requestLine.indexOf(' ', secondSpace + 1) >= 0) throw malformedRequestLine(requestLine);
  const method = requestLine.slice(0, firstSpace);
  const target = requestLine.slice(firstSpace + 1, secondSpace);
  const version = requestLine.slice(secondSpace + 1);
  if (!isToken(method)) throw new ProtocolError(400, 'BAD_HTTP', `malformed method: ${JSON.stringify(method.slice(0, 40))}`);
  if (version !== 'HTTP/1.1' && version !== 'HTTP/1.0') {
    if (/^HTTP\/\d(\.\d)?$/.test(version)) throw new ProtocolError(505, 'HTTP_VERSION', `${version} is not supported; use HTTP/1.1`);
    throw malformedRequestLine(requestLine);
  }
  if (target.length === 0 || hasControlOrSpace(target, false)) throw new ProtocolError(400, 'BAD_HTTP', 'malformed request target');
  // a target is ASCII (RFC 9112 §3.2): raw bytes above it would be read as Latin-1 and name another key than the client meant
  if (!isAscii(target)) throw new ProtocolError(400, 'BAD_HTTP', 'the request target holds bytes outside ASCII: percent-encode them');
  const headers = new Map<string, string>();
  let at = lineEnd < 0 ? text.length : lineEnd + 2;
  while (at < text.length) {
    const end = text.indexOf('\r\n', at);
    const stop = end < 0 ? text.length : end;
    const colon = text.indexOf(':', at);
    if (colon <= at || colon > stop) throw new ProtocolError(400, 'BAD_HTTP', `malformed header line: ${JSON.stringify(text.slice(at, Math.min(stop, at + 100)))}`);
    const name = text.slice(at, colon);
    if (!isToken(name)) throw new ProtocolError(400, 'BAD_HTTP', `malformed header name: ${JSON.stringify(name.slice(0, 60))}`);
    const value = text.slice(colon + 1, stop).trim();
    if (hasControlOrSpace(value, true)) throw new ProtocolError(400, 'BAD_HTTP', `header ${name} holds a control character`);
    const key = name.toLowerCase();
    const previous = headers.get(key);
    headers.set(key, previous === undefined ? value : `${previous}, ${value}`);
    at = stop + 2;
  }
  return { method, target, headers, keepAlive: keepAliveOf(version, headers.get('connection')), framing: framingOf(headers) };
}

function malformedRequestLine(line: string): ProtocolError {
  return new ProtocolError(400, 'BAD_HTTP', `malformed request line: ${JSON.stringify(line.slice(0, 100))}`);
}

/** tchar of RFC 9110 §5.6.2, by character code. */
const TOKEN_CHARS = (() => {
  const table = new Uint8Array(128);
  for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") table[c.charCodeAt(0)] = 1;
  return table;
})();

function isToken(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 128 || TOKEN_CHARS[code] === 0) return false;
  }
  return true;
}

/** Control characters (tab allowed when `inValue`), and spaces unless `inValue`. */
function hasControlOrSpace(text: string, inValue: boolean): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x7f || (code < 0x20 && !(inValue && code === 0x09)) || (code === 0x20 && !inValue)) return true;
  }
  return false;
}

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7e) return false;
  return true;
}

function keepAliveOf(version: string, connection: string | undefined): boolean {
  if (connection === undefined) return version === 'HTTP/1.1';
  const options = (connection ?? '').toLowerCase().split(',').map((s) => s.trim());
  if (options.includes('close')) return false;
  return version === 'HTTP/1.1' || options.includes('keep-alive');
}

function framingOf(headers: ReadonlyMap<string, string>): number | 'chunked' {
  const coding = headers.get('transfer-encoding');
  const length = headers.get('content-length');
  if (coding !== undefined) {
    // both framings at once is how requests are smuggled past proxies: refuse it
    if (length !== undefined) throw new ProtocolError(400, 'BAD_HTTP', 'both Transfer-Encoding and Content-Length given');
    if (coding.toLowerCase() !== 'chunked') throw new ProtocolError(501, 'NOT_IMPLEMENTED', `transfer coding "${coding}" is not supported; use chunked or Content-Length`);
    return 'chunked';
  }
  if (length === undefined) return 0;
  if (/^\d{1,15}$/.test(length)) return Number(length);
  const values = new Set(length.split(',').map((s) => s.trim()));
  const only = [...values][0] as string;
  if (values.size !== 1 || !/^\d{1,15}$/.test(only)) throw new ProtocolError(400, 'BAD_HTTP', `malformed Content-Length: ${JSON.stringify(length.slice(0, 40))}`);
  return Number(only);
}

let dateSecond = -1;
let dateText = '';

/** The Date header's value, formatted at most once a second. */
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(now).toUTCString();
  }
  return dateText;
}

/** `keepAliveSeconds` is announced so that clients stop reusing a connection before the server drops it. */
function formatAnswer(answer: HttpAnswer, headOnly: boolean, close: boolean, keepAliveSeconds = 0): string {
  let head = `HTTP/1.1 ${answer.status} ${REASONS[answer.status] ?? 'Unknown'}\r\n`;
  for (const name in answer.headers) head += `${name}: ${answer.headers[name] as string}\r\n`;
  const connection = close ? 'close' : `keep-alive\r\nkeep-alive: timeout=${keepAliveSeconds}`;
  head += `content-length: ${Buffer.byteLength(answer.body)}\r\ndate: ${httpDate()}\r\nconnection: ${connection}\r\n\r\n`;
  return headOnly ? head : head + answer.body;
}

/** A JSON answer (one line of JSON and a newline). */
export function jsonAnswer(status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): HttpAnswer {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) + '\n' };
}

/** The API's one error shape: { error: { code, message } }. */
export function errorAnswer(status: number, code: string, message: string): HttpAnswer {
  return jsonAnswer(status, { error: { code, message } });
}
