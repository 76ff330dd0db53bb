// RGA: the CRDT laws, the sequential specification (a JS array), concurrent edits, out-of-order
// delivery, agreement of the mutable RgaDocument with the pure API, and hostile decode input.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isCrdtError } from './errors.js';
import { RGA, RgaDocument, rgaDeleteAt, rgaInsertAt, rgaInsertTextAt, rgaText, type RgaState } from './rga.js';
import { checkCrdtLaws } from './test/laws.js';
import { MAX_ELEMENTS, MAX_TEXT_LENGTH } from './types.js';

const join = (...states: RgaState[]): RgaState => states.reduce((a, b) => RGA.join(a, b), RGA.empty());
const lengthOf = (state: RgaState): number => RGA.value(state).length;

function expectCode(code: string, run: () => unknown): void {
  let caught: unknown;
  try {
    run();
  } catch (err) {
    caught = err;
  }
  expect(isCrdtError(caught), `expected a CrdtError, got ${String(caught)}`).toBe(true);
  expect((caught as { code: string }).code).toBe(code);
}

/** An edit with positions as fractions of the current length, so it applies to any state. */
type Edit =
  | { readonly kind: 'insert'; readonly at: number; readonly value: string }
  | { readonly kind: 'text'; readonly at: number; readonly text: string }
  | { readonly kind: 'delete'; readonly at: number; readonly count: number };

const position = fc.double({ min: 0, max: 1, noNaN: true });
const item = fc.constantFrom('a', 'b', 'c', 'xy', '', '😀');
const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant('insert' as const), at: position, value: item }),
  fc.record({ kind: fc.constant('text' as const), at: position, text: fc.string({ maxLength: 5 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: position, count: fc.nat(4) }),
);

/** The index an edit's fraction picks among `slots` places. */
const pick = (at: number, slots: number): number => Math.min(slots - 1, Math.floor(at * slots));

function deleteRange(e: Edit & { kind: 'delete' }, length: number): [number, number] {
  if (length === 0) return [0, 0];
  const index = pick(e.at, length);
  return [index, Math.min(e.count, length - index)];
}

function applyPure(state: RgaState, replica: string, e: Edit): RgaState {
  const length = lengthOf(state);
  if (e.kind === 'insert') return rgaInsertAt(state, replica, pick(e.at, length + 1), e.value);
  if (e.kind === 'text') return rgaInsertTextAt(state, replica, pick(e.at, length + 1), e.text);
  return rgaDeleteAt(state, ...deleteRange(e, length));
}

function applyDocument(doc: RgaDocument, e: Edit): RgaState {
  if (e.kind === 'insert') return doc.insert(pick(e.at, doc.length + 1), e.value);
  if (e.kind === 'text') return doc.insertText(pick(e.at, doc.length + 1), e.text);
  return doc.delete(...deleteRange(e, doc.length));
}

function applyArray(items: string[], e: Edit): void {
  if (e.kind === 'insert') items.splice(pick(e.at, items.length + 1), 0, e.value);
  else if (e.kind === 'text') items.splice(pick(e.at, items.length + 1), 0, ...Array.from(e.text));
  else items.splice(...deleteRange(e, items.length));
}

describe('RGA laws', () => {
  it('join is a semilattice; deltas in any order, with duplicates, give the replicas’ joined state; decode round-trips', () => {
    checkCrdtLaws({ type: RGA, mutation: (replica) => edit.map((e) => (state: RgaState) => applyPure(state, replica, e)) });
  });
});

describe('RGA on one replica is a list', () => {
  it('any sequence of edits gives what the same edits give on a JS array, on the pure API and on RgaDocument alike', () => {
    fc.assert(
      fc.property(fc.array(edit, { maxLength: 40 }), (edits) => {
        let state = RGA.empty();
        const doc = new RgaDocument('r');
        const items: string[] = [];
        for (const e of edits) {
          const delta = applyPure(state, 'r', e);
          // the document makes the same delta: same ids, same parents
          expect(RGA.canonical(applyDocument(doc, e))).toBe(RGA.canonical(delta));
          state = RGA.join(state, delta);
          applyArray(items, e);
        }
        expect(RGA.value(state)).toEqual(items);
        expect(doc.values()).toEqual(items);
        expect(doc.length).toBe(items.length);
        expect(rgaText(state)).toBe(items.join(''));
        expect(doc.text()).toBe(items.join(''));
        expect(RGA.canonical(doc.state())).toBe(RGA.canonical(state));
      }),
      { numRuns: 300 },
    );
  });

  it('inserts text one element per code point, chained', () => {
    const delta = rgaInsertTextAt(RGA.empty(), 'r', 0, 'a😀b');
    expect(delta).toEqual([
      ['r', 1, null, 0, 'a', false],
      ['r', 2, 'r', 1, '😀', false],
      ['r', 3, 'r', 2, 'b', false],
    ]);
    expect(RGA.value(delta)).toEqual(['a', '😀', 'b']);
    const state = RGA.join(delta, rgaInsertTextAt(delta, 'r', 1, 'XY'));
    expect(rgaText(state)).toBe('aXY😀b');
    expect(RGA.value(RGA.join(state, rgaDeleteAt(state, 1, 3)))).toEqual(['a', 'b']);
  });

  it('refuses bad arguments with CRDT_INVALID_ARGUMENT', () => {
    const state = rgaInsertTextAt(RGA.empty(), 'r', 0, 'abc');
    expectCode('CRDT_INVALID_ARGUMENT', () => rgaInsertAt(state, 'r', 4, 'x'));
    expectCode('CRDT_INVALID_ARGUMENT', () => rgaInsertAt(state, 'r', -1, 'x'));
    expectCode('CRDT_INVALID_ARGUMENT', () => rgaInsertAt(state, 'r', 0.5, 'x'));
    expectCode('CRDT_INVALID_ARGUMENT', () => rgaInsertAt(state, '', 0, 'x'));
    expectCode('CRDT_INVALID_ARGUMENT', () => rgaInsertAt(state, 'r', 0, 'x'.repeat(MAX_TEXT_LENGTH + 1)));
    expectCode('CRDT_INVALID_ARGUMENT', () => rgaDeleteAt(state, 2, 2));
    expectCode('CRDT_INVALID_ARGUMENT', () => rgaDeleteAt(state, 4));
    const doc = new RgaDocument('r', state);
    expectCode('CRDT_INVALID_ARGUMENT', () => doc.insertText(5, 'x'));
    expectCode('CRDT_INVALID_ARGUMENT', () => doc.delete(1, 3));
    expectCode('CRDT_INVALID_ARGUMENT', () => new RgaDocument(''));
    expect(rgaDeleteAt(state, 3, 0)).toEqual([]);
    expect(doc.delete(3, 0)).toEqual([]);
  });

  it('never changes its arguments', () => {
    const state = rgaInsertTextAt(RGA.empty(), 'r', 0, 'abc');
    const copy = JSON.stringify(state);
    const other = rgaInsertAt(state, 's', 1, 'x');
    RGA.join(state, other);
    rgaDeleteAt(state, 0, 2);
    new RgaDocument('t', state).delete(0, 3);
    expect(JSON.stringify(state)).toBe(copy);
  });
});

describe('RGA under concurrency', () => {
  it('keeps both of two concurrent inserts at one place, in the same order on both replicas', () => {
    const base = rgaInsertTextAt(RGA.empty(), 'a', 0, 'ac');
    const fromA = rgaInsertAt(base, 'a', 1, 'X');
    const fromB = rgaInsertAt(base, 'b', 1, 'Y');
    const atA = RGA.join(RGA.join(base, fromA), fromB);
    const atB = RGA.join(RGA.join(base, fromB), fromA);
    expect(RGA.value(atA)).toEqual(RGA.value(atB));
    // equal counters: the larger replica id comes first
    expect(rgaText(atA)).toBe('aYXc');
    const docA = new RgaDocument('a', base);
    const docB = new RgaDocument('b', base);
    const dA = docA.insert(1, 'X');
    const dB = docB.insert(1, 'Y');
    docA.apply(dB);
    docB.apply(dA);
    expect(docA.text()).toBe('aYXc');
    expect(docB.text()).toBe('aYXc');
  });

  it('puts a later insert at a place before an earlier concurrent run typed there', () => {
    const base = rgaInsertTextAt(RGA.empty(), 'a', 0, 'ab');
    // b has seen more (a larger counter) when it types: its insert comes first at that place
    const seenMore = RGA.join(base, rgaInsertTextAt(base, 'b', 2, 'zz'));
    const fromA = rgaInsertTextAt(base, 'a', 1, 'xyz');
    const fromB = rgaInsertAt(seenMore, 'b', 1, 'Q');
    expect(rgaText(join(seenMore, fromA, fromB))).toBe('aQxyzbzz');
    expect(rgaText(join(fromB, seenMore, fromA))).toBe('aQxyzbzz');
  });

  it('keeps an insert made after an element that another replica deletes concurrently', () => {
    const base = rgaInsertTextAt(RGA.empty(), 'a', 0, 'abc');
    const del = rgaDeleteAt(base, 1);
    const ins = rgaInsertAt(base, 'b', 2, 'X');
    expect(rgaText(join(base, del, ins))).toBe('aXc');
    expect(rgaText(join(ins, base, del))).toBe('aXc');
    const doc = new RgaDocument('c', base);
    doc.apply(del);
    doc.apply(ins);
    expect(doc.text()).toBe('aXc');
  });

  it('joins a delete that arrives before its insert, and shows nothing until the parent arrives', () => {
    const base = rgaInsertTextAt(RGA.empty(), 'a', 0, 'ab');
    const ins = rgaInsertAt(base, 'a', 2, 'X');
    const withX = RGA.join(base, ins);
    const del = rgaDeleteAt(withX, 2);
    // the delete first, then the insert: X is known, removed, then its insert changes nothing
    const deleteFirst = join(base, del);
    expect(rgaText(deleteFirst)).toBe('ab');
    expect(RGA.canonical(RGA.join(deleteFirst, ins))).toBe(RGA.canonical(RGA.join(withX, del)));
    // before its parents arrive an element is kept but not shown
    expect(RGA.value(ins)).toEqual([]);
    const doc = new RgaDocument('d');
    doc.apply(del);
    doc.apply(ins);
    expect(doc.text()).toBe('');
    doc.apply(base);
    expect(doc.text()).toBe('ab');
    expect(RGA.canonical(doc.state())).toBe(RGA.canonical(RGA.join(withX, del)));
  });

  it('refuses to join two different elements with one id', () => {
    const a = rgaInsertAt(RGA.empty(), 'r', 0, 'x');
    const b = rgaInsertAt(RGA.empty(), 'r', 0, 'y');
    expectCode('CRDT_BAD_STATE', () => RGA.join(a, b));
    const doc = new RgaDocument('d', a);
    expectCode('CRDT_BAD_STATE', () => doc.apply(b));
    expect(doc.text()).toBe('x');
  });
});

describe('RgaDocument agrees with the pure API', () => {
  /** Replica edits and merges; every delta kept for a later delivery in another order. */
  const step = fc.record({ replica: fc.nat(2), edit, mergeFrom: fc.option(fc.nat(2), { freq: 3 }) });

  it('replicas converge to the pure join of their deltas, delivered in any order to a fresh document', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), fc.array(fc.nat(), { minLength: 40, maxLength: 40 }), (steps, keys) => {
        const docs = [new RgaDocument('r0'), new RgaDocument('r1'), new RgaDocument('r2')];
        const deltas: RgaState[] = [];
        for (const s of steps) {
          const doc = docs[s.replica] as RgaDocument;
          deltas.push(applyDocument(doc, s.edit));
          if (s.mergeFrom !== null) doc.apply((docs[s.mergeFrom] as RgaDocument).state());
        }
        const full = join(...deltas);
        for (const doc of docs) doc.apply(full);
        for (const doc of docs) {
          expect(doc.values()).toEqual(RGA.value(full));
          expect(RGA.canonical(doc.state())).toBe(RGA.canonical(full));
        }
        // any delivery order (parents after children, deletes before inserts), with a duplicate
        const order = deltas.map((d, i) => ({ d, k: keys[i] ?? 0 })).sort((a, b) => a.k - b.k);
        const late = new RgaDocument('late');
        for (const { d } of [...order, ...order.slice(0, 3)]) late.apply(d);
        expect(late.values()).toEqual(RGA.value(full));
        expect(RGA.canonical(late.state())).toBe(RGA.canonical(full));
      }),
      { numRuns: 300 },
    );
  });

  it('types a long run and deletes through it like an array', () => {
    const doc = new RgaDocument('r');
    const items: string[] = [];
    for (let i = 0; i < 2000; i++) {
      const at = (i * 7919) % (items.length + 1);
      doc.insert(at, String.fromCharCode(97 + (i % 26)));
      items.splice(at, 0, String.fromCharCode(97 + (i % 26)));
      if (i % 5 === 4) {
        const d = (i * 104729) % items.length;
        doc.delete(d, 1);
        items.splice(d, 1);
      }
    }
    expect(doc.text()).toBe(items.join(''));
    expect(RGA.value(doc.state())).toEqual(items);
  });
});

describe('RGA.decode', () => {
  const good = rgaInsertTextAt(RGA.empty(), 'r', 0, 'abc');

  it('accepts a state in any order with repeated elements, normalised (removed = OR)', () => {
    const raw = [good[2], good[0], good[1], ['r', 2, 'r', 1, 'b', true], good[1]];
    const decoded = RGA.decode(JSON.parse(JSON.stringify(raw)));
    expect(decoded).toEqual([good[0], ['r', 2, 'r', 1, 'b', true], good[2]]);
    expect(rgaText(decoded)).toBe('ac');
    // a delta names parents it does not hold
    expect(RGA.decode([['s', 9, 'r', 3, 'x', false]])).toEqual([['s', 9, 'r', 3, 'x', false]]);
  });

  const hostile: Record<string, unknown> = {
    'not an array': { 0: ['r', 1, null, 0, 'a', false], length: 1 },
    'null': null,
    'an element that is not an array': [{ replica: 'r' }],
    'an element with 5 fields': [['r', 1, null, 0, 'a']],
    'an element with 7 fields': [['r', 1, null, 0, 'a', false, 1]],
    'a hole': [, ['r', 1, null, 0, 'a', false]], // eslint-disable-line no-sparse-arrays
    'an empty replica id': [['', 1, null, 0, 'a', false]],
    'a numeric replica id': [[7, 1, null, 0, 'a', false]],
    'a too long replica id': [['r'.repeat(MAX_TEXT_LENGTH + 1), 1, null, 0, 'a', false]],
    'counter 0': [['r', 0, null, 0, 'a', false]],
    'a negative counter': [['r', -1, null, 0, 'a', false]],
    'a fractional counter': [['r', 1.5, null, 0, 'a', false]],
    'an unsafe counter': [['r', 2 ** 53, null, 0, 'a', false]],
    'a string counter': [['r', '1', null, 0, 'a', false]],
    'a head parent with a counter': [['r', 1, null, 3, 'a', false]],
    'an empty parent replica': [['r', 2, '', 1, 'a', false]],
    'a parent counter 0': [['r', 2, 'r', 0, 'a', false]],
    'an element its own parent': [['r', 1, 'r', 1, 'a', false]],
    'a parent younger than its child': [['r', 1, 's', 2, 'a', false], ['s', 2, null, 0, 'b', false]],
    'a cycle': [['r', 2, 's', 3, 'a', false], ['s', 3, 'r', 2, 'b', false]],
    'a numeric value': [['r', 1, null, 0, 7, false]],
    'a too long value': [['r', 1, null, 0, 'v'.repeat(MAX_TEXT_LENGTH + 1), false]],
    'a string removed flag': [['r', 1, null, 0, 'a', 'yes']],
    'an id with two values': [['r', 1, null, 0, 'a', false], ['r', 1, null, 0, 'b', false]],
    'an id with two parents': [['r', 1, null, 0, 'a', false], ['r', 2, null, 0, 'b', false], ['r', 3, 'r', 1, 'c', false], ['r', 3, 'r', 2, 'c', false]],
  };
  for (const [what, raw] of Object.entries(hostile)) {
    it(`refuses ${what} with CRDT_BAD_STATE`, () => {
      expectCode('CRDT_BAD_STATE', () => RGA.decode(raw));
    });
  }

  it('refuses more than MAX_ELEMENTS elements before looking at them', () => {
    expectCode('CRDT_BAD_STATE', () => RGA.decode(new Array(MAX_ELEMENTS + 1).fill(0)));
  });

  it('answers arbitrary JSON with a state or CRDT_BAD_STATE, never another exception', () => {
    const field = fc.oneof(fc.string({ maxLength: 3 }), fc.integer({ min: -2, max: 4 }), fc.boolean(), fc.constant(null), fc.double());
    const element = fc.oneof(fc.array(field, { minLength: 6, maxLength: 6 }), fc.jsonValue());
    fc.assert(
      fc.property(fc.oneof(fc.array(element, { maxLength: 6 }), fc.jsonValue()), (raw) => {
        try {
          const state = RGA.decode(raw);
          expect(RGA.canonical(RGA.decode(JSON.parse(RGA.canonical(state))))).toBe(RGA.canonical(state));
          RGA.value(state);
        } catch (err) {
          expect(isCrdtError(err) && err.code === 'CRDT_BAD_STATE', String(err)).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });
});
