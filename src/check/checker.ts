// Entry point of linearizability checking: prepares a history's operations with a model, splits
// them into independent partitions by key (P-compositionality) and runs the search on each,
// all within one budget.
import type { History, Operation } from '../core/index.js';
import { Budget, type BudgetOptions, type BudgetReason } from './budget.js';
import { CheckError } from './errors.js';
import { StepTable } from './machine.js';
import { componentsOf, joinsKeys, type PreparedOp } from './components.js';
import type { Model, PreparedCall } from './model.js';
import type { CheckResult, PartitionReport, Verdict, Violation } from './result.js';
import { startSearch, type ResumableSearch, type SearchOutcome } from './search.js';

/** What a failed compare-and-set means: it did not happen, or it compared and found another value. */
export type FailedCas = 'dropped' | 'observed';

export interface CheckOptions extends BudgetOptions {
  /** Keep checking the remaining partitions after a violation (default: stop at the first). */
  readonly allPartitions?: boolean;
  /**
   * 'dropped' (default, as Knossos): a failed cas certainly did not take effect and is left out.
   * 'observed' (as Porcupine's etcd model): it completed, and saw a value other than the expected
   * one, so it constrains the order like a read; models without observeFailure drop it anyway.
   */
  readonly failedCas?: FailedCas;
}

export interface Partition<C> {
  /** The partition's name: its key, or for several keys the one that appeared first. */
  readonly key: string;
  /** Every key of the partition, when calls that touch several keys joined them (else absent). */
  readonly keys?: readonly string[];
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

/**
 * Groups the operations that can matter by key, in order of each key's first appearance. Calls
 * that touch several keys (a multi-key transaction, a range) put all their keys in one partition:
 * partitions are then the connected components of keys touched together (components.ts).
 */
export function partitionHistory<S, C>(history: History, model: Model<S, C>, options: Pick<CheckOptions, 'failedCas'> = {}): Partition<C>[] {
  const byKey = new Map<string, Partition<C>>();
  const observe = options.failedCas === 'observed' && model.observeFailure !== undefined;
  if (options.failedCas !== undefined && options.failedCas !== 'observed' && options.failedCas !== 'dropped') {
    throw new CheckError('BAD_OPTION', `failedCas must be "observed" or "dropped", not ${JSON.stringify(options.failedCas)}`);
  }
  const prepare = (op: Operation): PreparedCall<C> | null => (observe && op.outcome === 'fail' ? (model.observeFailure?.(op) ?? null) : model.prepare(op));
  for (const op of history.ops) {
    assertTimes(op);
    const prepared = prepare(op);
    if (prepared === null) continue;
    // the first call over several keys sends the whole history down the slower, joining path
    if (joinsKeys(prepared)) return joinedPartitions(history, model, prepare);
    let partition = byKey.get(prepared.key);
    if (partition === undefined) byKey.set(prepared.key, (partition = { key: prepared.key, ops: [], calls: [] }));
    partition.ops.push(op);
    partition.calls.push(prepared.call);
  }
  return [...byKey.values()].map((p) => inInvokeOrder(pruneUnobservedWrites(p, model)));
}

/** Partitions as connected components of the keys calls touch together, each in history order. */
function joinedPartitions<S, C>(history: History, model: Model<S, C>, prepare: (op: Operation) => PreparedCall<C> | null): Partition<C>[] {
  const items: PreparedOp<C>[] = [];
  for (const op of history.ops) {
    assertTimes(op);
    const prepared = prepare(op);
    if (prepared !== null) items.push({ op, prepared });
  }
  return componentsOf(items).map((component) => {
    const partition: Partition<C> = {
      key: component.key,
      ...(component.keys.length > 1 ? { keys: component.keys } : {}),
      ops: component.items.map((item) => item.op),
      calls: component.items.map((item) => item.prepared.call),
    };
    return inInvokeOrder(pruneUnobservedWrites(partition, model));
  });
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
  return { ...partition, ops: partition.ops.filter((_, k) => keep[k]), calls: partition.calls.filter((_, k) => keep[k]) };
}

/** The search numbers operations by position; in invoke order its memo stays compact. */
function inInvokeOrder<C>(partition: Partition<C>): Partition<C> {
  const { ops, calls } = partition;
  if (ops.every((op, k) => k === 0 || ops[k - 1]!.invokeMs <= op.invokeMs)) return partition;
  const order = ops.map((_, k) => k).sort((a, b) => ops[a]!.invokeMs - ops[b]!.invokeMs || a - b);
  return { ...partition, ops: order.map((k) => ops[k]!), calls: order.map((k) => calls[k]!) };
}

function toViolation<S, C>(
  partition: Partition<C>,
  table: StepTable<S, C>,
  found: Extract<SearchOutcome, { kind: 'violation' }>,
): Violation {
  const indexOf = (local: number): number => partition.ops[local]!.index;
  return {
    key: partition.key,
    ...(partition.keys === undefined ? {} : { keys: partition.keys }),
    prefix: Array.from(found.prefixOps, (op, k) => ({ op: indexOf(op), state: table.stateJson(found.prefixStates[k]!) })),
    stuck: indexOf(found.stuck),
    unplaceable: found.unplaceable.map(indexOf),
  };
}

/** Steps a partition gets in the first round of slices (the search pauses at multiples of 1024). */
const FIRST_SLICE_STEPS = 1 << 12;
/** Each round's slice is this much longer: short rounds find easy violations, long ones keep switching rare. */
const SLICE_GROWTH = 1.5;
/** Slices stop growing here (about a second of search). */
const MAX_SLICE_STEPS = 1 << 23;

/**
 * One partition's search as the scheduler runs it, in slices. Its tables are made at its first
 * slice and dropped when it is decided, so only the partitions in progress hold memory.
 */
class PartitionTask<S, C> {
  private state: { readonly table: StepTable<S, C>; readonly search: ResumableSearch } | 'unstarted' | 'done' = 'unstarted';
  ms = 0;
  report: PartitionReport | null = null;
  violation: Violation | null = null;
  private heldStates = 0;
  private heldBytes = 0;

  constructor(
    readonly partition: Partition<C>,
    private readonly model: Model<S, C>,
    private readonly budget: Budget,
  ) {}

  private start(): { readonly table: StepTable<S, C>; readonly search: ResumableSearch } {
    const { partition, model } = this;
    const initial = model.initialFor === undefined ? model.initial(partition.key) : model.initialFor(partition.key, partition.calls);
    const table = new StepTable(model, partition.calls, initial);
    const search = startSearch(
      {
        invokeTimes: Float64Array.from(partition.ops, (op) => op.invokeMs),
        completeTimes: Float64Array.from(partition.ops, (op) => (op.outcome === 'unknown' ? Infinity : op.completeMs)),
        initialState: table.initial,
        transitions: table,
      },
      this.budget,
    );
    return { table, search };
  }

  private get search(): ResumableSearch | null {
    return typeof this.state === 'object' ? this.state.search : null;
  }

  steps(): number {
    return this.search?.size.steps ?? 0;
  }

  /** Runs until `untilSteps` steps in all; true when the partition is decided (or gave up). */
  runSlice(untilSteps: number, now: (() => number) | undefined): boolean {
    if (this.state === 'done') return true;
    if (this.state === 'unstarted') this.state = this.start();
    const { search, table } = this.state;
    this.budget.settle(-this.heldStates, -this.heldBytes);
    const started = now?.() ?? 0;
    const found = search.run(untilSteps);
    if (now !== undefined) this.ms += now() - started;
    const { states, bytes } = search.size;
    if (found === null) {
      this.heldStates = states;
      this.heldBytes = bytes;
      this.budget.settle(states, bytes);
      return false;
    }
    this.heldStates = this.heldBytes = 0;
    this.budget.settle(found.states);
    this.state = 'done'; // frees the memo and the tables
    const verdict: Verdict =
      found.kind === 'linearizable' ? 'linearizable' : found.kind === 'violation' ? 'not-linearizable' : 'unknown';
    this.report = this.reportOf(verdict, found.states, found.steps, found.kind === 'exhausted' ? found.reason : null, now);
    if (found.kind === 'violation') this.violation = toViolation(this.partition, table, found);
    return true;
  }

  /** Ends an undecided search: the whole check stopped, for `reason` (or a violation elsewhere). */
  abandon(reason: BudgetReason | 'stopped', now: (() => number) | undefined): void {
    if (this.report !== null) return;
    const { states, steps } = this.search?.size ?? { states: 0, steps: 0 };
    this.state = 'done';
    this.report = this.reportOf('unknown', states, steps, reason, now);
  }

  private reportOf(verdict: Verdict, states: number, steps: number, reason: PartitionReport['reason'], now: (() => number) | undefined): PartitionReport {
    const ms = now === undefined ? null : Math.round(this.ms * 1000) / 1000;
    const { key, keys } = this.partition;
    return { key, ...(keys === undefined ? {} : { keys }), verdict, ops: this.partition.ops.length, states, steps, reason, ms };
  }
}

/**
 * Is `history` linearizable with respect to `model`? Failed operations are dropped (a failed
 * compare-and-set is kept as an observation with `failedCas: 'observed'`); an operation with an
 * unknown outcome may take effect at any point after its invocation, or never.
 *
 * Partitions are searched side by side: smallest first, round-robin in slices of steps that
 * grow by half each round, so a partition that is plainly not linearizable is found early whatever
 * the order of keys, even behind one whose search is hard.
 */
export function checkHistory<S, C>(history: History, model: Model<S, C>, options: CheckOptions = {}): CheckResult {
  const budget = new Budget(options);
  const now = options.now;
  const tasks = partitionHistory(history, model, options).map((p) => new PartitionTask(p, model, budget));
  // smallest first; Array.prototype.sort is stable, so ties keep the order of first appearance
  let live = [...tasks].sort((a, b) => a.partition.ops.length - b.partition.ops.length);
  let violation: Violation | null = null;
  let reason: BudgetReason | null = null;
  let slice = FIRST_SLICE_STEPS;
  let stop: BudgetReason | 'stopped' | null = null;
  while (live.length > 0 && stop === null) {
    for (const task of live) {
      const steps = live.length === 1 ? Infinity : task.steps() + slice;
      if (!task.runSlice(steps, now)) continue;
      const report = task.report!;
      violation ??= task.violation;
      if (report.reason !== null && report.reason !== 'stopped') reason ??= report.reason;
      if (task.violation !== null && options.allPartitions !== true) stop = 'stopped';
      // time and states are budgets of the whole check; memory is of the memos held at once
      else if (report.reason === 'time-budget' || report.reason === 'state-budget') stop = report.reason;
      if (stop !== null) break;
    }
    live = live.filter((task) => task.report === null);
    slice = Math.min(Math.round(slice * SLICE_GROWTH), MAX_SLICE_STEPS);
  }
  for (const task of live) task.abandon(stop ?? 'stopped', now);
  const verdict: Verdict = violation !== null ? 'not-linearizable' : reason !== null ? 'unknown' : 'linearizable';
  const partitions = tasks.map((task) => task.report!);
  return { verdict, model: model.name, partitions, violation, reason: verdict === 'unknown' ? reason : null };
}
