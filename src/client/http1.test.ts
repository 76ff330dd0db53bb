// The client library's lean HTTP/1.1 client against raw servers that answer exactly as each test
// says: Content-Length, chunked (byte by byte), until-close and empty answers, keep-alive reuse and
// its limits, malformed and oversized answers (a clear failure, the next call on a new connection),
// timeouts, aborts, queueing beyond maxSockets, and TLS with a trusted and an unknown CA.
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { createCa } from '../net/test/certs.js';
import { AnswerParser, Http1Client, Http1Failure, MAX_ANSWER_HEAD_BYTES, type Http1Call } from './http1.js';

interface RawServer {
  readonly url: string;
  /** Connections accepted so far. */
  connections: number;
  /** Every request head received, in order. */
  readonly heads: string[];
  close(): Promise<void>;
}

type Reply = (socket: Socket, head: string, index: number) => void;

const servers: { close(): Promise<void> }[] = [];
const clients: Http1Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** A server that reads request heads (and Content-Length bodies) and answers each with `reply`. */
async function rawServer(reply: Reply, listen: Server = createServer()): Promise<RawServer> {
  const sockets = new Set<Socket>();
  const state: RawServer = {
    url: '',
    connections: 0,
    heads: [],
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        listen.close(() => resolve());
      }),
  };
  listen.on('addContext' in listen ? 'secureConnection' : 'connection', (socket: Socket) => {
    state.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffered = '';
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1');
      // bounded: each turn takes one whole request off the buffer
      for (;;) {
        const end = buffered.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buffered.slice(0, end);
        const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
        if (buffered.length < end + 4 + length) return;
        buffered = buffered.slice(end + 4 + length);
        state.heads.push(head);
        reply(socket, head, state.heads.length - 1);
      }
    });
  });
  await new Promise<void>((resolve) => listen.listen(0, '127.0.0.1', resolve));
  const scheme = 'addContext' in listen ? 'https' : 'http';
  (state as { url: string }).url = `${scheme}://127.0.0.1:${(listen.address() as AddressInfo).port}`;
  servers.push(state);
  return state;
}

function client(options: Partial<ConstructorParameters<typeof Http1Client>[0]> = {}): Http1Client {
  const c = new Http1Client({ maxSockets: 4, ...options });
  clients.push(c);
  return c;
}

const get = (extra: Partial<Http1Call> = {}): Http1Call => ({ method: 'GET', path: '/v1/x', headers: { accept: 'application/json' }, timeoutMs: 5000, ...extra });
const json = (socket: Socket, status: number, body: string, extraHeaders = ''): void =>
  void socket.write(`HTTP/1.1 ${status} OK\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extraHeaders}\r\n${body}`);

async function failureOf(call: Promise<unknown>): Promise<Http1Failure> {
  try {
    await call;
  } catch (err) {
    expect(err).toBeInstanceOf(Http1Failure);
    return err as Http1Failure;
  }
  throw new Error('the call succeeded');
}

describe('Http1Client', () => {
  it('sends one request head with host, headers and body length, and reuses the connection', async () => {
    const server = await rawServer((s, _head, i) => json(s, 200, `{"n":${i}}`));
    const c = client();
    const first = await c.request(server.url, get({ method: 'PUT', path: '/v1/kv/a%20b', body: '{"value":"é"}', headers: { 'content-type': 'application/json', authorization: 'Bearer t' } }));
    const second = await c.request(server.url, get());
    expect([first.status, first.body.toString(), second.body.toString()]).toEqual([200, '{"n":0}', '{"n":1}']);
    expect(server.connections).toBe(1);
    expect(server.heads[0]).toBe(`PUT /v1/kv/a%20b HTTP/1.1\r\nhost: ${server.url.slice(7)}\r\ncontent-type: application/json\r\nauthorization: Bearer t\r\ncontent-length: 14`);
  });

  it('reads a chunked answer sent one byte at a time, with extensions and trailers', async () => {
    const answer = 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\nA\r\n, chunked!\r\n0\r\nx-trailer: 1\r\n\r\n';
    const server = await rawServer((s) => {
      // bounded: one write per byte of a short answer, each in a turn of its own
      const writeFrom = (i: number): void => {
        if (i >= answer.length) return;
        s.write(answer[i] as string);
        setImmediate(() => writeFrom(i + 1));
      };
      writeFrom(0);
    });
    const reply = await client().request(server.url, get());
    expect(reply.body.toString()).toBe('hello, chunked!');
  });

  it('reads empty, interim and until-close answers, and opens a new connection after a close', async () => {
    const server = await rawServer((s, _h, i) => {
      if (i === 0) s.write('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n');
      else if (i === 1) s.end('HTTP/1.1 200 OK\r\n\r\nuntil the close');
      else json(s, 200, '{}', 'connection: close\r\n');
    });
    const c = client();
    expect((await c.request(server.url, get())).status).toBe(204);
    expect((await c.request(server.url, get())).body.toString()).toBe('until the close');
    expect((await c.request(server.url, get())).status).toBe(200);
    expect((await c.request(server.url, get())).status).toBe(200);
    expect(server.connections).toBe(3);
  });

  it('opens a new connection when the node closed an idle one or said it keeps them too briefly', async () => {
    const server = await rawServer((s, _h, i) => {
      if (i === 0) json(s, 200, '{}', 'keep-alive: timeout=1\r\n');
      else if (i === 1) json(s, 200, '{}');
      else {
        json(s, 200, '{}');
        setTimeout(() => s.end(), 10);
      }
    });
    const c = client();
    await c.request(server.url, get());
    await c.request(server.url, get()); // timeout=1 leaves no reuse: a second connection
    expect(server.connections).toBe(2);
    await c.request(server.url, get()); // reused, then closed by the node while idle
    await new Promise((r) => setTimeout(r, 100));
    expect((await c.request(server.url, get())).status).toBe(200);
    expect(server.connections).toBe(3);
  });

  it.each([
    ['a bad status line', 'HTTP/2 200 OK\r\n\r\n'],
    ['a header line without a colon', 'HTTP/1.1 200 OK\r\nbroken\r\n\r\n'],
    ['a bad content-length', 'HTTP/1.1 200 OK\r\ncontent-length: 12x\r\n\r\n'],
    ['two content-lengths', 'HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\nab'],
    ['both length and chunked', 'HTTP/1.1 200 OK\r\ncontent-length: 1\r\ntransfer-encoding: chunked\r\n\r\n'],
    ['an unsupported coding', 'HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, chunked\r\n\r\n'],
    ['a bad chunk size', 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n'],
    ['a chunk without its CRLF', 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n1\r\nab\r\n0\r\n\r\n'],
    ['a body too large to hold', 'HTTP/1.1 200 OK\r\ncontent-length: 99999999999\r\n\r\n'],
    ['a head too large', `HTTP/1.1 200 OK\r\nx: ${'a'.repeat(MAX_ANSWER_HEAD_BYTES)}\r\n\r\n`],
    ['bytes nobody asked for', null],
  ])('fails a call clearly on %s, and the next call gets a new connection', async (what, answer) => {
    const server = await rawServer((s, _h, i) => {
      if (i > 0) return json(s, 200, '{"ok":true}');
      if (answer !== null) return void s.write(answer);
      json(s, 200, '{}');
      setTimeout(() => s.write('HTTP/1.1 200 OK\r\n\r\n'), 20);
    });
    const c = client();
    if (answer === null) {
      await c.request(server.url, get());
      await new Promise((r) => setTimeout(r, 100));
    } else {
      const failure = await failureOf(c.request(server.url, get()));
      expect(failure.message, what).toMatch(/^a malformed answer: /);
      expect(failure.sent).toBe(true);
    }
    expect((await c.request(server.url, get())).body.toString()).toBe('{"ok":true}');
    expect(server.connections).toBe(2);
  });

  it('fails when the node closes mid-answer (sent), or cannot be reached (not sent)', async () => {
    const server = await rawServer((s) => s.end('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc'));
    const midway = await failureOf(client().request(server.url, get()));
    expect([midway.message, midway.sent]).toEqual(['the connection closed before the answer was complete', true]);
    const port = Number(new URL(server.url).port);
    await server.close();
    servers.length = 0;
    const refused = await failureOf(client().request(`http://127.0.0.1:${port}`, get()));
    expect([refused.sent, refused.socketError?.code]).toEqual([false, 'ECONNREFUSED']);
  });

  it('gives up after the timeout or on abort, closing that connection', async () => {
    const server = await rawServer(() => undefined);
    const c = client();
    const timedOut = await failureOf(c.request(server.url, get({ timeoutMs: 50 })));
    expect([timedOut.message, timedOut.sent]).toEqual(['no answer within 50 ms', true]);
    const controller = new AbortController();
    const aborted = c.request(server.url, get({ signal: controller.signal }));
    setTimeout(() => controller.abort(), 20);
    expect((await failureOf(aborted)).message).toBe('aborted');
    expect((await failureOf(c.request(server.url, get({ signal: AbortSignal.abort() })))).sent).toBe(false);
    expect(server.connections).toBe(2);
  });

  it('queues calls beyond maxSockets in order, and drops a queued call that gives up', async () => {
    const pending: (() => void)[] = [];
    const server = await rawServer((s, _h, i) => pending.push(() => json(s, 200, String(i))));
    const c = client({ maxSockets: 1 });
    const first = c.request(server.url, get());
    const gaveUp = c.request(server.url, get({ timeoutMs: 30 }));
    const third = c.request(server.url, get());
    expect((await failureOf(gaveUp)).sent).toBe(false);
    await new Promise((r) => setTimeout(r, 20));
    pending.shift()?.();
    expect((await first).body.toString()).toBe('0');
    await new Promise((r) => setTimeout(r, 20));
    pending.shift()?.();
    expect((await third).body.toString()).toBe('1');
    expect(server.connections).toBe(1);
  });

  it('refuses a header or target that would break the request, sending nothing', async () => {
    const server = await rawServer((s) => json(s, 200, '{}'));
    const c = client();
    for (const call of [get({ headers: { authorization: 'x\r\nx-injected: 1' } }), get({ path: '/v1/a b' }), get({ path: '/v1/é' }), get({ method: 'GE T' })]) {
      const failure = await failureOf(c.request(server.url, call));
      expect(failure.sent).toBe(false);
    }
    expect(server.heads).toEqual([]);
    expect((await failureOf(c.request('ftp://127.0.0.1:1', get()))).message).toMatch(/not an http/);
    c.close();
    expect((await failureOf(c.request(server.url, get()))).message).toBe('the client is closed');
  });

  it('speaks TLS to a node whose CA it trusts, and reports an unknown CA by its code', async () => {
    const ca = createCa('http1-test-ca');
    const pem = ca.issue({ cn: 'node' });
    const server = await rawServer((s) => json(s, 200, '{"tls":true}'), createTlsServer({ key: pem.key, cert: pem.cert }));
    expect((await client({ tls: { ca: ca.cert } }).request(server.url, get())).body.toString()).toBe('{"tls":true}');
    const other = createCa('another-ca');
    const failure = await failureOf(client({ tls: { ca: other.cert } }).request(server.url, get()));
    expect(failure.socketError?.code).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|UNABLE_TO_GET_ISSUER/);
  });
});

describe('Http1Client.stream', () => {
  const chunk = (text: string): string => `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`;
  const streamHead = 'HTTP/1.1 200 OK\r\ncontent-type: application/x-ndjson\r\ntransfer-encoding: chunked\r\n\r\n';

  async function readAll(stream: AsyncIterable<Buffer>): Promise<string> {
    let text = '';
    for await (const part of stream) text += part.toString();
    return text;
  }

  it('resolves at the head, hands the body over as it arrives, and reuses the connection once it ended', async () => {
    const later: (() => void)[] = [];
    const server = await rawServer((s) => {
      s.write(streamHead + chunk('{"type":"created"}\n'));
      later.push(() => s.write(chunk('{"type":"events"}\n') + '0\r\n\r\n'));
    });
    const c = client();
    const stream = await c.stream(server.url, get());
    expect([stream.status, stream.complete]).toEqual([200, false]);
    const parts: string[] = [];
    const reading = (async () => {
      for await (const part of stream) parts.push(part.toString());
    })();
    await new Promise((r) => setTimeout(r, 20));
    expect(parts).toEqual(['{"type":"created"}\n']);
    later.shift()?.();
    await reading;
    expect([parts.join(''), stream.complete]).toEqual(['{"type":"created"}\n{"type":"events"}\n', true]);
    const second = await c.stream(server.url, get());
    later.shift()?.();
    expect(await readAll(second)).toBe('{"type":"created"}\n{"type":"events"}\n');
    expect(server.connections).toBe(1);
  });

  it('fails the body after the idle limit, on abort, or when the reader destroys it, cutting the connection', async () => {
    const server = await rawServer((s) => s.write(streamHead + chunk('{"type":"created"}\n')));
    const c = client();
    const idle = await c.stream(server.url, get());
    idle.setIdleTimeout(50);
    await expect(readAll(idle)).rejects.toThrow('nothing received for 50 ms');
    const controller = new AbortController();
    const aborted = await c.stream(server.url, get({ signal: controller.signal }));
    setTimeout(() => controller.abort(), 20);
    await expect(readAll(aborted)).rejects.toThrow('aborted');
    const dropped = await c.stream(server.url, get());
    dropped.destroy();
    dropped.destroy();
    await expect(readAll(dropped)).rejects.toThrow('closed by the reader');
    expect(server.connections).toBe(3);
  });

  it('says a failure on a reused connection before any answer byte is a stale connection', async () => {
    const server = await rawServer((s, _h, i) => (i === 0 ? json(s, 200, '{}') : s.destroy()));
    const c = client();
    await c.request(server.url, get());
    const stale = await failureOf(c.stream(server.url, get()));
    expect(stale.staleConnection).toBe(true);
    const fresh = await failureOf(c.stream(server.url, get()));
    expect(fresh.staleConnection).toBe(false);
  });
});

describe('AnswerParser', () => {
  it('takes answers one after another from the bytes of one connection, however they are cut', () => {
    const two = Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nabcHTTP/1.1 404 Not Found\r\ntransfer-encoding: chunked\r\n\r\n2\r\nno\r\n0\r\n\r\n');
    // bounded: every cut point of a short input
    for (let cut = 1; cut < two.length; cut++) {
      const parser = new AnswerParser();
      const seen: string[] = [];
      for (const part of [two.subarray(0, cut), two.subarray(cut)]) {
        // bounded: at most two answers in the input
        for (let outcome = parser.push(part); outcome !== undefined; outcome = parser.push(Buffer.alloc(0))) seen.push(`${outcome.status}:${outcome.body.toString()}`);
      }
      expect(seen, `cut at ${cut}`).toEqual(['200:abc', '404:no']);
      expect(parser.hasLeftover()).toBe(false);
    }
  });
});
