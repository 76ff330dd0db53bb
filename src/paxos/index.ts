// Public surface of synod/paxos: single-decree Paxos and Multi-Paxos as sans-I/O cores (ballots,
// quorums with Flexible Paxos sizes, messages and durable ops a host stores and sends as they are,
// the checks of both from outside), the safety monitors, and the simulated-cluster toolkit
// (the Multi-Paxos KV cluster with the Raft KV's clients and checker, the single-decree group,
// chaos, scenarios, and deliberately broken variants for negative controls).
export { ballotText, compareBallots, isBallot, maxBallot, nextBallot, sameBallot, ZERO_BALLOT, type Ballot } from './ballot.js';
export { isPaxosError, PaxosError, type PaxosErrorCode } from './errors.js';
export { majority, resolveQuorums, type QuorumSizes } from './quorums.js';
export { combineObservers, type AcceptorRecovery, type PaxosObserver } from './observer.js';
export { PaxosMonitor, type PaxosMonitorOptions, type PaxosViolation, type PaxosViolationKind } from './monitors.js';

// ---------------------------------------------------------------- single-decree Paxos
export { SynodCore, synodPlacement, type SynodPlacement } from './single/core.js';
export { Acceptor, Learner, Proposer, SYNOD_SLOT } from './single/roles.js';
export { decodeSynodPersistOp, parseSynodMessage, synodRequestProblem } from './single/messages.js';
export { resolveSynodOptions, synodSpec, type SynodSpec } from './single/spec.js';
export {
  DEFAULT_SYNOD_OPTIONS,
  type Backoff,
  type ProposerPhase,
  type SynodMessage,
  type SynodMessageType,
  type SynodOptions,
  type SynodPersistOp,
  type SynodRequest,
  type SynodResponse,
  type SynodRole,
  type SynodStatus,
} from './single/types.js';

// ---------------------------------------------------------------- Multi-Paxos
export { MultiPaxosCore, parseSnapshotPayload } from './multi/core.js';
export { MultiAcceptor } from './multi/acceptor.js';
export { ChosenLog, type Chosen, type LearnOutcome } from './multi/chosen-log.js';
export { decodePaxosPersistOp, isPaxosValue, parsePaxosMessage, paxosRequestProblem, MAX_LIST, MAX_SHORT_LIST } from './multi/messages.js';
export { paxosSpec, resolvePaxosOptions, type PaxosSpec, type PaxosSpecOptions } from './multi/spec.js';
export { compactPaxosOps } from './multi/durable.js';
export {
  DEFAULT_PAXOS_OPTIONS,
  type AcceptedEntry,
  type DecidedRange,
  type PaxosErrorReason,
  type PaxosMessage,
  type PaxosMessageType,
  type PaxosOptions,
  type PaxosPersistOp,
  type PaxosRequest,
  type PaxosResponse,
  type PaxosRole,
  type PaxosStatus,
  type PaxosValue,
  type SlotValue,
} from './multi/types.js';

// ---------------------------------------------------------------- simulation
export { DEFAULT_PAXOS_CLIENT_OPTIONS, PAXOS_KV_CLIENT, PaxosCluster, type PaxosClusterOptions, type PaxosKvClient, type PaxosNodeView, type PaxosSimulation } from './sim/cluster.js';
export { SynodCluster, type ProposalHandle, type SynodClusterOptions } from './sim/synod-cluster.js';
export { CHAOS_PAXOS, DEFAULT_PAXOS_CHAOS, flexibleQuorums, PAXOS_SIM_PROTOCOLS, paxosFlexibleSimProtocol, paxosForgetfulSimProtocol, paxosNeverAdoptSimProtocol, paxosSimProtocol, runPaxosChaos, type PaxosChaosOptions } from './sim/chaos.js';
export { forgetfulAcceptors, forgetfulSynodAcceptors, neverAdopt, unwrapBroken, type WrappedCore } from './sim/broken.js';
export * from './scenarios/index.js';
