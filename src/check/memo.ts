// The search's memo: a hash set of (linearized set, state id) configurations already explored,
// in flat Int32Arrays, allocating only to grow. Large sets are stored as the window of bitset
// words between the first word not full and the last not empty, so long histories stay small.
import { mix32 } from './hash.js';

const EMPTY = 0;
const MAX_LOAD = 0.5;
/** Per entry: [hash, state, first word index, word count, ...words]. */
const HEADER = 4;

/** Which words of a linearized-set bitset identify it: the others are all ones (below) or zeros (above). */
export interface WordWindow {
  readonly bits: Int32Array;
  /** First word that is not all ones. */
  readonly lowWord: number;
  /** Last word that is not zero (< lowWord when there is none above the full ones). */
  readonly highWord: number;
}

export class ConfigurationSet {
  private arena: Int32Array;
  private used = 0;
  /** Pairs [hash, arena offset + 1 or EMPTY]: a probe reads the arena only when hashes agree. */
  private slots: Int32Array;
  private mask: number;
  size = 0;

  constructor(initialSlots = 1 << 10) {
    this.slots = new Int32Array(2 * initialSlots);
    this.mask = initialSlots - 1;
    this.arena = new Int32Array(initialSlots * 4);
  }

  /** Bytes held by the table, for the memory budget. */
  get bytes(): number {
    return this.arena.byteLength + this.slots.byteLength;
  }

  /** Adds the configuration unless present; true when it was new. `setHash` is the XOR hash of the set. */
  add(set: WordWindow, setHash: number, state: number): boolean {
    const hash = mix32(setHash ^ Math.imul(state + 1, 0x27d4eb2f));
    const count = Math.max(0, set.highWord - set.lowWord + 1);
    const slots = this.slots;
    let slot = hash & this.mask;
    for (let found = slots[2 * slot + 1]!; found !== EMPTY; found = slots[2 * slot + 1]!) {
      if (slots[2 * slot] === hash && this.matches(found - 1, state, set, count)) return false;
      slot = (slot + 1) & this.mask;
    }
    if (this.size + 1 > this.capacity * MAX_LOAD) {
      this.rehash(this.capacity * 2);
      slot = this.freeSlot(hash);
    }
    this.slots[2 * slot] = hash;
    this.slots[2 * slot + 1] = this.store(hash, state, set, count) + 1;
    this.size++;
    return true;
  }

  private get capacity(): number {
    return this.mask + 1;
  }

  private matches(at: number, state: number, set: WordWindow, count: number): boolean {
    const arena = this.arena;
    if (arena[at + 1] !== state || arena[at + 2] !== set.lowWord || arena[at + 3] !== count) return false;
    const bits = set.bits;
    const base = at + HEADER - set.lowWord;
    for (let w = set.lowWord; w < set.lowWord + count; w++) if (arena[base + w] !== bits[w]) return false;
    return true;
  }

  private store(hash: number, state: number, set: WordWindow, count: number): number {
    if (this.used + HEADER + count > this.arena.length) this.growArena(HEADER + count);
    const at = this.used;
    const arena = this.arena;
    arena[at] = hash;
    arena[at + 1] = state;
    arena[at + 2] = set.lowWord;
    arena[at + 3] = count;
    for (let k = 0; k < count; k++) arena[at + HEADER + k] = set.bits[set.lowWord + k]!;
    this.used += HEADER + count;
    return at;
  }

  private growArena(needed: number): void {
    const arena = new Int32Array(Math.max(this.arena.length * 4, this.used + needed));
    arena.set(this.arena.subarray(0, this.used));
    this.arena = arena;
  }

  private freeSlot(hash: number): number {
    let slot = hash & this.mask;
    while (this.slots[2 * slot + 1] !== EMPTY) slot = (slot + 1) & this.mask;
    return slot;
  }

  private rehash(capacity: number): void {
    this.slots = new Int32Array(2 * capacity);
    this.mask = capacity - 1;
    for (let at = 0; at < this.used; at += HEADER + this.arena[at + 3]!) {
      const slot = this.freeSlot(this.arena[at]!);
      this.slots[2 * slot] = this.arena[at]!;
      this.slots[2 * slot + 1] = at + 1;
    }
  }
}
