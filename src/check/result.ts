// What a check returns: a verdict, per-partition figures, and for a violation the evidence
// (longest partial linearization and the operations that cannot be placed), all plain JSON.
import type { JsonValue } from '../core/index.js';
import type { BudgetReason } from './budget.js';

export type Verdict = 'linearizable' | 'not-linearizable' | 'unknown';

export interface PartitionReport {
  readonly key: string;
  readonly verdict: Verdict;
  /** Operations the search had to place or could place (failed ops and unknown reads are dropped). */
  readonly ops: number;
  /** Configurations (linearized set, state) memoised. */
  readonly states: number;
  readonly steps: number;
  readonly reason: BudgetReason | null;
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
  /** Partitions in the order their keys first appear; checking stops at the first violation. */
  readonly partitions: readonly PartitionReport[];
  readonly violation: Violation | null;
  /** Why the verdict is unknown; null otherwise. */
  readonly reason: BudgetReason | null;
}
