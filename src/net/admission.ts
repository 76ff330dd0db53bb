// Admission of unauthenticated inbound connections: a table of pending handshakes bounded in
// total and per remote address group. A newcomer is never turned away; room is made by evicting
// the pending connection that has shown the least progress, oldest first, from the newcomer's own
// group when that group is full, else from the group holding the most slots (docs/net.md, Limits).
import { isIPv4, isIPv6 } from 'node:net';
import { assertInvariant, InvariantError } from '../core/index.js';

/**
 * How far an unauthenticated connection has got, in order: nothing received yet; TLS handshake
 * done with a certificate from the cluster CA; a valid hello received and challenged (waiting for
 * the proof). A legitimate dialer moves through these within a round trip or two.
 */
export type HandshakeProgress = 'connected' | 'secured' | 'hello';
const PROGRESS_RANK: Readonly<Record<HandshakeProgress, number>> = { connected: 0, secured: 1, hello: 2 };
const PROGRESS_NAMES: readonly HandshakeProgress[] = ['connected', 'secured', 'hello'];

export interface AdmissionLimits {
  /** Pending connections in total. */
  readonly maxPending: number;
  /** Pending connections from one address group. */
  readonly maxPerGroup: number;
}

/** The pending connections of one address group, by progress; each set iterates oldest first. */
interface Group {
  size: number;
  readonly byProgress: readonly [Set<unknown>, Set<unknown>, Set<unknown>];
}

export interface Eviction<T> {
  readonly victim: T;
  readonly victimGroup: string;
  readonly victimProgress: HandshakeProgress;
  /** The newcomer's group was full (rather than the whole table). */
  readonly groupFull: boolean;
}

/**
 * Every operation is O(1): groups are kept in buckets by size so the largest is found at once,
 * and insertion-ordered sets give the oldest entry of each progress class.
 */
export class AdmissionTable<T> {
  private readonly entries = new Map<T, { readonly group: string; progress: number }>();
  /** Every entry by progress, each set oldest first: the choice when all groups hold one slot. */
  private readonly byProgress: readonly [Set<T>, Set<T>, Set<T>] = [new Set(), new Set(), new Set()];
  private readonly groups = new Map<string, Group>();
  /** Group names by their size; `largest` is the highest non-empty bucket. */
  private readonly bySize = new Map<number, Set<string>>();
  private largest = 0;

  constructor(private readonly limits: AdmissionLimits) {}

  get size(): number {
    return this.entries.size;
  }

  groupSize(group: string): number {
    return this.groups.get(group)?.size ?? 0;
  }

  has(entry: T): boolean {
    return this.entries.has(entry);
  }

  /**
   * Adds `entry` (progress 'connected'). When its group or the table is full, first removes and
   * returns the entry the caller must close to make room.
   */
  admit(entry: T, group: string): Eviction<T> | null {
    let eviction: Eviction<T> | null = null;
    const own = this.groups.get(group);
    if (own !== undefined && own.size >= this.limits.maxPerGroup) {
      eviction = this.evictFrom(group, true);
    } else if (this.entries.size >= this.limits.maxPending) {
      // When every group holds one slot (as many addresses as slots), none stands out: take the
      // least advanced, oldest connection of the whole table.
      eviction = this.largest === 1 ? this.evictOldest(this.byProgress) : this.evictFrom(this.largestGroup(), false);
    }
    this.insert(entry, group);
    return eviction;
  }

  /** Records progress (never backwards), which moves the entry behind everything less advanced. */
  advance(entry: T, progress: HandshakeProgress): void {
    const state = this.entries.get(entry);
    const rank = PROGRESS_RANK[progress];
    if (state === undefined || rank <= state.progress) return;
    const group = this.groups.get(state.group) as Group;
    group.byProgress[state.progress]?.delete(entry);
    group.byProgress[rank]?.add(entry);
    this.byProgress[state.progress]?.delete(entry);
    this.byProgress[rank]?.add(entry);
    state.progress = rank;
  }

  /** Forgets an entry (authenticated, refused or closed); unknown entries are ignored. */
  remove(entry: T): void {
    const state = this.entries.get(entry);
    if (state === undefined) return;
    this.entries.delete(entry);
    this.byProgress[state.progress]?.delete(entry);
    const group = this.groups.get(state.group) as Group;
    group.byProgress[state.progress]?.delete(entry);
    this.resize(state.group, group, group.size - 1);
    if (group.size === 0) this.groups.delete(state.group);
  }

  private insert(entry: T, groupName: string): void {
    let group = this.groups.get(groupName);
    if (group === undefined) {
      group = { size: 0, byProgress: [new Set(), new Set(), new Set()] };
      this.groups.set(groupName, group);
    }
    group.byProgress[0].add(entry);
    this.byProgress[0].add(entry);
    this.entries.set(entry, { group: groupName, progress: 0 });
    this.resize(groupName, group, group.size + 1);
  }

  /** Removes the least advanced, oldest entry of `groupName`. */
  private evictFrom(groupName: string, groupFull: boolean): Eviction<T> {
    return { ...this.evictOldest((this.groups.get(groupName) as Group).byProgress as readonly Set<T>[]), groupFull };
  }

  /** Removes the first entry of the least advanced non-empty set. */
  private evictOldest(byProgress: readonly Set<T>[]): Eviction<T> {
    for (let rank = 0; rank < byProgress.length; rank++) {
      const first = byProgress[rank]?.values().next();
      if (first === undefined || first.done === true) continue;
      const victim = first.value;
      const victimGroup = (this.entries.get(victim) as { group: string }).group;
      this.remove(victim);
      return { victim, victimGroup, victimProgress: PROGRESS_NAMES[rank] as HandshakeProgress, groupFull: false };
    }
    throw new InvariantError('admission table: evicting from an empty set of entries');
  }

  private largestGroup(): string {
    const names = this.bySize.get(this.largest);
    const first = names?.values().next();
    assertInvariant(first !== undefined && first.done !== true, () => 'admission table: full but no group is counted');
    return first.value;
  }

  private resize(name: string, group: Group, size: number): void {
    const before = this.bySize.get(group.size);
    before?.delete(name);
    if (before !== undefined && before.size === 0) this.bySize.delete(group.size);
    group.size = size;
    if (size > 0) {
      let after = this.bySize.get(size);
      if (after === undefined) {
        after = new Set();
        this.bySize.set(size, after);
      }
      after.add(name);
    }
    // Sizes change by one at a time, so when the largest bucket empties the next is one below.
    if (size > this.largest) this.largest = size;
    while (this.largest > 0 && !this.bySize.has(this.largest)) this.largest -= 1;
  }
}

/**
 * The unit a per-address limit counts: an IPv4 address, or an IPv6 /64 (the smallest block a
 * host is usually given, so one attacker rarely controls many). IPv4-mapped IPv6 counts as IPv4.
 */
export function addressGroup(address: string): string {
  const bare = address.split('%')[0] as string; // an IPv6 zone index names an interface, not a host
  const lower = bare.toLowerCase();
  if (isIPv4(lower)) return lower;
  if (lower.startsWith('::ffff:') && isIPv4(lower.slice(7))) return lower.slice(7);
  if (!isIPv6(lower)) return lower;
  const [head = '', tail] = lower.split('::') as [string, string | undefined];
  const headParts = head === '' ? [] : head.split(':');
  const tailParts = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? [] : new Array<string>(Math.max(0, 8 - headParts.length - tailParts.length)).fill('0');
  const parts = [...headParts, ...zeros, ...tailParts];
  return `${parts.slice(0, 4).map((part) => part.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}
