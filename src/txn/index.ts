// Public surface of src/txn (`synod/txn`): atomic commitment as sans-I/O cores — two-phase
// commit with presumed abort, wait-die locks and cooperative termination — the commit checker
// (atomicity, validity, blocking time), the simulated system with its chaos, and the blocking
// scenario (docs/transactions.md).
export { parseTwoPcMessage, MAX_ID_LENGTH, MAX_PARTICIPANTS, MAX_WRITES, type CoordinatorOp, type Outcome, type ParticipantOp, type PreparedRecord, type TwoPcMessage, type TxnId, type Write } from './messages.js';
export { EVENT_KEY, formatCommitEvent, parseCommitEvent, type CommitEvent, type CommitEventKind } from './events.js';
export { ParticipantCore, type ParticipantOptions } from './participant.js';
export { CoordinatorCore, TS_PER_LIFE, type CoordinatorOptions, type TxnRequest, type TxnResponse } from './coordinator.js';
export { TWO_PC_DEFAULTS, twoPcSpec, type TwoPcCore, type TwoPcOp, type TwoPcOptions } from './two-pc.js';
export { checkCommitHistory, summarizeCommitCheck, type BlockingInterval, type CommitCheckResult, type CommitViolation } from './check.js';
export { DurableEventCollector } from './sim/durable-events.js';
export { CommitCluster, COORDINATOR, PaxosCommitCluster, TwoPcCluster, type CommitClusterOptions, type CommitSystem, type ParticipantView, type PaxosCommitClusterOptions, type TransferOutcomes, type TwoPcClusterOptions } from './sim/cluster.js';
export { COMMIT_CHAOS, commitSimProtocol, PAXOS_COMMIT_CHAOS, paxosCommitLayout, paxosCommitSimProtocol, runCommitChaos, runPaxosCommitChaos, runTwoPcChaos, TWO_PC_CHAOS, twoPcSimProtocol, type CommitChaosOptions, type CommitChaosResult } from './sim/chaos.js';
export { emptyBlockingObservation, blockingScenario, type BlockingObservation, type BlockingScenarioOptions } from './scenarios/blocking.js';
