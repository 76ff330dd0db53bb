// Connection limits of the HTTP server: a flood of connections from one address is cut off at
// the per-address limit while a client from another address is still served, and the total
// limit holds. Loopback has many addresses (127.0.0.0/8), so "another client" is real here.
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpServer } from './http-server.js';

let server: HttpServer | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await server?.close(100);
  server = undefined;
});

function open(port: number, localAddress: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress });
    sockets.push(socket);
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** One GET on a fresh connection from `localAddress`; the status code, or 0 if the connection was closed unanswered. */
function get(port: number, localAddress: string): Promise<number> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress });
    sockets.push(socket);
    let got = '';
    socket.on('data', (d) => (got += d.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(got)?.[1] ?? 0)));
    socket.write('GET /x HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n');
  });
}

const refused: string[] = [];
async function start(limits: { maxConnections: number; maxConnectionsPerAddress: number }): Promise<number> {
  refused.length = 0;
  server = await HttpServer.listen({
    host: '127.0.0.1',
    port: 0,
    ...limits,
    onRefusedConnection: (reason) => refused.push(reason),
    handle: async () => ({ status: 200, headers: {}, body: 'ok\n' }),
  });
  return server.port;
}

async function settle(): Promise<void> {
  await new Promise((r) => setTimeout(r, 200));
}

describe('HTTP connection limits', () => {
  it('a flood from one address does not starve a client at another', async () => {
    const port = await start({ maxConnections: 1000, maxConnectionsPerAddress: 20 });
    // 60 idle connections from the flooding address: the first 20 are held, the rest closed at once
    await Promise.all(Array.from({ length: 60 }, () => open(port, '127.0.0.2').catch(() => undefined)));
    await settle();
    expect(refused.filter((r) => r === 'max_connections_per_address').length).toBe(40);
    // the flooding address gets nothing more; another address is served
    expect(await get(port, '127.0.0.2')).toBe(0);
    expect(await get(port, '127.0.0.3')).toBe(200);
    // once the flood lets go, its address is served again
    for (const s of sockets.splice(0)) s.destroy();
    await settle();
    expect(await get(port, '127.0.0.2')).toBe(200);
  });

  it('the total limit holds across addresses', async () => {
    const port = await start({ maxConnections: 30, maxConnectionsPerAddress: 100 });
    await Promise.all(Array.from({ length: 20 }, () => open(port, '127.0.0.4')));
    await Promise.all(Array.from({ length: 20 }, () => open(port, '127.0.0.5').catch(() => undefined)));
    await settle();
    expect(refused.filter((r) => r === 'max_connections').length).toBe(10);
    expect(await get(port, '127.0.0.6')).toBe(0);
  });
});
