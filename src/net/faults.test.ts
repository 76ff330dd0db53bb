// Fault controller tests: partitions are symmetric and accumulate until heal, drop rates and
// delays apply per direction, and decisions use the injected randomness.
import { describe, expect, it } from 'vitest';
import { DelayLine, FaultController } from './faults.js';
import type { Timers } from './options.js';

describe('FaultController', () => {
  it('cuts links between the two sides only for nodes on a side', () => {
    const n1 = new FaultController('n1', () => 0.5);
    const n4 = new FaultController('n4', () => 0.5);
    n1.partition(['n1'], ['n2', 'n3']);
    n4.partition(['n1'], ['n2', 'n3']);
    for (const peer of ['n2', 'n3']) {
      expect(n1.decide(peer, 'out').action).toBe('drop');
      expect(n1.decide(peer, 'in').action).toBe('drop');
    }
    expect(n1.decide('n4', 'out').action).toBe('pass');
    expect(n4.decide('n1', 'out').action).toBe('pass');
    expect(n1.state().partitionedFrom).toEqual(['n2', 'n3']);
  });

  it('accumulates partitions and heals them all', () => {
    const n2 = new FaultController('n2', () => 0.5);
    n2.partition(['n1'], ['n2']);
    n2.partition(['n2'], ['n3']);
    expect(n2.state().partitionedFrom).toEqual(['n1', 'n3']);
    n2.heal();
    expect(n2.decide('n1', 'in').action).toBe('pass');
    expect(n2.decide('n3', 'out').action).toBe('pass');
  });

  it('refuses a node on both sides', () => {
    expect(() => new FaultController('n1', Math.random).partition(['n1'], ['n1'])).toThrow(expect.objectContaining({ code: 'NET_INVALID_OPTION' }));
  });

  it('drops with the configured probability using the injected random', () => {
    let next = 0.2;
    const f = new FaultController('n1', () => next);
    f.setDropRate('n2', 0.3);
    expect(f.decide('n2', 'out').action).toBe('drop');
    next = 0.4;
    expect(f.decide('n2', 'out').action).toBe('pass');
    expect(f.decide('n2', 'in').action).toBe('pass');
    f.setDropRate('n2', 1, 'both');
    expect(f.decide('n2', 'in').action).toBe('drop');
    expect(() => f.setDropRate('n2', 1.5)).toThrow(expect.objectContaining({ code: 'NET_INVALID_OPTION' }));
  });

  it('delays per direction, and reset clears every rule', () => {
    const changes: number[] = [];
    const f = new FaultController('n1', () => 0.5, (state) => changes.push(Object.keys(state.inbound).length));
    f.setDelayMs('n2', 25, 'in');
    expect(f.decide('n2', 'in')).toEqual({ action: 'delay', delayMs: 25 });
    expect(f.decide('n2', 'out').action).toBe('pass');
    f.reset();
    expect(f.decide('n2', 'in').action).toBe('pass');
    expect(changes).toEqual([1, 0]);
  });
});

describe('DelayLine', () => {
  it('holds at most maxPending messages and discards them on clear', () => {
    const scheduled: (() => void)[] = [];
    const timers: Timers = { setTimeout: (callback) => scheduled.push(callback), clearTimeout: () => {} };
    const line = new DelayLine(timers, 2);
    const delivered: number[] = [];
    expect(line.hold(5, () => delivered.push(1))).toBe(true);
    expect(line.hold(5, () => delivered.push(2))).toBe(true);
    expect(line.hold(5, () => delivered.push(3))).toBe(false);
    scheduled[0]?.();
    expect(delivered).toEqual([1]);
    expect(line.size).toBe(1);
    expect(line.clear()).toBe(1);
  });
});
