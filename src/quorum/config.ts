// The cluster-wide settings of the leaderless store and their checks: replication (N, R, W),
// placement (Q partitions), which safety nets are on (sloppy quorum, hinted handoff, read
// repair, anti-entropy), their timings, and each bucket's type. Every node builds the same
// ring from the same members and settings.
import { LOCAL_GOSSIP_CONFIG, resolveGossipConfig, type GossipConfig } from '../gossip/config.js';
import { failQuorum } from './errors.js';
import type { StateKind } from './versions.js';

/** A bucket's type: plain (dotted version vectors, siblings), last-writer-wins, or a CRDT. */
export type BucketType = 'plain' | 'lww' | 'counter' | 'orset';

export interface QuorumConfig {
  /** N: home replicas of each key. */
  readonly replicas: number;
  /** R and W when a request names none. */
  readonly readQuorum: number;
  readonly writeQuorum: number;
  /** Q: equal partitions of the hash ring (Dynamo's strategy 3); at least the member count. */
  readonly partitionCount: number;
  /** Nodes after the N home replicas in each preference list, to stand in for home replicas that are down. */
  readonly standIns: number;
  /** Writes count acknowledgements of stand-ins (which keep a hint for the home replica) toward W. Off by default: see docs/quorum.md. */
  readonly sloppyQuorum: boolean;
  /** Without sloppy quorum, the coordinator itself keeps hints for home replicas that missed a write. */
  readonly hintedHandoff: boolean;
  /** After a read, write the merged version back to replicas that answered with an older one. */
  readonly readRepair: boolean;
  /** How long a coordinator waits for R or W answers. */
  readonly requestTimeoutMs: number;
  /**
   * How a node tells which peers are up: 'heartbeat' (every node pings every other each
   * pingIntervalMs; a peer not heard from for suspectAfterMs is down: N² messages a round) or
   * 'swim' (SWIM with Lifeguard from src/gossip on the same transport: a peer is up while the
   * gossip membership holds it alive; the ring epoch rides in each member's metadata; about 2
   * messages per node per probe interval whatever N).
   */
  readonly liveness: 'heartbeat' | 'swim';
  /** The gossip configuration under `liveness: 'swim'`, over the local preset (probe every 500 ms). */
  readonly gossip: Partial<GossipConfig>;
  /** Heartbeats between nodes; a peer not heard from for `suspectAfterMs` is treated as down. */
  readonly pingIntervalMs: number;
  readonly suspectAfterMs: number;
  /** Hints older than this are dropped undelivered (Cassandra's max_hint_window); anti-entropy repairs what they carried. */
  readonly hintWindowMs: number;
  readonly hintRetryIntervalMs: number;
  /** Between two anti-entropy exchanges started by a node (0: none). */
  readonly antiEntropyIntervalMs: number;
  /** Depth of each partition's Merkle tree (fan-out 16): 16^depth leaves; about 8 keys per leaf is right. */
  readonly antiEntropyTreeDepth: number;
  /** A key holding only tombstones is collected this long after the tombstone arrived, once every home replica has it. */
  readonly tombstoneGraceMs: number;
  readonly maxSiblings: number;
  readonly maxValueLength: number;
  /** LWW writes refuse a stored stamp further ahead of the local clock than this (HLC). */
  readonly maxClockOffsetMs: number;
  /** Buckets with a type other than plain. */
  readonly buckets: Readonly<Record<string, BucketType>>;
}

export const DEFAULT_QUORUM_CONFIG: QuorumConfig = {
  replicas: 3,
  readQuorum: 2,
  writeQuorum: 2,
  partitionCount: 64,
  standIns: 2,
  sloppyQuorum: false,
  hintedHandoff: true,
  readRepair: true,
  requestTimeoutMs: 1_000,
  liveness: 'heartbeat',
  gossip: {},
  pingIntervalMs: 200,
  suspectAfterMs: 1_000,
  hintWindowMs: 3 * 60 * 60 * 1000,
  hintRetryIntervalMs: 500,
  antiEntropyIntervalMs: 2_000,
  antiEntropyTreeDepth: 3,
  tombstoneGraceMs: 10 * 24 * 60 * 60 * 1000,
  maxSiblings: 32,
  maxValueLength: 64 * 1024,
  maxClockOffsetMs: 500,
  buckets: {},
};

/** The gossip settings a node runs under `liveness: 'swim'`: the local preset, probing every 500 ms, then `config.gossip`. */
export function quorumGossipConfig(config: Pick<QuorumConfig, 'gossip'>): GossipConfig {
  return resolveGossipConfig({ probeIntervalMs: 500, ...config.gossip }, LOCAL_GOSSIP_CONFIG);
}

export const BUCKET_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/** Fills the defaults and checks the result; throws QUORUM_INVALID_OPTION naming the field. */
export function resolveQuorumConfig(partial: Partial<QuorumConfig> = {}, memberCount = 1): QuorumConfig {
  const c: QuorumConfig = { ...DEFAULT_QUORUM_CONFIG, ...partial };
  const int = (name: keyof QuorumConfig, min: number, max: number): void => {
    const v = c[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) failQuorum('QUORUM_INVALID_OPTION', `${name} is an integer from ${min} to ${max}, got ${String(v)}`);
  };
  int('replicas', 1, 16);
  int('readQuorum', 1, c.replicas);
  int('writeQuorum', 1, c.replicas);
  int('partitionCount', Math.max(1, memberCount), 1 << 16);
  int('standIns', 0, 16);
  for (const name of ['requestTimeoutMs', 'pingIntervalMs', 'suspectAfterMs', 'hintRetryIntervalMs'] as const) int(name, 1, 24 * 60 * 60 * 1000);
  int('hintWindowMs', 0, 365 * 24 * 60 * 60 * 1000);
  int('antiEntropyIntervalMs', 0, 24 * 60 * 60 * 1000);
  int('tombstoneGraceMs', 0, 365 * 24 * 60 * 60 * 1000);
  int('antiEntropyTreeDepth', 1, 5);
  int('maxSiblings', 1, 1000);
  int('maxValueLength', 1, 16 * 1024 * 1024);
  int('maxClockOffsetMs', 0, 24 * 60 * 60 * 1000);
  if (c.liveness !== 'heartbeat' && c.liveness !== 'swim') failQuorum('QUORUM_INVALID_OPTION', `liveness is "heartbeat" or "swim", got ${JSON.stringify(c.liveness)}`);
  if (typeof c.gossip !== 'object' || c.gossip === null || Array.isArray(c.gossip)) failQuorum('QUORUM_INVALID_OPTION', 'gossip is an object of gossip settings (docs/gossip.md)');
  try {
    quorumGossipConfig(c);
  } catch (err) {
    failQuorum('QUORUM_INVALID_OPTION', `gossip: ${(err as Error).message}`);
  }
  for (const flag of ['sloppyQuorum', 'hintedHandoff', 'readRepair'] as const) {
    if (typeof c[flag] !== 'boolean') failQuorum('QUORUM_INVALID_OPTION', `${flag} is true or false`);
  }
  // a hint delivered after the tombstone it predates was collected would bring the key back
  if (c.tombstoneGraceMs <= c.hintWindowMs) failQuorum('QUORUM_INVALID_OPTION', `tombstoneGraceMs (${c.tombstoneGraceMs}) must exceed hintWindowMs (${c.hintWindowMs}), or a late hint could resurrect a deleted key`);
  for (const [name, type] of Object.entries(c.buckets)) {
    if (!BUCKET_NAME.test(name)) failQuorum('QUORUM_INVALID_OPTION', `bucket name ${JSON.stringify(name)} must match ${BUCKET_NAME.source}`);
    if (!['plain', 'lww', 'counter', 'orset'].includes(type)) failQuorum('QUORUM_INVALID_OPTION', `bucket ${name}: type is plain, lww, counter or orset`);
  }
  return c;
}

export function bucketType(config: QuorumConfig, bucket: string): BucketType {
  return Object.hasOwn(config.buckets, bucket) ? (config.buckets[bucket] as BucketType) : 'plain';
}

export function stateKindOf(type: BucketType): StateKind {
  return type === 'plain' ? 'dvv' : type;
}
