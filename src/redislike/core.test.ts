// Tests of the Redis-like node in the simulator: SET NX PX, compare-and-delete and -extend, INCR,
// expiry on the node's own clock (early under a forward jump or a fast clock), lazy and active
// expiry, and what a restart keeps under each persistence mode.
import { describe, expect, it } from 'vitest';
import { Simulation } from '../sim/simulation.js';
import type { RedisCommand, RedisReply } from './commands.js';
import { redisLikeSpec, type RedisKeyEvent, type RedisPersistence } from './core.js';

function node(persistence: RedisPersistence = 'none', events: RedisKeyEvent[] = []) {
  const spec = redisLikeSpec({ persistence, observer: { keyEvent: (_node, e) => void events.push(e) } });
  const sim = new Simulation({ seed: 1, protocol: spec, nodes: 1, fsyncMs: 1 });
  const call = (command: RedisCommand): RedisReply | undefined => {
    let reply: RedisReply | undefined;
    sim.request('1', command, { timeoutMs: 100 }, (r) => (reply = r));
    sim.runUntilTrue(() => reply !== undefined, 100);
    return reply;
  };
  const value = (command: RedisCommand): string | number | null | undefined => {
    const r = call(command);
    return r?.ok === true ? r.value : undefined;
  };
  return { sim, call, value, events };
}

describe('redis-like node', () => {
  it('SET NX grants a key once until it is deleted by its value', () => {
    const r = node();
    expect(r.value({ cmd: 'set', key: 'lock', value: 'a', nx: true, pxMs: 1000 })).toBe('OK');
    expect(r.value({ cmd: 'set', key: 'lock', value: 'b', nx: true, pxMs: 1000 })).toBeNull();
    expect(r.value({ cmd: 'get', key: 'lock' })).toBe('a');
    expect(r.value({ cmd: 'delIfEq', key: 'lock', value: 'b' })).toBe(0);
    expect(r.value({ cmd: 'delIfEq', key: 'lock', value: 'a' })).toBe(1);
    expect(r.value({ cmd: 'set', key: 'lock', value: 'b', nx: true, pxMs: 1000 })).toBe('OK');
    // a plain SET overwrites
    expect(r.value({ cmd: 'set', key: 'lock', value: 'c' })).toBe('OK');
    expect(r.value({ cmd: 'pttl', key: 'lock' })).toBe(-1);
    expect(r.value({ cmd: 'pttl', key: 'nothing' })).toBe(-2);
  });

  it('expires a key after its PX by the node clock, lazily and by the active cycle', () => {
    const r = node();
    r.value({ cmd: 'set', key: 'lock', value: 'a', nx: true, pxMs: 300 });
    r.sim.runFor(250);
    expect(r.value({ cmd: 'get', key: 'lock' })).toBe('a');
    expect(r.value({ cmd: 'pttl', key: 'lock' })).toBeGreaterThan(0);
    r.sim.runFor(100);
    // the active cycle removed it without any access
    expect(r.events.map((e) => e.type)).toEqual(['set', 'expired']);
    expect(r.value({ cmd: 'set', key: 'lock', value: 'b', nx: true, pxMs: 300 })).toBe('OK');
  });

  it('extends only the holder\'s key', () => {
    const r = node();
    r.value({ cmd: 'set', key: 'lock', value: 'a', nx: true, pxMs: 300 });
    r.sim.runFor(200);
    expect(r.value({ cmd: 'pexpireIfEq', key: 'lock', value: 'b', pxMs: 300 })).toBe(0);
    expect(r.value({ cmd: 'pexpireIfEq', key: 'lock', value: 'a', pxMs: 300 })).toBe(1);
    r.sim.runFor(200);
    expect(r.value({ cmd: 'get', key: 'lock' })).toBe('a');
    r.sim.runFor(150);
    expect(r.value({ cmd: 'get', key: 'lock' })).toBeNull();
  });

  it('a clock jump forward on the node expires its keys at once; a fast clock early', () => {
    const r = node();
    r.value({ cmd: 'set', key: 'lock', value: 'a', nx: true, pxMs: 10_000 });
    r.sim.runFor(100);
    r.sim.setClock('1', 10_000, 0);
    expect(r.value({ cmd: 'get', key: 'lock' })).toBeNull();
    expect(r.events.at(-1)).toEqual({ type: 'expired', key: 'lock', value: 'a' });

    const fast = node();
    fast.sim.setClock('1', 0, 500_000); // 1.5x
    fast.value({ cmd: 'set', key: 'lock', value: 'a', nx: true, pxMs: 3000 });
    fast.sim.runFor(2100);
    expect(fast.value({ cmd: 'get', key: 'lock' })).toBeNull();
  });

  it('INCR counts from 0, keeps the TTL, and refuses a non-integer', () => {
    const r = node();
    expect(r.value({ cmd: 'incr', key: 'fence' })).toBe(1);
    expect(r.value({ cmd: 'incr', key: 'fence' })).toBe(2);
    r.value({ cmd: 'set', key: 'word', value: 'x' });
    expect(r.call({ cmd: 'incr', key: 'word' })).toMatchObject({ ok: false, error: 'WRONGTYPE' });
    r.value({ cmd: 'set', key: 'n', value: '5', pxMs: 100 });
    expect(r.value({ cmd: 'incr', key: 'n' })).toBe(6);
    r.sim.runFor(150);
    expect(r.value({ cmd: 'get', key: 'n' })).toBeNull();
  });

  it('setNxFenced sets the key and draws the next token in one step, or neither when the key is held; both survive a restart with fsync-always', () => {
    const r = node('fsync-always');
    const acquire = (value: string) => r.value({ cmd: 'setNxFenced', key: 'lock', value, pxMs: 500, fenceKey: 'fence' });
    expect(acquire('a')).toBe(1);
    expect(acquire('b')).toBeNull();
    expect(r.value({ cmd: 'get', key: 'fence' })).toBe('1');
    expect(r.value({ cmd: 'delIfEq', key: 'lock', value: 'a' })).toBe(1);
    expect(acquire('b')).toBe(2);
    r.sim.crash('1');
    r.sim.restart('1');
    expect(r.value({ cmd: 'get', key: 'lock' })).toBe('b');
    r.sim.runFor(600);
    expect(acquire('c')).toBe(3);
    r.value({ cmd: 'set', key: 'notanumber', value: 'x' });
    expect(r.call({ cmd: 'setNxFenced', key: 'other', value: 'd', pxMs: 500, fenceKey: 'notanumber' })).toMatchObject({ ok: false, error: 'WRONGTYPE' });
    expect(r.value({ cmd: 'get', key: 'other' })).toBeNull();
    expect(r.call({ cmd: 'setNxFenced', key: 'other', value: 'd', pxMs: 0, fenceKey: 'fence' } as RedisCommand)).toMatchObject({ ok: false, error: 'ERR' });
  });

  it('refuses malformed commands with ERR', () => {
    const r = node();
    for (const bad of [{ cmd: 'flushall' }, { cmd: 'set', key: 'k' }, { cmd: 'set', key: 'k', value: 'v', pxMs: 0 }, { cmd: 'get', key: 7 }, { cmd: 'pexpireIfEq', key: 'k', value: 'v' }]) {
      expect(r.call(bad as unknown as RedisCommand)).toMatchObject({ ok: false, error: 'ERR' });
    }
  });

  it('without persistence a restart loses every key (and the INCR counter)', () => {
    const r = node('none');
    r.value({ cmd: 'set', key: 'lock', value: 'a', nx: true, pxMs: 10_000 });
    r.value({ cmd: 'incr', key: 'fence' });
    r.sim.crash('1');
    r.sim.restart('1');
    expect(r.value({ cmd: 'get', key: 'lock' })).toBeNull();
    expect(r.value({ cmd: 'incr', key: 'fence' })).toBe(1);
  });

  it('with fsync-always a restart keeps every acknowledged write, and expiries still apply', () => {
    const r = node('fsync-always');
    r.value({ cmd: 'set', key: 'lock', value: 'a', nx: true, pxMs: 500 });
    r.value({ cmd: 'set', key: 'gone', value: 'x' });
    r.value({ cmd: 'delIfEq', key: 'gone', value: 'x' });
    r.value({ cmd: 'incr', key: 'fence' });
    r.sim.crash('1');
    r.sim.restart('1');
    expect(r.value({ cmd: 'get', key: 'lock' })).toBe('a');
    expect(r.value({ cmd: 'get', key: 'gone' })).toBeNull();
    expect(r.value({ cmd: 'incr', key: 'fence' })).toBe(2);
    r.sim.crash('1');
    r.sim.runFor(600);
    r.sim.restart('1');
    expect(r.value({ cmd: 'get', key: 'lock' })).toBeNull();
  });
});
