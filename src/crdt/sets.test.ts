import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { HlcTimestamp } from '../clock/hlc.js';
import { G_SET, LWW_ELEMENT_SET, TWO_P_SET, gSetAdd, lwwSetAdd, lwwSetRemove, twoPSetAdd, twoPSetRemove, type GSetState, type LwwElementSetState, type TwoPSetState } from './sets.js';
import { checkCrdtLaws, expectCrdtError } from './test/laws.js';
import { MAX_ELEMENTS, MAX_TEXT_LENGTH } from './types.js';

const sorted = (set: ReadonlySet<string>): string[] => [...set].sort();
const element = fc.constantFrom('a', 'b', 'c', 'd', '');
const at = (physicalMs: number, logical = 0): HlcTimestamp => ({ physicalMs, logical });
/** A small range, so that equal stamps (at one replica or two) are common. */
const smallStamp = fc.record({ physicalMs: fc.integer({ min: 0, max: 3 }), logical: fc.integer({ min: 0, max: 1 }) });
const stampJson = (physicalMs: number, logical: number, replica: string): unknown => ({ stamp: { physicalMs, logical }, replica });

describe('G-Set', () => {
  it('satisfies the CRDT laws', () => {
    checkCrdtLaws<GSetState>({ type: G_SET, mutation: () => element.map((e) => (s: GSetState) => gSetAdd(s, e)) });
  });

  it('behaves like a JS Set of the added elements', () => {
    fc.assert(
      fc.property(fc.array(element, { maxLength: 30 }), (adds) => {
        let state = G_SET.empty();
        for (const e of adds) state = G_SET.join(state, gSetAdd(state, e));
        expect(sorted(G_SET.value(state))).toEqual(sorted(new Set(adds)));
      }),
    );
  });

  it('the delta of an add is the element alone', () => {
    expect(gSetAdd(['a', 'b', 'c'], 'z')).toEqual(['z']);
    expect(G_SET.join(['a', 'c'], ['b', 'c'])).toEqual(['a', 'b', 'c']);
  });

  it('refuses bad elements', () => {
    expectCrdtError('CRDT_INVALID_ARGUMENT', () => gSetAdd([], 'x'.repeat(MAX_TEXT_LENGTH + 1)));
    expectCrdtError('CRDT_INVALID_ARGUMENT', () => gSetAdd([], 5 as unknown as string));
  });

  it('decodes unsorted input to the canonical state and refuses malformed ones', () => {
    expect(G_SET.canonical(G_SET.decode(['c', 'a', 'b']))).toBe(G_SET.canonical(['a', 'b', 'c']));
    const hostile: unknown[] = [null, 'a', {}, [1], [null], [['a']], ['a', 'a'], ['x'.repeat(MAX_TEXT_LENGTH + 1)], new Array(MAX_ELEMENTS + 1).fill('a')];
    for (const value of hostile) expectCrdtError('CRDT_BAD_STATE', () => G_SET.decode(value));
  });
});

describe('2P-Set', () => {
  const op = fc.record({ remove: fc.boolean(), element });
  const apply = (s: TwoPSetState, o: { remove: boolean; element: string }): TwoPSetState => (o.remove ? twoPSetRemove(s, o.element) : twoPSetAdd(s, o.element));

  it('satisfies the CRDT laws', () => {
    checkCrdtLaws<TwoPSetState>({ type: TWO_P_SET, mutation: () => op.map((o) => (s: TwoPSetState) => apply(s, o)) });
  });

  it('behaves like a JS Set whose removed elements can never return', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 30 }), (ops) => {
        let state = TWO_P_SET.empty();
        const model = new Set<string>();
        const tombstones = new Set<string>();
        for (const o of ops) {
          state = TWO_P_SET.join(state, apply(state, o));
          if (o.remove) {
            model.delete(o.element);
            tombstones.add(o.element);
          } else if (!tombstones.has(o.element)) {
            model.add(o.element);
          }
        }
        expect(sorted(TWO_P_SET.value(state))).toEqual(sorted(model));
      }),
    );
  });

  it('a remove wins over a concurrent add and every later one', () => {
    const added = twoPSetAdd(TWO_P_SET.empty(), 'x');
    const removed = twoPSetRemove(TWO_P_SET.empty(), 'x');
    expect(TWO_P_SET.value(TWO_P_SET.join(added, removed)).has('x')).toBe(false);
    expect(TWO_P_SET.value(TWO_P_SET.join(removed, added)).has('x')).toBe(false);
    const later = TWO_P_SET.join(TWO_P_SET.join(added, removed), twoPSetAdd(TWO_P_SET.join(added, removed), 'x'));
    expect(TWO_P_SET.value(later).has('x')).toBe(false);
  });

  it('removing an element never added pre-empts its later add', () => {
    const state = TWO_P_SET.join(TWO_P_SET.empty(), twoPSetRemove(TWO_P_SET.empty(), 'ghost'));
    const next = TWO_P_SET.join(state, twoPSetAdd(state, 'ghost'));
    expect(TWO_P_SET.value(next).size).toBe(0);
    expect(next).toEqual({ added: [], removed: ['ghost'] });
  });

  it('refuses bad elements', () => {
    expectCrdtError('CRDT_INVALID_ARGUMENT', () => twoPSetAdd(TWO_P_SET.empty(), 'x'.repeat(MAX_TEXT_LENGTH + 1)));
    expectCrdtError('CRDT_INVALID_ARGUMENT', () => twoPSetRemove(TWO_P_SET.empty(), null as unknown as string));
  });

  it('decodes to the canonical state (a removed element kept only as removed) and refuses malformed ones', () => {
    const decoded = TWO_P_SET.decode({ removed: ['b'], added: ['c', 'b', 'a'] });
    expect(decoded).toEqual({ added: ['a', 'c'], removed: ['b'] });
    expect(TWO_P_SET.canonical(decoded)).toBe(TWO_P_SET.canonical(TWO_P_SET.decode({ added: ['a', 'c'], removed: ['b'] })));
    const hostile: unknown[] = [
      null,
      [],
      {},
      { added: [] },
      { added: [], removed: 'a' },
      { added: [1], removed: [] },
      { added: ['a', 'a'], removed: [] },
      { added: [], removed: ['x'.repeat(MAX_TEXT_LENGTH + 1)] },
      { added: new Array(MAX_ELEMENTS / 2 + 1).fill('a'), removed: new Array(MAX_ELEMENTS / 2).fill('b') },
    ];
    for (const value of hostile) expectCrdtError('CRDT_BAD_STATE', () => TWO_P_SET.decode(value));
  });
});

describe('LWW-Element-Set', () => {
  const op = fc.record({ remove: fc.boolean(), element, stamp: smallStamp });
  type Op = { remove: boolean; element: string; stamp: HlcTimestamp };
  const apply = (s: LwwElementSetState, replica: string, o: Op): LwwElementSetState =>
    o.remove ? lwwSetRemove(s, replica, o.stamp, o.element) : lwwSetAdd(s, replica, o.stamp, o.element);

  it('satisfies the CRDT laws', () => {
    checkCrdtLaws<LwwElementSetState>({ type: LWW_ELEMENT_SET, mutation: (replica) => op.map((o) => (s: LwwElementSetState) => apply(s, replica, o)) });
  });

  it('behaves like a JS Set when every operation has a later stamp than the one before', () => {
    const seqOp = fc.record({ remove: fc.boolean(), element, replica: fc.constantFrom('r0', 'r1', 'r2') });
    fc.assert(
      fc.property(fc.array(seqOp, { maxLength: 30 }), (ops) => {
        let state = LWW_ELEMENT_SET.empty();
        const model = new Set<string>();
        ops.forEach((o, i) => {
          state = LWW_ELEMENT_SET.join(state, apply(state, o.replica, { ...o, stamp: at(100 + (i >> 1), i & 1) }));
          if (o.remove) model.delete(o.element);
          else model.add(o.element);
        });
        expect(sorted(LWW_ELEMENT_SET.value(state))).toEqual(sorted(model));
      }),
    );
  });

  it('on equal stamps the add wins, whichever replicas made them and in either order', () => {
    for (const [adder, remover] of [['r1', 'r2'], ['r2', 'r1'], ['r1', 'r1']]) {
      const add = lwwSetAdd([], adder as string, at(7, 3), 'x');
      const remove = lwwSetRemove([], remover as string, at(7, 3), 'x');
      expect(LWW_ELEMENT_SET.value(LWW_ELEMENT_SET.join(add, remove)).has('x')).toBe(true);
      expect(LWW_ELEMENT_SET.value(LWW_ELEMENT_SET.join(remove, add)).has('x')).toBe(true);
    }
  });

  it('the later stamp decides whatever the delivery order; a remove of an absent element hides earlier adds', () => {
    const add = lwwSetAdd([], 'r9', at(5), 'x');
    const remove = lwwSetRemove([], 'r1', at(5, 1), 'x');
    expect(LWW_ELEMENT_SET.value(LWW_ELEMENT_SET.join(add, remove)).has('x')).toBe(false);
    expect(LWW_ELEMENT_SET.value(LWW_ELEMENT_SET.join(remove, add)).has('x')).toBe(false);
    const readd = lwwSetAdd([], 'r0', at(6), 'x');
    expect(LWW_ELEMENT_SET.value([remove, readd, add].reduce((s, d) => LWW_ELEMENT_SET.join(s, d), LWW_ELEMENT_SET.empty())).has('x')).toBe(true);
  });

  it('between two adds with equal stamps the greater replica id is kept', () => {
    const a = lwwSetAdd([], 'r1', at(4), 'x');
    const b = lwwSetAdd([], 'r2', at(4), 'x');
    expect(LWW_ELEMENT_SET.join(a, b)).toEqual(LWW_ELEMENT_SET.join(b, a));
    expect(LWW_ELEMENT_SET.join(a, b)[0]?.added?.replica).toBe('r2');
  });

  it('a delta is the one entry, with a copy of the stamp', () => {
    const stamp = { physicalMs: 1, logical: 2, extra: true } as HlcTimestamp;
    expect(lwwSetAdd([], 'r', stamp, 'x')).toEqual([{ element: 'x', added: { stamp: { physicalMs: 1, logical: 2 }, replica: 'r' }, removed: null }]);
  });

  it('refuses bad arguments', () => {
    const bad: [string, HlcTimestamp, string][] = [
      ['', at(1), 'x'],
      ['r', at(-1), 'x'],
      ['r', at(1.5), 'x'],
      ['r', at(1, 0x10000), 'x'],
      ['r', at(2 ** 48), 'x'],
      ['r', null as unknown as HlcTimestamp, 'x'],
      ['r', at(1), 'x'.repeat(MAX_TEXT_LENGTH + 1)],
    ];
    for (const [replica, stamp, e] of bad) {
      expectCrdtError('CRDT_INVALID_ARGUMENT', () => lwwSetAdd([], replica, stamp, e));
      expectCrdtError('CRDT_INVALID_ARGUMENT', () => lwwSetRemove([], replica, stamp, e));
    }
  });

  it('decodes to the canonical state and refuses malformed ones', () => {
    const x = { element: 'x', added: stampJson(1, 0, 'r'), removed: null };
    const y = { removed: stampJson(2, 0, 'q'), added: null, element: 'y' };
    expect(LWW_ELEMENT_SET.canonical(LWW_ELEMENT_SET.decode([y, x]))).toBe(LWW_ELEMENT_SET.canonical(LWW_ELEMENT_SET.decode([x, y])));
    const hostile: unknown[] = [
      null,
      {},
      [null],
      [{ element: 'x' }],
      [{ element: 'x', added: null, removed: null }],
      [{ element: 1, added: stampJson(1, 0, 'r'), removed: null }],
      [{ element: 'x'.repeat(MAX_TEXT_LENGTH + 1), added: stampJson(1, 0, 'r'), removed: null }],
      [{ element: 'x', added: stampJson(-1, 0, 'r'), removed: null }],
      [{ element: 'x', added: stampJson(1, 0x10000, 'r'), removed: null }],
      [{ element: 'x', added: stampJson(1.5, 0, 'r'), removed: null }],
      [{ element: 'x', added: stampJson(1, 0, ''), removed: null }],
      [{ element: 'x', added: { stamp: [1, 0], replica: 'r' }, removed: null }],
      [{ element: 'x', added: { replica: 'r' }, removed: null }],
      [{ element: 'x', added: stampJson(1, 0, 'r'), removed: 'soon' }],
      [x, x],
      new Array(MAX_ELEMENTS + 1).fill(x),
    ];
    for (const value of hostile) expectCrdtError('CRDT_BAD_STATE', () => LWW_ELEMENT_SET.decode(value));
  });
});
