// The real `synod lease` commands (spawned from source) against an in-process cluster: a key put
// with `synod kv put --lease` vanishes when `synod lease revoke` runs (a "done when" of issue 16),
// keep-alive and ttl print the time left, and bad input exits 2 with one line.
import { describe, expect, it } from 'vitest';
import { useCliCluster } from './test/cli-cluster.js';

const { synod } = useCliCluster();

describe('synod lease', () => {
  it('a key put with --lease vanishes when `synod lease revoke` runs; one without stays', async () => {
    const grant = await synod(['lease', 'grant', '60s', '--id', '4242']);
    expect(grant.status, grant.stderr).toBe(0);
    expect(grant.stdout).toBe('lease 4242 granted, TTL 60000 ms\n');
    expect((await synod(['kv', 'put', 'svc/a', 'up', '--lease', '4242'])).status).toBe(0);
    expect((await synod(['kv', 'put', 'svc/b', 'up'])).status).toBe(0);
    const ttl = await synod(['lease', 'ttl', '4242', '--keys']);
    expect(ttl.status, ttl.stderr).toBe(0);
    expect(ttl.stdout).toMatch(/^lease 4242: TTL 60000 ms, \d+ ms left, keys: svc\/a\n$/);
    const kept = await synod(['lease', 'keep-alive', '4242']);
    expect(kept.stdout).toMatch(/^lease 4242 kept alive, \d+ ms left\n$/);
    expect((await synod(['lease', 'list'])).stdout).toContain('lease 4242: TTL 60000 ms');

    const revoke = await synod(['lease', 'revoke', '4242']);
    expect(revoke.status, revoke.stderr).toBe(0);
    expect(revoke.stdout).toMatch(/^lease 4242 revoked \(revision \d+\)\n$/);
    const gone = await synod(['kv', 'get', 'svc/a']);
    expect(gone.status).toBe(1);
    expect(gone.stderr).toMatch(/key "svc\/a" does not exist/);
    expect((await synod(['kv', 'get', 'svc/b'])).stdout).toBe('up\n');
    // the lease is gone too: attaching to it writes nothing, and says why
    const late = await synod(['kv', 'put', 'svc/c', 'up', '--lease', '4242']);
    expect(late.status).toBe(1);
    expect(late.stderr).toMatch(/lease 4242 does not exist.*\[LEASE_NOT_FOUND\]/);
  });

  it('refuses bad input with exit 2 and one line', async () => {
    for (const args of [['lease', 'grant', 'soon'], ['lease', 'revoke', '0'], ['lease', 'ttl', '-3'], ['kv', 'put', 'k', 'v', '--lease', 'x'], ['lease', 'keep-alive', '1', '--every', '1']]) {
      const run = await synod(args);
      expect(run.status, args.join(' ')).toBe(2);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});
