// Public surface of src/quorum (`synod/quorum`): the leaderless (Dynamo-style) store's sans-I/O
// core — coordinator and replica in one node, dotted version vectors, LWW and CRDT buckets, read
// repair, hinted handoff, sloppy quorum, Merkle anti-entropy, tombstones — its simulation, and
// the PBS model of its staleness (docs/quorum.md, docs/pbs.md).
export { decodeContext, decodeKeyState, encodeContext, MAX_ACTOR_LENGTH, MAX_CONTEXT_LENGTH, MAX_STATE_ITEMS, MAX_VV_ENTRIES } from './codec.js';
export { BUCKET_NAME, bucketType, DEFAULT_QUORUM_CONFIG, resolveQuorumConfig, type BucketType, type QuorumConfig } from './config.js';
export { failQuorum, QuorumError, type QuorumErrorCode } from './errors.js';
export {
  bootstrapRecord,
  claimantOf,
  commitRecord,
  decodeRingRecord,
  proposeJoin,
  proposeLeave,
  ringMembersOf,
  type MemberAddresses,
  type RingAssignment,
  type RingRecord,
} from './membership.js';
export type { Hint, QuorumMessage, QuorumPersistOp } from './messages.js';
export { digestOf, QuorumNode, type QuorumNodeView } from './node.js';
export { decodeQuorumRequest, MAX_KEY_LENGTH, replicasFor, storeKeyOf, type Level, type QuorumRequest, type QuorumResponse, type RingStatus } from './requests.js';
export { quorumSpec, QUORUM_TICK_INTERVAL_MS } from './spec.js';
export {
  canonicalText,
  covers,
  EMPTY_COUNTER,
  EMPTY_DVV,
  EMPTY_ORSET,
  joinVv,
  mergeStates,
  readView,
  type CounterState,
  type Dot,
  type DvvState,
  type KeyState,
  type LwwState,
  type OrSetState,
  type ReadView,
  type Sibling,
  type VersionVector,
} from './versions.js';
export { QUORUM_BUCKET, QuorumCluster, SIM_QUORUM_CONFIG, type QuorumClusterOptions, type QuorumLoad } from './sim/cluster.js';
export { QUORUM_CHAOS, QUORUM_CHAOS_LOAD, quorumSimProtocol, runQuorumChaos, type QuorumChaosOptions } from './sim/chaos.js';
export * as merkle from './merkle/index.js';
export * as pbs from './pbs/index.js';
