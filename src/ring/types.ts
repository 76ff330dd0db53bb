// The shape every partitioner of src/ring shares: members, preference lists, and joining and
// leaving as new immutable rings, so that a host can compare the ring before and after a change
// and move exactly what changed hands.
import { failRing } from './errors.js';

/** A physical node's id (its vnodes, partitions or ranges all map back to it). */
export type NodeId = string;

/** How the key space is cut: random tokens (Dynamo's strategy 1), Q equal partitions (strategy 3), or ordered key ranges. */
export type RingStrategy = 'tokens' | 'partitions' | 'ranges';

export const MAX_NODE_ID_LENGTH = 200;
/** Members of one ring; the simulator and the benchmark go to 100, real clusters far below. */
export const MAX_MEMBERS = 10_000;
/** Longest preference list asked for: N replicas plus stand-ins. */
export const MAX_PREFERENCE_LENGTH = 1_000;

export interface Ring {
  readonly strategy: RingStrategy;
  /** Members in the order they joined (the order decides every assignment, so all nodes agree). */
  readonly members: readonly NodeId[];
  /**
   * The first `length` distinct physical nodes responsible for `key`, in preference order: the
   * first N are its home replicas, the rest stand in when some of those are down (sloppy quorum,
   * hinted handoff). Fewer when the ring has fewer members.
   */
  preferenceList(key: string, length: number): NodeId[];
  /** The ring with `id` joined: it takes over only what it must. */
  withNode(id: NodeId): Ring;
  /** The ring without `id`: only what `id` held changes hands. */
  withoutNode(id: NodeId): Ring;
}

/** A hash ring: keys are placed by their 32-bit position (see hash.ts). */
export interface HashRing extends Ring {
  readonly strategy: 'tokens' | 'partitions';
  /** The first `length` distinct nodes for a position on the ring. */
  preferenceListAt(position: number, length: number): NodeId[];
  /** Sorted starts of the ring's segments: positions where the preference list may change; the first is 0. */
  segmentStarts(): readonly number[];
}

export function checkNodeId(id: unknown): asserts id is NodeId {
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_NODE_ID_LENGTH) {
    failRing('RING_INVALID_NODE', `a node id is a string of 1 to ${MAX_NODE_ID_LENGTH} characters, got ${describeValue(id)}`);
  }
}

export function checkNewMember(members: readonly NodeId[], id: unknown): asserts id is NodeId {
  checkNodeId(id);
  if (members.includes(id)) failRing('RING_INVALID_NODE', `node ${JSON.stringify(id)} is already a member`);
  if (members.length >= MAX_MEMBERS) failRing('RING_INVALID_OPTION', `a ring holds at most ${MAX_MEMBERS} members`);
}

export function checkMember(members: readonly NodeId[], id: NodeId): void {
  if (!members.includes(id)) failRing('RING_UNKNOWN_NODE', `node ${JSON.stringify(id)} is not a member of the ring`);
  if (members.length === 1) failRing('RING_EMPTY', `node ${JSON.stringify(id)} is the ring's last member`);
}

export function checkPreferenceLength(length: number): void {
  if (!Number.isInteger(length) || length < 1 || length > MAX_PREFERENCE_LENGTH) {
    failRing('RING_INVALID_OPTION', `a preference list has 1 to ${MAX_PREFERENCE_LENGTH} nodes, got ${describeValue(length)}`);
  }
}

export function checkPosition(position: number): void {
  if (!Number.isInteger(position) || position < 0 || position >= 2 ** 32) {
    failRing('RING_INVALID_OPTION', `a ring position is an integer in [0, 2^32), got ${describeValue(position)}`);
  }
}

/** A short description of an untrusted value for an error message. */
export function describeValue(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined ? String(value) : typeof value;
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * Walks `count` owners starting at index `from` (wrapping) and collects the first `length`
 * distinct ones: the preference walk of every ring, skipping a node's other vnodes.
 */
export function walkDistinct(ownerAt: (index: number) => NodeId, count: number, from: number, length: number, memberCount: number): NodeId[] {
  const wanted = Math.min(length, memberCount);
  const picked: NodeId[] = [];
  for (let step = 0; step < count && picked.length < wanted; step++) {
    const owner = ownerAt((from + step) % count);
    if (!picked.includes(owner)) picked.push(owner);
  }
  return picked;
}
