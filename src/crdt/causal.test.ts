import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  causalType,
  compareDots,
  contextAdd,
  contextCanonical,
  contextHas,
  contextJoin,
  contextOf,
  decodeContext,
  DOT_SET,
  dotFun,
  dotMap,
  emptyContext,
  nextDot,
  type CausalContext,
  type Dot,
} from './causal.js';
import { isCrdtError, type CrdtErrorCode } from './errors.js';
import { MAX_REPLICAS } from './types.js';

const REPLICAS = ['a', 'b', 'c'];
const MAX_COUNTER = 8;
const dotArb: fc.Arbitrary<Dot> = fc.tuple(fc.constantFrom(...REPLICAS), fc.integer({ min: 1, max: MAX_COUNTER }));
const dotsArb = fc.array(dotArb, { maxLength: 20 });
/** Every dot the arbitraries can make: a context is checked against a plain Set on all of them. */
const DOMAIN: Dot[] = REPLICAS.flatMap((r) => Array.from({ length: MAX_COUNTER + 2 }, (_, i): Dot => [r, i + 1]));

const key = (d: Dot): string => `${d[0]}:${d[1]}`;

function expectCode(code: CrdtErrorCode, run: () => unknown): void {
  let thrown: unknown;
  try {
    run();
  } catch (err) {
    thrown = err;
  }
  expect(isCrdtError(thrown), `expected a CrdtError, got ${String(thrown)}`).toBe(true);
  expect((thrown as { code: string }).code).toBe(code);
}

/** Decode either succeeds or throws CRDT_BAD_STATE, never another exception. */
function decodesOrBadState(run: () => unknown): void {
  try {
    run();
  } catch (err) {
    expect(isCrdtError(err) && err.code === 'CRDT_BAD_STATE', `unexpected ${String(err)}`).toBe(true);
  }
}

function expectMatches(cc: CausalContext, dots: readonly Dot[]): void {
  const set = new Set(dots.map(key));
  for (const d of DOMAIN) expect(contextHas(cc, d), key(d)).toBe(set.has(key(d)));
}

function expectCompacted(cc: CausalContext): void {
  const vv = new Map(cc.vv);
  expect(cc.vv.every(([, c]) => c >= 1)).toBe(true);
  expect([...cc.vv].sort((x, y) => (x[0] < y[0] ? -1 : 1))).toEqual(cc.vv);
  expect([...cc.cloud].sort(compareDots)).toEqual(cc.cloud);
  for (const [r, c] of cc.cloud) expect(c, `cloud dot ${r}:${c} extends or is covered by the vv`).toBeGreaterThan((vv.get(r) ?? 0) + 1);
}

describe('causal contexts', () => {
  it('hold exactly the dots added, compacted, whatever the order of construction', () => {
    fc.assert(
      fc.property(dotsArb, fc.infiniteStream(fc.boolean()), (dots, coin) => {
        const byOf = contextOf(dots);
        const reversed = [...dots].reverse();
        const byAdd = reversed.reduce((cc, d) => contextAdd(cc, d), emptyContext());
        // joined as singletons, associated at random
        const byJoin = dots.reduce((cc, d) => (coin.next().value ? contextJoin(cc, contextOf([d])) : contextJoin(contextOf([d]), cc)), emptyContext());
        expectMatches(byOf, dots);
        expectCompacted(byOf);
        expect(contextCanonical(byAdd)).toBe(contextCanonical(byOf));
        expect(contextCanonical(byJoin)).toBe(contextCanonical(byOf));
      }),
      { numRuns: 200 },
    );
  });

  it('join is the union: commutative, associative, idempotent', () => {
    fc.assert(
      fc.property(dotsArb, dotsArb, dotsArb, (x, y, z) => {
        const [a, b, c] = [contextOf(x), contextOf(y), contextOf(z)];
        const text = contextCanonical;
        expectMatches(contextJoin(a, b), [...x, ...y]);
        expectCompacted(contextJoin(a, b));
        expect(text(contextJoin(a, b))).toBe(text(contextJoin(b, a)));
        expect(text(contextJoin(contextJoin(a, b), c))).toBe(text(contextJoin(a, contextJoin(b, c))));
        expect(text(contextJoin(a, a))).toBe(text(a));
        expect(text(contextJoin(a, emptyContext()))).toBe(text(a));
      }),
      { numRuns: 200 },
    );
  });

  it('folds contiguous cloud dots into the vv', () => {
    const gappy = contextOf([['a', 2], ['a', 3], ['b', 1], ['a', 5]]);
    expect(gappy).toEqual({ vv: [['b', 1]], cloud: [['a', 2], ['a', 3], ['a', 5]] });
    expect(contextAdd(gappy, ['a', 1])).toEqual({ vv: [['a', 3], ['b', 1]], cloud: [['a', 5]] });
    expect(contextAdd(contextAdd(gappy, ['a', 1]), ['a', 4])).toEqual({ vv: [['a', 5], ['b', 1]], cloud: [] });
  });

  it('next dot: one past the highest counter seen, in the vv or the cloud', () => {
    fc.assert(
      fc.property(dotsArb, fc.constantFrom(...REPLICAS, 'new'), (dots, replica) => {
        const highest = Math.max(0, ...dots.filter((d) => d[0] === replica).map((d) => d[1]));
        const next = nextDot(contextOf(dots), replica);
        expect(next).toEqual([replica, highest + 1]);
        expect(contextHas(contextOf(dots), next)).toBe(false);
      }),
      { numRuns: 100 },
    );
    expect(nextDot(contextOf([['z', 1], ['a', 4]]), 'a')).toEqual(['a', 5]);
  });

  it('refuses bad arguments with CRDT_INVALID_ARGUMENT', () => {
    expectCode('CRDT_INVALID_ARGUMENT', () => nextDot(emptyContext(), ''));
    expectCode('CRDT_INVALID_ARGUMENT', () => nextDot(emptyContext(), 7 as unknown as string));
    expectCode('CRDT_INVALID_ARGUMENT', () => contextAdd(emptyContext(), ['a', 0]));
    expectCode('CRDT_INVALID_ARGUMENT', () => contextAdd(emptyContext(), ['a', 1.5]));
    expectCode('CRDT_BAD_STATE', () => nextDot({ vv: [['a', Number.MAX_SAFE_INTEGER]], cloud: [] }, 'a'));
  });
});

describe('decodeContext', () => {
  it('round-trips through JSON and compacts what arrives uncompacted', () => {
    fc.assert(
      fc.property(dotsArb, (dots) => {
        const cc = contextOf(dots);
        expect(contextCanonical(decodeContext(JSON.parse(JSON.stringify(cc))))).toBe(contextCanonical(cc));
      }),
      { numRuns: 100 },
    );
    expect(decodeContext({ vv: [['a', 2]], cloud: [['a', 1], ['a', 3], ['a', 5], ['b', 1]] })).toEqual({ vv: [['a', 3], ['b', 1]], cloud: [['a', 5]] });
  });

  it('refuses malformed contexts with CRDT_BAD_STATE', () => {
    const hostile: unknown[] = [
      null,
      undefined,
      42,
      'vv',
      [],
      {},
      { vv: [] },
      { cloud: [] },
      { vv: {}, cloud: [] },
      { vv: [['a']], cloud: [] },
      { vv: [['a', 1, 2]], cloud: [] },
      { vv: [[1, 1]], cloud: [] },
      { vv: [['', 1]], cloud: [] },
      { vv: [['a', 0]], cloud: [] },
      { vv: [['a', -1]], cloud: [] },
      { vv: [['a', 1.5]], cloud: [] },
      { vv: [['a', Number.MAX_SAFE_INTEGER + 1]], cloud: [] },
      { vv: [['a', '1']], cloud: [] },
      { vv: [['b', 1], ['a', 1]], cloud: [] },
      { vv: [['a', 1], ['a', 2]], cloud: [] },
      { vv: [], cloud: [['a', 3], ['a', 2]] },
      { vv: [], cloud: [['a', 3], ['a', 3]] },
      { vv: [], cloud: [{ replica: 'a', counter: 1 }] },
      { vv: Array.from({ length: MAX_REPLICAS + 1 }, (_, i) => [`r${String(i).padStart(6, '0')}`, 1]), cloud: [] },
      { vv: [['x'.repeat(70_000), 1]], cloud: [] },
      // counter 1 of each replica folds into the vv: too many replicas once compacted
      { vv: [], cloud: Array.from({ length: MAX_REPLICAS + 1 }, (_, i) => [`r${String(i).padStart(6, '0')}`, 1]) },
    ];
    for (const value of hostile) expectCode('CRDT_BAD_STATE', () => decodeContext(value));
  });

  it('answers anything with a context or CRDT_BAD_STATE', () => {
    const loose = fc.oneof(fc.anything(), fc.record({ vv: fc.array(fc.anything(), { maxLength: 4 }), cloud: fc.array(fc.anything(), { maxLength: 4 }) }));
    fc.assert(fc.property(loose, (value) => decodesOrBadState(() => decodeContext(value))), { numRuns: 300 });
  });
});

describe('dot stores', () => {
  const a = contextOf([['a', 1], ['a', 2], ['b', 1]]);
  const b = contextOf([['a', 1], ['b', 1], ['b', 2]]);

  it('DotSet: keeps what both hold and what the other side has not seen', () => {
    // a removed b:1 (seen, gone), still holds a:1 and a:2; b removed a:1 and holds b:1 and b:2
    expect(DOT_SET.join([['a', 1], ['a', 2]], [['b', 1], ['b', 2]], a, b)).toEqual([['a', 2], ['b', 2]]);
    expect(DOT_SET.join([['a', 1]], [['a', 1]], a, b)).toEqual([['a', 1]]);
  });

  it('DotFun: a dot that (corruptly) carries two values keeps the greater on both sides', () => {
    const fun = dotFun<string>({ decode: (v) => String(v), compare: (x, y) => (x < y ? -1 : x > y ? 1 : 0) });
    const cc = contextOf([['a', 1]]);
    expect(fun.join([[['a', 1], 'x']], [[['a', 1], 'y']], cc, cc)).toEqual([[['a', 1], 'y']]);
    expect(fun.join([[['a', 1], 'y']], [[['a', 1], 'x']], cc, cc)).toEqual([[['a', 1], 'y']]);
  });

  it('DotMap: joins each key with the shared contexts and drops keys left empty', () => {
    const map = dotMap(DOT_SET);
    const left = [['k', [['a', 1]]], ['m', [['a', 2]]]] as const;
    const right = [['k', [['b', 2]]]] as const;
    // m's dot a:2 unseen by b survives; k's a:1 was seen and dropped by b, b:2 is new to a
    expect(map.join(left, right, a, b)).toEqual([['k', [['b', 2]]], ['m', [['a', 2]]]]);
    expect(map.join([['k', [['a', 1]]]], [], a, b)).toEqual([]);
    expect(map.dots(left)).toEqual([['a', 1], ['a', 2]]);
  });

  it('a causal state is refused when a dot is not in its context or appears twice', () => {
    const type = causalType('test', dotMap(DOT_SET), (e) => e.length);
    const context = { vv: [['a', 2]], cloud: [] };
    expect(type.decode({ entries: [['k', [['a', 1]]], ['m', [['a', 2]]]], context })).toEqual({ entries: [['k', [['a', 1]]], ['m', [['a', 2]]]], context });
    expectCode('CRDT_BAD_STATE', () => type.decode({ entries: [['k', [['a', 3]]]], context }));
    expectCode('CRDT_BAD_STATE', () => type.decode({ entries: [['k', [['a', 1]]], ['m', [['a', 1]]]], context }));
    expectCode('CRDT_BAD_STATE', () => type.decode({ entries: [['k', []]], context }));
    expectCode('CRDT_BAD_STATE', () => type.decode({ entries: [['m', [['a', 1]]], ['k', [['a', 2]]]], context }));
    expectCode('CRDT_BAD_STATE', () => type.decode({ entries: [['k', [['a', 1]]]], context: null }));
  });
});
