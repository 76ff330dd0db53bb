// Public surface of src/quorum/merkle: Merkle-tree anti-entropy for a Dynamo-style store. Each
// replica keeps a tree of key digests over its partition; two replicas find the keys they
// disagree on by exchanging O(d log n) hashes for d differences, with a sans-I/O session per side.
export { diffTrees, type TreeDiff } from './diff.js';
export { failMerkle, isMerkleError, MerkleError, type MerkleErrorCode } from './errors.js';
export { EMPTY_HASH, HASH_BYTES, MAX_DIGEST_BYTES, MAX_KEY_LENGTH } from './hash.js';
export {
  abortMessageFor,
  decodeMessage,
  DEFAULT_LIMITS,
  MAX_ABORT_REASON_LENGTH,
  MAX_ENTRIES_PER_MESSAGE,
  MAX_HASHES_PER_MESSAGE,
  MIN_HASHES_PER_MESSAGE,
  type ExchangeLimits,
  type MerkleAbortMessage,
  type MerkleDiffMessage,
  type MerkleDoneMessage,
  type MerkleEntriesMessage,
  type MerkleHashesMessage,
  type MerkleMessage,
  type MerkleRootMessage,
} from './messages.js';
export { AntiEntropySession, type ExchangeResult, type ExchangeRole, type ExchangeStats, type KeyDifference } from './session.js';
export { DEFAULT_DEPTH, DEFAULT_FANOUT, depthForKeys, leafCount, MAX_FANOUT, MAX_LEAVES, MERKLE_FORMAT, MIN_FANOUT, sameShape, TARGET_KEYS_PER_LEAF, type MerkleShape, type MerkleTreeOptions } from './shape.js';
export { MerkleTree } from './tree.js';
