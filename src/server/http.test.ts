// The API's HTTP plumbing apart from any server: request targets (split by hand on the hot path,
// so they must agree with the URL parser) and answerRequest's routing and error shapes.
import { describe, expect, it } from 'vitest';
import { answerRequest, HttpError, jsonDepthExceeds, Router, splitTarget } from './http.js';

describe('splitTarget', () => {
  it('agrees with URL on path and query for origin-form targets', () => {
    for (const target of ['/', '/v1/kv/a', '/v1/kv/a%2Fb?consistency=serializable', '/v1/kv?prefix=x&limit=3', '/v1/status#frag', '/a?b=1#c', '/v1/kv/k?', '/v1/kv/%E2%82%AC?x=%20y']) {
      const url = new URL(target, 'http://localhost');
      const split = splitTarget(target);
      expect(split.pathname).toBe(url.pathname);
      expect([...split.searchParams]).toEqual([...url.searchParams]);
    }
  });

  it('refuses targets that are not origin-form, bad escapes, text that is not UTF-8 and repeated parameters', () => {
    const codeOf = (target: string): string | undefined => {
      try {
        splitTarget(target);
        return undefined;
      } catch (err) {
        return (err as HttpError).code;
      }
    };
    expect(codeOf('http://example.com/v1/status?x=1')).toBe('BAD_PATH');
    expect(codeOf('/v1/kv?prefix=%zz')).toBe('BAD_QUERY');
    expect(codeOf('/v1/kv?prefix=%ff')).toBe('BAD_QUERY');
    expect(codeOf('/v1/kv?limit=1&limit=2')).toBe('BAD_QUERY');
    expect(splitTarget('/v1/kv?prefix=a+b%2Bc').searchParams.get('prefix')).toBe('a b+c');
  });
});

describe('answerRequest', () => {
  const router = new Router()
    .add('GET', '/v1/thing/:id', (req) => ({ status: 200, body: { id: req.params['id'], method: req.method } }), { query: ['x'] })
    .add('PUT', '/v1/thing/:id', (req) => ({ status: 200, body: { got: req.body } }))
    .add('GET', '/boom', () => {
      throw new Error('broken');
    });
  const ask = (method: string, target: string, body?: string) => answerRequest(router, { method, target, headers: new Map(), remoteAddress: '127.0.0.1', body: body === undefined ? undefined : Buffer.from(body) }, () => {});

  it('routes, decodes path parameters and parses JSON bodies', async () => {
    expect(JSON.parse((await ask('GET', '/v1/thing/a%2Fb')).answer.body)).toEqual({ id: 'a/b', method: 'GET' });
    const put = await ask('PUT', '/v1/thing/x', '{"v":1}');
    expect(put.route).toBe('/v1/thing/:id');
    expect(JSON.parse(put.answer.body)).toEqual({ got: { v: 1 } });
  });

  it('answers HEAD as GET', async () => {
    const head = await ask('HEAD', '/v1/thing/x');
    expect(head.answer.status).toBe(200);
    expect(JSON.parse(head.answer.body)).toEqual({ id: 'x', method: 'GET' });
  });

  it('turns every failure into a JSON error', async () => {
    const cases: [Promise<{ answer: { status: number; body: string } }>, number, string][] = [
      [ask('GET', '/nowhere'), 404, 'NOT_FOUND'],
      [ask('DELETE', '/v1/thing/x'), 405, 'METHOD_NOT_ALLOWED'],
      [ask('PUT', '/v1/thing/x', '{bad'), 400, 'BAD_JSON'],
      [ask('GET', '/boom'), 500, 'INTERNAL'],
      // regressions: bad escapes and deep nesting were 500s; empty segments matched after collapsing
      [ask('GET', '/v1/thing/%zz'), 400, 'BAD_PATH'],
      [ask('GET', '/v1/thing/%ff'), 400, 'BAD_PATH'],
      [ask('GET', '//v1/thing/x'), 404, 'NOT_FOUND'],
      [ask('GET', '/v1/thing/x/'), 404, 'NOT_FOUND'],
      [ask('GET', '/v1/thing/x?revision=3'), 400, 'UNKNOWN_PARAMETER'],
      [ask('PUT', '/v1/thing/x', '['.repeat(10_000) + ']'.repeat(10_000)), 400, 'BAD_JSON'],
    ];
    for (const [pending, status, code] of cases) {
      const { answer } = await pending;
      expect(answer.status).toBe(status);
      if (status !== 200) expect((JSON.parse(answer.body) as { error: { code: string } }).error.code).toBe(code);
    }
  });

  it('takes the dot segments and escaped slashes of a key literally', async () => {
    for (const [target, id] of [['/v1/thing/%2e%2e', '..'], ['/v1/thing/..', '..'], ['/v1/thing/.', '.'], ['/v1/thing/a%2Fb', 'a/b']]) {
      expect(JSON.parse((await ask('GET', target as string)).answer.body)).toMatchObject({ id });
    }
  });

  it('refuses a body that is not UTF-8', async () => {
    const { answer } = await answerRequest(router, { method: 'PUT', target: '/v1/thing/x', headers: new Map(), remoteAddress: '', body: Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]) }, () => {});
    expect(answer.status).toBe(400);
  });
});

describe('jsonDepthExceeds', () => {
  it('measures nesting without recursion', () => {
    expect(jsonDepthExceeds(1, 0)).toBe(false);
    expect(jsonDepthExceeds([], 0)).toBe(true);
    expect(jsonDepthExceeds({ a: [1, { b: 2 }] }, 3)).toBe(false);
    expect(jsonDepthExceeds({ a: [1, { b: 2 }] }, 2)).toBe(true);
    const deep = JSON.parse('['.repeat(200_000) + ']'.repeat(200_000)) as unknown;
    expect(jsonDepthExceeds(deep, 100)).toBe(true);
  });
});
