// Request targets are split by hand on the hot path; they must agree with the URL parser on
// what the router and handlers read.
import { describe, expect, it } from 'vitest';
import { splitTarget } from './http.js';

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
