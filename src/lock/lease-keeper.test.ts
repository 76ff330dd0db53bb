import { describe, expect, it } from 'vitest';
import type { LockGrant } from './api.js';
import { isLockError, LockError } from './errors.js';
import { LeaseKeeper, usingLease } from './lease-keeper.js';

const grantFor = (ttlMs: number, holder = 'h'): LockGrant<number> => ({ name: 'n', holder, token: 1, leaseExpiresAt: Date.now() + ttlMs });
const until = async (check: () => boolean): Promise<void> => {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(check()).toBe(true);
};

describe('LeaseKeeper', () => {
  it('extends while running, and stops extending when stopped, returning the last grant', async () => {
    let extends_ = 0;
    const keeper = new LeaseKeeper<number>({
      grant: grantFor(150),
      ttlMs: 150,
      backend: 'test',
      extend: async (g) => {
        extends_++;
        return { ...g, leaseExpiresAt: Date.now() + 150 };
      },
    });
    await until(() => extends_ >= 3);
    const last = await keeper.stop();
    const after = extends_;
    expect(last).toBe(keeper.grant);
    expect(keeper.signal.aborted).toBe(false);
    await new Promise((r) => setTimeout(r, 200));
    expect(extends_).toBe(after);
  });

  it('aborts its signal with LEASE_LOST as soon as an extend is refused', async () => {
    const keeper = new LeaseKeeper<number>({
      grant: grantFor(60_000),
      ttlMs: 150,
      backend: 'test',
      extend: () => Promise.reject(new LockError('LEASE_LOST', 'taken', 'test')),
    });
    await until(() => keeper.signal.aborted);
    expect(isLockError(keeper.signal.reason, 'LEASE_LOST')).toBe(true);
    await keeper.stop();
  });

  it('keeps retrying an unreachable backend, and aborts when the lease end passes without an extend', async () => {
    let tries = 0;
    const keeper = new LeaseKeeper<number>({
      grant: grantFor(400),
      ttlMs: 300,
      backend: 'test',
      extend: () => {
        tries++;
        return Promise.reject(new LockError('BACKEND_UNREACHABLE', 'down', 'test'));
      },
    });
    await until(() => keeper.signal.aborted);
    expect(tries).toBeGreaterThanOrEqual(1);
    expect(isLockError(keeper.signal.reason, 'LEASE_LOST')).toBe(true);
    await keeper.stop();
  });
});

describe('usingLease', () => {
  const fakeLock = () => {
    const released: string[] = [];
    let n = 0;
    return {
      released,
      lock: {
        backend: 'test',
        acquire: async () => grantFor(60_000, `h${++n}`),
        extend: async (g: LockGrant<number>) => g,
        release: async (g: LockGrant<number>) => {
          released.push(g.holder);
        },
      },
    };
  };

  it('resolves with the result and releases', async () => {
    const { lock, released } = fakeLock();
    expect(await usingLease(lock, 'n', { ttlMs: 60_000 }, async (g, signal) => `${g.holder}:${signal.aborted}`)).toBe('h1:false');
    expect(released).toEqual(['h1']);
  });

  it('releases when the function throws, and passes the error on', async () => {
    const { lock, released } = fakeLock();
    await expect(usingLease(lock, 'n', { ttlMs: 60_000 }, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(released).toEqual(['h1']);
  });
});
