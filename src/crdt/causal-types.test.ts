import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Causal, DotMap } from './causal.js';
import { isCrdtError } from './errors.js';
import { DW_FLAG, dwFlagDisable, dwFlagEnable, EW_FLAG, ewFlagDisable, ewFlagEnable, type DwFlagState, type EwFlagState } from './flags.js';
import { MV_REGISTER, mvClear, mvWrite, type MvRegisterState } from './mv-register.js';
import { OR_MAP_OF_EW_FLAGS, OR_MAP_OF_MV_REGISTERS, OR_MAP_OF_OR_SETS, orMapClear, orMapRemove, orMapType, orMapUpdate, type OrMapState, type OrMapType } from './or-map.js';
import { OR_SET, orSetAdd, orSetClear, orSetHas, orSetRemove, type OrSetEntries, type OrSetState } from './or-set.js';
import { checkCrdtLaws, type Mutation } from './test/laws.js';
import { MAX_TEXT_LENGTH, type CrdtType } from './types.js';

const element = fc.constantFrom('a', 'b', 'c', 'd');
const key = fc.constantFrom('k', 'm', 'n');
const text = fc.constantFrom('x', 'y', 'z');
const replicaOf = fc.constantFrom('r0', 'r1', 'r2');
const NESTED = orMapType(OR_MAP_OF_OR_SETS);
type NestedState = OrMapState<DotMap<OrSetEntries>>;

// --- mutations covering every mutator, per type ----------------------------------------------------

function orSetMutation(r: string): fc.Arbitrary<Mutation<OrSetState>> {
  return fc.oneof(
    { weight: 3, arbitrary: element.map((e) => (s: OrSetState) => orSetAdd(s, r, e)) },
    { weight: 2, arbitrary: element.map((e) => (s: OrSetState) => orSetRemove(s, e)) },
    { weight: 1, arbitrary: fc.constant((s: OrSetState) => orSetClear(s)) },
  );
}

function mvMutation(r: string): fc.Arbitrary<Mutation<MvRegisterState>> {
  return fc.oneof(
    { weight: 4, arbitrary: text.map((v) => (s: MvRegisterState) => mvWrite(s, r, v)) },
    { weight: 1, arbitrary: fc.constant((s: MvRegisterState) => mvClear(s)) },
  );
}

const ewMutation = (r: string): fc.Arbitrary<Mutation<EwFlagState>> => fc.constantFrom((s: EwFlagState) => ewFlagEnable(s, r), (s: EwFlagState) => ewFlagDisable(s));
const dwMutation = (r: string): fc.Arbitrary<Mutation<DwFlagState>> => fc.constantFrom((s: DwFlagState) => dwFlagEnable(s, r), (s: DwFlagState) => dwFlagDisable(s, r));

type SetMapState = OrMapState<OrSetEntries>;

function setMapMutation(r: string): fc.Arbitrary<Mutation<SetMapState>> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.tuple(key, orSetMutation(r)).map(([k, m]) => (s: SetMapState) => orMapUpdate(OR_MAP_OF_OR_SETS, s, r, k, m)) },
    { weight: 2, arbitrary: key.map((k) => (s: SetMapState) => orMapRemove(OR_MAP_OF_OR_SETS, s, k)) },
    { weight: 1, arbitrary: fc.constant((s: SetMapState) => orMapClear(OR_MAP_OF_OR_SETS, s)) },
  );
}

function nestedMutation(r: string): fc.Arbitrary<Mutation<NestedState>> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.tuple(key, setMapMutation(r)).map(([k, m]) => (s: NestedState) => orMapUpdate(NESTED, s, r, k, m)) },
    { weight: 1, arbitrary: key.map((k) => (s: NestedState) => orMapRemove(NESTED, s, k)) },
  );
}

function mapMutation<T, V>(type: OrMapType<T, V>, inner: (r: string) => fc.Arbitrary<Mutation<Causal<T>>>): (r: string) => fc.Arbitrary<Mutation<OrMapState<T>>> {
  return (r) =>
    fc.oneof(
      { weight: 3, arbitrary: fc.tuple(key, inner(r)).map(([k, m]) => (s: OrMapState<T>) => orMapUpdate(type, s, r, k, m)) },
      { weight: 1, arbitrary: key.map((k) => (s: OrMapState<T>) => orMapRemove(type, s, k)) },
    );
}

describe('lattice laws', () => {
  it('OR-Set', () => checkCrdtLaws({ type: OR_SET, mutation: orSetMutation, numRuns: 150 }));
  it('MV-Register', () => checkCrdtLaws({ type: MV_REGISTER, mutation: mvMutation, numRuns: 150 }));
  it('EW flag', () => checkCrdtLaws({ type: EW_FLAG, mutation: ewMutation, numRuns: 150 }));
  it('DW flag', () => checkCrdtLaws({ type: DW_FLAG, mutation: dwMutation, numRuns: 150 }));
  it('OR-Map of OR-Sets', () => checkCrdtLaws({ type: OR_MAP_OF_OR_SETS, mutation: setMapMutation, numRuns: 150 }));
  it('OR-Map of OR-Maps of OR-Sets', () => checkCrdtLaws({ type: NESTED, mutation: nestedMutation, numRuns: 100 }));
  it('OR-Map of MV-Registers and of EW flags', () => {
    checkCrdtLaws({ type: OR_MAP_OF_MV_REGISTERS, mutation: mapMutation(OR_MAP_OF_MV_REGISTERS, mvMutation), numRuns: 80 });
    checkCrdtLaws({ type: OR_MAP_OF_EW_FLAGS, mutation: mapMutation(OR_MAP_OF_EW_FLAGS, ewMutation), numRuns: 80 });
  });
});

// --- sequential specification: replicas in sync, every operation sees all earlier ones -------------

/** Applies `ops` one after the other on one state (each at its own replica), checking the value against the model after each. */
function runSequential<S, Op>(type: CrdtType<S, unknown>, ops: readonly Op[], apply: (state: S, op: Op) => S, model: (op: Op) => void, expected: () => unknown): void {
  let state = type.empty();
  expect(type.value(state)).toEqual(expected());
  for (const op of ops) {
    state = type.join(state, apply(state, op));
    model(op);
    expect(type.value(state)).toEqual(expected());
  }
}

describe('sequential specification', () => {
  it('OR-Set behaves like a Set', () => {
    const op = fc.record({ kind: fc.constantFrom('add', 'add', 'remove', 'clear'), element, replica: replicaOf });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const model = new Set<string>();
        runSequential(
          OR_SET,
          ops,
          (s, o) => (o.kind === 'add' ? orSetAdd(s, o.replica, o.element) : o.kind === 'remove' ? orSetRemove(s, o.element) : orSetClear(s)),
          (o) => (o.kind === 'add' ? model.add(o.element) : o.kind === 'remove' ? model.delete(o.element) : model.clear()),
          () => [...model].sort(),
        );
      }),
      { numRuns: 100 },
    );
  });

  it('MV-Register reads the last write only', () => {
    const op = fc.record({ value: fc.option(text, { nil: undefined }), replica: replicaOf });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 20 }), (ops) => {
        let last: string[] = [];
        runSequential(
          MV_REGISTER,
          ops,
          (s, o) => (o.value === undefined ? mvClear(s) : mvWrite(s, o.replica, o.value)),
          (o) => (last = o.value === undefined ? [] : [o.value]),
          () => last,
        );
      }),
      { numRuns: 100 },
    );
  });

  it('flags read the last operation, false before any', () => {
    const op = fc.record({ enable: fc.boolean(), replica: replicaOf });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 20 }), (ops) => {
        let last = false;
        const model = (o: { enable: boolean }): void => void (last = o.enable);
        runSequential(EW_FLAG, ops, (s, o) => (o.enable ? ewFlagEnable(s, o.replica) : ewFlagDisable(s)), model, () => last);
        last = false;
        runSequential(DW_FLAG, ops, (s, o) => (o.enable ? dwFlagEnable(s, o.replica) : dwFlagDisable(s, o.replica)), model, () => last);
      }),
      { numRuns: 100 },
    );
  });

  it('OR-Map of OR-Sets behaves like a Map of Sets (a key whose set empties is gone)', () => {
    const op = fc.record({ kind: fc.constantFrom('add', 'add', 'remove', 'drop', 'clear'), key, element, replica: replicaOf });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const model = new Map<string, Set<string>>();
        const apply = (s: SetMapState, o: (typeof ops)[number]): SetMapState => {
          if (o.kind === 'drop') return orMapRemove(OR_MAP_OF_OR_SETS, s, o.key);
          if (o.kind === 'clear') return orMapClear(OR_MAP_OF_OR_SETS, s);
          return orMapUpdate(OR_MAP_OF_OR_SETS, s, o.replica, o.key, (set, r) => (o.kind === 'add' ? orSetAdd(set, r, o.element) : orSetRemove(set, o.element)));
        };
        const step = (o: (typeof ops)[number]): void => {
          if (o.kind === 'clear') model.clear();
          else if (o.kind === 'drop') model.delete(o.key);
          else {
            const set = model.get(o.key) ?? new Set<string>();
            if (o.kind === 'add') set.add(o.element);
            else set.delete(o.element);
            if (set.size === 0) model.delete(o.key);
            else model.set(o.key, set);
          }
        };
        const expected = (): Record<string, string[]> => Object.fromEntries([...model].map(([k, set]) => [k, [...set].sort()]));
        runSequential(OR_MAP_OF_OR_SETS, ops, apply, step, expected);
      }),
      { numRuns: 100 },
    );
  });

  it('OR-Map of MV-Registers behaves like a Map', () => {
    const op = fc.record({ value: fc.option(text, { nil: undefined }), key, replica: replicaOf });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 30 }), (ops) => {
        const model = new Map<string, string>();
        runSequential(
          OR_MAP_OF_MV_REGISTERS,
          ops,
          (s, o) => (o.value === undefined ? orMapRemove(OR_MAP_OF_MV_REGISTERS, s, o.key) : orMapUpdate(OR_MAP_OF_MV_REGISTERS, s, o.replica, o.key, (reg, r) => mvWrite(reg, r, o.value as string))),
          (o) => (o.value === undefined ? model.delete(o.key) : model.set(o.key, o.value)),
          () => Object.fromEntries([...model].sort().map(([k, v]) => [k, [v]])),
        );
      }),
      { numRuns: 100 },
    );
  });
});

// --- concurrency semantics ----------------------------------------------------------------------

/** A random common history at one replica, from which two replicas then act without seeing each other. */
const commonOrSet = fc.array(fc.tuple(replicaOf, orSetMutation('r0')), { maxLength: 15 }).map((steps) =>
  steps.reduce((s, [, m]) => OR_SET.join(s, m(s)), OR_SET.empty()),
);

describe('concurrent operations', () => {
  it('OR-Set: an add concurrent with a remove of the same element wins', () => {
    fc.assert(
      fc.property(commonOrSet, element, (base, e) => {
        const added = orSetAdd(base, 'a', e);
        const removed = orSetRemove(base, e);
        const cleared = orSetClear(base);
        expect(orSetHas(OR_SET.join(OR_SET.join(base, removed), added), e)).toBe(true);
        expect(orSetHas(OR_SET.join(OR_SET.join(base, added), cleared), e)).toBe(true);
        // the replica that saw the add, then removed, removes it
        const seen = OR_SET.join(base, added);
        expect(orSetHas(OR_SET.join(seen, orSetRemove(seen, e)), e)).toBe(false);
      }),
      { numRuns: 100 },
    );
  });

  it('OR-Set: a remove delivered before the add it saw still removes it', () => {
    const s1 = orSetAdd(OR_SET.empty(), 'a', 'x');
    const remove = orSetRemove(OR_SET.join(OR_SET.empty(), s1), 'x');
    expect(OR_SET.value(OR_SET.join(OR_SET.join(OR_SET.empty(), remove), s1))).toEqual([]);
  });

  it('OR-Set: removes leave no tombstone per element', () => {
    let s = OR_SET.empty();
    for (let i = 0; i < 500; i++) s = OR_SET.join(s, orSetAdd(s, 'a', `e${i}`));
    for (let i = 0; i < 500; i++) s = OR_SET.join(s, orSetRemove(s, `e${i}`));
    expect(s).toEqual({ entries: [], context: { vv: [['a', 500]], cloud: [] } });
  });

  it('MV-Register: concurrent writes are all read; a write that saw them replaces them', () => {
    const base = MV_REGISTER.join(MV_REGISTER.empty(), mvWrite(MV_REGISTER.empty(), 'a', 'v0'));
    const both = MV_REGISTER.join(MV_REGISTER.join(base, mvWrite(base, 'a', 'v2')), mvWrite(base, 'b', 'v1'));
    expect(MV_REGISTER.value(both)).toEqual(['v1', 'v2']);
    const same = MV_REGISTER.join(MV_REGISTER.join(base, mvWrite(base, 'a', 'v')), mvWrite(base, 'b', 'v'));
    expect(MV_REGISTER.value(same)).toEqual(['v']);
    expect(same.entries).toHaveLength(2);
    expect(MV_REGISTER.value(MV_REGISTER.join(both, mvWrite(both, 'c', 'v3')))).toEqual(['v3']);
    // a clear removes what it saw, not a concurrent write
    expect(MV_REGISTER.value(MV_REGISTER.join(MV_REGISTER.join(base, mvClear(base)), mvWrite(base, 'b', 'w')))).toEqual(['w']);
  });

  it('flags: a concurrent enable and disable — EW reads true, DW false; the next operation settles it', () => {
    const prefix = fc.array(fc.tuple(fc.boolean(), replicaOf), { maxLength: 10 });
    fc.assert(
      fc.property(prefix, (ops) => {
        let ew = EW_FLAG.empty();
        let dw = DW_FLAG.empty();
        for (const [on, r] of ops) {
          ew = EW_FLAG.join(ew, on ? ewFlagEnable(ew, r) : ewFlagDisable(ew));
          dw = DW_FLAG.join(dw, on ? dwFlagEnable(dw, r) : dwFlagDisable(dw, r));
        }
        const ewBoth = EW_FLAG.join(EW_FLAG.join(ew, ewFlagEnable(ew, 'a')), ewFlagDisable(ew));
        const dwBoth = DW_FLAG.join(DW_FLAG.join(dw, dwFlagEnable(dw, 'a')), dwFlagDisable(dw, 'b'));
        expect(EW_FLAG.value(ewBoth)).toBe(true);
        expect(DW_FLAG.value(dwBoth)).toBe(false);
        expect(EW_FLAG.value(EW_FLAG.join(ewBoth, ewFlagDisable(ewBoth)))).toBe(false);
        expect(DW_FLAG.value(DW_FLAG.join(dwBoth, dwFlagEnable(dwBoth, 'c')))).toBe(true);
        // concurrent operations that agree read what they agree on
        expect(DW_FLAG.value(DW_FLAG.join(DW_FLAG.join(dw, dwFlagEnable(dw, 'a')), dwFlagEnable(dw, 'b')))).toBe(true);
        expect(EW_FLAG.value(EW_FLAG.join(EW_FLAG.join(ew, ewFlagDisable(ew)), ewFlagDisable(ew)))).toBe(false);
      }),
      { numRuns: 100 },
    );
  });

  it('OR-Map: a remove of a key concurrent with an update keeps the update', () => {
    const M = OR_MAP_OF_OR_SETS;
    let base = M.empty();
    base = M.join(base, orMapUpdate(M, base, 'a', 'k', (s, r) => orSetAdd(s, r, 'x')));
    const removed = orMapRemove(M, base, 'k');
    const updated = orMapUpdate(M, base, 'b', 'k', (s, r) => orSetAdd(s, r, 'y'));
    expect(M.value(M.join(M.join(base, removed), updated))).toEqual({ k: ['y'] });
    expect(M.value(M.join(M.join(base, updated), removed))).toEqual({ k: ['y'] });
    // an update that re-adds an element the remove saw keeps it too (the add has a fresh dot)
    const readd = orMapUpdate(M, base, 'b', 'k', (s, r) => orSetAdd(s, r, 'x'));
    expect(M.value(M.join(M.join(base, removed), readd))).toEqual({ k: ['x'] });

    const R = OR_MAP_OF_MV_REGISTERS;
    const regs = R.join(R.empty(), orMapUpdate(R, R.empty(), 'a', 'k', (s, r) => mvWrite(s, r, 'v1')));
    expect(R.value(R.join(R.join(regs, orMapRemove(R, regs, 'k')), orMapUpdate(R, regs, 'b', 'k', (s, r) => mvWrite(s, r, 'v2'))))).toEqual({ k: ['v2'] });
  });

  it('nested OR-Map: removing an outer key keeps a concurrent update deep inside it', () => {
    const add = (s: NestedState, r: string, k1: string, k2: string, e: string): NestedState =>
      orMapUpdate(NESTED, s, r, k1, (inner) => orMapUpdate(OR_MAP_OF_OR_SETS, inner, r, k2, (set) => orSetAdd(set, r, e)));
    let base = NESTED.empty();
    base = NESTED.join(base, add(base, 'a', 'k', 'm', 'x'));
    base = NESTED.join(base, add(base, 'a', 'k', 'n', 'y'));
    expect(NESTED.value(base)).toEqual({ k: { m: ['x'], n: ['y'] } });
    const merged = NESTED.join(NESTED.join(base, orMapRemove(NESTED, base, 'k')), add(base, 'b', 'k', 'n', 'z'));
    expect(NESTED.value(merged)).toEqual({ k: { n: ['z'] } });
  });

  it('OR-Map: a key named __proto__ is a plain key of the value', () => {
    const M = OR_MAP_OF_EW_FLAGS;
    const s = M.join(M.empty(), orMapUpdate(M, M.empty(), 'a', '__proto__', (f, r) => ewFlagEnable(f, r)));
    const value = M.value(s);
    expect(Object.keys(value)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
  });
});

// --- hostile states -----------------------------------------------------------------------------

function expectBadState(type: CrdtType<unknown, unknown>, value: unknown): void {
  let thrown: unknown;
  try {
    type.decode(value);
  } catch (err) {
    thrown = err;
  }
  expect(isCrdtError(thrown) && thrown.code === 'CRDT_BAD_STATE', `${type.name} decode(${JSON.stringify(value)?.slice(0, 200)}) threw ${String(thrown)}`).toBe(true);
}

const ctx = (vv: [string, number][], cloud: [string, number][] = []): unknown => ({ vv, cloud });
const TYPES = [OR_SET, MV_REGISTER, EW_FLAG, DW_FLAG, OR_MAP_OF_OR_SETS, NESTED] as unknown as CrdtType<unknown, unknown>[];

describe('decode of hostile states', () => {
  it('refuses malformed states of every type with CRDT_BAD_STATE', () => {
    const common: unknown[] = [null, undefined, 1, 'state', [], {}, { entries: [] }, { context: ctx([]) }, { entries: {}, context: ctx([]) }, { entries: [], context: [] }];
    for (const type of TYPES) for (const value of common) expectBadState(type, value);
    const bad: [CrdtType<unknown, unknown>, unknown][] = [
      // OR-Set
      [OR_SET, { entries: [['a', [['r', 1]]]], context: ctx([]) }], // dot not in the context
      [OR_SET, { entries: [['b', [['r', 1]]], ['a', [['r', 2]]]], context: ctx([['r', 2]]) }], // unsorted
      [OR_SET, { entries: [['a', [['r', 1]]], ['a', [['r', 2]]]], context: ctx([['r', 2]]) }], // duplicate element
      [OR_SET, { entries: [['a', [['r', 1]]], ['b', [['r', 1]]]], context: ctx([['r', 2]]) }], // one dot twice
      [OR_SET, { entries: [['a', []]], context: ctx([]) }], // an element without a dot
      [OR_SET, { entries: [['a', [['r', 2], ['r', 1]]]], context: ctx([['r', 2]]) }], // dots unsorted
      [OR_SET, { entries: [[1, [['r', 1]]]], context: ctx([['r', 1]]) }],
      [OR_SET, { entries: [['x'.repeat(MAX_TEXT_LENGTH + 1), [['r', 1]]]], context: ctx([['r', 1]]) }],
      [OR_SET, { entries: [['a', [['r', 0]]]], context: ctx([['r', 1]]) }],
      [OR_SET, { entries: [['a', [{ replica: 'r', counter: 1 }]]], context: ctx([['r', 1]]) }],
      [OR_SET, { entries: [['a']], context: ctx([['r', 1]]) }],
      [OR_SET, { entries: [['a', [['r', 1]]]], context: ctx([['r', 1], ['r', 1]]) }],
      // MV-Register
      [MV_REGISTER, { entries: [[['r', 1], 5]], context: ctx([['r', 1]]) }],
      [MV_REGISTER, { entries: [[['r', 1]]], context: ctx([['r', 1]]) }],
      [MV_REGISTER, { entries: [[['r', 2], 'b'], [['r', 1], 'a']], context: ctx([['r', 2]]) }],
      [MV_REGISTER, { entries: [[['r', 1], 'a'], [['r', 1], 'a']], context: ctx([['r', 1]]) }],
      [MV_REGISTER, { entries: [[['r', 3], 'a']], context: ctx([['r', 1]], [['r', 4]]) }],
      // flags
      [EW_FLAG, { entries: [['r', 1], ['r', 1]], context: ctx([['r', 1]]) }],
      [EW_FLAG, { entries: [['r', 2]], context: ctx([['r', 1]]) }],
      [DW_FLAG, { entries: [[['r', 1], 'true']], context: ctx([['r', 1]]) }],
      [DW_FLAG, { entries: [[['r', 1], null]], context: ctx([['r', 1]]) }],
      // OR-Maps
      [OR_MAP_OF_OR_SETS, { entries: [['k', []]], context: ctx([]) }],
      [OR_MAP_OF_OR_SETS, { entries: [['k', [['a', [['r', 1]]]]], ['k', [['b', [['r', 2]]]]]], context: ctx([['r', 2]]) }],
      [OR_MAP_OF_OR_SETS, { entries: [['k', [['r', 1]]]], context: ctx([['r', 1]]) }], // a DotSet where a set is due
      [NESTED, { entries: [['k', [['m', []]]]], context: ctx([]) }],
      [NESTED, { entries: [['k', [['m', [['a', [['r', 9]]]]]]]], context: ctx([['r', 1]]) }],
    ];
    for (const [type, value] of bad) expectBadState(type, value);
  });

  it('answers any value with a state or CRDT_BAD_STATE, never another exception', () => {
    const dotish = fc.oneof(fc.tuple(fc.constantFrom('r', '', 'q'), fc.oneof(fc.integer({ min: -1, max: 3 }), fc.double())), fc.anything());
    const loose = fc.oneof(
      fc.anything(),
      fc.record({ entries: fc.anything(), context: fc.anything() }),
      fc.record({
        entries: fc.array(fc.oneof(fc.tuple(fc.string({ maxLength: 2 }), fc.array(dotish, { maxLength: 3 })), fc.tuple(dotish, fc.anything()), dotish), { maxLength: 4 }),
        context: fc.record({ vv: fc.array(dotish, { maxLength: 3 }), cloud: fc.array(dotish, { maxLength: 3 }) }),
      }),
    );
    fc.assert(
      fc.property(loose, fc.constantFrom(...TYPES), (value, type) => {
        try {
          const state = type.decode(value);
          expect(type.canonical(type.decode(JSON.parse(JSON.stringify(state))))).toBe(type.canonical(state));
        } catch (err) {
          expect(isCrdtError(err) && err.code === 'CRDT_BAD_STATE', `unexpected ${String(err)}`).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('mutators refuse bad arguments with CRDT_INVALID_ARGUMENT', () => {
    const codes = [
      () => orSetAdd(OR_SET.empty(), '', 'a'),
      () => orSetAdd(OR_SET.empty(), 'r', 'x'.repeat(MAX_TEXT_LENGTH + 1)),
      () => orSetRemove(OR_SET.empty(), 3 as unknown as string),
      () => mvWrite(MV_REGISTER.empty(), 'r', null as unknown as string),
      () => ewFlagEnable(EW_FLAG.empty(), ''),
      () => orMapUpdate(OR_MAP_OF_OR_SETS, OR_MAP_OF_OR_SETS.empty(), 'r', 5 as unknown as string, (s) => s),
    ].map((run) => {
      try {
        run();
        return 'no error';
      } catch (err) {
        return isCrdtError(err) ? err.code : String(err);
      }
    });
    expect(codes).toEqual(codes.map(() => 'CRDT_INVALID_ARGUMENT'));
  });
});

// --- size -----------------------------------------------------------------------------------------

describe('delta size', () => {
  const big = OR_SET.decode({
    entries: Array.from({ length: 10_000 }, (_, i) => [`e${String(i).padStart(5, '0')}`, [['r0', i + 1]]]),
    context: { vv: [['r0', 10_000]], cloud: [] },
  });

  it('one add to an OR-Set of 10,000 elements is a delta of under 100 bytes of JSON', () => {
    expect(OR_SET.value(big)).toHaveLength(10_000);
    const fresh = orSetAdd(big, 'r0', 'new');
    const again = orSetAdd(big, 'r1', 'e04242'); // replaces the element's current dot
    for (const delta of [fresh, again, orSetRemove(big, 'e04242')]) expect(JSON.stringify(delta).length).toBeLessThan(100);
    expect(OR_SET.value(OR_SET.join(big, fresh))).toHaveLength(10_001);
    const replaced = OR_SET.join(big, again);
    expect(replaced.entries.find((e) => e[0] === 'e04242')?.[1]).toEqual([['r1', 1]]);
    expect(replaced.context).toEqual({ vv: [['r0', 10_000], ['r1', 1]], cloud: [] });
  });
});
