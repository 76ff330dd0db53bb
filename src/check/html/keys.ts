// The partition (key) of every operation of a history, as a model assigns it, so a report can
// filter bars by key: also for operations the checker leaves out (failed ones, unknown reads).
import type { History, Operation } from '../../core/index.js';
import type { Model } from '../model.js';

function keyOf<S, C>(model: Model<S, C>, op: Operation): string | null {
  // prepare() leaves out failed operations and unknown reads; asked as if they had completed ok
  // (or, failing that, with an unknown outcome) it still says which key they touch
  for (const shape of [op, { ...op, outcome: 'ok' as const }, { ...op, outcome: 'unknown' as const, output: null }]) {
    try {
      const prepared = model.prepare(shape);
      if (prepared !== null) return prepared.key;
    } catch {
      // a shape the model does not accept: try the next, or give the operation no key
    }
  }
  return null;
}

/** `Operation.index` → key, for every operation the model can give a key. */
export function operationKeys<S, C>(history: History, model: Model<S, C>): Map<number, string> {
  const keys = new Map<number, string>();
  for (const op of history.ops) {
    const key = keyOf(model, op);
    if (key !== null) keys.set(op.index, key);
  }
  return keys;
}
