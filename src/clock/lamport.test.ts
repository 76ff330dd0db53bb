// Lamport clock: the happened-before examples and the rejection of invalid remote times.

import { describe, expect, it } from 'vitest';
import { LamportClock } from './lamport.js';
import { ClockError } from './errors.js';

describe('LamportClock', () => {
  it('counts local events from 1', () => {
    const clock = new LamportClock();
    expect([clock.tick(), clock.tick(), clock.send()]).toEqual([1, 2, 3]);
    expect(clock.time).toBe(3);
  });

  it('orders a receive after the send it delivers, even from a slower clock', () => {
    const a = new LamportClock();
    const b = new LamportClock(10);
    const sentAt = a.send();
    expect(b.receive(sentAt)).toBe(11);
    const replyAt = b.send();
    expect(a.receive(replyAt)).toBe(13);
    expect(a.time).toBeGreaterThan(replyAt);
  });

  it('rejects remote times that are not non-negative safe integers', () => {
    const clock = new LamportClock(4);
    for (const bad of [-1, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER + 1]) {
      expect(() => clock.receive(bad)).toThrow(expect.objectContaining({ code: 'LAMPORT_INVALID_TIME' }));
    }
    expect(clock.time).toBe(4);
  });

  it('refuses to step past the safe integer range', () => {
    const clock = new LamportClock(Number.MAX_SAFE_INTEGER);
    expect(() => clock.tick()).toThrow(ClockError);
  });
});
