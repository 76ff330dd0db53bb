// Backoff tests with injected randomness: exact delays, growth to the cap, and reset.
import { describe, expect, it } from 'vitest';
import { Backoff } from './backoff.js';

describe('Backoff', () => {
  it('grows exponentially within [cap/2, cap) and stops growing at maxMs', () => {
    const low = new Backoff({ initialMs: 100, maxMs: 1000, multiplier: 2 }, () => 0);
    expect([1, 2, 3, 4, 5, 6].map(() => low.nextDelayMs())).toEqual([50, 100, 200, 400, 500, 500]);
    const high = new Backoff({ initialMs: 100, maxMs: 1000, multiplier: 2 }, () => 0.999);
    const delays = [1, 2, 3, 4, 5].map(() => high.nextDelayMs());
    expect(delays.map(Math.floor)).toEqual([99, 199, 399, 799, 999]);
  });

  it('restarts from the initial delay after reset and counts attempts', () => {
    const backoff = new Backoff({ initialMs: 10, maxMs: 100, multiplier: 3 }, () => 0.5);
    backoff.nextDelayMs();
    backoff.nextDelayMs();
    expect(backoff.attempts).toBe(2);
    backoff.reset();
    expect(backoff.attempts).toBe(0);
    expect(backoff.nextDelayMs()).toBe(7.5);
  });

  it('never overflows with many failures', () => {
    const backoff = new Backoff({ initialMs: 1, maxMs: 5000, multiplier: 100 }, () => 0.5);
    const delays = Array.from({ length: 10_000 }, () => backoff.nextDelayMs());
    expect(delays.slice(0, 3)).toEqual([0.75, 75, 3750]);
    expect(delays.every((d) => Number.isFinite(d) && d <= 5000)).toBe(true);
    expect(delays.at(-1)).toBe(3750);
  });
});
