// Test helpers: a terse way to write small histories by hand, and a brute-force reference checker
// (every order of every subset of unknown-outcome operations) to compare the search against.
import type { History, JsonValue, Operation, Outcome } from '../../core/index.js';
import type { Model } from '../model.js';

export interface OpSpec {
  readonly p: string | number;
  readonly f: string;
  readonly input?: JsonValue;
  readonly output?: JsonValue;
  /** [invoke, complete] */
  readonly at: readonly [number, number];
  readonly outcome?: Outcome;
}

/** Builds a history; indices follow invoke order as the format requires. */
export function historyOf(specs: readonly OpSpec[]): History {
  const sorted = [...specs].sort((a, b) => a.at[0] - b.at[0]);
  const ops: Operation[] = sorted.map((s, index) => ({
    index,
    process: String(s.p),
    f: s.f,
    input: s.input ?? null,
    output: s.outcome === 'unknown' ? null : (s.output ?? null),
    invokeMs: s.at[0],
    completeMs: s.at[1],
    outcome: s.outcome ?? 'ok',
  }));
  return { format: 'synod-history/1', ops };
}

interface Item<C> {
  readonly call: C;
  readonly invokeMs: number;
  readonly completeMs: number;
  readonly unknown: boolean;
}

function searchAll<S, C>(model: Model<S, C>, state: S, remaining: readonly Item<C>[]): boolean {
  if (remaining.every((i) => i.unknown)) return true;
  const deadline = Math.min(...remaining.map((i) => i.completeMs));
  return remaining.some((item, k) => {
    if (item.invokeMs > deadline) return false;
    const rest = remaining.filter((_, j) => j !== k);
    if (item.unknown && searchAll(model, state, rest)) return true;
    const after = model.step(state, item.call);
    return after !== undefined && searchAll(model, after, rest);
  });
}

/**
 * The reference answer by exhaustive search; only for a handful of operations. By key as the
 * model names them, or, with `whole`, the whole history as one partition (no P-compositionality
 * assumed: the reference for histories whose calls join keys).
 */
export function bruteForceLinearizable<S, C>(history: History, model: Model<S, C>, options: { readonly whole?: boolean } = {}): boolean {
  const byKey = new Map<string, Item<C>[]>();
  for (const op of history.ops) {
    const prepared = model.prepare(op);
    if (prepared === null) continue;
    const unknown = op.outcome === 'unknown';
    const key = options.whole === true ? '' : prepared.key;
    const items = byKey.get(key) ?? [];
    items.push({ call: prepared.call, invokeMs: op.invokeMs, completeMs: unknown ? Infinity : op.completeMs, unknown });
    byKey.set(key, items);
  }
  return [...byKey].every(([key, items]) => {
    const initial = model.initialFor === undefined ? model.initial(key) : model.initialFor(key, items.map((i) => i.call));
    return searchAll(model, initial, items);
  });
}

/** Gives each operation the lowest-numbered process that is idle at its invoke. */
export function assignProcesses(windows: ReadonlyArray<readonly [number, number]>): string[] {
  const busyUntil: number[] = [];
  const order = windows.map((_, i) => i).sort((a, b) => windows[a]![0] - windows[b]![0]);
  const processes: string[] = new Array<string>(windows.length);
  for (const i of order) {
    const [invokeMs, completeMs] = windows[i]!;
    let p = busyUntil.findIndex((until) => until < invokeMs);
    if (p < 0) p = busyUntil.length;
    busyUntil[p] = completeMs;
    processes[i] = String(p);
  }
  return processes;
}
