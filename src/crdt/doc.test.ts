import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CRDT_DOC, docChangeProblem, docGrows, docMutate, docRead, MAX_DOC_ENTRIES, type CrdtDocState, type DocChange } from './doc.js';
import { checkCrdtLaws, expectCrdtError, type Mutation } from './test/laws.js';

const name = fc.constantFrom('likes', 'tags', 'mode');
const element = fc.constantFrom('a', 'b', 'c');

function change(): fc.Arbitrary<DocChange> {
  return fc.oneof(
    fc.tuple(name, fc.constantFrom('incr' as const, 'decr' as const), fc.integer({ min: 1, max: 5 })).map(([n, action, amount]) => ({ kind: 'counter' as const, name: n, action, amount })),
    fc.tuple(name, fc.constantFrom('add' as const, 'remove' as const), element).map(([n, action, e]) => ({ kind: 'set' as const, name: n, action, element: e })),
    fc.tuple(name, element).map(([n, v]) => ({ kind: 'register' as const, name: n, action: 'set' as const, value: v })),
    fc.tuple(name, fc.constantFrom('enable' as const, 'disable' as const)).map(([n, action]) => ({ kind: 'flag' as const, name: n, action })),
  );
}

const apply = (s: CrdtDocState, r: string, c: DocChange): CrdtDocState => CRDT_DOC.join(s, docMutate(s, r, c));

describe('a document of named CRDTs', () => {
  it('obeys the CRDT laws (join laws, any delivery order, delta path = state path, decode)', () => {
    checkCrdtLaws({ type: CRDT_DOC, mutation: (r) => change().map((c): Mutation<CrdtDocState> => (s) => docMutate(s, r, c)), numRuns: 150 });
  });

  it('keeps entries of different kinds under one name apart, and reads each with its own meaning', () => {
    let s = CRDT_DOC.empty();
    s = apply(s, 'r1', { kind: 'counter', name: 'likes', action: 'incr', amount: 5 });
    s = apply(s, 'r2', { kind: 'counter', name: 'likes', action: 'decr', amount: 2 });
    s = apply(s, 'r1', { kind: 'set', name: 'likes', action: 'add', element: 'ann' });
    s = apply(s, 'r1', { kind: 'flag', name: 'on', action: 'enable' });
    s = apply(s, 'r1', { kind: 'register', name: 'mode', action: 'set', value: 'blue' });
    expect(docRead(s, 'likes')).toEqual([
      { kind: 'counter', name: 'likes', value: 3 },
      { kind: 'set', name: 'likes', value: ['ann'] },
    ]);
    expect(docRead(s).map((v) => v.name)).toEqual(['likes', 'likes', 'mode', 'on']);
    // concurrent register writes are both kept; a later write that saw both replaces them
    const a = apply(s, 'r1', { kind: 'register', name: 'mode', action: 'set', value: 'red' });
    const b = apply(s, 'r2', { kind: 'register', name: 'mode', action: 'set', value: 'green' });
    const both = CRDT_DOC.join(a, b);
    expect(docRead(both, 'mode')[0]?.value).toEqual(['green', 'red']);
    expect(docRead(apply(both, 'r3', { kind: 'register', name: 'mode', action: 'set', value: 'black' }), 'mode')[0]?.value).toEqual(['black']);
  });

  it('says whether a delta grows a state, looking only at the entries it touches', () => {
    const s = apply(CRDT_DOC.empty(), 'r1', { kind: 'set', name: 'tags', action: 'add', element: 'x' });
    const d = docMutate(s, 'r2', { kind: 'set', name: 'tags', action: 'add', element: 'y' });
    expect(docGrows(s, d)).toBe(true);
    expect(docGrows(CRDT_DOC.join(s, d), d)).toBe(false);
    expect(docGrows(s, s)).toBe(false);
  });

  it('refuses malformed documents and changes with a clear error', () => {
    expect(docChangeProblem({ kind: 'counter', name: 'x', action: 'incr', amount: 0 })).toMatch(/positive/);
    expect(docChangeProblem({ kind: 'gauge', name: 'x' })).toMatch(/kind is one of/);
    expect(docChangeProblem({ kind: 'set', name: '', action: 'add', element: 'a' })).toMatch(/name/);
    expect(docChangeProblem({ kind: 'flag', name: 'f', action: 'enable' })).toBeUndefined();
    expectCrdtError('CRDT_BAD_STATE', () => CRDT_DOC.decode({ entries: [['counter', 'b', { increments: [], decrements: [] }], ['counter', 'a', { increments: [], decrements: [] }]] }));
    expectCrdtError('CRDT_BAD_STATE', () => CRDT_DOC.decode({ entries: [['gauge', 'a', {}]] }));
    expectCrdtError('CRDT_BAD_STATE', () => CRDT_DOC.decode({ entries: [['counter', 'a', { increments: [['r', -1]], decrements: [] }]] }));
    expectCrdtError('CRDT_BAD_STATE', () => CRDT_DOC.decode({ entries: new Array(MAX_DOC_ENTRIES + 1).fill(0) }));
    expectCrdtError('CRDT_BAD_STATE', () => CRDT_DOC.decode([]));
  });
});
