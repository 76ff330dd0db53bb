// What a node knows chosen: the value (and the ballot it was chosen in) at each slot, learned in
// any order, and `known`, the end of the prefix of slots all known chosen, which is what a
// replica may apply. Values below `low` were compacted into a snapshot (they are chosen, and
// applied, but no longer held). The leader describes what it knows as decided ranges: runs of
// consecutive slots chosen in one ballot, which a follower that accepted them in that ballot can
// learn without the values.
import type { Ballot } from '../ballot.js';
import { ballotText, sameBallot } from '../ballot.js';
import type { DecidedRange, PaxosValue } from './types.js';

export interface Chosen {
  readonly ballot: Ballot;
  readonly value: PaxosValue;
}

export type LearnOutcome = 'new' | 'same' | 'conflict' | 'compacted';

function sameValue(a: PaxosValue, b: PaxosValue): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

export class ChosenLog {
  private readonly values = new Map<number, Chosen>();
  /** Every slot up to here is known chosen. */
  known = 0;
  /** The lowest slot whose value is still held; everything below is in the snapshot. */
  low = 1;
  /** The highest slot known chosen. */
  highest = 0;

  get(slot: number): Chosen | undefined {
    return this.values.get(slot);
  }

  /** Whether `slot` is known chosen (held, or compacted below `low`). */
  has(slot: number): boolean {
    return slot < this.low || this.values.has(slot);
  }

  learn(slot: number, ballot: Ballot, value: PaxosValue): LearnOutcome {
    if (slot < this.low) return 'compacted';
    const before = this.values.get(slot);
    if (before !== undefined) return sameValue(before.value, value) ? 'same' : 'conflict';
    this.values.set(slot, { ballot, value });
    if (slot > this.highest) this.highest = slot;
    while (this.values.has(this.known + 1)) this.known++;
    return 'new';
  }

  /** Drops held values below `slot` (they are in a snapshot and applied). */
  compactBelow(slot: number): void {
    if (slot <= this.low) return;
    for (const s of this.values.keys()) if (s < slot) this.values.delete(s);
    this.low = slot;
    if (this.known < slot - 1) this.known = slot - 1;
    while (this.values.has(this.known + 1)) this.known++;
    if (this.highest < this.known) this.highest = this.known;
  }

  /** A snapshot of the state after `slot` replaced the state: everything up to it is chosen. */
  installed(slot: number): void {
    this.compactBelow(slot + 1);
  }

  /**
   * Runs of consecutive slots known chosen in one ballot, from `from` on: at most `maxRanges`
   * runs, looking at most `maxSpan` slots ahead (compacted slots are skipped: a follower that needs
   * them gets a snapshot).
   */
  ranges(from: number, maxRanges: number, maxSpan: number): DecidedRange[] {
    const out: DecidedRange[] = [];
    const start = Math.max(from, this.low);
    const end = Math.min(this.highest, start + maxSpan - 1);
    let run: { from: number; to: number; ballot: Ballot } | undefined;
    for (let s = start; s <= end; s++) {
      const c = this.values.get(s);
      if (c !== undefined && run !== undefined && run.to === s - 1 && sameBallot(run.ballot, c.ballot)) {
        run.to = s;
        continue;
      }
      if (run !== undefined) {
        out.push(run);
        run = undefined;
        if (out.length >= maxRanges) return out;
      }
      if (c !== undefined) run = { from: s, to: s, ballot: c.ballot };
    }
    if (run !== undefined) out.push(run);
    return out;
  }

  describe(): string {
    return `known ${this.known}, highest ${this.highest}, held from ${this.low}`;
  }

  /** For tests: the ballot a slot's value was chosen in. */
  ballotAt(slot: number): string | undefined {
    const c = this.values.get(slot);
    return c === undefined ? undefined : ballotText(c.ballot);
  }
}
