// Public surface of the Raft implementation: the sans-I/O core and its spec, the durable-state
// contract shared with write-ahead logs, messages and client protocol, membership helpers, and
// the simulated-cluster toolkit (clients, monitors, scenarios, chaos) built on the simulator.
export type {
  AdminRequestType,
  HardState,
  LogEntry,
  Membership,
  NodeStatus,
  RaftErrorReason,
  RaftMessage,
  RaftMessageType,
  RaftObserver,
  RaftOptions,
  RaftPersistOp,
  RaftRequest,
  RaftResponse,
  ReadMode,
  Role,
  SnapshotMeta,
} from './types.js';
export { DEFAULT_RAFT_OPTIONS } from './types.js';
export { RaftError, type RaftErrorCode } from './errors.js';
export { RaftCore } from './core.js';
export { applyEntry, commandOf, requestProblem, type ApplyOutcome } from './commands.js';
export { raftSpec, resolveRaftOptions, type RaftSpec, type RaftSpecOptions } from './spec.js';
export { EMPTY_RAFT_STATE, RaftStateBuilder, applyRaftOp, foldRaftOps, lastIndexOf, raftStateToOps, type FoldWork, type RaftDurableState } from './durable-state.js';
export { RaftLog, entrySizeBytes } from './log.js';
export { ConfigHistory, describeMembership, isMember, isVoter, makeMembership, membershipFromJson, membershipToJson, quorumSize } from './membership.js';
export { quorumHas, quorumValue, voteResult, type VoteResult } from './quorum.js';
export { SessionTable, type SessionCheck } from './sessions.js';
export { RaftMonitor, describeEntry, sameEntry, type MonitorSource, type MonitorViolation, type ViolationKind } from './monitors.js';
export {
  DEFAULT_CLIENT_OPTIONS,
  RAFT_KV_CLIENT,
  type KvClient,
  RaftCluster,
  historyCallOf,
  historyOutputOf,
  type AdminResult,
  type ClientOptions,
  type ClusterOptions,
  type NodeView,
  type OpHandle,
  type RaftSimulation,
  type SubmitOptions,
} from './cluster.js';
export {
  SCENARIOS,
  ScenarioError,
  describeStep,
  runScenario,
  scenarioByName,
  type NodeRef,
  type Scenario,
  type ScenarioResult,
  type ScenarioStep,
} from './scenarios/index.js';
export { DEFAULT_CHAOS, runChaos, type ChaosOptions, type ChaosResult } from './chaos.js';
export { randomKvOp, startWorkload, type KvSubmitter, type Workload, type WorkloadHost, type WorkloadOptions } from './workload.js';
