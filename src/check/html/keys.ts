// The partition (key) of every operation of a history, as a model assigns it, so a report can
// filter bars by key: also for operations the checker leaves out (failed ones, unknown reads).
// Where calls touch several keys (txns, ranges), an operation's key is its partition's name.
import type { History, Operation } from '../../core/index.js';
import { componentsOf, joinsKeys, type PreparedOp } from '../components.js';
import type { Model, PreparedCall } from '../model.js';

function preparedOf<S, C>(model: Model<S, C>, op: Operation): PreparedCall<C> | null {
  // prepare() leaves out failed operations and unknown reads; asked as if they had completed ok
  // (or, failing that, with an unknown outcome) it still says which key they touch
  for (const shape of [op, { ...op, outcome: 'ok' as const }, { ...op, outcome: 'unknown' as const, output: null }]) {
    try {
      const prepared = model.prepare(shape);
      if (prepared !== null) return prepared;
    } catch {
      // a shape the model does not accept: try the next, or give the operation no key
    }
  }
  return null;
}

/** `Operation.index` → key, for every operation the model can give a key. */
export function operationKeys<S, C>(history: History, model: Model<S, C>): Map<number, string> {
  const items: PreparedOp<C>[] = [];
  for (const op of history.ops) {
    const prepared = preparedOf(model, op);
    if (prepared !== null) items.push({ op, prepared });
  }
  const keys = new Map<number, string>();
  if (items.some((item) => joinsKeys(item.prepared))) {
    for (const component of componentsOf(items)) for (const item of component.items) keys.set(item.op.index, component.key);
  } else {
    for (const item of items) keys.set(item.op.index, item.prepared.key);
  }
  return keys;
}
