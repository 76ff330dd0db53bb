import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeContext, decodeKeyState, encodeContext } from './codec.js';
import { QuorumError } from './errors.js';
import { canonicalText, EMPTY_COUNTER, EMPTY_DVV, EMPTY_ORSET, incrementCounter, mergeStates, orSetAdd, orSetRemove, readView, writeDvv, type Dot, type DvvState, type KeyState } from './versions.js';

const dot = (actor: string, counter: number): Dot => ({ actor, counter });

/** A random history of writes at three coordinators with random contexts and merges between them, as states. */
const dvvStates = fc
  .array(fc.record({ at: fc.integer({ min: 0, max: 2 }), from: fc.integer({ min: 0, max: 2 }), kind: fc.constantFrom('write', 'blind', 'merge', 'delete') }), { maxLength: 25 })
  .map((steps) => {
    const replicas: DvvState[] = [EMPTY_DVV, EMPTY_DVV, EMPTY_DVV];
    const counters = [0, 0, 0];
    steps.forEach((s, i) => {
      const here = replicas[s.at] as DvvState;
      if (s.kind === 'merge') {
        replicas[s.at] = mergeStates(here, replicas[s.from] as DvvState) as DvvState;
        return;
      }
      counters[s.at] = (counters[s.at] as number) + 1;
      const context = s.kind === 'blind' ? [] : (replicas[s.from] as DvvState).vv;
      replicas[s.at] = writeDvv(here, context, dot(`n${s.at}`, counters[s.at] as number), s.kind === 'delete' ? null : `v${i}`, 1000);
    });
    return replicas;
  });

describe('dotted version vectors', () => {
  it('merge is commutative, associative and idempotent', () => {
    fc.assert(
      fc.property(dvvStates, ([a, b, c]) => {
        const text = (s: KeyState): string => canonicalText(s);
        expect(text(mergeStates(a as DvvState, b as DvvState))).toBe(text(mergeStates(b as DvvState, a as DvvState)));
        expect(text(mergeStates(mergeStates(a as DvvState, b as DvvState), c as DvvState))).toBe(text(mergeStates(a as DvvState, mergeStates(b as DvvState, c as DvvState))));
        expect(text(mergeStates(a as DvvState, a as DvvState))).toBe(text(a as DvvState));
      }),
      { numRuns: 300 },
    );
  });

  it('a write supersedes exactly what its context saw; concurrent writes stay siblings', () => {
    const v1 = writeDvv(EMPTY_DVV, [], dot('a', 1), 'v1', 10);
    const v2 = writeDvv(v1, [], dot('a', 2), 'v2', 10); // blind: concurrent with v1
    expect(readView(v2).values).toEqual(['v1', 'v2']);
    const v3 = writeDvv(v2, [['a', 1]], dot('a', 3), 'v3', 10); // saw v1 only
    expect(readView(v3).values).toEqual(['v2', 'v3']);
    const v4 = writeDvv(v3, v3.vv, dot('a', 4), 'v4', 10); // saw everything
    expect(readView(v4).values).toEqual(['v4']);
  });

  it('two clients alternating read-then-write through one coordinator make no siblings', () => {
    let state: DvvState = EMPTY_DVV;
    for (let i = 1; i <= 20; i++) {
      const seen = state.vv; // each client reads before it writes
      state = writeDvv(state, seen, dot('coord', i), `client${i % 2}-${i}`, 10);
      expect(state.siblings).toHaveLength(1);
    }
    // and each keeping only its own last context (the write's answer) makes exactly the true siblings
    let s: DvvState = EMPTY_DVV;
    const ctx: Record<string, readonly (readonly [string, number])[]> = { a: [], b: [] };
    for (let i = 1; i <= 10; i++) {
      const client = i % 2 === 0 ? 'a' : 'b';
      s = writeDvv(s, ctx[client] ?? [], dot('coord', i), `${client}${i}`, 10);
      ctx[client] = [['coord', i]];
      expect(s.siblings.length).toBeLessThanOrEqual(2);
    }
  });

  it('a stale replica merging a newer state keeps only what the newer one has not seen', () => {
    const base = writeDvv(EMPTY_DVV, [], dot('a', 1), 'x', 10);
    const newer = writeDvv(base, base.vv, dot('b', 1), 'y', 10); // supersedes x
    const concurrent = writeDvv(base, [], dot('c', 1), 'z', 10); // x and z
    const merged = mergeStates(newer, concurrent);
    expect(readView(merged).values).toEqual(['y', 'z']);
  });

  it('refuses a write past the sibling limit with QUORUM_SIBLING_LIMIT', () => {
    let s: DvvState = EMPTY_DVV;
    for (let i = 1; i <= 3; i++) s = writeDvv(s, [], dot('a', i), `v${i}`, 3);
    expect(() => writeDvv(s, [], dot('a', 4), 'v4', 3)).toThrow(expect.objectContaining({ code: 'QUORUM_SIBLING_LIMIT' }));
    expect(readView(writeDvv(s, s.vv, dot('a', 4), 'resolved', 3)).values).toEqual(['resolved']);
  });
});

describe('CRDT buckets', () => {
  it('a PN-counter merged in any order counts every increment once', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: -5, max: 5 }).filter((d) => d !== 0)), { maxLength: 30 }), (steps) => {
        const replicas = [EMPTY_COUNTER, EMPTY_COUNTER, EMPTY_COUNTER];
        let sum = 0;
        for (const [at, delta] of steps) {
          replicas[at] = incrementCounter(replicas[at] as typeof EMPTY_COUNTER, `n${at}`, delta);
          sum += delta;
        }
        const merged = mergeStates(mergeStates(replicas[2] as KeyState, replicas[0] as KeyState), replicas[1] as KeyState);
        expect(readView(merged).count).toBe(sum);
        expect(canonicalText(mergeStates(merged, replicas[1] as KeyState))).toBe(canonicalText(merged));
      }),
      { numRuns: 200 },
    );
  });

  it('an OR-set: a remove drops what it observed, a concurrent add wins', () => {
    const a1 = orSetAdd(EMPTY_ORSET, 'x', dot('a', 1));
    const b = mergeStates(EMPTY_ORSET, a1);
    const removed = orSetRemove(b as typeof EMPTY_ORSET, 'x');
    const readded = orSetAdd(a1, 'x', dot('a', 2)); // concurrent with the remove
    expect(readView(mergeStates(removed, a1)).values).toEqual([]);
    expect(readView(mergeStates(removed, readded)).values).toEqual(['x']);
    expect(canonicalText(mergeStates(removed, readded))).toBe(canonicalText(mergeStates(readded, removed)));
  });
});

describe('codec: contexts and peer states from outside', () => {
  it('round-trips a context and refuses forged ones', () => {
    const vv = [['a', 3], ['b', 7]] as const;
    expect(decodeContext(encodeContext(vv))).toEqual(vv);
    expect(decodeContext('')).toEqual([]);
    const forged = [
      'x',
      'c1.!!!',
      'c1.' + btoa('{"a":1}'),
      'c1.' + btoa('[["b",1],["a",1]]'),
      'c1.' + btoa('[["a",0]]'),
      'c1.' + btoa('[["a",1.5]]'),
      'c1.' + btoa(JSON.stringify([['', 1]])),
      'c1.' + 'A'.repeat(70_000),
      'c1.' + btoa(JSON.stringify(Array.from({ length: 1001 }, (_, i) => [`a${String(i).padStart(5, '0')}`, 1]))),
      42,
    ];
    for (const text of forged) expect(() => decodeContext(text)).toThrow(expect.objectContaining({ code: 'QUORUM_BAD_CONTEXT' }));
  });

  it('accepts well-formed peer states and refuses malformed ones with QUORUM_BAD_MESSAGE', () => {
    const good = writeDvv(EMPTY_DVV, [], dot('a', 1), 'v', 10);
    expect(decodeKeyState(JSON.parse(JSON.stringify(good)), 100)).toEqual(good);
    const bad: unknown[] = [
      null,
      { kind: 'dvv', vv: [], siblings: [{ dot: { actor: 'a', counter: 1 }, value: 'v' }] }, // dot not covered
      { kind: 'dvv', vv: [['a', 2]], siblings: [{ dot: { actor: 'a', counter: 2 }, value: 'v' }, { dot: { actor: 'a', counter: 1 }, value: 'w' }] }, // unsorted
      { kind: 'dvv', vv: [['a', 1]], siblings: [{ dot: { actor: 'a', counter: 1 }, value: 'x'.repeat(101) }] },
      { kind: 'lww', stamp: '-1', dot: { actor: 'a', counter: 1 }, value: 'v' },
      { kind: 'lww', stamp: '99999999999999999999999', dot: { actor: 'a', counter: 1 }, value: 'v' },
      { kind: 'orset', vv: [['a', 1]], entries: [['x', []]] },
      { kind: 'counter', increments: [['a', -1]], decrements: [] },
      { kind: 'mystery' },
    ];
    for (const value of bad) {
      expect(() => decodeKeyState(value, 100)).toThrow(QuorumError);
    }
  });
});

describe('counter buckets on src/crdt', () => {
  it('increments through the PN-counter of src/crdt and refuses a total past 2^53 with a typed error', () => {
    const a = incrementCounter(incrementCounter(EMPTY_COUNTER, 'n1', 5), 'n1', -2);
    const b = incrementCounter(EMPTY_COUNTER, 'n2', 10);
    const merged = mergeStates(a, b);
    expect(readView(merged).count).toBe(13);
    expect(mergeStates(merged, a)).toEqual(merged);
    const huge = incrementCounter(EMPTY_COUNTER, 'n1', 2 ** 52);
    expect(() => incrementCounter(huge, 'n1', 2 ** 52)).toThrow(expect.objectContaining({ code: 'QUORUM_BAD_REQUEST' }));
  });
});
