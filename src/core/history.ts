// The history of client operations: invoke/complete pairs with virtual times, in the form the
// consistency checkers (src/check) read. Simulator clients, real-process tests and imports of
// histories recorded elsewhere all produce this one format.

/**
 * ok: completed and took effect; fail: completed and certainly did not take effect;
 * unknown: the client gave up (timeout, crash): it may or may not have taken effect, at any
 * point after its invoke.
 */
export type Outcome = 'ok' | 'fail' | 'unknown';

import { assertInvariant } from './assert.js';
import type { JsonValue } from './json.js';

export type { JsonValue };

export interface Operation {
  /** Position in the history, 0-based, in order of invoke. */
  readonly index: number;
  /** The client process that issued it; one process has at most one operation open at a time. */
  readonly process: string;
  /** The operation's name, e.g. "read", "write", "cas", "put", "acquire". */
  readonly f: string;
  /** The operation's argument, as the model of the checker expects it (see src/check). */
  readonly input: JsonValue;
  /** What the operation returned; null where it returned nothing or its outcome is unknown. */
  readonly output: JsonValue;
  readonly invokeMs: number;
  /** When the client saw the result; for an unknown outcome, when it gave up. */
  readonly completeMs: number;
  readonly outcome: Outcome;
}

export interface History {
  readonly format: 'synod-history/1';
  readonly ops: readonly Operation[];
}

/** Records operations as clients invoke and complete them; hosts own one. */
export class HistoryRecorder {
  private readonly open = new Map<number, { process: string; f: string; input: JsonValue; invokeMs: number }>();
  private readonly done: Operation[] = [];
  private nextIndex = 0;

  invoke(process: string, f: string, input: JsonValue, atMs: number): number {
    const index = this.nextIndex++;
    this.open.set(index, { process, f, input, invokeMs: atMs });
    return index;
  }

  complete(index: number, outcome: Outcome, output: JsonValue, atMs: number): Operation {
    const pending = this.open.get(index);
    assertInvariant(pending !== undefined, () => `history: operation ${index} is not open`);
    this.open.delete(index);
    const op: Operation = { index, ...pending, output: outcome === 'unknown' ? null : output, completeMs: atMs, outcome };
    this.done.push(op);
    return op;
  }

  /** Operations still open are reported as unknown, completing at `nowMs`. */
  snapshot(nowMs: number): History {
    const ops: Operation[] = [...this.done];
    for (const [index, p] of this.open) ops.push({ index, ...p, output: null, completeMs: nowMs, outcome: 'unknown' });
    ops.sort((a, b) => a.index - b.index);
    return { format: 'synod-history/1', ops };
  }
}
