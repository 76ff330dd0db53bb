// The API's HTTP plumbing apart from any server: request targets (split by hand on the hot path,
// so they must agree with the URL parser) and answerRequest's routing and error shapes.
import { describe, expect, it } from 'vitest';
import { answerRequest, Router, splitTarget } from './http.js';

describe('splitTarget', () => {
  it('agrees with URL on path and query for origin-form targets', () => {
    for (const target of ['/', '/v1/kv/a', '/v1/kv/a%2Fb?consistency=serializable', '/v1/kv?prefix=x&limit=3', '/v1/status#frag', '/a?b=1#c', '/v1/kv/k?', '/v1/kv/%E2%82%AC?x=%20y']) {
      const url = new URL(target, 'http://localhost');
      const split = splitTarget(target);
      expect(split.pathname).toBe(url.pathname);
      expect([...split.searchParams]).toEqual([...url.searchParams]);
    }
  });

  it('reads absolute-form targets through URL', () => {
    expect(splitTarget('http://example.com/v1/status?x=1')).toMatchObject({ pathname: '/v1/status' });
    expect(splitTarget('http://example.com/v1/status?x=1').searchParams.get('x')).toBe('1');
  });
});

describe('answerRequest', () => {
  const router = new Router()
    .add('GET', '/v1/thing/:id', (req) => ({ status: 200, body: { id: req.params['id'], method: req.method } }))
    .add('PUT', '/v1/thing/:id', (req) => ({ status: 200, body: { got: req.body } }))
    .add('GET', '/boom', () => {
      throw new Error('broken');
    });
  const ask = (method: string, target: string, body?: string) => answerRequest(router, { method, target, body: body === undefined ? undefined : Buffer.from(body) }, () => {});

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
    ];
    for (const [pending, status, code] of cases) {
      const { answer } = await pending;
      expect(answer.status).toBe(status);
      expect((JSON.parse(answer.body) as { error: { code: string } }).error.code).toBe(code);
    }
  });
});
