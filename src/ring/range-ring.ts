// The range partitioner: ordered keys cut into contiguous ranges [start, next start), each held
// by one node, as Bigtable, HBase and CockroachDB do. Ranges split (no data moves: both halves
// stay with their holder) and merge (the right half's data moves if its holder differs); a key's
// preference list is its range's holder and then the holders of the following ranges, distinct.
// A joining node takes whole ranges from the nodes holding the most; a leaving node's ranges go
// to the nodes holding the fewest. Keys compare as JavaScript strings (UTF-16 code units).
import { failRing } from './errors.js';
import { checkMember, checkNewMember, checkPreferenceLength, describeValue, walkDistinct, type NodeId, type Ring } from './types.js';

export const MAX_RANGES = 2 ** 20;
export const MAX_KEY_LENGTH = 4_096;

/** One range: keys from `start` (inclusive) to the next range's start (exclusive; the last runs to the end). */
export interface KeyRange {
  readonly start: string;
  readonly holder: NodeId;
}

export class RangeRing implements Ring {
  readonly strategy = 'ranges' as const;

  private constructor(
    readonly members: readonly NodeId[],
    /** Ascending by start; the first starts at '' (every key is in exactly one range). */
    private readonly ranges: readonly KeyRange[],
  ) {}

  /** One range per member, cut at `splitKeys` (ascending, distinct, non-empty), dealt out in member order. */
  static of(members: readonly NodeId[], splitKeys: readonly string[] = []): RangeRing {
    if (members.length === 0) failRing('RING_EMPTY', 'a ring needs at least one member');
    const seen: NodeId[] = [];
    for (const id of members) {
      checkNewMember(seen, id);
      seen.push(id);
    }
    if (splitKeys.length + 1 > MAX_RANGES) failRing('RING_INVALID_OPTION', `a ring holds at most ${MAX_RANGES} ranges`);
    const starts = ['', ...splitKeys];
    for (let i = 1; i < starts.length; i++) {
      checkKey(starts[i]);
      if (!((starts[i - 1] as string) < (starts[i] as string))) failRing('RING_INVALID_RANGE', `split keys must be ascending and distinct: ${describeValue(starts[i])} after ${describeValue(starts[i - 1])}`);
    }
    return new RangeRing(seen, starts.map((start, i) => ({ start, holder: seen[i % seen.length] as NodeId })));
  }

  get rangeCount(): number {
    return this.ranges.length;
  }

  /** The ranges, ascending by start. */
  list(): readonly KeyRange[] {
    return this.ranges;
  }

  /** The index of the range holding `key`: the last one starting at or before it. */
  rangeIndexOf(key: string): number {
    let lo = 0;
    let hi = this.ranges.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.ranges[mid] as KeyRange).start <= key) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  preferenceList(key: string, length: number): NodeId[] {
    checkPreferenceLength(length);
    return walkDistinct((i) => (this.ranges[i] as KeyRange).holder, this.ranges.length, this.rangeIndexOf(key), length, this.members.length);
  }

  /** How many ranges each member holds. */
  rangeCounts(): Map<NodeId, number> {
    const counts = new Map<NodeId, number>(this.members.map((m) => [m, 0]));
    for (const r of this.ranges) counts.set(r.holder, (counts.get(r.holder) ?? 0) + 1);
    return counts;
  }

  /** Cuts the range holding `at` in two at `at`; both halves stay with its holder. */
  split(at: string): RangeRing {
    checkKey(at);
    const i = this.rangeIndexOf(at);
    const range = this.ranges[i] as KeyRange;
    if (range.start === at) failRing('RING_INVALID_RANGE', `a range already starts at ${describeValue(at)}`);
    if (this.ranges.length >= MAX_RANGES) failRing('RING_INVALID_OPTION', `a ring holds at most ${MAX_RANGES} ranges`);
    const ranges = [...this.ranges];
    ranges.splice(i + 1, 0, { start: at, holder: range.holder });
    return new RangeRing(this.members, ranges);
  }

  /** Joins the range starting at `start` to the one before it, which keeps its holder. */
  merge(start: string): RangeRing {
    const i = this.indexStartingAt(start);
    if (i === 0) failRing('RING_INVALID_RANGE', 'the first range has nothing before it to merge into');
    const ranges = [...this.ranges];
    ranges.splice(i, 1);
    return new RangeRing(this.members, ranges);
  }

  /** Hands the range starting at `start` to `holder` (a member). */
  assign(start: string, holder: NodeId): RangeRing {
    const i = this.indexStartingAt(start);
    if (!this.members.includes(holder)) failRing('RING_UNKNOWN_NODE', `node ${JSON.stringify(holder)} is not a member of the ring`);
    const ranges = [...this.ranges];
    ranges[i] = { start, holder };
    return new RangeRing(this.members, ranges);
  }

  withNode(id: NodeId): RangeRing {
    checkNewMember(this.members, id);
    const members = [...this.members, id];
    const counts = this.rangeCounts();
    const wanted = Math.floor(this.ranges.length / members.length);
    const ranges = [...this.ranges];
    // take from the member holding the most, its ranges in key order spread over its share
    for (let taken = 0; taken < wanted; taken++) {
      const donor = mostHeld(this.members, counts);
      const at = pickSpread(ranges, donor, taken);
      ranges[at] = { start: (ranges[at] as KeyRange).start, holder: id };
      counts.set(donor, (counts.get(donor) as number) - 1);
    }
    return new RangeRing(members, ranges);
  }

  withoutNode(id: NodeId): RangeRing {
    checkMember(this.members, id);
    const members = this.members.filter((m) => m !== id);
    const counts = this.rangeCounts();
    counts.delete(id);
    const ranges = this.ranges.map((r) => {
      if (r.holder !== id) return r;
      const receiver = fewestHeld(members, counts);
      counts.set(receiver, (counts.get(receiver) as number) + 1);
      return { start: r.start, holder: receiver };
    });
    return new RangeRing(members, ranges);
  }

  private indexStartingAt(start: string): number {
    const i = this.rangeIndexOf(start);
    if (i < 0 || (this.ranges[i] as KeyRange).start !== start) failRing('RING_INVALID_RANGE', `no range starts at ${describeValue(start)}`);
    return i;
  }
}

function checkKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH) {
    failRing('RING_INVALID_RANGE', `a split key is a string of 1 to ${MAX_KEY_LENGTH} characters, got ${describeValue(key)}`);
  }
}

function mostHeld(members: readonly NodeId[], counts: ReadonlyMap<NodeId, number>): NodeId {
  let best = members[0] as NodeId;
  for (const m of members) if ((counts.get(m) ?? 0) > (counts.get(best) ?? 0)) best = m;
  return best;
}

function fewestHeld(members: readonly NodeId[], counts: ReadonlyMap<NodeId, number>): NodeId {
  let best = members[0] as NodeId;
  for (const m of members) if ((counts.get(m) ?? 0) < (counts.get(best) ?? 0)) best = m;
  return best;
}

/** One of `holder`'s ranges, the `nth` taken so far deciding which, so successive takes spread over the key space. */
function pickSpread(ranges: readonly KeyRange[], holder: NodeId, nth: number): number {
  const held: number[] = [];
  for (let i = 0; i < ranges.length; i++) if ((ranges[i] as KeyRange).holder === holder) held.push(i);
  // a golden-ratio step over the holder's ranges: successive picks land far apart
  return held[Math.floor(((nth * 0.618) % 1) * held.length)] as number;
}
