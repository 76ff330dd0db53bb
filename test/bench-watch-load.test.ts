// The benchmark's watch load counts each watcher's events once, measures them from their put,
// counts events that never came as missing and closes every watcher, on an in-memory target.
import { describe, expect, it } from 'vitest';
import type { KvWatch } from '../bench/lib/kv-target.js';
import { runWatchLoad } from '../bench/lib/watch-load.js';

/** A store whose watchers hear each put after `delayMs`, except those to keys in `dropped`. */
function fakeTarget(delayMs: number, dropped: ReadonlySet<string> = new Set()) {
  const watchers = new Set<{ prefix: string; onPut: (key: string) => void }>();
  let closed = 0;
  return {
    closed: () => closed,
    put: async (key: string): Promise<void> => {
      for (const w of watchers) if (key.startsWith(w.prefix) && !dropped.has(key)) setTimeout(() => w.onPut(key), delayMs);
    },
    watchPrefix: async (prefix: string, onPut: (key: string) => void): Promise<KvWatch> => {
      const w = { prefix, onPut };
      watchers.add(w);
      return {
        close: async () => {
          watchers.delete(w);
          closed++;
        },
      };
    },
  };
}

describe('runWatchLoad', () => {
  it('counts puts x watchers events, with latencies from each put', async () => {
    const target = fakeTarget(5);
    const r = await runWatchLoad(target, { watchers: 10, puts: 20, prefix: 'w/', value: 'v', drainMs: 2000 });
    expect(r.ops).toBe(200);
    expect(r.errors).toBe(0);
    expect(r.latencyMsP50).toBeGreaterThanOrEqual(4);
    expect(r.latencyMsP99).toBeLessThan(1000);
    expect(target.closed()).toBe(10);
  });

  it('counts events that never come as missing, after the drain', async () => {
    const target = fakeTarget(1, new Set(['w/3']));
    const r = await runWatchLoad(target, { watchers: 4, puts: 5, prefix: 'w/', value: 'v', drainMs: 100 });
    expect(r.ops).toBe(16);
    expect(r.errors).toBe(4);
    expect(r.errorSamples).toEqual([{ message: 'event missing', count: 4 }]);
    expect(target.closed()).toBe(4);
  });
});
