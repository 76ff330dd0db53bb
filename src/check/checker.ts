// Entry point of linearizability checking: prepares a history's operations with a model, splits
// them into independent partitions by key (P-compositionality) and runs the search on each,
// all within one budget.
import type { History, Operation } from '../core/index.js';
import { Budget, type BudgetOptions, type BudgetReason } from './budget.js';
import { CheckError } from './errors.js';
import { StepTable } from './machine.js';
import type { Model } from './model.js';
import type { CheckResult, PartitionReport, Verdict, Violation } from './result.js';
import { searchLinearization, type SearchOutcome } from './search.js';

export interface CheckOptions extends BudgetOptions {
  /** Keep checking the remaining partitions after a violation (default: stop at the first). */
  readonly allPartitions?: boolean;
}

export interface Partition<C> {
  readonly key: string;
  readonly ops: Operation[];
  readonly calls: C[];
}

function assertTimes(op: Operation): void {
  if (!Number.isFinite(op.invokeMs)) throw new CheckError('BAD_OP', `operation ${op.index}: invokeMs must be a finite number`);
  if (op.outcome === 'unknown') return;
  if (!(op.completeMs >= op.invokeMs)) {
    throw new CheckError('BAD_OP', `operation ${op.index}: completeMs must be a number no earlier than invokeMs`);
  }
}

/** Groups the operations that can matter by key, in order of each key's first appearance. */
export function partitionHistory<S, C>(history: History, model: Model<S, C>): Partition<C>[] {
  const byKey = new Map<string, Partition<C>>();
  for (const op of history.ops) {
    assertTimes(op);
    const prepared = model.prepare(op);
    if (prepared === null) continue;
    let partition = byKey.get(prepared.key);
    if (partition === undefined) byKey.set(prepared.key, (partition = { key: prepared.key, ops: [], calls: [] }));
    partition.ops.push(op);
    partition.calls.push(prepared.call);
  }
  return [...byKey.values()].map((p) => inInvokeOrder(pruneUnobservedWrites(p, model)));
}

/**
 * In a partition of plain reads and blind writes only, drops unknown-outcome writes whose value
 * no read returned. Sound: such a write may always be taken as never having happened, and in any
 * linearization no read can follow it directly (that read would have returned its value), so
 * removing it leaves every read's latest write unchanged. This tames histories where crashes
 * leave many writes with unknown outcomes, which otherwise blow up the search.
 */
function pruneUnobservedWrites<S, C>(partition: Partition<C>, model: Model<S, C>): Partition<C> {
  if (model.plainEffect === undefined) return partition;
  const effects = partition.ops.map((op) => model.plainEffect?.(op) ?? null);
  if (effects.some((e) => e === null || (e.kind === 'write' && e.value === null))) return partition;
  const observed = new Set(effects.filter((e) => e?.kind === 'read').map((e) => e?.value));
  const keep = partition.ops.map((op, k) => !(op.outcome === 'unknown' && effects[k]?.kind === 'write' && !observed.has(effects[k]?.value as string)));
  if (keep.every(Boolean)) return partition;
  return { key: partition.key, ops: partition.ops.filter((_, k) => keep[k]), calls: partition.calls.filter((_, k) => keep[k]) };
}

/** The search numbers operations by position; in invoke order its memo stays compact. */
function inInvokeOrder<C>(partition: Partition<C>): Partition<C> {
  const { ops, calls } = partition;
  if (ops.every((op, k) => k === 0 || ops[k - 1]!.invokeMs <= op.invokeMs)) return partition;
  const order = ops.map((_, k) => k).sort((a, b) => ops[a]!.invokeMs - ops[b]!.invokeMs || a - b);
  return { key: partition.key, ops: order.map((k) => ops[k]!), calls: order.map((k) => calls[k]!) };
}

function toViolation<S, C>(
  partition: Partition<C>,
  table: StepTable<S, C>,
  found: Extract<SearchOutcome, { kind: 'violation' }>,
): Violation {
  const indexOf = (local: number): number => partition.ops[local]!.index;
  return {
    key: partition.key,
    prefix: Array.from(found.prefixOps, (op, k) => ({ op: indexOf(op), state: table.stateJson(found.prefixStates[k]!) })),
    stuck: indexOf(found.stuck),
    unplaceable: found.unplaceable.map(indexOf),
  };
}

function checkPartition<S, C>(
  partition: Partition<C>,
  model: Model<S, C>,
  budget: Budget,
): { report: PartitionReport; violation: Violation | null } {
  const table = new StepTable(model, partition.calls, model.initial(partition.key));
  const found = searchLinearization(
    {
      invokeTimes: Float64Array.from(partition.ops, (op) => op.invokeMs),
      completeTimes: Float64Array.from(partition.ops, (op) => (op.outcome === 'unknown' ? Infinity : op.completeMs)),
      initialState: table.initial,
      transitions: table,
    },
    budget,
  );
  budget.settle(found.states);
  const verdict: Verdict =
    found.kind === 'linearizable' ? 'linearizable' : found.kind === 'violation' ? 'not-linearizable' : 'unknown';
  const report: PartitionReport = {
    key: partition.key,
    verdict,
    ops: partition.ops.length,
    states: found.states,
    steps: found.steps,
    reason: found.kind === 'exhausted' ? found.reason : null,
  };
  return { report, violation: found.kind === 'violation' ? toViolation(partition, table, found) : null };
}

/**
 * Is `history` linearizable with respect to `model`? Failed operations are dropped; an operation
 * with an unknown outcome may take effect at any point after its invocation, or never.
 */
export function checkHistory<S, C>(history: History, model: Model<S, C>, options: CheckOptions = {}): CheckResult {
  const budget = new Budget(options);
  const partitions: PartitionReport[] = [];
  let violation: Violation | null = null;
  let reason: BudgetReason | null = null;
  for (const partition of partitionHistory(history, model)) {
    const checked = checkPartition(partition, model, budget);
    partitions.push(checked.report);
    violation ??= checked.violation;
    reason ??= checked.report.reason;
    if (violation !== null && options.allPartitions !== true) break;
    // time and states are budgets of the whole check; memory is per partition
    if (checked.report.reason === 'time-budget' || checked.report.reason === 'state-budget') break;
  }
  const verdict: Verdict = violation !== null ? 'not-linearizable' : reason !== null ? 'unknown' : 'linearizable';
  return { verdict, model: model.name, partitions, violation, reason: verdict === 'unknown' ? reason : null };
}
