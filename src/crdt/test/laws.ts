// The laws every CRDT of src/crdt must satisfy, as reusable fast-check properties: join is
// commutative, associative and idempotent; any delivery order of the deltas, with duplicates,
// converges to the same state; joining the deltas gives the same state as the mutations applied
// in place (delta path = full-state path); the canonical text survives decode(JSON) unchanged.
import fc from 'fast-check';
import { expect } from 'vitest';
import { isCrdtError, type CrdtErrorCode } from '../errors.js';
import type { CrdtType } from '../types.js';

/** One mutation at one replica: given that replica's state, the delta it produces. */
export type Mutation<S> = (state: S) => S;

/** Generates a run: a list of [replica index, mutation] pairs over `replicas` replicas. */
export interface LawOptions<S> {
  readonly type: CrdtType<S, unknown>;
  /** Arbitrary mutation for a replica named `replica` (it receives the replica's current state). */
  readonly mutation: (replica: string) => fc.Arbitrary<Mutation<S>>;
  readonly replicas?: number;
  readonly numRuns?: number;
}

function same<S>(type: CrdtType<S, unknown>, a: S, b: S, what: string): void {
  expect(type.canonical(a), what).toBe(type.canonical(b));
}

/** Runs every law as a property. Call it from a test of the type. */
export function checkCrdtLaws<S>(o: LawOptions<S>): void {
  const { type } = o;
  const n = o.replicas ?? 3;
  const names = Array.from({ length: n }, (_, i) => `r${i}`);
  const step = fc.integer({ min: 0, max: n - 1 }).chain((r) => o.mutation(names[r] as string).map((m) => ({ r, m })));
  const run = fc.array(step, { maxLength: 30 });
  fc.assert(
    fc.property(run, fc.integer({ min: 0, max: 2 ** 31 - 1 }), (steps, shuffleSeed) => {
      // each replica mutates its own state (seeing only its own deltas and, every few steps, a merge from another)
      const states: S[] = names.map(() => type.empty());
      const deltas: S[] = [];
      steps.forEach(({ r, m }, i) => {
        const delta = m(states[r] as S);
        deltas.push(delta);
        states[r] = type.join(states[r] as S, delta);
        if (i % 4 === 3) {
          const from = (r + 1) % n;
          states[r] = type.join(states[r] as S, states[from] as S);
        }
      });
      // full-state path: the join of every replica's state
      const full = states.reduce((a, b) => type.join(a, b), type.empty());
      // delta path: every delta joined in order, then in a shuffled order with duplicates
      const inOrder = deltas.reduce((a, d) => type.join(a, d), type.empty());
      same(type, inOrder, full, 'the deltas joined give the replicas\' joined state');
      const shuffled = shuffle([...deltas, ...deltas.filter((_, i) => i % 3 === 0)], shuffleSeed);
      same(type, shuffled.reduce((a, d) => type.join(a, d), type.empty()), full, 'any order with duplicates converges');
      // lattice laws on the replicas' states
      const [a, b, c] = [states[0] as S, states[1 % n] as S, states[2 % n] as S];
      same(type, type.join(a, b), type.join(b, a), 'join is commutative');
      same(type, type.join(type.join(a, b), c), type.join(a, type.join(b, c)), 'join is associative');
      same(type, type.join(a, a), a, 'join is idempotent');
      same(type, type.join(a, type.empty()), a, 'empty is the bottom');
      // encoding: JSON and back, checked
      same(type, type.decode(JSON.parse(JSON.stringify(full))), full, 'decode(JSON) keeps the state');
    }),
    { numRuns: o.numRuns ?? 200 },
  );
}

function shuffle<T>(items: T[], seed: number): T[] {
  let s = seed >>> 0 || 1;
  for (let i = items.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const j = s % (i + 1);
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

/** Expects `run` to throw a CrdtError with `code` (anything else fails with what was thrown). */
export function expectCrdtError(code: CrdtErrorCode, run: () => unknown): void {
  let caught: unknown;
  try {
    run();
  } catch (err) {
    caught = err;
  }
  expect(isCrdtError(caught) ? caught.code : caught).toBe(code);
}
