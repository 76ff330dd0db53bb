// The store's ring record: which nodes own which partitions, at which epoch, and — while a
// change is under way — the ring it moves to. One node (the claimant, the first member) makes
// every change, so epochs never fork; nodes spread the record by gossip and keep the highest.
import type { NodeId } from '../core/index.js';
import { isRingError } from '../ring/errors.js';
import { PartitionRing } from '../ring/partition-ring.js';
import type { QuorumConfig } from './config.js';
import { failQuorum } from './errors.js';

/** Where a member listens, carried with the record so that every node can reach one that joined. */
export interface MemberAddresses {
  readonly peer: string;
  readonly client: string;
}

export interface RingAssignment {
  readonly members: readonly NodeId[];
  /** For each partition, the index in `members` of the node owning it. */
  readonly owners: readonly number[];
}

export interface RingRecord extends RingAssignment {
  readonly epoch: number;
  /** The ring being moved to: data streams from the current homes to the new ones until the claimant commits it. */
  readonly next?: RingAssignment;
  /** Members that left without handing off (they were down for good): the change does not wait for them. */
  readonly forced?: readonly NodeId[];
  /** Addresses of members that joined after bootstrap (the host connects to them). */
  readonly addresses?: Readonly<Record<NodeId, MemberAddresses>>;
}

const MAX_ADDRESS_LENGTH = 300;
const MAX_EPOCH = Number.MAX_SAFE_INTEGER;

export interface RingShape {
  readonly partitionCount: number;
  readonly targetN: number;
}

export function ringOptions(config: QuorumConfig): RingShape {
  return { partitionCount: config.partitionCount, targetN: Math.min(config.replicas, 16) };
}

/** Epoch 0: the bootstrap members dealt round-robin, as every bootstrap node computes alike. */
export function bootstrapRecord(members: readonly NodeId[], config: QuorumConfig): RingRecord {
  const ring = PartitionRing.of(members, ringOptions(config));
  return { epoch: 0, members: [...ring.members], owners: ring.ownerIndexes() };
}

export function ringOfAssignment(a: RingAssignment, config: QuorumConfig): PartitionRing {
  return PartitionRing.fromOwners(a.members, a.owners, ringOptions(config));
}

/** The claimant: the one member that makes changes and commits them (the first current member not forced out). */
export function claimantOf(record: RingRecord): NodeId {
  const forced = record.forced ?? [];
  return record.members.find((m) => !forced.includes(m)) ?? (record.members[0] as NodeId);
}

/** Who makes a change: the claimant, or — to force out the claimant itself, which is gone — the member after it. */
export function claimantFor(record: RingRecord, change: { readonly op: string; readonly node: NodeId; readonly force?: boolean }): NodeId {
  const claimant = claimantOf(record);
  if (change.op === 'ring-leave' && change.force === true && change.node === claimant) return record.members.find((m) => m !== claimant) ?? claimant;
  return claimant;
}

/** Every node the record names: current and next members. */
export function ringMembersOf(record: RingRecord): NodeId[] {
  return [...new Set([...record.members, ...(record.next?.members ?? [])])];
}

/** The record with `id` joining: a transition to the ring with it, which takes only the partitions it must. */
export function proposeJoin(record: RingRecord, id: NodeId, addresses: MemberAddresses | undefined, config: QuorumConfig): RingRecord {
  refuseWhileChanging(record);
  const next = wrapRingErrors(() => ringOfAssignment(record, config).withNode(id));
  const known = { ...record.addresses };
  if (addresses !== undefined) known[id] = addresses;
  return { ...stable(record), epoch: record.epoch + 1, next: { members: [...next.members], owners: next.ownerIndexes() }, ...(Object.keys(known).length === 0 ? {} : { addresses: known }) };
}

/** The record with `id` leaving; `force`: it is gone for good, the change does not wait for it to hand off. */
export function proposeLeave(record: RingRecord, id: NodeId, force: boolean, config: QuorumConfig): RingRecord {
  refuseWhileChanging(record);
  if (!record.members.includes(id)) failQuorum('QUORUM_BAD_REQUEST', `node ${JSON.stringify(id)} is not a member of the ring`);
  if (record.members.length - 1 < config.replicas) failQuorum('QUORUM_BAD_REQUEST', `after ${id} left, ${record.members.length - 1} members could not hold ${config.replicas} replicas of each key`);
  const next = wrapRingErrors(() => ringOfAssignment(record, config).withoutNode(id));
  return { ...stable(record), epoch: record.epoch + 1, next: { members: [...next.members], owners: next.ownerIndexes() }, ...(force ? { forced: [id] } : {}) };
}

/** The transition finished: the next ring becomes the ring. Addresses of members gone are dropped. */
export function commitRecord(record: RingRecord): RingRecord {
  const next = record.next;
  if (next === undefined) return record;
  const addresses = Object.fromEntries(Object.entries(record.addresses ?? {}).filter(([id]) => next.members.includes(id)));
  return { epoch: record.epoch + 1, members: next.members, owners: next.owners, ...(Object.keys(addresses).length === 0 ? {} : { addresses }) };
}

function stable(record: RingRecord): RingRecord {
  return { epoch: record.epoch, members: record.members, owners: record.owners, ...(record.addresses === undefined ? {} : { addresses: record.addresses }) };
}

function refuseWhileChanging(record: RingRecord): void {
  if (record.next !== undefined) failQuorum('QUORUM_RING_CHANGING', `the ring is already changing (epoch ${record.epoch}: to ${record.next.members.join(', ')}); wait until that change is committed`);
}

function wrapRingErrors<T>(f: () => T, code: 'QUORUM_BAD_REQUEST' | 'QUORUM_BAD_MESSAGE' = 'QUORUM_BAD_REQUEST'): T {
  try {
    return f();
  } catch (err) {
    if (isRingError(err)) failQuorum(code, err.message);
    throw err;
  }
}

/** A record from a peer or the log, checked field by field (and that its rings build); throws QUORUM_BAD_MESSAGE. */
export function decodeRingRecord(value: unknown, shape: RingShape): RingRecord {
  const r = value as Record<string, unknown> | null;
  if (typeof r !== 'object' || r === null) failQuorum('QUORUM_BAD_MESSAGE', 'a ring record is an object');
  const epoch = r['epoch'];
  if (typeof epoch !== 'number' || !Number.isInteger(epoch) || epoch < 0 || epoch > MAX_EPOCH) failQuorum('QUORUM_BAD_MESSAGE', 'a ring record has an epoch');
  const current = decodeAssignment(r, shape);
  const out: { -readonly [K in keyof RingRecord]: RingRecord[K] } = { epoch, ...current };
  if (r['next'] !== undefined) out.next = decodeAssignment(r['next'], shape);
  if (r['forced'] !== undefined) {
    const forced = r['forced'];
    if (!Array.isArray(forced) || forced.length > current.members.length || !forced.every((f) => typeof f === 'string' && current.members.includes(f))) failQuorum('QUORUM_BAD_MESSAGE', 'forced names current members');
    out.forced = forced as NodeId[];
  }
  if (r['addresses'] !== undefined) out.addresses = decodeAddresses(r['addresses'], [...current.members, ...(out.next?.members ?? [])]);
  return out;
}

function decodeAssignment(value: unknown, shape: RingShape): RingAssignment {
  const a = value as Record<string, unknown> | null;
  if (typeof a !== 'object' || a === null || !Array.isArray(a['members']) || !Array.isArray(a['owners'])) failQuorum('QUORUM_BAD_MESSAGE', 'a ring assignment has members and owners');
  const members = a['members'] as unknown[];
  const owners = a['owners'] as unknown[];
  // building the ring checks ids, duplicates, the partition count and every owner index
  const ring = wrapRingErrors(() => PartitionRing.fromOwners(members as NodeId[], owners as number[], shape), 'QUORUM_BAD_MESSAGE');
  return { members: [...ring.members], owners: ring.ownerIndexes() };
}

function decodeAddresses(value: unknown, members: readonly NodeId[]): Record<NodeId, MemberAddresses> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) failQuorum('QUORUM_BAD_MESSAGE', 'addresses is an object');
  const out: Record<NodeId, MemberAddresses> = {};
  for (const [id, a] of Object.entries(value)) {
    const entry = a as Record<string, unknown> | null;
    const text = (v: unknown): boolean => typeof v === 'string' && v.length > 0 && v.length <= MAX_ADDRESS_LENGTH;
    if (!members.includes(id) || typeof entry !== 'object' || entry === null || !text(entry['peer']) || !text(entry['client'])) failQuorum('QUORUM_BAD_MESSAGE', `addresses of ${id}: a member's { peer, client }`);
    out[id] = { peer: entry['peer'] as string, client: entry['client'] as string };
  }
  return out;
}
