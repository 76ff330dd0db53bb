// Just-in-time linearization with backtracking (Wing & Gong, refined by Lowe) over one partition:
// a linked list of invoke/complete events, unlinked as operations are placed and relinked on
// backtrack, pruned by a memo of (linearized set, state). Unknown outcomes complete at +infinity.
import type { Budget, BudgetReason } from './budget.js';
import { operationHashes } from './hash.js';
import { ConfigurationSet, type WordWindow } from './memo.js';

/** One partition's operations, numbered 0..n-1 (best in invoke order), and their model. */
export interface SearchProblem {
  readonly invokeTimes: Float64Array;
  /** +Infinity for an unknown-outcome operation. */
  readonly completeTimes: Float64Array;
  readonly initialState: number;
  readonly transitions: Transitions;
}

export interface Transitions {
  /** State id after op from state, or -1 when illegal there. */
  next(state: number, op: number): number;
}

interface Figures {
  readonly states: number;
  readonly steps: number;
}

export interface DeadEnd {
  /** The partial linearization that placed the most known-outcome operations, in order. */
  readonly prefixOps: Int32Array;
  /** The state after each operation of prefixOps. */
  readonly prefixStates: Int32Array;
  /** The operation whose completion came before it could be placed after the prefix. */
  readonly stuck: number;
  /** Operations open after the prefix (stuck among them): none of them can be placed next. */
  readonly unplaceable: number[];
}

export type SearchOutcome =
  | ({ readonly kind: 'linearizable' } & Figures)
  | ({ readonly kind: 'violation' } & Figures & DeadEnd)
  | ({ readonly kind: 'exhausted'; readonly reason: BudgetReason } & Figures);

const NIL = -1;
const UNSTARTED = -2;
const FULL_WORD = -1;
/** Sets of up to this many 32-bit words are memoised whole, without tracking their window. */
const WHOLE_SET_WORDS = 8;
/** How many loop turns between budget checks. */
const CHECK_EVERY_MASK = 0x3ff;

/** Event ids: 2·op is op's invocation, 2·op+1 its completion; slot 2n is the list head. */
function linkEvents(problem: SearchProblem, n: number): { next: Int32Array; prev: Int32Array } {
  const timeOf = (e: number): number => ((e & 1) === 0 ? problem.invokeTimes[e >> 1]! : problem.completeTimes[e >> 1]!);
  const order = Array.from({ length: 2 * n }, (_, e) => e);
  // at equal times invocations come first: operations that touch at an instant overlap
  order.sort((a, b) => timeOf(a) - timeOf(b) || (a & 1) - (b & 1) || a - b);
  const next = new Int32Array(2 * n + 1);
  const prev = new Int32Array(2 * n + 1);
  let last = 2 * n;
  for (const e of order) {
    next[last] = e;
    prev[e] = last;
    last = e;
  }
  next[last] = NIL;
  return { next, prev };
}

/** The dead end worth reporting, kept up to date by copying only what changed since last time. */
class BestDeadEnd {
  readonly ops: Int32Array;
  /** State before each op; `finalState` is the state after the last. */
  readonly statesBefore: Int32Array;
  length = -1;
  knownLength = -1;
  finalState = 0;
  stuck = -1;
  unplaceable: number[] = [];
  /** How many leading stack entries still equal the recorded ones. */
  shared = 0;

  constructor(n: number) {
    this.ops = new Int32Array(n);
    this.statesBefore = new Int32Array(n);
  }

  /** Most known-outcome operations placed, then fewest unknown-outcome ones (they only distract). */
  improvesOn(depth: number, knownDepth: number): boolean {
    return knownDepth > this.knownLength || (knownDepth === this.knownLength && depth < this.length);
  }

  toDeadEnd(): DeadEnd {
    const prefixStates = new Int32Array(this.length);
    for (let k = 0; k < this.length; k++) prefixStates[k] = k + 1 < this.length ? this.statesBefore[k + 1]! : this.finalState;
    return { prefixOps: this.ops.slice(0, this.length), prefixStates, stuck: this.stuck, unplaceable: this.unplaceable };
  }
}

class Search implements WordWindow {
  private readonly head: number;
  private readonly next: Int32Array;
  private readonly prev: Int32Array;
  readonly bits: Int32Array;
  lowWord = 0;
  highWord: number;
  /** Small sets are stored whole; tracking the window only pays off for long histories. */
  private readonly trackWindow: boolean;
  private readonly opHashes: Int32Array;
  private readonly memo = new ConfigurationSet();
  private readonly stackOps: Int32Array;
  private readonly stackStates: Int32Array;
  private readonly unknown: Uint8Array;
  private depth = 0;
  /** Known-outcome operations on the stack. */
  private knownDepth = 0;
  private state: number;
  private setHash = 0;
  private steps = 0;
  private readonly best: BestDeadEnd;
  /** The event to resume the walk at, after a pause. */
  private cursor = UNSTARTED;

  constructor(
    private readonly problem: SearchProblem,
    private readonly budget: Budget,
    wholeSetWords: number,
  ) {
    const n = problem.invokeTimes.length;
    this.head = 2 * n;
    ({ next: this.next, prev: this.prev } = linkEvents(problem, n));
    this.bits = new Int32Array((n + 31) >>> 5);
    this.trackWindow = this.bits.length > wholeSetWords;
    this.highWord = this.trackWindow ? -1 : this.bits.length - 1;
    this.opHashes = operationHashes(n);
    this.stackOps = new Int32Array(n);
    this.stackStates = new Int32Array(n);
    this.unknown = Uint8Array.from(problem.completeTimes, (t) => (t === Infinity ? 1 : 0));
    this.state = problem.initialState;
    this.best = new BestDeadEnd(n);
  }

  /**
   * Searches until decided, or pauses (returning null) at the first budget check at or past
   * `untilSteps` steps in all; the next call resumes exactly where this one paused.
   */
  run(untilSteps = Infinity): SearchOutcome | null {
    const { next, head, memo } = this;
    let e = this.cursor === UNSTARTED ? next[head]! : this.cursor;
    while (e !== NIL) {
      if ((++this.steps & CHECK_EVERY_MASK) === 0) {
        if (this.steps >= untilSteps) {
          this.steps--; // the turn is taken again on resuming
          this.cursor = e;
          return null;
        }
        const reason = this.budget.exceeded(memo.size, memo.bytes);
        if (reason !== null) return { kind: 'exhausted', reason, ...this.figures() };
      }
      const op = e >> 1;
      if ((e & 1) === 0) {
        e = this.tryLinearize(op) ? next[head]! : next[e]!;
        continue;
      }
      if (this.unknown[op] === 1) break; // only unknown-outcome completions are left
      if (this.best.improvesOn(this.depth, this.knownDepth)) this.recordDeadEnd(e);
      if (this.depth === 0) return { kind: 'violation', ...this.best.toDeadEnd(), ...this.figures() };
      e = this.pop();
    }
    return { kind: 'linearizable', ...this.figures() };
  }

  /** Places `op` next if the model allows it and the configuration it leads to is new. */
  private tryLinearize(op: number): boolean {
    const after = this.problem.transitions.next(this.state, op);
    if (after < 0) return false;
    // an unknown-outcome operation that changes nothing is no better than leaving it out
    if (after === this.state && this.unknown[op] === 1) return false;
    this.setBit(op);
    const setHash = this.setHash ^ this.opHashes[op]!;
    if (!this.memo.add(this, setHash, after)) {
      this.clearBit(op);
      return false;
    }
    this.push(op, after, setHash);
    return true;
  }

  private figures(): Figures {
    return { states: this.memo.size, steps: this.steps };
  }

  /** Configurations memoised and bytes held so far. */
  get size(): { readonly states: number; readonly bytes: number; readonly steps: number } {
    return { states: this.memo.size, bytes: this.memo.bytes, steps: this.steps };
  }

  private setBit(op: number): void {
    const word = op >>> 5;
    const bits = this.bits;
    bits[word]! |= 1 << (op & 31);
    if (!this.trackWindow) return;
    if (word > this.highWord) this.highWord = word;
    if (word === this.lowWord) {
      let low = word;
      while (low < bits.length && bits[low] === FULL_WORD) low++;
      this.lowWord = low;
    }
  }

  private clearBit(op: number): void {
    const word = op >>> 5;
    const bits = this.bits;
    bits[word]! &= ~(1 << (op & 31));
    if (!this.trackWindow) return;
    if (word < this.lowWord) this.lowWord = word;
    if (word === this.highWord) {
      let high = word;
      while (high >= 0 && bits[high] === 0) high--;
      this.highWord = high;
    }
  }

  private push(op: number, after: number, setHash: number): void {
    this.stackOps[this.depth] = op;
    this.stackStates[this.depth] = this.state;
    this.depth++;
    this.knownDepth += 1 - this.unknown[op]!;
    this.state = after;
    this.setHash = setHash;
    this.lift(op);
  }

  /** Undoes the last linearization; returns the event to resume the walk at. */
  private pop(): number {
    this.depth--;
    if (this.best.shared > this.depth) this.best.shared = this.depth;
    const op = this.stackOps[this.depth]!;
    this.knownDepth -= 1 - this.unknown[op]!;
    this.state = this.stackStates[this.depth]!;
    this.clearBit(op);
    this.setHash ^= this.opHashes[op]!;
    this.unlift(op);
    return this.next[2 * op]!;
  }

  private lift(op: number): void {
    const { next, prev } = this;
    const call = 2 * op;
    const ret = call + 1;
    next[prev[call]!] = next[call]!;
    prev[next[call]!] = prev[call]!;
    next[prev[ret]!] = next[ret]!;
    if (next[ret] !== NIL) prev[next[ret]!] = prev[ret]!;
  }

  private unlift(op: number): void {
    const { next, prev } = this;
    const call = 2 * op;
    const ret = call + 1;
    if (next[ret] !== NIL) prev[next[ret]!] = ret;
    next[prev[ret]!] = ret;
    prev[next[call]!] = call;
    next[prev[call]!] = call;
  }

  /** Copies the stack entries pushed since the last record, and the operations open before `completion`. */
  private recordDeadEnd(completion: number): void {
    const best = this.best;
    best.ops.set(this.stackOps.subarray(best.shared, this.depth), best.shared);
    best.statesBefore.set(this.stackStates.subarray(best.shared, this.depth), best.shared);
    best.shared = best.length = this.depth;
    best.knownLength = this.knownDepth;
    best.finalState = this.state;
    best.stuck = completion >> 1;
    best.unplaceable = [];
    for (let e = this.next[this.head]!; e !== completion; e = this.next[e]!) if ((e & 1) === 0) best.unplaceable.push(e >> 1);
  }
}

/**
 * Decides whether one partition's operations are linearizable, within the budget.
 * `wholeSetWords` is for tests: below it sets are memoised whole, above it by window.
 */
export function searchLinearization(problem: SearchProblem, budget: Budget, wholeSetWords = WHOLE_SET_WORDS): SearchOutcome {
  return startSearch(problem, budget, wholeSetWords).run() ?? { kind: 'exhausted', reason: 'time-budget', states: 0, steps: 0 };
}

/** A search that can be run in slices: `run(untilSteps)` returns null when it paused undecided. */
export interface ResumableSearch {
  run(untilSteps?: number): SearchOutcome | null;
  readonly size: { readonly states: number; readonly bytes: number; readonly steps: number };
}

/** Starts (without running) the search of one partition. */
export function startSearch(problem: SearchProblem, budget: Budget, wholeSetWords = WHOLE_SET_WORDS): ResumableSearch {
  if (problem.invokeTimes.length === 0) {
    return { run: () => ({ kind: 'linearizable', states: 0, steps: 0 }), size: { states: 0, bytes: 0, steps: 0 } };
  }
  return new Search(problem, budget, wholeSetWords);
}
