// Dynamo's strategy 3: the hash space is cut once into Q equal partitions and each node holds
// Q/S of them. A joining node takes partitions from the nodes holding the most, so each node
// keeps floor or ceil of Q/S; a leaving node's partitions go to the nodes holding the fewest.
// Where it can, no node holds two partitions within `targetN` of each other, so the first
// targetN partitions of any preference walk belong to distinct nodes (Riak's target_n_val).
import { assertInvariant } from '../core/assert.js';
import { failRing } from './errors.js';
import { positionOf, RING_SIZE } from './hash.js';
import { checkMember, checkNewMember, checkPosition, checkPreferenceLength, describeValue, walkDistinct, type HashRing, type NodeId } from './types.js';

export const MAX_PARTITIONS = 2 ** 20;
export const MAX_TARGET_N = 16;

export interface PartitionRingOptions {
  /** Q: the number of equal partitions, fixed for the ring's life (at least its member count). */
  readonly partitionCount: number;
  /** The replica count placement keeps apart (default 3). */
  readonly targetN?: number;
}

export class PartitionRing implements HashRing {
  readonly strategy = 'partitions' as const;

  private constructor(
    readonly members: readonly NodeId[],
    readonly targetN: number,
    /** owners[i]: the node holding partition i. */
    private readonly owners: readonly NodeId[],
  ) {}

  /**
   * A ring of `members` dealt round-robin over the partitions (so with at least targetN members
   * no window of targetN partitions repeats a node). Later joins and leaves go through withNode
   * and withoutNode, so a ring is its initial members plus its changes in order.
   */
  static of(members: readonly NodeId[], options: PartitionRingOptions): PartitionRing {
    const targetN = options.targetN ?? 3;
    const seen = checkedMembers(members, options.partitionCount, targetN);
    if (seen.length > options.partitionCount) failRing('RING_INVALID_OPTION', `a ring of ${options.partitionCount} partitions holds at most ${options.partitionCount} nodes`);
    return new PartitionRing(seen, targetN, Array.from({ length: options.partitionCount }, (_, i) => seen[i % seen.length] as NodeId));
  }

  /**
   * A ring from an explicit assignment (a ring another node computed and sent, e.g. the store's
   * ring record): owners[i] indexes `members` for partition i. Checked like any untrusted input.
   */
  static fromOwners(members: readonly NodeId[], ownerIndexes: readonly number[], options: PartitionRingOptions): PartitionRing {
    const targetN = options.targetN ?? 3;
    const seen = checkedMembers(members, options.partitionCount, targetN);
    if (!Array.isArray(ownerIndexes) || ownerIndexes.length !== options.partitionCount) failRing('RING_DECODE_FAILED', `an assignment names an owner for each of the ${options.partitionCount} partitions`);
    const owners = ownerIndexes.map((i) => {
      if (!Number.isInteger(i) || i < 0 || i >= seen.length) failRing('RING_DECODE_FAILED', `an owner is a member's index from 0 to ${seen.length - 1}, got ${describeValue(i)}`);
      return seen[i] as NodeId;
    });
    return new PartitionRing(seen, targetN, owners);
  }

  /** The assignment as member indexes per partition (what fromOwners takes back). */
  ownerIndexes(): number[] {
    const index = new Map(this.members.map((m, i) => [m, i]));
    return this.owners.map((o) => index.get(o) as number);
  }

  get partitionCount(): number {
    return this.owners.length;
  }

  /** The partition holding a position: floor(position * Q / 2^32). */
  partitionOf(position: number): number {
    return Math.floor((position * this.owners.length) / RING_SIZE);
  }

  /** The first position of partition `index`. */
  partitionStart(index: number): number {
    return Math.ceil((index * RING_SIZE) / this.owners.length);
  }

  ownerOfPartition(index: number): NodeId {
    const owner = this.owners[index];
    if (owner === undefined) failRing('RING_INVALID_RANGE', `no partition ${describeValue(index)} in a ring of ${this.owners.length}`);
    return owner;
  }

  /** How many partitions each member holds. */
  partitionCounts(): Map<NodeId, number> {
    const counts = new Map<NodeId, number>(this.members.map((m) => [m, 0]));
    for (const owner of this.owners) counts.set(owner, (counts.get(owner) ?? 0) + 1);
    return counts;
  }

  preferenceList(key: string, length: number): NodeId[] {
    return this.preferenceListAt(positionOf(key), length);
  }

  preferenceListAt(position: number, length: number): NodeId[] {
    checkPosition(position);
    checkPreferenceLength(length);
    return walkDistinct((i) => this.owners[i] as NodeId, this.owners.length, this.partitionOf(position), length, this.members.length);
  }

  segmentStarts(): number[] {
    const starts: number[] = [];
    for (let i = 0; i < this.owners.length; i++) {
      const start = this.partitionStart(i);
      if (starts[starts.length - 1] !== start) starts.push(start);
    }
    return starts;
  }

  withNode(id: NodeId): PartitionRing {
    checkNewMember(this.members, id);
    const q = this.owners.length;
    const members = [...this.members, id];
    if (members.length > q) failRing('RING_INVALID_OPTION', `a ring of ${q} partitions holds at most ${q} nodes`);
    const counts = this.partitionCounts();
    const wanted = Math.floor(q / members.length);
    const shed = quotas(this.members, counts, q - wanted, 'shed');
    const owners = [...this.owners];
    let taken = 0;
    // three passes over the partitions in a scattered order: first where taking also ends a
    // crowding (the holder has another partition within targetN), then wherever the spacing
    // holds for the new node, then anywhere
    for (const pass of ['uncrowd', 'spaced', 'any'] as const) {
      for (const i of scatteredOrder(q, positionOf(id))) {
        if (taken === wanted) break;
        const owner = owners[i] as NodeId;
        const left = shed.get(owner) ?? 0;
        if (left === 0) continue;
        if (pass !== 'any' && !this.spacedFrom(owners, i, id)) continue;
        if (pass === 'uncrowd' && this.spacedFrom(owners, i, owner)) continue;
        owners[i] = id;
        shed.set(owner, left - 1);
        taken++;
      }
    }
    assertInvariant(taken === wanted, () => `joining ${id} took ${taken} of ${wanted} partitions`);
    return new PartitionRing(members, this.targetN, owners);
  }

  withoutNode(id: NodeId): PartitionRing {
    checkMember(this.members, id);
    const members = this.members.filter((m) => m !== id);
    const counts = this.partitionCounts();
    counts.delete(id);
    const gain = quotas(members, counts, this.owners.length, 'gain');
    const owners = [...this.owners];
    for (let i = 0; i < owners.length; i++) {
      if (owners[i] !== id) continue;
      const receiver = this.pickReceiver(owners, i, members, gain);
      owners[i] = receiver;
      gain.set(receiver, (gain.get(receiver) as number) - 1);
    }
    return new PartitionRing(members, this.targetN, owners);
  }

  /** The member with quota left that keeps the spacing at `index`, most quota first; else any with quota. */
  private pickReceiver(owners: readonly NodeId[], index: number, members: readonly NodeId[], gain: ReadonlyMap<NodeId, number>): NodeId {
    let best: NodeId | undefined;
    let fallback: NodeId | undefined;
    for (const m of members) {
      const left = gain.get(m) ?? 0;
      if (left === 0) continue;
      if (fallback === undefined || left > (gain.get(fallback) as number)) fallback = m;
      if (this.spacedFrom(owners, index, m) && (best === undefined || left > (gain.get(best) as number))) best = m;
    }
    const picked = best ?? fallback;
    assertInvariant(picked !== undefined, () => `no member has room for partition ${index}`);
    return picked;
  }

  /** True when `id` holds none of the partitions within targetN - 1 of `index` on either side. */
  private spacedFrom(owners: readonly NodeId[], index: number, id: NodeId): boolean {
    const q = owners.length;
    const reach = Math.min(this.targetN - 1, Math.floor((q - 1) / 2));
    for (let d = 1; d <= reach; d++) {
      if (owners[(index + d) % q] === id || owners[(index - d + q) % q] === id) return false;
    }
    return true;
  }
}

/** The options and the member list checked: ids valid and distinct, at least one. */
function checkedMembers(members: readonly NodeId[], partitionCount: number, targetN: number): NodeId[] {
  checkOptions(partitionCount, targetN);
  if (members.length === 0) failRing('RING_EMPTY', 'a ring needs at least one member');
  const seen: NodeId[] = [];
  for (const id of members) {
    checkNewMember(seen, id);
    seen.push(id);
  }
  return seen;
}

function checkOptions(partitionCount: number, targetN: number): void {
  if (!Number.isInteger(partitionCount) || partitionCount < 1 || partitionCount > MAX_PARTITIONS) {
    failRing('RING_INVALID_OPTION', `partitionCount is an integer from 1 to ${MAX_PARTITIONS}, got ${describeValue(partitionCount)}`);
  }
  if (!Number.isInteger(targetN) || targetN < 1 || targetN > MAX_TARGET_N) {
    failRing('RING_INVALID_OPTION', `targetN is an integer from 1 to ${MAX_TARGET_N}, got ${describeValue(targetN)}`);
  }
}

/**
 * How many partitions each of `members` sheds ('shed') or gains ('gain') so that together they
 * hold `total`, each floor or ceil of the mean: the ones holding most keep the ceilings.
 */
function quotas(members: readonly NodeId[], counts: ReadonlyMap<NodeId, number>, total: number, kind: 'shed' | 'gain'): Map<NodeId, number> {
  const base = Math.floor(total / members.length);
  let ceilings = total - base * members.length;
  const byCount = [...members].sort((a, b) => (counts.get(b) ?? 0) - (counts.get(a) ?? 0) || members.indexOf(a) - members.indexOf(b));
  const out = new Map<NodeId, number>();
  for (const m of byCount) {
    const target = base + (ceilings > 0 ? 1 : 0);
    if (ceilings > 0) ceilings--;
    const delta = kind === 'shed' ? (counts.get(m) ?? 0) - target : target - (counts.get(m) ?? 0);
    out.set(m, Math.max(0, delta));
  }
  return out;
}

/** Every index of [0, q) once, in a scattered order starting near `seed`: steps by a stride coprime to q near q/phi. */
function* scatteredOrder(q: number, seed: number): Generator<number> {
  let stride = Math.max(1, Math.floor(q * 0.618));
  for (let tries = 0; tries < q && gcd(stride, q) !== 1; tries++) stride = (stride % q) + 1;
  let i = seed % q;
  for (let k = 0; k < q; k++) {
    yield i;
    i = (i + stride) % q;
  }
}

function gcd(a: number, b: number): number {
  let x = a;
  let y = b;
  while (y !== 0) [x, y] = [y, x % y];
  return x;
}
