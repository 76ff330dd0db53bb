// Public surface of synod/sim: the core contract, the simulator, its faults and its records.
export type { CoreEnv, Effects, Message, NodeId, OutputOptions, ProtocolCore, ProtocolSpec } from '../core/index.js';
export { HistoryRecorder, type History, type JsonValue, type Operation, type Outcome } from '../core/index.js';
export { Simulation, type AnnotationValue, type MessageCounters, type SimStats, type SimulationOptions } from './simulation.js';
export { DEFAULT_LINK, sampleLatencyMs, validateLink, type LatencyDistribution, type LinkConfig } from './network.js';
export { SimDisk, type DiskRecord } from './disk.js';
export { RandomSource, RandomStream } from './rng.js';
export { TraceRecorder, type DropReason, type TraceEvent, type TraceEventKind } from './trace.js';
export { applyFault, linkRateFault, resolveTarget, type Fault, type FaultableSim, type FaultKind, type LinkChange } from './faults.js';
export {
  applyNemesisAction,
  DEFAULT_RANDOM_NEMESIS,
  findLeader,
  NemesisSyntaxError,
  parseNemesisScript,
  parseRandomNemesis,
  scheduleNemesis,
  scheduleRandomNemesis,
  type NemesisAction,
  type NemesisStep,
  type RandomFaultKind,
  type RandomNemesisOptions,
  type Target,
} from './nemesis.js';
export { EchoCore, echoSpec, runEchoWorkload, type EchoMessage, type EchoOp, type EchoRequest, type EchoResponse, type EchoWorkloadOptions } from './echo.js';
export {
  ComposedCore,
  composeSpecs,
  type ComposedMessage,
  type ComposedOp,
  type ComposedRequest,
  type ComposedResponse,
  type ComposedSpec,
  type ComposeOptions,
  type PartSpecs,
  type Placement,
  type Routes,
} from './compose.js';
export {
  ClientNodeCore,
  ClientNodeDriver,
  clientNodeSpec,
  randomWorkload,
  scriptedWorkload,
  type ClientContext,
  type ClientDriverOptions,
  type ClientNodeOp,
  type ClientNodeOptions,
  type ClientNodeRequest,
  type ClientNodeResponse,
  type ClientProgram,
  type Workload,
} from './client-node.js';
export { LeaseCounterCluster, leaseCounterSpec, type CounterOp, type LeaseCounterOptions } from './lease-counter.js';
