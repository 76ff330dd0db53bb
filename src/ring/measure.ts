// How well a ring spreads load and how much a change moves: exactly over the hash space for hash
// rings (each segment weighted by its length), or over a sample of keys for any ring. These are
// the numbers `npm run bench -- ring` reports against Dynamo's goals.
import { assertInvariant } from '../core/assert.js';
import { RING_SIZE } from './hash.js';
import type { HashRing, NodeId, Ring } from './types.js';

export interface LoadReport {
  /** Each member's share of the key space (primaries) or of all replica placements. */
  readonly shares: ReadonlyMap<NodeId, number>;
  /** The largest share over the mean share: 1 is perfect balance. */
  readonly maxOverMean: number;
}

export interface MoveReport {
  /** Share of keys whose first preference (primary) changed. */
  readonly primaryMoved: number;
  /** Share of replica placements that are new after the change: data that must be copied. */
  readonly replicaMoved: number;
}

/** Load of a hash ring per member, with `replicas` placements per key (1: primaries only). */
export function hashLoad(ring: HashRing, replicas: number): LoadReport {
  const weights = new Map<NodeId, number>(ring.members.map((m) => [m, 0]));
  forEachPiece([ring.segmentStarts()], (start, end) => {
    for (const node of ring.preferenceListAt(start, replicas)) weights.set(node, (weights.get(node) ?? 0) + (end - start));
  });
  return loadOf(weights, RING_SIZE * Math.min(replicas, ring.members.length));
}

/** What changes hands between two hash rings, exactly: each piece between both rings' boundaries weighed by its length. */
export function hashMoves(before: HashRing, after: HashRing, replicas: number): MoveReport {
  let primaryMoved = 0;
  let replicaMoved = 0;
  forEachPiece([before.segmentStarts(), after.segmentStarts()], (start, end) => {
    const was = before.preferenceListAt(start, replicas);
    const now = after.preferenceListAt(start, replicas);
    if (was[0] !== now[0]) primaryMoved += end - start;
    for (const node of now) if (!was.includes(node)) replicaMoved += end - start;
  });
  return { primaryMoved: primaryMoved / RING_SIZE, replicaMoved: replicaMoved / (RING_SIZE * Math.min(replicas, after.members.length)) };
}

/** Load per member over a sample of keys. */
export function sampleLoad(ring: Ring, keys: readonly string[], replicas: number): LoadReport {
  const weights = new Map<NodeId, number>(ring.members.map((m) => [m, 0]));
  for (const key of keys) for (const node of ring.preferenceList(key, replicas)) weights.set(node, (weights.get(node) ?? 0) + 1);
  return loadOf(weights, keys.length * Math.min(replicas, ring.members.length));
}

/** What changes hands between two rings over a sample of keys. */
export function sampleMoves(before: Ring, after: Ring, keys: readonly string[], replicas: number): MoveReport {
  let primaryMoved = 0;
  let replicaMoved = 0;
  for (const key of keys) {
    const was = before.preferenceList(key, replicas);
    const now = after.preferenceList(key, replicas);
    if (was[0] !== now[0]) primaryMoved++;
    for (const node of now) if (!was.includes(node)) replicaMoved++;
  }
  return { primaryMoved: primaryMoved / keys.length, replicaMoved: replicaMoved / (keys.length * Math.min(replicas, after.members.length)) };
}

function loadOf(weights: ReadonlyMap<NodeId, number>, total: number): LoadReport {
  const shares = new Map<NodeId, number>();
  let max = 0;
  for (const [node, weight] of weights) {
    shares.set(node, weight / total);
    max = Math.max(max, weight / total);
  }
  return { shares, maxOverMean: max * weights.size };
}

/** Calls `visit(start, end)` for each piece of [0, RING_SIZE) between the merged boundaries (each list sorted, starting at 0). */
function forEachPiece(boundaryLists: readonly (readonly number[])[], visit: (start: number, end: number) => void): void {
  const merged = [...new Set(boundaryLists.flat())].sort((a, b) => a - b);
  assertInvariant(merged[0] === 0, () => 'segment boundaries start at 0');
  for (let i = 0; i < merged.length; i++) visit(merged[i] as number, i + 1 < merged.length ? (merged[i + 1] as number) : RING_SIZE);
}
