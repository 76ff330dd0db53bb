// The mutable fold (RaftStateBuilder, behind foldRaftOps) against the reference fold of
// applyRaftOp: the same states on random op sequences, states handed out never change, and the
// work it does grows linearly with the entries it is given.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { EMPTY_RAFT_STATE, RaftStateBuilder, applyRaftOp, foldRaftOps, type FoldWork, type RaftDurableState } from './durable-state.js';
import type { LogEntry, RaftPersistOp } from './types.js';

const entry = (index: number, term: number): LogEntry => ({ index, term, kind: 'command', data: `cmd-${index}-${term}` });

/** Abstract steps, made concrete against the log so far; `back` may leave gaps or reach below the log. */
type Step =
  | { t: 'hs'; term: number; commit: number }
  | { t: 'entries'; back: number; count: number; term: number }
  | { t: 'snapshot'; back: number; after: number }
  | { t: 'look' };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ t: fc.constant('hs' as const), term: fc.nat(9), commit: fc.nat(60) }) },
  { weight: 8, arbitrary: fc.record({ t: fc.constant('entries' as const), back: fc.integer({ min: -2, max: 12 }), count: fc.nat(6), term: fc.nat(9) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('snapshot' as const), back: fc.integer({ min: -2, max: 8 }), after: fc.nat(4) }) },
  { weight: 2, arbitrary: fc.constant({ t: 'look' as const }) },
);

function lastIndex(state: RaftDurableState): number {
  return state.log[state.log.length - 1]?.index ?? state.snapshot?.meta.index ?? 0;
}

function concrete(s: Exclude<Step, { t: 'look' }>, state: RaftDurableState): RaftPersistOp {
  const last = lastIndex(state);
  if (s.t === 'hs') return { kind: 'hardState', state: { term: s.term, vote: null, commit: s.commit } };
  if (s.t === 'entries') return { kind: 'entries', entries: Array.from({ length: s.count }, (_, i) => entry(Math.max(1, last + 1 - s.back) + i, s.term)) };
  const index = Math.max(0, last - s.back);
  const entriesAfter = Array.from({ length: s.after }, (_, i) => entry(index + 1 + i, 1));
  return { kind: 'snapshot', meta: { index, term: 1, config: null }, data: `state@${index}`, hardState: { term: 1, vote: null, commit: index }, entriesAfter };
}

/** A deep copy, to see later whether a state handed out has changed since. */
const frozen = (state: RaftDurableState): RaftDurableState => structuredClone(state);

describe('RaftStateBuilder', () => {
  it('reaches the states applyRaftOp reaches, and never changes a state it handed out or started from', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), fc.nat(8), (steps, startLength) => {
        const from: RaftDurableState = { snapshot: null, hardState: null, log: Array.from({ length: startLength }, (_, i) => entry(i + 1, 1)) };
        const fromCopy = frozen(from);
        const builder = new RaftStateBuilder(from);
        let reference = from;
        const looks: { handed: RaftDurableState; copy: RaftDurableState }[] = [];
        for (const s of steps) {
          if (s.t === 'look') {
            const handed = builder.state();
            expect(handed).toEqual(reference);
            looks.push({ handed, copy: frozen(handed) });
            continue;
          }
          const op = concrete(s, reference);
          reference = applyRaftOp(reference, op);
          builder.apply(op);
        }
        expect(builder.state()).toEqual(reference);
        expect(from).toEqual(fromCopy);
        for (const look of looks) expect(look.handed).toEqual(look.copy);
      }),
      { numRuns: 300 },
    );
  });

  it('foldRaftOps agrees with folding applyRaftOp op by op', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
        let reference = EMPTY_RAFT_STATE;
        const ops: RaftPersistOp[] = [];
        for (const s of steps) {
          if (s.t === 'look') continue;
          const op = concrete(s, reference);
          ops.push(op);
          reference = applyRaftOp(reference, op);
        }
        expect(foldRaftOps(ops)).toEqual(reference);
      }),
      { numRuns: 200 },
    );
  });

  it('copies each appended entry about once: 20,000 one-entry ops cost fewer than 3 x 20,000 copies', () => {
    const entryCount = 20_000;
    const work: FoldWork = { entriesCopied: 0 };
    const builder = new RaftStateBuilder(EMPTY_RAFT_STATE, work);
    for (let index = 1; index <= entryCount; index++) builder.apply({ kind: 'entries', entries: [entry(index, 1)] });
    expect(builder.state().log).toHaveLength(entryCount);
    expect(work.entriesCopied).toBeGreaterThanOrEqual(entryCount); // it counts at all
    expect(work.entriesCopied).toBeLessThan(3 * entryCount);
  });

  it('pays for a truncation only with what it appends, and copies a handed-out log once', () => {
    const work: FoldWork = { entriesCopied: 0 };
    const builder = new RaftStateBuilder(EMPTY_RAFT_STATE, work);
    builder.apply({ kind: 'entries', entries: Array.from({ length: 1000 }, (_, i) => entry(i + 1, 1)) });
    expect(work.entriesCopied).toBe(1000);
    builder.apply({ kind: 'entries', entries: [entry(996, 2)] }); // drops 996..1000
    expect(work.entriesCopied).toBe(1001);
    const handed = builder.state();
    builder.apply({ kind: 'entries', entries: [entry(997, 2)] }); // the shared log is copied once...
    builder.apply({ kind: 'entries', entries: [entry(998, 2)] }); // ...and not again
    expect(work.entriesCopied).toBe(1001 + 996 + 1 + 1);
    expect(handed.log).toHaveLength(996);
    expect(builder.state().log.map((e) => e.index).slice(-3)).toEqual([996, 997, 998]);
  });
});
