// Limits on one check, so a hard history ends with verdict "unknown" instead of hanging or
// exhausting memory. Time comes from a caller-supplied clock: the checker never reads the wall clock.
import { CheckError } from './errors.js';

export type BudgetReason = 'time-budget' | 'state-budget' | 'memory-budget';

export interface BudgetOptions {
  /** Milliseconds from some fixed origin; needed for `budgetMs` to take effect. */
  readonly now?: () => number;
  /** Give up after this long, measured with `now`. Unlimited when absent. */
  readonly budgetMs?: number;
  /** Give up after memoising this many (linearized set, state) configurations over the whole check. */
  readonly maxStates?: number;
  /**
   * Give up on a partition when the memo tables held at once (the partitions being searched side
   * by side) would outgrow this many bytes.
   */
  readonly maxMemoryBytes?: number;
}

export const DEFAULT_MAX_STATES = 8_000_000;
export const DEFAULT_MAX_MEMORY_BYTES = 512 * 1024 * 1024;

function requirePositive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!(value > 0)) throw new CheckError('BAD_OPTION', `${name} must be a positive number, not ${value}`);
  return value;
}

/** Tracks what one check has spent; the search asks it every few thousand steps. */
export class Budget {
  private readonly now: (() => number) | undefined;
  private readonly deadlineMs: number;
  private readonly maxStates: number;
  private readonly maxMemoryBytes: number;
  private settledStates = 0;
  private heldBytes = 0;

  constructor(options: BudgetOptions = {}) {
    this.maxStates = requirePositive('maxStates', options.maxStates, DEFAULT_MAX_STATES);
    this.maxMemoryBytes = requirePositive('maxMemoryBytes', options.maxMemoryBytes, DEFAULT_MAX_MEMORY_BYTES);
    const budgetMs = requirePositive('budgetMs', options.budgetMs, Infinity);
    this.now = Number.isFinite(budgetMs) ? options.now : undefined;
    if (Number.isFinite(budgetMs) && options.now === undefined) {
      throw new CheckError('BAD_OPTION', 'budgetMs needs a clock: pass now()');
    }
    this.deadlineMs = this.now === undefined ? Infinity : this.now() + budgetMs;
  }

  /** Why the check must stop now, or null; `states` and `bytes` are the running partition's. */
  exceeded(states: number, bytes: number): BudgetReason | null {
    if (this.settledStates + states > this.maxStates) return 'state-budget';
    if (this.heldBytes + bytes > this.maxMemoryBytes) return 'memory-budget';
    if (this.now !== undefined && this.now() > this.deadlineMs) return 'time-budget';
    return null;
  }

  /**
   * Counts states and held memo bytes of partitions other than the running one: positive when a
   * partition pauses or ends (an ended one passes bytes 0: its memo is freed), negative when a
   * paused one resumes and counts as running again.
   */
  settle(states: number, bytes = 0): void {
    this.settledStates += states;
    this.heldBytes += bytes;
  }
}
