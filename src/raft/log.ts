// The in-memory Raft log: the entries after the latest snapshot, with the snapshot's index and
// term standing in for everything before it. Terms never decrease along a log, which lets the
// backtracking hints use binary search; every mutation checks the shape it leaves behind.
import { assertInvariant } from '../core/index.js';
import type { JsonValue } from '../core/index.js';
import type { LogEntry } from './types.js';

/** Rough JSON size of an entry, cached per (immutable) entry object. */
const sizeCache = new WeakMap<LogEntry, number>();
const ENTRY_OVERHEAD_BYTES = 48;
/** Deeper structure than this is measured with JSON.stringify (rare in commands). */
const MAX_WALK_DEPTH = 8;

export function entrySizeBytes(entry: LogEntry): number {
  let size = sizeCache.get(entry);
  if (size === undefined) {
    size = ENTRY_OVERHEAD_BYTES + approxJsonChars(entry.data, 0);
    sizeCache.set(entry, size);
  }
  return size;
}

/**
 * About JSON.stringify(value).length without building the text (a leader sizes every entry it
 * sends, and stringifying each cost more than the rest of batching): exact except that strings
 * count their characters without escapes and numbers count at most 24.
 */
function approxJsonChars(value: JsonValue, depth: number): number {
  if (value === null) return 4;
  switch (typeof value) {
    case 'string':
      return value.length + 2;
    case 'number':
      return Math.min(24, String(value).length);
    case 'boolean':
      return value ? 4 : 5;
  }
  if (depth >= MAX_WALK_DEPTH) return JSON.stringify(value).length;
  let chars = 1; // the brackets, less the comma the first element does not need
  let elements = 0;
  if (Array.isArray(value)) {
    for (const item of value) chars += approxJsonChars(item, depth + 1) + 1;
    elements = value.length;
  } else {
    for (const key in value) {
      chars += key.length + 4 + approxJsonChars((value as Record<string, JsonValue>)[key] as JsonValue, depth + 1);
      elements++;
    }
  }
  return elements === 0 ? 2 : chars;
}

export class RaftLog {
  private snapIndex = 0;
  private snapTerm = 0;
  /** entries[k] has index snapIndex + 1 + k. */
  private entries: LogEntry[] = [];

  get snapshotIndex(): number {
    return this.snapIndex;
  }

  get snapshotTerm(): number {
    return this.snapTerm;
  }

  get firstIndex(): number {
    return this.snapIndex + 1;
  }

  get lastIndex(): number {
    return this.snapIndex + this.entries.length;
  }

  get lastTerm(): number {
    const last = this.entries[this.entries.length - 1];
    return last === undefined ? this.snapTerm : last.term;
  }

  get length(): number {
    return this.entries.length;
  }

  /** The term at `index`, or undefined when it is compacted away (below the snapshot) or beyond the end. */
  termAt(index: number): number | undefined {
    if (index === this.snapIndex) return this.snapTerm;
    return this.entries[index - this.snapIndex - 1]?.term;
  }

  entryAt(index: number): LogEntry | undefined {
    if (index <= this.snapIndex) return undefined;
    return this.entries[index - this.snapIndex - 1];
  }

  /** Entries from `from` through `to` inclusive (both within the log). */
  slice(from: number, to: number): LogEntry[] {
    assertInvariant(from > this.snapIndex && to <= this.lastIndex, () => `log slice [${from}, ${to}] outside (${this.snapIndex}, ${this.lastIndex}]`);
    return this.entries.slice(from - this.snapIndex - 1, to - this.snapIndex);
  }

  /** Entries from `from` on, bounded by count and by size (at least one when any exists). */
  sliceBounded(from: number, maxCount: number, maxBytes: number): LogEntry[] {
    const out: LogEntry[] = [];
    let bytes = 0;
    const last = Math.min(this.lastIndex, from + maxCount - 1);
    for (let i = from; i <= last; i++) {
      const entry = this.entryAt(i) as LogEntry;
      bytes += entrySizeBytes(entry);
      if (out.length > 0 && bytes > maxBytes) break;
      out.push(entry);
    }
    return out;
  }

  all(): readonly LogEntry[] {
    return this.entries;
  }

  /** Appends entries that continue the log exactly (next index, non-decreasing term). */
  append(entries: readonly LogEntry[]): void {
    for (const entry of entries) {
      assertInvariant(entry.index === this.lastIndex + 1, () => `log append: entry ${entry.index} does not follow last index ${this.lastIndex}`);
      assertInvariant(entry.term >= this.lastTerm, () => `log append: term ${entry.term} at ${entry.index} is below the last term ${this.lastTerm}`);
      this.entries.push(entry);
    }
  }

  /** Drops every entry at `index` and after. */
  truncateFrom(index: number): void {
    assertInvariant(index > this.snapIndex, () => `log truncate at ${index}: at or below the snapshot ${this.snapIndex}`);
    if (index > this.lastIndex) return;
    this.entries.length = index - this.snapIndex - 1;
  }

  /** Stores `entries` (contiguous), replacing whatever the log held from the first one on. */
  replaceFrom(entries: readonly LogEntry[]): void {
    const first = entries[0];
    if (first === undefined) return;
    assertInvariant(first.index <= this.lastIndex + 1, () => `log replace: entry ${first.index} leaves a gap after ${this.lastIndex}`);
    this.truncateFrom(first.index);
    this.append(entries);
  }

  /** Forgets entries up to and including `index` (now covered by a snapshot). */
  compactTo(index: number): void {
    const term = this.termAt(index);
    assertInvariant(term !== undefined && index >= this.snapIndex, () => `log compact to ${index}: not in (${this.snapIndex}, ${this.lastIndex}]`);
    this.entries = this.entries.slice(index - this.snapIndex);
    this.snapIndex = index;
    this.snapTerm = term;
  }

  /** Replaces the whole log: a snapshot at (index, term) followed by `entriesAfter`. */
  reset(index: number, term: number, entriesAfter: readonly LogEntry[]): void {
    this.snapIndex = index;
    this.snapTerm = term;
    this.entries = [];
    this.append(entriesAfter);
  }

  /** Raft's election restriction: is a log ending at (lastIndex, lastTerm) at least as up to date as this one? */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    return lastTerm > this.lastTerm || (lastTerm === this.lastTerm && lastIndex >= this.lastIndex);
  }

  /** The largest index <= atMost (and >= the snapshot index) whose term is <= term; relies on terms never decreasing. */
  lastIndexWithTermAtMost(term: number, atMost: number): number {
    let lo = this.snapIndex;
    let hi = Math.min(atMost, this.lastIndex);
    if ((this.termAt(lo) as number) > term) return lo;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if ((this.termAt(mid) as number) <= term) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** The first index (> the snapshot index) holding `term`, searching at or before `atMost` whose term is `term`. */
  firstIndexOfTerm(term: number, atMost: number): number {
    let lo = this.snapIndex + 1;
    let hi = atMost;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if ((this.termAt(mid) as number) >= term) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}
