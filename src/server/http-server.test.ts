// The lean HTTP/1.1 server against real sockets: keep-alive, pipelining, both body framings,
// 100-continue, HEAD, limits and malformed input (answered, connection closed, server unharmed),
// with Node's own http client and fetch as well as hand-written bytes.
import { connect } from 'node:net';
import { request as httpRequest, Agent, type IncomingMessage } from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpServer, parseHead, type HttpAnswer, type HttpRequestIn, type StreamSink } from './http-server.js';

let server: HttpServer;
let base = '';
const seen: HttpRequestIn[] = [];

beforeAll(async () => {
  server = await HttpServer.listen({
    host: '127.0.0.1',
    port: 0,
    maxBodyBytes: 1000,
    maxHeaderBytes: 2000,
    handle: async (req) => {
      seen.push(req);
      if (req.target === '/throw') throw new Error('handler failed');
      if (req.target.startsWith('/slow')) await new Promise((r) => setTimeout(r, 30));
      const body = JSON.stringify({ method: req.method, target: req.target, body: req.body?.toString('utf8') ?? null, host: req.headers.get('host') ?? null }) + '\n';
      return { status: 200, headers: { 'content-type': 'application/json' }, body };
    },
    onError: () => {},
  });
  base = `http://127.0.0.1:${server.port}`;
});

afterAll(() => server.close(1000));

/** Sends raw bytes (in the given pieces) and collects everything until the server closes or `untilCount` answers arrived. */
function exchange(pieces: readonly (string | Buffer)[], options: { untilAnswers?: number; halfClose?: boolean } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, '127.0.0.1');
    let received = '';
    socket.on('data', (d) => {
      received += d.toString('latin1');
      if (options.untilAnswers !== undefined && (received.match(/HTTP\/1\.1 \d{3}/g) ?? []).length - (received.match(/HTTP\/1\.1 100/g) ?? []).length >= options.untilAnswers) {
        socket.destroy();
        resolve(received);
      }
    });
    socket.on('close', () => resolve(received));
    socket.on('error', reject);
    socket.on('connect', () => {
      for (const piece of pieces) socket.write(piece);
      if (options.halfClose === true) socket.end();
    });
  });
}

function bodiesOf(raw: string): unknown[] {
  return [...raw.matchAll(/\r\n\r\n(\{.*\})\n/g)].map((m) => JSON.parse(m[1] as string) as unknown);
}

describe('HttpServer', () => {
  it('serves Node http and fetch clients over keep-alive', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const ask = (path: string, body?: string): Promise<{ status: number; text: string; connection: string | undefined }> =>
      new Promise((resolve, reject) => {
        const req = httpRequest(`${base}${path}`, { method: body === undefined ? 'GET' : 'PUT', agent, headers: body === undefined ? {} : { 'content-length': Buffer.byteLength(body) } }, (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString('utf8')));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text, connection: res.headers.connection }));
        });
        req.on('error', reject);
        req.end(body);
      });
    const first = await ask('/a?x=1', '{"v":"é"}');
    const second = await ask('/b');
    agent.destroy();
    expect(first.status).toBe(200);
    expect(JSON.parse(first.text)).toMatchObject({ method: 'PUT', target: '/a?x=1', body: '{"v":"é"}' });
    expect(second.connection).toBe('keep-alive');
    const res = await fetch(`${base}/c`, { method: 'POST', body: JSON.stringify({ k: 1 }) });
    expect(await res.json()).toMatchObject({ method: 'POST', body: '{"k":1}' });
  });

  it('answers pipelined requests in order, even when the first is slower', async () => {
    const raw = await exchange(['GET /slow HTTP/1.1\r\nhost: h\r\n\r\nGET /fast HTTP/1.1\r\nhost: h\r\n\r\nPUT /p HTTP/1.1\r\ncontent-length: 2\r\n\r\nhi'], { untilAnswers: 3 });
    expect(bodiesOf(raw).map((b) => (b as { target: string }).target)).toEqual(['/slow', '/fast', '/p']);
    expect(raw).toContain('connection: keep-alive\r\nkeep-alive: timeout=5\r\n');
  });

  it('reads a request split at every byte', async () => {
    const text = 'PUT /split HTTP/1.1\r\nhost: h\r\ncontent-length: 5\r\n\r\nhello';
    const raw = await exchange([...text].map((c) => c), { untilAnswers: 1 });
    expect(bodiesOf(raw)).toEqual([{ method: 'PUT', target: '/split', body: 'hello', host: 'h' }]);
  });

  it('decodes chunked bodies with extensions and trailers', async () => {
    const raw = await exchange(['POST /ch HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n', '3;ext=1\r\nabc\r\n', '2\r\nde\r\n0\r\nx-trailer: t\r\n\r\n'], { untilAnswers: 1 });
    expect(bodiesOf(raw)).toEqual([{ method: 'POST', target: '/ch', body: 'abcde', host: null }]);
  });

  it('sends 100 Continue before reading a body that expects it', async () => {
    const socket = connect(server.port, '127.0.0.1');
    const got: string[] = [];
    const answered = new Promise<void>((resolve) =>
      socket.on('data', (d) => {
        got.push(d.toString('latin1'));
        if (got.join('').includes('\r\n\r\n{')) resolve();
        else if (got.join('').startsWith('HTTP/1.1 100 Continue\r\n\r\n')) socket.write('12345');
      }),
    );
    socket.write('PUT /e HTTP/1.1\r\nexpect: 100-continue\r\ncontent-length: 5\r\n\r\n');
    await answered;
    socket.destroy();
    expect(bodiesOf(got.join(''))).toEqual([{ method: 'PUT', target: '/e', body: '12345', host: null }]);
  });

  it('answers HEAD without a body but with its length', async () => {
    const raw = await exchange(['HEAD /head HTTP/1.1\r\n\r\nGET /after HTTP/1.1\r\n\r\n'], { untilAnswers: 2 });
    const [headAnswer, getAnswer] = raw.split(/(?=HTTP\/1\.1 200)/);
    expect(headAnswer).toMatch(/content-length: \d+\r\n/);
    expect(headAnswer).toMatch(/\r\n\r\n$/);
    expect(bodiesOf(getAnswer as string)).toEqual([{ method: 'GET', target: '/after', body: null, host: null }]);
  });

  it('closes after answering Connection: close, HTTP/1.0, or a client that shut its side', async () => {
    for (const request of ['GET /x HTTP/1.1\r\nconnection: close\r\n\r\n', 'GET /x HTTP/1.0\r\n\r\n']) {
      const raw = await exchange([request]); // resolves only when the server closes
      expect(raw).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(raw).toContain('connection: close');
    }
    const raw = await exchange(['GET /slow1 HTTP/1.1\r\n\r\nGET /x2 HTTP/1.1\r\n\r\n'], { halfClose: true });
    expect(bodiesOf(raw).map((b) => (b as { target: string }).target)).toEqual(['/slow1', '/x2']);
  });

  it('refuses bodies and heads over the limits, and malformed requests, with a JSON error, then closes', async () => {
    const cases: [string, number, string][] = [
      ['PUT /big HTTP/1.1\r\ncontent-length: 1001\r\n\r\n', 413, 'BODY_TOO_LARGE'],
      [`POST /big HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n3e9\r\n${'x'.repeat(1001)}\r\n0\r\n\r\n`, 413, 'BODY_TOO_LARGE'],
      [`GET /h HTTP/1.1\r\nx-long: ${'y'.repeat(2100)}\r\n\r\n`, 431, 'HEADERS_TOO_LARGE'],
      ['GET /h HTTP/1.1\r\ncontent-length: 2\r\ntransfer-encoding: chunked\r\n\r\n', 400, 'BAD_HTTP'],
      ['GET /h HTTP/1.1\r\ncontent-length: 1, 2\r\n\r\n', 400, 'BAD_HTTP'],
      ['GET /h HTTP/1.1\r\ncontent-length: -1\r\n\r\n', 400, 'BAD_HTTP'],
      ['POST /h HTTP/1.1\r\ntransfer-encoding: gzip\r\n\r\n', 501, 'NOT_IMPLEMENTED'],
      ['POST /h HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n', 400, 'BAD_HTTP'],
      ['GET /h HTTP/1.1\r\nexpect: magic\r\n\r\n', 417, 'EXPECTATION_FAILED'],
      ['PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 505, 'HTTP_VERSION'],
      ['GET /h\r\n\r\n', 400, 'BAD_HTTP'],
      ['GET  /h HTTP/1.1\r\n\r\n', 400, 'BAD_HTTP'],
      ['GET /h HTTP/1.1\r\nbad header\r\n\r\n', 400, 'BAD_HTTP'],
      ['GET /h HTTP/1.1\r\n folded: x\r\n\r\n', 400, 'BAD_HTTP'],
    ];
    for (const [request, status, code] of cases) {
      const raw = await exchange([request]);
      expect(raw, request.slice(0, 60)).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
      expect(raw).toContain(`"code":"${code}"`);
      expect(raw).toContain('connection: close');
    }
    const handled = seen.filter((r) => r.target === '/h' || r.target === '/big');
    expect(handled).toEqual([]);
  });

  it('answers 500 when the handler throws, and keeps the connection', async () => {
    const raw = await exchange(['GET /throw HTTP/1.1\r\n\r\nGET /ok HTTP/1.1\r\n\r\n'], { untilAnswers: 2 });
    expect(raw).toMatch(/^HTTP\/1\.1 500 /);
    expect(raw).toContain('"code":"INTERNAL"');
    expect(bodiesOf(raw).at(-1)).toMatchObject({ target: '/ok' });
  });

  it('survives random bytes and keeps serving', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 4 }), async (pieces) => {
        const socket = connect(server.port, '127.0.0.1');
        await new Promise<void>((resolve) => socket.on('connect', resolve));
        for (const piece of pieces) socket.write(piece);
        await new Promise((r) => setTimeout(r, 2));
        socket.destroy();
      }),
      { numRuns: 150, seed: 7 },
    );
    const res = await fetch(`${base}/still-here`);
    expect(res.status).toBe(200);
  });
});

describe('parseHead', () => {
  it('reads the request line, joins repeated headers and lower-cases names', () => {
    const head = parseHead('GET /a?b=1 HTTP/1.1\r\nHost: x\r\nX-A: 1\r\nx-a: 2\r\nContent-Length: 3');
    expect(head).toMatchObject({ method: 'GET', target: '/a?b=1', keepAlive: true, framing: 3 });
    expect(head.headers.get('x-a')).toBe('1, 2');
    expect(head.headers.get('host')).toBe('x');
  });

  it('keeps HTTP/1.0 alive only when asked', () => {
    expect(parseHead('GET / HTTP/1.0').keepAlive).toBe(false);
    expect(parseHead('GET / HTTP/1.0\r\nConnection: Keep-Alive').keepAlive).toBe(true);
    expect(parseHead('GET / HTTP/1.1\r\nConnection: close').keepAlive).toBe(false);
  });
});

describe('HttpServer.close', () => {
  it('lets a request under way finish, then closes its connection', async () => {
    const own = await HttpServer.listen({
      host: '127.0.0.1',
      port: 0,
      handle: async () => {
        await new Promise((r) => setTimeout(r, 50));
        return { status: 200, headers: {}, body: 'done' };
      },
    });
    const port = own.port;
    const answer = new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      let text = '';
      socket.on('data', (d) => (text += d.toString('latin1')));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
      socket.write('GET / HTTP/1.1\r\n\r\n');
    });
    await new Promise((r) => setTimeout(r, 10));
    expect(own.inFlight).toBe(1);
    await own.close(2000);
    const text = await answer;
    expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(text).toContain('connection: close');
    expect(text.endsWith('done')).toBe(true);
  });
});

describe('streamed answers', () => {
  /** A server whose every answer is a stream: it writes `hello`, then `bye` when asked to close, and tells the test how it ended. */
  async function streamingServer(): Promise<{ server: HttpServer; events: string[] }> {
    const events: string[] = [];
    const server = await HttpServer.listen({
      host: '127.0.0.1',
      port: 0,
      handle: async () => ({
        status: 200,
        headers: { 'content-type': 'application/x-ndjson' },
        body: '',
        stream: {
          start: (sink: StreamSink) => {
            events.push('start');
            sink.write('hello\n');
            sink.onClose((reason) => {
              events.push(`close:${reason}`);
              if (reason === 'closing') {
                sink.write('bye\n');
                sink.end();
              }
            });
          },
          abandon: () => events.push('abandon'),
        },
      }),
    });
    return { server, events };
  }

  it('sends chunks as they are written and, when the server closes, lets the stream write its last line and end cleanly', async () => {
    const { server: own, events } = await streamingServer();
    const res = await new Promise<IncomingMessage>((resolve, reject) => httpRequest(`http://127.0.0.1:${own.port}/`, { agent: false }, resolve).on('error', reject).end());
    expect(res.headers['transfer-encoding']).toBe('chunked');
    expect(res.headers['connection']).toBe('close');
    let text = '';
    res.setEncoding('utf8');
    const first = new Promise<void>((r) => res.once('data', (d: string) => ((text += d), r())));
    await first;
    expect(text).toBe('hello\n');
    res.on('data', (d: string) => (text += d));
    const ended = new Promise<boolean>((r) => res.on('end', () => r(res.complete)));
    await own.close(2000);
    expect(await ended).toBe(true);
    expect(text).toBe('hello\nbye\n');
    expect(events).toEqual(['start', 'close:closing']);
  });

  it('tells the stream when its client leaves, and abandons it for HEAD', async () => {
    const { server: own, events } = await streamingServer();
    try {
      const head = await fetch(`http://127.0.0.1:${own.port}/`, { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(events).toEqual(['abandon']);
      const socket = connect(own.port, '127.0.0.1');
      let got = '';
      await new Promise<void>((resolve) => {
        socket.on('data', (d) => {
          got += d.toString('latin1');
          if (got.includes('hello')) resolve();
        });
        socket.write('GET / HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n');
      });
      socket.destroy();
      const waitUntil = async (): Promise<void> => {
        for (let i = 0; i < 100 && !events.includes('close:gone'); i++) await new Promise((r) => setTimeout(r, 10));
      };
      await waitUntil();
      expect(events).toEqual(['abandon', 'start', 'close:gone']);
    } finally {
      await own.close(1000);
    }
  });

  /** A server whose /once answer is a keep-alive stream that writes `a`, then `b` a little later, and ends; any other target gets a plain answer naming it. */
  async function onceServer(): Promise<{ server: HttpServer; events: string[] }> {
    const events: string[] = [];
    const server = await HttpServer.listen({
      host: '127.0.0.1',
      port: 0,
      handle: async (req): Promise<HttpAnswer> => {
        if (req.target !== '/once') return { status: 200, headers: {}, body: `plain ${req.target}\n` };
        return {
          status: 200,
          headers: { 'content-type': 'application/x-ndjson' },
          body: '',
          stream: {
            keepAlive: true,
            start: (sink: StreamSink) => {
              events.push('start');
              sink.write('a\n');
              const timer = setTimeout(() => {
                sink.write('b\n');
                sink.end();
              }, 30);
              sink.onClose((reason) => {
                events.push(`close:${reason}`);
                clearTimeout(timer);
                if (reason === 'closing') sink.end();
              });
            },
            abandon: () => events.push('abandon'),
          },
        };
      },
    });
    return { server, events };
  }

  it('keeps the connection of a keep-alive stream that ended: requests pipelined behind it are answered after it, in order', async () => {
    const { server: own, events } = await onceServer();
    try {
      const raw = await new Promise<string>((resolve, reject) => {
        const socket = connect(own.port, '127.0.0.1');
        let got = '';
        socket.on('data', (d) => {
          got += d.toString('latin1');
          if (got.includes('plain /second')) {
            socket.destroy();
            resolve(got);
          }
        });
        socket.on('error', reject);
        // three requests in one write: the stream's, then two more that wait for it to end
        socket.write('GET /once HTTP/1.1\r\nhost: x\r\n\r\nGET /first HTTP/1.1\r\nhost: x\r\n\r\nGET /second HTTP/1.1\r\nhost: x\r\n\r\n');
      });
      const [streamed, first, second] = raw.split(/(?=HTTP\/1\.1 )/);
      expect(streamed).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(streamed).toMatch(/\r\nconnection: keep-alive\r\nkeep-alive: timeout=\d+\r\n/);
      expect(streamed).toMatch(/transfer-encoding: chunked\r\n/);
      expect(streamed).toMatch(/\r\n\r\n2\r\na\n\r\n2\r\nb\n\r\n0\r\n\r\n$/);
      expect(first).toMatch(/connection: keep-alive/);
      expect(first).toMatch(/plain \/first\n$/);
      expect(second).toMatch(/plain \/second\n$/);
      expect(events).toEqual(['start']);
    } finally {
      await own.close(1000);
    }
  });

  it('gives the connection of an ended keep-alive stream back to a Node keep-alive agent, which reuses it', async () => {
    const { server: own } = await onceServer();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const get = (path: string): Promise<{ text: string; reused: boolean; complete: boolean }> =>
        new Promise((resolve, reject) => {
          const req = httpRequest(`http://127.0.0.1:${own.port}${path}`, { agent }, (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (d: string) => (text += d));
            res.on('end', () => resolve({ text, reused: req.reusedSocket, complete: res.complete }));
          });
          req.on('error', reject);
          req.end();
        });
      expect(await get('/once')).toEqual({ text: 'a\nb\n', reused: false, complete: true });
      expect(await get('/once')).toEqual({ text: 'a\nb\n', reused: true, complete: true });
      expect(await get('/after')).toEqual({ text: 'plain /after\n', reused: true, complete: true });
      let sockets = 0;
      for (const list of Object.values(agent.freeSockets)) sockets += list?.length ?? 0;
      expect(sockets).toBe(1);
    } finally {
      agent.destroy();
      await own.close(1000);
    }
  });

  it('closes after a keep-alive stream when the client asked to close, left mid-stream, or the server is closing', async () => {
    const { server: own, events } = await onceServer();
    try {
      // Connection: close wins: the head says close, and the connection ends after the stream
      const closed = await new Promise<string>((resolve, reject) => {
        const socket = connect(own.port, '127.0.0.1');
        let got = '';
        socket.on('data', (d) => (got += d.toString('latin1')));
        socket.on('close', () => resolve(got));
        socket.on('error', reject);
        socket.write('GET /once HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\nGET /never HTTP/1.1\r\nhost: x\r\n\r\n');
      });
      expect(closed).toMatch(/\r\nconnection: close\r\n/);
      expect(closed).toMatch(/0\r\n\r\n$/);
      expect(closed).not.toMatch(/never/);
      // a client that shuts its side mid-stream has left: the stream is told, the connection closes
      const left = await new Promise<string>((resolve, reject) => {
        const socket = connect(own.port, '127.0.0.1');
        let got = '';
        socket.on('data', (d) => {
          got += d.toString('latin1');
          if (got.includes('a\n')) socket.end();
        });
        socket.on('close', () => resolve(got));
        socket.on('error', reject);
        socket.write('GET /once HTTP/1.1\r\nhost: x\r\n\r\n');
      });
      expect(left).not.toMatch(/b\n/);
      expect(events).toEqual(['start', 'start', 'close:gone']);
      // the server closing mid-stream: the stream ends, then the connection
      const socket = connect(own.port, '127.0.0.1');
      let got = '';
      const ended = new Promise<void>((resolve) => socket.on('close', () => resolve()));
      socket.on('data', (d) => (got += d.toString('latin1')));
      await new Promise<void>((resolve) => socket.on('connect', () => resolve()));
      socket.write('GET /once HTTP/1.1\r\nhost: x\r\n\r\n');
      for (let i = 0; i < 100 && !got.includes('a\n'); i++) await new Promise((r) => setTimeout(r, 5));
      await own.close(1000);
      await ended;
      expect(got).toMatch(/2\r\na\n\r\n0\r\n\r\n$/);
      expect(events.slice(3)).toEqual(['start', 'close:closing']);
    } finally {
      await own.close(1000);
    }
  });
});
