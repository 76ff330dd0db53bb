// Fuzzing the node's HTTP surface (a running one-node cluster in this process): the request
// parser with random and mutated bytes, and every route with random JSON bodies, paths and query
// parameters. Every input gets a well-formed answer that is not a 500, the node keeps serving,
// and memory stays bounded. `npm run fuzz` runs many more cases (SYNOD_FUZZ_RUNS).
import { connect } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fuzzParameters, fuzzTimeoutMs } from '../../test/fuzz-runs.js';
import { parseHead } from './http-server.js';
import { http, waitUntil } from './test/harness.js';
import { startInProcessCluster, type InProcessCluster } from './test/in-process.js';

let cluster: InProcessCluster;
let url = '';
let port = 0;

beforeAll(async () => {
  cluster = await startInProcessCluster(1, { logLevel: 'fatal' });
  url = cluster.urls['1'] as string;
  port = Number(new URL(url).port);
  await waitUntil('the node to lead', async () => (await http('GET', `${url}/v1/status`)).body['role'] === 'leader', 20_000);
}, 60_000);

afterAll(async () => {
  await cluster.close();
});

/** Sends bytes, returns everything the server answered before closing (or after `waitMs`). */
function exchange(bytes: Buffer, waitMs = 3000): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let got = '';
    const timer = setTimeout(() => socket.destroy(), waitMs);
    socket.on('data', (d) => (got += d.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(got);
    });
    socket.end(bytes);
  });
}

function statuses(raw: string): number[] {
  return [...raw.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
}

const ROUTES: readonly [string, string][] = [
  ['GET', '/v1/kv/k'], ['PUT', '/v1/kv/k'], ['DELETE', '/v1/kv/k'], ['POST', '/v1/kv/k/cas'], ['POST', '/v1/kv/k/incr'], ['GET', '/v1/kv'],
  ['GET', '/v1/status'], ['GET', '/v1/members'], ['POST', '/v1/members'], ['POST', '/v1/members/9/promote'], ['DELETE', '/v1/members/9'],
  ['POST', '/v1/leader/transfer'], ['POST', '/v1/snapshot'], ['GET', '/v1/snapshot'], ['GET', '/health'], ['GET', '/readyz'],
  ['POST', '/v1/auth/token'], ['GET', '/v1/auth/whoami'], ['PUT', '/v1/auth/users/u'], ['PUT', '/v1/auth/roles/r'], ['GET', '/v1/auth/users'],
  ['POST', '/v1/txn'], ['POST', '/v1/compact'], ['DELETE', '/v1/kv'],
];

const validRequests = fc.constantFrom(
  'GET /v1/kv/a HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n',
  'PUT /v1/kv/a HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n{"value":1}',
  'POST /v1/kv/a/cas HTTP/1.1\r\nhost: localhost\r\ntransfer-encoding: chunked\r\n\r\n5\r\n{"fro\r\n11\r\nm":null,"to":2}\r\n0\r\n\r\n',
  'GET /v1/kv?prefix=a&limit=3 HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n',
);

/** Mutations of a valid request: flipped, inserted, deleted and repeated bytes, cut short. */
const mutated = fc.tuple(validRequests, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('flip', 'insert', 'delete', 'repeat')), { maxLength: 6 }), fc.option(fc.nat())).map(([text, edits, cut]) => {
  const bytes = [...Buffer.from(text, 'latin1')];
  for (const [at, value, kind] of edits) {
    const i = at % Math.max(1, bytes.length);
    if (kind === 'flip') bytes[i] = ((bytes[i] ?? 0) ^ (1 << (value % 8))) & 0xff;
    else if (kind === 'insert') bytes.splice(i, 0, value);
    else if (kind === 'delete') bytes.splice(i, 1);
    else bytes.splice(i, 0, ...bytes.slice(i, i + 1 + (value % 40)).flatMap((b) => Array.from({ length: 1 + (value % 50) }, () => b)));
  }
  return Buffer.from(cut === null ? bytes : bytes.slice(0, cut % (bytes.length + 1)));
});

const hostile = fc.oneof(
  fc.constant('{"value":' + '['.repeat(5000) + ']'.repeat(5000) + '}'),
  fc.constant('{"value":"' + 'x'.repeat(600 * 1024) + '"}'),
  fc.constant('{"__proto__":{"polluted":true},"value":1}'),
  fc.constant('{"value":"\\ud800"}'),
  fc.string({ maxLength: 200 }),
);

describe('fuzzing the HTTP surface', () => {
  it('parseHead answers any text with a head or a protocol error', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (text) => {
        try {
          parseHead(text);
        } catch (err) {
          const status = (err as { status?: number }).status;
          expect(typeof status === 'number' && status >= 400 && status < 600, String(err)).toBe(true);
        }
      }),
      fuzzParameters(2000),
    );
  });

  it('random and mutated requests get a well-formed answer that is not a 500, and the node keeps serving', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(mutated, fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a))), async (bytes) => {
        const answer = await exchange(bytes, 2000);
        for (const status of statuses(answer)) expect(status, answer.slice(0, 300)).not.toBe(500);
        if (answer !== '') expect(answer, answer.slice(0, 200)).toMatch(/^HTTP\/1\.1 \d{3} /);
      }),
      fuzzParameters(150),
    );
    expect((await http('GET', `${url}/health`)).status).toBe(200);
  }, fuzzTimeoutMs(60_000));

  it('every route with random JSON, paths and query parameters answers without a 500', async () => {
    const heapBefore = process.memoryUsage().heapUsed;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ROUTES),
        fc.oneof(fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)), hostile, fc.constant(undefined)),
        fc.option(fc.dictionary(fc.constantFrom('prefix', 'limit', 'start', 'end', 'consistency', 'revision', 'x'), fc.string({ maxLength: 20 }), { maxKeys: 3 })),
        fc.option(fc.string({ unit: 'binary', minLength: 1, maxLength: 30 })),
        async ([method, path], body, query, segment) => {
          const target = segment === null ? path : path.replace('/k', `/${encodeURIComponent(segment)}`);
          const search = query === null ? '' : `?${new URLSearchParams(query).toString()}`;
          const res = await fetch(`${url}${target}${search}`, { method, ...(body === undefined || method === 'GET' ? {} : { body, headers: { 'content-type': 'application/json' } }) });
          const text = await res.text();
          expect(res.status, `${method} ${target}${search} ${String(body).slice(0, 100)} -> ${text.slice(0, 200)}`).not.toBe(500);
          if (res.headers.get('content-type')?.includes('json') === true) expect(() => JSON.parse(text) as unknown).not.toThrow();
        },
      ),
      fuzzParameters(300),
    );
    expect((await http('PUT', `${url}/v1/kv/after-fuzz`, { value: 1 })).status).toBe(200);
    // bounded: what the cases wrote is small; a leak per request would show over the runs
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(300 * 1024 * 1024);
  }, fuzzTimeoutMs(120_000));

  it('watch queries of random parameters open a stream that starts with its created line, or get an error that is not a 500', async () => {
    const watchParams = fc.dictionary(
      fc.constantFrom('key', 'end', 'prefix', 'startRevision', 'prevKv', 'noPut', 'noDelete', 'progressMs', 'revision'),
      fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('true', 'false', '0', '1', '-1', '99999999999999999999', 'a'.repeat(5000), '_synod/x')),
      { maxKeys: 4 },
    );
    await fc.assert(
      fc.asyncProperty(watchParams, async (query) => {
        const search = new URLSearchParams(query).toString();
        const res = await fetch(`${url}/v1/watch?${search}`, { signal: AbortSignal.timeout(5000) });
        expect(res.status, `?${search.slice(0, 200)}`).not.toBe(500);
        if (res.status !== 200) {
          const body = (await res.json()) as { error?: { code?: unknown } };
          expect(typeof body.error?.code, `?${search.slice(0, 200)}`).toBe('string');
          return;
        }
        // a stream: its first line says it was created; then let it go
        const reader = (res.body as ReadableStream<Uint8Array>).getReader();
        const { value } = await reader.read();
        expect(Buffer.from(value ?? new Uint8Array()).toString('utf8')).toMatch(/^\{"type":"created"/);
        await reader.cancel();
      }),
      fuzzParameters(200),
    );
    expect((await http('PUT', `${url}/v1/kv/after-watch-fuzz`, { value: 1 })).status).toBe(200);
  }, fuzzTimeoutMs(120_000));
});
