// The forwarder alone: what it answers when the leader cannot be reached (safe to retry), when the
// connection breaks after the request left (outcome unknown), and when leadership moves while it
// waits (redirected when safe, refused at once when not).
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Forwarder, type LeaderWatch } from './forward.js';
import { HttpError, type ApiRequest } from './http.js';
import { freePort } from './test/in-process.js';

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

/** A TCP server that does something unhelpful with every connection. */
async function listen(onSocket: (socket: import('node:net').Socket) => void): Promise<number> {
  const server = createServer(onSocket);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return (server.address() as { port: number }).port;
}

function watchOf(initial: string): LeaderWatch & { set(leader: string): void } {
  let leader = initial;
  const listeners = new Set<() => void>();
  return {
    leader: () => leader,
    onChange: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    set: (next) => {
      leader = next;
      for (const l of [...listeners]) l();
    },
  };
}

const put: ApiRequest = { method: 'PUT', path: '/v1/kv/x', target: '/v1/kv/x', params: { key: 'x' }, query: new URLSearchParams(), headers: new Map(), remoteAddress: '', body: { value: 1 } };

async function failure(p: Promise<unknown>): Promise<HttpError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof HttpError) return err;
    throw err;
  }
  throw new Error('expected a failure');
}

describe('Forwarder', () => {
  it('says LEADER_UNREACHABLE, safe to retry, when nothing listens at the leader', async () => {
    const port = await freePort();
    const f = new Forwarder({ selfId: '2', clientUrl: () => `http://127.0.0.1:${port}`, watch: watchOf('1'), timeoutMs: 2000 });
    const err = await failure(f.forward(put, '1', false, () => Promise.reject(new Error('no'))));
    expect(err.code).toBe('LEADER_UNREACHABLE');
    expect(err.extra['safeToRetry']).toBe(true);
    f.close();
  });

  it('says FORWARD_FAILED, outcome unknown, when the connection breaks after the request left', async () => {
    const port = await listen((socket) => socket.once('data', () => socket.destroy()));
    const f = new Forwarder({ selfId: '2', clientUrl: () => `http://127.0.0.1:${port}`, watch: watchOf('1'), timeoutMs: 2000 });
    const err = await failure(f.forward(put, '1', false, () => Promise.reject(new Error('no'))));
    expect(err.code).toBe('FORWARD_FAILED');
    expect(err.extra['safeToRetry']).toBe(false);
    f.close();
  });

  it('gives up on a silent leader once another leads: LEADER_CHANGED when unsafe, redirected when safe', async () => {
    const silent = await listen(() => undefined); // accepts, reads nothing, never answers: a paused process
    const answering = await listen((socket) => socket.once('data', () => socket.end('HTTP/1.1 200 OK\r\ncontent-length: 11\r\nconnection: close\r\n\r\n{"ok":true}')));
    const watch = watchOf('1');
    const urls: Record<string, string> = { '1': `http://127.0.0.1:${silent}`, '3': `http://127.0.0.1:${answering}` };
    const f = new Forwarder({ selfId: '2', clientUrl: (id) => urls[id], watch, timeoutMs: 30_000 });
    const unsafe = failure(f.forward(put, '1', false, () => Promise.reject(new Error('no'))));
    const safe = f.forward(put, '1', true, () => Promise.reject(new Error('no')));
    await new Promise((r) => setTimeout(r, 200));
    watch.set('3');
    const err = await unsafe;
    expect(err.code).toBe('LEADER_CHANGED');
    expect(err.extra['safeToRetry']).toBe(false);
    expect(err.extra['leaderHint']).toBe('3');
    expect(await safe).toEqual({ status: 200, body: { ok: true } });
    f.close();
  });

  it('answers on this node when it became the leader itself', async () => {
    const silent = await listen(() => undefined);
    const watch = watchOf('1');
    const f = new Forwarder({ selfId: '2', clientUrl: () => `http://127.0.0.1:${silent}`, watch, timeoutMs: 30_000 });
    const pending = f.forward(put, '1', true, async () => ({ status: 200, body: { local: true } }));
    await new Promise((r) => setTimeout(r, 100));
    watch.set('2');
    expect(await pending).toEqual({ status: 200, body: { local: true } });
    f.close();
  });

  it('follows the next leader when the old one steps down before this node hears of its successor (safe requests only)', async () => {
    // the race CI hit: the cut-off leader answers "leadership lost" while this node still names it
    const lost = 'HTTP/1.1 504 Gateway Timeout\r\ncontent-length: 59\r\nconnection: close\r\n\r\n{"error":{"code":"LEADERSHIP_LOST","message":"lost","x":1}}';
    const steppedDown = await listen((socket) => socket.once('data', () => socket.end(lost)));
    const answering = await listen((socket) => socket.once('data', () => socket.end('HTTP/1.1 200 OK\r\ncontent-length: 11\r\nconnection: close\r\n\r\n{"ok":true}')));
    const watch = watchOf('1');
    const urls: Record<string, string> = { '1': `http://127.0.0.1:${steppedDown}`, '3': `http://127.0.0.1:${answering}` };
    const f = new Forwarder({ selfId: '2', clientUrl: (id) => urls[id], watch, timeoutMs: 30_000 });
    const safe = f.forward(put, '1', true, () => Promise.reject(new Error('no')));
    const unsafe = await f.forward(put, '1', false, () => Promise.reject(new Error('no')));
    expect(unsafe.status).toBe(504); // a plain write may have been applied: its answer passes through
    await new Promise((r) => setTimeout(r, 200));
    watch.set('3');
    expect(await safe).toEqual({ status: 200, body: { ok: true } });
    f.close();
  });
});
