// fast-check generators for property tests: histories made by running operations one at a time
// against a model (linearizable by construction), with every window widened around its
// operation's linearization point; and small random histories that promise nothing.
import fc from 'fast-check';
import type { History, JsonValue, Operation, Outcome } from '../../core/index.js';
import { assignProcesses } from './histories.js';

/** Linearization points are this far apart; windows widen by up to WIDEN on each side. */
const SPACING = 10;
const WIDEN = 30;

export interface Draft {
  readonly f: string;
  readonly input: JsonValue;
  readonly output: JsonValue;
  readonly outcome: Outcome;
  /** Fixed process; by default processes are assigned so each runs one operation at a time. */
  readonly process?: string;
}

export interface Widening {
  readonly left: number;
  readonly right: number;
}

/** Applied: took effect and was seen to; unknown: took effect, outcome unknown; lost: outcome unknown, no effect. */
export type Fate = 'applied' | 'unknown' | 'lost';
export const fateArb = fc.constantFrom<Fate>('applied', 'applied', 'applied', 'unknown', 'lost');
const valueArb = fc.integer({ min: 0, max: 4 });
export const wideningArb = { left: fc.nat(WIDEN), right: fc.nat(WIDEN) };

export function indexed(ops: Operation[]): History {
  ops.sort((a, b) => a.invokeMs - b.invokeMs);
  return { format: 'synod-history/1', ops: ops.map((op, index) => ({ ...op, index })) };
}

/** Places draft k's window around the point SPACING·(k+1), so that point is inside it. */
export function placeAroundPoints(drafts: ReadonlyArray<{ draft: Draft; widen: Widening }>): History {
  const windows = drafts.map(({ widen }, k) => [SPACING * (k + 1) - widen.left, SPACING * (k + 1) + widen.right] as const);
  const processes = assignProcesses(windows);
  return indexed(
    drafts.map(({ draft }, k) => ({
      index: 0,
      process: draft.process ?? processes[k]!,
      f: draft.f,
      input: draft.input,
      output: draft.outcome === 'unknown' ? null : draft.output,
      invokeMs: windows[k]![0],
      completeMs: windows[k]![1],
      outcome: draft.outcome,
    })),
  );
}

export const outcomeOf = (fate: Fate): Outcome => (fate === 'applied' ? 'ok' : 'unknown');

/** A cas that did not swap: unknown if its outcome was lost, else refused (ok/false) or failed. */
function refusal(fate: Fate, refusedAsOk: boolean): { output: JsonValue; outcome: Outcome } {
  if (fate !== 'applied') return { output: null, outcome: 'unknown' };
  return refusedAsOk ? { output: false, outcome: 'ok' } : { output: null, outcome: 'fail' };
}

// ---- register ----

interface RegisterStep extends Widening {
  readonly kind: 'read' | 'write' | 'cas';
  readonly value: number;
  readonly from: number | null;
  readonly fate: Fate;
  readonly refusedAsOk: boolean;
}

const registerStepArb: fc.Arbitrary<RegisterStep> = fc.record({
  kind: fc.constantFrom('read' as const, 'read' as const, 'write' as const, 'cas' as const),
  value: valueArb,
  from: fc.option(valueArb, { freq: 4 }),
  fate: fateArb,
  refusedAsOk: fc.boolean(),
  ...wideningArb,
});

function runRegister(steps: readonly RegisterStep[]): History {
  let state: JsonValue = null;
  const drafts = steps.map((s) => {
    let draft: Draft;
    if (s.kind === 'read') {
      draft = { f: 'read', input: null, output: state, outcome: outcomeOf(s.fate) };
    } else if (s.kind === 'write') {
      if (s.fate !== 'lost') state = s.value;
      draft = { f: 'write', input: s.value, output: null, outcome: outcomeOf(s.fate) };
    } else if (state === s.from && s.fate !== 'lost') {
      state = s.value;
      draft = { f: 'cas', input: [s.from, s.value], output: true, outcome: outcomeOf(s.fate) };
    } else {
      draft = { f: 'cas', input: [s.from, s.value], ...refusal(s.fate, s.refusedAsOk) };
    }
    return { draft, widen: s };
  });
  return placeAroundPoints(drafts);
}

/** Register histories that are linearizable by construction. */
export const linearizableRegisterHistory = (maxOps = 40, minOps = 0): fc.Arbitrary<History> =>
  fc.array(registerStepArb, { minLength: minOps, maxLength: maxOps }).map(runRegister);

// ---- kv ----

interface KvStep extends Widening {
  readonly kind: 'get' | 'put' | 'delete' | 'cas' | 'incr';
  readonly key: 'a' | 'b';
  readonly value: number;
  readonly from: number | null;
  readonly by: number;
  readonly fate: Fate;
  readonly refusedAsOk: boolean;
  readonly hideIncrResult: boolean;
}

const kvStepArb: fc.Arbitrary<KvStep> = fc.record({
  kind: fc.constantFrom('get' as const, 'get' as const, 'put' as const, 'delete' as const, 'cas' as const, 'incr' as const),
  key: fc.constantFrom('a' as const, 'b' as const),
  value: valueArb,
  from: fc.option(valueArb, { freq: 4 }),
  by: fc.integer({ min: 1, max: 3 }),
  fate: fateArb,
  refusedAsOk: fc.boolean(),
  hideIncrResult: fc.boolean(),
  ...wideningArb,
});

function kvDraft(s: KvStep, store: Map<string, number>): Draft {
  const current = store.get(s.key) ?? null;
  const apply = (next: number | null): void => {
    if (s.fate === 'lost') return;
    if (next === null) store.delete(s.key);
    else store.set(s.key, next);
  };
  const outcome = outcomeOf(s.fate);
  switch (s.kind) {
    case 'get':
      return { f: 'get', input: { key: s.key }, output: current, outcome };
    case 'put':
      apply(s.value);
      return { f: 'put', input: { key: s.key, value: s.value }, output: null, outcome };
    case 'delete':
      apply(null);
      return { f: 'delete', input: { key: s.key }, output: null, outcome };
    case 'incr': {
      const next = (current ?? 0) + s.by;
      apply(next);
      return { f: 'incr', input: { key: s.key, by: s.by }, output: s.hideIncrResult ? null : next, outcome };
    }
    case 'cas': {
      const input = { key: s.key, from: s.from, to: s.value };
      if (current !== s.from || s.fate === 'lost') return { f: 'cas', input, ...refusal(s.fate, s.refusedAsOk) };
      apply(s.value);
      return { f: 'cas', input, output: true, outcome };
    }
  }
}

/** Key-value histories over keys a and b that are linearizable by construction. */
export const linearizableKvHistory = (maxOps = 40, minOps = 0): fc.Arbitrary<History> =>
  fc.array(kvStepArb, { minLength: minOps, maxLength: maxOps }).map((steps) => {
    const store = new Map<string, number>();
    return placeAroundPoints(steps.map((s) => ({ draft: kvDraft(s, store), widen: s })));
  });

// ---- mutex ----

interface MutexStep extends Widening {
  readonly process: number;
  readonly bump: number;
  readonly fate: Fate;
  readonly releaseWithToken: boolean;
}

const mutexStepArb: fc.Arbitrary<MutexStep> = fc.record({
  process: fc.integer({ min: 0, max: 3 }),
  bump: fc.integer({ min: 1, max: 3 }),
  fate: fateArb,
  releaseWithToken: fc.boolean(),
  ...wideningArb,
});

/** Lock histories with rising tokens and one holder at a time, by construction. */
export const linearizableMutexHistory = (maxOps = 30): fc.Arbitrary<History> =>
  fc.array(mutexStepArb, { maxLength: maxOps }).map((steps) => {
    let holder: { process: string; token: number } | null = null;
    let lastToken = 0;
    const drafts = steps.map((s) => {
      const process = String(s.process);
      const outcome = outcomeOf(s.fate);
      let draft: Draft;
      if (holder === null) {
        const token = lastToken + s.bump;
        if (s.fate !== 'lost') [holder, lastToken] = [{ process, token }, token];
        draft = { f: 'acquire', input: null, output: token, outcome, process };
      } else if (holder.process === process) {
        draft = { f: 'release', input: s.releaseWithToken ? { token: holder.token } : null, output: null, outcome, process };
        if (s.fate !== 'lost') holder = null;
      } else {
        draft = { f: 'acquire', input: null, output: null, outcome: 'fail', process };
      }
      return { draft, widen: s };
    });
    return placeAroundPoints(drafts);
  });

// ---- unconstrained small histories ----

const windowArb = fc.record({ invokeMs: fc.integer({ min: 0, max: 20 }), durationMs: fc.integer({ min: 0, max: 8 }) });
const outcomeArb = fc.constantFrom<Outcome>('ok', 'ok', 'ok', 'unknown', 'fail');
const smallValue = fc.option(fc.integer({ min: 0, max: 2 }), { freq: 4 });

function randomHistory(callArb: fc.Arbitrary<{ f: string; input: JsonValue; output: JsonValue }>, maxOps: number): fc.Arbitrary<History> {
  const opArb = fc.record({ call: callArb, window: windowArb, outcome: outcomeArb });
  return fc.array(opArb, { maxLength: maxOps }).map((specs) => {
    const windows = specs.map((s) => [s.window.invokeMs, s.window.invokeMs + s.window.durationMs] as const);
    const processes = assignProcesses(windows);
    return indexed(
      specs.map((s, k) => ({
        index: 0,
        process: processes[k]!,
        ...s.call,
        output: s.outcome === 'unknown' ? null : s.call.output,
        invokeMs: windows[k]![0],
        completeMs: windows[k]![1],
        outcome: s.outcome,
      })),
    );
  });
}

export const randomRegisterHistory = (maxOps = 7): fc.Arbitrary<History> =>
  randomHistory(
    fc.oneof(
      fc.record({ f: fc.constant('read'), input: fc.constant(null), output: smallValue }),
      fc.record({ f: fc.constant('write'), input: smallValue, output: fc.constant(null) }),
      fc.record({ f: fc.constant('cas'), input: fc.tuple(smallValue, smallValue), output: fc.constantFrom<JsonValue>(null, false) }),
    ),
    maxOps,
  );

const keyArb = fc.constantFrom('a', 'b');

export const randomKvHistory = (maxOps = 7): fc.Arbitrary<History> =>
  randomHistory(
    fc.oneof(
      fc.record({ f: fc.constant('get'), input: fc.record({ key: keyArb }), output: smallValue }),
      fc.record({ f: fc.constant('put'), input: fc.record({ key: keyArb, value: smallValue }), output: fc.constant(null) }),
      fc.record({ f: fc.constant('delete'), input: fc.record({ key: keyArb }), output: fc.constant(null) }),
      fc.record({ f: fc.constant('incr'), input: fc.record({ key: keyArb }), output: smallValue }),
      fc.record({
        f: fc.constant('cas'),
        input: fc.record({ key: keyArb, from: smallValue, to: smallValue }),
        output: fc.constantFrom<JsonValue>(null, false),
      }),
    ),
    maxOps,
  );

export const randomMutexHistory = (maxOps = 6): fc.Arbitrary<History> =>
  randomHistory(
    fc.oneof(
      fc.record({ f: fc.constant('acquire'), input: fc.constant(null), output: fc.option(fc.integer({ min: 1, max: 4 }), { freq: 5 }) }),
      fc.record({
        f: fc.constant('release'),
        input: fc.option(fc.record({ token: fc.integer({ min: 1, max: 4 }) }), { freq: 2 }),
        output: fc.constant(null),
      }),
    ),
    maxOps,
  );

/** Plain reads and blind writes only, where the checker prunes unobserved unknown writes. */
export const randomPlainRegisterHistory = (maxOps = 8): fc.Arbitrary<History> =>
  randomHistory(
    fc.oneof(
      fc.record({ f: fc.constant('read'), input: fc.constant(null), output: smallValue }),
      fc.record({ f: fc.constant('write'), input: smallValue, output: fc.constant(null) }),
    ),
    maxOps,
  );
