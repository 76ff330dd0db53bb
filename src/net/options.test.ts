// Option validation tests: defaults, and NET_INVALID_OPTION for each kind of bad value.
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_FRAME_BYTES, resolveOptions, type TransportOptions } from './options.js';

const base: TransportOptions = { selfId: 'n1', listen: { host: '127.0.0.1', port: 0 }, secret: 'sixteen-bytes-secret!' };

describe('resolveOptions', () => {
  it('fills defaults and ignores an entry for self in peers', () => {
    const resolved = resolveOptions({ ...base, peers: { n1: { host: 'h', port: 1 }, n2: { host: 'h', port: 2 } } });
    expect(resolved.maxFrameBytes).toBe(DEFAULT_MAX_FRAME_BYTES);
    expect(resolved.maxQueueBytes).toBeGreaterThanOrEqual(resolved.maxFrameBytes + 4);
    expect([...resolved.peers.keys()]).toEqual(['n2']);
    expect(resolved.faultInjection).toBe(false);
    expect(resolved.secret.length).toBeGreaterThanOrEqual(16);
    expect([resolved.maxPendingHandshakes, resolved.maxPendingHandshakesPerAddress, resolved.helloTimeoutMs]).toEqual([64, 16, 2000]);
    expect(resolved.logRateLimit).toEqual({ intervalMs: 10_000, burst: 5 });
  });

  it('derives the per-address limit and hello deadline from smaller explicit bounds', () => {
    const resolved = resolveOptions({ ...base, maxPendingHandshakes: 4, handshakeTimeoutMs: 500 });
    expect(resolved.maxPendingHandshakesPerAddress).toBe(4);
    expect(resolved.helloTimeoutMs).toBe(500);
  });

  it.each<[string, Partial<TransportOptions>]>([
    ['a short secret', { secret: 'short' }],
    ['an empty self id', { selfId: '' }],
    ['a bad listen port', { listen: { host: '127.0.0.1', port: 70_000 } }],
    ['a peer without port', { peers: { n2: { host: 'h', port: 0 } } }],
    ['a tiny frame limit', { maxFrameBytes: 10 }],
    ['a queue smaller than a frame', { maxFrameBytes: 4096, maxQueueBytes: 4096 }],
    ['a fractional timeout', { handshakeTimeoutMs: 1.5 }],
    ['an unbounded handshake timeout', { handshakeTimeoutMs: 3_600_000 }],
    ['a hello deadline beyond the handshake timeout', { handshakeTimeoutMs: 1000, helloTimeoutMs: 2000 }],
    ['a per-address limit above the total', { maxPendingHandshakes: 8, maxPendingHandshakesPerAddress: 9 }],
    ['a log rate limit of zero records', { logRateLimit: { burst: 0 } }],
    ['a cluster id over 128 bytes', { clusterId: 'c'.repeat(129) }],
    ['an incarnation that is not a string', { incarnation: 7 as unknown as string }],
    ['an incarnation check that is not a function', { checkPeerIncarnation: 'accept' as unknown as TransportOptions['checkPeerIncarnation'] }],
    ['a shrinking backoff', { backoff: { multiplier: 0.5 } }],
    ['a backoff cap under its start', { backoff: { initialMs: 100, maxMs: 10 } }],
  ])('rejects %s', (_name, override) => {
    expect(() => resolveOptions({ ...base, ...override })).toThrow(expect.objectContaining({ code: 'NET_INVALID_OPTION' }));
  });
});
