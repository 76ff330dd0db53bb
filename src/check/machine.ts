// A model compiled for one partition: states interned as small integers and transitions memoised
// in per-state rows, so the search usually steps with two array reads instead of calling the
// model and building state keys in its inner loop.
import type { JsonValue } from '../core/index.js';
import type { Model } from './model.js';

const NOT_COMPUTED = 0;
/** Stored transition = next state id + OFFSET; OFFSET - 1 stores "illegal". */
const OFFSET = 2;
/** A state gets a row once stepped from this often: most states of long histories are passed once. */
const ROW_AFTER_STEPS = 8;
/** Past this many cached transitions (4 bytes each), states step the model uncached. */
const MAX_CACHED_TRANSITIONS = 1 << 24;

export class StepTable<S, C> {
  private readonly states: S[] = [];
  private readonly ids = new Map<string, number>();
  private readonly rows: Array<Int32Array | null> = [];
  private readonly uncachedSteps: number[] = [];
  private cachedTransitions = 0;
  readonly initial: number;

  constructor(
    private readonly model: Model<S, C>,
    private readonly calls: readonly C[],
    initialState: S,
  ) {
    this.initial = this.intern(initialState);
  }

  /** The id of the state after operation `op` from state `state`, or -1 when it is illegal. */
  next(state: number, op: number): number {
    const row = this.rows[state];
    if (row === null || row === undefined) return this.stepUncached(state, op);
    const stored = row[op]!;
    if (stored !== NOT_COMPUTED) return stored - OFFSET;
    const result = this.compute(state, op);
    row[op] = result + OFFSET;
    return result;
  }

  stateJson(state: number): JsonValue {
    return this.model.stateToJson(this.states[state]!);
  }

  private stepUncached(state: number, op: number): number {
    const steps = ++this.uncachedSteps[state]!;
    if (steps >= ROW_AFTER_STEPS && this.cachedTransitions + this.calls.length <= MAX_CACHED_TRANSITIONS) {
      this.cachedTransitions += this.calls.length;
      this.rows[state] = new Int32Array(this.calls.length);
    }
    return this.compute(state, op);
  }

  private compute(state: number, op: number): number {
    const after = this.model.step(this.states[state]!, this.calls[op]!);
    return after === undefined ? -1 : this.intern(after);
  }

  private intern(state: S): number {
    const key = this.model.stateKey(state);
    const known = this.ids.get(key);
    if (known !== undefined) return known;
    const id = this.states.length;
    this.states.push(state);
    this.ids.set(key, id);
    this.rows.push(null);
    this.uncachedSteps.push(0);
    return id;
  }
}
