// Test helpers: Elle's small history language ("ax1ry12": append 1 to :x, read :y = [1 2]; "wx1rx_":
// write 1 to :x, read :x = nil) and builders for histories with or without invocations.
import type { JsonValue } from '../../core/index.js';
import { Pairer } from './read.js';
import type { TxnHistory, TxnOutcome } from './types.js';

type MopTuple = [string, JsonValue, JsonValue];

/** Parses Elle's op language. Append-model reads collect digits into a list; register reads take one digit or _ (nil). */
export function op(text: string, model: 'append' | 'rw' = 'append'): MopTuple[] {
  const mops: MopTuple[] = [];
  for (const c of text) {
    if (c === 'a' || c === 'r' || c === 'w') mops.push([c === 'a' ? 'append' : c, null, null]);
    else if ('xyztu'.includes(c)) mops[mops.length - 1]![1] = `:${c}`;
    else {
      const m = mops[mops.length - 1]!;
      const digit = c === '_' ? null : Number(c);
      if (m[0] === 'r' && model === 'append') m[2] = [...((m[2] as JsonValue[] | null) ?? []), digit];
      else m[2] = digit;
    }
  }
  return mops;
}

export interface Event {
  readonly type: 'invoke' | TxnOutcome;
  readonly process?: JsonValue;
  readonly mops: MopTuple[] | string;
}

/** A history of events in the order given, paired by process (missing process: 0). */
export function history(events: readonly Event[], model: 'append' | 'rw' = 'append'): TxnHistory {
  const pairer = new Pairer();
  events.forEach((e, i) => {
    const mops = typeof e.mops === 'string' ? op(e.mops, model) : e.mops;
    const value = e.type === 'invoke' ? mops.map((m): MopTuple => (m[0] === 'r' ? [m[0], m[1], null] : m)) : mops;
    pairer.add({ type: e.type, f: ':txn', process: e.process ?? 0, value: () => value, index: i, line: i + 1 });
  });
  return pairer.finish();
}

/** Each op invoked and completed ok in turn by process 0 (Elle's `(mapcat pair ...)`): a real-time chain. */
export function sequential(ops: readonly string[], model: 'append' | 'rw' = 'append'): TxnHistory {
  return history(ops.flatMap((mops) => [{ type: 'invoke', mops }, { type: 'ok', mops }] as Event[]), model);
}

/** Completions only (Elle's `(h/history [(op ..) ...])`): no invocations, so no real-time order. */
export function completions(ops: readonly (string | [TxnOutcome, string])[], model: 'append' | 'rw' = 'append'): TxnHistory {
  return history(ops.map((o, i) => (typeof o === 'string' ? { type: 'ok', process: i, mops: o } : { type: o[0], process: i, mops: o[1] })), model);
}
