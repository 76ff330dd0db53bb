// Public surface of src/ring (`synod/ring`): where keys live in a leaderless store. Consistent
// hashing with vnodes, Dynamo's Q equal partitions, ordered key ranges; preference lists of
// distinct nodes; joins and leaves that move only what they must, and the measures of both.
export { buildRing, decodeRingConfig, DEFAULT_PARTITIONS_PER_NODE, DEFAULT_VNODES_PER_NODE, describeRing, type RingConfig, type RingDescription } from './config.js';
export { failRing, RingError, type RingErrorCode } from './errors.js';
export { murmur3, positionOf, RING_SIZE } from './hash.js';
export { hashLoad, hashMoves, sampleLoad, sampleMoves, type LoadReport, type MoveReport } from './measure.js';
export { MAX_PARTITIONS, MAX_TARGET_N, PartitionRing, type PartitionRingOptions } from './partition-ring.js';
export { MAX_KEY_LENGTH, MAX_RANGES, RangeRing, type KeyRange } from './range-ring.js';
export { MAX_VNODES_PER_NODE, TokenRing, type TokenRingOptions } from './token-ring.js';
export { MAX_MEMBERS, MAX_NODE_ID_LENGTH, MAX_PREFERENCE_LENGTH, type HashRing, type NodeId, type Ring, type RingStrategy } from './types.js';
