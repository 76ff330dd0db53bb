// The shape of a Merkle tree: fan-out, depth and the ring segment it covers. Both replicas of a
// partition must build the same shape (from the partition's configuration, never from their own
// key counts), since only then do equal positions land in equal leaves and hashes compare.
import { assertInvariant } from '../../core/assert.js';
import { RING_SIZE } from '../../ring/hash.js';
import { describeValue, failMerkle, type MerkleErrorCode } from './errors.js';

/** Version of the hashing and message format; a change makes old and new trees different shapes. */
export const MERKLE_FORMAT = 1;
export const DEFAULT_FANOUT = 16;
/** 16^4 = 65,536 leaves: 1 to 8 keys per leaf for partitions of 65 thousand to half a million keys. */
export const DEFAULT_DEPTH = 4;
export const MIN_FANOUT = 2;
export const MAX_FANOUT = 256;
/** At most 2^20 leaves: offset x leaves stays below 2^53 (exact), and a replica's trees stay small. */
export const MAX_LEAVES = 2 ** 20;
/** The mean keys per leaf depthForKeys aims at, at most. */
export const TARGET_KEYS_PER_LEAF = 8;

export interface MerkleTreeOptions {
  /** Children per inner node: a power of two from 2 to 256 (default 16). */
  readonly fanout?: number;
  /** Levels below the root; the tree has fanout^depth leaves, at most 2^20 (default 4). */
  readonly depth?: number;
  /** First ring position the tree covers (default 0). */
  readonly start?: number;
  /** First ring position past the tree's segment (default 2^32): a partition's [start, end). */
  readonly end?: number;
}

/** Everything two trees must share to be compared; sent in the exchange's first message. */
export interface MerkleShape {
  readonly format: number;
  readonly fanout: number;
  readonly depth: number;
  readonly start: number;
  readonly end: number;
}

/** The shape for `options`, checked; throws MERKLE_INVALID_OPTION. */
export function shapeOf(options: MerkleTreeOptions = {}): MerkleShape {
  const shape = { format: MERKLE_FORMAT, fanout: options.fanout ?? DEFAULT_FANOUT, depth: options.depth ?? DEFAULT_DEPTH, start: options.start ?? 0, end: options.end ?? RING_SIZE };
  const problem = shapeProblem(shape);
  if (problem !== undefined) failMerkle('MERKLE_INVALID_OPTION', problem);
  return shape;
}

/** Checks an untrusted value (from a peer) is a shape this code can build; throws `code` saying what is wrong. */
export function decodeShape(value: unknown, code: MerkleErrorCode): MerkleShape {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) failMerkle(code, `a tree shape is an object, got ${describeValue(value)}`);
  const record = value as Record<string, unknown>;
  const fields = ['format', 'fanout', 'depth', 'start', 'end'] as const;
  const keys = Object.keys(record);
  if (keys.length !== fields.length || !fields.every((f) => keys.includes(f))) failMerkle(code, `a tree shape has exactly the fields ${fields.join(', ')}`);
  const shape = { format: record['format'], fanout: record['fanout'], depth: record['depth'], start: record['start'], end: record['end'] };
  if (shape.format !== MERKLE_FORMAT) failMerkle('MERKLE_SHAPE_MISMATCH', `tree format ${describeValue(shape.format)} is not this side's ${MERKLE_FORMAT}`);
  const problem = shapeProblem(shape);
  if (problem !== undefined) failMerkle(code, problem);
  return shape as MerkleShape;
}

function shapeProblem(shape: Record<keyof MerkleShape, unknown>): string | undefined {
  const { fanout, depth, start, end } = shape;
  if (typeof fanout !== 'number' || !Number.isInteger(fanout) || fanout < MIN_FANOUT || fanout > MAX_FANOUT || (fanout & (fanout - 1)) !== 0) {
    return `fanout is a power of two from ${MIN_FANOUT} to ${MAX_FANOUT}, got ${describeValue(fanout)}`;
  }
  if (typeof depth !== 'number' || !Number.isInteger(depth) || depth < 1 || fanout ** depth > MAX_LEAVES) {
    return `depth is an integer from 1 with fanout^depth at most ${MAX_LEAVES}, got ${describeValue(depth)} (fanout ${fanout})`;
  }
  if (typeof start !== 'number' || typeof end !== 'number' || !Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end <= start || end > RING_SIZE) {
    return `start and end are ring positions with 0 <= start < end <= 2^32, got ${describeValue(start)} and ${describeValue(end)}`;
  }
  return undefined;
}

export function sameShape(a: MerkleShape, b: MerkleShape): boolean {
  return a.format === b.format && a.fanout === b.fanout && a.depth === b.depth && a.start === b.start && a.end === b.end;
}

export function leafCount(shape: MerkleShape): number {
  return shape.fanout ** shape.depth;
}

/** Nodes at `level` (0: the root; depth: the leaves). */
export function nodeCount(shape: MerkleShape, level: number): number {
  return shape.fanout ** level;
}

/**
 * The smallest depth at which `expectedKeys` spread over the leaves average at most
 * TARGET_KEYS_PER_LEAF, capped by MAX_LEAVES. Feed it a number both replicas know (the
 * partition's expected size from the configuration), not a replica's own count.
 */
export function depthForKeys(expectedKeys: number, fanout = DEFAULT_FANOUT): number {
  if (!Number.isFinite(expectedKeys) || expectedKeys < 0) failMerkle('MERKLE_INVALID_OPTION', `expectedKeys is a non-negative number, got ${describeValue(expectedKeys)}`);
  shapeOf({ fanout, depth: 1 });
  let depth = 1;
  while (fanout ** (depth + 1) <= MAX_LEAVES && expectedKeys > TARGET_KEYS_PER_LEAF * fanout ** depth) depth++;
  return depth;
}

/**
 * The leaf of a ring position: floor((position - start) x leaves / (end - start)), so equal
 * sub-segments of [start, end) map to the leaves in order; undefined outside the segment. Exact
 * integer arithmetic (all values below 2^53), so every replica computes the same leaf.
 */
export function leafOfPosition(shape: MerkleShape, position: number): number | undefined {
  if (position < shape.start || position >= shape.end) return undefined;
  const offset = position - shape.start;
  const length = shape.end - shape.start;
  const scaled = offset * leafCount(shape);
  let leaf = Math.floor(scaled / length);
  // the division is rounded; step back onto the exact floor
  if (leaf * length > scaled) leaf--;
  else if ((leaf + 1) * length <= scaled) leaf++;
  assertInvariant(leaf >= 0 && leaf < leafCount(shape), () => `position ${position} mapped to leaf ${leaf} of ${leafCount(shape)}`);
  return leaf;
}
