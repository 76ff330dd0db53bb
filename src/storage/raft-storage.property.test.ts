// Property test: random sequences of Raft persist ops, split across calls and restarts with tiny
// segments, always recover to the state a plain in-memory model reaches (hard state, snapshot,
// log with overwrites), and the recovered durableOps replay to that same state.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RaftStorage } from './raft-storage.js';
import type { HardState, JsonValue, LogEntry, RaftPersistOp } from './raft-types.js';
import { useTempDirs } from './test/helpers.js';

const newDir = useTempDirs();

/** The model: a snapshot, a hard state, and a log as a plain array, updated the obvious way. */
interface Model {
  snapshot: { index: number; term: number; config: JsonValue; data: JsonValue; hardState: HardState } | null;
  hardState: HardState | null;
  log: LogEntry[];
}

function modelApply(m: Model, op: RaftPersistOp): void {
  if (op.kind === 'hardState') m.hardState = op.state;
  else if (op.kind === 'snapshot') {
    m.snapshot = { ...op.meta, data: op.data, hardState: op.hardState };
    m.hardState = op.hardState;
    m.log = [...op.entriesAfter];
  } else {
    for (const e of op.entries) {
      m.log = m.log.filter((old) => old.index < e.index);
      m.log.push(e);
    }
  }
}

function modelOf(ops: readonly RaftPersistOp[]): Model {
  const m: Model = { snapshot: null, hardState: null, log: [] };
  for (const op of ops) modelApply(m, op);
  return m;
}

/** Abstract steps, made concrete against the model so entries never leave a gap. */
type Step =
  | { t: 'hs'; term: number; vote: string | null; commit: number }
  | { t: 'entries'; back: number; count: number; term: number; data: JsonValue }
  | { t: 'snapshot'; back: number; after: number; data: JsonValue }
  | { t: 'cut' }
  | { t: 'restart' };

const data: fc.Arbitrary<JsonValue> = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.oneof(fc.string({ maxLength: 4 }), fc.integer()), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 3 }), fc.integer(), { maxKeys: 2 }),
);

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ t: fc.constant('hs' as const), term: fc.nat(9), vote: fc.option(fc.constantFrom('1', '2', '3')), commit: fc.nat(50) }) },
  { weight: 6, arbitrary: fc.record({ t: fc.constant('entries' as const), back: fc.nat(4), count: fc.integer({ min: 0, max: 5 }), term: fc.nat(9), data }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('snapshot' as const), back: fc.nat(3), after: fc.nat(3), data }) },
  { weight: 2, arbitrary: fc.constant({ t: 'cut' as const }) },
  { weight: 1, arbitrary: fc.constant({ t: 'restart' as const }) },
);

/** What storage says it holds, in model form; compared directly so a wrong log cannot hide. */
function recovered(storage: RaftStorage): Model {
  const { snapshot, hardState, log } = storage.state;
  return { snapshot: snapshot === null ? null : { ...snapshot.meta, data: snapshot.data, hardState: snapshot.hardState }, hardState, log: [...log] };
}

function expectRecovered(storage: RaftStorage, model: Model): void {
  expect(recovered(storage)).toEqual(model);
  // durableOps must replay to the same state, and carry the log in index order.
  expect(modelOf(storage.durableOps)).toEqual(model);
  const logOp = storage.durableOps.find((op) => op.kind === 'entries');
  expect(logOp?.entries ?? []).toEqual(model.log);
}

function lastIndex(m: Model): number {
  return m.log[m.log.length - 1]?.index ?? m.snapshot?.index ?? 0;
}

function concrete(s: Exclude<Step, { t: 'cut' | 'restart' }>, m: Model): RaftPersistOp {
  const last = lastIndex(m);
  if (s.t === 'hs') return { kind: 'hardState', state: { term: s.term, vote: s.vote, commit: s.commit } };
  if (s.t === 'entries') {
    const first = Math.max(1, last + 1 - s.back);
    const entries = Array.from({ length: s.count }, (_, i): LogEntry => ({ index: first + i, term: s.term, kind: 'command', data: s.data }));
    return { kind: 'entries', entries };
  }
  const index = Math.max(0, last - s.back);
  const entriesAfter = Array.from({ length: s.after }, (_, i): LogEntry => ({ index: index + 1 + i, term: 1, kind: 'noop', data: null }));
  return { kind: 'snapshot', meta: { index, term: 1, config: { at: index } }, data: s.data, hardState: { term: 1, vote: null, commit: index }, entriesAfter };
}

describe('RaftStorage recovery matches an in-memory model', () => {
  it('for random op sequences, call splits and restarts', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 40 }), fc.constantFrom(96, 256, 4096), async (steps, segmentBytes) => {
        const dir = await newDir();
        const model: Model = { snapshot: null, hardState: null, log: [] };
        let storage = await RaftStorage.open(dir, { segmentBytes });
        let call: RaftPersistOp[] = [];
        const flush = async (): Promise<void> => {
          await storage.persist(call);
          call = [];
        };
        for (const s of steps) {
          if (s.t === 'cut') await flush();
          else if (s.t === 'restart') {
            await flush();
            await storage.close();
            storage = await RaftStorage.open(dir, { segmentBytes });
            expectRecovered(storage, model);
          } else {
            const op = concrete(s, model);
            modelApply(model, op);
            call.push(op);
          }
        }
        await flush();
        await storage.close();
        const reopened = await RaftStorage.open(dir, { segmentBytes });
        await reopened.close();
        expectRecovered(reopened, model);
        expect(reopened.warnings).toEqual([]);
      }),
      { numRuns: 60 },
    );
  });
});
