// What a check returns: a verdict, per-partition figures, and for a violation the evidence
// (longest partial linearization and the operations that cannot be placed), all plain JSON.
import type { JsonValue } from '../core/index.js';
import type { BudgetReason } from './budget.js';

export type Verdict = 'linearizable' | 'not-linearizable' | 'unknown';

export interface PartitionReport {
  /** The partition's name: its key, or for several keys joined by multi-key calls the first to appear. */
  readonly key: string;
  /** Every key of the partition, when it has several (else absent). */
  readonly keys?: readonly string[];
  readonly verdict: Verdict;
  /** Operations the search had to place or could place (failed ops and unknown reads are dropped). */
  readonly ops: number;
  /** Configurations (linearized set, state) memoised. */
  readonly states: number;
  readonly steps: number;
  /**
   * Why the verdict is unknown: a budget ran out, or 'stopped' when the check ended at another
   * partition's violation before this one was decided. Null when decided.
   */
  readonly reason: BudgetReason | 'stopped' | null;
  /** Milliseconds of search spent on this partition, on the caller's clock; null without `now`. */
  readonly ms: number | null;
}

export interface LinearizedStep {
  /** `Operation.index` of the operation placed. */
  readonly op: number;
  /** The model's state after it. */
  readonly state: JsonValue;
}

export interface Violation {
  /** The partition (key) that is not linearizable; "" for single-object models. */
  readonly key: string;
  /** Every key of that partition, when multi-key calls joined several (else absent). */
  readonly keys?: readonly string[];
  /** The longest partial linearization the search found, in order. */
  readonly prefix: readonly LinearizedStep[];
  /** `Operation.index` of the operation that completed before it could be placed after `prefix`. */
  readonly stuck: number;
  /** Operations open after `prefix` (`stuck` among them): none of them can be placed next. */
  readonly unplaceable: readonly number[];
}

export interface CheckResult {
  readonly verdict: Verdict;
  readonly model: string;
  /**
   * Every partition, in the order its key first appears. Checking stops at the first violation
   * found (unless allPartitions), leaving undecided partitions 'unknown' with reason 'stopped'.
   */
  readonly partitions: readonly PartitionReport[];
  readonly violation: Violation | null;
  /** Why the verdict is unknown; null otherwise. */
  readonly reason: BudgetReason | null;
}
