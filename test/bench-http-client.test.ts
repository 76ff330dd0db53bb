// The benchmark's HTTP client (over the client library's http1.ts, whose own tests cut answers at
// every byte) must read what real servers send: fixed-length and chunked answers on reused
// keep-alive connections.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeanHttpClient } from '../bench/lib/http-client.js';

let server: Server;
let base = '';

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (req.url === '/chunked') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"parts":');
        res.end(`["${'x'.repeat(5000)}"]}`);
      } else if (req.url === '/missing') {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"no"}');
      } else {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ method: req.method, body }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('LeanHttpClient', () => {
  it('sends JSON bodies and reads fixed-length and chunked answers over reused connections', async () => {
    const client = new LeanHttpClient(base);
    for (let i = 0; i < 20; i++) {
      const put = await client.send('PUT', '/kv', { value: `v${i}` });
      expect(JSON.parse(put.body)).toEqual({ method: 'PUT', body: JSON.stringify({ value: `v${i}` }) });
      const chunked = await client.send('GET', '/chunked');
      expect((JSON.parse(chunked.body) as { parts: string[] }).parts[0]).toHaveLength(5000);
    }
    await expect(client.send('GET', '/missing')).rejects.toThrow(/HTTP 404/);
    const all = await Promise.all(Array.from({ length: 16 }, (_, i) => client.send('POST', '/kv', { i })));
    expect(all.map((r) => (JSON.parse(r.body) as { method: string }).method)).toEqual(Array(16).fill('POST'));
    client.close();
  });

});
