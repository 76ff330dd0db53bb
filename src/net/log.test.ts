// Log rate limiting: events a stranger can trigger log a bounded number of records per window
// plus one summary carrying the count of the rest; other events pass through untouched.
import { describe, expect, it } from 'vitest';
import { RateLimitedLog, type Log, type NetLogRecord } from './log.js';
import type { Timers } from './options.js';

/** Manual clock and timers: `advance` fires what is due, in order. */
function manualTime(): { timers: Timers; now: () => number; advance(ms: number): void; pending(): number } {
  let nowMs = 0;
  let nextId = 0;
  const due = new Map<number, { atMs: number; callback: () => void }>();
  return {
    now: () => nowMs,
    timers: {
      setTimeout: (callback, delayMs) => {
        nextId += 1;
        due.set(nextId, { atMs: nowMs + delayMs, callback });
        return nextId;
      },
      clearTimeout: (handle) => void due.delete(handle as number),
    },
    advance(ms) {
      nowMs += ms;
      for (const [id, timer] of [...due].sort((a, b) => a[1].atMs - b[1].atMs)) {
        if (timer.atMs > nowMs) continue;
        due.delete(id);
        timer.callback();
      }
    },
    pending: () => due.size,
  };
}

function setup(burst = 3, intervalMs = 10_000) {
  const time = manualTime();
  const records: Omit<NetLogRecord, 'node'>[] = [];
  const sink: Log = (record) => records.push(record);
  const limited = new RateLimitedLog(sink, { intervalMs, burst }, time.timers, time.now);
  return { time, records, limited };
}

const authFailed = (i: number) => ({ level: 'warn', event: 'auth_failed', msg: `failure ${i}` }) as const;

describe('RateLimitedLog', () => {
  it('logs the first burst of a flood, then one summary with the count of the rest', () => {
    const { time, records, limited } = setup(3);
    for (let i = 0; i < 1000; i++) limited.log(authFailed(i));
    expect(records.map((r) => r.msg)).toEqual(['failure 0', 'failure 1', 'failure 2']);
    time.advance(10_000);
    expect(records).toHaveLength(4);
    expect(records[3]).toMatchObject({ level: 'warn', event: 'auth_failed', detail: { suppressed: 997 } });
    expect(time.pending()).toBe(0);
  });

  it('bounds a sustained flood to burst + 1 records per event per window', () => {
    const { time, records, limited } = setup(2, 1000);
    for (let tick = 0; tick < 100; tick++) {
      for (let i = 0; i < 50; i++) {
        limited.log(authFailed(i));
        limited.log({ level: 'warn', event: 'handshake_timeout', msg: 'slow' });
      }
      time.advance(100);
    }
    // 10 s of flood in windows of 1 s: at most (2 + 1) x 10 records per event, whatever the rate.
    for (const event of ['auth_failed', 'handshake_timeout']) {
      const count = records.filter((r) => r.event === event).length;
      expect(count).toBeLessThanOrEqual(3 * 10);
      expect(count).toBeGreaterThanOrEqual(2 * 10 - 2);
    }
    // Nothing is lost from the account: every event is either logged or counted in a summary.
    time.advance(1000);
    const failures = records.filter((r) => r.event === 'auth_failed');
    const summarised = failures.reduce((sum, r) => sum + Number(r.detail?.suppressed ?? 0), 0);
    expect(failures.filter((r) => r.detail === undefined).length + summarised).toBe(5000);
  });

  it('passes other events through and starts a fresh window after a quiet one', () => {
    const { time, records, limited } = setup(1);
    for (let i = 0; i < 5; i++) limited.log({ level: 'info', event: 'connected', msg: 'up' });
    limited.log(authFailed(0));
    time.advance(20_000);
    limited.log(authFailed(1));
    expect(records.map((r) => r.msg)).toEqual(['up', 'up', 'up', 'up', 'up', 'failure 0', 'failure 1']);
  });

  it('writes pending summaries on flush and leaves no timer behind', () => {
    const { time, records, limited } = setup(1);
    for (let i = 0; i < 4; i++) limited.log(authFailed(i));
    limited.log({ level: 'error', event: 'frame_error', msg: 'a' });
    limited.log({ level: 'warn', event: 'frame_error', msg: 'b' });
    limited.flush();
    expect(time.pending()).toBe(0);
    for (let i = 0; i < 3; i++) limited.log(authFailed(10 + i)); // after close: no timer is left running
    expect(time.pending()).toBe(0);
    expect(records.filter((r) => r.detail?.suppressed !== undefined).map((r) => [r.event, r.detail?.suppressed])).toEqual([
      ['auth_failed', 3],
      ['frame_error', 1],
    ]);
  });
});
