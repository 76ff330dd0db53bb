// Public surface of src/txn (`synod/txn`): atomic commitment as sans-I/O cores — two-phase
// commit (presumed abort, wait-die locks, cooperative termination), three-phase commit with
// Skeen's termination protocol, Paxos Commit — the commit checker (atomicity, validity, blocking
// time), the simulated systems with their chaos, and the blocking scenario (docs/transactions.md).
export { parseTwoPcMessage, MAX_ID_LENGTH, MAX_PARTICIPANTS, MAX_WRITES, type CoordinatorOp, type Outcome, type ParticipantOp, type PreparedRecord, type TwoPcMessage, type TxnId, type Write } from './messages.js';
export { EVENT_KEY, formatCommitEvent, parseCommitEvent, type CommitEvent, type CommitEventKind } from './events.js';
export { ParticipantCore, type ParticipantOptions } from './participant.js';
export { CoordinatorCore, TS_PER_LIFE, type CoordinatorOptions, type TxnRequest, type TxnResponse } from './coordinator.js';
export { TWO_PC_DEFAULTS, twoPcSpec, type TwoPcCore, type TwoPcOp, type TwoPcOptions } from './two-pc.js';
export { checkCommitHistory, summarizeCommitCheck, type BlockingInterval, type CommitCheckResult, type CommitViolation } from './check.js';
export { DurableEventCollector } from './sim/durable-events.js';
export { CommitCluster, COORDINATOR, PaxosCommitCluster, ThreePcCluster, TwoPcCluster, type ThreePcClusterOptions, type CommitClusterOptions, type CommitSystem, type ParticipantView, type PaxosCommitClusterOptions, type TransferOutcomes, type TwoPcClusterOptions } from './sim/cluster.js';
export { COMMIT_CHAOS, commitSimProtocol, CRASH_ONLY_NEMESIS, PARTITION_ONLY_NEMESIS, PAXOS_COMMIT_CHAOS, paxosCommitLayout, paxosCommitSimProtocol, runCommitChaos, runPaxosCommitChaos, runThreePcChaos, runTwoPcChaos, THREE_PC_CHAOS, threePcPartitionSimProtocol, threePcSimProtocol, TWO_PC_CHAOS, twoPcSimProtocol, type CommitChaosOptions, type CommitChaosResult } from './sim/chaos.js';
export { emptyBlockingObservation, blockingScenario, type BlockingObservation, type BlockingScenarioOptions } from './scenarios/blocking.js';
export { parseThreePcMessage, type ThreePcCoordinatorOp, type ThreePcMessage, type ThreePcParticipantOp, type ThreePcPrepared, type ThreePcState } from './three-pc/messages.js';
export { ThreePcCoordinatorCore, type ThreePcCoordinatorOptions } from './three-pc/coordinator.js';
export { ThreePcParticipantCore, type ThreePcParticipantOptions } from './three-pc/participant.js';
export { THREE_PC_DEFAULTS, threePcSpec, type ThreePcCore, type ThreePcOp, type ThreePcOptions } from './three-pc/spec.js';
export { PAXOS_COMMIT_DEFAULTS, paxosCommitSpec, type PaxosCommitCore, type PaxosCommitOp, type PaxosCommitOptions } from './paxos-commit/spec.js';
export { parsePaxosCommitMessage, type PaxosCommitMessage, type Vote } from './paxos-commit/messages.js';
export { AcceptorCore } from './paxos-commit/acceptor.js';
export { LeaderCore } from './paxos-commit/leader.js';
export { RmCore } from './paxos-commit/rm.js';
