import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { G_COUNTER, PN_COUNTER, countOf, gCounterIncrement, pnCounterDecrement, pnCounterIncrement, type GCounterState, type PnCounterState } from './counters.js';
import { checkCrdtLaws, expectCrdtError } from './test/laws.js';
import { MAX_REPLICAS, MAX_TEXT_LENGTH } from './types.js';

const amount = fc.integer({ min: 1, max: 5 });

describe('G-Counter', () => {
  it('satisfies the CRDT laws', () => {
    checkCrdtLaws<GCounterState>({
      type: G_COUNTER,
      mutation: (replica) => amount.map((n) => (s: GCounterState) => gCounterIncrement(s, replica, n)),
    });
  });

  it('counts the arithmetic sum of increments made in sequence at any replicas', () => {
    const op = fc.record({ replica: fc.constantFrom('a', 'b', 'c', 'd'), amount: fc.integer({ min: 1, max: 1_000 }) });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        let state = G_COUNTER.empty();
        for (const o of ops) state = G_COUNTER.join(state, gCounterIncrement(state, o.replica, o.amount));
        expect(G_COUNTER.value(state)).toBe(ops.reduce((sum, o) => sum + o.amount, 0));
      }),
    );
  });

  it('keeps concurrent increments of every replica, and a duplicated delta counts once', () => {
    const a = gCounterIncrement([], 'a', 3);
    const b = gCounterIncrement([], 'b', 4);
    const merged = [a, b, a, b].reduce((s, d) => G_COUNTER.join(s, d), G_COUNTER.empty());
    expect(G_COUNTER.value(merged)).toBe(7);
    expect(merged).toEqual([['a', 3], ['b', 4]]);
  });

  it('an increment delta holds one entry whatever the number of replicas', () => {
    let state: GCounterState = Array.from({ length: 1_000 }, (_, i) => [`r${String(i).padStart(4, '0')}`, i + 1] as const);
    const delta = gCounterIncrement(state, 'r0500', 2);
    expect(delta).toEqual([['r0500', 503]]);
    const fresh = gCounterIncrement(state, 'zz', 1);
    expect(fresh).toHaveLength(1);
    state = G_COUNTER.join(G_COUNTER.join(state, delta), fresh);
    expect(state).toHaveLength(1_001);
    expect(countOf(state, 'r0500')).toBe(503);
    expect(G_COUNTER.value(state)).toBe((1_000 * 1_001) / 2 + 2 + 1);
  });

  it('refuses bad amounts and replica ids, and sums past 2^53 - 1', () => {
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, Number.MAX_SAFE_INTEGER + 1]) {
      expectCrdtError('CRDT_INVALID_ARGUMENT', () => gCounterIncrement([], 'a', bad));
    }
    expectCrdtError('CRDT_INVALID_ARGUMENT', () => gCounterIncrement([], '', 1));
    expectCrdtError('CRDT_INVALID_ARGUMENT', () => gCounterIncrement([], 'x'.repeat(MAX_TEXT_LENGTH + 1), 1));
    expectCrdtError('CRDT_INVALID_ARGUMENT', () => gCounterIncrement([['a', Number.MAX_SAFE_INTEGER - 1]], 'b', 2));
    expect(gCounterIncrement([['a', Number.MAX_SAFE_INTEGER - 1]], 'a', 1)).toEqual([['a', Number.MAX_SAFE_INTEGER]]);
  });

  it('refuses a join whose sum would pass 2^53 - 1', () => {
    const big = Number.MAX_SAFE_INTEGER - 10;
    expectCrdtError('CRDT_BAD_STATE', () => G_COUNTER.join([['a', big]], [['b', big]]));
  });

  it('refuses a new replica beyond MAX_REPLICAS', () => {
    const full: GCounterState = Array.from({ length: MAX_REPLICAS }, (_, i) => [`r${String(i).padStart(5, '0')}`, 1] as const);
    expectCrdtError('CRDT_INVALID_ARGUMENT', () => gCounterIncrement(full, 'zz', 1));
    expect(gCounterIncrement(full, 'r00000', 1)).toEqual([['r00000', 2]]);
  });

  it('decodes unsorted input to the canonical state, dropping zero counts', () => {
    const decoded = G_COUNTER.decode([['b', 2], ['a', 1], ['c', 0]]);
    expect(decoded).toEqual([['a', 1], ['b', 2]]);
    expect(G_COUNTER.canonical(decoded)).toBe(G_COUNTER.canonical(G_COUNTER.decode([['a', 1], ['b', 2]])));
  });

  it('refuses malformed states with CRDT_BAD_STATE', () => {
    const hostile: unknown[] = [
      null,
      undefined,
      'a',
      42,
      { a: 1 },
      [['a']],
      [['a', 1, 2]],
      ['a', 1],
      [[1, 1]],
      [['', 1]],
      [['x'.repeat(MAX_TEXT_LENGTH + 1), 1]],
      [['a', -1]],
      [['a', 1.5]],
      [['a', '1']],
      [['a', null]],
      [['a', Number.MAX_SAFE_INTEGER + 1]],
      [['a', 1], ['a', 2]],
      [['a', 0], ['a', 2]],
      [['a', Number.MAX_SAFE_INTEGER], ['b', 1]],
      Array.from({ length: MAX_REPLICAS + 1 }, (_, i) => [`r${i}`, 1]),
      // eslint-disable-next-line no-sparse-arrays
      [, ['a', 1]],
    ];
    for (const value of hostile) expectCrdtError('CRDT_BAD_STATE', () => G_COUNTER.decode(value));
  });
});

describe('PN-Counter', () => {
  it('satisfies the CRDT laws', () => {
    checkCrdtLaws<PnCounterState>({
      type: PN_COUNTER,
      mutation: (replica) =>
        fc.tuple(fc.boolean(), amount).map(([up, n]) => (s: PnCounterState) => (up ? pnCounterIncrement(s, replica, n) : pnCounterDecrement(s, replica, n))),
    });
  });

  it('counts the arithmetic sum of increments and decrements made in sequence', () => {
    const op = fc.record({ replica: fc.constantFrom('a', 'b', 'c'), amount: fc.integer({ min: -1_000, max: 1_000 }).filter((n) => n !== 0) });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        let state = PN_COUNTER.empty();
        for (const o of ops) {
          const delta = o.amount > 0 ? pnCounterIncrement(state, o.replica, o.amount) : pnCounterDecrement(state, o.replica, -o.amount);
          state = PN_COUNTER.join(state, delta);
        }
        expect(PN_COUNTER.value(state)).toBe(ops.reduce((sum, o) => sum + o.amount, 0));
      }),
    );
  });

  it('keeps concurrent increments and decrements; deltas carry one entry on one side', () => {
    const up = pnCounterIncrement(PN_COUNTER.empty(), 'a', 5);
    const down = pnCounterDecrement(PN_COUNTER.empty(), 'b', 8);
    expect(up).toEqual({ increments: [['a', 5]], decrements: [] });
    expect(down).toEqual({ increments: [], decrements: [['b', 8]] });
    expect(PN_COUNTER.value(PN_COUNTER.join(down, up))).toBe(-3);
    expect(pnCounterDecrement(PN_COUNTER.join(down, up), 'b')).toEqual({ increments: [], decrements: [['b', 9]] });
  });

  it('refuses bad amounts', () => {
    expectCrdtError('CRDT_INVALID_ARGUMENT', () => pnCounterIncrement(PN_COUNTER.empty(), 'a', 0));
    expectCrdtError('CRDT_INVALID_ARGUMENT', () => pnCounterDecrement(PN_COUNTER.empty(), 'a', -2));
  });

  it('refuses malformed states with CRDT_BAD_STATE', () => {
    const hostile: unknown[] = [
      null,
      [],
      'x',
      {},
      { increments: [] },
      { decrements: [] },
      { increments: null, decrements: [] },
      { increments: [['a', -1]], decrements: [] },
      { increments: [], decrements: [['a', 1], ['a', 1]] },
      { increments: [], decrements: Array.from({ length: MAX_REPLICAS + 1 }, (_, i) => [`r${i}`, 1]) },
    ];
    for (const value of hostile) expectCrdtError('CRDT_BAD_STATE', () => PN_COUNTER.decode(value));
  });

  it('canonical text ignores field order and entry order of the input', () => {
    const a = PN_COUNTER.decode({ decrements: [['b', 1], ['a', 2]], increments: [['c', 3]] });
    const b = PN_COUNTER.decode({ increments: [['c', 3]], decrements: [['a', 2], ['b', 1]] });
    expect(PN_COUNTER.canonical(a)).toBe(PN_COUNTER.canonical(b));
    expect(PN_COUNTER.value(a)).toBe(0);
  });
});
