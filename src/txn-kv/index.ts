// Public surface of synod/txn-kv: atomic transactions across independent Synod Raft KV groups
// (two-phase commit whose coordinator log is a write-once decision in a Raft group, so a crash of
// any process blocks nothing), their recovery, and transfers between accounts (docs/transactions.md).
export { TxnKvError, type TxnKvErrorCode } from './errors.js';
export { MAX_SHARDS, readShardSetFile, ShardSet, shardSetProblem, TXN_PREFIX, type ShardSetConfig } from './shards.js';
export { applyOn, commitAcross, decide, MAX_WRITES, newTxnId, type CommitOptions, type CommitResult, type CommitStep, type Decision, type Intent, type ShardWrite, type TxnOutcome, type Vote } from './commit.js';
export { MAX_PER_PASS, recoverInDoubt, type RecoveredTxn, type RecoveryOptions, type RecoveryReport } from './recovery.js';
export { parseAccount, transfer, type AccountRef, type TransferOptions, type TransferResult } from './transfer.js';
