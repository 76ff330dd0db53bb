// The contract between the search and a data-type model. A model turns history operations into
// calls, steps a sequential specification, and names states canonically so the search can intern
// them as small integers and memoise transitions; the search itself never looks inside a state.
import type { JsonValue, Operation } from '../core/index.js';

/** One operation as the model will replay it, and the partition (key) it belongs to. */
export interface PreparedCall<C> {
  /** Operations with different keys are independent and are checked apart (P-compositionality). */
  readonly key: string;
  readonly call: C;
  /**
   * Every key the call reads or writes by name, when that is more than `key` (a multi-key
   * transaction); default `[key]`. The checker joins the partitions of all of them into one.
   */
  readonly keys?: readonly string[];
  /**
   * For a call over a range of keys (a range read, a prefix delete): whether it covers `key`. The
   * call then also touches every key of the history (named by any call) that it covers, and the
   * checker joins their partitions: keys no operation names cannot be in the store.
   */
  readonly covers?: (key: string) => boolean;
}

/** What an operation means for the session-guarantee checks (read-your-writes, monotonic reads). */
export type SessionEffect =
  | { readonly kind: 'read'; readonly key: string; readonly value: string }
  /** `value` is the canonical JSON written, or null when the value written is not known. */
  | { readonly kind: 'write'; readonly key: string; readonly value: string | null };

export interface Model<S, C> {
  readonly name: string;
  /**
   * Turns a completed-ok or unknown-outcome operation into a call, or returns null when the
   * operation cannot affect any verdict (an unknown-outcome read). Throws CheckError BAD_OP
   * for shapes the model does not accept.
   */
  prepare(op: Operation): PreparedCall<C> | null;
  /**
   * For a failed operation that still observed something (a compare-and-set refused because the
   * value differed), the call that records the observation; null when the failure tells nothing.
   * Used only when the caller asks for it (CheckOptions.failedCas 'observed').
   */
  observeFailure?(op: Operation): PreparedCall<C> | null;
  /** The state every partition starts in. */
  initial(key: string): S;
  /**
   * The state a partition starts in, knowing its calls (a model may keep a cheaper state where
   * the calls allow it). Used instead of `initial` when present; `key` is the partition's name.
   */
  initialFor?(key: string, calls: readonly C[]): S;
  /**
   * The state after `call`, or undefined when `call`, with the output it was seen to return,
   * cannot happen in `state`. For an unknown-outcome call, undefined means it cannot have taken
   * effect there (the search may still leave it out altogether).
   */
  step(state: S, call: C): S | undefined;
  /** Equal for equal states and only for them. */
  stateKey(state: S): string;
  /** The state as JSON, for reports. */
  stateToJson(state: S): JsonValue;
  /** Present on models whose operations are reads and writes of values (register, kv). */
  sessionEffect?(op: Operation): SessionEffect | null;
  /**
   * The effect of a plain read or a blind write (no compare-and-set, no increment), else null.
   * Where a partition holds only such operations, an unknown-outcome write whose value no read
   * returned cannot change the verdict, and the checker leaves it out (see pruneUnobservedWrites).
   */
  plainEffect?(op: Operation): SessionEffect | null;
}
